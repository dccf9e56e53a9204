//! Checkout: the context the browser prices and routes from, the server's own preview, and
//! submission, where the server computes everything again and compares.

use super::{
    view::{Amount, HistoryView, OrderView, Person, StepView, names_of, raw},
    *,
};

#[derive(Debug, Deserialize)]
pub struct ContextQuery {
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
    /// The context for changing this order (its lines, its payment method unless another is
    /// named, and what the buyer spent without it) rather than for the cart.
    #[serde(default)]
    pub order: Option<String>,
}

/// `GET /api/checkout/context`: what the browser needs to price and route the cart itself:
/// the pricing data this customer may see, the company's policy and directory, what the buyer
/// already spent, and the versions to send back on submission.
pub async fn context(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ContextQuery>,
) -> Result<Json<Value>, ApiError> {
    let p = match &q.order {
        None => {
            let lines = cart_lines(&load_cart(&state, &caller.user_id).await?);
            prepare(&state, &caller, lines, q.payment_method, None).await?
        }
        Some(id) => {
            let (_, buyer, current_state, _) = visible_order(&state, &caller, id).await?;
            change::may_change(&caller, &buyer, &current_state)?;
            let order = db::query(
                "SELECT cart, payment_method, total_minor, currency, created_at FROM orders WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&state.db.read)
            .await?;
            let replaced = Replaced::of(&order, &current_state)?;
            let lines: Vec<LineInput> = serde_json::from_str(&order.try_get::<String>("cart")?)
                .map_err(ApiError::internal)?;
            let stored: Option<String> = order.try_get("payment_method")?;
            let payment_method = match q.payment_method {
                Some(named) => Some(named),
                None => stored
                    .map(|m| PaymentMethod::parse(&m))
                    .transpose()
                    .map_err(ApiError::internal)?,
            };
            prepare(&state, &caller, cart_lines(&lines), payment_method, Some(&replaced)).await?
        }
    };
    let visible =
        catalog::visible_to(p.pricing.data(), &p.company.id, p.company.customer_group.as_deref());
    Ok(Json(json!({
        "pricing_version": p.pricing_version,
        "policy_version": p.policy_version,
        "pricing": visible,
        "policy": p.approval.policy(),
        "directory": p.approval.directory(),
        "request": p.request,
    })))
}

/// `GET /api/checkout/preview`: the server's own pricing and route of the cart (for clients
/// that do not run the engine themselves).
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ContextQuery>,
) -> Result<Json<Value>, ApiError> {
    let lines = cart_lines(&load_cart(&state, &caller.user_id).await?);
    let p = prepare(&state, &caller, lines, q.payment_method, None).await?;
    let verdict = evaluate(&p)?;
    Ok(Json(
        json!({ "pricing_version": p.pricing_version, "policy_version": p.policy_version, "verdict": verdict }),
    ))
}

/// What the client showed the buyer, sent back on submission.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claimed {
    pub pricing_version: i64,
    pub policy_version: i64,
    pub total: Money,
    pub lines: Vec<ClaimedLine>,
    /// The candidates of each approval step, in order.
    pub approvers: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimedLine {
    pub sku: Sku,
    pub quantity: u32,
    pub unit_price: Money,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Any text of 1 to 100 characters, unique per attempt to order: a retry with the same key
    /// returns the same order.
    pub idempotency_key: String,
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
    pub claimed: Claimed,
}

