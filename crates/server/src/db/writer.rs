//! SQLite's one writer connection, with group commit.
//!
//! Every write runs as a *unit* (a transaction as the caller sees it) inside a savepoint of a
//! longer SQLite transaction, the *group*. A unit that finishes while other units wait for the
//! writer leaves the group open for them, and the last one commits everyone's work at once:
//! the pages that several units touch (the tail of `orders`, of its indexes, of the outbox)
//! are written to the WAL once per group instead of once per unit, which is most of what a
//! commit costs. A unit's caller hears "committed" only once its group is, so nothing is
//! reported done that a crash could lose; a failed group commit is reported to every unit in
//! it. With nobody waiting, a unit commits at once, exactly as a plain transaction would.
//!
//! Invariants:
//! - a group is open only while a unit holds the writer, or while a committed unit waits for
//!   it, in which case a commit is due: by the next unit to find nobody waiting, by the
//!   committer task once it gets the writer, or when the group reaches [`MAX_UNITS`] units or
//!   [`MAX_OPEN`] of age;
//! - a unit that rolls back (or is dropped) undoes its own savepoint only.

use super::Error;
use rusqlite::Connection;
use std::{
    sync::{
        Arc, Weak,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::sync::{Mutex, OwnedMutexGuard, mpsc, watch};

/// A group commits when it holds this many units, waiting or not.
const MAX_UNITS: usize = 64;
/// A group commits when it has been open this long, waiting or not.
const MAX_OPEN: Duration = Duration::from_millis(4);

/// The writer connection; cheap to share (see the module's documentation).
#[derive(Debug)]
pub(super) struct Writer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Arc<Mutex<State>>,
    /// Units waiting for `state`: while there are any, a finished unit leaves its group open
    /// for them.
    waiting: AtomicUsize,
    /// Asks the committer task to commit the open group once it gets the writer.
    commit_later: mpsc::UnboundedSender<()>,
    /// Groups committed so far (or failed to), for tests and curiosity.
    groups: AtomicUsize,
}

#[derive(Debug)]
struct State {
    conn: Connection,
    group: Option<Group>,
}

/// What a group's units learn when it ends: committed, or why not.
type Outcome = Option<Result<(), Arc<str>>>;

#[derive(Debug)]
struct Group {
    /// Units that finished in it and wait for its commit.
    units: usize,
    opened: Instant,
    done: watch::Sender<Outcome>,
}

impl Writer {
    /// Takes the connection and starts the committer task (on the current Tokio runtime).
    pub(super) fn new(conn: Connection) -> Writer {
        let (commit_later, asks) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            state: Arc::new(Mutex::new(State { conn, group: None })),
            waiting: AtomicUsize::new(0),
            commit_later,
            groups: AtomicUsize::new(0),
        });
        tokio::spawn(committer(Arc::downgrade(&shared), asks));
        Writer { shared }
    }

    /// Whether the writer is still there, for threads that should stop when it is gone.
    pub(super) fn alive(&self) -> impl Fn() -> bool + Send + 'static {
        let weak: Weak<Shared> = Arc::downgrade(&self.shared);
        move || weak.strong_count() > 0
    }

    /// How many groups have ended so far.
    pub(super) fn groups(&self) -> usize {
        self.shared.groups.load(Ordering::Relaxed)
    }

    /// Waits for the writer and begins a unit.
    pub(super) async fn unit(&self) -> Result<Unit, Error> {
        let state = {
            let _waiting = Waiting::count(&self.shared.waiting);
            self.shared.state.clone().lock_owned().await
        };
        let mut unit = Unit { state: Some(state), shared: self.shared.clone() };
        if let Some(state) = unit.state.as_mut() {
            if state.group.is_none() {
                run(&state.conn, "BEGIN IMMEDIATE")?;
                state.group = Some(Group {
                    units: 0,
                    opened: Instant::now(),
                    done: watch::Sender::new(None),
                });
            }
            run(&state.conn, "SAVEPOINT unit")?;
        }
        Ok(unit)
    }
}

