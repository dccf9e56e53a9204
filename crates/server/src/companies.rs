//! Customer companies: their directory (business units, users, roles) and their approval
//! policy, versioned. Company admins manage their own company; the seller's staff can read
//! every company; nobody else sees a company that is not theirs.

use crate::db::{self, Row};
use crate::{
    AppState,
    auth::Caller,
    error::{ApiError, Json, Path, Query},
    paging::{page, page_size},
    seed,
    util::now,
};
use axum::extract::State;
use rules::approval::{ApprovalContext, ApprovalPolicy, Directory, Member, Unit};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// A company as routing and pricing need it.
#[derive(Debug, Clone, Serialize)]
pub struct Company {
    pub id: String,
    pub name: String,
    pub seller: bool,
    pub customer_group: Option<String>,
    pub country: String,
    pub region: Option<String>,
    pub currency: String,
    pub credit_limit: Option<String>,
    pub open_balance: String,
    pub directory_version: i64,
    /// The account manager: the seller's sales rep who looks after this company (user id).
    pub sales_rep: Option<String>,
}

pub async fn load(state: &AppState, id: &str) -> Result<Option<Company>, ApiError> {
    let row =
        db::query(db::AssertSqlSafe(format!("SELECT {COMPANY} FROM companies WHERE id = $1")))
            .bind(id)
            .fetch_optional(&state.db.read)
            .await?;
    row.map(|r| company_from(&r)).transpose()
}

const COMPANY: &str = "id, name, kind, customer_group, country, region, currency, credit_limit, open_balance, directory_version, sales_rep_id";

fn company_from(r: &Row) -> Result<Company, ApiError> {
    Ok(Company {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        seller: r.try_get::<String>("kind")? == "seller",
        customer_group: r.try_get("customer_group")?,
        country: r.try_get("country")?,
        region: r.try_get("region")?,
        currency: r.try_get("currency")?,
        credit_limit: r.try_get("credit_limit")?,
        open_balance: r.try_get("open_balance")?,
        directory_version: r.try_get("directory_version")?,
        sales_rep: r.try_get("sales_rep_id")?,
    })
}

/// A day in milliseconds: `spend_by_day` counts days since 1970-01-01 (UTC).
pub(crate) const DAY_MS: i64 = 86_400_000;

/// A company with the versions a checkout is computed from, in one query: the current
/// pricing version (none before the seller publishes a catalog) and the company's current
/// policy version (0 without a policy).
pub async fn load_for_checkout(
    state: &AppState,
    id: &str,
    buyer: &str,
    period_starts: [i64; 5],
) -> Result<Option<ForCheckout>, ApiError> {
    // What the buyer spent since the start of each period (day, week, month, quarter, year),
    // in the company's currency, rejected orders aside, from the daily sums since the earliest
    // of the starts: every spending limit reads one of the five.
    let days = period_starts.map(|start| start.div_euclid(DAY_MS));
    let sums: Vec<String> = (3..8)
        .map(|n| {
            format!("CAST(COALESCE(SUM(CASE WHEN d.day >= ${n} THEN d.total_minor ELSE 0 END), 0) AS BIGINT) AS spent_{n}")
        })
        .collect();
    let earliest = days.iter().copied().min().unwrap_or(0);
    let row = db::query(db::AssertSqlSafe(format!(
        "SELECT {COMPANY},
            (SELECT MAX(version) FROM pricing_versions) AS pricing_version,
            (SELECT MAX(version) FROM policy_versions p WHERE p.company_id = companies.id) AS policy_version,
            (SELECT COUNT(*) FROM workflow_versions w WHERE w.status = 'published') AS published_workflows,
            s.*
         FROM companies CROSS JOIN (
            SELECT {} FROM spend_by_day d
            WHERE d.buyer_id = $2 AND d.day >= $8
              AND d.currency = (SELECT c.currency FROM companies c WHERE c.id = $1)
         ) s
         WHERE companies.id = $1",
        sums.join(", ")
    )))
    .bind(id)
    .bind(buyer)
    .bind(days[0])
    .bind(days[1])
    .bind(days[2])
    .bind(days[3])
    .bind(days[4])
    .bind(earliest)
    .fetch_optional(&state.db.read)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let policy_version: Option<i64> = r.try_get("policy_version")?;
    let mut spent_minor = [0i64; 5];
    for (n, slot) in (3..8).zip(spent_minor.iter_mut()) {
        *slot = r.try_get(format!("spent_{n}").as_str())?;
    }
    Ok(Some(ForCheckout {
        company: company_from(&r)?,
        pricing_version: r.try_get("pricing_version")?,
        policy_version: policy_version.unwrap_or(0),
        published_workflows: r.try_get("published_workflows")?,
        spent_minor,
    }))
}

