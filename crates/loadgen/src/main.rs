//! `loadgen`: order submissions against a real Countersign server on a real database, made the
//! way buyers' browsers make them.
//!
//! It starts `countersign serve --demo` on a fresh SQLite file or PostgreSQL database, adds
//! buyers to the demo company through the API (as its admin would), gives each an API token, and
//! has each buyer do what the app does at checkout: put the cart, compute the claims (prices,
//! total, approvers) with `rules` from the checkout context, and submit with an idempotency key.
//! The server reprices, reroutes, compares, stores the order, its approval steps, its history,
//! the approvers' notifications and their mail in the outbox.
//!
//! Two runs, each after a warm-up of its own that is not counted:
//! - **closed loop**: every buyer checks out again as soon as the last answer came: the
//!   throughput the server sustains;
//! - **open loop** at a fixed rate: checkouts start on a schedule, whatever happened before, and
//!   latency counts from the scheduled instant (no coordinated omission). Its warm-up runs at
//!   the same rate, so that what it measures is that rate held, not the server still catching
//!   up with the closed loop's burst (its WAL checkpoint, say).
//!
//! Each run also reports the CPU spent per order (from `/proc`): by the server process, and by
//! the whole machine (the server, the database's processes, this load generator). On a shared
//! 2-core machine those vary much less from run to run than the throughput does, so they are
//! the figures to compare when changing the server.
//!
//! ```text
//! loadgen --server target/release/countersign [--database sqlite|postgres] [--seconds 10]
//!         [--rate 1000] [--buyers 32] [--warmup 2] [--out target/load-sqlite.json]
//! ```

