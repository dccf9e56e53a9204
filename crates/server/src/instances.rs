//! Workflow instances: entities running on a published workflow version, their transitions
//! (fired by people, by events, by timers) and the durable timers with their scheduler.
//!
//! `rules` decides everything: which transitions an actor may fire and why not, what firing
//! does, whether a timer's guard still holds when it comes due. This module stores instances,
//! performs the actions `rules` returns, and keeps the timers of each instance's current state
//! in `workflow_timers`.
//!
//! A timer fires once: the scheduler leases due rows with a conditional update (two servers on
//! one database never lease the same row at once), then fires each in a transaction that also
//! checks the instance's revision and deletes the timer. A timer that fell due while no server
//! ran fires at the first tick after start.

use crate::{
    AppState,
    auth::Caller,
    db::{self, Batch},
    error::{ApiError, Json, Path},
    notifications::{Notice, notify_all},
    params,
    util::{new_id, now},
    workflows,
};
use axum::{extract::State, http::StatusCode};
use rules::{
    condition::{FieldPath, Value},
    ids::{CustomerId, GroupId, TransitionId},
    time::Timestamp,
    workflow::{
        Action, Actor, Entity, Fired, Instance, Recipient, RuntimeError, TimerStatus,
        TransitionOption, Workflow, WorkflowDefinition, select,
    },
};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, sync::Arc, time::Duration};

/// How long a lease on a due timer lasts: a server that dies holding one lets another take it
/// after this.
const LEASE_MS: i64 = 30_000;

/// The compiled workflow of a published version (cached: published versions never change).
pub async fn workflow(state: &AppState, id: &str, version: u32) -> Result<Arc<Workflow>, ApiError> {
    let key = (id.to_owned(), version);
    if let Some(w) = state.workflow_cache.read().map_err(ApiError::internal)?.get(&key) {
        return Ok(w.clone());
    }
    let document: String = db::query(
        "SELECT document FROM workflow_versions WHERE workflow_id = $1 AND version = $2 AND status = $3",
    )
    .bind(id)
    .bind(i64::from(version))
    .bind(workflows::PUBLISHED)
    .fetch_optional(&state.db.read)
    .await?
    .ok_or_else(|| ApiError::internal(format!("no published workflow {id} version {version}")))?
    .try_get("document")?;
    let def: WorkflowDefinition = serde_json::from_str(&document).map_err(ApiError::internal)?;
    let compiled = Arc::new(Workflow::new(def).map_err(|d| ApiError::internal(format!("{d:?}")))?);
    state.workflow_cache.write().map_err(ApiError::internal)?.insert(key, compiled.clone());
    Ok(compiled)
}

/// An instance as stored.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) id: String,
    pub(crate) company_id: String,
    pub(crate) entity_id: String,
    pub(crate) revision: i64,
    pub(crate) instance: Instance,
}

/// The columns [`from_row`] reads.
pub(crate) const COLUMNS: &str = "id, company_id, entity_id, workflow_id, version, state, entered_at, fields, started_by, revision";

/// An instance from a row of [`COLUMNS`].
pub(crate) fn from_row(row: &db::Row) -> Result<Stored, ApiError> {
    let instance = Instance {
        workflow: rules::ids::WorkflowId::parse(&row.try_get::<String>("workflow_id")?)
            .map_err(ApiError::internal)?,
        version: u32::try_from(row.try_get::<i64>("version")?).map_err(ApiError::internal)?,
        state: rules::ids::StateId::parse(&row.try_get::<String>("state")?)
            .map_err(ApiError::internal)?,
        entered_at: Timestamp::from_millis(row.try_get("entered_at")?),
        fields: serde_json::from_str(&row.try_get::<String>("fields")?)
            .map_err(ApiError::internal)?,
        started_by: row
            .try_get::<Option<String>>("started_by")?
            .map(|id| rules::ids::UserId::parse(&id))
            .transpose()
            .map_err(ApiError::internal)?,
    };
    Ok(Stored {
        id: row.try_get("id")?,
        company_id: row.try_get("company_id")?,
        entity_id: row.try_get("entity_id")?,
        revision: row.try_get("revision")?,
        instance,
    })
}