/// Where the client's claims differ from the server's computation.
fn differences(claimed: &Claimed, p: &Prepared, verdict: &CheckoutVerdict) -> Vec<Value> {
    let mut out = Vec::new();
    let mut differ = |field: String, claimed: Value, server: Value, message: &str| {
        out.push(
            json!({ "field": field, "claimed": claimed, "server": server, "message": message }),
        );
    };
    if claimed.pricing_version != p.pricing_version {
        differ(
            "claimed.pricing_version".into(),
            json!(claimed.pricing_version),
            json!(p.pricing_version),
            "the prices changed since the page was loaded",
        );
    }
    if claimed.policy_version != p.policy_version {
        differ(
            "claimed.policy_version".into(),
            json!(claimed.policy_version),
            json!(p.policy_version),
            "the approval policy changed since the page was loaded",
        );
    }
    if claimed.total != verdict.priced.total {
        differ(
            "claimed.total".into(),
            json!(claimed.total),
            json!(verdict.priced.total),
            "the total differs",
        );
    }
    let lines = &verdict.priced.lines;
    if claimed.lines.len() != lines.len() {
        differ(
            "claimed.lines".into(),
            json!(claimed.lines.len()),
            json!(lines.len()),
            "the number of lines differs",
        );
    }
    for (i, (c, s)) in claimed.lines.iter().zip(lines).enumerate() {
        if c.sku != s.sku || c.quantity != s.quantity {
            differ(
                format!("claimed.lines[{i}]"),
                json!({ "sku": c.sku, "quantity": c.quantity }),
                json!({ "sku": s.sku, "quantity": s.quantity }),
                "the line differs from the cart",
            );
        } else if c.unit_price != s.unit_price {
            differ(
                format!("claimed.lines[{i}].unit_price"),
                json!(c.unit_price),
                json!(s.unit_price),
                "the unit price differs",
            );
        }
    }
    let server_approvers: Vec<Vec<String>> = verdict
        .plan
        .steps
        .iter()
        .map(|s| s.candidates.iter().map(ToString::to_string).collect())
        .collect();
    if claimed.approvers != server_approvers {
        differ(
            "claimed.approvers".into(),
            json!(claimed.approvers),
            json!(server_approvers),
            "the approval route differs",
        );
    }
    out
}

/// `POST /api/orders`: submits the cart.
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Submission>,
) -> Result<(StatusCode, Json<OrderView>), ApiError> {
    require_buyer(&caller)?;
    let key = body.idempotency_key.trim();
    if key.is_empty() || key.chars().count() > 100 {
        return Err(ApiError::invalid(
            "idempotency_key",
            "an idempotency key of 1 to 100 characters is required",
        ));
    }
    let request_hash = sha256_hex(&serde_json::to_string(&body).map_err(ApiError::internal)?);
    let (lines, earlier) = cart_and_key(&state, &caller.user_id, key).await?;
    if let Some(earlier) = earlier {
        let existing = same_request(earlier, &request_hash)?;
        return Ok((StatusCode::OK, Json(order_json(&state, &existing, &caller).await?)));
    }
    if lines.is_empty() {
        return Err(ApiError::invalid("cart", "the cart is empty"));
    }
    let p = prepare(&state, &caller, cart_lines(&lines), body.payment_method.clone(), None).await?;
    let verdict = evaluate(&p)?;
    let diffs = differences(&body.claimed, &p, &verdict);
    if !diffs.is_empty() {
        return Err(ApiError::conflict("stale_or_forged", "the order was not placed: what was shown differs from the server's computation")
            .with_details(json!({
                "differences": diffs,
                "server": { "pricing_version": p.pricing_version, "policy_version": p.policy_version, "verdict": verdict },
            })));
    }
    if verdict.plan.verdict == Verdict::Blocked {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "blocked",
            verdict.plan.explanation.join(" "),
        )
        .with_details(json!({ "plan": verdict.plan })));
    }
    let begun = workflow::begin_order(&state, &p, &verdict, now()).await?;
    match place(&state, &caller, key, &request_hash, &p, &verdict, &lines, &begun).await? {
        Some(order) => Ok((StatusCode::CREATED, Json(order))),
        None => {
            // A concurrent submission with the same key placed the order first.
            let earlier = cart_and_key(&state, &caller.user_id, key).await?.1;
            let existing = same_request(
                earlier.ok_or_else(|| ApiError::internal("a unique key without its row"))?,
                &request_hash,
            )?;
            Ok((StatusCode::OK, Json(order_json(&state, &existing, &caller).await?)))
        }
    }
}

