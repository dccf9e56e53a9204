//! Carts, checkout and orders.
//!
//! The browser prices and routes the cart itself (with `rules`, on the data of
//! `GET /api/checkout/context`) and shows the result as the buyer types. On submission the
//! server computes everything again from its own data and compares: if the client's version,
//! lines, total or approval route differ, it answers 409 with its own computation and stores
//! nothing. A submission carries an idempotency key: a retry returns the same order.
//!
//! - `cart`: the server-side cart of each buyer;
//! - `checkout`: the context the browser computes from, the server's preview, submission;
//! - `view`: an order as the API shows it, and lists of orders;
//! - `change`: the buyer changes an order (the drift check);
//! - `approvals`: the approver's queue and decisions;
//! - `workflow`: the workflow each order runs on (its state is the instance's state).

mod approvals;
mod cart;
mod change;
mod checkout;
mod view;
pub mod workflow;

pub use approvals::{
    Decision, DecisionInput, HandoverInput, QueueQuery, decide, hand_over, queue, remind,
    run_reminders, waiting,
};
pub use cart::{CartInput, LineInput, get_cart, put_cart};
use cart::{cart_lines, load_cart};
pub use change::{Change, change};
pub use checkout::{Claimed, ClaimedLine, ContextQuery, Submission, context, preview, submit};
use view::visible_order;
pub use view::{ListQuery, get, list, order_json, states};
pub use workflow::{OrderTransitionInput, fire};

use crate::params;
use crate::{
    AppState,
    auth::Caller,
    catalog,
    companies::{self, Company},
    db::{self, Batch, insert_rows},
    error::{ApiError, Json, Path, Query},
    notifications::{Notice, notify, notify_each},
    paging::{page, page_size},
    seed,
    util::{new_id, now, sha256_hex},
};
use axum::{extract::State, http::StatusCode};
use rules::{
    CheckoutRequest, CheckoutVerdict,
    approval::{
        ApprovalContext, ApprovalPlan, Funds, OrderFacts, Period, Snapshot, Spent, Verdict, drift,
    },
    decimal::parse_decimal,
    ids::{PaymentMethod, Sku, UnitId, UserId},
    money::{Currency, Money},
    pricing::{Cart, CartLine, CustomerRef, PricedCart, PricingContext},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::{collections::BTreeMap, sync::Arc};

/// Where a page of a list ends: the last item's time and id, written `"{at}:{id}"`. The next
/// page starts after it, so items added or removed meanwhile neither repeat nor go missing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    at: i64,
    id: String,
}

impl Cursor {
    /// Reads the cursor of the query parameter `field`, as a previous page gave it.
    fn parse(field: &str, text: &str) -> Result<Cursor, ApiError> {
        text.split_once(':')
            .and_then(|(at, id)| Some(Cursor { at: at.parse().ok()?, id: id.to_owned() }))
            .filter(|c| !c.id.is_empty())
            .ok_or_else(|| {
                ApiError::invalid(field, "not a cursor: pass the \"next\" of the previous page")
            })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.at, self.id)
    }
}

/// The states of the built-in order workflow (`workflows/default-order.json`) that the order
/// code knows by name: a change is allowed in these, and a rejected order's total does not
/// count against the buyer's spending limits.
pub const AWAITING_APPROVAL: &str = "awaiting_approval";
pub const APPROVED: &str = "approved";
pub const REJECTED: &str = "rejected";

/// Everything a checkout is computed from.
struct Prepared {
    company: Company,
    pricing_version: i64,
    pricing: Arc<PricingContext>,
    policy_version: i64,
    approval: Arc<ApprovalContext>,
    request: CheckoutRequest,
    /// Keys the cache of the order workflows to choose from.
    published_workflows: i64,
}

fn require_buyer(caller: &Caller) -> Result<(), ApiError> {
    if caller.seller {
        return Err(ApiError::forbidden("only a customer's buyers order"));
    }
    caller.require_any(&["buyer"])
}

fn id_of<T>(parse: fn(&str) -> Result<T, rules::ids::IdError>, value: &str) -> Result<T, ApiError> {
    parse(value).map_err(ApiError::internal)
}

/// An order's total in minor units, as stored for the spending limits' sums.
fn minor_units(total: Money) -> Result<i64, ApiError> {
    total.to_minor_units().ok_or_else(|| {
        ApiError::invalid("lines", format!("a total of {total} is too large to order"))
    })
}

/// The periods of spending limits, in the order `companies::load_for_checkout` sums them.
const PERIODS: [Period; 5] =
    [Period::Day, Period::Week, Period::Month, Period::Quarter, Period::Year];

/// The first instant of the period (UTC) that contains `at`. Weeks start on Monday.
fn period_start(period: Period, at: rules::time::Timestamp) -> i64 {
    let today = at.date();
    let (y, m, _) = today.ymd();
    let first = |y: i32, m: u32| rules::time::Date::from_ymd(y, m, 1).unwrap_or(today);
    let day = match period {
        Period::Day => today,
        Period::Week => rules::time::Timestamp::from_millis(
            today.start().millis() - i64::from(today.weekday()) * companies::DAY_MS,
        )
        .date(),
        Period::Month => first(y, m),
        Period::Quarter => first(y, (m - 1) / 3 * 3 + 1),
        Period::Year => first(y, 1),
    };
    day.start().millis()
}

