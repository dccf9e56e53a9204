//! Orders on workflows: which workflow a new order runs on, the events the approval code sends
//! it, and how an order's instance is written beside the order.
//!
//! An order's state *is* its workflow instance's state. The instance starts when the order is
//! submitted (in the same transaction) with the order's fields as the server computed them, and
//! the approval code drives it with events:
//!
//! - `approval.required`: the order needs approval (at submission, or after a change that needs
//!   a new round); the transition it fires must carry `require_approval`, and the steps of the
//!   approval plan are written with it;
//! - `approval.not_required`: it needs none (a transition may fire, or the order stays put);
//! - `approval.granted`: the last step of the round was approved;
//! - `approval.rejected`: a step was rejected.
//!
//! The built-in workflow ([`DEFAULT_ID`], `workflows/default-order.json`) reproduces the
//! checkout's flow with these events (submitted → awaiting_approval or approved → approved or
//! rejected). A seller's own order workflow replaces it for the customers its scope covers when
//! it can take a submitted order: its start state answers `approval.required` with a
//! `require_approval` transition. Without that it cannot route an order the customer's policy
//! wants approved (the seed workflow `b2b-order` models draft orders the buyer submits by hand:
//! it runs through the instance API, not under submitted orders). Whatever else such a workflow
//! adds (shipping by the back office, timers) is fired through the instance API or
//! `POST /api/orders/{id}/transitions/{transition}`, and the order's state follows.
//!
//! Such a transition may carry `require_approval` too (a back office's "reopen for approval",
//! a timer's recheck). The order is then routed again from the server's current data (the
//! company's policy and directory as they are now, the buyer's spending and credit as they
//! are now, the order's stored facts; prices are not recomputed), never from the plan stored
//! at submission, which may be stale: the new plan is stored and its round starts. A plan
//! the current policy blocks refuses the firing (422 `blocked`) and nothing is written; a
//! timer that meets it is skipped, with the reason in the instance's history.

use super::*;
use crate::instances::{self, Stored};
use rules::{
    approval::RouteRequest,
    condition::Value as FieldValue,
    ids::TransitionId,
    time::Timestamp,
    workflow::{Fired, Instance, Trigger, Workflow, WorkflowDefinition, select},
};
use std::sync::atomic::Ordering;

/// The built-in order workflow's id (reserved: sellers cannot create or edit it).
pub const DEFAULT_ID: &str = "default-order";
/// The built-in order workflow, as shipped.
pub const DEFAULT_DOCUMENT: &str = include_str!("../../workflows/default-order.json");

/// The events the approval code sends an order's instance (the convention lives in `rules`,
/// so that the editor can check a workflow against it).
pub use rules::workflow::orders as events;
pub use rules::workflow::orders::{requires_approval, takes_orders};

/// The built-in order workflow's definition.
pub fn default_definition() -> Result<WorkflowDefinition, ApiError> {
    serde_json::from_str(DEFAULT_DOCUMENT).map_err(ApiError::internal)
}

/// Stores the built-in order workflow as a published version, once per process (instances
/// refer to it like to any other version). Does nothing if it is stored already.
pub async fn ensure_default(state: &AppState) -> Result<(), ApiError> {
    if state.default_workflow_stored.load(Ordering::Acquire) {
        return Ok(());
    }
    let def = default_definition()?;
    let at = now().millis();
    db::query(
        "INSERT INTO workflow_versions (workflow_id, version, status, name, entity, document, created_at, published_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (workflow_id, version) DO NOTHING",
    )
    .bind(def.id.to_string())
    .bind(i64::from(def.version))
    .bind(crate::workflows::PUBLISHED)
    .bind(def.name.to_string())
    .bind(def.entity.name())
    .bind(DEFAULT_DOCUMENT)
    .bind(at)
    .bind(at)
    .execute(&state.db.write)
    .await?;
    state.default_workflow_stored.store(true, Ordering::Release);
    Ok(())
}

