//! Drift: an approved order must not change behind its approvers' backs. Given what was
//! approved and what the order is now, say what changed and whether it needs approval again.

use super::{ApprovalPlan, Because, OrderFacts, Verdict};
use crate::{
    ids::{PaymentMethod, RuleId, Sku, UnitId},
    money::{Currency, Money},
    pricing::PricedCart,
};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// A line as approved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotLine {
    pub sku: Sku,
    pub quantity: u32,
    pub unit_price: Money,
}

/// An order at one moment: its lines, facts and approval plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub lines: Vec<SnapshotLine>,
    pub facts: OrderFacts,
    pub plan: ApprovalPlan,
}

impl Snapshot {
    pub fn new(cart: &PricedCart, facts: OrderFacts, plan: ApprovalPlan) -> Snapshot {
        let lines = cart
            .lines
            .iter()
            .map(|l| SnapshotLine {
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect();
        Snapshot { lines, facts, plan }
    }
}

/// One difference between the approved order and the order now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    LineAdded {
        sku: Sku,
        quantity: u32,
    },
    LineRemoved {
        sku: Sku,
    },
    QuantityChanged {
        sku: Sku,
        from: u32,
        to: u32,
    },
    UnitPriceChanged {
        sku: Sku,
        from: Money,
        to: Money,
    },
    TotalChanged {
        from: Money,
        to: Money,
    },
    CurrencyChanged {
        from: Currency,
        to: Currency,
    },
    PaymentMethodChanged {
        from: Option<PaymentMethod>,
        to: Option<PaymentMethod>,
    },
    BusinessUnitChanged {
        from: Option<UnitId>,
        to: Option<UnitId>,
    },
    /// The current policy asks for an approval the approved plan did not have.
    NewApproval {
        rules: Vec<RuleId>,
    },
    /// The order is now blocked.
    NowBlocked,
}

impl Change {
    /// Whether this change alone calls for a new approval. Decreases (fewer items, a lower
    /// price or total, a removed line) do not; anything else does.
    pub fn requires_reapproval(&self) -> bool {
        match self {
            Change::LineRemoved { .. } => false,
            Change::QuantityChanged { from, to, .. } => to > from,
            Change::UnitPriceChanged { from, to, .. } | Change::TotalChanged { from, to } => {
                to.try_cmp(from).map_or(true, |o| o == Ordering::Greater)
            }
            _ => true,
        }
    }
}

/// The result of a drift check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub reapproval_required: bool,
    pub changes: Vec<Change>,
    /// One sentence per change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<String>,
}

fn plan_rules(plan: &ApprovalPlan) -> Vec<&RuleId> {
    plan.steps
        .iter()
        .flat_map(|s| s.because.iter())
        .filter_map(|b| match b {
            Because::Rule(m) => Some(&m.rule),
            _ => None,
        })
        .collect()
}

/// Compares the order as approved with the order now (re-priced and re-routed under the
/// current data and policy).
pub fn drift(approved: &Snapshot, current: &Snapshot) -> Drift {
    let mut changes = Vec::new();
    for line in &current.lines {
        match approved.lines.iter().find(|l| l.sku == line.sku) {
            None => {
                changes.push(Change::LineAdded { sku: line.sku.clone(), quantity: line.quantity })
            }
            Some(before) => {
                if before.quantity != line.quantity {
                    changes.push(Change::QuantityChanged {
                        sku: line.sku.clone(),
                        from: before.quantity,
                        to: line.quantity,
                    });
                }
                if before.unit_price != line.unit_price {
                    changes.push(Change::UnitPriceChanged {
                        sku: line.sku.clone(),
                        from: before.unit_price,
                        to: line.unit_price,
                    });
                }
            }
        }
    }
    for line in &approved.lines {
        if !current.lines.iter().any(|l| l.sku == line.sku) {
            changes.push(Change::LineRemoved { sku: line.sku.clone() });
        }
    }
    let (before, now) = (&approved.facts, &current.facts);
    if before.total.currency() != now.total.currency() {
        changes.push(Change::CurrencyChanged {
            from: before.total.currency(),
            to: now.total.currency(),
        });
    } else if before.total != now.total {
        changes.push(Change::TotalChanged { from: before.total, to: now.total });
    }
    if before.payment_method != now.payment_method {
        changes.push(Change::PaymentMethodChanged {
            from: before.payment_method.clone(),
            to: now.payment_method.clone(),
        });
    }
    if before.business_unit != now.business_unit {
        changes.push(Change::BusinessUnitChanged {
            from: before.business_unit.clone(),
            to: now.business_unit.clone(),
        });
    }
    let approved_rules = plan_rules(&approved.plan);
    let new_rules: Vec<RuleId> = plan_rules(&current.plan)
        .into_iter()
        .filter(|r| !approved_rules.contains(r))
        .cloned()
        .collect();
    let approved_needed_nothing = approved.plan.steps.is_empty();
    if !new_rules.is_empty() {
        changes.push(Change::NewApproval { rules: new_rules });
    } else if approved_needed_nothing && !current.plan.steps.is_empty() {
        changes.push(Change::NewApproval { rules: vec![] });
    }
    if current.plan.verdict == Verdict::Blocked {
        changes.push(Change::NowBlocked);
    }
    let reapproval_required = changes.iter().any(Change::requires_reapproval);
    let explanation = changes.iter().map(crate::messages::explain_change).collect();
    Drift { reapproval_required, changes, explanation }
}