/// An order that a change (or a reroute) replaces, as the spending limits' sums count it: its
/// total was added on the day it was placed, unless it was rejected.
struct Replaced {
    total_minor: i64,
    currency: String,
    day: i64,
    counted: bool,
}

/// What routing an order of one buyer of a company reads from the server's current data: the
/// company, the versions in force, the current approval context (policy and directory), what
/// the buyer spent in the period of each spending limit, and the funds an invoice order draws on.
struct Routing {
    company: Company,
    pricing_version: Option<i64>,
    policy_version: i64,
    approval: Arc<ApprovalContext>,
    currency: Currency,
    spent: Vec<Spent>,
    funds: Option<Funds>,
    /// Keys the cache of the order workflows to choose from.
    published_workflows: i64,
}

/// Loads what routing an order of `buyer` in `company_id` reads, as it is at `at`. For an
/// existing order (a change, a reroute), `replacing` is that order: what it counts in the spent
/// sums is taken out, or it would be measured against a budget that already holds itself.
async fn load_routing(
    state: &AppState,
    company_id: &str,
    buyer: &str,
    payment_method: Option<&PaymentMethod>,
    replacing: Option<&Replaced>,
    at: rules::time::Timestamp,
) -> Result<Routing, ApiError> {
    let starts = PERIODS.map(|period| period_start(period, at));
    let companies::ForCheckout {
        company,
        pricing_version,
        policy_version,
        published_workflows,
        spent_minor,
    } = companies::load_for_checkout(state, company_id, buyer, starts)
        .await?
        .ok_or_else(|| ApiError::not_found("company"))?;
    let approval = companies::approval_context(state, &company, policy_version).await?;
    let currency = Currency::from_code(&company.currency).map_err(ApiError::internal)?;
    let mut spent = Vec::new();
    for limit in &approval.policy().spending_limits {
        let (minor, start) = PERIODS
            .iter()
            .zip(spent_minor.into_iter().zip(starts))
            .find(|(p, _)| **p == limit.period)
            .map_or((0, 0), |(_, found)| found);
        let minor = match replacing {
            Some(r)
                if r.counted
                    && r.currency == company.currency
                    && r.day >= start.div_euclid(companies::DAY_MS) =>
            {
                minor.saturating_sub(r.total_minor)
            }
            _ => minor,
        };
        spent.push(Spent {
            limit: limit.id.clone(),
            amount: Money::from_minor_units(minor, currency)
                .ok_or_else(|| ApiError::internal("the amount spent is out of range"))?,
        });
    }
    let funds = match (payment_method.map(PaymentMethod::as_str), &company.credit_limit) {
        (Some("invoice"), Some(limit)) => Some(Funds::Credit {
            limit: Money::new(parse_decimal(limit).map_err(ApiError::internal)?, currency),
            open_balance: Money::new(
                parse_decimal(&company.open_balance).map_err(ApiError::internal)?,
                currency,
            ),
        }),
        _ => None,
    };
    Ok(Routing {
        company,
        pricing_version,
        policy_version,
        approval,
        currency,
        spent,
        funds,
        published_workflows,
    })
}

/// Prices and routes `lines` for the caller from the server's own data. For a change of an
/// order, `replacing` is that order (see [`load_routing`]).
async fn prepare(
    state: &AppState,
    caller: &Caller,
    lines: Vec<CartLine>,
    payment_method: Option<PaymentMethod>,
    replacing: Option<&Replaced>,
) -> Result<Prepared, ApiError> {
    require_buyer(caller)?;
    let at = now();
    let Routing {
        company,
        pricing_version,
        policy_version,
        approval,
        currency,
        spent,
        funds,
        published_workflows,
    } = load_routing(
        state,
        &caller.company_id,
        &caller.user_id,
        payment_method.as_ref(),
        replacing,
        at,
    )
    .await?;
    let pricing = catalog::at_version(state, pricing_version).await?;
    let pricing_version = pricing_version.unwrap_or_default();
    let request = CheckoutRequest {
        cart: cart_of(&company, currency, at, lines)?,
        buyer: id_of(UserId::parse, &caller.user_id)?,
        business_unit: caller.unit_id.as_deref().map(|u| id_of(UnitId::parse, u)).transpose()?,
        payment_method,
        spent,
        funds,
    };
    Ok(Prepared {
        company,
        pricing_version,
        pricing,
        policy_version,
        approval,
        request,
        published_workflows,
    })
}

