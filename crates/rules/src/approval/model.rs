//! What approval routing reads (a company's policy and directory, an order) and writes (a plan).

use crate::ids::SharedStr;
use crate::{
    condition::{Check, Condition},
    ids::{
        CategoryId, CustomerId, GroupId, LimitId, PaymentMethod, RoleName, RuleId, UnitId, UserId,
    },
    money::Money,
    pricing::PricedCart,
};
use serde::{Deserialize, Serialize};

/// Who approves a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approver {
    /// One named user.
    User(UserId),
    /// Any user holding this company role.
    Role(RoleName),
    /// The buyer's manager.
    Manager,
    /// Any one of these users.
    AnyOf(Vec<UserId>),
}

/// How matching threshold rules combine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Only the highest matching threshold: one step.
    #[default]
    Highest,
    /// Every matching threshold, in ascending order: one step each (escalation).
    Escalation,
    /// One step that any approver of any matching threshold may take.
    Any,
}

/// A rule of a policy. A rule with `min_total` is a threshold: it matches orders of that total
/// or more, in that currency. Its `when` condition, if any, must hold too. A rule without
/// `min_total` matches on its condition alone and always adds its own step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRule {
    pub id: RuleId,
    pub name: SharedStr,
    #[serde(default)]
    pub min_total: Option<Money>,
    #[serde(default)]
    pub when: Option<Condition>,
    pub approver: Approver,
}

/// What happens past a spending or credit limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverLimit {
    /// The order needs this approver.
    Approval(Approver),
    /// The order cannot be placed.
    Block,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// Whom a spending limit applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitScope {
    Everyone,
    User(UserId),
    Role(RoleName),
}

/// A buyer may spend at most `amount` per `period` without extra approval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpendingLimit {
    pub id: LimitId,
    pub name: SharedStr,
    pub applies_to: LimitScope,
    pub period: Period,
    pub amount: Money,
    pub on_exceed: OverLimit,
}

/// A company's approval policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalPolicy {
    pub name: SharedStr,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default)]
    pub rules: Vec<ApprovalRule>,
    #[serde(default)]
    pub spending_limits: Vec<SpendingLimit>,
    /// What happens when an order exceeds the available credit or the card's capacity.
    /// Without a setting, such an order is blocked.
    #[serde(default)]
    pub over_credit: Option<OverLimit>,
    /// Who approves when no one else can (every candidate is the buyer or outside the order's
    /// business unit). Without one, such an order is blocked.
    #[serde(default)]
    pub fallback: Option<Approver>,
}

/// A business unit; `parent` is `None` for the company's root unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub id: UnitId,
    pub name: SharedStr,
    #[serde(default)]
    pub parent: Option<UnitId>,
}

/// A user of the company, as approval routing needs to know them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub id: UserId,
    pub name: SharedStr,
    #[serde(default)]
    pub roles: Vec<RoleName>,
    /// The unit the user belongs to; an approver acts on orders of this unit and below.
    /// Without one, company-wide.
    #[serde(default)]
    pub unit: Option<UnitId>,
    #[serde(default)]
    pub manager: Option<UserId>,
}

/// A company's units and users.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    #[serde(default)]
    pub units: Vec<Unit>,
    pub users: Vec<Member>,
}

/// The money available to pay for an order with the chosen payment method.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Funds {
    /// Payment on account: the company's credit limit and what is already owed.
    Credit { limit: Money, open_balance: Money },
    /// A company card: what it can still take.
    Card { capacity: Money },
}

/// The order as approval routing sees it. Build it with [`OrderFacts::from_priced`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderFacts {
    pub total: Money,
    pub subtotal: Money,
    pub discount: Money,
    pub shipping: Money,
    pub tax: Money,
    pub sku_count: u32,
    pub quantity: u64,
    pub categories: Vec<CategoryId>,
    #[serde(default)]
    pub business_unit: Option<UnitId>,
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
    #[serde(default)]
    pub customer: Option<CustomerId>,
    #[serde(default)]
    pub customer_group: Option<GroupId>,
}

