//! The database: SQLite (a file, created on first run) by default, PostgreSQL when the URL
//! says so. One set of migrations serves both (see `migrations/`): only TEXT and BIGINT
//! columns, standard upserts, `$1`-style placeholders (`$N` is the Nth bound value on both).
//!
//! The rest of the server writes its SQL once, through this module's small query API
//! (`query(..).bind(..).fetch_one(&db.read)`), and never knows which database answers:
//!
//! - **SQLite** runs in this process, through rusqlite, on the calling thread. A statement on
//!   a warm connection takes microseconds, less than handing it to another thread and waking
//!   the caller when it is done (which is how async SQLite drivers work, and what the load test
//!   found to be most of a submission's cost). Readers take a connection from a small stack;
//!   the one writer connection sits behind an async mutex, so writers queue in the process
//!   rather than in SQLite's busy handler.
//! - **PostgreSQL** goes through sqlx's connection pool.
//!
//! Rows come back as [`Row`]s of TEXT, BIGINT or NULL, read by column name.

mod writer;

use sqlx::{Connection as _, PgPool, postgres::PgPoolOptions};
use std::{
    borrow::Cow,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

/// Which database is behind the pool, for the few statements that differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The database's connections and its dialect.
///
/// Reads go to `read`; every write (single statements and transactions) goes to `write`. On
/// SQLite, `write` is a single connection and `read` connections are opened with
/// `query_only`, so a write sent to `read` fails in every test rather than racing the writer.
/// On PostgreSQL both are the same pool.
#[derive(Clone, Debug)]
pub struct Db {
    pub read: Pool,
    pub write: Pool,
    pub dialect: Dialect,
}

/// Connections to run statements on: see [`Db`].
#[derive(Clone, Debug)]
pub struct Pool(Arc<Connections>);

#[derive(Debug)]
enum Connections {
    SqliteReaders(SqliteReaders),
    SqliteWriter(writer::Writer),
    Postgres(PgPool),
}

/// Idle reader connections; one is opened when none is idle, and at most `keep` are kept.
/// A read runs to its end on the calling thread, so no more are busy at once than there are
/// threads running requests.
#[derive(Debug)]
struct SqliteReaders {
    file: SqliteFile,
    idle: Mutex<Vec<rusqlite::Connection>>,
    keep: usize,
}

/// Why the database could not be opened, or a statement failed.
#[derive(Debug)]
pub enum Error {
    /// The URL names no database this server supports.
    UnsupportedUrl(String),
    Sqlite(rusqlite::Error),
    Postgres(sqlx::Error),
    Migrate(sqlx::migrate::MigrateError),
    /// A row lacks the column asked for, or holds another type there.
    Column {
        column: String,
        problem: &'static str,
    },
    /// `fetch_one` found no row.
    NoRow,
    /// A statement's placeholders and its bound parameters differ in number.
    Parameters {
        expected: usize,
        bound: usize,
    },
    /// A transaction was asked of the read connections.
    ReadOnly,
    /// A statement was sent to a transaction that had ended.
    Ended,
    /// The group of transactions this one was committed with could not be (see `writer`).
    Commit(Arc<str>),
    /// Another server runs on this SQLite file (see [`claim_sqlite_file`]).
    InUse(String),
    /// The lock file beside a SQLite file cannot be made or locked.
    Lock {
        path: String,
        error: std::io::Error,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::UnsupportedUrl(url) => write!(
                f,
                "{url:?} is not a database URL this server supports (sqlite://FILE[?mode=rwc] or postgres://...)"
            ),
            Error::Sqlite(e) => write!(f, "SQLite: {e}"),
            Error::Postgres(e) => write!(f, "PostgreSQL: {e}"),
            Error::Migrate(e) => write!(f, "cannot migrate the database: {e}"),
            Error::Column { column, problem } => write!(f, "column {column:?}: {problem}"),
            Error::NoRow => f.write_str("the query returned no row"),
            Error::Parameters { expected, bound } => {
                write!(f, "the statement takes {expected} parameters, {bound} were bound")
            }
            Error::ReadOnly => f.write_str("transactions run on the write connection"),
            Error::Ended => f.write_str("the transaction has ended"),
            Error::Commit(e) => write!(f, "SQLite could not commit: {e}"),
            Error::InUse(path) => write!(
                f,
                "another Countersign server is running on {path}: a SQLite file serves one server \
                 at a time (stop the other one, or run several on PostgreSQL: \
                 DATABASE_URL=postgres://...)"
            ),
            Error::Lock { path, error } => write!(f, "cannot lock {path}: {error}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        Error::Sqlite(e)
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        Error::Postgres(e)
    }
}

impl Error {
    /// A unique key or primary key would be broken.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            Error::Postgres(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }

    /// A foreign key would point at nothing.
    pub fn is_foreign_key_violation(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
            }
            Error::Postgres(sqlx::Error::Database(e)) => e.is_foreign_key_violation(),
            _ => false,
        }
    }
}

