//! Creating companies, units and users: for the demo data, and for tests.

use crate::db;
use crate::{
    AppState,
    error::ApiError,
    util::{new_id, now},
};

/// A company to create.
#[derive(Debug, Clone)]
pub struct NewCompany<'a> {
    pub name: &'a str,
    pub seller: bool,
    pub customer_group: Option<&'a str>,
    pub country: &'a str,
    pub region: Option<&'a str>,
    pub currency: &'a str,
}

pub async fn company(state: &AppState, c: NewCompany<'_>) -> Result<String, ApiError> {
    let id = new_id("co");
    db::query(
        "INSERT INTO companies (id, name, kind, customer_group, country, region, currency, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(c.name)
    .bind(if c.seller { "seller" } else { "customer" })
    .bind(c.customer_group)
    .bind(c.country)
    .bind(c.region)
    .bind(c.currency)
    .bind(now().millis())
    .execute(&state.db.write)
    .await?;
    Ok(id)
}

pub async fn unit(
    state: &AppState,
    company_id: &str,
    name: &str,
    parent: Option<&str>,
) -> Result<String, ApiError> {
    let mut tx = state.db.write.begin().await?;
    directory_changed(&mut tx, company_id).await?;
    let id = insert_unit(&mut tx, company_id, name, parent).await?;
    tx.commit().await?;
    Ok(id)
}

/// Inserts a business unit, in the caller's transaction, which marks the directory changed.
pub(crate) async fn insert_unit(
    tx: &mut db::Tx,
    company_id: &str,
    name: &str,
    parent: Option<&str>,
) -> Result<String, ApiError> {
    let id = new_id("bu");
    db::query(
        "INSERT INTO business_units (id, company_id, name, parent_id) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(company_id)
    .bind(name)
    .bind(parent)
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub company_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub password: &'a str,
    pub roles: &'a [&'a str],
    pub unit_id: Option<&'a str>,
    pub manager_id: Option<&'a str>,
}

pub async fn user(state: &AppState, u: NewUser<'_>) -> Result<String, ApiError> {
    let hash = state.passwords.hash_blocking(u.password).await?;
    let mut tx = state.db.write.begin().await?;
    directory_changed(&mut tx, u.company_id).await?;
    let id = insert_user(&mut tx, &u, hash).await?;
    tx.commit().await?;
    Ok(id)
}

/// Inserts the user with their password's hash, in the caller's transaction, which marks the
/// directory changed.
pub(crate) async fn insert_user(
    tx: &mut db::Tx,
    u: &NewUser<'_>,
    hash: String,
) -> Result<String, ApiError> {
    let id = new_id("usr");
    db::query(
        "INSERT INTO users (id, company_id, email, name, password_hash, unit_id, manager_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(u.company_id)
    .bind(u.email.to_lowercase())
    .bind(u.name)
    .bind(hash)
    .bind(u.unit_id)
    .bind(u.manager_id)
    .bind(now().millis())
    .execute(&mut *tx)
    .await?;
    for role in u.roles {
        db::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(&id)
            .bind(*role)
            .execute(&mut *tx)
            .await?;
    }
    Ok(id)
}

/// Holds the company's directory still until the transaction ends, for a change that must
/// see it as it will stay (a policy that names its users, say): on PostgreSQL this locks the
/// company's row, which every change of the directory updates (see [`directory_changed`]);
/// SQLite has one writer anyway.
pub(crate) async fn hold_directory(tx: &mut db::Tx, company_id: &str) -> Result<(), ApiError> {
    db::query("UPDATE companies SET directory_version = directory_version WHERE id = $1")
        .bind(company_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Marks a company's directory (users, roles, units) changed, in the transaction that changes
/// it, so the approval routing cached for the company is never older than its directory.
pub(crate) async fn directory_changed(tx: &mut db::Tx, company_id: &str) -> Result<(), ApiError> {
    db::query("UPDATE companies SET directory_version = directory_version + 1 WHERE id = $1")
        .bind(company_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
