//! Countersign's rules engine.
//!
//! One crate decides everything about an order: what it costs ([`pricing`]), who must approve
//! it ([`approval`]) and what may happen to it next ([`workflow`]). The buyer's browser runs it
//! as WebAssembly for instant feedback and the server runs it natively for the authoritative
//! verdict; because both run this same code on the same data, they cannot disagree.
//!
//! That is why the crate is shaped the way it is:
//! - **Pure.** No I/O, no clock, no randomness, no global state: data and `now` come in as
//!   values, verdicts go out as values. Hash maps use a fixed hasher.
//! - **Exact.** Money is a `rust_decimal` amount with an ISO 4217 currency; rounding is
//!   explicit; currencies never mix silently.
//! - **Total.** No input makes it panic: the workspace denies `unwrap`, `expect`, `panic!`,
//!   indexing and unchecked arithmetic here. Bad input is an error value naming the problem.
//! - **Explained.** Every verdict carries its reasons as data; [`messages`] turns them into
//!   sentences, all in one place.
//! - **Prepared once, evaluated often.** Seller data, policies and workflows are validated
//!   and indexed into contexts ([`pricing::PricingContext`], [`approval::ApprovalContext`],
//!   [`workflow::Workflow`]); evaluating a cart against them does not re-validate.
#![deny(clippy::arithmetic_side_effects)]

pub mod approval;
pub mod condition;
pub mod decimal;
pub mod diagnostic;
pub mod ids;
pub mod messages;
pub mod money;
pub mod pricing;
pub mod sort;
pub mod time;
pub mod workflow;

use approval::{ApprovalContext, ApprovalPlan, Funds, OrderFacts, RouteError, Spent};
use ids::{PaymentMethod, UnitId, UserId};
use pricing::{Cart, PricedCart, PricingContext, PricingError};
use serde::{Deserialize, Serialize};

/// A cart at checkout, with what approval routing needs to know besides the prices.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    pub cart: Cart,
    pub buyer: UserId,
    #[serde(default)]
    pub business_unit: Option<UnitId>,
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
    #[serde(default)]
    pub spent: Vec<Spent>,
    #[serde(default)]
    pub funds: Option<Funds>,
}

/// The priced cart and its approval plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckoutVerdict {
    pub priced: PricedCart,
    pub facts: OrderFacts,
    pub plan: ApprovalPlan,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckoutError {
    Pricing(PricingError),
    Routing(RouteError),
}

impl std::error::Error for CheckoutError {}

impl std::fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckoutError::Pricing(e) => e.fmt(f),
            CheckoutError::Routing(e) => e.fmt(f),
        }
    }
}

impl CheckoutVerdict {
    /// The verdict with the explanations of the cart and the plan filled in.
    pub fn explained(
        self,
        pricing: &PricingContext,
        approval: &ApprovalContext,
    ) -> CheckoutVerdict {
        CheckoutVerdict {
            priced: pricing.explained(self.priced),
            facts: self.facts,
            plan: approval.explained(self.plan),
        }
    }
}

/// Prices a cart and routes it for approval: what the browser shows on every keystroke and
/// what the server decides on submission.
pub fn evaluate_checkout(
    pricing: &PricingContext,
    approval: &ApprovalContext,
    request: &CheckoutRequest,
) -> Result<CheckoutVerdict, CheckoutError> {
    let (priced, categories) =
        pricing.price_with_categories(&request.cart).map_err(CheckoutError::Pricing)?;
    let mut facts = OrderFacts::with_categories(&priced, categories);
    facts.business_unit = request.business_unit.clone();
    facts.payment_method = request.payment_method.clone();
    facts.customer = Some(request.cart.customer.id.clone());
    facts.customer_group = request.cart.customer.group.clone();
    let plan = approval
        .route_parts(&request.buyer, &facts, &request.spent, request.funds.as_ref())
        .map_err(CheckoutError::Routing)?;
    Ok(CheckoutVerdict { priced, facts, plan })
}