/// The migrations of both databases (`migrations/`), then the database's own
/// (`migrations-sqlite/`, `migrations-postgres/`: triggers, whose syntax differs). Each set
/// ignores the other's in the record of applied migrations they share, so their version
/// numbers must never overlap (a test checks).
fn migrators(dialect: Dialect) -> [sqlx::migrate::Migrator; 2] {
    let mut shared = sqlx::migrate!("./migrations");
    let mut own = match dialect {
        Dialect::Sqlite => sqlx::migrate!("./migrations-sqlite"),
        Dialect::Postgres => sqlx::migrate!("./migrations-postgres"),
    };
    shared.set_ignore_missing(true);
    own.set_ignore_missing(true);
    [shared, own]
}

/// A SQLite file and whether it may be created.
#[derive(Clone, Debug)]
struct SqliteFile {
    path: String,
    create: bool,
}

impl SqliteFile {
    /// `sqlite://PATH`, `sqlite:PATH`, optionally `?mode=rwc` (create if missing) or
    /// `?mode=rw`.
    fn parse(url: &str) -> Result<SqliteFile, Error> {
        let unsupported = || Error::UnsupportedUrl(url.to_owned());
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(unsupported)?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let create = match query {
            "" | "mode=rw" => false,
            "mode=rwc" => true,
            _ => return Err(unsupported()),
        };
        // One in-memory database per connection would be several databases.
        if path.is_empty() || path.starts_with(":memory:") {
            return Err(unsupported());
        }
        Ok(SqliteFile { path: path.to_owned(), create })
    }

    fn open(&self, reader: bool) -> Result<rusqlite::Connection, rusqlite::Error> {
        use rusqlite::OpenFlags;
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        if self.create && !reader {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = rusqlite::Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(256);
        // In WAL mode, NORMAL syncs at checkpoints rather than at every commit: a commit
        // survives a crash of the process; a power loss may lose the last commits but never
        // corrupts the file.
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
        // The writer's savepoints (see `writer`) keep their undo pages in memory, not in a
        // temporary file.
        conn.execute_batch("PRAGMA temp_store = MEMORY;")?;
        if reader {
            conn.execute_batch("PRAGMA query_only = ON;")?;
        }
        unicode_lower(&conn)?;
        Ok(conn)
    }
}

/// Replaces SQLite's `lower` on a connection by one that lowercases every letter, as
/// PostgreSQL's does (SQLite's own knows ASCII letters only), so that a search written with
/// `lower(..)` finds "Ölwerke" from "ölwerke" on both databases. No index or stored value uses
/// `lower`, so nothing computed by the old one can disagree with the new one.
fn unicode_lower(conn: &rusqlite::Connection) -> Result<(), rusqlite::Error> {
    use rusqlite::{
        functions::FunctionFlags,
        types::{Value, ValueRef},
    };
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("lower", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Text(text) => Value::Text(String::from_utf8_lossy(text).to_lowercase()),
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Integer(n),
            ValueRef::Real(x) => Value::Real(x),
            ValueRef::Blob(bytes) => Value::Blob(bytes.to_vec()),
        })
    })
}

/// The database a URL names, for people and without its credentials: "the SQLite file PATH"
/// or "the PostgreSQL database NAME".
pub fn describe(url: &str) -> String {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let path = url.split_once("://").and_then(|(_, rest)| rest.split_once('/'));
        let name = path.and_then(|(_, name)| name.split('?').next()).unwrap_or_default();
        return match name {
            "" => "the PostgreSQL database".to_owned(),
            name => format!("the PostgreSQL database \"{name}\""),
        };
    }
    match SqliteFile::parse(url) {
        Ok(file) => format!("the SQLite file {}", file.path),
        Err(_) => "the database".to_owned(),
    }
}

/// Claims a SQLite file for this server until the returned lock is dropped; `None` for
/// PostgreSQL, which serves any number of servers.
///
/// Two servers on one SQLite file would work, but badly: each keeps its writer's transaction
/// open for group commit, so the other waits on SQLite's busy timeout on a request thread. The
/// claim is an advisory lock on `FILE.lock` (not on the database file itself: closing any
/// handle of that file would drop SQLite's own locks); the operating system releases it when
/// the process ends, however it ends.
pub fn claim_sqlite_file(url: &str) -> Result<Option<std::fs::File>, Error> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Ok(None);
    }
    let file = SqliteFile::parse(url)?;
    let path = format!("{}.lock", file.path);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|error| Error::Lock { path: path.clone(), error })?;
    match lock.try_lock() {
        Ok(()) => Ok(Some(lock)),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::InUse(file.path)),
        Err(std::fs::TryLockError::Error(error)) => Err(Error::Lock { path, error }),
    }
}