/// The workflow a new order of this customer runs on: the most specific published order
/// workflow that can take a submitted order, else the built-in one.
pub async fn for_new_order(
    state: &AppState,
    customer: &rules::pricing::CustomerRef,
    published_workflows: i64,
) -> Result<Arc<Workflow>, ApiError> {
    ensure_default(state).await?;
    let cached = state
        .order_workflows
        .read()
        .map_err(ApiError::internal)?
        .as_ref()
        .filter(|(at, _)| *at == published_workflows)
        .map(|(_, list)| list.clone());
    let published = match cached {
        Some(list) => list,
        None => {
            let list: Arc<Vec<WorkflowDefinition>> = Arc::new(
                crate::workflows::current_published(state, rules::workflow::Entity::Order)
                    .await?
                    .into_iter()
                    .filter(takes_orders)
                    .collect(),
            );
            *state.order_workflows.write().map_err(ApiError::internal)? =
                Some((published_workflows, list.clone()));
            list
        }
    };
    let chosen = select(
        published.iter(),
        rules::workflow::Entity::Order,
        &customer.id,
        customer.group.as_ref(),
    );
    let (id, version) = match chosen {
        Some(def) => (def.id.to_string(), def.version),
        None => {
            let def = default_definition()?;
            (def.id.to_string(), def.version)
        }
    };
    instances::workflow(state, &id, version).await
}

/// The event the approval plan sends: whether it has steps.
pub fn plan_event(needs_approval: bool) -> &'static str {
    if needs_approval { events::REQUIRED } else { events::NOT_REQUIRED }
}

/// Refuses an order that needs approval when the workflow does not route it to approval.
pub fn check_routes_approval(
    workflow: &Workflow,
    from: &rules::ids::StateId,
    needs_approval: bool,
    fired: Option<&Fired>,
) -> Result<(), ApiError> {
    if !needs_approval || fired.is_some_and(|f| requires_approval(&f.actions)) {
        return Ok(());
    }
    let def = workflow.definition();
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "workflow_skips_approval",
        format!(
            "the order needs approval, but its workflow \"{}\" (version {}) has no transition from \"{from}\" on the event {} that requires approval (or its guard does not hold), so it cannot go ahead",
            def.name,
            def.version,
            events::REQUIRED
        ),
    ))
}

/// A transition that fired outside the approval code (by hand, by a timer) and carries
/// `require_approval`: if the instance runs an order, the order is routed again with `rules`
/// from the server's current data (see [`reroute`]): the plan stored at the last submission or
/// change may be stale (the policy or the directory changed since), and the server never acts
/// on a stale verdict. The new plan is written to the order with the policy version it was
/// computed at; if it has steps, a new round of it starts, the order's open steps from earlier
/// rounds are cancelled, and the first approvers are told. The workflow then waits for
/// `approval.granted` or `approval.rejected` like after a submission. A plan without steps
/// starts no round (nobody needs to approve): then the answer is `true`, and the caller sends
/// the workflow `approval.not_required` as a submission would. A blocked plan (or an order
/// that cannot be routed any more) refuses the firing with 422 (`blocked`, `cannot_route`):
/// this runs before the caller's transaction begins, so nothing is written.
pub(crate) async fn new_round_if_required(
    state: &AppState,
    batch: &mut Batch,
    instance_id: &str,
    fired: &Fired,
) -> Result<bool, ApiError> {
    if !requires_approval(&fired.actions) {
        return Ok(false);
    }
    let Some(row) = db::query(
        "SELECT o.id, o.number, o.company_id, o.buyer_id, o.state, o.facts, o.round, o.total, o.total_minor, o.currency, o.created_at, u.name AS buyer_name
         FROM orders o JOIN users u ON u.id = o.buyer_id WHERE o.workflow_instance_id = $1",
    )
    .bind(instance_id)
    .fetch_optional(&state.db.read)
    .await?
    else {
        return Ok(false);
    };
    let order_id: String = row.try_get("id")?;
    let (policy_version, plan) = reroute(state, &row, fired.at).await?;
    batch.push(
        "UPDATE orders SET plan = $1, policy_version = $2 WHERE id = $3",
        params![to_json(&plan)?, policy_version, &order_id],
    );
    if plan.steps.is_empty() {
        return Ok(true);
    }
    let round = row.try_get::<i64>("round")?.saturating_add(1);
    batch.push(
        "UPDATE approval_steps SET status = 'cancelled' WHERE order_id = $1 AND status IN ('pending', 'waiting')",
        params![&order_id],
    );
    let steps = start_round(batch, &order_id, round, &plan)?;
    batch.push("UPDATE orders SET round = $1 WHERE id = $2", params![round, &order_id]);
    let total = Money::parse(&row.try_get::<String>("total")?, &row.try_get::<String>("currency")?)
        .map_err(ApiError::internal)?;
    let order = Placed { id: &order_id, number: row.try_get("number")?, total };
    tell_approvers(batch, first_candidates(&steps), order, &row.try_get::<String>("buyer_name")?);
    Ok(false)
}

