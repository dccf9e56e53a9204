//! `timers`: the workflow timer scheduler with 100,000 timers pending.
//!
//! On a fresh database (SQLite file, or PostgreSQL with `--database postgres`) with the demo
//! data (the seed workflow: an order of 50,000 USD or more unsubmitted for 7 days alerts its
//! sales rep), it stores `--pending` instances of that workflow, each with its timer: most due
//! in a month, and `--rate` a second due over the next `--seconds` seconds. The server's own
//! scheduler (`run_timers`, ticking every 250 ms) runs meanwhile; how late each due timer fired
//! is read back from the history. Then `--burst` timers fall due at once, and the time to fire
//! them all gives the scheduler's throughput. Each firing is a real one: the instance moves,
//! its next timer is armed, the sales rep is notified and mailed through the outbox.

use server::{
    AppState, Config, Db,
    auth::Passwords,
    db::{self, insert_rows},
    instances,
    util::now,
};
use std::{
    collections::HashMap,
    path::PathBuf,
    time::{Duration, Instant},
};

type Result<T, E = String> = std::result::Result<T, E>;

const PG_DATABASE: &str = "countersign_timers";
const DAY_MS: i64 = 86_400_000;
/// Rows per INSERT when storing the instances.
const CHUNK: usize = 500;

struct Args {
    postgres: bool,
    pending: usize,
    rate: usize,
    seconds: usize,
    burst: usize,
    out: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut args =
        Args { postgres: false, pending: 100_000, rate: 100, seconds: 10, burst: 5_000, out: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| v.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--database" => {
                args.postgres = match value()?.as_str() {
                    "sqlite" => false,
                    "postgres" => true,
                    other => {
                        return Err(format!("--database: {other:?} is not sqlite or postgres"));
                    }
                }
            }
            "--pending" => args.pending = number(value()?)?,
            "--rate" => args.rate = number(value()?)?,
            "--seconds" => args.seconds = number(value()?)?,
            "--burst" => args.burst = number(value()?)?,
            "--out" => args.out = Some(PathBuf::from(value()?)),
            other => {
                return Err(format!(
                    "unknown argument {other:?}; use --database sqlite|postgres --pending N --rate N --seconds N --burst N --out FILE"
                ));
            }
        }
    }
    Ok(args)
}

fn config(database_url: String) -> Result<Config> {
    Ok(Config {
        bind: "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
        database_url,
        db_connections: 16,
        smtp_url: None,
        mail_from: "Countersign <noreply@countersign.invalid>".into(),
        static_dir: PathBuf::from("dist"),
        demo: true,
        secure_cookies: false,
        log_json: false,
        allow_private_webhooks: false,
        webhook_ca_file: None,
        trusted_proxies: Vec::new(),
        approval_reminder_after: rules::time::Duration::ZERO,
    })
}

/// Stores instances of the seed workflow in the draft state, each with its timer due at the
/// given time (and so entered 7 days before). Answers each instance's due time.
async fn store(
    state: &AppState,
    prefix: &str,
    due: impl Iterator<Item = i64>,
) -> Result<HashMap<String, i64>> {
    let fields = r#"{"order.total":{"money":{"amount":"60000.00","currency":"USD"}}}"#;
    let due: Vec<(String, i64)> =
        due.enumerate().map(|(i, at)| (format!("{prefix}-{i}"), at)).collect();
    for chunk in due.chunks(CHUNK) {
        let mut tx = state.db.write.begin().await.map_err(|e| e.to_string())?;
        let sql = insert_rows(
            "workflow_instances",
            &[
                "id",
                "company_id",
                "entity",
                "entity_id",
                "workflow_id",
                "version",
                "state",
                "entered_at",
                "fields",
                "revision",
                "created_at",
                "updated_at",
            ],
            chunk.len(),
        );
        let mut insert = db::query(db::AssertSqlSafe(sql));
        for (id, at) in chunk {
            insert = insert
                .bind(id)
                .bind("ACME")
                .bind("order")
                .bind(id)
                .bind("b2b-order")
                .bind(1i64)
                .bind("draft")
                .bind(at - 7 * DAY_MS)
                .bind(fields)
                .bind(1i64)
                .bind(at - 7 * DAY_MS)
                .bind(at - 7 * DAY_MS);
        }
        insert.execute(&mut tx).await.map_err(|e| e.to_string())?;
        let sql = insert_rows(
            "workflow_timers",
            &["instance_id", "transition_id", "revision", "due_at", "leased_until"],
            chunk.len(),
        );
        let mut insert = db::query(db::AssertSqlSafe(sql));
        for (id, at) in chunk {
            insert = insert.bind(id).bind("big-order-follow-up").bind(1i64).bind(*at).bind(0i64);
        }
        insert.execute(&mut tx).await.map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    Ok(due.into_iter().collect())
}

async fn fired_count(state: &AppState) -> Result<i64> {
    db::query("SELECT COUNT(*) AS n FROM workflow_history WHERE cause = 'timer'")
        .fetch_one(&state.db.read)
        .await
        .and_then(|r| r.try_get("n"))
        .map_err(|e| e.to_string())
}

fn percentile(sorted: &[i64], p: usize) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let index = (sorted.len().saturating_sub(1)).saturating_mul(p) / 100;
    sorted.get(index).copied().unwrap_or_default()
}