/// A cart of `lines` for a buyer of `company`, in `currency`, priced on the day of `at`.
fn cart_of(
    company: &Company,
    currency: Currency,
    at: rules::time::Timestamp,
    lines: Vec<CartLine>,
) -> Result<Cart, ApiError> {
    let customer = CustomerRef {
        id: id_of(rules::ids::CustomerId::parse, &company.id)?,
        group: company
            .customer_group
            .as_deref()
            .map(|g| id_of(rules::ids::GroupId::parse, g))
            .transpose()?,
        country: rules::pricing::Country::parse(&company.country).map_err(ApiError::internal)?,
        region: company.region.as_deref().map(|r| id_of(UnitId::parse, r)).transpose()?,
    };
    Ok(Cart {
        currency,
        date: at.date(),
        customer,
        lines,
        negotiated: vec![],
        discount: None,
        shipping: None,
    })
}

/// An empty cart of the caller, a buyer, as checkout would price it now (its customer,
/// currency and date): for the prices the catalog shows. Reads only the company, not what
/// routing needs, as the catalog asks on every search.
pub(crate) async fn buyer_cart(state: &AppState, caller: &Caller) -> Result<Cart, ApiError> {
    require_buyer(caller)?;
    let company = companies::load(state, &caller.company_id)
        .await?
        .ok_or_else(|| ApiError::not_found("company"))?;
    let currency = Currency::from_code(&company.currency).map_err(ApiError::internal)?;
    cart_of(&company, currency, now(), vec![])
}

fn evaluate(p: &Prepared) -> Result<CheckoutVerdict, ApiError> {
    rules::evaluate_checkout(&p.pricing, &p.approval, &p.request)
        .map(|v| v.explained(&p.pricing, &p.approval))
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "cannot_price", e.to_string()))
}

/// An approval step as written.
struct NewStep {
    id: String,
    index: i64,
    status: &'static str,
    candidates: Vec<String>,
    /// `candidates` as stored JSON.
    candidates_json: String,
    /// The rules and thresholds behind the step, as stored JSON.
    because: String,
}

/// Inserts the steps of a new round of approval, in one statement; the first is pending.
fn start_round(
    batch: &mut Batch,
    order_id: &str,
    round: i64,
    plan: &ApprovalPlan,
) -> Result<Vec<NewStep>, ApiError> {
    let steps = new_round(plan)?;
    insert_round(batch, order_id, round, &steps);
    Ok(steps)
}

/// The steps of a new round of approval of `plan`; the first is pending.
fn new_round(plan: &ApprovalPlan) -> Result<Vec<NewStep>, ApiError> {
    plan.steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let candidates: Vec<String> = step.candidates.iter().map(ToString::to_string).collect();
            Ok(NewStep {
                id: new_id("stp"),
                index: i64::try_from(i).unwrap_or(i64::MAX),
                status: if i == 0 { "pending" } else { "waiting" },
                candidates_json: to_json(&candidates)?,
                candidates,
                because: to_json(&step.because)?,
            })
        })
        .collect()
}

/// Inserts `steps` as round `round` of the order's approval, in one statement.
fn insert_round(batch: &mut Batch, order_id: &str, round: i64, steps: &[NewStep]) {
    if steps.is_empty() {
        return;
    }
    let sql = insert_rows(
        "approval_steps",
        &[
            "id",
            "order_id",
            "round",
            "step_index",
            "status",
            "candidates",
            "reasons",
            "pending_since",
        ],
        steps.len(),
    );
    let at = now().millis();
    let mut params = Vec::with_capacity(steps.len().saturating_mul(8));
    for step in steps {
        params.extend(crate::params![
            &step.id,
            order_id,
            round,
            step.index,
            step.status,
            &step.candidates_json,
            &step.because,
            (step.status == "pending").then_some(at)
        ]);
    }
    batch.push(sql, params);
}

/// The candidates of the first step of a round.
fn first_candidates(steps: &[NewStep]) -> &[String] {
    steps.first().map(|s| s.candidates.as_slice()).unwrap_or_default()
}

/// Adds one state change of an order to the batch; answers its time.
fn history(
    batch: &mut Batch,
    order_id: &str,
    actor: Option<&str>,
    from: Option<&str>,
    to: &str,
    comment: Option<&str>,
) -> i64 {
    let at = now().millis();
    batch.push(
        "INSERT INTO order_history (id, order_id, at, actor_id, from_state, to_state, comment) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        crate::params![new_id("hst"), order_id, at, actor, from, to, comment],
    );
    at
}

/// Tells a step's candidates that an order waits for them.
fn tell_approvers(batch: &mut Batch, candidates: &[String], order: Placed<'_>, buyer: &str) {
    let Placed { id, number, total } = order;
    let title = format!("Approval needed: order {number} ({total})");
    let body = format!("{buyer} placed order {number} for {total}, and it needs your approval.");
    notify_each(batch, candidates, "approval_needed", (title, body), Some(id));
}

/// What a notification about an order says of it: its number and total (and links its id).
#[derive(Clone, Copy, Debug)]
struct Placed<'a> {
    id: &'a str,
    number: i64,
    total: Money,
}

fn to_json<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}