impl Db {
    /// Connects and brings the schema up to date. `max_connections` bounds PostgreSQL's pool
    /// and the idle SQLite readers kept.
    pub async fn open(url: &str, max_connections: u32) -> Result<Db, Error> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                // sqlx pings every connection it takes from the pool: a round trip before
                // each statement, which cost both processes about a fifth of a submission.
                // Only a connection idle for a while (where a restarted server or a dropped
                // link is likely) is checked now; a busy one fails on its statement and is
                // dropped from the pool, as any broken connection is.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for > PING_IF_IDLE_FOR {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                })
                .connect(url)
                .await?;
            for migrator in migrators(Dialect::Postgres) {
                migrator.run(&pool).await.map_err(Error::Migrate)?;
            }
            let pool = Pool(Arc::new(Connections::Postgres(pool)));
            return Ok(Db { read: pool.clone(), write: pool, dialect: Dialect::Postgres });
        }
        let file = SqliteFile::parse(url)?;
        let writer = file.open(false)?;
        // WAL lets readers go on while the writer writes; it is a property of the file.
        writer.pragma_update(None, "journal_mode", "WAL")?;
        // The migrations are sqlx's (one record of them for both databases), run on a
        // connection of its own that is closed before any other use.
        let mut migrating = sqlx::SqliteConnection::connect(url).await?;
        for migrator in migrators(Dialect::Sqlite) {
            migrator.run(&mut migrating).await.map_err(Error::Migrate)?;
        }
        migrating.close().await?;
        // Checkpoints (copying the WAL back into the file) run on a thread of their own, so
        // that no request waits for one; the writer checkpoints itself only if the WAL grows
        // past a bound.
        writer.pragma_update(None, "wal_autocheckpoint", WAL_BOUND_PAGES)?;
        // SQLite reuses the WAL file from its start after a checkpoint but never shrinks it: a
        // burst would leave it at its largest for good. Past this size (above what a steady
        // load needs) it is cut back when it is reused.
        writer.pragma_update(None, "journal_size_limit", WAL_KEEP_BYTES)?;
        let checkpointer = file.open(false)?;
        let keep = usize::try_from(max_connections).unwrap_or(usize::MAX).max(1);
        let writer = writer::Writer::new(writer);
        checkpoint_in_background(checkpointer, writer.alive());
        Ok(Db {
            read: Pool(Arc::new(Connections::SqliteReaders(SqliteReaders {
                file,
                idle: Mutex::new(Vec::new()),
                keep,
            }))),
            write: Pool(Arc::new(Connections::SqliteWriter(writer))),
            dialect: Dialect::Sqlite,
        })
    }

    /// How many commits SQLite's writer made so far (each may hold several transactions: see
    /// `writer`); `None` on PostgreSQL.
    pub fn sqlite_commit_groups(&self) -> Option<usize> {
        match &*self.write.0 {
            Connections::SqliteWriter(writer) => Some(writer.groups()),
            Connections::SqliteReaders(_) | Connections::Postgres(_) => None,
        }
    }

    /// Closes the connections (PostgreSQL's at once; SQLite's idle readers now, the writer when
    /// the last handle goes).
    pub async fn close(&self) {
        for pool in [&self.read, &self.write] {
            match &*pool.0 {
                Connections::Postgres(pool) => pool.close().await,
                Connections::SqliteReaders(readers) => {
                    readers.idle.lock().unwrap_or_else(PoisonError::into_inner).clear();
                }
                Connections::SqliteWriter(_) => {}
            }
        }
    }
}

/// The WAL size (in pages of 4 KB) past which the writer checkpoints itself.
const WAL_BOUND_PAGES: i64 = 65_536;
/// The size (in bytes) the WAL file is cut back to when it is reused after a checkpoint.
///
/// Above what the WAL reaches under a steady load (it grows until a checkpoint completes
/// while no reader needs its frames, at most to [`WAL_BOUND_PAGES`], 256 MB): below that, every
/// cycle cut the file back and grew it again, and the truncation and the new blocks held the
/// writer (and with it every checkout) for about 100 ms every two seconds; at 64 MB, SQLite
/// gave 2,440 to 2,700 submissions a second, above it 2,858 to 3,444 (see ARCHITECTURE.md).
/// Only a burst past it (one huge transaction) is cut back. Small in tests, so that the test
/// of the cut does not write hundreds of megabytes.
#[cfg(not(test))]
const WAL_KEEP_BYTES: i64 = 320 * 1024 * 1024;
#[cfg(test)]
const WAL_KEEP_BYTES: i64 = 8 * 1024 * 1024;
/// A PostgreSQL connection idle this long is pinged before it is used again.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);
/// How often the background checkpoint runs.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// Copies the WAL back into the database file every [`CHECKPOINT_EVERY`] (a passive
/// checkpoint: it never blocks the writer or readers), until the writer is dropped.
fn checkpoint_in_background(
    conn: rusqlite::Connection,
    writer_alive: impl Fn() -> bool + Send + 'static,
) {
    let spawned = std::thread::Builder::new().name("sqlite-checkpoint".into()).spawn(move || {
        loop {
            std::thread::sleep(CHECKPOINT_EVERY);
            if !writer_alive() {
                return;
            }
            if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
                tracing::warn!(error = %e, "background checkpoint failed");
            }
        }
    });
    if let Err(e) = spawned {
        // The writer's own checkpoints (past WAL_BOUND_PAGES) still bound the WAL.
        tracing::warn!(error = %e, "cannot start the checkpoint thread");
    }
}

