//! An order as the API shows it, and lists of orders.

use super::*;
use serde_json::value::RawValue;
use std::collections::{BTreeMap, HashMap};

/// An amount as stored: the decimal's text and the currency.
#[derive(Debug, Clone, Serialize)]
pub struct Amount {
    pub amount: String,
    pub currency: String,
}

/// Someone an approval step waits for.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: String,
    pub name: Option<String>,
}

/// One approval step of one round.
#[derive(Debug, Serialize)]
pub struct StepView {
    pub id: String,
    pub round: i64,
    pub index: i64,
    pub status: String,
    pub candidates: Vec<Person>,
    /// The rules and thresholds that put the step in the plan.
    pub because: Box<RawValue>,
    pub decided_by: Option<String>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<i64>,
    pub comment: Option<String>,
}

/// One state change.
#[derive(Debug, Serialize)]
pub struct HistoryView {
    pub at: i64,
    pub actor: Option<String>,
    pub actor_name: Option<String>,
    pub from: Option<String>,
    pub to: String,
    pub comment: Option<String>,
}

/// An order as the API shows it: its priced cart and plan with their explanations (stored as
/// JSON and passed through as they are), its approval steps and its history.
#[derive(Debug, Serialize)]
pub struct OrderView {
    pub id: String,
    /// The number people say and type ("order 1042"): unique across the seller, in the order
    /// orders were placed.
    pub number: i64,
    pub company_id: String,
    /// The customer company's name, for the seller's staff who see every customer's orders.
    pub company_name: String,
    pub buyer_id: String,
    pub buyer_name: String,
    pub business_unit_id: Option<String>,
    pub business_unit_name: Option<String>,
    pub state: String,
    pub total: Amount,
    pub payment_method: Option<String>,
    pub pricing_version: i64,
    pub policy_version: i64,
    pub revision: i64,
    pub round: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub priced: Box<RawValue>,
    /// The names of the order's products, by SKU, as the catalog it was priced with had them
    /// (a product since removed keeps its name here).
    pub product_names: BTreeMap<String, String>,
    pub plan: Box<RawValue>,
    pub steps: Vec<StepView>,
    pub history: Vec<HistoryView>,
    /// The workflow the order runs on and its instance (none for orders placed before orders
    /// ran on workflows).
    pub workflow: Option<workflow::WorkflowRef>,
    /// The manual transitions from the order's state, as the caller sees them.
    pub transitions: Vec<workflow::TransitionView>,
}

/// Stored JSON, passed through without parsing.
pub(super) fn raw(text: String) -> Result<Box<RawValue>, ApiError> {
    RawValue::from_string(text).map_err(ApiError::internal)
}

