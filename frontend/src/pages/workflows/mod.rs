//! The seller's workflows: the list, and the visual editor of one workflow.
//!
//! The editor shows the workflow as a diagram ([`diagram`]) beside a side panel: the selected
//! state or transition ([`panel`]), a simulation ([`simulate`]), the versions, and the JSON
//! form. The same workflow can be shown as tables ([`table`]). Everything is checked by
//! `rules` in the browser as it changes ([`lint`]); every change goes through the [`editor`]
//! state and can be undone (Ctrl+Z) and redone (Ctrl+Shift+Z).

mod diagram;
mod editor;
mod lint;
mod panel;
mod simulate;
mod table;
mod versions;

use crate::{
    api,
    pages::{focus, page_heading, refusal, severity},
};
use diagram::{Diagram, Path};
use editor::{Editor, Selection};
use gloo_net::http::Method;
use leptos::{prelude::*, svg, task::spawn_local};
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map},
};
use rules::workflow::WorkflowDefinition;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, Deserialize)]
pub struct VersionSummary {
    pub version: i64,
    pub status: String,
    /// Entities running on this version.
    pub instances: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowSummary {
    pub id: String,
    pub name: String,
    pub entity: String,
    pub published_version: Option<i64>,
    pub draft_version: Option<i64>,
    pub versions: Vec<VersionSummary>,
    /// Shipped with the server (the default order workflow): read only.
    #[serde(default)]
    pub builtin: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Saved {
    pub version: i64,
    pub status: String,
}

fn version_label(v: Option<i64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("v{v}"))
}

#[component]
pub fn WorkflowsPage() -> impl IntoView {
    let list = RwSignal::new(None::<Result<Vec<WorkflowSummary>, String>>);
    spawn_local(async move {
        list.set(Some(api::get("/api/workflows").await.map_err(|e| e.message)));
    });
    view! {
        <h1 tabindex="-1" node_ref=page_heading()>"Workflows"</h1>
        <NewWorkflow/>
        {move || match list.get() {
            None => view! { <p>"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            Some(Ok(all)) if all.is_empty() => view! { <p>"No workflows yet."</p> }.into_any(),
            Some(Ok(all)) => view! {
                <table class="workflows">
                    <thead><tr><th scope="col">"Workflow"</th><th scope="col">"Entity"</th><th scope="col">"Published"</th><th scope="col">"Draft"</th><th scope="col">"Versions"</th></tr></thead>
                    <tbody>{all.into_iter().map(|w| view! {
                        <tr>
                            <td><A href=format!("/editor/workflows/{}", w.id)>{w.name.clone()}</A> " (" <code>{w.id.clone()}</code> ")" {w.builtin.then_some(" · built in, read only")}</td>
                            <td>{w.entity.clone()}</td>
                            <td>{version_label(w.published_version)}</td>
                            <td>{version_label(w.draft_version)}</td>
                            <td>{w.versions.len()}</td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
            }.into_any(),
        }}
    }
}

/// A first draft for a new workflow: a start, an end, and one way between them.
fn starter(id: &str, name: &str, entity: &str) -> Value {
    json!({
        "id": id, "version": 1, "name": name, "entity": entity,
        "states": [
            { "id": "open", "label": "Open", "start": true, "position": { "x": 40, "y": 120 } },
            { "id": "done", "label": "Done", "terminal": true, "position": { "x": 340, "y": 120 } }
        ],
        "transitions": [
            { "id": "finish", "from": "open", "to": "done", "label": "Finish", "roles": ["seller_admin"] }
        ]
    })
}

#[component]
fn NewWorkflow() -> impl IntoView {
    let (id, name, entity) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new("order".to_owned()),
    );
    let error = RwSignal::new(None::<api::ApiError>);
    let navigate = use_navigate();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (new_id, new_name, new_entity) = (
            id.get_untracked().trim().to_owned(),
            name.get_untracked().trim().to_owned(),
            entity.get_untracked(),
        );
        let navigate = navigate.clone();
        spawn_local(async move {
            // An order workflow starts as a copy of the built-in one, so that it routes orders
            // to approval from the first draft; others start from two states.
            let built_in = if new_entity == "order" {
                api::get::<Value>("/api/workflows/default-order/versions/1").await.ok()
            } else {
                None
            };
            let body = match built_in {
                Some(Value::Object(mut def)) => {
                    def.insert("id".into(), json!(new_id));
                    def.insert("name".into(), json!(new_name));
                    def.insert("version".into(), json!(1));
                    def.insert("scope".into(), json!("all"));
                    Value::Object(def)
                }
                _ => starter(&new_id, &new_name, &new_entity),
            };
            match api::send::<Value, _>(Method::POST, "/api/workflows", &body).await {
                Ok(saved) => {
                    let id = saved.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                    navigate(&format!("/editor/workflows/{id}"), Default::default());
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    // A field's error, tied to it (`aria-describedby` `new-<field>-error`, `aria-invalid`).
    let field_error = move |field: &'static str| {
        move || {
            error.with(|e| {
                e.as_ref().filter(|e| e.field.as_deref() == Some(field)).map(|e| e.message.clone())
            })
        }
    };
    let invalid = move |field: &'static str| move || field_error(field)().is_some().to_string();
    view! {
        <form class="new-workflow" on:submit=create>
            <h2>"New workflow"</h2>
            <span class="row">
                <span><label for="new-id">"Id"</label><input id="new-id" required placeholder="big-order-follow-up" on:input=move |ev| id.set(event_target_value(&ev))
                    aria-describedby="new-id-error" aria-invalid=invalid("id")/><span class="error" role="alert" id="new-id-error">{field_error("id")}</span></span>
                <span><label for="new-name">"Name"</label><input id="new-name" required on:input=move |ev| name.set(event_target_value(&ev))
                    aria-describedby="new-name-error" aria-invalid=invalid("name")/><span class="error" role="alert" id="new-name-error">{field_error("name")}</span></span>
                <span><label for="new-entity">"For"</label>
                    <select id="new-entity" on:change=move |ev| entity.set(event_target_value(&ev))>
                        <option value="order">"orders"</option><option value="quote">"quotes"</option><option value="checkout">"checkouts"</option>
                    </select></span>
                <button type="submit">"Create"</button>
            </span>
            {move || error.with(|e| e.as_ref().filter(|e| !matches!(e.field.as_deref(), Some("id" | "name"))).map(|e| view! { <p class="error" role="alert">{e.message.clone()}</p> }))}
        </form>
    }
}

#[component]
pub fn WorkflowPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let summary = RwSignal::new(None::<WorkflowSummary>);
    let loaded = RwSignal::new(None::<Result<WorkflowDefinition, String>>);
    Effect::new(move |_| {
        let id = id();
        spawn_local(async move {
            let result = async {
                let s = api::get::<WorkflowSummary>(&format!("/api/workflows/{id}"))
                    .await
                    .map_err(|e| e.message)?;
                let latest = s.versions.last().map_or(1, |v| v.version);
                let def = api::get::<WorkflowDefinition>(&format!(
                    "/api/workflows/{id}/versions/{latest}"
                ))
                .await
                .map_err(|e| e.message)?;
                summary.set(Some(s));
                Ok(def)
            }
            .await;
            loaded.set(Some(result));
        });
    });
    move || match loaded.get() {
        None => view! { <p>"Loading…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        Some(Ok(def)) => view! { <EditorView def=def summary=summary/> }.into_any(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Selection,
    Simulate,
    Versions,
    Json,
}

impl Side {
    /// The tabs, in the order they are shown.
    const ALL: [Side; 4] = [Side::Selection, Side::Simulate, Side::Versions, Side::Json];

    /// The tab a key moves to from this one, as the ARIA tabs pattern has it: the arrows go
    /// to the next or previous tab, round the ends; Home and End to the first and last.
    fn after_key(self, key: &str) -> Option<Side> {
        let at = Side::ALL.iter().position(|s| *s == self)?;
        let last = Side::ALL.len() - 1;
        let to = match key {
            "ArrowRight" => {
                if at == last {
                    0
                } else {
                    at + 1
                }
            }
            "ArrowLeft" => {
                if at == 0 {
                    last
                } else {
                    at - 1
                }
            }
            "Home" => 0,
            "End" => last,
            _ => return None,
        };
        Side::ALL.get(to).copied()
    }

    /// The id of its tab, which names the panel while it is shown.
    fn tab_id(self) -> &'static str {
        match self {
            Side::Selection => "tab-selection",
            Side::Simulate => "tab-simulate",
            Side::Versions => "tab-versions",
            Side::Json => "tab-json",
        }
    }
}

#[component]
fn EditorView(
    def: WorkflowDefinition,
    summary: RwSignal<Option<WorkflowSummary>>,
) -> impl IntoView {
    let editor = Editor::new(def);
    let lint = Memo::new(move |_| editor.def.with(lint::lint));
    let path = RwSignal::new(Path::default());
    let side = RwSignal::new(Side::Selection);
    let as_table = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Result<String, api::ApiError>>);
    let svg_ref = NodeRef::<svg::Svg>::new();
    let content_ref = NodeRef::<svg::G>::new();
    let workflow_id = editor.def.with_untracked(|d| d.id.to_string());
    let builtin = move || summary.with(|s| s.as_ref().is_some_and(|s| s.builtin));

    // A new selection shows its panel.
    Effect::new(move |_| {
        if editor.selection.with(|s| *s != Selection::None) {
            side.set(Side::Selection);
        }
    });
    // Fit once the diagram is on screen.
    Effect::new(move |_| {
        if svg_ref.get().is_some() {
            diagram::fit(editor, svg_ref);
        }
    });

    let refresh = move || {
        let id = editor.def.with_untracked(|d| d.id.to_string());
        spawn_local(async move {
            if let Ok(s) = api::get::<WorkflowSummary>(&format!("/api/workflows/{id}")).await {
                summary.set(Some(s));
            }
        });
    };
    let save = move || {
        let def = editor.snapshot();
        let id = def.id.to_string();
        spawn_local(async move {
            let saved =
                api::send::<Saved, _>(Method::PUT, &format!("/api/workflows/{id}/draft"), &def)
                    .await;
            if saved.is_ok() {
                editor.dirty.set(false);
            }
            outcome
                .set(Some(saved.map(|s| format!("Saved as draft v{} ({}).", s.version, s.status))));
            refresh();
        });
    };
    let publish = move || {
        let id = editor.def.with_untracked(|d| d.id.to_string());
        let def = editor.snapshot();
        spawn_local(async move {
            // What is on screen is what gets published: save it as the draft first.
            let saved =
                api::send::<Saved, _>(Method::PUT, &format!("/api/workflows/{id}/draft"), &def)
                    .await;
            let published = match saved {
                Ok(s) => {
                    editor.dirty.set(false);
                    let path = format!("/api/workflows/{id}/versions/{}/publish", s.version);
                    api::send::<Saved, _>(Method::POST, &path, &json!({})).await
                }
                Err(e) => Err(e),
            };
            outcome.set(Some(published.map(|s| {
                format!("Version {} is published: new entities start on it.", s.version)
            })));
            refresh();
        });
    };
    let export = move |_| {
        let name = editor.def.with_untracked(|d| format!("{}-v{}.svg", d.id, d.version));
        let result = diagram::export(editor, content_ref)
            .ok_or_else(|| "nothing to export".to_owned())
            .and_then(|svg| {
                diagram::download(&name, "image/svg+xml", &svg).map_err(|e| format!("{e:?}"))
            });
        if let Err(e) = result {
            outcome.set(Some(Err(api::ApiError {
                message: format!("Export failed: {e}"),
                ..api::ApiError::default()
            })));
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if !(ev.ctrl_key() || ev.meta_key()) {
            return;
        }
        let in_text = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA"));
        match ev.key().to_lowercase().as_str() {
            // In a text field, the browser's own undo edits the field.
            _ if in_text => {}
            "z" if ev.shift_key() => {
                ev.prevent_default();
                editor.redo();
            }
            "z" => {
                ev.prevent_default();
                editor.undo();
            }
            "y" => {
                ev.prevent_default();
                editor.redo();
            }
            "s" => {
                ev.prevent_default();
                save();
            }
            _ => {}
        }
    };
    // Only the chosen tab is in the Tab order; the arrow keys move between tabs, and the
    // panel follows the focus.
    let tab_key = move |ev: leptos::ev::KeyboardEvent| {
        if let Some(next) = side.get_untracked().after_key(&ev.key()) {
            ev.prevent_default();
            side.set(next);
            focus(&format!("#{}", next.tab_id()));
        }
    };
    let tab = move |which: Side, label: &'static str| {
        view! {
            <button type="button" role="tab" class="tab" id=which.tab_id() aria-controls="side-panel" aria-selected=move || (side.get() == which).to_string()
                tabindex=move || if side.get() == which { "0" } else { "-1" }
                on:click=move |_| side.set(which) on:keydown=tab_key>{label}</button>
        }
    };
    let summary_line = move || {
        lint.with(|l| {
            let (errors, warnings) = (l.errors(), l.warnings());
            view! {
                <p id="lint-summary" class={if errors > 0 { "error" } else { "ok" }}>
                    {format!("{errors} errors, {warnings} warnings")}
                    <span class="muted">{format!(" · checked in the browser in {:.2} ms", l.ms)}</span>
                </p>
            }
        })
    };
    let problems = move || {
        lint.with(|l| {
            l.problems
                .iter()
                .map(|p| {
                    let target = target_of(&p.path, editor);
                    let class = if p.is_error() { "error" } else { "warning" };
                    view! {
                        <li class=class>
                            {severity(p.is_error())}
                            <button type="button" class="link" on:click=move |_| if let Some(t) = target.clone() { editor.select(t) }>
                                <code>{p.path.clone()}</code>
                            </button>
                            " " {p.message()}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    // Order workflows follow a convention with the approval code: a gap is shown, not refused.
    let order_gaps = move || {
        editor.def.with(|d| {
            let gaps = if d.entity == rules::workflow::Entity::Order {
                rules::workflow::orders::gaps(d)
            } else {
                Vec::new()
            };
            gaps.iter()
                .map(|g| view! { <li class="warning" role="status">{severity(false)} {g.to_string()}</li> })
                .collect_view()
        })
    };
    view! {
        <style>{diagram::CSS}</style>
        <div class="workflow-editor" on:keydown=on_key>
            <h1 tabindex="-1" node_ref=page_heading()>{move || summary.with(|s| s.as_ref().map_or_else(String::new, |s| format!("Workflow {}", s.name)))}
                {move || editor.dirty.get().then_some(" (unsaved changes)")}</h1>
            <p class="muted">{workflow_id.clone()} " · " {move || summary.with(|s| s.as_ref().map_or_else(String::new, |s| format!(
                "for {} · published: {} · draft: {}", s.entity, version_label(s.published_version), version_label(s.draft_version))))}</p>
            {move || summary.with(|s| s.as_ref().is_some_and(|s| s.builtin)).then(|| view! {
                <p class="warning" role="status">"This is the built-in order workflow: it cannot be changed. Create an order workflow of your own (it starts as a copy of this one) to change how orders run."</p>
            })}
            {move || outcome.get().map(|o| match o {
                Ok(text) => view! { <p class="ok" role="status" id="outcome">{text}</p> }.into_any(),
                Err(e) => refusal(&e, "outcome").into_any(),
            })}
            <div class="toolbar" role="toolbar" aria-label="Editor">
                <button type="button" id="add-state" on:click=move |_| diagram::add_in_view(editor, svg_ref)>"Add state"</button>
                <button type="button" on:click=move |_| editor.delete_selection()
                    disabled=move || editor.selection.with(|s| *s == Selection::None)>"Delete"</button>
                <button type="button" id="undo" on:click=move |_| editor.undo() disabled=move || editor.depth.get().0 == 0
                    title="Ctrl+Z">"Undo"</button>
                <button type="button" id="redo" on:click=move |_| editor.redo() disabled=move || editor.depth.get().1 == 0
                    title="Ctrl+Shift+Z">"Redo"</button>
                <button type="button" id="auto-layout" on:click=move |_| { editor.auto_layout(); diagram::fit(editor, svg_ref); }>"Auto layout"</button>
                <button type="button" on:click=move |_| editor.zoom_at(1.2, 300.0, 280.0)>"Zoom in"</button>
                <button type="button" on:click=move |_| editor.zoom_at(1.0 / 1.2, 300.0, 280.0)>"Zoom out"</button>
                <button type="button" id="fit" on:click=move |_| diagram::fit(editor, svg_ref)>"Fit"</button>
                <label class="inline"><input type="checkbox" id="as-table" on:change=move |ev| as_table.set(event_target_checked(&ev))/> " As a table"</label>
                <span class="spacer"></span>
                <button type="button" id="export-svg" on:click=export>"Export SVG"</button>
                <button type="button" id="save" on:click=move |_| save() disabled=builtin>"Save draft"</button>
                <button type="button" id="publish" on:click=move |_| publish()
                    disabled=move || builtin() || lint.with(|l| l.errors() > 0)
                    title="Saves what you see as the draft and publishes it">"Publish"</button>
            </div>
            {summary_line}
            <div class="editor-body">
                <div class="canvas">
                    <Show when=move || !as_table.get() fallback=move || view! { <table::Tables editor=editor lint=lint/> }>
                        <Diagram editor=editor lint=lint path=path svg_ref=svg_ref content_ref=content_ref/>
                        <p class="muted keys">"On arrows: ⚡ fired by an event, (after …) by a timer, [if] guarded. Drag states to move them; drag from a state's dot to another state to connect them; drag the background to pan; wheel to zoom. Keys: Tab between states, arrows move (Shift: more), n new state, Delete, + − 0 (fit), Ctrl+Z / Ctrl+Shift+Z."</p>
                    </Show>
                </div>
                <aside class="side">
                    <div role="tablist" aria-label="Side panel">
                        {tab(Side::Selection, "Selection")}
                        {tab(Side::Simulate, "Simulate")}
                        {tab(Side::Versions, "Versions")}
                        {tab(Side::Json, "JSON")}
                    </div>
                    <div role="tabpanel" id="side-panel" aria-labelledby=move || side.get().tab_id()>
                        {move || match side.get() {
                            Side::Selection => view! { <panel::Panel editor=editor lint=lint/> }.into_any(),
                            Side::Simulate => view! { <simulate::SimulatePanel editor=editor path=path/> }.into_any(),
                            Side::Versions => view! { <versions::VersionsPanel editor=editor summary=summary/> }.into_any(),
                            Side::Json => view! { <JsonPanel editor=editor/> }.into_any(),
                        }}
                    </div>
                </aside>
            </div>
            <section aria-label="Problems">
                <h2>"Problems"</h2>
                <ul id="lint" class="problems">{problems}</ul>
                <ul id="order-gaps" class="problems">{order_gaps}</ul>
            </section>
        </div>
    }
}

/// The state or transition a problem's path points at.
fn target_of(path: &str, editor: Editor) -> Option<Selection> {
    let (list, rest) = path.split_once('[')?;
    let index: usize = rest.split_once(']')?.0.parse().ok()?;
    editor.def.with_untracked(|d| match list {
        "states" => d.states.get(index).map(|s| Selection::State(s.id.clone())),
        "transitions" => d.transitions.get(index).map(|t| Selection::Transition(t.id.clone())),
        _ => None,
    })
}

/// The definition as JSON: what is exported and imported. Typing a definition replaces the
/// one being edited as soon as it reads as one.
#[component]
fn JsonPanel(editor: Editor) -> impl IntoView {
    let source = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let typed = StoredValue::new(false);
    Effect::new(move |_| {
        editor.depth.track();
        editor.epoch.track();
        if typed.get_value() {
            typed.set_value(false);
            return;
        }
        source.set(serde_json::to_string_pretty(&editor.snapshot()).unwrap_or_default());
    });
    let download = move |_| {
        let def = editor.snapshot();
        let name = format!("{}-v{}.json", def.id, def.version);
        let _ = diagram::download(
            &name,
            "application/json",
            &serde_json::to_string_pretty(&def).unwrap_or_default(),
        );
    };
    view! {
        <h2>"JSON"</h2>
        <p class="muted">"The definition as the API and " <code>"countersign check-workflow"</code> " read it (YAML too: "
            <code>"GET /api/workflows/{id}/versions/{n}?format=yaml"</code> "). Paste a definition to import it."</p>
        <label for="definition">"Definition (JSON)"</label>
        <textarea id="definition" rows="24" spellcheck="false" prop:value=move || source.get()
            aria-describedby="json-error" aria-invalid=move || error.with(Option::is_some).to_string()
            on:input=move |ev| {
                let value = event_target_value(&ev);
                source.set(value.clone());
                match serde_json::from_str::<WorkflowDefinition>(&value) {
                    Ok(def) => {
                        error.set(None);
                        typed.set_value(true);
                        editor.import(def);
                    }
                    Err(e) => error.set(Some(e.to_string())),
                }
            }></textarea>
        {move || error.get().map(|e| view! { <p class="error" role="alert" id="json-error">"Not a workflow definition: " {e}</p> })}
        <p><button type="button" on:click=download>"Download JSON"</button></p>
    }
}