impl Pool {
    /// Begins a transaction on the write connection: on SQLite it holds the writer until it
    /// commits, rolls back or is dropped (which rolls back), and its commit may be shared
    /// with others (see `writer`).
    pub async fn begin(&self) -> Result<Tx, Error> {
        match &*self.0 {
            Connections::SqliteWriter(writer) => Ok(Tx(TxInner::Sqlite(writer.unit().await?))),
            Connections::Postgres(pool) => Ok(Tx(TxInner::Postgres(pool.begin().await?))),
            Connections::SqliteReaders(_) => Err(Error::ReadOnly),
        }
    }
}

/// A transaction: see [`Pool::begin`]. Dropped, it rolls back.
#[derive(Debug)]
pub struct Tx(TxInner);

#[derive(Debug)]
enum TxInner {
    Sqlite(writer::Unit),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    pub async fn commit(self) -> Result<(), Error> {
        match self.0 {
            TxInner::Sqlite(unit) => unit.commit().await,
            TxInner::Postgres(tx) => Ok(tx.commit().await?),
        }
    }

    pub async fn rollback(self) -> Result<(), Error> {
        match self.0 {
            TxInner::Sqlite(unit) => unit.rollback(),
            TxInner::Postgres(tx) => Ok(tx.rollback().await?),
        }
    }
}

/// Where a statement runs: a pool (`&db.read`, `&db.write`) or a transaction (`&mut tx`).
#[derive(Debug)]
pub enum Exec<'a> {
    Pool(&'a Pool),
    Tx(&'a mut Tx),
}

impl Exec<'_> {
    /// The same place for one more statement, so that a function given an `Exec` can run
    /// several.
    pub fn reborrow(&mut self) -> Exec<'_> {
        match self {
            Exec::Pool(pool) => Exec::Pool(pool),
            Exec::Tx(tx) => Exec::Tx(tx),
        }
    }
}

impl<'a> From<&'a Pool> for Exec<'a> {
    fn from(pool: &'a Pool) -> Exec<'a> {
        Exec::Pool(pool)
    }
}

