//! What changes from one version of a workflow to another, and what moving a running instance
//! to the other version would do to it.
//!
//! Publishing never moves running instances: each stays on the version it started on. An admin
//! may move them explicitly, after a preview; [`diff`] is the preview of the definitions (what
//! the editor shows between two versions), [`plan_move`] the preview of one instance (where it
//! lands, which timers are armed there, which transitions it gains or loses) or why it cannot
//! move. Both are pure and deterministic: lists follow the definitions' own order.

use super::{Instance, State, TimerStatus, Transition, Workflow, WorkflowDefinition};
use crate::{
    diagnostic::Diagnostic,
    ids::{StateId, TransitionId},
    time::Timestamp,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A part of a definition besides its states and transitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefinitionField {
    Name,
    Entity,
    Scope,
    /// The custom fields the workflow declares.
    Fields,
}

/// A part of a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateField {
    Label,
    Start,
    Terminal,
}

/// A part of a transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionField {
    From,
    To,
    Label,
    /// The roles, as a set (their order does not matter).
    Roles,
    Trigger,
    Guard,
    /// The actions, in order (they are performed in order).
    Actions,
}

/// A state in both versions that differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    pub state: StateId,
    pub changed: Vec<StateField>,
}

/// A transition in both versions (the same id) that differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionChange {
    pub transition: TransitionId,
    pub changed: Vec<TransitionField>,
}

/// The differences between two versions of a workflow. States and transitions are matched by
/// id; added and changed ones are listed in the new version's order, removed ones in the old's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowDiff {
    pub definition: Vec<DefinitionField>,
    pub states_added: Vec<StateId>,
    pub states_removed: Vec<StateId>,
    pub states_changed: Vec<StateChange>,
    pub transitions_added: Vec<TransitionId>,
    pub transitions_removed: Vec<TransitionId>,
    pub transitions_changed: Vec<TransitionChange>,
}

impl WorkflowDiff {
    /// Nothing differs.
    pub fn is_empty(&self) -> bool {
        self.definition.is_empty()
            && self.states_added.is_empty()
            && self.states_removed.is_empty()
            && self.states_changed.is_empty()
            && self.transitions_added.is_empty()
            && self.transitions_removed.is_empty()
            && self.transitions_changed.is_empty()
    }
}

fn state_changes(old: &State, new: &State) -> Vec<StateField> {
    let mut changed = Vec::new();
    if old.label != new.label {
        changed.push(StateField::Label);
    }
    if old.start != new.start {
        changed.push(StateField::Start);
    }
    if old.terminal != new.terminal {
        changed.push(StateField::Terminal);
    }
    changed
}

fn transition_changes(old: &Transition, new: &Transition) -> Vec<TransitionField> {
    fn roles(t: &Transition) -> HashSet<&str> {
        t.roles.iter().map(|r| &**r).collect()
    }
    [
        (old.from != new.from, TransitionField::From),
        (old.to != new.to, TransitionField::To),
        (old.label != new.label, TransitionField::Label),
        (roles(old) != roles(new), TransitionField::Roles),
        (old.trigger != new.trigger, TransitionField::Trigger),
        (old.guard != new.guard, TransitionField::Guard),
        (old.actions != new.actions, TransitionField::Actions),
    ]
    .into_iter()
    .filter_map(|(differs, field)| differs.then_some(field))
    .collect()
}

