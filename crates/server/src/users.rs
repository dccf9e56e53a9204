//! A company's people: company admins (the seller's: its seller admins) list, add, change and
//! remove their company's users.
//!
//! Removing keeps the user's row (their orders, decisions and history still name them) but
//! takes away everything that lets them act: their roles, sessions and API tokens, their place
//! in the directory that approval routing reads, and their login. What would leave an order
//! without an approver, or the policy naming nobody, is refused with the reason instead.

use crate::db;
use crate::{
    AppState,
    auth::Caller,
    companies::{Company, directory_in, policy_in, visible},
    error::{ApiError, Json, Path},
    seed,
    util::now,
};
use axum::{extract::State, http::StatusCode};
use rules::approval::Directory;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The company, if the caller manages its people: one of its company admins, or, for the
/// seller itself, one of its seller admins.
async fn managed(state: &AppState, caller: &Caller, id: &str) -> Result<Company, ApiError> {
    let company = visible(state, caller, id).await?;
    let admin = caller.has("company_admin") || (company.seller && caller.has("seller_admin"));
    if caller.company_id != id || !admin {
        return Err(ApiError::forbidden("only the company's admins manage its people"));
    }
    Ok(company)
}

/// The roles that let their holder manage a company's people.
const ADMIN_ROLES: [&str; 2] = ["company_admin", "seller_admin"];

/// Roles as a set: each once, in order.
fn distinct(roles: &[String]) -> Vec<&str> {
    let mut roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    roles.sort_unstable();
    roles.dedup();
    roles
}

/// The seller's staff roles: a customer company's users never hold them.
const SELLER_ROLES: [&str; 3] = ["sales_rep", "seller_admin", "back_office"];

/// A user as their company admins see them.
#[derive(Debug, Serialize)]
pub struct UserView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<String>,
    pub unit_id: Option<String>,
    pub manager_id: Option<String>,
}

/// Someone the company removed: added again, they come back (see [`add`]).
#[derive(Debug, Serialize)]
pub struct RemovedView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub removed_at: i64,
}

/// `GET /api/companies/{id}/users`: the company's users, by name, and apart from them those
/// it removed, the latest first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    managed(&state, &caller, &id).await?;
    let rows = db::query(
        "SELECT id, name, email, unit_id, manager_id FROM users
         WHERE company_id = $1 AND removed_at IS NULL ORDER BY name, id",
    )
    .bind(&id)
    .fetch_all(&state.db.read)
    .await?;
    let roles = db::query(
        "SELECT r.user_id, r.role FROM user_roles r JOIN users u ON u.id = r.user_id
         WHERE u.company_id = $1 ORDER BY r.role",
    )
    .bind(&id)
    .fetch_all(&state.db.read)
    .await?;
    let mut users = Vec::with_capacity(rows.len());
    for r in rows {
        let user_id: String = r.try_get("id")?;
        let mut held = Vec::new();
        for role in &roles {
            if role.try_get::<String>("user_id")? == user_id {
                held.push(role.try_get("role")?);
            }
        }
        users.push(UserView {
            id: user_id,
            name: r.try_get("name")?,
            email: r.try_get("email")?,
            roles: held,
            unit_id: r.try_get("unit_id")?,
            manager_id: r.try_get("manager_id")?,
        });
    }
    let removed = db::query(
        "SELECT id, name, email, removed_at FROM users
         WHERE company_id = $1 AND removed_at IS NOT NULL ORDER BY removed_at DESC, id",
    )
    .bind(&id)
    .fetch_all(&state.db.read)
    .await?
    .iter()
    .map(|r| -> Result<RemovedView, ApiError> {
        Ok(RemovedView {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            email: r.try_get("email")?,
            removed_at: r.try_get("removed_at")?,
        })
    })
    .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "users": users, "removed": removed })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub unit_id: Option<String>,
    #[serde(default)]
    pub manager_id: Option<String>,
}