/// One caller's transaction: see the module's documentation. Dropping it rolls it back.
#[derive(Debug)]
pub(super) struct Unit {
    /// `None` once committed or rolled back.
    state: Option<OwnedMutexGuard<State>>,
    shared: Arc<Shared>,
}

impl Unit {
    pub(super) fn conn(&self) -> Result<&Connection, Error> {
        self.state.as_ref().map(|s| &s.conn).ok_or(Error::Ended)
    }

    /// Keeps the unit's work and answers once its group is committed.
    pub(super) async fn commit(mut self) -> Result<(), Error> {
        let mut state = self.state.take().ok_or(Error::Ended)?;
        if let Err(e) = run(&state.conn, "RELEASE unit") {
            let _ = undo(&state.conn);
            settle(&mut state, &self.shared);
            return Err(e.into());
        }
        let Some(group) = state.group.as_mut() else {
            return Err(Error::Ended);
        };
        group.units = group.units.saturating_add(1);
        let mut done = group.done.subscribe();
        settle(&mut state, &self.shared);
        drop(state);
        let outcome = done
            .wait_for(Option::is_some)
            .await
            .map_err(|_| Error::Commit("the database closed before the commit".into()))?;
        match &*outcome {
            Some(Err(e)) => Err(Error::Commit(e.clone())),
            Some(Ok(())) | None => Ok(()),
        }
    }

    /// Undoes the unit's work (and only its own).
    pub(super) fn rollback(mut self) -> Result<(), Error> {
        let mut state = self.state.take().ok_or(Error::Ended)?;
        let undone = undo(&state.conn);
        settle(&mut state, &self.shared);
        Ok(undone?)
    }
}

impl Drop for Unit {
    fn drop(&mut self) {
        if let Some(mut state) = self.state.take() {
            // Nothing to report to: the statement that failed already was.
            let _ = undo(&state.conn);
            settle(&mut state, &self.shared);
        }
    }
}

/// Runs one of the writer's own statements, prepared once (four of them a unit: parsing
/// them every time showed in the profile).
fn run(conn: &Connection, sql: &str) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn undo(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.execute_batch("ROLLBACK TO unit; RELEASE unit")
}

/// After a unit: commits the group now, or leaves it to the units waiting for the writer
/// (and asks the committer to make sure).
fn settle(state: &mut State, shared: &Shared) {
    let Some(group) = &state.group else { return };
    let now = group.units == 0
        || shared.waiting.load(Ordering::Acquire) == 0
        || group.units >= MAX_UNITS
        || group.opened.elapsed() >= MAX_OPEN;
    if now {
        commit_group(state, shared);
    } else {
        // The receiver lives as long as the writer: a failed send means nobody can wait.
        let _ = shared.commit_later.send(());
    }
}

fn commit_group(state: &mut State, shared: &Shared) {
    let Some(group) = state.group.take() else { return };
    shared.groups.fetch_add(1, Ordering::Relaxed);
    let outcome = match run(&state.conn, "COMMIT") {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = state.conn.execute_batch("ROLLBACK");
            Err(Arc::from(e.to_string()))
        }
    };
    group.done.send_replace(Some(outcome));
}

/// Commits what was left open, once it gets the writer; ends with the writer.
async fn committer(shared: Weak<Shared>, mut asks: mpsc::UnboundedReceiver<()>) {
    while asks.recv().await.is_some() {
        while asks.try_recv().is_ok() {}
        let Some(shared) = shared.upgrade() else { return };
        commit_group(&mut *shared.state.lock().await, &shared);
    }
}

/// Counts a unit waiting for the writer, until it has it or gives up.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a AtomicUsize) -> Waiting<'a> {
        waiting.fetch_add(1, Ordering::AcqRel);
        Waiting(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
