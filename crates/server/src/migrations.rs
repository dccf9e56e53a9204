//! Moving running instances to another version of their workflow: explicitly, by a seller
//! admin, after a preview. (The database's own migrations are in `migrations/`.)
//!
//! Publishing never changes running instances: each stays on the version it started on. A
//! preview (`POST /api/workflows/{id}/migrations/preview`) answers what `rules` says: the
//! differences between the two versions, how many instances can move and how many cannot (in
//! all and per state), and for the first [`PREVIEW_LISTED`] of each kind where it would land
//! (its state, or the state the `state_map` names for it), the timers armed there and the
//! transitions it gains or loses, or why it cannot move (its state has no counterpart, its
//! fields do not fit). `POST /api/workflows/{id}/migrations` with the same body moves them:
//!
//! - all or nothing: if any instance is blocked, 409 `instances_blocked` with their count and
//!   the first of them, and nothing moves, unless the body says `"skip_blocked": true`, which
//!   moves the movable ones and leaves the blocked ones on their version;
//! - answered like the preview: how many moved and how many stayed, and the first
//!   [`PREVIEW_LISTED`] of each;
//! - in one transaction: each instance moves only at the revision its plan was computed from,
//!   so one that fired meanwhile is never clobbered (409 `instance_changed`, nothing moved;
//!   preview again); its timers are armed again per the new version; a history entry with
//!   cause `migration`; an order's state follows its instance, with an order history entry.

use crate::{
    AppState,
    auth::Caller,
    db::{self, Batch},
    error::{ApiError, Json, Path},
    instances::{self, Stored},
    params,
    util::{new_id, now},
    workflows::{self, EDITORS, PUBLISHED},
};
use axum::extract::State;
use rules::{
    ids::StateId,
    messages::{explain_diff, explain_move_blocked},
    workflow::{InstanceMove, MoveBlocked, TimerStatus, Workflow, WorkflowDiff, diff, plan_move},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::{collections::BTreeMap, sync::Arc};

/// A migration, or its preview.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationInput {
    /// The version the instances run on now.
    pub from_version: i64,
    /// A published version to move them to.
    pub to_version: i64,
    /// Where instances in a state the target does not have (or should not keep) go:
    /// `{ "old_state": "new_state" }`.
    #[serde(default)]
    pub state_map: BTreeMap<String, String>,
    /// Move the movable instances and leave the blocked ones where they are (rather than
    /// refuse the whole migration). Ignored by the preview.
    #[serde(default)]
    pub skip_blocked: bool,
}

/// An instance that can move, and what moving does to it.
#[derive(Debug, Serialize)]
pub struct Movable {
    pub id: String,
    pub entity_id: String,
    /// The number of the order the instance runs, if it runs one.
    pub order_number: Option<i64>,
    pub revision: i64,
    pub from_state: StateId,
    pub to_state: StateId,
    pub timers: Vec<TimerStatus>,
    pub transitions: Vec<rules::ids::TransitionId>,
    pub transitions_gained: Vec<rules::ids::TransitionId>,
    pub transitions_lost: Vec<rules::ids::TransitionId>,
}

