//! The buyer changes an order: priced and routed again, and the drift check decides whether
//! it needs approval again.

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub lines: Vec<LineInput>,
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
    /// The revision the buyer edited.
    pub revision: i64,
}

/// Whether `caller` may change an order of `buyer` in `state`: only its buyer, and only while
/// it awaits approval, was rejected or approved.
pub(super) fn may_change(caller: &Caller, buyer: &str, state: &str) -> Result<(), ApiError> {
    if buyer != caller.user_id {
        return Err(ApiError::forbidden("only the order's buyer changes it"));
    }
    if ![AWAITING_APPROVAL, REJECTED, APPROVED].contains(&state) {
        return Err(ApiError::conflict(
            "not_changeable",
            format!("an order that is {state} cannot be changed"),
        ));
    }
    Ok(())
}

impl Replaced {
    /// What changing an order replaces, from its row (`total_minor`, `currency`, `created_at`):
    /// its amount no longer counts against the buyer's spending limits (a rejected order's
    /// never did).
    pub(super) fn of(order: &db::Row, state: &str) -> Result<Replaced, ApiError> {
        Ok(Replaced {
            total_minor: order.try_get("total_minor")?,
            currency: order.try_get("currency")?,
            day: order.try_get::<i64>("created_at")?.div_euclid(companies::DAY_MS),
            counted: state != REJECTED,
        })
    }
}

