//! Workflow definitions: drafts, published versions, validation, import and export, and which
//! workflow a new order, quote or checkout starts on.
//!
//! A workflow is a sequence of versions. Its latest version may be a draft, which a seller admin
//! saves as often as they like, problems and all; publishing checks it with `rules` and refuses
//! it while it has errors (warnings do not block). A published version never changes again, so
//! whatever runs on it keeps running on it.
//!
//! Definitions travel as JSON (what the editor edits) or YAML (for people and their own
//! repositories): a body sent as `application/yaml` is read as YAML, and `?format=yaml` answers
//! a version as YAML.

use crate::db;
use crate::{
    AppState,
    auth::Caller,
    companies,
    error::{ApiError, Json, Path, Query},
    util::now,
};
use axum::{
    extract::{FromRequest, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use rules::{
    diagnostic::Diagnostic,
    ids::{CustomerId, GroupId},
    workflow::{Entity, Scope, WorkflowDefinition, select, validate},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::json;

pub const DRAFT: &str = "draft";
pub const PUBLISHED: &str = "published";

/// Who may read workflows: the seller's staff.
const READERS: [&str; 3] = ["seller_admin", "sales_rep", "back_office"];
/// Who may change them.
pub(crate) const EDITORS: [&str; 1] = ["seller_admin"];

pub(crate) fn require(caller: &Caller, roles: &[&str]) -> Result<(), ApiError> {
    if !caller.seller {
        return Err(ApiError::forbidden("workflows belong to the seller"));
    }
    caller.require_any(roles)
}

/// The built-in order workflow ships with the server: nobody edits it (a seller publishes their
/// own order workflow instead, for example from its export).
fn not_builtin(id: &str) -> Result<(), ApiError> {
    if id == crate::orders::workflow::DEFAULT_ID {
        return Err(ApiError::conflict(
            "builtin_workflow",
            format!("{id} is the built-in order workflow; create a workflow of your own (its export is a good start)"),
        )
        .with_field("id"));
    }
    Ok(())
}

/// A definition in the body, as JSON or (with `Content-Type: application/yaml`) YAML. Problems
/// that stop it from being read at all are answered with the path of the field at fault.
#[derive(Debug)]
pub struct Document<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Document<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let media = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if !matches!(media.as_str(), "application/yaml" | "application/x-yaml" | "text/yaml") {
            return Json::<T>::from_request(req, state).await.map(|Json(v)| Document(v));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", e.to_string())
        })?;
        from_yaml(&bytes).map(Document)
    }
}

/// Reads YAML strictly: text that is not YAML is a bad request; YAML that does not fit is
/// answered with the path of the field at fault.
pub fn from_yaml<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_norway::Value = serde_norway::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_yaml",
            format!("the body is not valid YAML: {e}"),
        )
    })?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        ApiError::invalid(if path == "." { String::new() } else { path }, message)
    })
}

/// One version of a workflow, as listed.
#[derive(Debug, Serialize)]
pub struct VersionSummary {
    pub version: i64,
    pub status: String,
    pub created_at: i64,
    pub published_at: Option<i64>,
    /// Entities running on this version.
    pub instances: i64,
}

/// A workflow, as listed: its latest version's name, entity and scope, and its versions.
#[derive(Debug, Serialize)]
pub struct WorkflowSummary {
    pub id: String,
    pub name: String,
    pub entity: String,
    pub scope: Scope,
    /// The version new entities start on, if any version is published.
    pub published_version: Option<i64>,
    /// The version being edited, if any.
    pub draft_version: Option<i64>,
    /// The built-in order workflow (orders run on it when no published order workflow of the
    /// seller applies).
    pub builtin: bool,
    pub versions: Vec<VersionSummary>,
}

/// A saved or published version, with what `rules` says about it.
#[derive(Debug, Serialize)]
pub struct Saved {
    pub id: String,
    pub version: i64,
    pub status: &'static str,
    pub diagnostics: Vec<Diagnostic>,
}

fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}

fn to_json<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

fn parse(document: &str) -> Result<WorkflowDefinition, ApiError> {
    serde_json::from_str(document).map_err(ApiError::internal)
}

