//! Simulation: the path a sample entity would take through a workflow, for the editor's
//! "play" button. It runs the same runtime as the server ([`Workflow::available`], timers,
//! guards), on a clock of its own that jumps to each timer's due time instead of waiting.
//!
//! At each state the simulation takes, in this order: the transition the user chose for that
//! step; otherwise the first transition (in definition order) that the actor may fire, or
//! whose event has not happened yet in this run (each event happens once unless chosen:
//! an order is submitted once, approved once), and whose guard holds; otherwise the earliest
//! timer whose guard holds when it falls due. It stops in a terminal state, where nothing can fire, when it comes back
//! to a state with the same fields for the third time, or after [`MAX_STEPS`].

use super::{
    Actor, Instance, Refusal, RuntimeError, TimerStatus, TransitionOption, Trigger, Workflow,
};
use crate::{
    condition::{FieldPath, Value},
    ids::{StateId, TransitionId},
    time::Timestamp,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most steps one simulation takes.
pub const MAX_STEPS: usize = 100;

/// One state on the path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub state: StateId,
    pub entered_at: Timestamp,
    /// Every transition from the state as the actor sees it on entering, and why.
    pub options: Vec<TransitionOption>,
    /// The state's timers: when each falls due and whether its guard holds then.
    pub timers: Vec<TimerStatus>,
    /// How the simulation left the state, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken: Option<Taken>,
}

/// The transition that moved the sample on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Taken {
    pub transition: TransitionId,
    pub to: StateId,
    pub at: Timestamp,
    pub trigger: Trigger,
    /// The user chose it for this step.
    pub chosen: bool,
}

/// Why the simulation stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    Terminal,
    /// No transition can fire: the actor may fire none, no event's guard holds, and no timer's
    /// guard holds when it falls due.
    Stuck,
    /// The sample came back to a state with the same fields a third time.
    Loops,
    TooManySteps,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Simulation {
    pub steps: Vec<Step>,
    pub end: End,
    /// A chosen transition that could not fire at its step, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<(usize, String)>,
}

/// Runs a sample from `instance` (usually just begun) for `actor`, starting at its
/// `entered_at`. `choices` maps a step's index to the transition to take there.
pub fn simulate(
    workflow: &Workflow,
    instance: Instance,
    actor: &Actor,
    choices: &BTreeMap<usize, TransitionId>,
) -> Result<Simulation, RuntimeError> {
    let mut instance = instance;
    let mut steps: Vec<Step> = Vec::new();
    let mut refused = Vec::new();
    let mut visited: Vec<(StateId, BTreeMap<FieldPath, Value>)> = Vec::new();
    let mut happened: Vec<crate::ids::SharedStr> = Vec::new();
    let terminal =
        |state: &StateId| workflow.definition().states.iter().any(|s| &s.id == state && s.terminal);
    let end = loop {
        let now = instance.entered_at;
        let options = workflow.available(&instance, actor, now)?;
        let timers = workflow_timers_at_due(workflow, &instance)?;
        let index = steps.len();
        let repeated = visited
            .iter()
            .filter(|(state, fields)| *state == instance.state && *fields == instance.fields)
            .count()
            >= 2;
        visited.push((instance.state.clone(), instance.fields.clone()));
        steps.push(Step {
            state: instance.state.clone(),
            entered_at: now,
            options,
            timers,
            taken: None,
        });
        if terminal(&instance.state) {
            break End::Terminal;
        }
        if repeated {
            break End::Loops;
        }
        if index.saturating_add(1) >= MAX_STEPS {
            break End::TooManySteps;
        }
        let Some(step) = steps.last() else { break End::Stuck };
        let chosen = choices.get(&index).and_then(|id| match possible(workflow, step, id) {
            Ok(next) => Some(next),
            Err(why) => {
                refused.push((index, why));
                None
            }
        });
        let next =
            chosen.map(|n| (n, true)).or_else(|| automatic(step, &happened).map(|n| (n, false)));
        let Some(((transition, at), chosen)) = next else { break End::Stuck };
        let Some(t) = workflow.definition().transitions.iter().find(|t| t.id == transition) else {
            break End::Stuck;
        };
        if let Trigger::Event(name) = &t.trigger {
            happened.push(name.clone());
        }
        let fired = workflow.complete(&instance, t, at);
        if let Some(step) = steps.last_mut() {
            step.taken = Some(Taken {
                transition: fired.transition.clone(),
                to: fired.to.clone(),
                at,
                trigger: t.trigger.clone(),
                chosen,
            });
        }
        instance = fired.instance;
    };
    Ok(Simulation { steps, end, refused })
}

