//! The database: SQLite (a file, created on first run) by default, PostgreSQL when the URL
//! says so. One set of migrations serves both (see `migrations/`): only TEXT and BIGINT
//! columns, standard upserts, `$1`-style placeholders used in order (SQLite numbers `$N`
//! parameters by first appearance).

use sqlx::{
    AnyPool, Executor,
    any::{AnyPoolOptions, install_default_drivers},
};
use std::time::Duration;

/// Which database is behind the pool, for the few statements that differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The database's connection pools and its dialect.
///
/// Reads go to `read`; every write (single statements and transactions) goes to `write`. On
/// SQLite, `write` holds a single connection: SQLite lets one writer in at a time, and a queue
/// in the process is far cheaper than connections sleeping in SQLite's busy handler until the
/// lock frees. On PostgreSQL, `write` is the same pool as `read`.
#[derive(Clone, Debug)]
pub struct Db {
    pub read: AnyPool,
    pub write: AnyPool,
    pub dialect: Dialect,
}

/// Why the database could not be opened.
#[derive(Debug)]
pub enum DbError {
    UnsupportedUrl(String),
    Connect(sqlx::Error),
    Migrate(sqlx::migrate::MigrateError),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::UnsupportedUrl(url) => {
                write!(
                    f,
                    "{url:?} is not a database URL this server supports (sqlite://... or postgres://...)"
                )
            }
            DbError::Connect(e) => write!(f, "cannot connect to the database: {e}"),
            DbError::Migrate(e) => write!(f, "cannot migrate the database: {e}"),
        }
    }
}

impl std::error::Error for DbError {}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Db {
    /// Connects and brings the schema up to date.
    pub async fn open(url: &str, max_connections: u32) -> Result<Db, DbError> {
        install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(url.to_owned()));
        };
        let options = |max: u32| {
            let options =
                AnyPoolOptions::new().max_connections(max).acquire_timeout(Duration::from_secs(10));
            if dialect != Dialect::Sqlite {
                return options;
            }
            options.after_connect(|conn, _| {
                Box::pin(async move {
                    // In WAL mode, NORMAL syncs at checkpoints rather than at every commit: a
                    // commit survives a crash of the process; a power loss may lose the last
                    // commits but never corrupts the file.
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    // Pages shared through the OS cache rather than copied per connection.
                    conn.execute("PRAGMA mmap_size = 268435456").await?;
                    Ok(())
                })
            })
        };
        let read = options(max_connections).connect(url).await.map_err(DbError::Connect)?;
        let write = if dialect == Dialect::Sqlite {
            // WAL lets readers go on while the writer writes; it is a property of the file.
            read.execute("PRAGMA journal_mode = WAL").await.map_err(DbError::Connect)?;
            options(1).connect(url).await.map_err(DbError::Connect)?
        } else {
            read.clone()
        };
        MIGRATOR.run(&write).await.map_err(DbError::Migrate)?;
        Ok(Db { read, write, dialect })
    }

    /// Closes both pools.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// `INSERT INTO table (columns) VALUES ($1, ...), (...)` for `rows` rows, numbered in order.
/// Only for names written in the code, never for input.
pub fn insert_rows(table: &str, columns: &[&str], rows: usize) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 0usize;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns.len() {
            n = n.saturating_add(1);
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&n.to_string());
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    #[test]
    fn insert_rows_numbers_the_placeholders_in_order() {
        assert_eq!(
            super::insert_rows("t", &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }
}