/// `PUT /api/orders/{id}`: the buyer changes an order that is awaiting approval, rejected or
/// approved. It is priced and routed again; an approved order stays approved only if the
/// change needs no new approval (the drift check); otherwise a new round of approval starts.
/// The order's workflow gets the new fields and the plan's event (`approval.required` or
/// `approval.not_required`), then `order.updated` if that moved nothing, and the order's state
/// is where it goes; a workflow that does not route a change needing approval to approval
/// refuses the change.
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Change>,
) -> Result<Json<view::OrderView>, ApiError> {
    let (_, buyer, current_state, revision) = visible_order(&state, &caller, &id).await?;
    may_change(&caller, &buyer, &current_state)?;
    if revision != body.revision {
        return Err(ApiError::conflict("order_changed", "the order changed meanwhile; reload it")
            .with_field("revision"));
    }
    if body.lines.is_empty() {
        return Err(ApiError::invalid("lines", "an order needs at least one line"));
    }
    cart::check_lines(&body.lines, &catalog::current(&state).await?.1)?;
    let old = db::query(
        "SELECT number, priced, facts, plan, round, workflow_instance_id, total_minor, currency, created_at
         FROM orders WHERE id = $1",
    )
    .bind(&id)
    .fetch_one(&state.db.read)
    .await?;
    let replaced = Replaced::of(&old, &current_state)?;
    let lines = cart_lines(&body.lines);
    let p = prepare(&state, &caller, lines, body.payment_method.clone(), Some(&replaced)).await?;
    let verdict = evaluate(&p)?;
    if verdict.plan.verdict == Verdict::Blocked {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "blocked",
            verdict.plan.explanation.join(" "),
        )
        .with_details(json!({ "plan": verdict.plan })));
    }
    let old_priced: PricedCart =
        serde_json::from_str(&old.try_get::<String>("priced")?).map_err(ApiError::internal)?;
    let old_facts: OrderFacts =
        serde_json::from_str(&old.try_get::<String>("facts")?).map_err(ApiError::internal)?;
    let old_plan: ApprovalPlan =
        serde_json::from_str(&old.try_get::<String>("plan")?).map_err(ApiError::internal)?;
    let round: i64 = old.try_get("round")?;
    let instance_id: Option<String> = old.try_get("workflow_instance_id")?;
    let d = drift(
        &Snapshot::new(&old_priced, old_facts, old_plan),
        &Snapshot::new(&verdict.priced, verdict.facts.clone(), verdict.plan.clone()),
    );
    let stays_approved = current_state == APPROVED && !d.reapproval_required;
    let needs_approval = !stays_approved && !verdict.plan.steps.is_empty();
    let at = now().millis();
    let order_instance = workflow::OrderInstance::of_order(&state, instance_id.as_deref()).await?;
    let moved = match &order_instance {
        Some(oi) => {
            let fields = p
                .approval
                .order_fields(&verdict.facts, &p.request.buyer)
                .map_err(|e| ApiError::internal(e.to_string()))?;
            let at = rules::time::Timestamp::from_millis(at);
            let (fired, instance) = if stays_approved {
                // Nothing to decide: the fields change, the state stays.
                oi.send_fields(fields)
            } else {
                oi.send(workflow::plan_event(needs_approval), Some(fields), at)?
            };
            workflow::check_routes_approval(
                &oi.workflow,
                &oi.stored.instance.state,
                needs_approval,
                fired.as_ref(),
            )
            .map_err(|e| ApiError { status: StatusCode::CONFLICT, ..e })?;
            // No approval step moved it: the workflow may still react to the change itself.
            let (fired, instance) = match fired {
                None => match oi
                    .workflow
                    .on_event(&instance, workflow::events::UPDATED, at)
                    .map_err(|e| crate::instances::refused(&e))?
                {
                    Some(f) => {
                        let next = f.instance.clone();
                        (Some(f), next)
                    }
                    None => (None, instance),
                },
                some => (some, instance),
            };
            Some((fired, instance))
        }
        None => None,
    };
    let new_state: String = match &moved {
        Some((_, instance)) => instance.state.to_string(),
        // Orders placed before orders ran on workflows keep the fixed flow.
        None if stays_approved || verdict.plan.steps.is_empty() => APPROVED.to_owned(),
        None => AWAITING_APPROVAL.to_owned(),
    };
    let new_state = new_state.as_str();
    let new_round = if stays_approved { round } else { round.saturating_add(1) };
    let mut tx = state.db.write.begin().await?;
    let updated = db::query(
        "UPDATE orders SET state = $1, total = $2, total_minor = $3, payment_method = $4, pricing_version = $5, policy_version = $6, cart = $7, priced = $8, facts = $9, plan = $10, revision = revision + 1, round = $11, updated_at = $12
         WHERE id = $13 AND revision = $14",
    )
    .bind(new_state)
    .bind(verdict.priced.total.amount().to_string())
    .bind(minor_units(verdict.priced.total)?)
    .bind(p.request.payment_method.as_ref().map(|m| m.to_string()))
    .bind(p.pricing_version)
    .bind(p.policy_version)
    .bind(serde_json::to_string(&body.lines).map_err(ApiError::internal)?)
    .bind(serde_json::to_string(&verdict.priced).map_err(ApiError::internal)?)
    .bind(serde_json::to_string(&verdict.facts).map_err(ApiError::internal)?)
    .bind(serde_json::to_string(&verdict.plan).map_err(ApiError::internal)?)
    .bind(new_round)
    .bind(at)
    .bind(&id)
    .bind(revision)
    .execute(&mut tx)
    .await?;
    if updated.rows_affected() != 1 {
        tx.rollback().await?;
        return Err(ApiError::conflict("order_changed", "the order changed meanwhile; reload it")
            .with_field("revision"));
    }
    let comment = d.explanation.join("; ");
    let mut batch = Batch::new();
    if let (Some(oi), Some((fired, instance))) = (&order_instance, &moved)
        && !oi
            .write(&state, &mut tx, &mut batch, fired.as_ref(), instance, Some(&caller.user_id))
            .await?
    {
        tx.rollback().await?;
        return Err(ApiError::conflict("order_changed", "the order changed meanwhile; reload it")
            .with_field("revision"));
    }
    if !stays_approved {
        batch.push(
            "UPDATE approval_steps SET status = 'cancelled' WHERE order_id = $1 AND status IN ('pending', 'waiting')",
            params![&id],
        );
        let first = start_round(&mut batch, &id, new_round, &verdict.plan)?;
        let order = Placed { id: &id, number: old.try_get("number")?, total: verdict.priced.total };
        tell_approvers(&mut batch, first_candidates(&first), order, &caller.name);
    }
    let note = if stays_approved {
        format!("changed; no new approval needed: {comment}")
    } else {
        format!("changed: {comment}")
    };
    history(&mut batch, &id, Some(&caller.user_id), Some(&current_state), new_state, Some(&note));
    batch.run(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(order_json(&state, &id, &caller).await?))
}