impl OrderFacts {
    /// The facts of a priced cart; the business unit, payment method and customer are added
    /// by the caller.
    pub fn from_priced(cart: &PricedCart) -> OrderFacts {
        let mut categories: Vec<CategoryId> = Vec::new();
        for line in &cart.lines {
            if !categories.contains(&line.category) {
                categories.push(line.category.clone());
            }
        }
        OrderFacts::with_categories(cart, categories)
    }

    /// [`OrderFacts::from_priced`] with the cart's distinct categories already found.
    pub(crate) fn with_categories(cart: &PricedCart, categories: Vec<CategoryId>) -> OrderFacts {
        OrderFacts {
            total: cart.total,
            subtotal: cart.subtotal,
            discount: cart.discount_amount(),
            shipping: cart.shipping,
            tax: cart.tax_total,
            sku_count: u32::try_from(cart.lines.len()).unwrap_or(u32::MAX),
            quantity: cart.lines.iter().map(|l| u64::from(l.quantity)).fold(0, u64::saturating_add),
            categories,
            business_unit: None,
            payment_method: None,
            customer: None,
            customer_group: None,
        }
    }
}

/// What the policy spent-so-far figures are: for each spending limit that applies to the
/// buyer, how much the buyer already spent in the limit's current period (from the server's
/// records).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spent {
    pub limit: LimitId,
    pub amount: Money,
}

/// One routing question: this order, by this buyer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRequest {
    pub buyer: UserId,
    pub order: OrderFacts,
    #[serde(default)]
    pub spent: Vec<Spent>,
    #[serde(default)]
    pub funds: Option<Funds>,
}

/// The overall answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    NoApprovalNeeded,
    ApprovalRequired,
    Blocked,
}

/// A rule that matched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleMatch {
    pub rule: RuleId,
    pub name: SharedStr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Money>,
    /// The comparisons of the rule's condition that held.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
}

/// Why a step is in the plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Because {
    Rule(RuleMatch),
    SpendingLimit {
        limit: LimitId,
        name: SharedStr,
        period: Period,
        limit_amount: Money,
        spent: Money,
    },
    Credit {
        funds: Funds,
    },
}

/// A rule, by id and name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRef {
    pub rule: RuleId,
    pub name: SharedStr,
}

/// Why a step went to someone other than its own approver, and to whom.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    /// The rule whose approver could not act (none for a spending limit or credit step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<RuleRef>,
    /// The higher threshold that took over; none when the policy's fallback approver did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<RuleRef>,
    pub reason: EscalationReason,
}

/// Why nobody at a level could approve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// The buyer is its only approver, and nobody approves their own order.
    BuyerIsOnlyApprover,
    /// Its approvers belong to business units that do not contain the order's.
    OutsideBusinessUnit,
    /// It names nobody: no one holds the role, or the buyer has no manager.
    NoApprover,
}

/// One approval the order needs. Any one of `candidates` may give it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanStep {
    pub approver: Approver,
    pub candidates: Vec<UserId>,
    pub because: Vec<Because>,
    /// Levels whose approvers could not act and that came to this step, lowest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalations: Vec<Escalation>,
}

/// Why an order cannot be placed as it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    SpendingLimit {
        limit: LimitId,
        name: SharedStr,
        period: Period,
        limit_amount: Money,
        spent: Money,
    },
    Credit {
        funds: Funds,
    },
    /// A step has no one who may approve it and there is no fallback.
    NoEligibleApprover {
        because: Vec<Because>,
    },
    /// The policy's thresholds are all in other currencies.
    NoThresholdInCurrency {
        currency: crate::money::Currency,
    },
    /// A limit in another currency than the order.
    LimitCurrency {
        limit: LimitId,
        name: SharedStr,
    },
}

/// The answer of approval routing: who must approve, in order, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovalPlan {
    pub verdict: Verdict,
    pub total: Money,
    pub mode: Mode,
    pub steps: Vec<PlanStep>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<Block>,
    /// The plan in sentences; empty until [`super::ApprovalContext::explained`] fills it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<String>,
}