/// Routes a placed order again from the server's current data, as of `at`: the company's
/// current policy and directory, the order's stored facts (its prices were agreed at
/// submission and are not recomputed), its buyer, what the buyer spent in each spending
/// limit's period with this order taken out (unless it is rejected, which does not count), and
/// the company's credit for an invoice order. Answers the policy version and the explained
/// plan; a blocked plan is refused with 422 `blocked`, an order that cannot be routed (its
/// business unit is gone, ...) with 422 `cannot_route`.
async fn reroute(
    state: &AppState,
    order: &db::Row,
    at: Timestamp,
) -> Result<(i64, ApprovalPlan), ApiError> {
    let facts: OrderFacts =
        serde_json::from_str(&order.try_get::<String>("facts")?).map_err(ApiError::internal)?;
    let buyer: String = order.try_get("buyer_id")?;
    let replaced = Replaced {
        total_minor: order.try_get("total_minor")?,
        currency: order.try_get("currency")?,
        day: order.try_get::<i64>("created_at")?.div_euclid(companies::DAY_MS),
        counted: order.try_get::<String>("state")? != REJECTED,
    };
    let routing = load_routing(
        state,
        &order.try_get::<String>("company_id")?,
        &buyer,
        facts.payment_method.as_ref(),
        Some(&replaced),
        at,
    )
    .await?;
    let request = RouteRequest {
        buyer: id_of(UserId::parse, &buyer)?,
        order: facts,
        spent: routing.spent,
        funds: routing.funds,
    };
    let plan = routing.approval.route(&request).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "cannot_route",
            format!("the order cannot be routed under the current approval policy: {e}"),
        )
    })?;
    let plan = routing.approval.explained(plan);
    if plan.verdict == Verdict::Blocked {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "blocked",
            plan.explanation.join(" "),
        )
        .with_details(json!({ "plan": plan })));
    }
    Ok((routing.policy_version, plan))
}

/// An order's instance, with its workflow.
#[derive(Debug)]
pub struct OrderInstance {
    pub(crate) stored: Stored,
    pub workflow: Arc<Workflow>,
}

impl OrderInstance {
    /// The instance of an order, if the order runs on a workflow (orders placed before orders
    /// ran on workflows do not).
    pub async fn of_order(
        state: &AppState,
        instance_id: Option<&str>,
    ) -> Result<Option<OrderInstance>, ApiError> {
        let Some(id) = instance_id else { return Ok(None) };
        let stored = instances::load(&state.db.read, id)
            .await?
            .ok_or_else(|| ApiError::internal(format!("order instance {id} is missing")))?;
        let workflow =
            instances::workflow(state, stored.instance.workflow.as_str(), stored.instance.version)
                .await?;
        Ok(Some(OrderInstance { stored, workflow }))
    }

    /// The instance of the order with this id, if it runs on a workflow.
    pub async fn of_order_id(
        state: &AppState,
        order_id: &str,
    ) -> Result<Option<OrderInstance>, ApiError> {
        let instance_id: Option<String> =
            db::query("SELECT workflow_instance_id FROM orders WHERE id = $1")
                .bind(order_id)
                .fetch_one(&state.db.read)
                .await?
                .try_get("workflow_instance_id")?;
        OrderInstance::of_order(state, instance_id.as_deref()).await
    }