impl<'a> From<&'a mut Tx> for Exec<'a> {
    fn from(tx: &'a mut Tx) -> Exec<'a> {
        Exec::Tx(tx)
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
impl From<&Option<String>> for Param {
    fn from(v: &Option<String>) -> Param {
        Param::Text(v.clone())
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

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Param::Text(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Param::Int(Some(i)) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Param::Text(None) | Param::Int(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// The parameters of one statement: `params![id, name, 3]`.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => { vec![$($crate::db::Param::from($value)),*] };
}

/// SQL built at run time from names written in the code, never from input: the caller
/// vouches for it by wrapping it.
#[derive(Debug)]
pub struct AssertSqlSafe(pub String);

/// The text of a statement: a literal, or [`AssertSqlSafe`].
pub trait SqlText {
    fn into_sql(self) -> Cow<'static, str>;
}

impl SqlText for &'static str {
    fn into_sql(self) -> Cow<'static, str> {
        Cow::Borrowed(self)
    }
}

impl SqlText for AssertSqlSafe {
    fn into_sql(self) -> Cow<'static, str> {
        Cow::Owned(self.0)
    }
}

/// A statement and its parameters: `query("... WHERE id = $1").bind(id).fetch_one(&db.read)`.
#[derive(Debug)]
#[must_use = "a query does nothing until it is executed or fetched"]
pub struct Query {
    sql: Cow<'static, str>,
    params: Vec<Param>,
}

pub fn query(sql: impl SqlText) -> Query {
    Query { sql: sql.into_sql(), params: Vec::new() }
}

/// What a statement that returns no rows did.
#[derive(Clone, Copy, Debug)]
pub struct Done {
    rows_affected: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

/// What the caller wants from a statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Nothing,
    First,
    All,
}

enum Output {
    Done(Done),
    Rows(Vec<Row>),
}

impl Query {
    pub fn bind(mut self, value: impl Into<Param>) -> Query {
        self.params.push(value.into());
        self
    }

    /// Binds parameters in order.
    pub fn bind_all(mut self, params: Vec<Param>) -> Query {
        self.params.extend(params);
        self
    }

    pub async fn execute<'a>(self, on: impl Into<Exec<'a>>) -> Result<Done, Error> {
        match self.run(on.into(), Want::Nothing).await? {
            Output::Done(done) => Ok(done),
            Output::Rows(rows) => {
                Ok(Done { rows_affected: u64::try_from(rows.len()).unwrap_or(u64::MAX) })
            }
        }
    }

    /// The first row; [`Error::NoRow`] when there is none.
    pub async fn fetch_one<'a>(self, on: impl Into<Exec<'a>>) -> Result<Row, Error> {
        self.fetch_optional(on).await?.ok_or(Error::NoRow)
    }

    pub async fn fetch_optional<'a>(self, on: impl Into<Exec<'a>>) -> Result<Option<Row>, Error> {
        Ok(self.fetch(on.into(), Want::First).await?.into_iter().next())
    }

    pub async fn fetch_all<'a>(self, on: impl Into<Exec<'a>>) -> Result<Vec<Row>, Error> {
        self.fetch(on.into(), Want::All).await
    }

    async fn fetch(self, on: Exec<'_>, want: Want) -> Result<Vec<Row>, Error> {
        match self.run(on, want).await? {
            Output::Rows(rows) => Ok(rows),
            Output::Done(_) => Ok(Vec::new()),
        }
    }

    async fn run(self, on: Exec<'_>, want: Want) -> Result<Output, Error> {
        match on {
            Exec::Tx(Tx(TxInner::Sqlite(unit))) => self.run_sqlite(unit.conn()?, want),
            Exec::Tx(Tx(TxInner::Postgres(tx))) => self.run_postgres(&mut **tx, want).await,
            Exec::Pool(pool) => match &*pool.0 {
                Connections::SqliteWriter(writer) => {
                    // A statement on its own is a transaction of its own.
                    let unit = writer.unit().await?;
                    let out = unit.conn().and_then(|conn| self.run_sqlite(conn, want));
                    match out {
                        Ok(out) => unit.commit().await.map(|()| out),
                        Err(e) => {
                            let _ = unit.rollback();
                            Err(e)
                        }
                    }
                }
                Connections::SqliteReaders(readers) => {
                    let idle = readers.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
                    let conn = match idle {
                        Some(conn) => conn,
                        None => readers.file.open(true)?,
                    };
                    let out = self.run_sqlite(&conn, want);
                    let mut idle = readers.idle.lock().unwrap_or_else(PoisonError::into_inner);
                    if idle.len() < readers.keep {
                        idle.push(conn);
                    }
                    out
                }
                Connections::Postgres(pool) => self.run_postgres(pool, want).await,
            },
        }
    }

    /// Runs on a SQLite connection, here and now: the statement is prepared once per
    /// connection and kept.
    fn run_sqlite(&self, conn: &rusqlite::Connection, want: Want) -> Result<Output, Error> {
        let mut statement = conn.prepare_cached(&self.sql)?;
        // SQLite numbers parameters by first appearance; `$N` names the Nth bound value.
        let numbers: Vec<usize> = (1..=statement.parameter_count())
            .map(|i| {
                statement
                    .parameter_name(i)
                    .and_then(|name| name.strip_prefix('$'))
                    .and_then(|digits| digits.parse().ok())
                    .unwrap_or(i)
            })
            .collect();
        let expected = numbers.iter().copied().max().unwrap_or(0);
        if expected != self.params.len() {
            return Err(Error::Parameters { expected, bound: self.params.len() });
        }
        for (i, n) in numbers.into_iter().enumerate() {
            let param = self
                .params
                .get(n.saturating_sub(1))
                .ok_or(Error::Parameters { expected, bound: self.params.len() })?;
            statement.raw_bind_parameter(i.saturating_add(1), param)?;
        }
        if want == Want::Nothing && statement.column_count() == 0 {
            let rows_affected = statement.raw_execute()?;
            return Ok(Output::Done(Done {
                rows_affected: u64::try_from(rows_affected).unwrap_or(u64::MAX),
            }));
        }
        let columns: Arc<[String]> =
            statement.column_names().into_iter().map(str::to_owned).collect();
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(columns.len());
            for (i, column) in columns.iter().enumerate() {
                use rusqlite::types::ValueRef;
                values.push(match row.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Text(t) => {
                        Value::Text(String::from_utf8(t.to_vec()).map_err(|_| Error::Column {
                            column: column.clone(),
                            problem: "not UTF-8 text",
                        })?)
                    }
                    ValueRef::Real(_) | ValueRef::Blob(_) => {
                        return Err(Error::Column {
                            column: column.clone(),
                            problem: "neither TEXT nor BIGINT",
                        });
                    }
                });
            }
            out.push(Row { columns: columns.clone(), values });
            if want == Want::First {
                break;
            }
        }
        Ok(Output::Rows(out))
    }

    async fn run_postgres<'e, E>(self, on: E, want: Want) -> Result<Output, Error>
    where
        E: sqlx::PgExecutor<'e>,
    {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.sql.into_owned()));
        for param in self.params {
            q = match param {
                Param::Text(v) => q.bind(v),
                Param::Int(v) => q.bind(v),
            };
        }
        match want {
            Want::Nothing => {
                Ok(Output::Done(Done { rows_affected: q.execute(on).await?.rows_affected() }))
            }
            Want::First => Ok(Output::Rows(from_postgres(q.fetch_optional(on).await?.as_slice())?)),
            Want::All => Ok(Output::Rows(from_postgres(&q.fetch_all(on).await?)?)),
        }
    }
}

/// PostgreSQL rows as TEXT, BIGINT (and smaller integers) or NULL values; the column names
/// are read once, from the first row, and shared by all.
fn from_postgres(rows: &[sqlx::postgres::PgRow]) -> Result<Vec<Row>, Error> {
    use sqlx::{Column as _, Row as _, TypeInfo as _};
    let Some(first) = rows.first() else { return Ok(Vec::new()) };
    let columns: Arc<[String]> = first.columns().iter().map(|c| c.name().to_owned()).collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut values = Vec::with_capacity(columns.len());
        for (i, column) in row.columns().iter().enumerate() {
            let value = match column.type_info().name() {
                "INT8" => row.try_get::<Option<i64>, _>(i)?.map(Value::Int),
                "INT4" => row.try_get::<Option<i32>, _>(i)?.map(|v| Value::Int(v.into())),
                "INT2" => row.try_get::<Option<i16>, _>(i)?.map(|v| Value::Int(v.into())),
                "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => {
                    row.try_get::<Option<String>, _>(i)?.map(Value::Text)
                }
                _ => {
                    return Err(Error::Column {
                        column: column.name().to_owned(),
                        problem: "neither TEXT nor BIGINT",
                    });
                }
            };
            values.push(value.unwrap_or(Value::Null));
        }
        out.push(Row { columns: columns.clone(), values });
    }
    Ok(out)
}

