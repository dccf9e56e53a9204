//! The database: SQLite (a file, created on first run) by default, PostgreSQL when the URL
//! says so. One set of migrations serves both (see `migrations/`): only TEXT and BIGINT
//! columns, standard upserts, `$1`-style placeholders used in order (SQLite numbers `$N`
//! parameters by first appearance).

use sqlx::{
    Any, AnyPool, Executor, Transaction,
    any::{AnyArguments, AnyPoolOptions, install_default_drivers},
    query::Query,
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
            // A SQLite connection is a file handle in this process: it cannot break the way a
            // network connection can, so it is not pinged (a trip to its thread) at every
            // acquire.
            options.test_before_acquire(false).after_connect(|conn, _| {
                Box::pin(async move {
                    // In WAL mode, NORMAL syncs at checkpoints rather than at every commit: a
                    // commit survives a crash of the process; a power loss may lose the last
                    // commits but never corrupts the file.
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
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

/// A value bound to a statement. The schema has TEXT and BIGINT columns only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Param {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<&str> for Param {
    fn from(v: &str) -> Param {
        Param::Text(Some(v.to_owned()))
    }
}
impl From<&String> for Param {
    fn from(v: &String) -> Param {
        Param::Text(Some(v.clone()))
    }
}
impl From<String> for Param {
    fn from(v: String) -> Param {
        Param::Text(Some(v))
    }
}
impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Param {
        Param::Text(v.map(str::to_owned))
    }
}
impl From<Option<String>> for Param {
    fn from(v: Option<String>) -> Param {
        Param::Text(v)
    }
}
impl From<i64> for Param {
    fn from(v: i64) -> Param {
        Param::Int(Some(v))
    }
}
impl From<Option<i64>> for Param {
    fn from(v: Option<i64>) -> Param {
        Param::Int(v)
    }
}

/// The parameters of one statement: `params![id, name, 3]`.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => { vec![$($crate::db::Param::from($value)),*] };
}

/// Binds parameters in order.
pub fn bind_all<'q>(
    mut query: Query<'q, Any, AnyArguments>,
    params: Vec<Param>,
) -> Query<'q, Any, AnyArguments> {
    for param in params {
        query = match param {
            Param::Text(v) => query.bind(v),
            Param::Int(v) => query.bind(v),
        };
    }
    query
}

/// Statements written together inside a transaction, with no answer needed from any of them
/// but success: the rows of an order, its steps, history, notifications and mail.
///
/// On SQLite they go to the connection as one multi-statement query, placeholders renumbered:
/// one trip to the connection's worker thread instead of one per statement, which is most of
/// the cost of a write there. On PostgreSQL (which takes one statement per prepared query) they
/// run one after another. Either way they run inside the caller's transaction, so a failure
/// leaves nothing behind once it rolls back.
#[derive(Debug, Default)]
pub struct Batch {
    statements: Vec<(String, Vec<Param>)>,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Adds a statement whose placeholders are `$1` to `$n` for its `n` parameters. Only for
    /// SQL written in the code, never for input.
    pub fn push(&mut self, sql: impl Into<String>, params: Vec<Param>) {
        self.statements.push((sql.into(), params));
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Runs the statements in order inside `tx`.
    pub async fn run(
        self,
        tx: &mut Transaction<'_, Any>,
        dialect: Dialect,
    ) -> Result<(), sqlx::Error> {
        match dialect {
            Dialect::Sqlite => {
                if self.statements.is_empty() {
                    return Ok(());
                }
                let (sql, params) = self.joined();
                bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), params).execute(&mut **tx).await?;
            }
            Dialect::Postgres => {
                for (sql, params) in self.statements {
                    bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), params)
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// One text of all statements, each statement's `$k` renumbered after the parameters of
    /// those before it, and all parameters in order.
    fn joined(self) -> (String, Vec<Param>) {
        let mut sql = String::new();
        let mut params = Vec::new();
        for (text, own) in self.statements {
            renumber(&text, params.len(), &mut sql);
            sql.push_str(";\n");
            params.extend(own);
        }
        (sql, params)
    }
}

/// Copies `sql` into `out` with every placeholder `$k` outside quotes written `$(k + offset)`.
fn renumber(sql: &str, offset: usize, out: &mut String) {
    let mut chars = sql.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        out.push(c);
        match c {
            '\'' => quoted = !quoted,
            '$' if !quoted => {
                let mut number = 0usize;
                let mut digits = false;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    number = number.saturating_mul(10).saturating_add(d as usize);
                    digits = true;
                    chars.next();
                }
                if digits {
                    out.push_str(&number.saturating_add(offset).to_string());
                }
            }
            _ => {}
        }
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
    use super::*;

    #[test]
    fn a_batch_renumbers_placeholders_after_the_statements_before() {
        let mut batch = Batch::new();
        batch.push("INSERT INTO a (x, y) VALUES ($1, $2)", params!["one", 2]);
        batch.push("UPDATE b SET s = 'cost $1' WHERE id = $1 AND n = $2", params![None::<&str>, 5]);
        let (sql, params) = batch.joined();
        assert_eq!(
            sql,
            "INSERT INTO a (x, y) VALUES ($1, $2);\nUPDATE b SET s = 'cost $1' WHERE id = $3 AND n = $4;\n"
        );
        assert_eq!(
            params,
            vec![
                Param::Text(Some("one".into())),
                Param::Int(Some(2)),
                Param::Text(None),
                Param::Int(Some(5))
            ]
        );
    }

    #[test]
    fn insert_rows_numbers_the_placeholders_in_order() {
        assert_eq!(
            super::insert_rows("t", &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }
}