/// A company with the versions a checkout is computed at, read in one query.
#[derive(Debug)]
pub struct ForCheckout {
    pub company: Company,
    pub pricing_version: Option<i64>,
    pub policy_version: i64,
    /// How many workflow versions are published: it changes with every publish, so it keys the
    /// cache of order workflows.
    pub published_workflows: i64,
    /// What the buyer spent, in minor units of the company's currency, since the start of the
    /// day, week, month, quarter and year (the order of [`rules::approval::Period`]).
    pub spent_minor: [i64; 5],
}

/// The company, if the caller may see it: their own, or any customer for the seller's staff.
/// Otherwise "not found", so that other companies' ids cannot be probed.
pub async fn visible(state: &AppState, caller: &Caller, id: &str) -> Result<Company, ApiError> {
    if caller.company_id != id && !caller.seller {
        return Err(ApiError::not_found("company"));
    }
    load(state, id).await?.ok_or_else(|| ApiError::not_found("company"))
}

/// The company, if the caller is one of its company admins.
pub(crate) async fn administered(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Company, ApiError> {
    let company = visible(state, caller, id).await?;
    if caller.company_id != id || !caller.has("company_admin") {
        return Err(ApiError::forbidden("only the company's admins change it"));
    }
    Ok(company)
}

/// The company's units and users, as approval routing reads them.
pub async fn directory(state: &AppState, company_id: &str) -> Result<Directory, ApiError> {
    directory_in(&state.db.read, company_id).await
}

/// The company's directory as a transaction (or a pool) sees it.
pub async fn directory_in<'a>(
    on: impl Into<db::Exec<'a>>,
    company_id: &str,
) -> Result<Directory, ApiError> {
    let mut on = on.into();
    let units = db::query(
        "SELECT id, name, parent_id FROM business_units WHERE company_id = $1 AND removed_at IS NULL ORDER BY id",
    )
    .bind(company_id)
    .fetch_all(on.reborrow())
    .await?
    .iter()
    .map(|r| -> Result<Unit, ApiError> {
        let parse = |v: String| rules::ids::UnitId::parse(&v).map_err(ApiError::internal);
        Ok(Unit {
            id: parse(r.try_get("id")?)?,
            name: r.try_get::<String>("name")?.into(),
            parent: r.try_get::<Option<String>>("parent_id")?.map(parse).transpose()?,
        })
    })
    .collect::<Result<Vec<_>, _>>()?;
    let roles = db::query("SELECT r.user_id, r.role FROM user_roles r JOIN users u ON u.id = r.user_id WHERE u.company_id = $1 ORDER BY r.role")
        .bind(company_id)
        .fetch_all(on.reborrow())
        .await?;
    let mut users = Vec::new();
    for r in db::query(
        "SELECT id, name, unit_id, manager_id FROM users WHERE company_id = $1 AND removed_at IS NULL ORDER BY id",
    )
    .bind(company_id)
    .fetch_all(on.reborrow())
    .await?
    {
        let id: String = r.try_get("id")?;
        let user = |v: String| rules::ids::UserId::parse(&v).map_err(ApiError::internal);
        let mut user_roles = Vec::new();
        for role in &roles {
            if role.try_get::<String>("user_id")? == id {
                user_roles.push(
                    rules::ids::RoleName::parse(&role.try_get::<String>("role")?)
                        .map_err(ApiError::internal)?,
                );
            }
        }
        users.push(Member {
            id: user(id)?,
            name: r.try_get::<String>("name")?.into(),
            roles: user_roles,
            unit: r
                .try_get::<Option<String>>("unit_id")?
                .map(|u| rules::ids::UnitId::parse(&u).map_err(ApiError::internal))
                .transpose()?,
            manager: r.try_get::<Option<String>>("manager_id")?.map(user).transpose()?,
        });
    }
    Ok(Directory { units, users })
}

/// A company without a policy needs no approvals.
fn no_policy() -> ApprovalPolicy {
    ApprovalPolicy {
        name: "No approvals".into(),
        mode: Default::default(),
        rules: vec![],
        spending_limits: vec![],
        over_credit: None,
        fallback: None,
    }
}

/// The company's current policy document and version (version 0, no rules, when it has none).
pub async fn policy(state: &AppState, company_id: &str) -> Result<(i64, ApprovalPolicy), ApiError> {
    policy_in(&state.db.read, company_id).await
}

