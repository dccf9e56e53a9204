//! Workflow validation: every problem at once, each with a path into the definition.

use super::model::{Action, ROLES, Trigger, WorkflowDefinition};
use crate::{
    condition::{FieldOrigin, Schema, may_overlap},
    diagnostic::{Diagnostic, Problem},
    ids::StateId,
};
use std::collections::{HashMap, HashSet, VecDeque};

fn integration_name_ok(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

fn closest_role(role: &str) -> Option<String> {
    ROLES
        .iter()
        .find(|r| {
            r.eq_ignore_ascii_case(role)
                || r.replace('_', " ").eq_ignore_ascii_case(role)
                || r.starts_with(role) && !role.is_empty()
        })
        .map(|r| (*r).to_owned())
}

/// The schema a definition's guards and actions are checked against, and the problems with
/// its custom fields.
pub fn schema_of(def: &WorkflowDefinition) -> (Schema, Vec<Diagnostic>) {
    let custom: Vec<_> = def.fields.iter().map(|f| (f.path.clone(), f.ty)).collect();
    Schema::entity(def.entity).with_custom(def.entity, &custom, "fields")
}

/// Checks a definition. Errors block publishing; warnings do not.
pub fn validate(def: &WorkflowDefinition) -> Vec<Diagnostic> {
    let (schema, mut problems) = schema_of(def);

    // States.
    let mut index: HashMap<&StateId, usize> = HashMap::new();
    for (i, state) in def.states.iter().enumerate() {
        if index.insert(&state.id, i).is_some() {
            problems.push(Diagnostic::error(
                format!("states[{i}].id"),
                Problem::DuplicateState { state: state.id.clone() },
            ));
        }
    }
    let starts: Vec<&StateId> = def.states.iter().filter(|s| s.start).map(|s| &s.id).collect();
    match starts.as_slice() {
        [] => problems.push(Diagnostic::error("states", Problem::NoStartState)),
        [_] => {}
        several => problems.push(Diagnostic::error(
            "states",
            Problem::SeveralStartStates { states: several.iter().map(|s| (*s).clone()).collect() },
        )),
    }
    if !def.states.is_empty() && !def.states.iter().any(|s| s.terminal) {
        problems.push(Diagnostic::warning("states", Problem::NoTerminalState));
    }
    let is_terminal =
        |id: &StateId| index.get(id).and_then(|&i| def.states.get(i)).is_some_and(|s| s.terminal);

    // Transitions.
    let mut transition_ids = HashSet::new();
    for (i, t) in def.transitions.iter().enumerate() {
        let at = format!("transitions[{i}]");
        if !transition_ids.insert(&t.id) {
            problems.push(Diagnostic::error(
                format!("{at}.id"),
                Problem::DuplicateTransition { transition: t.id.clone() },
            ));
        }
        for (end, state) in [("from", &t.from), ("to", &t.to)] {
            if !index.contains_key(state) {
                problems.push(Diagnostic::error(
                    format!("{at}.{end}"),
                    Problem::UnknownState { transition: t.id.clone(), state: state.clone() },
                ));
            }
        }
        if is_terminal(&t.from) {
            problems.push(Diagnostic::error(
                format!("{at}.from"),
                Problem::LeavesTerminalState { transition: t.id.clone(), state: t.from.clone() },
            ));
        }
        for (r, role) in t.roles.iter().enumerate() {
            if !ROLES.contains(&&**role) {
                problems.push(Diagnostic::error(
                    format!("{at}.roles[{r}]"),
                    Problem::UnknownRole {
                        transition: t.id.clone(),
                        role: role.to_string(),
                        suggestion: closest_role(role),
                    },
                ));
            }
        }
        match &t.trigger {
            Trigger::Manual if t.roles.is_empty() => problems.push(Diagnostic::warning(
                format!("{at}.roles"),
                Problem::NobodyMayFire { transition: t.id.clone() },
            )),
            Trigger::Timer { after } if after.millis() <= 0 => problems.push(Diagnostic::error(
                format!("{at}.trigger.timer.after"),
                Problem::TimerNotPositive { transition: t.id.clone() },
            )),
            Trigger::Event(name) if name.is_empty() => problems.push(Diagnostic::error(
                format!("{at}.trigger.event"),
                Problem::EmptyName { what: "event".into() },
            )),
            _ => {}
        }
        if let Some(guard) = &t.guard {
            problems.extend(schema.check(guard, &format!("{at}.guard")));
        }
        for (a, action) in t.actions.iter().enumerate() {
            let at = format!("{at}.actions[{a}]");
            match action {
                Action::Set { field, value } => match schema.lookup(field) {
                    None => problems.push(Diagnostic::error(
                        format!("{at}.set.field"),
                        Problem::UnknownField {
                            field: field.clone(),
                            suggestion: schema.suggest(field),
                        },
                    )),
                    Some((_, spec)) if spec.origin != FieldOrigin::Custom => {
                        problems.push(Diagnostic::error(
                            format!("{at}.set.field"),
                            Problem::FieldNotSettable { field: field.clone() },
                        ))
                    }
                    Some((_, spec)) if !value.fits(spec.ty) => problems.push(Diagnostic::error(
                        format!("{at}.set.value"),
                        Problem::SetValueType {
                            field: field.clone(),
                            field_type: spec.ty,
                            found: value.kind(),
                        },
                    )),
                    Some(_) => {}
                },
                Action::Call { integration } if !integration_name_ok(integration) => {
                    problems.push(Diagnostic::error(
                        format!("{at}.call.integration"),
                        Problem::BadIntegrationName { name: integration.to_string() },
                    ))
                }
                Action::Notify { template, .. } if template.is_empty() => {
                    problems.push(Diagnostic::error(
                        format!("{at}.notify.template"),
                        Problem::EmptyName { what: "template".into() },
                    ))
                }
                _ => {}
            }
        }
    }

    // Reachability from the start state, and dead ends.
    let mut outgoing: HashMap<&StateId, Vec<&StateId>> = HashMap::new();
    for t in &def.transitions {
        if index.contains_key(&t.to) {
            outgoing.entry(&t.from).or_default().push(&t.to);
        }
    }
    if let [start] = starts.as_slice() {
        let mut reached: HashSet<&StateId> = HashSet::from([*start]);
        let mut queue = VecDeque::from([*start]);
        while let Some(state) = queue.pop_front() {
            for next in outgoing.get(state).into_iter().flatten() {
                if reached.insert(next) {
                    queue.push_back(next);
                }
            }
        }
        for (i, state) in def.states.iter().enumerate() {
            if !reached.contains(&state.id) && index.get(&state.id) == Some(&i) {
                problems.push(Diagnostic::error(
                    format!("states[{i}]"),
                    Problem::UnreachableState { state: state.id.clone() },
                ));
            }
        }
    }
    for (i, state) in def.states.iter().enumerate() {
        if !state.terminal && !outgoing.contains_key(&state.id) && index.get(&state.id) == Some(&i)
        {
            problems.push(Diagnostic::error(
                format!("states[{i}]"),
                Problem::DeadEnd { state: state.id.clone() },
            ));
        }
    }

    // Two transitions from one state that one trigger could both fire.
    let mut by_state: HashMap<&StateId, Vec<usize>> = HashMap::new();
    for (i, t) in def.transitions.iter().enumerate() {
        by_state.entry(&t.from).or_default().push(i);
    }
    let mut states: Vec<_> = by_state.into_iter().collect();
    crate::sort::sort_by_key(&mut states, |(_, ts)| ts.first().copied());
    for (state, indices) in states {
        for (n, &a) in indices.iter().enumerate() {
            for &b in indices.iter().skip(n.saturating_add(1)) {
                let (Some(ta), Some(tb)) = (def.transitions.get(a), def.transitions.get(b)) else {
                    continue;
                };
                let same_trigger = match (&ta.trigger, &tb.trigger) {
                    (Trigger::Manual, Trigger::Manual) => {
                        ta.label.trim().eq_ignore_ascii_case(tb.label.trim())
                            && (ta.roles.is_empty()
                                || ta.roles.iter().any(|r| tb.roles.contains(r)))
                    }
                    (x, y) => x == y,
                };
                if same_trigger && may_overlap(ta.guard.as_ref(), tb.guard.as_ref()) {
                    problems.push(Diagnostic::warning(
                        format!("transitions[{b}]"),
                        Problem::OverlappingTransitions {
                            state: state.clone(),
                            first: ta.id.clone(),
                            second: tb.id.clone(),
                        },
                    ));
                }
            }
        }
    }
    problems
}