/// An earlier submission with the same key: its request's hash and its order.
struct Earlier {
    request_hash: String,
    order_id: String,
}

/// The buyer's cart and the submission with this key, if any, in one query.
async fn cart_and_key(
    state: &AppState,
    user_id: &str,
    key: &str,
) -> Result<(Vec<LineInput>, Option<Earlier>), ApiError> {
    let row = db::query(
        "SELECT c.lines, k.request_hash, k.order_id FROM (SELECT 1 AS one) x
         LEFT JOIN carts c ON c.user_id = $1
         LEFT JOIN idempotency_keys k ON k.user_id = $1 AND k.idempotency_key = $2",
    )
    .bind(user_id)
    .bind(key)
    .fetch_one(&state.db.read)
    .await?;
    let lines = match row.try_get::<Option<String>>("lines")? {
        Some(text) => serde_json::from_str(&text).map_err(ApiError::internal)?,
        None => Vec::new(),
    };
    let earlier = match (row.try_get("request_hash")?, row.try_get("order_id")?) {
        (Some(request_hash), Some(order_id)) => Some(Earlier { request_hash, order_id }),
        _ => None,
    };
    Ok((lines, earlier))
}

/// The order of an earlier submission with the same key, if it was the same request: the
/// same key with another request is refused.
fn same_request(earlier: Earlier, request_hash: &str) -> Result<String, ApiError> {
    if earlier.request_hash == request_hash {
        Ok(earlier.order_id)
    } else {
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this idempotency key was used for another request",
        )
        .with_field("idempotency_key"))
    }
}