/// Loads an order as the API shows it to the caller.
pub async fn order_json(
    state: &AppState,
    id: &str,
    caller: &Caller,
) -> Result<OrderView, ApiError> {
    let r = db::query(
        "SELECT o.id, o.number, o.company_id, c.name AS company_name, o.buyer_id, u.name AS buyer_name, o.business_unit_id, b.name AS business_unit_name, o.state, o.currency, o.total, o.payment_method, o.pricing_version, o.policy_version, o.priced, o.plan, o.revision, o.round, o.created_at, o.updated_at, o.workflow_instance_id
         FROM orders o JOIN users u ON u.id = o.buyer_id JOIN companies c ON c.id = o.company_id LEFT JOIN business_units b ON b.id = o.business_unit_id
         WHERE o.id = $1",
    )
    .bind(id)
    .fetch_optional(&state.db.read)
    .await?
    .ok_or_else(|| ApiError::not_found("order"))?;
    let company_id: String = r.try_get("company_id")?;
    let names: HashMap<String, String> =
        db::query("SELECT id, name FROM users WHERE company_id = $1")
            .bind(&company_id)
            .fetch_all(&state.db.read)
            .await?
            .iter()
            .map(|u| Ok((u.try_get("id")?, u.try_get("name")?)))
            .collect::<Result<_, db::Error>>()?;
    let mut steps = Vec::new();
    for s in db::query(
        "SELECT s.id, s.round, s.step_index, s.status, s.candidates, s.reasons, s.decided_by, d.name AS decided_by_name, s.decided_at, s.comment
         FROM approval_steps s LEFT JOIN users d ON d.id = s.decided_by WHERE s.order_id = $1 ORDER BY s.round, s.step_index",
    )
    .bind(id)
    .fetch_all(&state.db.read)
    .await?
    {
        let candidates: Vec<String> = serde_json::from_str(&s.try_get::<String>("candidates")?)
            .map_err(ApiError::internal)?;
        steps.push(StepView {
            id: s.try_get("id")?,
            round: s.try_get("round")?,
            index: s.try_get("step_index")?,
            status: s.try_get("status")?,
            candidates: candidates
                .into_iter()
                .map(|c| Person { name: names.get(&c).cloned(), id: c })
                .collect(),
            because: raw(s.try_get("reasons")?)?,
            decided_by: s.try_get("decided_by")?,
            decided_by_name: s.try_get("decided_by_name")?,
            decided_at: s.try_get("decided_at")?,
            comment: s.try_get("comment")?,
        });
    }
    let history = db::query(
        "SELECT h.at, h.actor_id, a.name AS actor_name, h.from_state, h.to_state, h.comment FROM order_history h LEFT JOIN users a ON a.id = h.actor_id WHERE h.order_id = $1 ORDER BY h.at, h.id",
    )
    .bind(id)
    .fetch_all(&state.db.read)
    .await?
    .iter()
    .map(|h| -> Result<HistoryView, db::Error> {
        Ok(HistoryView {
            at: h.try_get("at")?,
            actor: h.try_get("actor_id")?,
            actor_name: h.try_get("actor_name")?,
            from: h.try_get("from_state")?,
            to: h.try_get("to_state")?,
            comment: h.try_get("comment")?,
        })
    })
    .collect::<Result<Vec<_>, _>>()?;
    let priced: String = r.try_get("priced")?;
    let product_names = product_names(state, r.try_get("pricing_version")?, &priced).await?;
    let instance_id: Option<String> = r.try_get("workflow_instance_id")?;
    let (workflow, transitions) =
        match workflow::OrderInstance::of_order(state, instance_id.as_deref()).await? {
            Some(oi) => {
                let (w, t) = workflow::describe(
                    &oi.workflow,
                    &oi.stored.id,
                    oi.stored.revision,
                    &oi.stored.instance,
                    caller,
                )?;
                (Some(w), t)
            }
            None => (None, Vec::new()),
        };
    Ok(OrderView {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        company_id,
        company_name: r.try_get("company_name")?,
        buyer_id: r.try_get("buyer_id")?,
        buyer_name: r.try_get("buyer_name")?,
        business_unit_id: r.try_get("business_unit_id")?,
        business_unit_name: r.try_get("business_unit_name")?,
        state: r.try_get("state")?,
        total: Amount { amount: r.try_get("total")?, currency: r.try_get("currency")? },
        payment_method: r.try_get("payment_method")?,
        pricing_version: r.try_get("pricing_version")?,
        policy_version: r.try_get("policy_version")?,
        revision: r.try_get("revision")?,
        round: r.try_get("round")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        priced: raw(priced)?,
        product_names,
        plan: raw(r.try_get("plan")?)?,
        steps,
        history,
        workflow,
        transitions,
    })
}

/// The names of the products of a priced cart (stored JSON), from the pricing data it was
/// priced with.
async fn product_names(
    state: &AppState,
    pricing_version: i64,
    priced: &str,
) -> Result<BTreeMap<String, String>, ApiError> {
    let lines = lines_of(priced)?;
    let pricing = catalog::at_version(state, Some(pricing_version)).await?;
    Ok(names_of(&pricing, lines.iter().map(|l| &l.sku)))
}

/// A line of a stored priced cart: what it orders.
#[derive(Debug, Deserialize)]
pub(super) struct LineOrdered {
    pub sku: rules::ids::Sku,
    pub quantity: u32,
}

/// The lines of a stored priced cart (JSON), without the rest.
pub(super) fn lines_of(priced: &str) -> Result<Vec<LineOrdered>, ApiError> {
    #[derive(Deserialize)]
    struct Priced {
        lines: Vec<LineOrdered>,
    }
    let priced: Priced = serde_json::from_str(priced).map_err(ApiError::internal)?;
    Ok(priced.lines)
}

/// The names of products in a catalog, by SKU.
pub(super) fn names_of<'a>(
    pricing: &PricingContext,
    skus: impl Iterator<Item = &'a rules::ids::Sku>,
) -> BTreeMap<String, String> {
    skus.filter_map(|sku| Some((sku.to_string(), pricing.product(sku)?.name.to_string()))).collect()
}