/// A value read from the database.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// One row of a result: values by column name.
#[derive(Clone, Debug)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    /// The value of column `name` as `T`: `String`, `i64` or an `Option` of either for a
    /// column that may be NULL.
    pub fn try_get<T: FromValue>(&self, name: &str) -> Result<T, Error> {
        let value = self
            .columns
            .iter()
            .position(|c| c == name)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| Error::Column { column: name.to_owned(), problem: "no such column" })?;
        T::from_value(value).map_err(|problem| Error::Column { column: name.to_owned(), problem })
    }

    /// The value of the `index`th column (from 0) as `T`.
    pub fn try_get_at<T: FromValue>(&self, index: usize) -> Result<T, Error> {
        let column = || self.columns.get(index).cloned().unwrap_or_else(|| index.to_string());
        let value = self
            .values
            .get(index)
            .ok_or_else(|| Error::Column { column: column(), problem: "no such column" })?;
        T::from_value(value).map_err(|problem| Error::Column { column: column(), problem })
    }
}

/// A Rust type a column can be read as.
pub trait FromValue: Sized {
    #[doc(hidden)]
    #[expect(private_interfaces, reason = "the values are this module's business")]
    fn from_value(value: &Value) -> Result<Self, &'static str>;
}

impl FromValue for String {
    #[expect(private_interfaces, reason = "the values are this module's business")]
    fn from_value(value: &Value) -> Result<String, &'static str> {
        match value {
            Value::Text(s) => Ok(s.clone()),
            Value::Null => Err("is NULL"),
            Value::Int(_) => Err("is a number, not text"),
        }
    }
}