/// A user's roles, unit and manager as a company admin sets them: each checked against the
/// company, the first problem named by its field.
///
/// Run in the transaction that writes the user, after it marked the directory changed: a unit
/// or manager removed meanwhile is then seen (see `seed::hold_directory`).
async fn check_place<'a>(
    on: impl Into<db::Exec<'a>>,
    company_id: &str,
    seller: bool,
    roles: &[String],
    unit_id: Option<&str>,
    manager_id: Option<&str>,
) -> Result<(), ApiError> {
    for (i, role) in roles.iter().enumerate() {
        if rules::ids::RoleName::parse(role).is_err()
            || (!seller && SELLER_ROLES.contains(&role.as_str()))
        {
            return Err(ApiError::invalid(
                format!("roles[{i}]"),
                format!("\"{role}\" is not a role this company's users may hold"),
            ));
        }
    }
    let mut on = on.into();
    if let Some(unit) = unit_id
        && db::query(
            "SELECT 1 AS x FROM business_units WHERE id = $1 AND company_id = $2 AND removed_at IS NULL",
        )
        .bind(unit)
        .bind(company_id)
        .fetch_optional(on.reborrow())
        .await?
        .is_none()
    {
        return Err(ApiError::invalid("unit_id", format!("\"{unit}\" is not in this company")));
    }
    if let Some(manager) = manager_id
        && db::query(
            "SELECT 1 AS x FROM users WHERE id = $1 AND company_id = $2 AND removed_at IS NULL",
        )
        .bind(manager)
        .bind(company_id)
        .fetch_optional(on)
        .await?
        .is_none()
    {
        return Err(ApiError::invalid(
            "manager_id",
            format!("\"{manager}\" is not a user of this company"),
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<&str, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid("name", "a name is required"));
    }
    if name.chars().count() > 200 {
        return Err(ApiError::invalid("name", "a name has at most 200 characters"));
    }
    Ok(name)
}

/// The shortest password a user may be given or choose.
pub const PASSWORD_MIN_CHARS: usize = 12;

/// Refuses a password shorter than [`PASSWORD_MIN_CHARS`], naming `field`.
pub fn check_password(field: &str, password: &str) -> Result<(), ApiError> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(ApiError::invalid(
            field,
            format!("a password needs at least {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    Ok(())
}

/// `POST /api/companies/{id}/users`: company admins add users to their company. Someone the
/// company removed comes back under their old id (their history is theirs again), with the
/// name, password, roles and place given now; the answer says `"restored": true`.
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewUser>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let company = managed(&state, &caller, &id).await?;
    let email = body.email.trim();
    if !email.contains('@') || email.len() > 254 {
        return Err(ApiError::invalid("email", "an email address is required"));
    }
    let name = check_name(&body.name)?;
    check_password("password", &body.password)?;
    let (unit, manager) = (body.unit_id.as_deref(), body.manager_id.as_deref());
    let roles = distinct(&body.roles);
    let hash = state.passwords.hash_blocking(&body.password).await?;
    let mut tx = state.db.write.begin().await?;
    seed::directory_changed(&mut tx, &id).await?;
    check_place(&mut tx, &id, company.seller, &body.roles, unit, manager).await?;
    let returning = db::query(
        "SELECT id FROM users WHERE email = $1 AND company_id = $2 AND removed_at IS NOT NULL",
    )
    .bind(email.to_lowercase())
    .bind(&id)
    .fetch_optional(&mut tx)
    .await?;
    if let Some(row) = returning {
        let user_id: String = row.try_get("id")?;
        db::query(
            "UPDATE users SET name = $1, password_hash = $2, unit_id = $3, manager_id = $4, removed_at = NULL
             WHERE id = $5 AND removed_at IS NOT NULL",
        )
        .bind(name)
        .bind(hash)
        .bind(unit)
        .bind(manager)
        .bind(&user_id)
        .execute(&mut tx)
        .await?;
        set_roles(&mut tx, &user_id, &roles).await?;
        tx.commit().await?;
        return Ok((StatusCode::CREATED, Json(json!({ "id": user_id, "restored": true }))));
    }
    let user_id = seed::insert_user(
        &mut tx,
        &seed::NewUser {
            company_id: &id,
            email,
            name,
            password: &body.password,
            roles: &roles,
            unit_id: unit,
            manager_id: manager,
        },
        hash,
    )
    .await
    .map_err(|e| {
        if e.code == "already_exists" {
            ApiError::conflict("email_taken", "a user with this email exists").with_field("email")
        } else {
            e
        }
    })?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": user_id, "restored": false }))))
}

/// A user's name, roles, unit and manager, as a company admin sets them (all of them: what is
/// left out is cleared).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    pub name: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub unit_id: Option<String>,
    #[serde(default)]
    pub manager_id: Option<String>,
}

/// Replaces a user's roles, in the caller's transaction.
async fn set_roles(tx: &mut db::Tx, user_id: &str, roles: &[&str]) -> Result<(), ApiError> {
    db::query("DELETE FROM user_roles WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    for role in roles {
        db::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(user_id)
            .bind(*role)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// The user, if they are a current user of the company.
async fn member(state: &AppState, company_id: &str, user_id: &str) -> Result<String, ApiError> {
    db::query("SELECT name FROM users WHERE id = $1 AND company_id = $2 AND removed_at IS NULL")
        .bind(user_id)
        .bind(company_id)
        .fetch_optional(&state.db.read)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?
        .try_get("name")
        .map_err(ApiError::from)
}

/// `PUT /api/companies/{id}/users/{user}`: company admins change a user's name, roles, unit
/// and manager. Orders already waiting keep the approvers they were routed to; new orders are
/// routed with the change.
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
    Json(body): Json<UserChange>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let company = managed(&state, &caller, &id).await?;
    member(&state, &id, &user_id).await?;
    let name = check_name(&body.name)?;
    let (unit, manager) = (body.unit_id.as_deref(), body.manager_id.as_deref());
    if manager == Some(user_id.as_str()) {
        return Err(ApiError::invalid("manager_id", "nobody is their own manager"));
    }
    // The role that lets the caller manage people stays theirs: another admin may take it.
    if let Some(own) = ADMIN_ROLES
        .into_iter()
        .find(|r| user_id == caller.user_id && caller.has(r) && !body.roles.iter().any(|h| h == r))
    {
        return Err(ApiError::invalid(
            "roles",
            format!("you cannot take away your own {own} role: another admin can"),
        ));
    }
    let mut tx = state.db.write.begin().await?;
    seed::directory_changed(&mut tx, &id).await?;
    check_place(&mut tx, &id, company.seller, &body.roles, unit, manager).await?;
    // Removed meanwhile (by another admin): nothing to change.
    let changed = db::query(
        "UPDATE users SET name = $1, unit_id = $2, manager_id = $3 WHERE id = $4 AND removed_at IS NULL",
    )
    .bind(name)
    .bind(unit)
    .bind(manager)
    .bind(&user_id)
    .execute(&mut tx)
    .await?;
    if changed.rows_affected() != 1 {
        return Err(ApiError::not_found("user"));
    }
    let roles = distinct(&body.roles);
    set_roles(&mut tx, &user_id, &roles).await?;
    tx.commit().await?;
    Ok(Json(json!({
        "id": user_id, "name": name, "roles": roles, "unit_id": unit, "manager_id": manager,
    })))
}

/// `DELETE /api/companies/{id}/users/{user}`: company admins remove a user who has left.
///
/// Refused (and nothing changed) when the approval policy names the user, or when an order is
/// waiting for a step that only they may decide. Otherwise the user can no longer log in or
/// act, the people they managed now report to their manager, and an account they managed for
/// the seller is left to every sales rep; mail still waiting for them in the outbox is not
/// sent.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    managed(&state, &caller, &id).await?;
    let name = member(&state, &id, &user_id).await?;
    if user_id == caller.user_id {
        return Err(ApiError::forbidden("you cannot remove yourself: another admin can"));
    }
    // Bumping the directory's version first holds it (and so the policy, whose saving holds
    // it too) still while this checks and removes: see `seed::hold_directory`.
    let mut tx = state.db.write.begin().await?;
    seed::directory_changed(&mut tx, &id).await?;
    let mut directory = directory_in(&mut tx, &id).await?;
    let manager = without(&mut directory, &user_id);
    let (_, current) = policy_in(&mut tx, &id).await?;
    let problems = rules::approval::validate(&current, &directory);
    if !problems.is_empty() {
        return Err(ApiError::conflict(
            "named_in_policy",
            format!(
                "the approval policy names {name}: change the policy first, so that someone else approves in their place"
            ),
        )
        .with_details(json!({ "diagnostics": problems })));
    }
    let waiting = sole_approver_of(&mut tx, &state, &user_id).await?;
    if !waiting.is_empty() {
        let numbers: Vec<String> = waiting.iter().map(|n| n.to_string()).collect();
        return Err(ApiError::conflict(
            "sole_approver",
            format!(
                "{name} is the only one who may approve order {} waiting now: have it decided or handed to someone else first",
                numbers.join(", ")
            ),
        )
        .with_details(json!({ "orders": waiting })));
    }
    // Mail still waiting for them is not sent: the address may be someone else's now.
    let mail_dropped = db::query(
        "DELETE FROM outbox WHERE sent_at IS NULL AND recipient = (SELECT email FROM users WHERE id = $1)",
    )
    .bind(&user_id)
    .execute(&mut tx)
    .await?
    .rows_affected();
    let at = now().millis();
    db::query("UPDATE users SET removed_at = $1, manager_id = NULL WHERE id = $2")
        .bind(at)
        .bind(&user_id)
        .execute(&mut tx)
        .await?;
    let moved =
        db::query("UPDATE users SET manager_id = $1 WHERE manager_id = $2 AND company_id = $3")
            .bind(manager.as_deref())
            .bind(&user_id)
            .bind(&id)
            .execute(&mut tx)
            .await?
            .rows_affected();
    for sql in [
        "DELETE FROM user_roles WHERE user_id = $1",
        "DELETE FROM sessions WHERE user_id = $1",
        "DELETE FROM api_tokens WHERE user_id = $1",
        "UPDATE companies SET sales_rep_id = NULL WHERE sales_rep_id = $1",
    ] {
        db::query(sql).bind(&user_id).execute(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(Json(json!({
        "id": user_id,
        "name": name,
        "reports_moved": moved,
        "reports_now_managed_by": manager,
        "mail_dropped": mail_dropped,
    })))
}

/// Takes the user out of the directory as routing reads it, their reports moved to their
/// manager; answers that manager.
fn without(directory: &mut Directory, user_id: &str) -> Option<String> {
    let manager =
        directory.users.iter().find(|u| u.id.as_str() == user_id).and_then(|u| u.manager.clone());
    directory.users.retain(|u| u.id.as_str() != user_id);
    for u in &mut directory.users {
        if u.manager.as_ref().is_some_and(|m| m.as_str() == user_id) {
            u.manager = manager.clone();
        }
    }
    manager.map(|m| m.to_string())
}

/// The numbers of the orders with a step still to decide (waiting for its turn, or pending)
/// that only this user may decide.
async fn sole_approver_of(
    tx: &mut db::Tx,
    state: &AppState,
    user_id: &str,
) -> Result<Vec<i64>, ApiError> {
    let contains = match state.db.dialect {
        db::Dialect::Sqlite => "instr(s.candidates, $1) > 0",
        db::Dialect::Postgres => "strpos(s.candidates, $1) > 0",
    };
    let rows = db::query(db::AssertSqlSafe(format!(
        "SELECT o.number, s.candidates FROM approval_steps s JOIN orders o ON o.id = s.order_id
         WHERE s.status IN ('waiting', 'pending') AND {contains} ORDER BY o.number"
    )))
    .bind(format!("\"{user_id}\""))
    .fetch_all(&mut *tx)
    .await?;
    let mut numbers = Vec::new();
    for r in rows {
        let candidates: Vec<String> = serde_json::from_str(&r.try_get::<String>("candidates")?)
            .map_err(ApiError::internal)?;
        let number: Option<i64> = r.try_get("number")?;
        if let Some(number) = number
            && candidates.iter().all(|c| c == user_id)
            && numbers.last() != Some(&number)
        {
            numbers.push(number);
        }
    }
    Ok(numbers)
}