/// An instance that cannot move, and why.
#[derive(Debug, Serialize)]
pub struct Blocked {
    pub id: String,
    pub entity_id: String,
    /// The number of the order the instance runs, if it runs one.
    pub order_number: Option<i64>,
    pub state: StateId,
    pub reason: MoveBlocked,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct Counts {
    pub instances: usize,
    pub movable: usize,
    pub blocked: usize,
}

/// How many instances in one state of the old version can move, and how many cannot.
#[derive(Debug, Serialize)]
pub struct StateCount {
    pub state: StateId,
    pub movable: usize,
    pub blocked: usize,
}

/// The most instances a preview lists of each kind (movable, blocked); the counts are exact.
pub const PREVIEW_LISTED: usize = 200;

/// What a migration would do.
#[derive(Debug, Serialize)]
pub struct Preview {
    pub workflow: String,
    pub from_version: i64,
    pub to_version: i64,
    pub diff: WorkflowDiff,
    /// The diff in sentences.
    pub explanation: Vec<String>,
    pub counts: Counts,
    /// Per state of the old version that has instances, in the order of its ids.
    pub states: Vec<StateCount>,
    /// The first [`PREVIEW_LISTED`] movable instances.
    pub movable: Vec<Movable>,
    /// The first [`PREVIEW_LISTED`] blocked instances.
    pub blocked: Vec<Blocked>,
}

/// What a migration did.
#[derive(Debug, Serialize)]
pub struct Migrated {
    pub workflow: String,
    pub from_version: i64,
    pub to_version: i64,
    /// How many instances moved.
    pub moved_count: usize,
    /// The first [`PREVIEW_LISTED`] instances moved.
    pub moved: Vec<String>,
    /// How many instances were left on `from_version` (only with `skip_blocked`).
    pub blocked_count: usize,
    /// The first [`PREVIEW_LISTED`] of them.
    pub blocked: Vec<Blocked>,
}

/// The compiled version `field` names, which must be published.
async fn published(
    state: &AppState,
    id: &str,
    version: i64,
    field: &str,
) -> Result<Arc<Workflow>, ApiError> {
    let row =
        db::query("SELECT status FROM workflow_versions WHERE workflow_id = $1 AND version = $2")
            .bind(id)
            .bind(version)
            .fetch_optional(&state.db.read)
            .await?
            .ok_or_else(|| {
                ApiError::invalid(field, format!("workflow {id} has no version {version}"))
            })?;
    if row.try_get::<String>("status")? != PUBLISHED {
        return Err(ApiError::invalid(
            field,
            format!(
                "version {version} of {id} is a draft: publish it first (instances run only on published versions)"
            ),
        ));
    }
    let version = u32::try_from(version)
        .map_err(|_| ApiError::invalid(field, format!("workflow {id} has no version {version}")))?;
    instances::workflow(state, id, version).await
}

/// Everything a migration is computed from, checked; and the plan of each instance.
struct Planned {
    old: Arc<Workflow>,
    new: Arc<Workflow>,
    /// Each movable instance, with the number of the order it runs (if any).
    moves: Vec<(Stored, Option<i64>, InstanceMove)>,
    blocked: Vec<Blocked>,
}

async fn plan(
    state: &AppState,
    caller: &Caller,
    id: &str,
    input: &MigrationInput,
) -> Result<Planned, ApiError> {
    workflows::require(caller, &EDITORS)?;
    let exists = db::query("SELECT 1 AS one FROM workflow_versions WHERE workflow_id = $1 LIMIT 1")
        .bind(id)
        .fetch_optional(&state.db.read)
        .await?;
    if exists.is_none() {
        return Err(ApiError::not_found("workflow"));
    }
    if input.from_version == input.to_version {
        return Err(ApiError::invalid(
            "to_version",
            "the instances run on this version already: name another one",
        ));
    }
    let old = published(state, id, input.from_version, "from_version").await?;
    let new = published(state, id, input.to_version, "to_version").await?;
    let mut state_map = BTreeMap::new();
    for (from, to) in &input.state_map {
        let field = format!("state_map.{from}");
        let from_id = StateId::parse(from).map_err(|e| ApiError::invalid(&field, e.to_string()))?;
        if !old.definition().states.iter().any(|s| s.id == from_id) {
            return Err(ApiError::invalid(
                &field,
                format!("\"{from}\" is not a state of version {}", input.from_version),
            ));
        }
        let to_id = StateId::parse(to).map_err(|e| ApiError::invalid(&field, e.to_string()))?;
        if !new.definition().states.iter().any(|s| s.id == to_id) {
            return Err(ApiError::invalid(
                &field,
                format!("\"{to}\" is not a state of version {}", input.to_version),
            ));
        }
        state_map.insert(from_id, to_id);
    }
    let sql = format!(
        "SELECT {}, (SELECT o.number FROM orders o WHERE o.workflow_instance_id = workflow_instances.id) AS order_number
         FROM workflow_instances WHERE workflow_id = $1 AND version = $2 ORDER BY created_at, id",
        instances::COLUMNS
    );
    let rows = db::query(db::AssertSqlSafe(sql))
        .bind(id)
        .bind(input.from_version)
        .fetch_all(&state.db.read)
        .await?;
    let at = now();
    let mut moves = Vec::new();
    let mut blocked = Vec::new();
    for row in &rows {
        let stored = instances::from_row(row)?;
        let order_number: Option<i64> = row.try_get("order_number")?;
        match plan_move(&old, &new, &stored.instance, &state_map, at) {
            Ok(planned) => moves.push((stored, order_number, planned)),
            Err(reason) => blocked.push(Blocked {
                id: stored.id,
                entity_id: stored.entity_id,
                order_number,
                state: stored.instance.state,
                message: explain_move_blocked(&reason),
                reason,
            }),
        }
    }
    Ok(Planned { old, new, moves, blocked })
}

/// `POST /api/workflows/{id}/migrations/preview`: what moving the instances of one version to
/// another would do; nothing changes.
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<MigrationInput>,
) -> Result<Json<Preview>, ApiError> {
    let planned = plan(&state, &caller, &id, &input).await?;
    let d = diff(planned.old.definition(), planned.new.definition());
    let counts = Counts {
        instances: planned.moves.len().saturating_add(planned.blocked.len()),
        movable: planned.moves.len(),
        blocked: planned.blocked.len(),
    };
    let mut states: BTreeMap<&StateId, (usize, usize)> = BTreeMap::new();
    for (_, _, m) in &planned.moves {
        let count = states.entry(&m.from_state).or_default();
        count.0 = count.0.saturating_add(1);
    }
    for b in &planned.blocked {
        let count = states.entry(&b.state).or_default();
        count.1 = count.1.saturating_add(1);
    }
    let states = states
        .into_iter()
        .map(|(state, (movable, blocked))| StateCount { state: state.clone(), movable, blocked })
        .collect();
    let movable: Vec<Movable> = planned
        .moves
        .into_iter()
        .take(PREVIEW_LISTED)
        .map(|(stored, order_number, m)| Movable {
            id: stored.id,
            entity_id: stored.entity_id,
            order_number,
            revision: stored.revision,
            from_state: m.from_state,
            to_state: m.to_state,
            timers: m.timers,
            transitions: m.transitions,
            transitions_gained: m.transitions_gained,
            transitions_lost: m.transitions_lost,
        })
        .collect();
    let mut blocked = planned.blocked;
    blocked.truncate(PREVIEW_LISTED);
    Ok(Json(Preview {
        workflow: id,
        from_version: input.from_version,
        to_version: input.to_version,
        explanation: explain_diff(&d),
        diff: d,
        counts,
        states,
        movable,
        blocked,
    }))
}