/// The state's timers, each judged at the moment it falls due (that is when the server checks
/// the guard).
fn workflow_timers_at_due(
    workflow: &Workflow,
    instance: &Instance,
) -> Result<Vec<TimerStatus>, RuntimeError> {
    let mut out = Vec::new();
    for status in workflow.timers(instance, instance.entered_at)? {
        let at_due = workflow.timers(instance, status.due_at)?;
        out.extend(at_due.into_iter().find(|s| s.transition == status.transition));
    }
    Ok(out)
}

/// Whether a manual transition is open to the actor, or an event transition's guard holds.
fn could_fire(option: &TransitionOption) -> bool {
    match option.trigger {
        Trigger::Manual => option.enabled,
        Trigger::Event(_) => option.refusals.iter().all(|r| matches!(r, Refusal::NotManual { .. })),
        Trigger::Timer { .. } => false,
    }
}

fn automatic(step: &Step, happened: &[crate::ids::SharedStr]) -> Option<(TransitionId, Timestamp)> {
    let fresh = |o: &TransitionOption| match &o.trigger {
        Trigger::Event(name) => !happened.contains(name),
        _ => true,
    };
    step.options
        .iter()
        .find(|o| could_fire(o) && fresh(o))
        .map(|o| (o.transition.clone(), step.entered_at))
        .or_else(|| {
            step.timers
                .iter()
                .filter(|t| t.due)
                .min_by_key(|t| t.due_at)
                .map(|t| (t.transition.clone(), t.due_at))
        })
}