    /// Sends an event with the order's new fields (if any): the transition that fires, if one
    /// does, and the instance afterwards.
    pub fn send(
        &self,
        event: &str,
        fields: Option<BTreeMap<rules::condition::FieldPath, FieldValue>>,
        at: Timestamp,
    ) -> Result<(Option<Fired>, Instance), ApiError> {
        let mut instance = self.stored.instance.clone();
        if let Some(fields) = fields {
            instance.fields.extend(fields);
        }
        let fired =
            self.workflow.on_event(&instance, event, at).map_err(|e| instances::refused(&e))?;
        let next = fired.as_ref().map_or(instance, |f| f.instance.clone());
        Ok((fired, next))
    }

    /// The instance with the order's new fields, no event sent.
    pub fn send_fields(
        &self,
        fields: BTreeMap<rules::condition::FieldPath, FieldValue>,
    ) -> (Option<Fired>, Instance) {
        let mut instance = self.stored.instance.clone();
        instance.fields.extend(fields);
        (None, instance)
    }

    /// Writes the instance as `next` (the transition `fired`, if one did) inside `tx`, at the
    /// revision that was read, and adds its timers, history and actions to `batch`. `false` if
    /// the instance changed meanwhile (nothing written).
    pub async fn write(
        &self,
        state: &AppState,
        tx: &mut db::Tx,
        batch: &mut Batch,
        fired: Option<&Fired>,
        next: &Instance,
        actor_id: Option<&str>,
    ) -> Result<bool, ApiError> {
        let revision = self.stored.revision.saturating_add(1);
        let updated = db::query(
            "UPDATE workflow_instances SET state = $1, entered_at = $2, fields = $3, revision = $4, updated_at = $5 WHERE id = $6 AND revision = $7",
        )
        .bind(next.state.to_string())
        .bind(next.entered_at.millis())
        .bind(serde_json::to_string(&next.fields).map_err(ApiError::internal)?)
        .bind(revision)
        .bind(now().millis())
        .bind(&self.stored.id)
        .bind(self.stored.revision)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Ok(false);
        }
        match fired {
            Some(fired) => {
                instances::record_fired(
                    state,
                    batch,
                    &self.workflow,
                    &self.stored,
                    fired,
                    revision,
                    "event",
                    actor_id,
                )
                .await?
            }
            None => {
                // New fields: the state's timers are armed again, their guards re-checked
                // when they come due.
                batch.push(
                    "DELETE FROM workflow_timers WHERE instance_id = $1",
                    params![&self.stored.id],
                );
                instances::arm_timers(batch, &self.workflow, &self.stored.id, revision, next);
            }
        }
        Ok(true)
    }
}

/// An order's workflow, as the order view shows it.
#[derive(Debug, Clone, Serialize)]
pub struct WorkflowRef {
    pub id: String,
    pub name: String,
    pub version: u32,
    pub instance_id: String,
    pub state: String,
    /// The instance's revision (an order's transitions name the order's revision).
    pub revision: i64,
}

/// A transition a person may fire on an order, as the caller sees it.
#[derive(Debug, Clone, Serialize)]
pub struct TransitionView {
    pub id: String,
    pub label: String,
    pub to: String,
    pub enabled: bool,
    /// Why it is not enabled, in sentences (empty when enabled).
    pub why: Vec<String>,
}