pub(crate) async fn load<'e>(
    executor: impl Into<db::Exec<'e>>,
    id: &str,
) -> Result<Option<Stored>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM workflow_instances WHERE id = $1");
    db::query(db::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Adds the timers of the instance's current state to the batch.
pub(crate) fn arm_timers(
    batch: &mut Batch,
    workflow: &Workflow,
    id: &str,
    revision: i64,
    instance: &Instance,
) {
    let Ok(timers) = workflow.timers(instance, instance.entered_at) else { return };
    for timer in timers {
        batch.push(
            "INSERT INTO workflow_timers (instance_id, transition_id, revision, due_at, leased_until) VALUES ($1, $2, $3, $4, 0)",
            params![id, timer.transition.to_string(), revision, timer.due_at.millis()],
        );
    }
}

pub(crate) fn refused(e: &RuntimeError) -> ApiError {
    match e {
        RuntimeError::Refused(r) => ApiError::conflict("transition_refused", r.to_string())
            .with_details(serde_json::json!({ "refusal": r })),
        RuntimeError::BadFields(d) => ApiError::invalid("fields", e.to_string())
            .with_details(serde_json::json!({ "diagnostics": d })),
        _ => ApiError::internal(e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartInput {
    pub entity: Entity,
    /// The entity's id (an order's, a quote's).
    pub entity_id: String,
    /// The customer company; a customer's own users leave it out.
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub fields: BTreeMap<FieldPath, Value>,
}

/// An instance as the API shows it: where it is, what the caller may do next and why not,
/// its timers, and its history.
#[derive(Debug, Serialize)]
pub struct InstanceView {
    pub id: String,
    pub company_id: String,
    pub entity_id: String,
    pub revision: i64,
    pub instance: Instance,
    pub available: Vec<TransitionOption>,
    pub timers: Vec<TimerStatus>,
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Serialize)]
pub struct HistoryEntry {
    pub at: i64,
    pub actor_id: Option<String>,
    pub cause: String,
    pub transition: String,
    pub from: String,
    pub to: String,
    pub note: Option<String>,
}

pub(crate) fn actor(caller: &Caller) -> Result<Actor, ApiError> {
    Ok(Actor {
        id: Some(rules::ids::UserId::parse(&caller.user_id).map_err(ApiError::internal)?),
        roles: caller.roles.iter().map(|r| r.as_str().into()).collect(),
    })
}

/// `POST /api/workflow-instances`: starts an entity on the workflow that applies to its
/// customer (the most specific published scope).
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<StartInput>,
) -> Result<(StatusCode, Json<InstanceView>), ApiError> {
    if input.entity_id.trim().is_empty() || input.entity_id.chars().count() > 100 {
        return Err(ApiError::invalid(
            "entity_id",
            "an entity id of 1 to 100 characters is required",
        ));
    }
    let customer = workflows::customer_for(&state, &caller, input.customer.as_deref()).await?;
    let id = begin(
        &state,
        &customer.company_id,
        Started {
            entity: input.entity,
            entity_id: input.entity_id.trim(),
            customer: &customer.id,
            group: customer.group.as_ref(),
            fields: input.fields,
            by: Some(&caller.user_id),
            at: now(),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view(&state, &caller, &id).await?)))
}

/// An entity to start on its workflow.
#[derive(Debug)]
pub struct Started<'a> {
    pub entity: Entity,
    pub entity_id: &'a str,
    pub customer: &'a CustomerId,
    pub group: Option<&'a GroupId>,
    pub fields: BTreeMap<FieldPath, Value>,
    pub by: Option<&'a str>,
    /// When it entered the start state.
    pub at: Timestamp,
}