/// `GET /api/workflows`: every workflow with its versions.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<WorkflowSummary>>, ApiError> {
    require(&caller, &READERS)?;
    let rows = db::query(
        "SELECT w.workflow_id, w.version, w.status, w.document, w.created_at, w.published_at,
                (SELECT COUNT(*) FROM workflow_instances i WHERE i.workflow_id = w.workflow_id AND i.version = w.version) AS instances
         FROM workflow_versions w ORDER BY w.workflow_id, w.version",
    )
    .fetch_all(&state.db.read)
    .await?;
    let mut out: Vec<WorkflowSummary> = Vec::new();
    for row in rows {
        let id: String = row.try_get("workflow_id")?;
        let version = VersionSummary {
            version: row.try_get("version")?,
            status: row.try_get("status")?,
            created_at: row.try_get("created_at")?,
            published_at: row.try_get("published_at")?,
            instances: row.try_get("instances")?,
        };
        let def = parse(&row.try_get::<String>("document")?)?;
        let summary = match out.last_mut() {
            Some(last) if last.id == id => last,
            _ => {
                out.push(WorkflowSummary {
                    builtin: id == crate::orders::workflow::DEFAULT_ID,
                    id,
                    name: String::new(),
                    entity: String::new(),
                    scope: Scope::All,
                    published_version: None,
                    draft_version: None,
                    versions: Vec::new(),
                });
                out.last_mut().ok_or_else(|| ApiError::internal("just pushed"))?
            }
        };
        // The latest version names the workflow.
        summary.name = def.name.to_string();
        summary.entity = def.entity.name().to_owned();
        summary.scope = def.scope;
        if version.status == PUBLISHED {
            summary.published_version = Some(version.version);
        } else {
            summary.draft_version = Some(version.version);
        }
        summary.versions.push(version);
    }
    Ok(Json(out))
}

/// `POST /api/workflows`: a new workflow, from a definition (JSON or YAML), saved as draft
/// version 1. Its `version` is ignored: the server numbers versions.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Document(mut def): Document<WorkflowDefinition>,
) -> Result<(StatusCode, Json<Saved>), ApiError> {
    require(&caller, &EDITORS)?;
    not_builtin(def.id.as_str())?;
    def.version = 1;
    let diagnostics = validate(&def);
    if !insert_draft(&state, &def, &caller.user_id).await? {
        return Err(ApiError::conflict(
            "workflow_exists",
            format!("a workflow {} exists already; save a draft of it instead", def.id),
        )
        .with_field("id"));
    }
    Ok((
        StatusCode::CREATED,
        Json(Saved { id: def.id.to_string(), version: 1, status: DRAFT, diagnostics }),
    ))
}