#![allow(
    clippy::indexing_slicing,
    reason = "only serde_json values are indexed, by key: a missing key is Null, never a panic"
)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{
    Method, Request, StatusCode,
    client::conn::http1::{self, SendRequest},
    header::{self, HeaderValue},
};
use hyper_util::rt::TokioIo;
use rules::{
    CheckoutRequest,
    approval::{ApprovalContext, ApprovalPolicy, Directory},
    money::Money,
    pricing::{PricingContext, PricingData},
};
use serde_json::{Value, json};
use std::{
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    rc::Rc,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::{net::TcpStream, sync::Mutex, task::JoinSet};

type Result<T = ()> = std::result::Result<T, String>;

/// Where every demo user's password, and the load buyers', comes from.
const PASSWORD: &str = "countersign-demo";
const ADMIN: &str = "dana@acme.example";
/// The buyer the load buyers are modelled on (unit, manager).
const MODEL_BUYER: &str = "pat@acme.example";
/// The cart: volume tiers, sales tax, a total of 3,471.70 USD that needs Approver 2; after the
/// monthly budget is spent, the buyer's manager too.
const CART: [(&str, u32); 2] = [("DRL-M", 20), ("BIT-M", 10)];
const PG_DATABASE: &str = "countersign_load";

#[derive(Debug)]
struct Args {
    server: PathBuf,
    postgres: bool,
    seconds: u64,
    rate: u64,
    buyers: usize,
    warmup: u64,
    out: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let usage = "usage: loadgen --server PATH [--database sqlite|postgres] [--seconds N] [--rate N] [--buyers N] [--warmup SECONDS] [--out FILE]";
    let mut args = Args {
        server: PathBuf::new(),
        postgres: false,
        seconds: 10,
        rate: 1000,
        buyers: 32,
        warmup: 2,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{usage}"))?;
        let number =
            |v: &str| v.parse::<u64>().map_err(|_| format!("{flag}: {v:?} is not a number"));
        match flag.as_str() {
            "--server" => args.server = PathBuf::from(value),
            "--database" => {
                args.postgres = match value.as_str() {
                    "sqlite" => false,
                    "postgres" => true,
                    _ => {
                        return Err(format!(
                            "--database: {value:?} is neither sqlite nor postgres"
                        ));
                    }
                }
            }
            "--seconds" => args.seconds = number(&value)?.max(1),
            "--rate" => args.rate = number(&value)?.max(1),
            "--buyers" => args.buyers = usize::try_from(number(&value)?.max(1)).unwrap_or(32),
            "--warmup" => args.warmup = number(&value)?,
            "--out" => args.out = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown flag {flag}\n{usage}")),
        }
    }
    if args.server.as_os_str().is_empty() {
        return Err(format!("--server is required\n{usage}"));
    }
    Ok(args)
}

/// One keep-alive HTTP/1.1 connection, as a browser tab holds one.
struct Http {
    send: SendRequest<Full<Bytes>>,
    /// `Authorization`, or the session cookie and CSRF token.
    auth: Vec<(header::HeaderName, HeaderValue)>,
}

impl Http {
    async fn connect(addr: SocketAddr) -> Result<Http> {
        let stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (send, connection) =
            http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
        tokio::task::spawn_local(async move {
            let _ = connection.await;
        });
        Ok(Http { send, auth: Vec::new() })
    }

    async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, header::HeaderMap, Bytes)> {
        let mut request =
            Request::builder().method(method).uri(path).header(header::HOST, "127.0.0.1");
        for (name, value) in &self.auth {
            request = request.header(name, value);
        }
        let body = match body {
            Some(v) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(serde_json::to_vec(v).map_err(|e| e.to_string())?))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(body).map_err(|e| e.to_string())?;
        self.send.ready().await.map_err(|e| format!("{path}: {e}"))?;
        let response = self.send.send_request(request).await.map_err(|e| format!("{path}: {e}"))?;
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.map_err(|e| format!("{path}: {e}"))?.to_bytes();
        Ok((parts.status, parts.headers, bytes))
    }

    /// A call that must answer `expected`; its body as JSON.
    async fn json(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        expected: StatusCode,
    ) -> Result<Value> {
        let (status, _, bytes) = self.call(method.clone(), path, body).await?;
        if status != expected {
            return Err(format!(
                "{method} {path}: {status} (expected {expected}): {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("{method} {path}: {e}"))
    }

    /// Logs in with a session (cookie and CSRF token); answers who.
    async fn login(&mut self, email: &str) -> Result<Value> {
        let (status, headers, bytes) = self
            .call(
                Method::POST,
                "/api/session",
                Some(&json!({ "email": email, "password": PASSWORD })),
            )
            .await?;
        if status != StatusCode::OK {
            return Err(format!("login {email}: {status}: {}", String::from_utf8_lossy(&bytes)));
        }
        let me: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        let cookie = headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .ok_or("login: no session cookie")?;
        let csrf = me["csrf_token"].as_str().ok_or("login: no CSRF token")?;
        self.auth = vec![
            (header::COOKIE, HeaderValue::from_str(cookie).map_err(|e| e.to_string())?),
            (
                header::HeaderName::from_static("x-csrf-token"),
                HeaderValue::from_str(csrf).map_err(|e| e.to_string())?,
            ),
        ];
        Ok(me)
    }
}

/// A buyer checking out the same cart again and again, with what the app would claim.
struct Buyer {
    number: usize,
    http: Http,
    pricing: Arc<PricingContext>,
    approval: Arc<ApprovalContext>,
    /// The checkout as the context described it; what was spent grows with every order.
    request: CheckoutRequest,
    versions: (Value, Value),
    cart: Value,
    orders: u64,
}

/// How long one checkout took.
#[derive(Clone, Copy)]
struct Sample {
    /// The submission request alone.
    submit: Duration,
    /// From the scheduled start (open loop) or the start (closed loop) to the order placed:
    /// the cart, the claims and the submission.
    checkout: Duration,
}

impl Buyer {
    async fn new(addr: SocketAddr, number: usize, token: String) -> Result<Buyer> {
        let mut http = Http::connect(addr).await?;
        http.auth = vec![(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?,
        )];
        let cart = json!({ "lines": CART.iter().map(|(sku, q)| json!({ "sku": sku, "quantity": q })).collect::<Vec<_>>() });
        http.json(Method::PUT, "/api/cart", Some(&cart), StatusCode::OK).await?;
        let context = http.json(Method::GET, "/api/checkout/context", None, StatusCode::OK).await?;
        let parse = |field: &str| context.get(field).cloned().ok_or(format!("context: no {field}"));
        let data: PricingData =
            serde_json::from_value(parse("pricing")?).map_err(|e| format!("pricing: {e}"))?;
        let pricing = PricingContext::new(data).map_err(|e| format!("pricing: {e:?}"))?;
        let policy: ApprovalPolicy =
            serde_json::from_value(parse("policy")?).map_err(|e| format!("policy: {e}"))?;
        let directory: Directory =
            serde_json::from_value(parse("directory")?).map_err(|e| format!("directory: {e}"))?;
        let approval =
            ApprovalContext::new(policy, directory).map_err(|e| format!("policy: {e:?}"))?;
        let request: CheckoutRequest =
            serde_json::from_value(parse("request")?).map_err(|e| format!("request: {e}"))?;
        Ok(Buyer {
            number,
            http,
            pricing: Arc::new(pricing),
            approval: Arc::new(approval),
            request,
            versions: (parse("pricing_version")?, parse("policy_version")?),
            cart,
            orders: 0,
        })
    }

    /// What the app sends as `claimed`, and the total.
    fn claims(&self) -> Result<(Value, Money)> {
        let verdict = rules::evaluate_checkout(&self.pricing, &self.approval, &self.request)
            .map_err(|e| e.to_string())?;
        let claimed = json!({
            "pricing_version": self.versions.0,
            "policy_version": self.versions.1,
            "total": verdict.priced.total,
            "lines": verdict.priced.lines.iter().map(|l| json!({ "sku": l.sku, "quantity": l.quantity, "unit_price": l.unit_price })).collect::<Vec<_>>(),
            "approvers": verdict.plan.steps.iter().map(|s| s.candidates.iter().map(ToString::to_string).collect::<Vec<_>>()).collect::<Vec<_>>(),
        });
        Ok((claimed, verdict.priced.total))
    }

    /// One checkout: the cart, the claims, the submission (which must place the order).
    async fn checkout(&mut self, started: Instant) -> Result<Sample> {
        self.http.json(Method::PUT, "/api/cart", Some(&self.cart), StatusCode::OK).await?;
        let (claimed, total) = self.claims()?;
        self.orders = self.orders.saturating_add(1);
        let body = json!({ "idempotency_key": format!("load-{}-{}", self.number, self.orders), "claimed": claimed });
        let sent = Instant::now();
        self.http.json(Method::POST, "/api/orders", Some(&body), StatusCode::CREATED).await?;
        let done = Instant::now();
        for spent in &mut self.request.spent {
            spent.amount = spent.amount.checked_add(total).map_err(|e| e.to_string())?;
        }
        Ok(Sample { submit: done.duration_since(sent), checkout: done.duration_since(started) })
    }
}

/// Closed loop: every buyer checks out again and again until `until`.
async fn closed_loop(buyers: Vec<Buyer>, until: Instant) -> Result<(Vec<Buyer>, Vec<Sample>)> {
    let mut tasks = JoinSet::new();
    for mut buyer in buyers {
        tasks.spawn_local(async move {
            let mut samples = Vec::new();
            while Instant::now() < until {
                samples.push(buyer.checkout(Instant::now()).await?);
            }
            Ok::<_, String>((buyer, samples))
        });
    }
    let mut buyers = Vec::new();
    let mut samples = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (buyer, mut s) = joined.map_err(|e| e.to_string())??;
        buyers.push(buyer);
        samples.append(&mut s);
    }
    Ok((buyers, samples))
}

/// Open loop: a checkout is due every `1 / rate` s for `seconds`; a free buyer takes the
/// oldest due one. Latency counts from when it was due.
async fn open_loop(
    buyers: Vec<Buyer>,
    rate: u64,
    seconds: u64,
) -> Result<(Vec<Buyer>, Vec<Sample>)> {
    let total = rate.saturating_mul(seconds);
    let start = Instant::now() + Duration::from_millis(10);
    let interval = Duration::from_secs(1).checked_div(u32::try_from(rate).unwrap_or(u32::MAX));
    let interval = interval.unwrap_or(Duration::from_millis(1));
    let next = Rc::new(Mutex::new(0u64));
    let mut tasks = JoinSet::new();
    for mut buyer in buyers {
        let next = next.clone();
        tasks.spawn_local(async move {
            let mut samples = Vec::new();
            loop {
                let due = {
                    let mut n = next.lock().await;
                    if *n >= total {
                        break;
                    }
                    let due = start + interval * u32::try_from(*n).unwrap_or(u32::MAX);
                    *n = n.saturating_add(1);
                    due
                };
                tokio::time::sleep_until(due.into()).await;
                samples.push(buyer.checkout(due).await?);
            }
            Ok::<_, String>((buyer, samples))
        });
    }
    let mut buyers = Vec::new();
    let mut samples = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (buyer, mut s) = joined.map_err(|e| e.to_string())??;
        buyers.push(buyer);
        samples.append(&mut s);
    }
    Ok((buyers, samples))
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let last = sorted.len().saturating_sub(1);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "an index into a short list"
    )]
    let at = ((last as f64) * q).round() as usize;
    sorted.get(at.min(last)).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn latencies(samples: &[Sample], pick: fn(&Sample) -> Duration) -> Value {
    let mut d: Vec<Duration> = samples.iter().map(pick).collect();
    d.sort_unstable();
    let round = |x: f64| (x * 100.0).round() / 100.0;
    json!({
        "p50_ms": round(percentile(&d, 0.50)),
        "p90_ms": round(percentile(&d, 0.90)),
        "p99_ms": round(percentile(&d, 0.99)),
        "max_ms": round(percentile(&d, 1.0)),
    })
}