/// What differs from `old` to `new`. A definition with duplicate ids (a draft with errors) is
/// compared by the first of each.
pub fn diff(old: &WorkflowDefinition, new: &WorkflowDefinition) -> WorkflowDiff {
    let mut out = WorkflowDiff::default();
    for (differs, field) in [
        (old.name != new.name, DefinitionField::Name),
        (old.entity != new.entity, DefinitionField::Entity),
        (old.scope != new.scope, DefinitionField::Scope),
        (old.fields != new.fields, DefinitionField::Fields),
    ] {
        if differs {
            out.definition.push(field);
        }
    }

    let mut old_states: HashMap<&StateId, &State> = HashMap::new();
    for s in &old.states {
        old_states.entry(&s.id).or_insert(s);
    }
    let mut new_states: HashMap<&StateId, &State> = HashMap::new();
    for s in &new.states {
        new_states.entry(&s.id).or_insert(s);
    }
    let mut seen = HashSet::new();
    for s in &new.states {
        if !seen.insert(&s.id) {
            continue;
        }
        match old_states.get(&s.id) {
            None => out.states_added.push(s.id.clone()),
            Some(o) => {
                let changed = state_changes(o, s);
                if !changed.is_empty() {
                    out.states_changed.push(StateChange { state: s.id.clone(), changed });
                }
            }
        }
    }
    let mut seen = HashSet::new();
    for s in &old.states {
        if seen.insert(&s.id) && !new_states.contains_key(&s.id) {
            out.states_removed.push(s.id.clone());
        }
    }

    let mut old_transitions: HashMap<&TransitionId, &Transition> = HashMap::new();
    for t in &old.transitions {
        old_transitions.entry(&t.id).or_insert(t);
    }
    let mut new_transitions: HashMap<&TransitionId, &Transition> = HashMap::new();
    for t in &new.transitions {
        new_transitions.entry(&t.id).or_insert(t);
    }
    let mut seen = HashSet::new();
    for t in &new.transitions {
        if !seen.insert(&t.id) {
            continue;
        }
        match old_transitions.get(&t.id) {
            None => out.transitions_added.push(t.id.clone()),
            Some(o) => {
                let changed = transition_changes(o, t);
                if !changed.is_empty() {
                    out.transitions_changed
                        .push(TransitionChange { transition: t.id.clone(), changed });
                }
            }
        }
    }
    let mut seen = HashSet::new();
    for t in &old.transitions {
        if seen.insert(&t.id) && !new_transitions.contains_key(&t.id) {
            out.transitions_removed.push(t.id.clone());
        }
    }
    out
}

/// Why an instance cannot move to the other version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum MoveBlocked {
    /// The instance does not run on the version it would move from.
    NotOnVersion { workflow: crate::ids::WorkflowId, version: u32 },
    /// Its state is not in the new version, and the state map does not say where it goes.
    NoCounterpart { state: StateId },
    /// The state map sends its state to a state the new version does not have.
    MappedToUnknownState { state: StateId, to: StateId },
    /// Its fields do not fit the new version's schema (a custom field removed or retyped).
    FieldsDoNotFit { problems: Vec<Diagnostic> },
}

/// What moving one instance to the new version does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstanceMove {
    pub from_state: StateId,
    pub to_state: StateId,
    /// The instance on the new version: same fields, same time of entering its state (a state
    /// the map renames is the same place under another name).
    pub instance: Instance,
    /// The timers of its state in the new version, as of `now` (armed again on the move).
    pub timers: Vec<TimerStatus>,
    /// The transitions from its state in the new version.
    pub transitions: Vec<TransitionId>,
    /// Of those, the ones it did not have from its state in the old version.
    pub transitions_gained: Vec<TransitionId>,
    /// The ones it had in the old version and loses.
    pub transitions_lost: Vec<TransitionId>,
}