/// The company's current policy and its version as a transaction (or a pool) sees it.
pub async fn policy_in<'a>(
    on: impl Into<db::Exec<'a>>,
    company_id: &str,
) -> Result<(i64, ApprovalPolicy), ApiError> {
    let row = db::query("SELECT version, document FROM policy_versions WHERE company_id = $1 ORDER BY version DESC LIMIT 1")
        .bind(company_id)
        .fetch_optional(on)
        .await?;
    match row {
        Some(r) => {
            let document: String = r.try_get("document")?;
            Ok((
                r.try_get("version")?,
                serde_json::from_str(&document).map_err(ApiError::internal)?,
            ))
        }
        None => Ok((0, no_policy())),
    }
}

/// One version of the company's policy.
async fn policy_at(
    state: &AppState,
    company_id: &str,
    version: i64,
) -> Result<ApprovalPolicy, ApiError> {
    if version == 0 {
        return Ok(no_policy());
    }
    let document: String =
        db::query("SELECT document FROM policy_versions WHERE company_id = $1 AND version = $2")
            .bind(company_id)
            .bind(version)
            .fetch_one(&state.db.read)
            .await?
            .try_get("document")?;
    serde_json::from_str(&document).map_err(ApiError::internal)
}

/// The company's approval context (policy and directory) at this policy version, cached by
/// policy and directory version, so several server instances on one database stay in step.
pub async fn approval_context(
    state: &AppState,
    company: &Company,
    policy_version: i64,
) -> Result<Arc<ApprovalContext>, ApiError> {
    if let Some((pv, dv, ctx)) =
        state.approval_cache.read().map_err(ApiError::internal)?.get(&company.id)
        && *pv == policy_version
        && *dv == company.directory_version
    {
        return Ok(ctx.clone());
    }
    let policy = policy_at(state, &company.id, policy_version).await?;
    let directory = directory(state, &company.id).await?;
    let ctx = Arc::new(ApprovalContext::new(policy, directory).map_err(|p| {
        ApiError::conflict("policy_out_of_date", "the approval policy no longer fits the company's directory; a company admin must update it")
            .with_details(json!({ "diagnostics": p }))
    })?);
    state
        .approval_cache
        .write()
        .map_err(ApiError::internal)?
        .insert(company.id.clone(), (policy_version, company.directory_version, ctx.clone()));
    Ok(ctx)
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Only the companies whose name or id contains this, letters of any case.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    /// The `next` of the previous page: the companies after it by name.
    #[serde(default)]
    pub after: Option<String>,
    /// Only the companies this user (a sales rep's id) manages, or with `none`, those that no
    /// one manages.
    #[serde(default)]
    pub manager: Option<String>,
}

/// `GET /api/companies`: the customer companies the caller may see: all of them for the
/// seller's staff (to scope workflows, to look at policies), by name, a page at a time and
/// optionally searched; the caller's own for everyone else.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !caller.seller {
        let own = load(&state, &caller.company_id).await?;
        return Ok(Json(json!({ "companies": own.into_iter().collect::<Vec<_>>(), "next": null })));
    }
    let limit = page_size(q.limit);
    // The page starts after the company named by the cursor, in the order of the list.
    let after = match q.after.as_deref() {
        None => None,
        Some(id) => {
            let company = load(&state, id).await?.filter(|c| !c.seller);
            let company = company.ok_or_else(|| {
                ApiError::invalid("after", "not a cursor: pass the \"next\" of the previous page")
            })?;
            Some((company.name, company.id))
        }
    };
    let search = q.q.as_deref().map(str::trim).unwrap_or_default();
    let pattern = format!("%{}%", like_escaped(&search.to_lowercase()));
    // 0: any manager or none; 1: managed by `$7`; 2: managed by no one.
    let (managed, manager) = match q.manager.as_deref().map(str::trim) {
        None | Some("") => (0i64, ""),
        Some("none") => (2, ""),
        Some(user) => (1, user),
    };
    let rows = db::query(db::AssertSqlSafe(format!(
        "SELECT {COMPANY} FROM companies
         WHERE kind = 'customer'
           AND ($1 = '%%' OR lower(name) LIKE $1 ESCAPE '\\' OR lower(id) LIKE $1 ESCAPE '\\')
           AND ($2 = 0 OR name > $3 OR (name = $3 AND id > $4))
           AND ($6 = 0 OR ($6 = 1 AND sales_rep_id = $7) OR ($6 = 2 AND sales_rep_id IS NULL))
         ORDER BY name, id LIMIT $5"
    )))
    .bind(pattern)
    .bind(i64::from(after.is_some()))
    .bind(after.as_ref().map_or("", |a| a.0.as_str()))
    .bind(after.as_ref().map_or("", |a| a.1.as_str()))
    .bind(limit.saturating_add(1))
    .bind(managed)
    .bind(manager)
    .fetch_all(&state.db.read)
    .await?;
    let (companies, next) = page(&rows, limit, |r| {
        let company = company_from(r)?;
        Ok((company.id.clone(), Some(company)))
    })?;
    Ok(Json(json!({ "companies": companies, "next": next })))
}