/// `POST /api/workflows/{id}/migrations`: moves the instances of `from_version` to
/// `to_version`, in one transaction (see the module's documentation).
pub async fn migrate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<MigrationInput>,
) -> Result<Json<Migrated>, ApiError> {
    let planned = plan(&state, &caller, &id, &input).await?;
    let blocked_count = planned.blocked.len();
    let mut blocked = planned.blocked;
    blocked.truncate(PREVIEW_LISTED);
    if blocked_count > 0 && !input.skip_blocked {
        return Err(ApiError::conflict(
            "instances_blocked",
            format!("{blocked_count} instance(s) cannot move to version {}: map their states in state_map, or send \"skip_blocked\": true to move the others; nothing was moved", input.to_version),
        )
        .with_details(json!({ "blocked_count": blocked_count, "blocked": blocked })));
    }
    let at = now().millis();
    let note = format!("moved from version {} to version {}", input.from_version, input.to_version);
    let mut batch = Batch::new();
    let mut tx = state.db.write.begin().await?;
    let moved_count = planned.moves.len();
    let mut moved = Vec::with_capacity(moved_count.min(PREVIEW_LISTED));
    for (stored, _, m) in &planned.moves {
        let revision = stored.revision.saturating_add(1);
        let updated = db::query(
            "UPDATE workflow_instances SET version = $1, state = $2, revision = $3, updated_at = $4
             WHERE id = $5 AND revision = $6 AND version = $7",
        )
        .bind(input.to_version)
        .bind(m.to_state.to_string())
        .bind(revision)
        .bind(at)
        .bind(&stored.id)
        .bind(stored.revision)
        .bind(input.from_version)
        .execute(&mut tx)
        .await?;
        if updated.rows_affected() != 1 {
            tx.rollback().await?;
            return Err(ApiError::conflict(
                "instance_changed",
                format!("instance {} changed while the migration was prepared; nothing was moved: preview again", stored.id),
            )
            .with_details(json!({ "instance": stored.id })));
        }
        batch.push("DELETE FROM workflow_timers WHERE instance_id = $1", params![&stored.id]);
        instances::arm_timers(&mut batch, &planned.new, &stored.id, revision, &m.instance);
        batch.push(
            "INSERT INTO workflow_history (id, instance_id, at, actor_id, cause, transition_id, from_state, to_state, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            params![
                new_id("wfh"),
                &stored.id,
                at,
                &caller.user_id,
                "migration",
                "",
                m.from_state.to_string(),
                m.to_state.to_string(),
                &note
            ],
        );
        // An order's state is its instance's; its transitions may have changed with the version.
        crate::instances::follow_order(
            &mut batch,
            &stored.id,
            (&m.from_state, &m.to_state),
            at,
            &note,
            Some(&caller.user_id),
        );
        if moved.len() < PREVIEW_LISTED {
            moved.push(stored.id.clone());
        }
    }
    batch.run(&mut tx).await?;
    tx.commit().await?;
    state.metrics.count("instances_migrated");
    Ok(Json(Migrated {
        workflow: id,
        from_version: input.from_version,
        to_version: input.to_version,
        moved_count,
        moved,
        blocked_count,
        blocked,
    }))
}