/// Where an instance of `old` lands on `new`: its state, or the state `state_map` gives for
/// it, must be a state of `new`, and its fields must fit `new`'s schema.
pub fn plan_move(
    old: &Workflow,
    new: &Workflow,
    instance: &Instance,
    state_map: &BTreeMap<StateId, StateId>,
    now: Timestamp,
) -> Result<InstanceMove, MoveBlocked> {
    let (old_def, new_def) = (old.definition(), new.definition());
    if instance.workflow != old_def.id || instance.version != old_def.version {
        return Err(MoveBlocked::NotOnVersion {
            workflow: old_def.id.clone(),
            version: old_def.version,
        });
    }
    let mapped = state_map.get(&instance.state);
    let to_state = mapped.unwrap_or(&instance.state).clone();
    if !new_def.states.iter().any(|s| s.id == to_state) {
        return Err(match mapped {
            Some(to) => {
                MoveBlocked::MappedToUnknownState { state: instance.state.clone(), to: to.clone() }
            }
            None => MoveBlocked::NoCounterpart { state: instance.state.clone() },
        });
    }
    let moved = Instance {
        workflow: new_def.id.clone(),
        version: new_def.version,
        state: to_state.clone(),
        entered_at: instance.entered_at,
        fields: instance.fields.clone(),
        started_by: instance.started_by.clone(),
    };
    let timers = match new.timers(&moved, now) {
        Ok(timers) => timers,
        Err(super::RuntimeError::BadFields(problems)) => {
            return Err(MoveBlocked::FieldsDoNotFit { problems });
        }
        // The state and version were checked above; nothing else can fail.
        Err(_) => Vec::new(),
    };
    let from = |def: &WorkflowDefinition, state: &StateId| -> Vec<TransitionId> {
        let mut ids: Vec<TransitionId> = Vec::new();
        for t in def.transitions.iter().filter(|t| t.from == *state) {
            if !ids.contains(&t.id) {
                ids.push(t.id.clone());
            }
        }
        ids
    };
    let before = from(old_def, &instance.state);
    let transitions = from(new_def, &to_state);
    let transitions_gained = transitions.iter().filter(|t| !before.contains(t)).cloned().collect();
    let transitions_lost = before.iter().filter(|t| !transitions.contains(t)).cloned().collect();
    Ok(InstanceMove {
        from_state: instance.state.clone(),
        to_state,
        instance: moved,
        timers,
        transitions,
        transitions_gained,
        transitions_lost,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;
    use serde_json::json;

    fn def(version: u32, states: serde_json::Value, transitions: serde_json::Value) -> Workflow {
        let def: WorkflowDefinition = serde_json::from_value(json!({
            "id": "orders", "version": version, "name": "Orders", "entity": "order",
            "states": states, "transitions": transitions,
        }))
        .unwrap();
        Workflow::new(def).unwrap()
    }

    fn v1() -> Workflow {
        def(
            1,
            json!([
                { "id": "draft", "label": "Draft", "start": true },
                { "id": "submitted", "label": "Submitted" },
                { "id": "parked", "label": "Parked" },
                { "id": "done", "label": "Done", "terminal": true }
            ]),
            json!([
                { "id": "submit", "from": "draft", "to": "submitted", "label": "Submit", "roles": ["buyer", "sales_rep"] },
                { "id": "park", "from": "submitted", "to": "parked", "label": "Park", "roles": ["sales_rep"] },
                { "id": "resume", "from": "parked", "to": "submitted", "label": "Resume", "roles": ["sales_rep"] },
                { "id": "finish", "from": "submitted", "to": "done", "label": "Finish", "roles": ["back_office"] }
            ]),
        )
    }

    fn v2() -> Workflow {
        def(
            2,
            json!([
                { "id": "draft", "label": "Draft", "start": true },
                { "id": "submitted", "label": "Sent" },
                { "id": "review", "label": "In review" },
                { "id": "done", "label": "Done", "terminal": true }
            ]),
            json!([
                { "id": "submit", "from": "draft", "to": "submitted", "label": "Submit", "roles": ["sales_rep", "buyer"] },
                { "id": "review", "from": "submitted", "to": "review", "label": "Review", "roles": ["back_office"] },
                { "id": "finish", "from": "review", "to": "done", "label": "Finish", "roles": ["back_office"],
                  "guard": { "field": "order.total", "op": ">", "value": { "money": { "amount": "0", "currency": "USD" } } } },
                { "id": "remind", "from": "submitted", "to": "submitted", "label": "Remind", "trigger": { "timer": { "after": "2d" } } }
            ]),
        )
    }

    #[test]
    fn lists_what_was_added_removed_and_changed() {
        let d = diff(v1().definition(), v2().definition());
        assert_eq!(d.definition, []);
        assert_eq!(d.states_added, [StateId::parse("review").unwrap()]);
        assert_eq!(d.states_removed, [StateId::parse("parked").unwrap()]);
        assert_eq!(
            d.states_changed,
            [StateChange {
                state: StateId::parse("submitted").unwrap(),
                changed: vec![StateField::Label]
            }]
        );
        let ids = |v: &[TransitionId]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert_eq!(ids(&d.transitions_added), ["review", "remind"]);
        assert_eq!(ids(&d.transitions_removed), ["park", "resume"]);
        // The roles of "submit" are the same set in another order: unchanged.
        assert_eq!(
            d.transitions_changed,
            [TransitionChange {
                transition: TransitionId::parse("finish").unwrap(),
                changed: vec![TransitionField::From, TransitionField::Guard],
            }]
        );
        assert!(!d.is_empty());
        assert!(diff(v1().definition(), v1().definition()).is_empty());
        assert_eq!(
            crate::messages::explain_diff(&d),
            [
                "states added: \"review\"",
                "states removed: \"parked\"",
                "state \"submitted\" changed: label",
                "transitions added: \"review\", \"remind\"",
                "transitions removed: \"park\", \"resume\"",
                "transition \"finish\" changed: from, guard",
            ]
        );
    }

    #[test]
    fn serializes_simply_and_round_trips() {
        let d = diff(v1().definition(), v2().definition());
        let value = serde_json::to_value(&d).unwrap();
        assert_eq!(
            value["states_changed"][0],
            json!({ "state": "submitted", "changed": ["label"] })
        );
        assert_eq!(value["transitions_changed"][0]["changed"], json!(["from", "guard"]));
        assert_eq!(value["definition"], json!([]));
        let back: WorkflowDiff = serde_json::from_value(value).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn definition_level_changes_are_named() {
        let mut other = v1().definition().clone();
        other.name = "Renamed".into();
        other.scope = super::super::Scope::Customer(crate::ids::CustomerId::parse("ACME").unwrap());
        assert_eq!(
            diff(v1().definition(), &other).definition,
            [DefinitionField::Name, DefinitionField::Scope]
        );
    }

    fn instance(state: &str, version: u32) -> Instance {
        serde_json::from_value(json!({
            "workflow": "orders", "version": version, "state": state,
            "entered_at": "2026-11-01T09:00:00Z",
            "fields": { "order.total": { "money": { "amount": "10.00", "currency": "USD" } } }
        }))
        .unwrap()
    }

    #[test]
    fn an_instance_moves_where_its_state_exists_or_is_mapped() {
        let (old, new) = (v1(), v2());
        let now: Timestamp = serde_json::from_value(json!("2026-11-04T09:00:00Z")).unwrap();
        let none = BTreeMap::new();
        let moved = plan_move(&old, &new, &instance("submitted", 1), &none, now).unwrap();
        assert_eq!(moved.to_state.as_str(), "submitted");
        assert_eq!(moved.instance.version, 2);
        assert_eq!(moved.instance.entered_at, instance("submitted", 1).entered_at);
        let ids = |v: &[TransitionId]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert_eq!(ids(&moved.transitions), ["review", "remind"]);
        assert_eq!(ids(&moved.transitions_gained), ["review", "remind"]);
        assert_eq!(ids(&moved.transitions_lost), ["park", "finish"]);
        // Its new timer counts from when it entered the state: due already.
        assert_eq!(moved.timers.len(), 1);
        assert!(moved.timers[0].due);

        // "parked" is gone: blocked, unless mapped.
        let blocked = plan_move(&old, &new, &instance("parked", 1), &none, now).unwrap_err();
        assert_eq!(
            blocked,
            MoveBlocked::NoCounterpart { state: StateId::parse("parked").unwrap() }
        );
        let map = BTreeMap::from([(
            StateId::parse("parked").unwrap(),
            StateId::parse("review").unwrap(),
        )]);
        let mapped = plan_move(&old, &new, &instance("parked", 1), &map, now).unwrap();
        assert_eq!(mapped.to_state.as_str(), "review");
        let nowhere =
            BTreeMap::from([(StateId::parse("parked").unwrap(), StateId::parse("limbo").unwrap())]);
        assert!(matches!(
            plan_move(&old, &new, &instance("parked", 1), &nowhere, now),
            Err(MoveBlocked::MappedToUnknownState { .. })
        ));
        // An instance of another version is not moved from this one.
        assert!(matches!(
            plan_move(&old, &new, &instance("draft", 2), &none, now),
            Err(MoveBlocked::NotOnVersion { version: 1, .. })
        ));
    }

    #[test]
    fn fields_that_do_not_fit_the_new_version_block_the_move() {
        let old = def(
            1,
            json!([{ "id": "a", "label": "A", "start": true, "terminal": true }]),
            json!([]),
        );
        let mut with_field = old.definition().clone();
        with_field.fields =
            serde_json::from_value(json!([{ "path": "order.po", "type": "text" }])).unwrap();
        let old = Workflow::new(with_field).unwrap();
        let mut newer = old.definition().clone();
        newer.version = 2;
        newer.fields = Vec::new();
        let new = Workflow::new(newer).unwrap();
        let mut i = instance("a", 1);
        i.fields.insert(
            crate::condition::FieldPath::parse("order.po").unwrap(),
            crate::condition::Value::text("PO-1"),
        );
        let now: Timestamp = serde_json::from_value(json!("2026-11-04T09:00:00Z")).unwrap();
        let blocked = plan_move(&old, &new, &i, &BTreeMap::new(), now).unwrap_err();
        assert!(
            matches!(blocked, MoveBlocked::FieldsDoNotFit { ref problems } if problems.len() == 1)
        );
        assert!(crate::messages::explain_move_blocked(&blocked).contains("order.po"));
    }
}
