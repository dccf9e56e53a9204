//! How an order workflow meets the approval policy: the events the server sends an order's
//! instance, and whether a workflow can take a submitted order at all.
//!
//! The server sends `approval.required` when the approval plan has steps (the transition it
//! fires must carry `require_approval`), `approval.not_required` when it has none,
//! `approval.granted` when the last step is approved and `approval.rejected` when one is
//! rejected. A workflow whose start state does not answer `approval.required` with a
//! `require_approval` transition could let an order skip its approvals, so submitted orders do
//! not run on it (the editor says so while it is drawn).

use super::{Action, Trigger, WorkflowDefinition};

/// What the names of the approval events start with: only the server sends them.
pub const APPROVAL_PREFIX: &str = "approval.";
pub const REQUIRED: &str = "approval.required";
pub const NOT_REQUIRED: &str = "approval.not_required";
pub const GRANTED: &str = "approval.granted";
pub const REJECTED: &str = "approval.rejected";
/// Sent when the buyer changes an order and the approval events moved nothing (the change
/// needed no new approval): a workflow may react to changes (`order.updated`).
pub const UPDATED: &str = "order.updated";

/// Whether a transition carries `require_approval`.
pub fn requires_approval(actions: &[Action]) -> bool {
    actions.iter().any(|a| matches!(a, Action::RequireApproval {}))
}

/// Whether a workflow can take a submitted order: from its start state, the event
/// `approval.required` fires a transition that requires approval.
pub fn takes_orders(def: &WorkflowDefinition) -> bool {
    let Some(start) = def.states.iter().find(|s| s.start) else { return false };
    def.transitions.iter().any(|t| {
        t.from == start.id
            && matches!(&t.trigger, Trigger::Event(e) if &**e == REQUIRED)
            && requires_approval(&t.actions)
    })
}

/// Where an order workflow does not meet the convention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gap {
    /// The start state does not answer `approval.required` with a `require_approval`
    /// transition: submitted orders do not run on the workflow.
    NoApprovalEntry,
    /// A state entered by a `require_approval` transition has no transition on `event`
    /// (`approval.granted` or `approval.rejected`): the decision would leave the order there.
    Unanswered { state: crate::ids::StateId, event: &'static str },
}

/// Every gap of an order workflow, for the editor to show while it is drawn.
pub fn gaps(def: &WorkflowDefinition) -> Vec<Gap> {
    let mut out = Vec::new();
    if !takes_orders(def) {
        out.push(Gap::NoApprovalEntry);
    }
    let mut waiting: Vec<&crate::ids::StateId> =
        def.transitions.iter().filter(|t| requires_approval(&t.actions)).map(|t| &t.to).collect();
    crate::sort::sort(&mut waiting);
    waiting.dedup();
    for state in waiting {
        for event in [GRANTED, REJECTED] {
            let answered = def.transitions.iter().any(|t| {
                &t.from == state && matches!(&t.trigger, Trigger::Event(e) if &**e == event)
            });
            if !answered {
                out.push(Gap::Unanswered { state: state.clone(), event });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(transitions: serde_json::Value) -> WorkflowDefinition {
        serde_json::from_value(json!({
            "id": "o", "version": 1, "name": "O", "entity": "order",
            "states": [{"id": "submitted", "label": "S", "start": true}, {"id": "waiting", "label": "W"}, {"id": "done", "label": "D", "terminal": true}],
            "transitions": transitions
        }))
        .unwrap()
    }

    #[test]
    fn an_order_workflow_must_enter_approval_and_answer_both_decisions() {
        let entry = json!({"id": "in", "from": "submitted", "to": "waiting", "label": "In",
            "trigger": {"event": "approval.required"}, "actions": [{"require_approval": {}}]});
        let granted = json!({"id": "ok", "from": "waiting", "to": "done", "label": "Ok", "trigger": {"event": "approval.granted"}});
        let rejected = json!({"id": "no", "from": "waiting", "to": "done", "label": "No", "trigger": {"event": "approval.rejected"}});
        assert_eq!(gaps(&def(json!([entry, granted, rejected]))), vec![]);
        let waiting = crate::ids::StateId::parse("waiting").unwrap();
        assert_eq!(
            gaps(&def(json!([entry, granted]))),
            vec![Gap::Unanswered { state: waiting, event: REJECTED }]
        );
        let manual = json!({"id": "in", "from": "submitted", "to": "waiting", "label": "In", "roles": ["buyer"]});
        assert_eq!(gaps(&def(json!([manual, granted, rejected]))), vec![Gap::NoApprovalEntry]);
    }
}