async fn run(args: &Args) -> Result<serde_json::Value> {
    let work = std::env::temp_dir().join(format!("countersign-timers-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let url = if args.postgres {
        loadgen::fresh_postgres(PG_DATABASE).await?
    } else {
        format!("sqlite://{}?mode=rwc", work.join("timers.db").display())
    };
    let db = Db::open(&url, 16).await.map_err(|e| e.to_string())?;
    let state = AppState::new(db, config(url)?, Passwords::new(true)?);
    server::demo::load(&state).await.map_err(|e| e.message)?;
    // The demo's two drafted orders fall due in two minutes; they do not disturb the figures.

    let database = if args.postgres { "postgres" } else { "sqlite" };
    let streamed = args.rate.saturating_mul(args.seconds);
    let parked = args.pending.saturating_sub(streamed);
    let started = Instant::now();
    let start = now().millis();
    store(&state, "parked", (0..parked).map(|_| start + 30 * DAY_MS)).await?;
    // Due from two seconds after storing, `rate` a second.
    let first = now().millis() + 2_000;
    let step = 1_000 / i64::try_from(args.rate.max(1)).unwrap_or(1);
    let due = store(
        &state,
        "due",
        (0..streamed).map(|i| first + i64::try_from(i).unwrap_or(0).saturating_mul(step)),
    )
    .await?;
    println!(
        "timers: {database}: stored {} pending timers in {:.1} s; {streamed} fall due at {}/s",
        args.pending,
        started.elapsed().as_secs_f64(),
        args.rate
    );

    let scheduler = tokio::spawn(instances::run_timers(state.clone(), Duration::from_millis(250)));
    let deadline =
        Instant::now() + Duration::from_secs(u64::try_from(args.seconds).unwrap_or(10) + 5);
    while fired_count(&state).await? < i64::try_from(streamed).unwrap_or(i64::MAX) {
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rows = db::query("SELECT instance_id, at FROM workflow_history WHERE cause = 'timer'")
        .fetch_all(&state.db.read)
        .await
        .map_err(|e| e.to_string())?;
    let mut late: Vec<i64> = Vec::new();
    for row in rows {
        let id: String = row.try_get("instance_id").map_err(|e| e.to_string())?;
        let at: i64 = row.try_get("at").map_err(|e| e.to_string())?;
        if let Some(due_at) = due.get(&id) {
            late.push(at - due_at);
        }
    }
    late.sort_unstable();
    let lateness = serde_json::json!({
        "fired": late.len(), "due": streamed,
        "p50_ms": percentile(&late, 50), "p99_ms": percentile(&late, 99), "max_ms": late.last().copied().unwrap_or_default(),
    });
    println!(
        "timers: {database}: due timers fired {} of {streamed}; late by {lateness}",
        late.len()
    );

    // A burst: all due at once.
    let before = fired_count(&state).await?;
    let burst_at = now().millis();
    let burst_started = Instant::now();
    store(&state, "burst", (0..args.burst).map(|_| burst_at)).await?;
    let target = before + i64::try_from(args.burst).unwrap_or(i64::MAX);
    let deadline = Instant::now() + Duration::from_secs(300);
    while fired_count(&state).await? < target && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = burst_started.elapsed().as_secs_f64();
    let fired = fired_count(&state).await? - before;
    #[expect(clippy::cast_precision_loss, reason = "a count of timers")]
    let per_second = (fired as f64 / elapsed).round();
    println!(
        "timers: {database}: a burst of {} due at once fired in {elapsed:.1} s = {per_second} timers/s",
        args.burst
    );
    scheduler.abort();
    state.db.close().await;
    let _ = std::fs::remove_dir_all(&work);
    if late.len() < streamed || fired < i64::try_from(args.burst).unwrap_or(i64::MAX) {
        return Err(format!(
            "timers did not fire: {} of {streamed} due, {fired} of {} in the burst",
            late.len(),
            args.burst
        ));
    }
    Ok(serde_json::json!({
        "database": database,
        "pending": args.pending,
        "due_rate_per_second": args.rate,
        "lateness": lateness,
        "burst": { "timers": args.burst, "fired": fired, "seconds": elapsed, "timers_per_second": per_second },
    }))
}

fn main() -> std::process::ExitCode {
    let outcome = parse_args().and_then(|args| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let figures = runtime.block_on(run(&args))?;
        if let Some(out) = &args.out {
            let text = serde_json::to_string_pretty(&figures).map_err(|e| e.to_string())?;
            std::fs::write(out, text).map_err(|e| format!("{}: {e}", out.display()))?;
        }
        Ok(())
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("timers: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