/// CPU time used so far, in clock ticks (`USER_HZ`, 100 a second on Linux): by the server
/// process (all its threads) and by the whole machine (every process, the database's too).
/// `None` where `/proc` cannot tell.
#[derive(Debug, Clone, Copy)]
struct CpuTicks {
    server: Option<u64>,
    machine: Option<u64>,
}

/// Linux's `USER_HZ`: the unit of `/proc/*/stat` times.
const TICKS_PER_SECOND: f64 = 100.0;

impl CpuTicks {
    fn now(server: &Server) -> CpuTicks {
        let process = std::fs::read_to_string(format!("/proc/{}/stat", server.0.id())).ok();
        // After the command's name (in parentheses, which may hold spaces): state is field 3,
        // utime and stime are fields 14 and 15.
        let server = process.as_deref().and_then(|stat| {
            let after_name = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = after_name.split_whitespace().collect();
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            utime.checked_add(stime)
        });
        // The first line of /proc/stat: user nice system idle iowait irq softirq steal...;
        // busy is everything but idle and iowait.
        let machine = std::fs::read_to_string("/proc/stat").ok().and_then(|stat| {
            let cpu = stat.lines().next()?;
            let ticks: Vec<u64> =
                cpu.split_whitespace().skip(1).take(8).filter_map(|t| t.parse().ok()).collect();
            let all: u64 = ticks.iter().sum();
            let idle = ticks.get(3)?.checked_add(*ticks.get(4)?)?;
            all.checked_sub(idle)
        });
        CpuTicks { server, machine }
    }