fn possible(
    workflow: &Workflow,
    step: &Step,
    id: &TransitionId,
) -> Result<(TransitionId, Timestamp), String> {
    if let Some(timer) = step.timers.iter().find(|t| &t.transition == id) {
        return if timer.due {
            Ok((id.clone(), timer.due_at))
        } else {
            Err(timer.explanation.clone())
        };
    }
    match step.options.iter().find(|o| &o.transition == id) {
        Some(o) if could_fire(o) => Ok((id.clone(), step.entered_at)),
        Some(o) => Err(o.explanation.join("; ")),
        None => Err(match workflow.definition().transitions.iter().find(|t| &t.id == id) {
            Some(t) => Refusal::NotFromHere {
                transition: id.clone(),
                state: step.state.clone(),
                from: t.from.clone(),
            },
            None => Refusal::UnknownTransition { transition: id.clone() },
        }
        .to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;
    use serde_json::json;

    fn workflow() -> Workflow {
        Workflow::new(
            serde_json::from_value(json!({
                "id": "big-orders", "version": 1, "name": "Big orders", "entity": "order",
                "states": [
                    {"id": "draft", "label": "Draft", "start": true},
                    {"id": "submitted", "label": "Submitted", "terminal": true},
                    {"id": "alerted", "label": "Sales rep alerted"},
                    {"id": "closed", "label": "Closed", "terminal": true}
                ],
                "transitions": [
                    {"id": "submit", "from": "draft", "to": "submitted", "label": "Submit", "roles": ["buyer"]},
                    {"id": "alert", "from": "draft", "to": "alerted", "label": "Alert",
                     "trigger": {"timer": {"after": "7d"}},
                     "guard": {"field": "order.total", "op": ">=", "value": {"money": {"amount": "50000", "currency": "USD"}}}},
                    {"id": "close", "from": "alerted", "to": "closed", "label": "Close", "roles": ["sales_rep"]}
                ]
            }))
            .unwrap(),
        )
        .unwrap()
    }

    fn sample(total: &str) -> Instance {
        let w = workflow();
        let fields = BTreeMap::from([(
            FieldPath::parse("order.total").unwrap(),
            serde_json::from_value(json!({"money": {"amount": total, "currency": "USD"}})).unwrap(),
        )]);
        w.begin(fields, Timestamp::from_millis(1_000)).unwrap()
    }

    fn actor(roles: &[&str]) -> Actor {
        Actor { id: None, roles: roles.iter().map(|r| (*r).into()).collect() }
    }

    fn path(s: &Simulation) -> Vec<&str> {
        s.steps.iter().map(|s| s.state.as_str()).collect()
    }

    #[test]
    fn a_buyer_submits_when_they_may() {
        let s =
            simulate(&workflow(), sample("60000"), &actor(&["buyer"]), &BTreeMap::new()).unwrap();
        assert_eq!(path(&s), ["draft", "submitted"]);
        assert_eq!(s.end, End::Terminal);
        assert_eq!(
            s.steps[0].timers[0].due_at,
            Timestamp::from_millis(Duration::from_days(7).millis().saturating_add(1_000))
        );
    }

    #[test]
    fn the_timer_fires_at_its_due_time_when_nobody_acts_and_its_guard_holds() {
        let s = simulate(&workflow(), sample("60000"), &actor(&[]), &BTreeMap::new()).unwrap();
        assert_eq!(path(&s), ["draft", "alerted"]);
        let taken = s.steps[0].taken.as_ref().unwrap();
        assert_eq!(taken.at.millis(), Duration::from_days(7).millis().saturating_add(1_000));
        assert_eq!(s.end, End::Stuck);

        let small = simulate(&workflow(), sample("100"), &actor(&[]), &BTreeMap::new()).unwrap();
        assert_eq!(path(&small), ["draft"]);
        assert_eq!(small.end, End::Stuck);
        assert!(!small.steps[0].timers[0].guard_holds);
    }

    #[test]
    fn each_event_happens_once_unless_chosen() {
        let w = Workflow::new(
            serde_json::from_value(json!({
                "id": "orders", "version": 1, "name": "Orders", "entity": "order",
                "states": [
                    {"id": "submitted", "label": "Submitted", "start": true},
                    {"id": "waiting", "label": "Awaiting approval"},
                    {"id": "approved", "label": "Approved"},
                    {"id": "shipped", "label": "Shipped", "terminal": true}
                ],
                "transitions": [
                    {"id": "needs", "from": "submitted", "to": "waiting", "label": "Needs approval", "trigger": {"event": "approval.required"}},
                    {"id": "grant", "from": "waiting", "to": "approved", "label": "Approved", "trigger": {"event": "approval.granted"}},
                    {"id": "again", "from": "approved", "to": "waiting", "label": "Changed", "trigger": {"event": "approval.required"}},
                    {"id": "ship", "from": "approved", "to": "shipped", "label": "Ship", "roles": ["back_office"]}
                ]
            }))
            .unwrap(),
        )
        .unwrap();
        let begin = || w.begin(BTreeMap::new(), Timestamp::from_millis(0)).unwrap();
        let nobody = simulate(&w, begin(), &actor(&[]), &BTreeMap::new()).unwrap();
        assert_eq!(path(&nobody), ["submitted", "waiting", "approved"]);
        assert_eq!(nobody.end, End::Stuck);
        let shipper = simulate(&w, begin(), &actor(&["back_office"]), &BTreeMap::new()).unwrap();
        assert_eq!(path(&shipper), ["submitted", "waiting", "approved", "shipped"]);
        let again = BTreeMap::from([(2, TransitionId::parse("again").unwrap())]);
        let chosen = simulate(&w, begin(), &actor(&[]), &again).unwrap();
        assert_eq!(path(&chosen), ["submitted", "waiting", "approved", "waiting"]);
    }

    #[test]
    fn a_choice_overrides_the_automatic_pick_and_an_impossible_one_is_reported() {
        let choose = BTreeMap::from([(0, TransitionId::parse("alert").unwrap())]);
        let s = simulate(&workflow(), sample("60000"), &actor(&["buyer", "sales_rep"]), &choose)
            .unwrap();
        assert_eq!(path(&s), ["draft", "alerted", "closed"]);
        assert!(s.steps[0].taken.as_ref().unwrap().chosen);

        let s = simulate(&workflow(), sample("100"), &actor(&["buyer"]), &choose).unwrap();
        assert_eq!(path(&s), ["draft", "submitted"]);
        assert_eq!(s.refused.len(), 1);
    }
}