/// Stores the order, its workflow instance, its key, its approval steps, its history and the
/// notifications and mail it causes, and empties the cart, in one transaction. Answers the
/// order as the API shows it, built from what was written; `None` when a concurrent submission
/// with the same key won.
#[expect(clippy::too_many_arguments, reason = "one submission's whole context")]
async fn place(
    state: &AppState,
    caller: &Caller,
    key: &str,
    request_hash: &str,
    p: &Prepared,
    verdict: &CheckoutVerdict,
    lines: &[LineInput],
    begun: &workflow::Begun,
) -> Result<Option<OrderView>, ApiError> {
    let order_id = new_id("ord");
    let at = now().millis();
    // The order's state is its instance's, after the plan's event.
    let state_name = begun.instance.state.as_str();
    let needs_approval = !verdict.plan.steps.is_empty();
    let priced = to_json(&verdict.priced)?;
    let plan = to_json(&verdict.plan)?;
    let total = verdict.priced.total;
    let payment_method = p.request.payment_method.as_ref().map(ToString::to_string);
    let cart = to_json(&lines)?;
    let facts = to_json(&verdict.facts)?;
    let total_minor = minor_units(total)?;
    let steps = new_round(&verdict.plan)?;
    let batch = Batch::new();
    let instance = begun.prepare(state, &p.company.id, &order_id, &caller.user_id).await?;
    // Every statement inserts rows of the new order (and empties the cart): they can go as
    // one (see `Batch::run_alone`).
    let placed = batch
        .run_numbered(&state.db.write, |number, batch| {
            instance.push(batch);
            batch.push(
                "INSERT INTO orders (id, number, company_id, buyer_id, business_unit_id, state, currency, total, total_minor, payment_method, pricing_version, policy_version, cart, priced, facts, plan, revision, round, created_at, updated_at, workflow_instance_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
                params![
                    &order_id,
                    number,
                    &p.company.id,
                    &caller.user_id,
                    caller.unit_id.as_deref(),
                    state_name,
                    total.currency().code(),
                    total.amount().to_string(),
                    total_minor,
                    payment_method.clone(),
                    p.pricing_version,
                    p.policy_version,
                    &cart,
                    &priced,
                    &facts,
                    &plan,
                    1,
                    1,
                    at,
                    at,
                    &begun.id
                ],
            );
            // A concurrent submission with the same key fails here (the second waits for the
            // first to commit, then hits the unique key), and its transaction leaves nothing.
            batch.push(
                "INSERT INTO idempotency_keys (user_id, idempotency_key, request_hash, order_id, created_at) VALUES ($1, $2, $3, $4, $5)",
                params![&caller.user_id, key, request_hash, &order_id, at],
            );
            instance.notify(batch, number);
            insert_round(batch, &order_id, 1, &steps);
            let submitted =
                history(batch, &order_id, Some(&caller.user_id), None, state_name, Some("submitted"));
            let order = Placed { id: &order_id, number, total };
            if needs_approval {
                tell_approvers(batch, first_candidates(&steps), order, &caller.name);
            } else {
                notify(
                    batch,
                    Notice {
                        user_id: &caller.user_id,
                        kind: "order_approved",
                        title: format!("Order {number} placed ({total})"),
                        body: format!(
                            "Your order {number} for {total} needs no approval and is placed."
                        ),
                        order_id: Some(&order_id),
                    },
                );
            }
            // Emptied, not deleted: the row keeps its writer's count, so a save sent before
            // the submission and arriving after it cannot bring the ordered lines back.
            batch.push(
                "UPDATE carts SET lines = '[]', updated_at = $2 WHERE user_id = $1",
                params![&caller.user_id, at],
            );
            (number, submitted)
        })
        .await;
    let (number, submitted) = match placed {
        Ok(placed) => placed,
        // Ids are fresh and numbers unique, so the only unique key this can break is the
        // idempotency key.
        Err(e) if e.is_unique_violation() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let (workflow, transitions) =
        workflow::describe(&begun.workflow, &begun.id, 1, &begun.instance, caller)?;
    let directory = p.approval.directory();
    let name_of =
        |id: &str| directory.users.iter().find(|u| u.id.as_str() == id).map(|u| u.name.to_string());
    let steps = steps
        .into_iter()
        .map(|s| -> Result<StepView, ApiError> {
            Ok(StepView {
                id: s.id,
                round: 1,
                index: s.index,
                status: s.status.to_owned(),
                candidates: s
                    .candidates
                    .into_iter()
                    .map(|id| Person { name: name_of(&id), id })
                    .collect(),
                because: raw(s.because)?,
                decided_by: None,
                decided_by_name: None,
                decided_at: None,
                comment: None,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(OrderView {
        id: order_id,
        number,
        company_id: p.company.id.clone(),
        company_name: p.company.name.clone(),
        buyer_id: caller.user_id.clone(),
        buyer_name: caller.name.clone(),
        business_unit_id: caller.unit_id.clone(),
        business_unit_name: caller.unit_id.as_deref().and_then(|unit| {
            directory.units.iter().find(|u| u.id.as_str() == unit).map(|u| u.name.to_string())
        }),
        state: state_name.to_owned(),
        total: Amount {
            amount: total.amount().to_string(),
            currency: total.currency().code().to_owned(),
        },
        payment_method,
        pricing_version: p.pricing_version,
        policy_version: p.policy_version,
        revision: 1,
        round: 1,
        created_at: at,
        updated_at: at,
        priced: raw(priced)?,
        product_names: names_of(&p.pricing, verdict.priced.lines.iter().map(|l| &l.sku)),
        plan: raw(plan)?,
        steps,
        history: vec![HistoryView {
            at: submitted,
            actor: Some(caller.user_id.clone()),
            actor_name: Some(caller.name.clone()),
            from: None,
            to: state_name.to_owned(),
            comment: Some("submitted".to_owned()),
        }],
        workflow: Some(workflow),
        transitions,
    }))
}