impl FromValue for i64 {
    #[expect(private_interfaces, reason = "the values are this module's business")]
    fn from_value(value: &Value) -> Result<i64, &'static str> {
        match value {
            Value::Int(i) => Ok(*i),
            Value::Null => Err("is NULL"),
            Value::Text(_) => Err("is text, not a number"),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    #[expect(private_interfaces, reason = "the values are this module's business")]
    fn from_value(value: &Value) -> Result<Option<T>, &'static str> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// Statements written together inside a transaction, with no answer needed from any of them
/// but success: the rows of an order, its steps, history, notifications and mail. They run in
/// order inside the caller's transaction, so a failure leaves nothing behind once it rolls
/// back.
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
    pub async fn run(self, tx: &mut Tx) -> Result<(), Error> {
        for (sql, params) in self.statements {
            query(AssertSqlSafe(sql)).bind_all(params).execute(&mut *tx).await?;
        }
        Ok(())
    }

    /// Runs the statements as a transaction of their own, all or nothing.
    ///
    /// On PostgreSQL they go as one statement (each but the last in a data-modifying `WITH`):
    /// one round trip instead of one per statement plus two for the transaction. They all see
    /// the database as it was before the batch, so this is only for statements that neither
    /// read each other's effects nor touch the same rows: the inserts of a new order and what
    /// comes with it. Foreign keys are checked at the end, so a row may refer to another that
    /// the batch inserts.
    pub async fn run_alone(self, write: &Pool) -> Result<(), Error> {
        if let Connections::Postgres(pool) = &*write.0 {
            let Some((sql, params)) = self.into_one_statement() else { return Ok(()) };
            query(AssertSqlSafe(sql)).bind_all(params).run_postgres(pool, Want::Nothing).await?;
            return Ok(());
        }
        let mut tx = write.begin().await?;
        self.run(&mut tx).await?;
        tx.commit().await
    }

    /// [`Batch::run_alone`] for a new order: `more` adds the statements that need the order's
    /// number, after those already in the batch, and its answer is passed on.
    ///
    /// The number is unique across the seller and follows the order of submission. On
    /// PostgreSQL it is the sequence's next value, taken before the batch: concurrent
    /// submissions do not wait for each other, and one that fails leaves its number unused. On
    /// SQLite it is the largest number plus one, read inside the writer's transaction, which no
    /// other writer can enter: numbers have no gaps.
    pub async fn run_numbered<T>(
        mut self,
        write: &Pool,
        more: impl FnOnce(i64, &mut Batch) -> T,
    ) -> Result<T, Error> {
        if let Connections::Postgres(_) = &*write.0 {
            let number: i64 = query("SELECT nextval('order_numbers') AS n")
                .fetch_one(write)
                .await?
                .try_get("n")?;
            let answer = more(number, &mut self);
            self.run_alone(write).await?;
            return Ok(answer);
        }
        let mut tx = write.begin().await?;
        let number: i64 = query("SELECT COALESCE(MAX(number), 1000) + 1 AS n FROM orders")
            .fetch_one(&mut tx)
            .await?
            .try_get("n")?;
        let answer = more(number, &mut self);
        self.run(&mut tx).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// `WITH s1 AS (first), s2 AS (second), ... last`, each statement's `$k` renumbered after
    /// the parameters of those before it, and all parameters in order; `None` when empty.
    fn into_one_statement(self) -> Option<(String, Vec<Param>)> {
        let count = self.statements.len();
        let mut sql = String::new();
        let mut params = Vec::new();
        for (i, (text, own)) in self.statements.into_iter().enumerate() {
            if i.saturating_add(1) < count {
                sql.push_str(if i == 0 { "WITH " } else { ", " });
                sql.push_str(&format!("s{i} AS ("));
                renumber(&text, params.len(), &mut sql);
                sql.push(')');
                sql.push('\n');
            } else {
                renumber(&text, params.len(), &mut sql);
            }
            params.extend(own);
        }
        (count > 0).then_some((sql, params))
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
    fn a_batch_as_one_statement_renumbers_placeholders_after_the_statements_before() {
        let mut batch = Batch::new();
        batch.push("INSERT INTO a (x, y) VALUES ($1, $2)", params!["one", 2]);
        batch.push("UPDATE b SET s = 'cost $1' WHERE id = $1 AND n = $2", params![None::<&str>, 5]);
        batch.push("DELETE FROM c WHERE id = $1", params!["three"]);
        let (sql, params) = batch.into_one_statement().unwrap();
        assert_eq!(
            sql,
            "WITH s0 AS (INSERT INTO a (x, y) VALUES ($1, $2))\n, s1 AS (UPDATE b SET s = 'cost $1' WHERE id = $3 AND n = $4)\nDELETE FROM c WHERE id = $5"
        );
        assert_eq!(
            params,
            vec![
                Param::Text(Some("one".into())),
                Param::Int(Some(2)),
                Param::Text(None),
                Param::Int(Some(5)),
                Param::Text(Some("three".into())),
            ]
        );
        assert!(Batch::new().into_one_statement().is_none());
    }

    #[test]
    fn insert_rows_numbers_the_placeholders_in_order() {
        assert_eq!(
            super::insert_rows("t", &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }

    #[test]
    fn migration_versions_are_unique_across_the_shared_and_each_databases_own() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let [shared, own] = migrators(dialect);
            let mut versions: Vec<i64> =
                shared.iter().chain(own.iter()).map(|m| m.version).collect();
            let all = versions.len();
            versions.sort_unstable();
            versions.dedup();
            assert_eq!(versions.len(), all, "{dialect:?}: {versions:?}");
            assert!(own.iter().count() > 0, "{dialect:?}");
        }
    }

    #[test]
    fn sqlite_urls_name_a_file_and_whether_to_create_it() {
        let file = SqliteFile::parse("sqlite://data/c.db?mode=rwc").map_err(|e| e.to_string());
        assert_eq!(file.map(|f| (f.path, f.create)), Ok(("data/c.db".to_owned(), true)));
        let file = SqliteFile::parse("sqlite:c.db").map_err(|e| e.to_string());
        assert_eq!(file.map(|f| (f.path, f.create)), Ok(("c.db".to_owned(), false)));
        for bad in ["sqlite::memory:", "sqlite://c.db?mode=ro", "mysql://x", "sqlite://"] {
            assert!(matches!(SqliteFile::parse(bad), Err(Error::UnsupportedUrl(_))), "{bad}");
        }
    }

    #[test]
    fn a_database_is_described_without_its_credentials() {
        assert_eq!(describe("sqlite://data/c.db?mode=rwc"), "the SQLite file data/c.db");
        assert_eq!(
            describe("postgres://shop:s3cret@db.internal:5432/countersign?sslmode=require"),
            "the PostgreSQL database \"countersign\""
        );
        assert_eq!(describe("postgresql://localhost"), "the PostgreSQL database");
        assert_eq!(describe("mysql://x"), "the database");
    }

    /// Many writers at once share commits; each one's rollback, failure or drop undoes its
    /// own work only, and every commit that was answered is there.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_group_commit_keeps_each_transactions_fate() {
        let dir = std::env::temp_dir().join(crate::util::new_id("countersign-db"));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
        let db = Db::open(&url, 4).await.unwrap();
        let insert = |version: i64| {
            query(
                "INSERT INTO pricing_versions (version, document, created_at) VALUES ($1, '{}', 0)",
            )
            .bind(version)
        };
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..200i64 {
            let db = db.clone();
            tasks.spawn(async move {
                let mut tx = db.write.begin().await.unwrap();
                insert(i).execute(&mut tx).await.unwrap();
                tokio::task::yield_now().await;
                match i % 4 {
                    0 => tx.rollback().await.unwrap(),
                    1 => drop(tx),
                    // A unique key broken after a first insert: the unit fails as a whole.
                    2 => {
                        assert!(
                            insert(i).execute(&mut tx).await.unwrap_err().is_unique_violation()
                        );
                        drop(tx);
                    }
                    _ => tx.commit().await.unwrap(),
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        let rows = query("SELECT version FROM pricing_versions ORDER BY version")
            .fetch_all(&db.read)
            .await
            .unwrap();
        let versions: Vec<i64> = rows.iter().map(|r| r.try_get("version").unwrap()).collect();
        assert_eq!(versions, (0..200).filter(|i| i % 4 == 3).collect::<Vec<_>>());
        // They did share commits: fewer groups than transactions.
        let Connections::SqliteWriter(writer) = &*db.write.0 else { panic!("SQLite") };
        assert!(writer.groups() < 200, "{} groups for 200 transactions", writer.groups());
        db.close().await;
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn one_server_at_a_time_on_a_sqlite_file() {
        let dir = std::env::temp_dir().join(crate::util::new_id("countersign-db"));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
        let first = claim_sqlite_file(&url).unwrap();
        assert!(first.is_some());
        let second = claim_sqlite_file(&url);
        assert!(matches!(&second, Err(Error::InUse(path)) if path.ends_with("t.db")), "{second:?}");
        assert!(second.unwrap_err().to_string().contains("PostgreSQL"));
        // Another file is another database.
        let other = format!("sqlite://{}?mode=rwc", dir.join("u.db").display());
        assert!(claim_sqlite_file(&other).unwrap().is_some());
        drop(first);
        assert!(claim_sqlite_file(&url).unwrap().is_some());
        assert!(claim_sqlite_file("postgres://localhost/test").unwrap().is_none());
        assert!(matches!(claim_sqlite_file("mysql://x"), Err(Error::UnsupportedUrl(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn sqlite_cuts_the_wal_back_after_a_burst() {
        let dir = std::env::temp_dir().join(crate::util::new_id("countersign-db"));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("t.db");
        let db = Db::open(&format!("sqlite://{}?mode=rwc", file.display()), 2).await.unwrap();
        let wal = dir.join("t.db-wal");
        let wal_size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        let limit = u64::try_from(WAL_KEEP_BYTES).unwrap();
        // One transaction of about 1.5 times the limit (1 MB documents).
        let rows = limit * 3 / 2 / 1_000_000;
        let mut tx = db.write.begin().await.unwrap();
        query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
             INSERT INTO pricing_versions (version, document, created_at) \
             SELECT i, hex(randomblob(500000)), 1 FROM n",
        )
        .bind(i64::try_from(rows).unwrap())
        .execute(&mut tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert!(wal_size() > limit, "the burst should grow the WAL past the limit");
        // Once the background checkpoint has copied it back, the next write reuses the WAL
        // from its start and cuts the file back.
        let mut cut = false;
        for attempt in 0..50 {
            tokio::time::sleep(CHECKPOINT_EVERY).await;
            let mut tx = db.write.begin().await.unwrap();
            query("DELETE FROM pricing_versions WHERE version = $1")
                .bind(attempt + 1)
                .execute(&mut tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            if wal_size() <= limit {
                cut = true;
                break;
            }
        }
        assert!(cut, "the WAL stayed at {} bytes", wal_size());
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn sqlite_reads_writes_and_rolls_back_a_dropped_transaction() {
        let dir = std::env::temp_dir().join(crate::util::new_id("countersign-db"));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
        let db = Db::open(&url, 2).await.unwrap();
        let mut tx = db.write.begin().await.unwrap();
        query("INSERT INTO pricing_versions (version, document, created_at) VALUES ($1, $2, $3)")
            .bind(7)
            .bind("{}")
            .bind(1)
            .execute(&mut tx)
            .await
            .unwrap();
        drop(tx);
        let none = query("SELECT MAX(version) AS v FROM pricing_versions")
            .fetch_one(&db.read)
            .await
            .and_then(|r| r.try_get::<Option<i64>>("v"));
        assert_eq!(none.map_err(|e| e.to_string()), Ok(None));
        let mut tx = db.write.begin().await.unwrap();
        query("INSERT INTO pricing_versions (version, document, created_at) VALUES ($1, $2, $3)")
            .bind(8)
            .bind("{}")
            .bind(1)
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let row = query("SELECT version, document FROM pricing_versions").fetch_one(&db.read).await;
        let row = row.unwrap();
        assert_eq!(row.try_get::<i64>("version").map_err(|e| e.to_string()), Ok(8));
        assert!(matches!(row.try_get::<i64>("document"), Err(Error::Column { .. })));
        assert!(matches!(row.try_get::<String>("nothing"), Err(Error::Column { .. })));
        // The readers are read-only.
        let write = query("DELETE FROM pricing_versions").execute(&db.read).await;
        assert!(write.is_err());
        let bad = query("SELECT $1 AS a").fetch_one(&db.read).await;
        assert!(matches!(bad, Err(Error::Parameters { expected: 1, bound: 0 })));
        // `$N` is the Nth value wherever it appears first.
        let row = query("SELECT $2 AS b, $1 AS a, $2 AS c")
            .bind("one")
            .bind(2)
            .fetch_one(&db.read)
            .await
            .unwrap();
        let got = (row.try_get::<i64>("b"), row.try_get::<String>("a"), row.try_get::<i64>("c"));
        assert!(matches!(got, (Ok(2), Ok(ref a), Ok(2)) if a == "one"), "{got:?}");
        db.close().await;
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