/// The workflow of an order and the manual transitions from its state, for the caller (events
/// and timers fire on their own, so they are not offered).
pub fn describe(
    workflow: &Workflow,
    instance_id: &str,
    revision: i64,
    instance: &Instance,
    caller: &Caller,
) -> Result<(WorkflowRef, Vec<TransitionView>), ApiError> {
    let def = workflow.definition();
    let available = workflow
        .available(instance, &instances::actor(caller)?, now())
        .map_err(|e| instances::refused(&e))?;
    let transitions = available
        .into_iter()
        .filter(|t| t.trigger == Trigger::Manual)
        .map(|t| TransitionView {
            id: t.transition.to_string(),
            label: t.label.to_string(),
            to: t.to.to_string(),
            enabled: t.enabled,
            why: t.explanation,
        })
        .collect();
    Ok((
        WorkflowRef {
            id: def.id.to_string(),
            name: def.name.to_string(),
            version: def.version,
            instance_id: instance_id.to_owned(),
            state: instance.state.to_string(),
            revision,
        },
        transitions,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderTransitionInput {
    /// The order revision the caller looked at.
    pub revision: i64,
}

/// `POST /api/orders/{id}/transitions/{transition}`: fires a manual transition of the order's
/// workflow (for example "ship" by the back office) if `rules` lets the caller (role, guard,
/// state); the order's state follows. Else 409 with the refusal. A transition that carries
/// `require_approval` routes the order again under the current policy
/// ([`new_round_if_required`]); if that blocks it, 422 and nothing changes.
pub async fn fire(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, transition)): Path<(String, String)>,
    Json(body): Json<OrderTransitionInput>,
) -> Result<Json<view::OrderView>, ApiError> {
    let (_, buyer, _, revision) = visible_order(&state, &caller, &id).await?;
    if !caller.seller && buyer != caller.user_id && !caller.roles.iter().any(|r| r != "buyer") {
        return Err(ApiError::not_found("order"));
    }
    if revision != body.revision {
        return Err(ApiError::conflict(
            "order_changed",
            "the order changed since you looked at it; reload it",
        )
        .with_field("revision"));
    }
    let transition = TransitionId::parse(&transition)
        .map_err(|e| ApiError::invalid("transition", e.to_string()))?;
    let oi = OrderInstance::of_order_id(&state, &id).await?.ok_or_else(|| {
        ApiError::conflict(
            "no_workflow",
            "this order was placed before orders ran on workflows; it has no transitions",
        )
    })?;
    let fired = oi
        .workflow
        .fire(&oi.stored.instance, &transition, &instances::actor(&caller)?, now())
        .map_err(|e| instances::refused(&e))?;
    if !instances::commit_fired(
        &state,
        &oi.workflow,
        &oi.stored,
        &fired,
        "manual",
        Some(&caller.user_id),
    )
    .await?
    {
        return Err(ApiError::conflict("order_changed", "the order changed meanwhile; reload it"));
    }
    Ok(Json(order_json(&state, &id, &caller).await?))
}

/// A new order on its workflow: the instance as it is after the submission's event, and the
/// transition that event fired, if any.
pub(super) struct Begun {
    pub id: String,
    pub workflow: Arc<Workflow>,
    pub instance: Instance,
    pub fired: Option<Fired>,
}

/// Starts a submitted order on the workflow that applies to its customer, with the fields the
/// server computed (never the client's figures), and sends it the plan's event. Nothing is
/// written: [`Begun::write`] adds it to the order's own transaction.
pub(super) async fn begin_order(
    state: &AppState,
    p: &Prepared,
    verdict: &CheckoutVerdict,
    at: Timestamp,
) -> Result<Begun, ApiError> {
    let workflow = for_new_order(state, &p.request.cart.customer, p.published_workflows).await?;
    let fields = p
        .approval
        .order_fields(&verdict.facts, &p.request.buyer)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let mut begun = workflow.begin(fields, at).map_err(|e| instances::refused(&e))?;
    begun.started_by = Some(p.request.buyer.clone());
    let needs_approval = !verdict.plan.steps.is_empty();
    let fired = workflow
        .on_event(&begun, plan_event(needs_approval), at)
        .map_err(|e| instances::refused(&e))?;
    check_routes_approval(&workflow, &begun.state, needs_approval, fired.as_ref())?;
    let instance = fired.as_ref().map_or(begun, |f| f.instance.clone());
    Ok(Begun { id: new_id("wfi"), workflow, instance, fired })
}

impl Begun {
    /// Reads what writing the instance needs (who its notify actions reach) and prepares it;
    /// [`BegunWrite::push`] then adds it to the order's batch, once the order has its number.
    pub(super) async fn prepare<'a>(
        &'a self,
        state: &AppState,
        company_id: &str,
        order_id: &str,
        buyer: &'a str,
    ) -> Result<BegunWrite<'a>, ApiError> {
        let stored = Stored {
            id: self.id.clone(),
            company_id: company_id.to_owned(),
            entity_id: order_id.to_owned(),
            revision: 0,
            instance: self.instance.clone(),
        };
        let notices = match &self.fired {
            Some(fired) => instances::notices_of(state, &stored, fired).await?,
            None => Vec::new(),
        };
        let fields = serde_json::to_string(&self.instance.fields).map_err(ApiError::internal)?;
        Ok(BegunWrite { begun: self, stored, fields, notices, buyer })
    }
}