/// `text` with the wildcards of `LIKE` (and its escape character) escaped by `\`.
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `GET /api/companies/{id}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Company>, ApiError> {
    Ok(Json(visible(&state, &caller, &id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesRepInput {
    /// A sales rep of the seller, or `null` for none.
    pub user_id: Option<String>,
}

/// `PUT /api/companies/{id}/sales-rep`: names the customer company's account manager, a sales
/// rep of the seller (seller admins); `null` leaves the company to every sales rep.
pub async fn put_sales_rep(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<SalesRepInput>,
) -> Result<Json<Company>, ApiError> {
    if !caller.seller || !caller.has("seller_admin") {
        return Err(ApiError::forbidden("only the seller's admins assign account managers"));
    }
    let company = visible(&state, &caller, &id).await?;
    if company.seller {
        return Err(ApiError::invalid("id", "the seller's own company has no account manager"));
    }
    if let Some(user) = &input.user_id {
        let rep = db::query(
            "SELECT u.id FROM users u JOIN companies c ON c.id = u.company_id
             JOIN user_roles r ON r.user_id = u.id
             WHERE u.id = $1 AND c.kind = 'seller' AND r.role = 'sales_rep'",
        )
        .bind(user)
        .fetch_optional(&state.db.read)
        .await?;
        if rep.is_none() {
            return Err(ApiError::invalid(
                "user_id",
                format!("{user} is not a sales rep of the seller"),
            ));
        }
    }
    db::query("UPDATE companies SET sales_rep_id = $1 WHERE id = $2")
        .bind(&input.user_id)
        .bind(&id)
        .execute(&state.db.write)
        .await?;
    Ok(Json(visible(&state, &caller, &id).await?))
}

/// `GET /api/companies/{id}/directory`.
pub async fn get_directory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Directory>, ApiError> {
    visible(&state, &caller, &id).await?;
    Ok(Json(directory(&state, &id).await?))
}

/// `GET /api/companies/{id}/policy`.
pub async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    visible(&state, &caller, &id).await?;
    let (version, policy) = policy(&state, &id).await?;
    Ok(Json(json!({ "version": version, "policy": policy })))
}

/// `PUT /api/companies/{id}/policy`: company admins replace their policy; it is checked
/// against the directory, and every problem comes back at once.
pub async fn put_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(policy): Json<ApprovalPolicy>,
) -> Result<Json<serde_json::Value>, ApiError> {
    administered(&state, &caller, &id).await?;
    let version = save_policy(&state, &id, &policy, Some(&caller.user_id)).await?;
    Ok(Json(json!({ "version": version, "policy": policy })))
}

/// Checks the policy against the company's directory and stores it as the next version, in
/// one transaction that holds the directory still: a user removed meanwhile is either seen
/// (and the policy refused) or waits, and then finds the policy naming them.
pub async fn save_policy(
    state: &AppState,
    company_id: &str,
    policy: &ApprovalPolicy,
    by: Option<&str>,
) -> Result<i64, ApiError> {
    let document = serde_json::to_string(policy).map_err(ApiError::internal)?;
    let mut tx = state.db.write.begin().await?;
    seed::hold_directory(&mut tx, company_id).await?;
    let directory = directory_in(&mut tx, company_id).await?;
    // A condition on a unit the company does not have (any more) would never hold.
    let unknown = rules::approval::unknown_units(policy, &directory);
    let checked = ApprovalContext::new(policy.clone(), directory).map(|_| ());
    if let Err(problems) = checked.and(if unknown.is_empty() { Ok(()) } else { Err(unknown) }) {
        return Err(ApiError::invalid("policy", "the policy has problems")
            .with_details(json!({ "diagnostics": problems })));
    }
    let latest: Option<i64> =
        db::query("SELECT MAX(version) AS v FROM policy_versions WHERE company_id = $1")
            .bind(company_id)
            .fetch_one(&mut tx)
            .await?
            .try_get("v")?;
    let version = latest.unwrap_or(0).saturating_add(1);
    db::query("INSERT INTO policy_versions (company_id, version, document, created_at, created_by) VALUES ($1, $2, $3, $4, $5)")
        .bind(company_id)
        .bind(version)
        .bind(document)
        .bind(now().millis())
        .bind(by)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(version)
}