/// Whether the caller may see an order: its buyer, any user of its company, or the seller's
/// staff. Approvers and admins of the company see the company's orders.
pub(super) async fn visible_order(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(String, String, String, i64), ApiError> {
    let row = db::query("SELECT company_id, buyer_id, state, revision FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db.read)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    let company: String = row.try_get("company_id")?;
    if company != caller.company_id && !caller.seller {
        return Err(ApiError::not_found("order"));
    }
    Ok((company, row.try_get("buyer_id")?, row.try_get("state")?, row.try_get("revision")?))
}

/// `GET /api/orders/{id}`: by its id, or by its number (`/api/orders/1042`), so that the
/// number people say makes a link.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let id = match order_number(&id) {
        Some(number) => db::query("SELECT id FROM orders WHERE number = $1")
            .bind(number)
            .fetch_optional(&state.db.read)
            .await?
            .map(|r| r.try_get::<String>("id"))
            .transpose()?
            .ok_or_else(|| ApiError::not_found("order"))?,
        None => id,
    };
    let (_, buyer, _, _) = visible_order(&state, &caller, &id).await?;
    // A buyer without another role sees only their own orders.
    if !caller.seller && buyer != caller.user_id && !caller.roles.iter().any(|r| r != "buyer") {
        return Err(ApiError::not_found("order"));
    }
    Ok(Json(order_json(&state, &id, &caller).await?))
}

/// The order number `text` spells, if it is one: digits only (ids start with `ord_`).
fn order_number(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    /// Only the order with this number (among those the caller sees).
    #[serde(default)]
    pub number: Option<i64>,
    /// The `next` of the previous page: the orders placed before its last one.
    #[serde(default)]
    pub before: Option<String>,
}

/// The orders a caller may list, as a condition on `orders o` and its `$1`: a buyer's own; the
/// company's for its approvers and admins; every order for the seller's staff.
fn visible(caller: &Caller) -> (&'static str, &str) {
    if caller.seller {
        ("1 = 1 AND $1 = $1", "")
    } else if caller.roles.iter().any(|r| r != "buyer") {
        ("o.company_id = $1", caller.company_id.as_str())
    } else {
        ("o.buyer_id = $1", caller.user_id.as_str())
    }
}

/// `GET /api/orders/states`: the states of the orders the caller may list, each with how many
/// are in it, for the list's filter (workflows add states of their own, such as "shipped").
pub async fn states(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let (filter, scope) = visible(&caller);
    let sql = format!(
        "SELECT o.state, COUNT(*) AS n FROM orders o WHERE {filter} GROUP BY o.state ORDER BY o.state"
    );
    let states = db::query(db::AssertSqlSafe(sql))
        .bind(scope)
        .fetch_all(&state.db.read)
        .await?
        .iter()
        .map(|r| {
            Ok(json!({ "state": r.try_get::<String>("state")?, "count": r.try_get::<i64>("n")? }))
        })
        .collect::<Result<Vec<_>, db::Error>>()?;
    Ok(Json(json!({ "states": states })))
}

/// `GET /api/orders`: a buyer's own orders; the company's for its approvers and admins; every
/// order for the seller's staff. Newest first, a page at a time (`next` is the cursor of the
/// following page, null on the last); `number` finds one order by its number.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = page_size(q.limit);
    let before = q.before.as_deref().map(|b| Cursor::parse("before", b)).transpose()?;
    let (filter, scope) = visible(&caller);
    // A condition of its own, so that the number's index finds the order.
    let by_number = if q.number.is_some() { "o.number = $7" } else { "$7 = $7" };
    // One row more than the page, to know whether another page follows.
    let sql = format!(
        "SELECT o.id, o.number, o.state, o.total, o.currency, o.created_at, o.buyer_id, u.name AS buyer_name, c.name AS company_name
         FROM orders o JOIN users u ON u.id = o.buyer_id JOIN companies c ON c.id = o.company_id
         WHERE {filter} AND ($2 = '' OR o.state = $2)
           AND ($4 = 0 OR o.created_at < $5 OR (o.created_at = $5 AND o.id < $6))
           AND {by_number}
         ORDER BY o.created_at DESC, o.id DESC LIMIT $3"
    );
    let rows = db::query(db::AssertSqlSafe(sql))
        .bind(scope)
        .bind(q.state.unwrap_or_default())
        .bind(limit.saturating_add(1))
        .bind(i64::from(before.is_some()))
        .bind(before.as_ref().map_or(0, |c| c.at))
        .bind(before.map_or(String::new(), |c| c.id))
        .bind(q.number.unwrap_or_default())
        .fetch_all(&state.db.read)
        .await?;
    let (orders, next) = page(&rows, limit, |r| {
        let id: String = r.try_get("id")?;
        let created_at: i64 = r.try_get("created_at")?;
        let order = json!({
            "id": id,
            "number": r.try_get::<i64>("number")?,
            "state": r.try_get::<String>("state")?,
            "total": { "amount": r.try_get::<String>("total")?, "currency": r.try_get::<String>("currency")? },
            "created_at": created_at,
            "buyer_id": r.try_get::<String>("buyer_id")?,
            "buyer_name": r.try_get::<String>("buyer_name")?,
            "company_name": r.try_get::<String>("company_name")?,
        });
        Ok((Cursor { at: created_at, id }, Some(order)))
    })?;
    Ok(Json(json!({ "orders": orders, "next": next })))
}
