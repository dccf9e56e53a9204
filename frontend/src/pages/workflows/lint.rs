//! The workflow's problems as `rules` finds them, indexed by the state or transition they
//! concern, so the diagram and the table can mark them.

use crate::pages::severity;
use rules::{
    diagnostic::Diagnostic,
    ids::{StateId, TransitionId},
    workflow::{WorkflowDefinition, validate},
};
use std::collections::HashMap;

/// What the diagram shows on a state or an arrow: the first problem, an error if any is, its
/// message saying which it is ("Error: …").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mark {
    pub error: bool,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lint {
    pub problems: Vec<Diagnostic>,
    /// How long validation took in the browser.
    pub ms: f64,
    pub states: HashMap<StateId, Mark>,
    pub transitions: HashMap<TransitionId, Mark>,
}

impl Lint {
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| p.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.problems.len().saturating_sub(self.errors())
    }

    /// The problems under a path prefix (`transitions[3].guard`).
    pub fn under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a Diagnostic> + 'a {
        self.problems.iter().filter(move |p| {
            p.path == prefix
                || p.path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with(['.', '[']))
        })
    }
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// `states[4].id` → ("states", 4).
fn indexed(path: &str) -> Option<(&str, usize)> {
    let (list, rest) = path.split_once('[')?;
    let (n, _) = rest.split_once(']')?;
    Some((list, n.parse().ok()?))
}

pub fn lint(def: &WorkflowDefinition) -> Lint {
    let started = now_ms();
    let problems = validate(def);
    let ms = now_ms() - started;
    let mut states: HashMap<StateId, Mark> = HashMap::new();
    let mut transitions: HashMap<TransitionId, Mark> = HashMap::new();
    for p in &problems {
        let mark = || Mark {
            error: p.is_error(),
            message: format!("{}{}", severity(p.is_error()), p.message()),
        };
        let upgrade = |m: &mut Mark| {
            if p.is_error() && !m.error {
                *m = mark();
            }
        };
        match indexed(&p.path) {
            Some(("states", i)) => {
                if let Some(s) = def.states.get(i) {
                    states.entry(s.id.clone()).and_modify(upgrade).or_insert_with(mark);
                }
            }
            Some(("transitions", i)) => {
                if let Some(t) = def.transitions.get(i) {
                    transitions.entry(t.id.clone()).and_modify(upgrade).or_insert_with(mark);
                }
            }
            _ => {}
        }
    }
    Lint { problems, ms, states, transitions }
}