/// Stores a definition as a new published version of its workflow (the demo data's way in;
/// people go through drafts). Refused, with its diagnostics, if it has errors.
pub async fn publish_directly(
    state: &AppState,
    mut def: WorkflowDefinition,
    by: Option<&str>,
) -> Result<i64, ApiError> {
    let latest: Option<i64> =
        db::query("SELECT MAX(version) AS v FROM workflow_versions WHERE workflow_id = $1")
            .bind(def.id.to_string())
            .fetch_one(&state.db.read)
            .await?
            .try_get("v")?;
    let version = latest.unwrap_or(0).saturating_add(1);
    def.version = u32::try_from(version).map_err(ApiError::internal)?;
    let diagnostics = validate(&def);
    if has_errors(&diagnostics) {
        return Err(ApiError::invalid("document", "the workflow has errors")
            .with_details(json!({ "diagnostics": diagnostics })));
    }
    let at = now().millis();
    db::query(
        "INSERT INTO workflow_versions (workflow_id, version, status, name, entity, document, created_by, created_at, published_by, published_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(def.id.to_string())
    .bind(version)
    .bind(PUBLISHED)
    .bind(def.name.to_string())
    .bind(def.entity.name())
    .bind(to_json(&def)?)
    .bind(by)
    .bind(at)
    .bind(by)
    .bind(at)
    .execute(&state.db.write)
    .await?;
    Ok(version)
}

/// Inserts `def` as a draft at its own version; `false` if that version exists already.
async fn insert_draft(
    state: &AppState,
    def: &WorkflowDefinition,
    by: &str,
) -> Result<bool, ApiError> {
    let inserted = db::query(
        "INSERT INTO workflow_versions (workflow_id, version, status, name, entity, document, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(def.id.to_string())
    .bind(i64::from(def.version))
    .bind(DRAFT)
    .bind(def.name.to_string())
    .bind(def.entity.name())
    .bind(to_json(def)?)
    .bind(by)
    .bind(now().millis())
    .execute(&state.db.write)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The latest version of a workflow: its number and status.
async fn latest(state: &AppState, id: &str) -> Result<(i64, String), ApiError> {
    let row = db::query(
        "SELECT version, status FROM workflow_versions WHERE workflow_id = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&state.db.read)
    .await?
    .ok_or_else(|| ApiError::not_found("workflow"))?;
    Ok((row.try_get("version")?, row.try_get("status")?))
}

/// `PUT /api/workflows/{id}/draft`: saves the draft, problems and all (they are answered).
/// Replaces the draft if there is one, else starts the next version.
pub async fn save_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Document(mut def): Document<WorkflowDefinition>,
) -> Result<Json<Saved>, ApiError> {
    require(&caller, &EDITORS)?;
    not_builtin(&id)?;
    if def.id.as_str() != id {
        return Err(ApiError::invalid(
            "id",
            format!("the definition is {}, not {id}; a workflow's id never changes", def.id),
        ));
    }
    let (version, status) = latest(&state, &id).await?;
    let at = now().millis();
    let saved_version = if status == DRAFT {
        def.version = u32::try_from(version).map_err(ApiError::internal)?;
        let updated = db::query(
            "UPDATE workflow_versions SET name = $1, entity = $2, document = $3, created_by = $4, created_at = $5
             WHERE workflow_id = $6 AND version = $7 AND status = $8",
        )
        .bind(def.name.to_string())
        .bind(def.entity.name())
        .bind(to_json(&def)?)
        .bind(&caller.user_id)
        .bind(at)
        .bind(&id)
        .bind(version)
        .bind(DRAFT)
        .execute(&state.db.write)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(ApiError::conflict(
                "draft_published",
                "the draft was published meanwhile; save again to start the next version",
            ));
        }
        version
    } else {
        let next = version.saturating_add(1);
        def.version = u32::try_from(next).map_err(ApiError::internal)?;
        if !insert_draft(&state, &def, &caller.user_id).await? {
            return Err(ApiError::conflict(
                "draft_started",
                "someone started the next version meanwhile; reload it",
            ));
        }
        next
    };
    let diagnostics = validate(&def);
    Ok(Json(Saved { id, version: saved_version, status: DRAFT, diagnostics }))
}

/// `GET /api/workflows/{id}`: the workflow's versions.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<WorkflowSummary>, ApiError> {
    let Json(all) = list(State(state), caller).await?;
    all.into_iter().find(|w| w.id == id).map(Json).ok_or_else(|| ApiError::not_found("workflow"))
}

#[derive(Debug, Default, Deserialize)]
pub struct Export {
    /// `json` (the default) or `yaml`.
    #[serde(default)]
    pub format: Option<String>,
}

/// `GET /api/workflows/{id}/versions/{version}?format=json|yaml`: one version's definition.
pub async fn version(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, version)): Path<(String, i64)>,
    Query(export): Query<Export>,
) -> Result<Response, ApiError> {
    require(&caller, &READERS)?;
    let document: String =
        db::query("SELECT document FROM workflow_versions WHERE workflow_id = $1 AND version = $2")
            .bind(&id)
            .bind(version)
            .fetch_optional(&state.db.read)
            .await?
            .ok_or_else(|| ApiError::not_found("workflow version"))?
            .try_get("document")?;
    let def = parse(&document)?;
    match export.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(def).into_response()),
        "yaml" => {
            let text = serde_norway::to_string(&def).map_err(ApiError::internal)?;
            let name = format!("attachment; filename=\"{id}-v{version}.yaml\"");
            Ok((
                [
                    (header::CONTENT_TYPE, "application/yaml".to_owned()),
                    (header::CONTENT_DISPOSITION, name),
                ],
                text,
            )
                .into_response())
        }
        other => {
            Err(ApiError::invalid("format", format!("{other:?} is not a format: json or yaml")))
        }
    }
}