/// Starts an entity of `company_id` on the workflow that applies to it, arming the start
/// state's timers; answers the instance id.
pub async fn begin(state: &AppState, company_id: &str, s: Started<'_>) -> Result<String, ApiError> {
    let published = workflows::current_published(state, s.entity).await?;
    let def = select(&published, s.entity, s.customer, s.group).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_workflow",
            format!("no published {} workflow applies to this customer", s.entity.name()),
        )
    })?;
    let workflow = workflow(state, def.id.as_str(), def.version).await?;
    let mut instance = workflow.begin(s.fields, s.at).map_err(|e| refused(&e))?;
    instance.started_by =
        s.by.map(rules::ids::UserId::parse).transpose().map_err(ApiError::internal)?;
    let id = new_id("wfi");
    let mut batch = Batch::new();
    batch.push(
        "INSERT INTO workflow_instances (id, company_id, entity, entity_id, workflow_id, version, state, entered_at, fields, started_by, revision, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        params![
            &id,
            company_id,
            s.entity.name(),
            s.entity_id,
            instance.workflow.to_string(),
            i64::from(instance.version),
            instance.state.to_string(),
            s.at.millis(),
            serde_json::to_string(&instance.fields).map_err(ApiError::internal)?,
            s.by,
            1,
            now().millis(),
            now().millis()
        ],
    );
    arm_timers(&mut batch, &workflow, &id, 1, &instance);
    let mut tx = state.db.write.begin().await?;
    if let Err(e) = batch.run(&mut tx).await {
        tx.rollback().await?;
        return match &e {
            e if e.is_unique_violation() => {
                Err(ApiError::conflict("instance_exists", "this entity runs on a workflow already")
                    .with_field("entity_id"))
            }
            _ => Err(e.into()),
        };
    }
    tx.commit().await?;
    Ok(id)
}

/// The instance as the caller may see it: seller staff see every instance, a customer's users
/// their company's, except that a buyer without another role sees only the ones they started
/// (as with orders: their own drafts, orders and quotes, not their colleagues').
async fn visible(state: &AppState, caller: &Caller, id: &str) -> Result<Stored, ApiError> {
    let buyer_only = !caller.seller && !caller.roles.iter().any(|r| r != "buyer");
    load(&state.db.read, id)
        .await?
        .filter(|s| caller.seller || s.company_id == caller.company_id)
        .filter(|s| {
            !buyer_only
                || s.instance.started_by.as_ref().map(|u| u.as_str()) == Some(&caller.user_id)
        })
        .ok_or_else(|| ApiError::not_found("workflow instance"))
}

