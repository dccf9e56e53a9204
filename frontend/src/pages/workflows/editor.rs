//! The editor's state: the definition being edited, where each state is drawn, what is
//! selected, the view of the diagram, and the undo history. Every view (diagram, side panel,
//! table, JSON) reads and changes the workflow through an [`Editor`], so they stay in sync and
//! every change can be undone.
//!
//! Positions live apart from the definition, one signal per state, so that dragging a state
//! redraws that state and its arrows and nothing else; they are written into the definition
//! (`State::position`) when it is saved, exported or put on the undo stack.

use leptos::prelude::*;
use rules::ids::SharedStr;
use rules::{
    ids::{StateId, TransitionId},
    workflow::{
        Position, State, Transition, Trigger, WorkflowDefinition,
        layout::{self, NODE_HEIGHT, NODE_WIDTH},
    },
};
use std::collections::HashMap;

/// A point in diagram units.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pt {
    pub x: f64,
    pub y: f64,
}

impl From<Position> for Pt {
    fn from(p: Position) -> Pt {
        Pt { x: f64::from(p.x), y: f64::from(p.y) }
    }
}

impl Pt {
    fn position(self) -> Position {
        // Diagram coordinates stay far inside i32; `as` saturates on the way.
        #[allow(clippy::cast_possible_truncation)]
        Position { x: self.x.round() as i32, y: self.y.round() as i32 }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Selection {
    #[default]
    None,
    State(StateId),
    Transition(TransitionId),
}

/// Pan (in screen pixels) and zoom of the diagram.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub x: f64,
    pub y: f64,
    pub zoom: f64,
}

impl Default for View {
    fn default() -> View {
        View { x: 0.0, y: 0.0, zoom: 1.0 }
    }
}

pub const MIN_ZOOM: f64 = 0.1;
pub const MAX_ZOOM: f64 = 3.0;
const HISTORY_LIMIT: usize = 200;

#[derive(Debug, Default)]
struct History {
    /// Earlier versions, each with the key of the edit that followed it: consecutive edits
    /// with one key (typing in one field) make one step.
    undo: Vec<(Option<String>, WorkflowDefinition)>,
    redo: Vec<WorkflowDefinition>,
}

#[derive(Clone, Copy, Debug)]
pub struct Editor {
    pub def: RwSignal<WorkflowDefinition>,
    positions: StoredValue<HashMap<StateId, ArcRwSignal<Pt>>>,
    pub selection: RwSignal<Selection>,
    /// Bumped whenever forms must re-read the definition: a new selection, a structural
    /// change, undo and redo. Typing in a field does not bump it, so the field keeps focus.
    pub epoch: RwSignal<u64>,
    history: StoredValue<History>,
    /// (undo steps, redo steps), for the buttons.
    pub depth: RwSignal<(usize, usize)>,
    pub view: RwSignal<View>,
    /// Changed since loaded or saved.
    pub dirty: RwSignal<bool>,
}

impl Editor {
    pub fn new(def: WorkflowDefinition) -> Editor {
        let editor = Editor {
            def: RwSignal::new(def.clone()),
            positions: StoredValue::new(HashMap::new()),
            selection: RwSignal::new(Selection::None),
            epoch: RwSignal::new(0),
            history: StoredValue::new(History::default()),
            depth: RwSignal::new((0, 0)),
            view: RwSignal::new(View::default()),
            dirty: RwSignal::new(false),
        };
        editor.sync_positions(&def, true);
        editor
    }

    /// Where a state is drawn.
    pub fn pos(&self, id: &StateId) -> Option<ArcRwSignal<Pt>> {
        self.positions.with_value(|p| p.get(id).cloned())
    }

    /// The state drawn at a point, if any (topmost last).
    pub fn state_at(&self, at: Pt) -> Option<StateId> {
        let (w, h) = (f64::from(NODE_WIDTH), f64::from(NODE_HEIGHT));
        self.def.with_untracked(|d| {
            d.states.iter().rev().find_map(|s| {
                let p = self.pos(&s.id)?.get_untracked();
                (at.x >= p.x && at.x <= p.x + w && at.y >= p.y && at.y <= p.y + h)
                    .then(|| s.id.clone())
            })
        })
    }

    /// The definition with the current positions written in.
    pub fn snapshot(&self) -> WorkflowDefinition {
        let mut def = self.def.get_untracked();
        self.positions.with_value(|p| {
            for s in &mut def.states {
                s.position = p.get(&s.id).map(|sig| sig.get_untracked().position());
            }
        });
        def
    }

    /// Gives every state a position signal: from the definition where it has one (or when
    /// `reset`), else keeping the current one; states with neither are laid out.
    fn sync_positions(&self, def: &WorkflowDefinition, reset: bool) {
        let laid_out = std::cell::OnceCell::new();
        self.positions.update_value(|p| {
            for (i, s) in def.states.iter().enumerate() {
                let given = s.position.map(Pt::from);
                match (p.get(&s.id), given) {
                    (Some(sig), Some(at)) if reset => sig.set(at),
                    (Some(_), _) => {}
                    (None, Some(at)) => {
                        p.insert(s.id.clone(), ArcRwSignal::new(at));
                    }
                    (None, None) => {
                        let all: &Vec<Position> = laid_out.get_or_init(|| layout::layered(def));
                        let at = all.get(i).copied().map(Pt::from).unwrap_or_default();
                        p.insert(s.id.clone(), ArcRwSignal::new(at));
                    }
                }
            }
        });
    }