/// `POST /api/workflows/{id}/versions/{version}/publish`: publishes the draft, unless `rules`
/// finds errors in it (answered with every diagnostic, nothing changed).
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, version)): Path<(String, i64)>,
) -> Result<Json<Saved>, ApiError> {
    require(&caller, &EDITORS)?;
    let row = db::query(
        "SELECT status, document FROM workflow_versions WHERE workflow_id = $1 AND version = $2",
    )
    .bind(&id)
    .bind(version)
    .fetch_optional(&state.db.read)
    .await?
    .ok_or_else(|| ApiError::not_found("workflow version"))?;
    if row.try_get::<String>("status")? != DRAFT {
        return Err(ApiError::conflict("already_published", "this version is published already"));
    }
    let def = parse(&row.try_get::<String>("document")?)?;
    let diagnostics = validate(&def);
    if has_errors(&diagnostics) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "workflow_invalid",
            "the workflow has errors; fix them before publishing",
        )
        .with_details(json!({ "diagnostics": diagnostics })));
    }
    let updated = db::query(
        "UPDATE workflow_versions SET status = $1, published_by = $2, published_at = $3
         WHERE workflow_id = $4 AND version = $5 AND status = $6",
    )
    .bind(PUBLISHED)
    .bind(&caller.user_id)
    .bind(now().millis())
    .bind(&id)
    .bind(version)
    .bind(DRAFT)
    .execute(&state.db.write)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(ApiError::conflict("already_published", "this version is published already"));
    }
    Ok(Json(Saved { id, version, status: PUBLISHED, diagnostics }))
}

/// `POST /api/workflows/check`: what `rules` says about a definition, without saving it (what
/// `countersign check-workflow` says, for an admin's own tools).
pub async fn check(
    caller: Caller,
    Document(def): Document<WorkflowDefinition>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require(&caller, &READERS)?;
    let diagnostics = validate(&def);
    Ok(Json(json!({ "valid": !has_errors(&diagnostics), "diagnostics": diagnostics })))
}

/// A customer company, as workflows see it: its id and its group.
#[derive(Debug)]
pub struct Customer {
    pub company_id: String,
    pub id: CustomerId,
    pub group: Option<GroupId>,
}

/// The customer company a caller may act for: seller staff name one; a customer's users get
/// their own (naming another is answered as if it did not exist).
pub async fn customer_for(
    state: &AppState,
    caller: &Caller,
    named: Option<&str>,
) -> Result<Customer, ApiError> {
    let company_id = match (named, caller.seller) {
        (Some(c), true) => c.to_owned(),
        (Some(c), false) if c == caller.company_id => c.to_owned(),
        (None, false) => caller.company_id.clone(),
        (Some(_), false) => return Err(ApiError::not_found("company")),
        (None, true) => return Err(ApiError::invalid("customer", "name the customer company")),
    };
    let company = companies::load(state, &company_id)
        .await?
        .filter(|c| !c.seller)
        .ok_or_else(|| ApiError::not_found("company"))?;
    let id =
        CustomerId::parse(&company.id).map_err(|e| ApiError::invalid("customer", e.to_string()))?;
    let group = match company.customer_group.as_deref() {
        Some(g) => Some(GroupId::parse(g).map_err(ApiError::internal)?),
        None => None,
    };
    Ok(Customer { company_id: company.id, id, group })
}

#[derive(Debug, Deserialize)]
pub struct ResolveQuery {
    /// `order`, `quote` or `checkout`.
    pub entity: Entity,
    /// The customer company; a customer's own users may leave it out.
    #[serde(default)]
    pub customer: Option<String>,
}

/// The seller's published definitions new entities may start on: the latest published version
/// of each workflow (not the built-in order workflow, which is the fallback of orders only).
pub async fn current_published(
    state: &AppState,
    entity: Entity,
) -> Result<Vec<WorkflowDefinition>, ApiError> {
    let rows = db::query(
        "SELECT w.document FROM workflow_versions w
         WHERE w.entity = $1 AND w.status = $2 AND w.workflow_id <> $3 AND w.version = (
             SELECT MAX(v.version) FROM workflow_versions v WHERE v.workflow_id = w.workflow_id AND v.status = $4)",
    )
    .bind(entity.name())
    .bind(PUBLISHED)
    .bind(crate::orders::workflow::DEFAULT_ID)
    .bind(PUBLISHED)
    .fetch_all(&state.db.read)
    .await?;
    rows.iter().map(|r| parse(&r.try_get::<String>("document")?)).collect()
}

/// `GET /api/workflows/resolve?entity=order&customer=co_...`: the workflow a new entity of this
/// customer starts on (the most specific published scope), or `null`.
pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ResolveQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let customer = customer_for(&state, &caller, query.customer.as_deref()).await?;
    let published = current_published(&state, query.entity).await?;
    let chosen = select(&published, query.entity, &customer.id, customer.group.as_ref());
    Ok(Json(json!({
        "workflow": chosen.map(|d| json!({ "id": d.id, "version": d.version, "name": d.name, "scope": d.scope })),
    })))
}
