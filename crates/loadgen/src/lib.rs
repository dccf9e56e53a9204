//! What the load binaries (`loadgen`, `timers`) share.

const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh, empty PostgreSQL database `name` on this machine's server (dropped first if it
/// exists); answers its URL.
pub async fn fresh_postgres(name: &str) -> Result<String, String> {
    use sqlx::{Connection, Executor};
    let mut admin = sqlx::PgConnection::connect(PG_ADMIN_URL)
        .await
        .map_err(|e| format!("PostgreSQL at {PG_ADMIN_URL}: {e}"))?;
    for sql in
        [format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("CREATE DATABASE {name}")]
    {
        admin.execute(sqlx::AssertSqlSafe(sql)).await.map_err(|e| e.to_string())?;
    }
    Ok(format!("postgres://postgres@127.0.0.1:5432/{name}"))
}