    /// Milliseconds of CPU per order between `self` and `later`.
    fn per_order(self, later: CpuTicks, orders: usize) -> Value {
        let ms = |a: Option<u64>, b: Option<u64>| -> Value {
            match (a, b) {
                (Some(a), Some(b)) if orders > 0 => {
                    #[expect(clippy::cast_precision_loss, reason = "ticks and counts")]
                    let ms = b.saturating_sub(a) as f64 / TICKS_PER_SECOND * 1000.0 / orders as f64;
                    json!((ms * 1000.0).round() / 1000.0)
                }
                _ => Value::Null,
            }
        };
        json!({
            "server_cpu_ms_per_order": ms(self.server, later.server),
            "machine_cpu_ms_per_order": ms(self.machine, later.machine),
        })
    }
}

/// The server process, stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

async fn start_server(args: &Args, work: &std::path::Path) -> Result<(Server, SocketAddr)> {
    let database_url = if args.postgres {
        loadgen::fresh_postgres(PG_DATABASE).await?
    } else {
        format!("sqlite://{}?mode=rwc", work.join("load.db").display())
    };
    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let child = Command::new(&args.server)
        .args(["serve", "--demo", "--bind", &addr.to_string(), "--database-url", &database_url])
        .arg("--static-dir")
        .arg(work)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("start {}: {e}", args.server.display()))?;
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut http) = Http::connect(addr).await
            && http.json(Method::GET, "/api/health", None, StatusCode::OK).await.is_ok()
        {
            return Ok((server, addr));
        }
        if Instant::now() > deadline {
            return Err("the server did not answer /api/health within 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Adds `count` buyers to the demo company, like the model buyer (unit, manager), and gives
/// each an API token.
async fn buyers(addr: SocketAddr, count: usize) -> Result<Vec<Buyer>> {
    let mut model = Http::connect(addr).await?;
    let me = model.login(MODEL_BUYER).await?;
    let company = me["company_id"].as_str().ok_or("no company")?.to_owned();
    let mut admin = Http::connect(addr).await?;
    admin.login(ADMIN).await?;
    let directory = admin
        .json(Method::GET, &format!("/api/companies/{company}/directory"), None, StatusCode::OK)
        .await?;
    let pat = directory["users"]
        .as_array()
        .and_then(|users| users.iter().find(|u| u["id"] == me["user_id"]))
        .ok_or("the model buyer is not in the directory")?
        .clone();
    let mut out = Vec::new();
    for number in 0..count {
        let email = format!("load-{number}@acme.example");
        let user = json!({ "email": email, "name": format!("Load Buyer {number}"), "password": PASSWORD,
                           "roles": ["buyer"], "unit_id": pat["unit"], "manager_id": pat["manager"] });
        admin
            .json(
                Method::POST,
                &format!("/api/companies/{company}/users"),
                Some(&user),
                StatusCode::CREATED,
            )
            .await?;
        let mut session = Http::connect(addr).await?;
        session.login(&email).await?;
        let token = session
            .json(
                Method::POST,
                "/api/tokens",
                Some(&json!({ "name": "load" })),
                StatusCode::CREATED,
            )
            .await?;
        let token = token["token"].as_str().ok_or("no token")?.to_owned();
        out.push(Buyer::new(addr, number, token).await?);
    }
    Ok(out)
}

async fn run(args: Args) -> Result<Value> {
    let work = std::env::temp_dir().join(format!("countersign-load-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let result = async {
        let (server, addr) = start_server(&args, &work).await?;
        let database = if args.postgres { "postgres" } else { "sqlite" };
        println!("loadgen: {database}, {} buyers, {} s per run", args.buyers, args.seconds);
        let buyers = buyers(addr, args.buyers).await?;

        let (buyers, _) = closed_loop(buyers, Instant::now() + Duration::from_secs(args.warmup)).await?;
        let started = Instant::now();
        let cpu = CpuTicks::now(&server);
        let (buyers, closed) =
            closed_loop(buyers, started + Duration::from_secs(args.seconds)).await?;
        let elapsed = started.elapsed().as_secs_f64();
        let closed_cpu = cpu.per_order(CpuTicks::now(&server), closed.len());
        #[expect(clippy::cast_precision_loss, reason = "a count of requests")]
        let per_second = (closed.len() as f64 / elapsed).round();
        println!(
            "closed loop: {} orders in {elapsed:.1} s = {per_second} submissions/s; submit {}; CPU {closed_cpu}",
            closed.len(),
            latencies(&closed, |s| s.submit)
        );

        let (buyers, _) = open_loop(buyers, args.rate, args.warmup).await?;
        let started = Instant::now();
        let cpu = CpuTicks::now(&server);
        let (_, open) = open_loop(buyers, args.rate, args.seconds).await?;
        let elapsed = started.elapsed().as_secs_f64();
        let open_cpu = cpu.per_order(CpuTicks::now(&server), open.len());
        let from_schedule = latencies(&open, |s| s.checkout);
        let submit = latencies(&open, |s| s.submit);
        println!(
            "open loop at {}/s: {} orders in {elapsed:.1} s; submit {submit}; checkout from its scheduled start {from_schedule}; CPU {open_cpu}",
            args.rate,
            open.len()
        );
        Ok::<_, String>(json!({
            "database": database,
            "buyers": args.buyers,
            "cart": CART.iter().map(|(sku, q)| format!("{q} × {sku}")).collect::<Vec<_>>(),
            "closed_loop": { "seconds": args.seconds, "orders": closed.len(), "submissions_per_second": per_second,
                             "submit": latencies(&closed, |s| s.submit), "cpu": closed_cpu },
            "open_loop": { "rate_per_second": args.rate, "orders": open.len(), "submit": submit,
                           "checkout_from_scheduled_start": from_schedule, "cpu": open_cpu },
        }))
    }
    .await;
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn main() -> std::process::ExitCode {
    let outcome = parse_args().and_then(|args| {
        let out = args.out.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let figures = tokio::task::LocalSet::new().block_on(&runtime, run(args))?;
        if let Some(out) = out {
            let text = serde_json::to_string_pretty(&figures).map_err(|e| e.to_string())?;
            std::fs::write(&out, text).map_err(|e| format!("{}: {e}", out.display()))?;
        }
        Ok(())
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