/// A new order's instance, ready to be written with the order.
pub(super) struct BegunWrite<'a> {
    begun: &'a Begun,
    stored: Stored,
    fields: String,
    notices: Vec<(String, String)>,
    buyer: &'a str,
}

impl BegunWrite<'_> {
    /// Adds the instance, its timers, its history and its webhooks to the order's batch (before
    /// the order's row, which refers to it).
    pub(super) fn push(&self, batch: &mut Batch) {
        let BegunWrite { begun, stored, fields, buyer, .. } = self;
        let at = now().millis();
        batch.push(
            "INSERT INTO workflow_instances (id, company_id, entity, entity_id, workflow_id, version, state, entered_at, fields, started_by, revision, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            params![
                &begun.id,
                &stored.company_id,
                rules::workflow::Entity::Order.name(),
                &stored.entity_id,
                begun.instance.workflow.to_string(),
                i64::from(begun.instance.version),
                begun.instance.state.to_string(),
                begun.instance.entered_at.millis(),
                fields,
                *buyer,
                1,
                at,
                at
            ],
        );
        match self.fired() {
            Some(fired) => fired.push(batch),
            None => instances::arm_timers(batch, &begun.workflow, &begun.id, 1, &begun.instance),
        }
    }

    /// Adds the notifications of the transition the submission fired, naming the order by
    /// `number` (after the order's row, which they link to).
    pub(super) fn notify(&self, batch: &mut Batch, number: i64) {
        if let Some(fired) = self.fired() {
            fired.notify(batch, &self.notices, Some(number));
        }
    }

    fn fired(&self) -> Option<instances::FiredWrite<'_>> {
        Some(instances::FiredWrite {
            workflow: &self.begun.workflow,
            stored: &self.stored,
            fired: self.begun.fired.as_ref()?,
            revision: 1,
            cause: "event",
            actor_id: Some(self.buyer),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use rules::{diagnostic::Diagnostic, workflow::validate};

    #[test]
    fn the_built_in_workflow_is_valid_and_takes_orders() {
        let def = default_definition().unwrap();
        let problems = validate(&def);
        assert!(!problems.iter().any(Diagnostic::is_error), "{problems:?}");
        // Its only warning: no terminal state, since a buyer may change any order it has.
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(takes_orders(&def));
        assert_eq!(def.id.as_str(), DEFAULT_ID);
        for state in [AWAITING_APPROVAL, APPROVED, REJECTED] {
            assert!(def.states.iter().any(|s| s.id.as_str() == state), "{state}");
        }
        // Every state the order code knows answers the plan's events.
        let workflow = Workflow::new(def).unwrap();
        let at = Timestamp::from_millis(0);
        let begun = workflow.begin(BTreeMap::new(), at).unwrap();
        let needs = workflow.on_event(&begun, events::REQUIRED, at).unwrap().unwrap();
        assert_eq!(needs.to.as_str(), AWAITING_APPROVAL);
        assert!(requires_approval(&needs.actions));
        let placed = workflow.on_event(&begun, events::NOT_REQUIRED, at).unwrap().unwrap();
        assert_eq!(placed.to.as_str(), APPROVED);
        let granted = workflow.on_event(&needs.instance, events::GRANTED, at).unwrap().unwrap();
        assert_eq!(granted.to.as_str(), APPROVED);
        let rejected = workflow.on_event(&needs.instance, events::REJECTED, at).unwrap().unwrap();
        assert_eq!(rejected.to.as_str(), REJECTED);
        for from in [&needs.instance, &granted.instance, &rejected.instance] {
            let again = workflow.on_event(from, events::REQUIRED, at).unwrap().unwrap();
            assert_eq!(again.to.as_str(), AWAITING_APPROVAL);
            assert!(requires_approval(&again.actions));
        }
    }

    #[test]
    fn the_seed_workflow_of_draft_orders_does_not_take_submitted_orders() {
        let seed: WorkflowDefinition =
            serde_json::from_str(include_str!("../../demo/order-workflow.json")).unwrap();
        assert!(!takes_orders(&seed));
    }
}