async fn view(state: &AppState, caller: &Caller, id: &str) -> Result<InstanceView, ApiError> {
    let stored = visible(state, caller, id).await?;
    let workflow =
        workflow(state, stored.instance.workflow.as_str(), stored.instance.version).await?;
    let at = now();
    let available =
        workflow.available(&stored.instance, &actor(caller)?, at).map_err(|e| refused(&e))?;
    let timers = workflow.timers(&stored.instance, at).map_err(|e| refused(&e))?;
    let rows = db::query(
        "SELECT at, actor_id, cause, transition_id, from_state, to_state, note FROM workflow_history WHERE instance_id = $1 ORDER BY at, id",
    )
    .bind(id)
    .fetch_all(&state.db.read)
    .await?;
    let history = rows
        .iter()
        .map(|r| -> Result<HistoryEntry, ApiError> {
            Ok(HistoryEntry {
                at: r.try_get("at")?,
                actor_id: r.try_get("actor_id")?,
                cause: r.try_get("cause")?,
                transition: r.try_get("transition_id")?,
                from: r.try_get("from_state")?,
                to: r.try_get("to_state")?,
                note: r.try_get("note")?,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(InstanceView {
        id: stored.id,
        company_id: stored.company_id,
        entity_id: stored.entity_id,
        revision: stored.revision,
        instance: stored.instance,
        available,
        timers,
        history,
    })
}

/// `GET /api/workflow-instances/{id}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<InstanceView>, ApiError> {
    Ok(Json(view(&state, &caller, &id).await?))
}

/// The users a notify action reaches.
async fn recipients(
    state: &AppState,
    stored: &Stored,
    to: &[Recipient],
) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for r in to {
        let (seller_side, role) = match r {
            Recipient::Buyer => {
                out.extend(stored.instance.started_by.as_ref().map(ToString::to_string));
                continue;
            }
            Recipient::Approvers => (false, "approver"),
            Recipient::CompanyAdmins => (false, "company_admin"),
            Recipient::SalesRep => {
                // The company's account manager, if it has one; else every sales rep.
                let manager: Option<String> =
                    db::query("SELECT sales_rep_id FROM companies WHERE id = $1")
                        .bind(&stored.company_id)
                        .fetch_optional(&state.db.read)
                        .await?
                        .map(|row| row.try_get("sales_rep_id"))
                        .transpose()?
                        .flatten();
                if let Some(manager) = manager {
                    out.push(manager);
                    continue;
                }
                (true, "sales_rep")
            }
            Recipient::SellerAdmins => (true, "seller_admin"),
            Recipient::BackOffice => (true, "back_office"),
        };
        let sql = if seller_side {
            "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id JOIN companies c ON c.id = u.company_id
             WHERE c.kind = 'seller' AND r.role = $1 AND $2 <> '' ORDER BY u.id"
        } else {
            "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id
             WHERE r.role = $1 AND u.company_id = $2 ORDER BY u.id"
        };
        let rows =
            db::query(sql).bind(role).bind(&stored.company_id).fetch_all(&state.db.read).await?;
        for row in rows {
            out.push(row.try_get("id")?);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Adds to `batch` what a fired transition writes besides the instance's own row: the timers
/// of its new state (armed at `revision`, the instance's revision once written), its history
/// entry, and what its actions cause (notifications and their mail, webhooks in the outbox).
/// `require_approval` and `set` need nothing here: `rules` applied the fields already, and an
/// order's approval steps are written by the order code that fired the transition.
#[expect(clippy::too_many_arguments, reason = "one transition's whole context")]
pub(crate) async fn record_fired(
    state: &AppState,
    batch: &mut Batch,
    workflow: &Workflow,
    stored: &Stored,
    fired: &Fired,
    revision: i64,
    cause: &str,
    actor_id: Option<&str>,
) -> Result<(), ApiError> {
    let notices = notices_of(state, stored, fired).await?;
    let order = if notices.is_empty() {
        None
    } else {
        placed_order(state, workflow.definition().entity, &stored.entity_id).await?
    };
    let fired = FiredWrite { workflow, stored, fired, revision, cause, actor_id };
    fired.push(batch);
    fired.notify(batch, &notices, order);
    Ok(())
}

/// Who a fired transition's notify actions reach, each with the action's text. Read before the
/// write, as it looks up who holds a role.
pub(crate) async fn notices_of(
    state: &AppState,
    stored: &Stored,
    fired: &Fired,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut notices = Vec::new();
    for action in &fired.actions {
        if let Action::Notify { to, template } = action {
            for user in recipients(state, stored, to).await? {
                notices.push((user, message_of(template)));
            }
        }
    }
    Ok(notices)
}

/// A fired transition, to be written with its instance.
pub(crate) struct FiredWrite<'a> {
    pub(crate) workflow: &'a Workflow,
    pub(crate) stored: &'a Stored,
    pub(crate) fired: &'a Fired,
    /// The instance's revision once written.
    pub(crate) revision: i64,
    pub(crate) cause: &'a str,
    pub(crate) actor_id: Option<&'a str>,
}

impl FiredWrite<'_> {
    /// Adds the transition's writes to `batch`: timers, history and webhooks.
    pub(crate) fn push(&self, batch: &mut Batch) {
        let FiredWrite { workflow, stored, fired, revision, cause, actor_id } = *self;
        let def = workflow.definition();
        batch.push("DELETE FROM workflow_timers WHERE instance_id = $1", params![&stored.id]);
        arm_timers(batch, workflow, &stored.id, revision, &fired.instance);
        batch.push(
            "INSERT INTO workflow_history (id, instance_id, at, actor_id, cause, transition_id, from_state, to_state, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            params![
                new_id("wfh"),
                &stored.id,
                fired.at.millis(),
                actor_id,
                cause,
                fired.transition.to_string(),
                fired.from.to_string(),
                fired.to.to_string(),
                None::<String>
            ],
        );
        for action in &fired.actions {
            if let Action::Call { integration } = action {
                let hook = new_id("whk");
                let body = serde_json::json!({
                    "id": &hook,
                    "event": "workflow.transition",
                    "integration": integration,
                    "instance": { "id": &stored.id, "company_id": &stored.company_id, "entity": def.entity.name(), "entity_id": &stored.entity_id,
                                  "workflow": def.id, "version": def.version, "fields": &fired.instance.fields },
                    "transition": fired.transition, "from": fired.from, "to": fired.to, "at": fired.at,
                });
                batch.push(
                    "INSERT INTO webhook_outbox (id, integration, body, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5)",
                    params![
                        hook,
                        integration.to_string(),
                        body.to_string(),
                        fired.at.millis(),
                        fired.at.millis()
                    ],
                );
            }
        }
    }

    /// Adds the notifications of `notices` (from [`notices_of`]) to `batch`, naming the placed
    /// order `order` by its number (and linking to it: after the order's row, when the same
    /// batch writes it).
    pub(crate) fn notify(
        &self,
        batch: &mut Batch,
        notices: &[(String, String)],
        order: Option<i64>,
    ) {
        let FiredWrite { workflow, stored, fired, .. } = *self;
        let def = workflow.definition();
        if notices.is_empty() {
            return;
        }
        let subject = match order {
            Some(number) => format!("order {number}"),
            None => format!("{} {}", def.entity.name(), stored.entity_id),
        };
        let title = format!("{}: {} ({subject})", def.name, label_of(workflow, fired));
        let notices: Vec<Notice<'_>> = notices
            .iter()
            .map(|(user, text)| Notice {
                user_id: user,
                kind: "workflow",
                title: title.clone(),
                body: format!(
                    "{text}\n\n{}: {} → {}.",
                    capitalized(&subject),
                    fired.from,
                    fired.to
                ),
                order_id: order.map(|_| stored.entity_id.as_str()),
            })
            .collect();
        notify_all(batch, &notices);
    }
}

/// `text` with its first letter in capitals, to open a sentence.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

/// A notify action's text for people: a key such as `order-shipped` in words ("Order
/// shipped."); anything else (a sentence the workflow's author wrote) as it is.
fn message_of(template: &str) -> String {
    let is_key = !template.is_empty()
        && template
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !is_key {
        return template.to_owned();
    }
    format!("{}.", capitalized(&template.replace(['-', '_'], " ")))
}

/// The number of the placed order an instance runs, for its notifications; `None` for other
/// entities. (A transition fired by the submission itself is told by the order code, which
/// knows the number it is giving the order.)
async fn placed_order(
    state: &AppState,
    entity: Entity,
    entity_id: &str,
) -> Result<Option<i64>, ApiError> {
    if entity != Entity::Order {
        return Ok(None);
    }
    let row = db::query("SELECT number FROM orders WHERE id = $1")
        .bind(entity_id)
        .fetch_optional(&state.db.read)
        .await?;
    Ok(row.map(|r| r.try_get("number")).transpose()?)
}

/// The label of the transition that fired.
pub(crate) fn label_of(workflow: &Workflow, fired: &Fired) -> String {
    workflow
        .definition()
        .transitions
        .iter()
        .find(|t| t.id == fired.transition)
        .map(|t| t.label.to_string())
        .unwrap_or_default()
}

/// Adds the statements that keep an order in step with its instance when a transition fired
/// outside the order code (by hand through this API, by a timer): the order's state follows,
/// its revision is bumped, the order history records it, and approval steps still open are
/// cancelled when the order leaves the state they were for. They change nothing when the
/// instance runs no order.
pub(crate) fn follow_order(
    batch: &mut Batch,
    instance_id: &str,
    (from, to): (&rules::ids::StateId, &rules::ids::StateId),
    at: i64,
    comment: &str,
    actor_id: Option<&str>,
) {
    batch.push(
        "UPDATE orders SET state = $1, revision = revision + 1, updated_at = $2 WHERE workflow_instance_id = $3",
        params![to.to_string(), at, instance_id],
    );
    batch.push(
        "INSERT INTO order_history (id, order_id, at, actor_id, from_state, to_state, comment)
         SELECT $1, id, $2, $3, $4, $5, $6 FROM orders WHERE workflow_instance_id = $7",
        params![
            new_id("hst"),
            at,
            actor_id,
            from.to_string(),
            to.to_string(),
            comment,
            instance_id
        ],
    );
    if from != to {
        batch.push(
            "UPDATE approval_steps SET status = 'cancelled' WHERE status IN ('pending', 'waiting')
             AND order_id IN (SELECT id FROM orders WHERE workflow_instance_id = $1)",
            params![instance_id],
        );
    }
}

/// Writes a fired transition: the instance (if its revision is still `stored.revision`), its
/// new timers, its history, its notifications, and the order it runs if it runs one (with a
/// new round of approval, routed under the current policy, if the transition requires one).
/// When that reroute finds that nobody needs to approve any more, the workflow is sent
/// `approval.not_required` at once, as after a submission, and whatever transition that fires
/// (in the built-in workflow, to `approved`) is written in the same transaction.
/// `false` if the instance changed meanwhile. Everything that can refuse the transition (a
/// blocked reroute: 422) is decided before the transaction begins, so a refusal writes nothing.
pub(crate) async fn commit_fired(
    state: &AppState,
    workflow: &Workflow,
    stored: &Stored,
    fired: &Fired,
    cause: &str,
    actor_id: Option<&str>,
) -> Result<bool, ApiError> {
    let mut batch = Batch::new();
    let revision = stored.revision.saturating_add(1);
    record_fired(state, &mut batch, workflow, stored, fired, revision, cause, actor_id).await?;
    follow_order(
        &mut batch,
        &stored.id,
        (&fired.from, &fired.to),
        fired.at.millis(),
        &label_of(workflow, fired),
        actor_id,
    );
    let not_required =
        crate::orders::workflow::new_round_if_required(state, &mut batch, &stored.id, fired)
            .await?;
    let followed = if not_required {
        let event = crate::orders::workflow::events::NOT_REQUIRED;
        workflow.on_event(&fired.instance, event, fired.at).map_err(|e| refused(&e))?
    } else {
        None
    };
    // The instance as it ends: after the event's transition, if one fired.
    let last = match &followed {
        Some(next) => {
            record_fired(state, &mut batch, workflow, stored, next, revision, "event", None)
                .await?;
            let label = label_of(workflow, next);
            follow_order(
                &mut batch,
                &stored.id,
                (&next.from, &next.to),
                next.at.millis(),
                &label,
                None,
            );
            next
        }
        None => fired,
    };
    let mut tx = state.db.write.begin().await?;
    let updated = db::query(
        "UPDATE workflow_instances SET state = $1, entered_at = $2, fields = $3, revision = $4, updated_at = $5 WHERE id = $6 AND revision = $7",
    )
    .bind(last.to.to_string())
    .bind(last.at.millis())
    .bind(serde_json::to_string(&last.instance.fields).map_err(ApiError::internal)?)
    .bind(revision)
    .bind(fired.at.millis())
    .bind(&stored.id)
    .bind(stored.revision)
    .execute(&mut tx)
    .await?;
    if updated.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    batch.run(&mut tx).await?;
    tx.commit().await?;
    Ok(true)
}

/// The order an instance runs, if it runs one.
pub(crate) async fn order_of(
    state: &AppState,
    instance_id: &str,
) -> Result<Option<String>, ApiError> {
    Ok(db::query("SELECT id FROM orders WHERE workflow_instance_id = $1")
        .bind(instance_id)
        .fetch_optional(&state.db.read)
        .await?
        .map(|r| r.try_get::<String>("id"))
        .transpose()?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FireInput {
    /// The revision the caller looked at.
    pub revision: i64,
}

/// `POST /api/workflow-instances/{id}/transitions/{transition}`: fires a manual transition, if
/// `rules` lets the caller (role, guard, state); else 409 with the refusal (422 if it requires
/// approval of an order the current policy blocks).
pub async fn fire(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, transition)): Path<(String, String)>,
    Json(input): Json<FireInput>,
) -> Result<Json<InstanceView>, ApiError> {
    let stored = visible(&state, &caller, &id).await?;
    if stored.revision != input.revision {
        return Err(ApiError::conflict(
            "instance_changed",
            "the instance changed since you looked at it; reload it",
        )
        .with_field("revision"));
    }
    let transition = TransitionId::parse(&transition)
        .map_err(|e| ApiError::invalid("transition", e.to_string()))?;
    let workflow =
        workflow(&state, stored.instance.workflow.as_str(), stored.instance.version).await?;
    let fired = workflow
        .fire(&stored.instance, &transition, &actor(&caller)?, now())
        .map_err(|e| refused(&e))?;
    if !commit_fired(&state, &workflow, &stored, &fired, "manual", Some(&caller.user_id)).await? {
        return Err(ApiError::conflict(
            "instance_changed",
            "the instance changed meanwhile; reload it",
        ));
    }
    Ok(Json(view(&state, &caller, &id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// The event's name (`order.updated`).
    pub event: String,
    /// Fields that changed with the event.
    #[serde(default)]
    pub fields: BTreeMap<FieldPath, Value>,
}

/// `POST /api/workflow-instances/{id}/events`: the entity changed. The new fields are stored,
/// the first event transition whose guard holds fires, and the timers of the state are armed
/// again, so one whose time has passed fires at the next tick if its guard holds now.
pub async fn event(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<EventInput>,
) -> Result<Json<InstanceView>, ApiError> {
    let stored = visible(&state, &caller, &id).await?;
    if let Some(order) = order_of(&state, &id).await? {
        // Its fields are the server's figures and its approval events come from the approval
        // steps: nobody sends them by hand.
        return Err(ApiError::conflict(
            "order_instance",
            format!(
                "this instance runs order {order}, whose fields and events come from the server; change the order through /api/orders/{order}"
            ),
        ));
    }
    if input.event.starts_with(rules::workflow::orders::APPROVAL_PREFIX) {
        return Err(ApiError::invalid(
            "event",
            "approval events come from the approval steps of an order; nobody sends them by hand",
        ));
    }
    let workflow =
        workflow(&state, stored.instance.workflow.as_str(), stored.instance.version).await?;
    let mut changed = stored.instance.clone();
    changed.fields.extend(input.fields);
    let at = now();
    // Checks the fields against the workflow's schema.
    workflow.facts(&changed, at).map_err(|e| refused(&e))?;
    let updated = Stored { instance: changed.clone(), ..stored };
    match workflow.on_event(&changed, &input.event, at).map_err(|e| refused(&e))? {
        Some(fired) => {
            // The stored revision is the one loaded; the fields go with the transition.
            if !commit_fired(&state, &workflow, &updated, &fired, "event", Some(&caller.user_id))
                .await?
            {
                return Err(ApiError::conflict(
                    "instance_changed",
                    "the instance changed meanwhile; try again",
                ));
            }
        }
        None => {
            let revision = updated.revision.saturating_add(1);
            let mut batch = Batch::new();
            batch.push("DELETE FROM workflow_timers WHERE instance_id = $1", params![&updated.id]);
            arm_timers(&mut batch, &workflow, &updated.id, revision, &changed);
            let mut tx = state.db.write.begin().await?;
            let done = db::query(
                "UPDATE workflow_instances SET fields = $1, revision = $2, updated_at = $3 WHERE id = $4 AND revision = $5",
            )
            .bind(serde_json::to_string(&changed.fields).map_err(ApiError::internal)?)
            .bind(revision)
            .bind(at.millis())
            .bind(&updated.id)
            .bind(updated.revision)
            .execute(&mut tx)
            .await?;
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Err(ApiError::conflict(
                    "instance_changed",
                    "the instance changed meanwhile; try again",
                ));
            }
            batch.run(&mut tx).await?;
            tx.commit().await?;
        }
    }
    Ok(Json(view(&state, &caller, &id).await?))
}

/// What one scheduler tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    pub fired: usize,
    /// Due, but the guard did not hold (or the instance had moved on, or the order it runs
    /// could not be routed for the new round of approval it requires).
    pub skipped: usize,
    /// Due, but firing failed (logged): its lease runs out and a later tick tries it again.
    pub failed: usize,
}

/// Fires the timers due at `at`, up to `batch` of them. Safe to run on several servers at once.
pub async fn fire_due_timers(
    state: &AppState,
    at: Timestamp,
    batch: i64,
) -> Result<Tick, ApiError> {
    let now_ms = at.millis();
    let candidates = db::query(
        "SELECT instance_id, transition_id, revision FROM workflow_timers WHERE due_at <= $1 AND leased_until <= $2 ORDER BY due_at LIMIT $3",
    )
    .bind(now_ms)
    .bind(now_ms)
    .bind(batch)
    .fetch_all(&state.db.read)
    .await?;
    let mut tick = Tick::default();
    for row in candidates {
        let instance_id: String = row.try_get("instance_id")?;
        let transition: String = row.try_get("transition_id")?;
        let revision: i64 = row.try_get("revision")?;
        let leased = db::query(
            "UPDATE workflow_timers SET leased_until = $1 WHERE instance_id = $2 AND transition_id = $3 AND revision = $4 AND leased_until <= $5",
        )
        .bind(now_ms.saturating_add(LEASE_MS))
        .bind(&instance_id)
        .bind(&transition)
        .bind(revision)
        .bind(now_ms)
        .execute(&state.db.write)
        .await?;
        if leased.rows_affected() != 1 {
            // Another server took it (or fired it, and the row is its successor's).
            continue;
        }
        // One timer that fails does not hold up the others.
        match fire_one(state, &instance_id, &transition, revision, at).await {
            Ok(true) => tick.fired = tick.fired.saturating_add(1),
            Ok(false) => tick.skipped = tick.skipped.saturating_add(1),
            Err(e) => {
                tracing::warn!(
                    "timer {transition} of instance {instance_id}: {} ({})",
                    e.message,
                    e.code
                );
                tick.failed = tick.failed.saturating_add(1);
            }
        }
    }
    Ok(tick)
}

/// Fires one leased timer; `false` if it did not fire (its guard failed, it was stale, or the
/// order it runs was blocked under its current approval policy).
async fn fire_one(
    state: &AppState,
    instance_id: &str,
    transition: &str,
    revision: i64,
    at: Timestamp,
) -> Result<bool, ApiError> {
    let drop_timer = || async {
        db::query("DELETE FROM workflow_timers WHERE instance_id = $1 AND transition_id = $2 AND revision = $3")
            .bind(instance_id)
            .bind(transition)
            .bind(revision)
            .execute(&state.db.write)
            .await
    };
    let Some(stored) = load(&state.db.read, instance_id).await? else {
        drop_timer().await?;
        return Ok(false);
    };
    if stored.revision != revision {
        // Armed by an earlier revision: the instance moved on.
        drop_timer().await?;
        return Ok(false);
    }
    let workflow =
        workflow(state, stored.instance.workflow.as_str(), stored.instance.version).await?;
    let transition_id = TransitionId::parse(transition).map_err(ApiError::internal)?;
    let skip = |note: String| skip_timer(state, &stored, transition, revision, at, note);
    match workflow.fire_timer(&stored.instance, &transition_id, at) {
        Ok(fired) => match commit_fired(state, &workflow, &stored, &fired, "timer", None).await {
            // The order it runs cannot start the round of approval the transition requires
            // (its plan under the current policy is blocked): nothing was written; like a
            // guard that does not hold, the timer does not fire.
            Err(e) if e.code == "blocked" || e.code == "cannot_route" => {
                tracing::info!(
                    "timer {transition} of instance {instance_id} skipped: {} ({})",
                    e.message,
                    e.code
                );
                skip(e.message).await
            }
            other => other,
        },
        Err(RuntimeError::Refused(refusal)) => skip(refusal.to_string()).await,
        Err(e) => Err(ApiError::internal(e.to_string())),
    }
}

/// Drops a due timer that does not fire, and records in the instance's history why.
async fn skip_timer(
    state: &AppState,
    stored: &Stored,
    transition: &str,
    revision: i64,
    at: Timestamp,
    note: String,
) -> Result<bool, ApiError> {
    let mut batch = Batch::new();
    batch.push(
        "DELETE FROM workflow_timers WHERE instance_id = $1 AND transition_id = $2 AND revision = $3",
        params![&stored.id, transition, revision],
    );
    batch.push(
        "INSERT INTO workflow_history (id, instance_id, at, actor_id, cause, transition_id, from_state, to_state, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        params![
            new_id("wfh"),
            &stored.id,
            at.millis(),
            None::<String>,
            "skipped",
            transition,
            stored.instance.state.to_string(),
            stored.instance.state.to_string(),
            note
        ],
    );
    let mut tx = state.db.write.begin().await?;
    batch.run(&mut tx).await?;
    tx.commit().await?;
    Ok(false)
}

/// The scheduler: fires due timers every `period`, from the moment it starts (so timers that
/// fell due while no server ran fire at once). Runs until the process ends.
pub async fn run_timers(state: AppState, period: Duration) {
    loop {
        loop {
            match fire_due_timers(&state, now(), 500).await {
                // A full batch: there may be more due right now.
                Ok(tick)
                    if tick.fired.saturating_add(tick.skipped).saturating_add(tick.failed)
                        >= 500 =>
                {
                    continue;
                }
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!("timers: {}", e.message);
                    break;
                }
            }
        }
        tokio::time::sleep(period).await;
    }
}

#[cfg(test)]
mod tests {
    use super::message_of;

    #[test]
    fn a_notify_key_reads_as_words_and_a_sentence_as_written() {
        assert_eq!(message_of("order-shipped"), "Order shipped.");
        assert_eq!(message_of("big_order_7d"), "Big order 7d.");
        assert_eq!(message_of("Your order is on its way"), "Your order is on its way");
        assert_eq!(message_of("re-order now!"), "re-order now!");
        assert_eq!(message_of(""), "");
    }
}
