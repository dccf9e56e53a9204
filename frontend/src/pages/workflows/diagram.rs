//! The workflow as a diagram (SVG): states as boxes, transitions as labelled arrows.
//!
//! Drag a state to move it; drag from the dot on a state's right edge to another state to
//! connect them; drag the background to pan; the wheel zooms. From the keyboard: Tab moves
//! between states, arrows move the selected state (Shift: further) or pan, `+` / `-` zoom,
//! `0` fits, `n` adds a state, Delete removes the selection, Escape clears it. Problems found
//! by `rules` are drawn on the state or arrow they concern, with their message.

use super::{
    editor::{Editor, Pt, Selection, View},
    lint::{Lint, Mark},
};
use leptos::{prelude::*, svg};
use rules::{
    ids::{StateId, TransitionId},
    workflow::{
        Trigger,
        layout::{NODE_HEIGHT, NODE_WIDTH},
    },
};
use std::collections::{HashMap, HashSet};
use wasm_bindgen::JsCast;

const W: f64 = NODE_WIDTH as f64;
const H: f64 = NODE_HEIGHT as f64;
/// Space between parallel arrows.
const LANE: f64 = 34.0;

/// The diagram's style: in the page, and inside an exported SVG file.
pub const CSS: &str = r#"
.diagram { width: 100%; height: 560px; background: #fff; border: 1px solid #d0d5dd; border-radius: .3rem; touch-action: none; user-select: none; }
.diagram:focus-visible { outline: 3px solid #4c6ef5; }
.diagram .bg { fill: #fbfcfd; }
.node rect { fill: #fff; stroke: #5c6b82; stroke-width: 1.5; }
.node .inner { fill: none; }
.node.start rect:first-of-type { stroke: #2b8a3e; stroke-width: 3; }
.node .label { font: 600 13px system-ui, sans-serif; fill: #1c2330; }
.node .id { font: 11px ui-monospace, monospace; fill: #56627a; }
.node .handle { fill: #3b5bdb; stroke: #fff; stroke-width: 2; cursor: crosshair; }
.node { cursor: grab; }
.node text { pointer-events: none; }
.node:focus { outline: none; }
.node:focus-visible rect:first-of-type, .node.selected rect:first-of-type { stroke: #3b5bdb; stroke-width: 3; }
.node.warning rect:first-of-type { stroke: #e67700; stroke-dasharray: 5 3; }
.node.error rect:first-of-type { stroke: #c92a2a; stroke-width: 2.5; stroke-dasharray: 6 3; fill: #fff5f5; }
.node.on-path rect:first-of-type { fill: #ebfbee; stroke: #2b8a3e; stroke-width: 3; }
.lint-msg { font: 11px system-ui, sans-serif; fill: #c92a2a; }
.warning .lint-msg { fill: #a35200; }
.edge .line { fill: none; stroke: #8592a6; stroke-width: 1.6; }
.edge .hit { fill: none; stroke: transparent; stroke-width: 12; cursor: pointer; }
.edge .edge-label { font: 12px system-ui, sans-serif; fill: #364152; paint-order: stroke; stroke: #fff; stroke-width: 4px; }
.edge.selected .line { stroke: #3b5bdb; stroke-width: 3; }
.edge.warning .line { stroke: #e67700; }
.edge.error .line { stroke: #c92a2a; stroke-dasharray: 6 3; }
.edge.on-path .line { stroke: #2b8a3e; stroke-width: 3.5; }
.edge.automatic .line { stroke-dasharray: 2 3; }
.connecting { stroke: #3b5bdb; stroke-width: 2; stroke-dasharray: 4 3; fill: none; }
#arrow path { fill: #8592a6; }
"#;

/// The states and transitions a simulation went through.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Path {
    pub states: HashSet<StateId>,
    pub transitions: HashSet<TransitionId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct NodeKey {
    id: StateId,
    label: String,
    start: bool,
    terminal: bool,
    mark: Option<Mark>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct EdgeKey {
    id: TransitionId,
    from: StateId,
    to: StateId,
    label: String,
    automatic: bool,
    /// Which of several arrows between one pair of states (in halves of a lane).
    lane: i32,
    mark: Option<Mark>,
}

/// What a pointer is doing.
#[derive(Debug)]
enum Gesture {
    Move { id: StateId, grab: Pt, before: Box<rules::workflow::WorkflowDefinition>, moved: bool },
    Pan { from: (f64, f64), view: View },
    Connect { from: StateId },
}

fn edge_label(label: &str, trigger: &Trigger, guarded: bool) -> String {
    let mut out = label.to_owned();
    // Short marks keep a crowded diagram legible; the side panel names the event.
    match trigger {
        Trigger::Manual => {}
        Trigger::Event(_) => out.push_str(" ⚡"),
        Trigger::Timer { after } => out.push_str(&format!(" (after {after})")),
    }
    if guarded {
        out.push_str(" [if]");
    }
    out
}

fn short(message: &str) -> String {
    const MAX: usize = 64;
    if message.chars().count() <= MAX {
        message.to_owned()
    } else {
        let cut: String = message.chars().take(MAX.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Where an arrow's straight line from `c` towards `toward` leaves a state's box.
fn border(c: Pt, toward: Pt) -> Pt {
    let (dx, dy) = (toward.x - c.x, toward.y - c.y);
    if dx.abs() < f64::EPSILON && dy.abs() < f64::EPSILON {
        return c;
    }
    let tx = if dx.abs() > f64::EPSILON { (W / 2.0) / dx.abs() } else { f64::INFINITY };
    let ty = if dy.abs() > f64::EPSILON { (H / 2.0) / dy.abs() } else { f64::INFINITY };
    let t = tx.min(ty);
    Pt { x: c.x + dx * t, y: c.y + dy * t }
}

/// An arrow from the box at `a` to the box at `b`, bent sideways by `offset`: the path and
/// where its label goes.
fn geometry(a: Pt, b: Pt, offset: f64, self_loop: bool) -> (String, f64, f64) {
    if self_loop {
        let (x0, x1, y) = (a.x + W * 0.3, a.x + W * 0.7, a.y);
        let lift = 46.0 + offset.abs();
        return (
            format!(
                "M{x0:.1},{y:.1} C{x0:.1},{:.1} {x1:.1},{:.1} {x1:.1},{y:.1}",
                y - lift,
                y - lift
            ),
            a.x + W / 2.0,
            y - lift * 0.75 - 4.0,
        );
    }
    let (ca, cb) =
        (Pt { x: a.x + W / 2.0, y: a.y + H / 2.0 }, Pt { x: b.x + W / 2.0, y: b.y + H / 2.0 });
    let (dx, dy) = (cb.x - ca.x, cb.y - ca.y);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    // The control point sits twice the offset away, so the curve passes the offset.
    let ctrl = Pt {
        x: (ca.x + cb.x) / 2.0 - dy / len * offset * 2.0,
        y: (ca.y + cb.y) / 2.0 + dx / len * offset * 2.0,
    };
    let (s, e) = (border(ca, ctrl), border(cb, ctrl));
    let label =
        (0.25 * s.x + 0.5 * ctrl.x + 0.25 * e.x, 0.25 * s.y + 0.5 * ctrl.y + 0.25 * e.y - 5.0);
    (
        format!("M{:.1},{:.1} Q{:.1},{:.1} {:.1},{:.1}", s.x, s.y, ctrl.x, ctrl.y, e.x, e.y),
        label.0,
        label.1,
    )
}

/// Lanes for arrows sharing a pair of states, symmetric around the straight line.
fn lanes(pairs: &[(StateId, StateId)]) -> Vec<i32> {
    let mut count: HashMap<(&StateId, &StateId), i32> = HashMap::new();
    let key = |a: &'_ StateId, b: &'_ StateId| -> (StateId, StateId) {
        if a <= b { (a.clone(), b.clone()) } else { (b.clone(), a.clone()) }
    };
    let keys: Vec<(StateId, StateId)> = pairs.iter().map(|(a, b)| key(a, b)).collect();
    for (a, b) in &keys {
        *count.entry((a, b)).or_insert(0) += 1;
    }
    let mut seen: HashMap<(&StateId, &StateId), i32> = HashMap::new();
    pairs
        .iter()
        .zip(&keys)
        .map(|((from, to), (a, b))| {
            let n = count.get(&(a, b)).copied().unwrap_or(1);
            let k = seen.entry((a, b)).or_insert(0);
            let lane = 2 * *k - (n - 1);
            *k += 1;
            // Arrows drawn the other way bend the other way for the same offset.
            if from == a && to == b { lane } else { -lane }
        })
        .collect()
}

#[component]
pub fn Diagram(
    editor: Editor,
    lint: Memo<Lint>,
    #[prop(into)] path: Signal<Path>,
    svg_ref: NodeRef<svg::Svg>,
    content_ref: NodeRef<svg::G>,
) -> impl IntoView {
    let gesture = StoredValue::new(None::<Gesture>);
    let rubber = RwSignal::new(None::<(Pt, Pt)>);

    let screen = move |x: i32, y: i32| -> (f64, f64) {
        let rect = svg_ref.get_untracked().map(|s| s.get_bounding_client_rect());
        rect.map_or((0.0, 0.0), |r| (f64::from(x) - r.left(), f64::from(y) - r.top()))
    };
    let to_diagram = move |x: i32, y: i32| -> Pt {
        let (sx, sy) = screen(x, y);
        let v = editor.view.get_untracked();
        Pt { x: (sx - v.x) / v.zoom, y: (sy - v.y) / v.zoom }
    };
    let capture = move |ev: &web_sys::PointerEvent| {
        if let Some(svg) = svg_ref.get_untracked() {
            let _ = svg.set_pointer_capture(ev.pointer_id());
        }
    };

    let nodes = move || {
        let marks = lint.with(|l| l.states.clone());
        editor.def.with(|d| {
            d.states
                .iter()
                .map(|s| NodeKey {
                    id: s.id.clone(),
                    label: s.label.to_string(),
                    start: s.start,
                    terminal: s.terminal,
                    mark: marks.get(&s.id).cloned(),
                })
                .collect::<Vec<_>>()
        })
    };
    let edges = move || {
        let marks = lint.with(|l| l.transitions.clone());
        editor.def.with(|d| {
            let pairs: Vec<(StateId, StateId)> =
                d.transitions.iter().map(|t| (t.from.clone(), t.to.clone())).collect();
            d.transitions
                .iter()
                .zip(lanes(&pairs))
                .map(|(t, lane)| EdgeKey {
                    id: t.id.clone(),
                    from: t.from.clone(),
                    to: t.to.clone(),
                    label: edge_label(&t.label, &t.trigger, t.guard.is_some()),
                    automatic: t.trigger != Trigger::Manual,
                    lane,
                    mark: marks.get(&t.id).cloned(),
                })
                .collect::<Vec<_>>()
        })
    };

    let node_view = move |k: NodeKey| {
        let Some(at) = editor.pos(&k.id) else { return ().into_any() };
        let (id, id_down, id_focus, id_sel, id_path) =
            (k.id.clone(), k.id.clone(), k.id.clone(), k.id.clone(), k.id.clone());
        let transform = {
            let at = at.clone();
            move || {
                let p = at.get();
                format!("translate({:.1},{:.1})", p.x, p.y)
            }
        };
        let on_down = move |ev: web_sys::PointerEvent| {
            if ev.button() != 0 {
                return;
            }
            ev.stop_propagation();
            let grab = to_diagram(ev.client_x(), ev.client_y());
            let p = at.get_untracked();
            editor.select(Selection::State(id_down.clone()));
            gesture.set_value(Some(Gesture::Move {
                id: id_down.clone(),
                grab: Pt { x: grab.x - p.x, y: grab.y - p.y },
                before: Box::new(editor.snapshot()),
                moved: false,
            }));
            capture(&ev);
        };
        let on_handle = move |ev: web_sys::PointerEvent| {
            ev.stop_propagation();
            let from = id.clone();
            let start = editor.pos(&from).map(|s| s.get_untracked()).unwrap_or_default();
            let start = Pt { x: start.x + W, y: start.y + H / 2.0 };
            rubber.set(Some((start, start)));
            gesture.set_value(Some(Gesture::Connect { from }));
            capture(&ev);
        };
        let (error, warning) = match &k.mark {
            Some(m) => (m.error, !m.error),
            None => (false, false),
        };
        let kind = if k.start {
            "start state"
        } else if k.terminal {
            "terminal state"
        } else {
            "state"
        };
        // The name (a `title`, also shown on hover) starts with the label, which is what a
        // speech-input user says to press it; the id and the problem drawn under it are in
        // the name, not read twice.
        let aria = format!(
            "{} ({kind}, {}){}",
            k.label,
            k.id,
            k.mark.as_ref().map(|m| format!(": {}", m.message)).unwrap_or_default()
        );
        view! {
            <g class="node" class:start=k.start class:terminal=k.terminal class:error=error class:warning=warning
                class:selected=move || editor.selection.with(|s| *s == Selection::State(id_sel.clone()))
                class:on-path=move || path.with(|p| p.states.contains(&id_path))
                data-state=k.id.to_string() transform=transform tabindex="0" role="button"
                on:pointerdown=on_down
                on:focus=move |_| editor.select(Selection::State(id_focus.clone()))>
                <title>{aria}</title>
                <rect width=W height=H rx="8"></rect>
                {k.terminal.then(|| view! { <rect class="inner" x="4" y="4" width=W - 8.0 height=H - 8.0 rx="6"></rect> })}
                <text class="label" x=W / 2.0 y="22" text-anchor="middle">{k.label.clone()}</text>
                <text class="id" x=W / 2.0 y="40" text-anchor="middle" aria-hidden="true">{k.id.to_string()}</text>
                {k.mark.map(|m| view! { <text class="lint-msg" x="0" y=H + 15.0 aria-hidden="true">{short(&m.message)}</text> })}
                {(!k.terminal).then(|| view! { <circle class="handle" cx=W cy=H / 2.0 r="7" on:pointerdown=on_handle></circle> })}
            </g>
        }
        .into_any()
    };

    let edge_view = move |k: EdgeKey| {
        let (Some(a), Some(b)) = (editor.pos(&k.from), editor.pos(&k.to)) else {
            return ().into_any();
        };
        let self_loop = k.from == k.to;
        let offset = f64::from(k.lane) * LANE / 2.0;
        let shape = Memo::new(move |_| geometry(a.get(), b.get(), offset, self_loop));
        let (id_down, id_sel, id_path) = (k.id.clone(), k.id.clone(), k.id.clone());
        let (error, warning) = match &k.mark {
            Some(m) => (m.error, !m.error),
            None => (false, false),
        };
        view! {
            <g class="edge" class:error=error class:warning=warning class:automatic=k.automatic
                class:selected=move || editor.selection.with(|s| *s == Selection::Transition(id_sel.clone()))
                class:on-path=move || path.with(|p| p.transitions.contains(&id_path))
                data-transition=k.id.to_string()
                on:pointerdown=move |ev: web_sys::PointerEvent| {
                    ev.stop_propagation();
                    editor.select(Selection::Transition(id_down.clone()));
                }>
                <path class="hit" d=move || shape.with(|s| s.0.clone())></path>
                <path class="line" d=move || shape.with(|s| s.0.clone()) marker-end="url(#arrow)"></path>
                <text class="edge-label" x=move || shape.with(|s| s.1) y=move || shape.with(|s| s.2) text-anchor="middle">{k.label.clone()}</text>
                {k.mark.map(|m| view! {
                    <text class="lint-msg" x=move || shape.with(|s| s.1) y=move || shape.with(|s| s.2 + 15.0) text-anchor="middle">{short(&m.message)}</text>
                })}
            </g>
        }
        .into_any()
    };

    let on_move = move |ev: web_sys::PointerEvent| {
        let at = to_diagram(ev.client_x(), ev.client_y());
        gesture.update_value(|g| match g {
            Some(Gesture::Move { id, grab, moved, .. }) => {
                if let Some(sig) = editor.pos(id) {
                    sig.set(Pt { x: at.x - grab.x, y: at.y - grab.y });
                    *moved = true;
                }
            }
            Some(Gesture::Pan { from, view }) => {
                let (sx, sy) = screen(ev.client_x(), ev.client_y());
                editor.view.set(View {
                    x: view.x + sx - from.0,
                    y: view.y + sy - from.1,
                    zoom: view.zoom,
                });
            }
            Some(Gesture::Connect { .. }) => rubber.update(|r| {
                if let Some((_, end)) = r {
                    *end = at;
                }
            }),
            None => {}
        });
    };
    let on_up = move |ev: web_sys::PointerEvent| {
        let at = to_diagram(ev.client_x(), ev.client_y());
        match gesture.try_update_value(Option::take).flatten() {
            Some(Gesture::Move { before, moved: true, .. }) => editor.record_move(*before),
            Some(Gesture::Connect { from }) => {
                rubber.set(None);
                if let Some(to) = editor.state_at(at) {
                    editor.connect(from, to);
                }
            }
            _ => {}
        }
    };
    let on_background = move |ev: web_sys::PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        editor.select(Selection::None);
        gesture.set_value(Some(Gesture::Pan {
            from: screen(ev.client_x(), ev.client_y()),
            view: editor.view.get_untracked(),
        }));
        capture(&ev);
    };
    let on_wheel = move |ev: web_sys::WheelEvent| {
        ev.prevent_default();
        let (sx, sy) = screen(ev.client_x(), ev.client_y());
        editor.zoom_at(if ev.delta_y() < 0.0 { 1.1 } else { 1.0 / 1.1 }, sx, sy);
    };
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let in_field = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if in_field || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let step = if ev.shift_key() { 50.0 } else { 10.0 };
        let nudge = |dx: f64, dy: f64| match editor.selection.get_untracked() {
            Selection::State(id) => {
                if let Some(sig) = editor.pos(&id) {
                    let before = editor.snapshot();
                    sig.update(|p| {
                        p.x += dx;
                        p.y += dy;
                    });
                    editor.record_move(before);
                }
            }
            _ => editor.view.update(|v| {
                v.x -= dx * 2.0;
                v.y -= dy * 2.0;
            }),
        };
        let handled = match ev.key().as_str() {
            "ArrowLeft" => {
                nudge(-step, 0.0);
                true
            }
            "ArrowRight" => {
                nudge(step, 0.0);
                true
            }
            "ArrowUp" => {
                nudge(0.0, -step);
                true
            }
            "ArrowDown" => {
                nudge(0.0, step);
                true
            }
            "Delete" | "Backspace" => {
                editor.delete_selection();
                true
            }
            "Escape" => {
                editor.select(Selection::None);
                true
            }
            "+" | "=" => {
                editor.zoom_at(1.2, 300.0, 280.0);
                true
            }
            "-" => {
                editor.zoom_at(1.0 / 1.2, 300.0, 280.0);
                true
            }
            "0" => {
                fit(editor, svg_ref);
                true
            }
            "n" => {
                add_in_view(editor, svg_ref);
                true
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
    };

    view! {
        <svg class="diagram" node_ref=svg_ref xmlns="http://www.w3.org/2000/svg" tabindex="0" role="application"
            aria-label="Workflow diagram. Tab moves between states; arrows move the selected state; n adds a state; Delete removes the selection; plus, minus and 0 zoom and fit."
            on:pointermove=on_move on:pointerup=on_up on:wheel=on_wheel on:keydown=on_key>
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
                    <path d="M0,0 L10,5 L0,10 z"></path>
                </marker>
            </defs>
            <rect class="bg" width="100%" height="100%" on:pointerdown=on_background></rect>
            <g class="content" node_ref=content_ref
                transform=move || editor.view.with(|v| format!("translate({:.1},{:.1}) scale({:.3})", v.x, v.y, v.zoom))>
                <g class="edges">
                    <For each=edges key=|k| k.clone() children=edge_view/>
                </g>
                <g class="nodes">
                    <For each=nodes key=|k| k.clone() children=node_view/>
                </g>
                {move || rubber.get().map(|(a, b)| view! {
                    <line class="connecting" x1=a.x y1=a.y x2=b.x y2=b.y></line>
                })}
            </g>
        </svg>
    }
}

/// Adds a state in the middle of what the diagram shows, below any state already there.
pub fn add_in_view(editor: Editor, svg_ref: NodeRef<svg::Svg>) {
    let at = svg_ref.get_untracked().map(|svg| {
        let r = svg.get_bounding_client_rect();
        let v = editor.view.get_untracked();
        let mut at = Pt {
            x: (r.width() / 2.0 - v.x) / v.zoom - W / 2.0,
            y: (r.height() / 3.0 - v.y) / v.zoom - H / 2.0,
        };
        let taken = |p: Pt| {
            [(0.0, 0.0), (W, 0.0), (0.0, H), (W, H)]
                .into_iter()
                .any(|(dx, dy)| editor.state_at(Pt { x: p.x + dx, y: p.y + dy }).is_some())
        };
        for _ in 0..20 {
            if !taken(at) {
                break;
            }
            at.y += H + 24.0;
        }
        at
    });
    editor.add_state(at);
}

/// Fits the drawing to the diagram's size on screen.
pub fn fit(editor: Editor, svg_ref: NodeRef<svg::Svg>) {
    if let Some(svg) = svg_ref.get_untracked() {
        let r = svg.get_bounding_client_rect();
        editor.fit(r.width(), r.height());
    }
}

/// The drawing as a standalone SVG file: all of it, at scale 1, with its style.
pub fn export(editor: Editor, content_ref: NodeRef<svg::G>) -> Option<String> {
    let content = content_ref.get_untracked()?;
    let (x0, y0, x1, y1) = editor.bounds()?;
    let (x0, y0) = (x0 - 40.0, y0 - 60.0);
    let (w, h) = (x1 - x0 + 80.0, y1 - y0 + 100.0);
    Some(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="{x0:.0} {y0:.0} {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}"><style>{CSS} .handle, .hit {{ display: none; }}</style><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs><rect x="{x0:.0}" y="{y0:.0}" width="{w:.0}" height="{h:.0}" fill="#fff"/>{}</svg>"##,
        content.inner_html()
    ))
}

/// Offers a text as a file download.
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), wasm_bindgen::JsValue> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    web_sys::Url::revoke_object_url(&url)?;
    Ok(())
}