    /// Replaces the whole definition (loading, importing JSON, undo, redo).
    pub fn replace(&self, def: WorkflowDefinition) {
        self.sync_positions(&def, true);
        let keep = match self.selection.get_untracked() {
            Selection::State(id) => def.states.iter().any(|s| s.id == id),
            Selection::Transition(id) => def.transitions.iter().any(|t| t.id == id),
            Selection::None => true,
        };
        if !keep {
            self.selection.set(Selection::None);
        }
        self.def.set(def);
        self.epoch.update(|e| *e = e.wrapping_add(1));
    }

    /// Loads a definition as the new starting point: no undo history, not dirty.
    pub fn load(&self, def: WorkflowDefinition) {
        self.history.set_value(History::default());
        self.depth.set((0, 0));
        self.replace(def);
        self.dirty.set(false);
    }

    fn push_undo(&self, key: Option<String>, before: WorkflowDefinition) {
        self.history.update_value(|h| {
            let same = key.is_some() && h.undo.last().is_some_and(|(k, _)| *k == key);
            if !same {
                h.undo.push((key, before));
                if h.undo.len() > HISTORY_LIMIT {
                    h.undo.remove(0);
                }
            }
            h.redo.clear();
        });
        self.update_depth();
        self.dirty.set(true);
    }

    fn update_depth(&self) {
        self.depth.set(self.history.with_value(|h| (h.undo.len(), h.redo.len())));
    }

    /// Changes the definition as one undoable step. Edits with the same `key` in a row
    /// (keystrokes in one field) are one step. Forms are not re-rendered: use [`Editor::edit`]
    /// for changes of structure.
    pub fn apply(&self, key: Option<String>, change: impl FnOnce(&mut WorkflowDefinition)) {
        let before = self.snapshot();
        self.push_undo(key, before);
        self.def.update(change);
        self.def.with_untracked(|d| self.sync_positions(d, false));
    }

    /// A change of structure: one undoable step, and forms re-read the definition.
    pub fn edit(&self, change: impl FnOnce(&mut WorkflowDefinition)) {
        self.apply(None, change);
        self.epoch.update(|e| *e = e.wrapping_add(1));
    }

    /// Records a move that already happened (a drag), given the definition before it.
    pub fn record_move(&self, before: WorkflowDefinition) {
        self.push_undo(None, before);
    }

    pub fn undo(&self) {
        let Some((_, previous)) = self.history.try_update_value(|h| h.undo.pop()).flatten() else {
            return;
        };
        let now = self.snapshot();
        self.history.update_value(|h| h.redo.push(now));
        self.replace(previous);
        self.update_depth();
        self.dirty.set(true);
    }

    pub fn redo(&self) {
        let Some(next) = self.history.try_update_value(|h| h.redo.pop()).flatten() else {
            return;
        };
        let now = self.snapshot();
        self.history.update_value(|h| h.undo.push((None, now)));
        self.replace(next);
        self.update_depth();
        self.dirty.set(true);
    }

    pub fn select(&self, selection: Selection) {
        if self.selection.get_untracked() != selection {
            self.selection.set(selection);
            self.epoch.update(|e| *e = e.wrapping_add(1));
        }
    }

    /// Adds a state at `at` (or right of the drawing) and selects it.
    pub fn add_state(&self, at: Option<Pt>) -> Option<StateId> {
        let at = at.unwrap_or_else(|| {
            let (mut x, mut y) = (f64::from(layout::MARGIN), f64::from(layout::MARGIN));
            self.positions.with_value(|p| {
                for sig in p.values() {
                    let q = sig.get_untracked();
                    if q.x > x - f64::from(NODE_WIDTH) {
                        x = q.x + f64::from(NODE_WIDTH + layout::COLUMN_GAP);
                        y = q.y;
                    }
                }
            });
            Pt { x, y }
        });
        let id = self
            .def
            .with_untracked(|d| fresh_id("state", |c| d.states.iter().any(|s| s.id.as_str() == c)));
        let state_id = StateId::parse(&id).ok()?;
        let label: SharedStr =
            SharedStr::from(format!("New state {}", id.trim_start_matches("state_")));
        let state = State {
            id: state_id.clone(),
            label,
            start: false,
            terminal: false,
            position: Some(at.position()),
        };
        self.edit(|d| {
            if d.states.is_empty() {
                let mut state = state;
                state.start = true;
                d.states.push(state);
            } else {
                d.states.push(state);
            }
        });
        self.select(Selection::State(state_id.clone()));
        Some(state_id)
    }

