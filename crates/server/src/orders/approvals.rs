//! The approver's queue and decisions.

use super::*;

#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    pub limit: Option<i64>,
    /// The `next` of the previous page: the steps of orders placed after its last one.
    #[serde(default)]
    pub after: Option<String>,
}

/// `GET /api/approvals`: the steps waiting for the caller's decision, with why; oldest order
/// first, a page at a time (`next` is the cursor of the following page, null on the last).
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = page_size(q.limit);
    let after = q.after.as_deref().map(|a| Cursor::parse("after", a)).transpose()?;
    // A step's candidates are a JSON array of user ids: the database keeps the steps whose
    // array holds the caller's id, quoted as JSON writes it (ids are ours: no escapes), and
    // the exact test below makes sure.
    let names_caller = match state.db.dialect {
        db::Dialect::Sqlite => "instr(s.candidates, $2) > 0",
        db::Dialect::Postgres => "strpos(s.candidates, $2) > 0",
    };
    let sql = format!(
        "SELECT s.id AS step_id, s.order_id, o.number, s.candidates, s.reasons, o.total, o.currency, o.created_at, o.revision, o.priced, o.pricing_version, u.name AS buyer_name
         FROM approval_steps s JOIN orders o ON o.id = s.order_id JOIN users u ON u.id = o.buyer_id
         WHERE s.status = 'pending' AND o.company_id = $1 AND {names_caller}
           AND ($3 = 0 OR o.created_at > $4 OR (o.created_at = $4 AND s.id > $5))
         ORDER BY o.created_at, s.id LIMIT $6"
    );
    let rows = db::query(db::AssertSqlSafe(sql))
        .bind(&caller.company_id)
        .bind(serde_json::to_string(&caller.user_id).map_err(ApiError::internal)?)
        .bind(i64::from(after.is_some()))
        .bind(after.as_ref().map_or(0, |c| c.at))
        .bind(after.map_or(String::new(), |c| c.id))
        // One row more than the page, to know whether another page follows.
        .bind(limit.saturating_add(1))
        .fetch_all(&state.db.read)
        .await?;
    // The catalogs the orders were priced with, for their products' names.
    let mut catalogs = std::collections::HashMap::new();
    for r in &rows {
        let version: i64 = r.try_get("pricing_version")?;
        if let std::collections::hash_map::Entry::Vacant(slot) = catalogs.entry(version) {
            slot.insert(catalog::at_version(&state, Some(version)).await?);
        }
    }
    let (items, next) = page(&rows, limit, |r| {
        let step_id: String = r.try_get("step_id")?;
        let created_at: i64 = r.try_get("created_at")?;
        let cursor = Cursor { at: created_at, id: step_id.clone() };
        let candidates: Vec<String> = serde_json::from_str(&r.try_get::<String>("candidates")?)
            .map_err(ApiError::internal)?;
        if !candidates.contains(&caller.user_id) {
            return Ok((cursor, None));
        }
        let (amount, currency): (String, String) = (r.try_get("total")?, r.try_get("currency")?);
        let total = Money::new(
            parse_decimal(&amount).map_err(ApiError::internal)?,
            Currency::from_code(&currency).map_err(ApiError::internal)?,
        );
        let reasons: Vec<rules::approval::Because> =
            serde_json::from_str(&r.try_get::<String>("reasons")?).map_err(ApiError::internal)?;
        let why: Vec<String> =
            reasons.iter().map(|b| rules::messages::explain_because(b, total)).collect();
        let pricing = catalogs.get(&r.try_get::<i64>("pricing_version")?);
        let lines: Vec<Value> = view::lines_of(&r.try_get::<String>("priced")?)?
            .into_iter()
            .map(|l| {
                let name = pricing.and_then(|p| p.product(&l.sku)).map(|p| p.name.to_string());
                json!({ "sku": l.sku, "name": name, "quantity": l.quantity })
            })
            .collect();
        let item = json!({
            "step_id": step_id,
            "order_id": r.try_get::<String>("order_id")?,
            "number": r.try_get::<i64>("number")?,
            "revision": r.try_get::<i64>("revision")?,
            "buyer_name": r.try_get::<String>("buyer_name")?,
            "total": { "amount": amount, "currency": currency },
            "created_at": created_at,
            "why": why,
            "lines": lines,
        });
        Ok((cursor, Some(item)))
    })?;
    Ok(Json(json!({ "pending": items, "next": next })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

/// The order a step is acted on in (a decision, a handover): its company, buyer, state and
/// revision, if the caller is of its company (not the seller), the comment fits, and the order
/// is still at the revision the caller looked at (`seen`).
async fn acted_on(
    state: &AppState,
    caller: &Caller,
    id: &str,
    comment: &str,
    seen: i64,
) -> Result<(String, String, String, i64), ApiError> {
    let order = visible_order(state, caller, id).await?;
    if caller.seller {
        return Err(ApiError::not_found("order"));
    }
    if comment.chars().count() > 2000 {
        return Err(ApiError::invalid("comment", "a comment has at most 2,000 characters"));
    }
    if order.3 != seen {
        return Err(ApiError::conflict(
            "order_changed",
            "the order changed since you looked at it; review it again",
        )
        .with_field("revision"));
    }
    Ok(order)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub step_id: String,
    pub decision: Decision,
    #[serde(default)]
    pub comment: String,
    /// The order revision the approver looked at.
    pub revision: i64,
}

/// `POST /api/orders/{id}/decisions`: an approver approves or rejects the pending step. Only
/// the step's candidates may (so never the buyer, never someone outside the order's unit),
/// and of two concurrent decisions exactly one wins. The last approval sends the order's
/// workflow `approval.granted`, a rejection `approval.rejected`; the order's state is where
/// the workflow goes.
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<DecisionInput>,
) -> Result<Json<view::OrderView>, ApiError> {
    let (_, buyer, current_state, revision) =
        acted_on(&state, &caller, &id, &body.comment, body.revision).await?;
    if buyer == caller.user_id {
        return Err(ApiError::forbidden("nobody approves their own order"));
    }
    if matches!(body.decision, Decision::Reject) && body.comment.trim().is_empty() {
        return Err(ApiError::invalid("comment", "say why the order is rejected"));
    }
    let step = db::query("SELECT round, step_index, status, candidates FROM approval_steps WHERE id = $1 AND order_id = $2")
        .bind(&body.step_id)
        .bind(&id)
        .fetch_optional(&state.db.read)
        .await?
        .ok_or_else(|| ApiError::not_found("approval step"))?;
    let candidates: Vec<String> =
        serde_json::from_str(&step.try_get::<String>("candidates")?).map_err(ApiError::internal)?;
    if !candidates.contains(&caller.user_id) {
        return Err(ApiError::forbidden("this step is not yours to decide"));
    }
    // A pending step is the order's approval under way, whatever the workflow calls the state.
    if step.try_get::<String>("status")? != "pending" {
        return Err(ApiError::conflict(
            "already_decided",
            "this step is not waiting for a decision (already decided, or not yet due)",
        ));
    }
    let round: i64 = step.try_get("round")?;
    let index: i64 = step.try_get("step_index")?;
    let approve = matches!(body.decision, Decision::Approve);
    let at = now().millis();
    let comment = body.comment.trim();
    let order_instance = workflow::OrderInstance::of_order_id(&state, &id).await?;
    let mut tx = state.db.write.begin().await?;
    let taken = db::query("UPDATE approval_steps SET status = $1, decided_by = $2, decided_at = $3, comment = $4 WHERE id = $5 AND status = 'pending'")
        .bind(if approve { "approved" } else { "rejected" })
        .bind(&caller.user_id)
        .bind(at)
        .bind(comment)
        .bind(&body.step_id)
        .execute(&mut tx)
        .await?;
    if taken.rows_affected() != 1 {
        tx.rollback().await?;
        return Err(ApiError::conflict(
            "already_decided",
            "someone decided this step a moment ago",
        ));
    }
    let next = if approve {
        db::query("SELECT id, candidates FROM approval_steps WHERE order_id = $1 AND round = $2 AND step_index = $3")
            .bind(&id)
            .bind(round)
            .bind(index.saturating_add(1))
            .fetch_optional(&mut tx)
            .await?
    } else {
        None
    };
    // The round is over when nothing follows an approval, or at a rejection.
    let event = match (&next, approve) {
        (Some(_), _) => None,
        (None, true) => Some(workflow::events::GRANTED),
        (None, false) => Some(workflow::events::REJECTED),
    };
    let moved = match (&order_instance, event) {
        (Some(oi), Some(event)) => {
            Some(oi.send(event, None, rules::time::Timestamp::from_millis(at))?)
        }
        _ => None,
    };
    let new_state: String = match (&moved, &order_instance, &next, approve) {
        (Some((_, instance)), _, _, _) => instance.state.to_string(),
        (None, Some(_), _, _) => current_state.clone(),
        // Orders placed before orders ran on workflows keep the fixed flow.
        (None, None, Some(_), _) => AWAITING_APPROVAL.to_owned(),
        (None, None, None, true) => APPROVED.to_owned(),
        (None, None, None, false) => REJECTED.to_owned(),
    };
    let new_state = new_state.as_str();
    let updated = db::query("UPDATE orders SET state = $1, revision = revision + 1, updated_at = $2 WHERE id = $3 AND revision = $4")
        .bind(new_state)
        .bind(at)
        .bind(&id)
        .bind(revision)
        .execute(&mut tx)
        .await?;
    if updated.rows_affected() != 1 {
        tx.rollback().await?;
        return Err(ApiError::conflict(
            "order_changed",
            "the order changed meanwhile; review it again",
        ));
    }
    let order = db::query("SELECT number, total, currency FROM orders WHERE id = $1")
        .bind(&id)
        .fetch_one(&mut tx)
        .await?;
    let number: i64 = order.try_get("number")?;
    let total =
        Money::parse(&order.try_get::<String>("total")?, &order.try_get::<String>("currency")?)
            .map_err(ApiError::internal)?;
    let mut batch = Batch::new();
    if let (Some(oi), Some((fired, instance))) = (&order_instance, &moved)
        && !oi
            .write(&state, &mut tx, &mut batch, fired.as_ref(), instance, Some(&caller.user_id))
            .await?
    {
        tx.rollback().await?;
        return Err(ApiError::conflict(
            "order_changed",
            "the order changed meanwhile; review it again",
        ));
    }
    match next {
        Some(step) => {
            let next_id: String = step.try_get("id")?;
            batch.push(
                "UPDATE approval_steps SET status = 'pending', pending_since = $2 WHERE id = $1",
                params![next_id, at],
            );
            let next_candidates: Vec<String> =
                serde_json::from_str(&step.try_get::<String>("candidates")?)
                    .map_err(ApiError::internal)?;
            let buyer_name: String = db::query("SELECT name FROM users WHERE id = $1")
                .bind(&buyer)
                .fetch_one(&mut tx)
                .await?
                .try_get("name")?;
            let order = Placed { id: &id, number, total };
            tell_approvers(&mut batch, &next_candidates, order, &buyer_name);
        }
        None => {
            if !approve {
                batch.push(
                    "UPDATE approval_steps SET status = 'cancelled' WHERE order_id = $1 AND round = $2 AND status = 'waiting'",
                    params![&id, round],
                );
            }
            let (kind, title, text) = if approve {
                (
                    "order_approved",
                    format!("Order {number} approved"),
                    format!("{} approved your order {number}.", caller.name),
                )
            } else {
                (
                    "order_rejected",
                    format!("Order {number} rejected"),
                    format!("{} rejected your order {number}: {comment}", caller.name),
                )
            };
            notify(
                &mut batch,
                Notice { user_id: &buyer, kind, title, body: text, order_id: Some(&id) },
            );
        }
    }
    // What happened, in words: an approval that leaves the state as it was says so.
    let decided = if approve { "approved" } else { "rejected" };
    let note = match comment {
        "" => format!("{decided} step {}", index.saturating_add(1)),
        _ => format!("{decided} step {}: {comment}", index.saturating_add(1)),
    };
    history(&mut batch, &id, Some(&caller.user_id), Some(&current_state), new_state, Some(&note));
    batch.run(&mut tx).await?;
    tx.commit().await?;
    state.metrics.count(if approve { "approvals_given" } else { "rejections_given" });
    Ok(Json(order_json(&state, &id, &caller).await?))
}

/// `GET /api/companies/{id}/approvals`: for the company's admins, every approval step of the
/// company's orders not yet decided, pending or waiting its turn, with who may decide it and
/// since when it waits: where approvals are stuck, and what to hand to someone else. Oldest
/// order first, a page at a time (as the approver's queue).
pub async fn waiting(
    State(state): State<AppState>,
    caller: Caller,
    Path(company): Path<String>,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Value>, ApiError> {
    companies::administered(&state, &caller, &company).await?;
    let limit = page_size(q.limit);
    let after = q.after.as_deref().map(|a| Cursor::parse("after", a)).transpose()?;
    let rows = db::query(
        "SELECT s.id AS step_id, s.order_id, s.round, s.step_index, s.status, s.candidates, s.pending_since,
                o.number, o.revision, o.total, o.currency, o.created_at, u.name AS buyer_name, b.name AS unit_name
         FROM approval_steps s JOIN orders o ON o.id = s.order_id JOIN users u ON u.id = o.buyer_id
              LEFT JOIN business_units b ON b.id = o.business_unit_id
         WHERE s.status IN ('pending', 'waiting') AND o.company_id = $1
           AND ($2 = 0 OR o.created_at > $3 OR (o.created_at = $3 AND s.id > $4))
         ORDER BY o.created_at, s.id LIMIT $5",
    )
    .bind(&company)
    .bind(i64::from(after.is_some()))
    .bind(after.as_ref().map_or(0, |c| c.at))
    .bind(after.map_or(String::new(), |c| c.id))
    .bind(limit.saturating_add(1))
    .fetch_all(&state.db.read)
    .await?;
    let names: std::collections::HashMap<String, String> =
        db::query("SELECT id, name FROM users WHERE company_id = $1")
            .bind(&company)
            .fetch_all(&state.db.read)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
            .collect::<Result<_, ApiError>>()?;
    let (items, next) = page(&rows, limit, |r| {
        let step_id: String = r.try_get("step_id")?;
        let created_at: i64 = r.try_get("created_at")?;
        let cursor = Cursor { at: created_at, id: step_id.clone() };
        let candidates: Vec<String> = serde_json::from_str(&r.try_get::<String>("candidates")?)
            .map_err(ApiError::internal)?;
        let candidates: Vec<Value> =
            candidates.into_iter().map(|id| json!({ "name": names.get(&id), "id": id })).collect();
        let item = json!({
            "step_id": step_id,
            "order_id": r.try_get::<String>("order_id")?,
            "number": r.try_get::<i64>("number")?,
            "revision": r.try_get::<i64>("revision")?,
            "buyer_name": r.try_get::<String>("buyer_name")?,
            "business_unit_name": r.try_get::<Option<String>>("unit_name")?,
            "total": { "amount": r.try_get::<String>("total")?, "currency": r.try_get::<String>("currency")? },
            "round": r.try_get::<i64>("round")?,
            "index": r.try_get::<i64>("step_index")?,
            "status": r.try_get::<String>("status")?,
            "candidates": candidates,
            "pending_since": r.try_get::<Option<i64>>("pending_since")?,
            "created_at": created_at,
        });
        Ok((cursor, Some(item)))
    })?;
    Ok(Json(json!({ "waiting": items, "next": next })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoverInput {
    pub step_id: String,
    /// Who decides the step from now on (any one of them).
    pub to: Vec<String>,
    #[serde(default)]
    pub comment: String,
    /// The order revision the admin looked at.
    pub revision: i64,
}

/// `POST /api/orders/{id}/handovers`: a company admin hands a step not yet decided to other
/// approvers (the approver is away, or has left): any one of them decides it from now on, and
/// those of a pending step are told at once. The same rules hold as for routing: never the
/// buyer, only people of the company whose unit covers the order's. The order's revision moves
/// on, so a decision made on what the page showed before is refused, not taken.
pub async fn hand_over(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<HandoverInput>,
) -> Result<Json<view::OrderView>, ApiError> {
    let (company, buyer, current_state, revision) =
        acted_on(&state, &caller, &id, &body.comment, body.revision).await?;
    if !caller.has("company_admin") {
        return Err(ApiError::forbidden(
            "only the company's admins hand an approval to someone else",
        ));
    }
    let mut to: Vec<String> = Vec::with_capacity(body.to.len());
    for user in &body.to {
        if !to.contains(user) {
            to.push(user.clone());
        }
    }
    if to.is_empty() {
        return Err(ApiError::invalid("to", "name who approves the step from now on"));
    }
    if to.len() > 20 {
        return Err(ApiError::invalid("to", "a step has at most 20 approvers"));
    }
    let mut tx = state.db.write.begin().await?;
    // Nobody named here is removed before this commits (see `seed::hold_directory`).
    seed::hold_directory(&mut tx, &company).await?;
    let step = db::query(
        "SELECT step_index, status, candidates FROM approval_steps WHERE id = $1 AND order_id = $2",
    )
    .bind(&body.step_id)
    .bind(&id)
    .fetch_optional(&mut tx)
    .await?
    .ok_or_else(|| ApiError::not_found("approval step"))?;
    let status: String = step.try_get("status")?;
    if status != "pending" && status != "waiting" {
        return Err(ApiError::conflict("already_decided", "this step is decided already"));
    }
    let before: Vec<String> =
        serde_json::from_str(&step.try_get::<String>("candidates")?).map_err(ApiError::internal)?;
    let order =
        db::query("SELECT number, total, currency, business_unit_id FROM orders WHERE id = $1")
            .bind(&id)
            .fetch_one(&mut tx)
            .await?;
    let unit = order
        .try_get::<Option<String>>("business_unit_id")?
        .map(|u| UnitId::parse(&u))
        .transpose()
        .map_err(ApiError::internal)?;
    let directory = companies::directory_in(&mut tx, &company).await?;
    let name_of = |user: &str| {
        directory.users.iter().find(|u| u.id.as_str() == user).map(|u| u.name.to_string())
    };
    for (i, user) in to.iter().enumerate() {
        let field = format!("to[{i}]");
        if user.trim().is_empty() {
            return Err(ApiError::invalid(field, "choose who approves the step from now on"));
        }
        let Some(name) = name_of(user) else {
            return Err(ApiError::invalid(
                field,
                format!("\"{user}\" is not a user of this company"),
            ));
        };
        if *user == buyer {
            return Err(ApiError::invalid(
                field,
                format!("{name} placed the order: nobody approves their own order"),
            ));
        }
        let decides =
            UserId::parse(user).is_ok_and(|u| directory.may_decide_for(&u, unit.as_ref()));
        if !decides {
            return Err(ApiError::invalid(
                field,
                format!("{name} works in a unit that does not cover the order's"),
            ));
        }
    }
    if to == before {
        return Err(ApiError::invalid("to", "the step is theirs already"));
    }
    let at = now().millis();
    let moved = db::query(
        "UPDATE approval_steps SET candidates = $1, reminded_at = $2 WHERE id = $3 AND status = $4",
    )
    .bind(serde_json::to_string(&to).map_err(ApiError::internal)?)
    .bind(at)
    .bind(&body.step_id)
    .bind(&status)
    .execute(&mut tx)
    .await?;
    let revised = db::query("UPDATE orders SET revision = revision + 1, updated_at = $1 WHERE id = $2 AND revision = $3")
        .bind(at)
        .bind(&id)
        .bind(revision)
        .execute(&mut tx)
        .await?;
    if moved.rows_affected() != 1 || revised.rows_affected() != 1 {
        tx.rollback().await?;
        return Err(ApiError::conflict(
            "order_changed",
            "the order changed meanwhile; review it again",
        ));
    }
    // By name, those handed from too: often someone who has left, no longer in the directory.
    let everyone: std::collections::HashMap<String, String> =
        db::query("SELECT id, name FROM users WHERE company_id = $1")
            .bind(&company)
            .fetch_all(&mut tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
            .collect::<Result<_, ApiError>>()?;
    let names = |ids: &[String]| -> String {
        let named = ids.iter().map(|u| everyone.get(u).unwrap_or(u).as_str());
        named.collect::<Vec<_>>().join(", ")
    };
    let index: i64 = step.try_get("step_index")?;
    let comment = body.comment.trim();
    let mut note = format!(
        "handed step {} from {} to {}",
        index.saturating_add(1),
        names(&before),
        names(&to)
    );
    if !comment.is_empty() {
        note = format!("{note}: {comment}");
    }
    let mut batch = Batch::new();
    history(
        &mut batch,
        &id,
        Some(&caller.user_id),
        Some(&current_state),
        &current_state,
        Some(&note),
    );
    if status == "pending" {
        let number: i64 = order.try_get("number")?;
        let total =
            Money::parse(&order.try_get::<String>("total")?, &order.try_get::<String>("currency")?)
                .map_err(ApiError::internal)?;
        let buyer_name: String = db::query("SELECT name FROM users WHERE id = $1")
            .bind(&buyer)
            .fetch_one(&mut tx)
            .await?
            .try_get("name")?;
        tell_approvers(&mut batch, &to, Placed { id: &id, number, total }, &buyer_name);
    }
    batch.run(&mut tx).await?;
    tx.commit().await?;
    state.metrics.count("approvals_handed_over");
    Ok(Json(order_json(&state, &id, &caller).await?))
}

/// Reminds approvers of the steps that have waited for them longer than `after` (since they
/// began to wait, or since the last reminder), as of `at`: each such step's candidates get a
/// notification and its mail, and the step's reminder time moves to `at`, so that the next
/// comes an interval later. At most `limit` steps at a time; answers how many were reminded.
///
/// Safe with several servers on one database: a step is claimed by moving its reminder time
/// from the value read, and a server that finds it moved leaves it.
pub async fn remind(
    state: &AppState,
    at: i64,
    after: rules::time::Duration,
    limit: i64,
) -> Result<usize, ApiError> {
    let due = at.saturating_sub(after.millis());
    let steps = db::query(
        "SELECT s.id, s.order_id, s.candidates, s.pending_since, COALESCE(s.reminded_at, s.pending_since) AS since,
                o.number, o.total, o.currency, u.name AS buyer_name
         FROM approval_steps s JOIN orders o ON o.id = s.order_id JOIN users u ON u.id = o.buyer_id
         WHERE s.status = 'pending' AND s.pending_since IS NOT NULL AND COALESCE(s.reminded_at, s.pending_since) <= $1
         ORDER BY since, s.id LIMIT $2",
    )
    .bind(due)
    .bind(limit)
    .fetch_all(&state.db.read)
    .await?;
    let mut reminded = 0;
    for step in &steps {
        let id: String = step.try_get("id")?;
        let since: i64 = step.try_get("since")?;
        let waiting: i64 = step.try_get("pending_since")?;
        let candidates: Vec<String> = serde_json::from_str(&step.try_get::<String>("candidates")?)
            .map_err(ApiError::internal)?;
        let order_id: String = step.try_get("order_id")?;
        let number: i64 = step.try_get("number")?;
        let buyer: String = step.try_get("buyer_name")?;
        let total =
            Money::parse(&step.try_get::<String>("total")?, &step.try_get::<String>("currency")?)
                .map_err(ApiError::internal)?;
        // In whole minutes: "1 day 1 hour", not to the millisecond.
        let waited = at.saturating_sub(waiting);
        let waited = rules::messages::duration_for_people(rules::time::Duration::from_millis(
            waited.saturating_sub(waited.rem_euclid(60_000)),
        ));
        let mut tx = state.db.write.begin().await?;
        let claimed = db::query(
            "UPDATE approval_steps SET reminded_at = $1
             WHERE id = $2 AND status = 'pending' AND COALESCE(reminded_at, pending_since) = $3",
        )
        .bind(at)
        .bind(&id)
        .bind(since)
        .execute(&mut tx)
        .await?;
        if claimed.rows_affected() != 1 {
            tx.rollback().await?;
            continue;
        }
        let title = format!("Reminder: order {number} ({total}) waits for your approval");
        let body =
            format!("{buyer}'s order {number} for {total} has waited {waited} for your approval.");
        let mut batch = Batch::new();
        notify_each(&mut batch, &candidates, "approval_reminder", (title, body), Some(&order_id));
        batch.run(&mut tx).await?;
        tx.commit().await?;
        reminded += 1;
    }
    Ok(reminded)
}

/// Reminds approvers of waiting steps every `period`, a step at most once per `after`.
pub async fn run_reminders(
    state: AppState,
    after: rules::time::Duration,
    period: std::time::Duration,
) {
    loop {
        loop {
            match remind(&state, now().millis(), after, 200).await {
                // A full batch: there may be more right now.
                Ok(200) => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!("approval reminders: {}", e.message);
                    break;
                }
            }
        }
        tokio::time::sleep(period).await;
    }
}
