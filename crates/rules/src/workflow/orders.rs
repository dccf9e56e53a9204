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

pub const REQUIRED: &str = "approval.required";
pub const NOT_REQUIRED: &str = "approval.not_required";
pub const GRANTED: &str = "approval.granted";
pub const REJECTED: &str = "approval.rejected";

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