    /// Gives a state a new id, in its transitions too.
    pub fn rename_state(&self, old: &StateId, new: &str) -> Result<(), String> {
        let new = StateId::parse(new.trim()).map_err(|e| format!("id: {e}"))?;
        if new == *old {
            return Ok(());
        }
        if self.def.with_untracked(|d| d.states.iter().any(|s| s.id == new)) {
            return Err(format!("id: a state \"{new}\" exists already"));
        }
        let (from, to) = (old.clone(), new.clone());
        self.edit(move |d| {
            for s in d.states.iter_mut().filter(|s| s.id == from) {
                s.id = to.clone();
            }
            for t in &mut d.transitions {
                if t.from == from {
                    t.from = to.clone();
                }
                if t.to == from {
                    t.to = to.clone();
                }
            }
        });
        self.positions.update_value(|p| {
            if let Some(sig) = p.remove(old) {
                p.insert(new.clone(), sig);
            }
        });
        self.select(Selection::State(new));
        Ok(())
    }

    /// Replaces the definition with one read from JSON, as one undoable step.
    pub fn import(&self, def: WorkflowDefinition) {
        let before = self.snapshot();
        self.push_undo(Some("import".into()), before);
        self.replace(def);
    }

    /// Adds a manual transition between two states and selects it.
    pub fn connect(&self, from: StateId, to: StateId) {
        let (id, label) = self.def.with_untracked(|d| {
            let id = fresh_id("t", |c| d.transitions.iter().any(|t| t.id.as_str() == c));
            let label = d
                .states
                .iter()
                .find(|s| s.id == to)
                .map_or_else(|| "Go".to_owned(), |s| format!("To {}", s.label));
            (id, label)
        });
        let Ok(id) = TransitionId::parse(&id) else { return };
        let transition = Transition {
            id: id.clone(),
            from,
            to,
            label: SharedStr::from(label),
            roles: Vec::new(),
            trigger: Trigger::Manual,
            guard: None,
            actions: Vec::new(),
        };
        self.edit(|d| d.transitions.push(transition));
        self.select(Selection::Transition(id));
    }

    /// Deletes the selected state (with its transitions) or transition.
    pub fn delete_selection(&self) {
        match self.selection.get_untracked() {
            Selection::None => {}
            Selection::State(id) => {
                self.edit(|d| {
                    d.states.retain(|s| s.id != id);
                    d.transitions.retain(|t| t.from != id && t.to != id);
                });
                self.positions.update_value(|p| {
                    p.remove(&id);
                });
            }
            Selection::Transition(id) => self.edit(|d| d.transitions.retain(|t| t.id != id)),
        }
        self.select(Selection::None);
    }

    /// Lays the whole diagram out again (one undoable step).
    pub fn auto_layout(&self) {
        let before = self.snapshot();
        let positions = self.def.with_untracked(layout::layered);
        self.def.with_untracked(|d| {
            for (s, p) in d.states.iter().zip(positions) {
                if let Some(sig) = self.pos(&s.id) {
                    sig.set(Pt::from(p));
                }
            }
        });
        self.record_move(before);
    }

    /// The drawing's bounds: (min x, min y, max x, max y).
    pub fn bounds(&self) -> Option<(f64, f64, f64, f64)> {
        self.positions.with_value(|p| {
            p.values().map(|s| s.get_untracked()).fold(
                None,
                |acc: Option<(f64, f64, f64, f64)>, q| {
                    let (x1, y1) = (q.x + f64::from(NODE_WIDTH), q.y + f64::from(NODE_HEIGHT));
                    Some(match acc {
                        None => (q.x, q.y, x1, y1),
                        Some((a, b, c, d)) => (a.min(q.x), b.min(q.y), c.max(x1), d.max(y1)),
                    })
                },
            )
        })
    }

    /// Zooms and pans so that the whole drawing fits a viewport of this size.
    pub fn fit(&self, width: f64, height: f64) {
        let Some((x0, y0, x1, y1)) = self.bounds() else {
            self.view.set(View::default());
            return;
        };
        let pad = 24.0;
        let zoom = ((width - 2.0 * pad) / (x1 - x0).max(1.0))
            .min((height - 2.0 * pad) / (y1 - y0).max(1.0))
            .clamp(MIN_ZOOM, 1.5);
        self.view.set(View { x: pad - x0 * zoom, y: pad - y0 * zoom, zoom });
    }

    /// Zooms by `factor` around a point of the viewport (screen pixels).
    pub fn zoom_at(&self, factor: f64, sx: f64, sy: f64) {
        self.view.update(|v| {
            let zoom = (v.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
            let k = zoom / v.zoom;
            v.x = sx - (sx - v.x) * k;
            v.y = sy - (sy - v.y) * k;
            v.zoom = zoom;
        });
    }
}

/// `prefix_1`, `prefix_2`, ...: the first that is not taken.
pub fn fresh_id(prefix: &str, taken: impl Fn(&str) -> bool) -> String {
    (1u32..)
        .map(|n| format!("{prefix}_{n}"))
        .find(|c| !taken(c))
        .unwrap_or_else(|| prefix.to_owned())
}
