//! End to end, in a real headless Chromium against a real server on a real database, with mail
//! going to a real SMTP server process: the buyer's cart previews prices and the approval route
//! in the browser (no request to the server per keystroke), the order is submitted, the
//! approver approves it, the buyer sees it approved and the mail arrives.
//!
//! `cargo xtask test` builds the app and the binaries and runs this with
//! `COUNTERSIGN_BIN`, `SMTP_SINK_BIN` and `COUNTERSIGN_DIST` set. Without them (a plain
//! `cargo test`) it is skipped, and says so; with `CI=true` it fails instead.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::{
    io::BufRead,
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Where the app is and where its mail lands.
#[derive(Clone)]
struct Site {
    base: String,
    mail_dir: PathBuf,
}

struct Setup {
    site: Site,
    _server: Process,
    _sink: Process,
    _driver: Process,
    driver_port: u16,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn setup() -> Option<Setup> {
    let vars = (
        std::env::var("COUNTERSIGN_BIN"),
        std::env::var("SMTP_SINK_BIN"),
        std::env::var("COUNTERSIGN_DIST"),
    );
    let (Ok(bin), Ok(sink_bin), Ok(dist)) = vars else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true: the end-to-end test must run (use cargo xtask test)"
        );
        eprintln!(
            "SKIPPED: the end-to-end test needs the built app and binaries; `cargo xtask test` runs it"
        );
        return None;
    };
    let dir = std::env::temp_dir().join(format!("countersign-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mail_dir = dir.join("mail");
    let mut sink = Command::new(sink_bin)
        .arg(&mail_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start smtp-sink");
    let mut first = String::new();
    std::io::BufReader::new(sink.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let smtp_port: u16 = first.trim().rsplit(':').next().unwrap().parse().unwrap();
    let port = free_port();
    let server = Command::new(bin)
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}"), "--static-dir", &dist])
        .arg("--database-url")
        .arg(format!("sqlite://{}?mode=rwc", dir.join("e2e.db").display()))
        .arg("--smtp-url")
        .arg(format!("smtp://127.0.0.1:{smtp_port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server");
    let driver_port = free_port();
    let driver = Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={driver_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver (Debian's chromium-driver)");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        || std::net::TcpStream::connect(("127.0.0.1", driver_port)).is_err()
    {
        assert!(Instant::now() < deadline, "the server or chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Setup {
        site: Site { base, mail_dir },
        _server: Process(server),
        _sink: Process(sink),
        _driver: Process(driver),
        driver_port,
        _dir: TempDir(dir),
    })
}

async fn browser(driver_port: u16) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1000"]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a WebDriver session")
}

/// Waits until the element's text satisfies `ok`; returns it.
async fn wait_text(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
            && ok(&t)
        {
            return t;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {css}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn login(c: &Client, base: &str, email: &str) {
    c.goto(base).await.unwrap();
    if let Ok(logout) = c
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::XPath("//button[text()='Log out'] | //button[text()='Log in']"))
        .await
        && logout.text().await.unwrap() == "Log out"
    {
        logout.click().await.unwrap();
    }
    let email_input = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#email"))
        .await
        .unwrap();
    email_input.send_keys(email).await.unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(server_demo_password())
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_text(c, "nav .who", |t| !t.is_empty()).await;
}

fn server_demo_password() -> &'static str {
    "countersign-demo"
}

async fn add_to_cart(c: &Client, search: &str, sku: &str, quantity: &str) {
    let field = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#search"))
        .await
        .unwrap();
    field.clear().await.unwrap();
    field.send_keys(search).await.unwrap();
    let qty = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&format!("#qty-{sku}")))
        .await
        .unwrap();
    qty.clear().await.unwrap();
    qty.send_keys(quantity).await.unwrap();
    let row =
        c.find(Locator::XPath(&format!("//input[@id='qty-{sku}']/ancestor::tr"))).await.unwrap();
    row.find(Locator::XPath(".//button[text()='Add']")).await.unwrap().click().await.unwrap();
    wait_text(c, &format!("#qty-{sku} ~ .added"), |t| t.contains("added")).await;
}

/// Changes one cart quantity and measures, in the page, the time until the total shows the new
/// figure, and how many requests the page made meanwhile.
async fn keystroke(c: &Client, sku: &str, quantity: &str) -> Value {
    let script = r#"
        const [sku, quantity, done] = arguments;
        const before = document.querySelector('#cart-total').textContent;
        window.__fetches = 0;
        if (!window.__wrapped) {
            const original = window.fetch;
            window.fetch = function (...args) { window.__fetches++; return original.apply(this, args); };
            window.__wrapped = true;
        }
        const input = document.querySelector('#qty-' + sku);
        const main = document.querySelector('main');
        const t0 = performance.now();
        const observer = new MutationObserver(() => {
            const total = document.querySelector('#cart-total');
            if (total && total.textContent !== before) {
                observer.disconnect();
                done({ ms: performance.now() - t0, fetches: window.__fetches, total: total.textContent,
                       route: document.querySelector('#approval-route').textContent });
            }
        });
        observer.observe(main, { subtree: true, childList: true, characterData: true });
        input.value = quantity;
        input.dispatchEvent(new Event('input', { bubbles: true }));
    "#;
    c.execute_async(script, vec![json!(sku), json!(quantity)]).await.unwrap()
}

async fn flow(s: &Site, c: &Client) -> Vec<f64> {
    // The buyer fills the cart from the catalog.
    login(c, &s.base, "pat@acme.example").await;
    add_to_cart(c, "drill", "DRL-M", "20").await;
    add_to_cart(c, "bit set", "BIT-M", "10").await;
    c.find(Locator::LinkText("Cart")).await.unwrap().click().await.unwrap();
    let route = wait_text(c, "#approval-route", |t| !t.is_empty()).await;
    assert!(
        route.contains(
            "Blake Diaz — Approver 2: orders of 3,000.00 USD or more; this order is 3,471.70 USD"
        ),
        "{route}"
    );
    assert_eq!(
        c.find(Locator::Css("#cart-total")).await.unwrap().text().await.unwrap(),
        "3,471.70 USD"
    );

    // Fewer drills: the preview changes at once, with no request to the server.
    let changed = keystroke(c, "DRL-M", "10").await;
    assert_eq!(changed["fetches"], json!(0), "{changed}");
    assert_eq!(changed["total"], json!("1,845.21 USD"));
    assert!(changed["route"].as_str().unwrap().contains("No approval needed"), "{changed}");
    let mut timings = vec![changed["ms"].as_f64().unwrap()];
    let back = keystroke(c, "DRL-M", "20").await;
    assert!(back["route"].as_str().unwrap().contains("Approver 2"), "{back}");
    timings.push(back["ms"].as_f64().unwrap());

    // Submit: the server agrees with what was shown.
    c.find(Locator::Css("#place-order")).await.unwrap().click().await.unwrap();
    let state = wait_text(c, "#order-state", |t| !t.is_empty()).await;
    assert_eq!(state, "awaiting approval");
    let url = c.current_url().await.unwrap();
    let order_id = url.path().rsplit('/').next().unwrap().to_owned();

    // The approver approves.
    login(c, &s.base, "blake@acme.example").await;
    c.find(Locator::LinkText("Approvals")).await.unwrap().click().await.unwrap();
    let item = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&format!("li.pending[data-order='{order_id}']")))
        .await
        .unwrap();
    let why = item.text().await.unwrap();
    assert!(
        why.contains("Approver 2: orders of 3,000.00 USD or more; this order is 3,471.70 USD"),
        "{why}"
    );
    item.find(Locator::Css("textarea"))
        .await
        .unwrap()
        .send_keys("Fine for the new site")
        .await
        .unwrap();
    item.find(Locator::Css("button.approve")).await.unwrap().click().await.unwrap();
    wait_text(c, "main", |t| t.contains("Nothing waits for your approval.")).await;

    // The buyer sees it approved.
    login(c, &s.base, "pat@acme.example").await;
    c.goto(&format!("{}/orders/{order_id}", s.base)).await.unwrap();
    assert_eq!(wait_text(c, "#order-state", |t| !t.is_empty()).await, "approved");
    let history = wait_text(c, "ol.history", |t| t.contains("Blake Diaz")).await;
    assert!(history.contains("Fine for the new site"), "{history}");

    // And the mail arrived at the SMTP server.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let found = std::fs::read_dir(&s.mail_dir).into_iter().flatten().flatten().any(|f| {
            let text = std::fs::read_to_string(f.path()).unwrap_or_default();
            text.contains("X-Sink-To: <pat@acme.example>")
                && text.contains(&format!("Order {order_id} approved"))
        });
        if found {
            break;
        }
        assert!(Instant::now() < deadline, "the approval mail did not reach the SMTP server");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    timings
}

/// A 200-line cart: the seller adds products through the API, the buyer fills the cart.
async fn large_cart_timings(s: &Site, c: &Client) -> Vec<f64> {
    login(c, &s.base, "sol@toolmaker.example").await;
    let script = r#"
        const done = arguments[arguments.length - 1];
        (async () => {
            const session = await (await fetch('/api/session')).json();
            const doc = (await (await fetch('/api/catalog/document')).json()).document;
            const list = doc.price_lists.find(l => l.id === 'list-usd');
            for (let i = 0; i < 200; i++) {
                const sku = 'BULK-' + i;
                doc.catalog.push({ sku, name: 'Bulk item ' + i, category: 'fasteners', tax_class: 'standard' });
                list.prices.push({ sku, tiers: [{ min_quantity: 1, unit_price: (1 + i / 100).toFixed(2) }, { min_quantity: 10, unit_price: '0.95' }] });
            }
            const r = await fetch('/api/catalog/document', { method: 'PUT', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token }, body: JSON.stringify(doc) });
            done(r.status);
        })();
    "#;
    assert_eq!(c.execute_async(script, vec![]).await.unwrap(), json!(200));
    login(c, &s.base, "pat@acme.example").await;
    let fill = r#"
        const done = arguments[arguments.length - 1];
        (async () => {
            const session = await (await fetch('/api/session')).json();
            const lines = Array.from({ length: 200 }, (_, i) => ({ sku: 'BULK-' + i, quantity: 5 }));
            const r = await fetch('/api/cart', { method: 'PUT', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token }, body: JSON.stringify({ lines }) });
            done(r.status);
        })();
    "#;
    assert_eq!(c.execute_async(fill, vec![]).await.unwrap(), json!(200));
    // A fresh load, so the app reads the 200-line cart.
    c.goto(&format!("{}/cart", s.base)).await.unwrap();
    wait_text(c, "#approval-route", |t| !t.is_empty()).await;
    let mut timings = Vec::new();
    for i in 0..20 {
        let quantity = if i % 2 == 0 { "12" } else { "5" };
        let r = keystroke(c, "BULK-100", quantity).await;
        assert_eq!(r["fetches"], json!(0));
        timings.push(r["ms"].as_f64().unwrap());
    }
    timings
}

/// The seller's admin opens the seed workflow, breaks it (an unreachable state) and sees the
/// lint say so; then a 200-state, 1,000-transition workflow is checked in the browser, and the
/// page's own timing of parse + validate is collected.
async fn workflow_lint_timings(s: &Site, c: &Client) -> Vec<f64> {
    login(c, &s.base, "sol@toolmaker.example").await;
    c.find(Locator::LinkText("Workflows")).await.unwrap().click().await.unwrap();
    let link = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::LinkText("B2B order with follow-up"))
        .await
        .unwrap();
    link.click().await.unwrap();
    let clean = wait_text(c, "#lint-summary", |t| t.starts_with("0 errors")).await;
    assert!(clean.contains("checked in the browser"), "{clean}");
    let edit = r#"
        const [change] = arguments;
        const area = document.querySelector('#definition');
        const def = JSON.parse(area.value);
        change(def);
        area.value = JSON.stringify(def, null, 1);
        area.dispatchEvent(new Event('input', { bubbles: true }));
    "#;
    let unreachable = edit.replace(
        "const [change] = arguments;",
        "const change = d => d.states.push({ id: 'limbo', label: 'Limbo' });",
    );
    c.execute(&unreachable, vec![]).await.unwrap();
    wait_text(c, "#lint-summary", |t| !t.starts_with("0 errors")).await;
    let problems = wait_text(c, "#lint", |t| t.contains("limbo")).await;
    assert!(problems.contains("cannot be reached"), "{problems}");

    let generate = r#"
        const [odd] = arguments;
        const states = Array.from({ length: 200 }, (_, i) => Object.assign({ id: 's' + i, label: 'State ' + i },
            i === 0 ? { start: true } : {}, i === 199 ? { terminal: true } : {}));
        if (odd) states.push({ id: 'orphan', label: 'Orphan' });
        const money = a => ({ money: { amount: String(a), currency: 'USD' } });
        const transitions = [];
        for (let i = 0; i < 199; i++) transitions.push({ id: 't' + i, from: 's' + i, to: 's' + (i + 1), label: 'Next ' + i,
            roles: ['buyer'], guard: { field: 'order.total', op: '>=', value: money(i * 10) } });
        let x = 7;
        for (let k = 199; transitions.length < 1000; k++) {
            x = (x * 1103515245 + 12345) % 2147483648;
            const a = x % 199, b = (a + 1 + x % 37) % 200;
            transitions.push({ id: 't' + k, from: 's' + a, to: 's' + b, label: 'Jump ' + k, roles: ['approver'],
                guard: { all: [{ field: 'order.total', op: '<', value: money(k) }, { field: 'order.sku_count', op: '>=', value: { number: String(k % 9) } }] } });
        }
        const def = { id: 'b2b-order', version: 1, name: 'Large', entity: 'order', states, transitions };
        const area = document.querySelector('#definition');
        area.value = JSON.stringify(def);
        area.dispatchEvent(new Event('input', { bubbles: true }));
    "#;
    let mut timings = Vec::new();
    for i in 0..10 {
        let odd = i % 2 == 1;
        c.execute(generate, vec![json!(odd)]).await.unwrap();
        let text = wait_text(c, "#lint-summary", |t| t.starts_with("0 errors") != odd).await;
        let ms: f64 = text
            .split("checked in the browser in ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no timing in {text:?}"));
        timings.push(ms);
    }
    timings
}

fn summary(mut t: Vec<f64>) -> Value {
    t.sort_by(f64::total_cmp);
    let pick = |q: f64| t[((t.len() as f64 - 1.0) * q).round() as usize];
    json!({ "runs": t.len(), "median_ms": pick(0.5), "p90_ms": pick(0.9), "max_ms": pick(1.0) })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buyer_orders_approver_approves_buyer_is_told() {
    let Some(s) = setup() else { return };
    let c = browser(s.driver_port).await;
    // Run the checks, then always close the session (a dangling Chromium keeps pipes open).
    let result = tokio::spawn({
        let (c, site) = (c.clone(), s.site.clone());
        async move {
            let small = flow(&site, &c).await;
            let large = large_cart_timings(&site, &c).await;
            let lint = workflow_lint_timings(&site, &c).await;
            (small, large, lint)
        }
    })
    .await;
    let _ = c.close().await;
    let (small, large, lint) = result.expect("the end-to-end checks");
    let figures = json!({ "keystroke_to_preview_small_cart": summary(small), "keystroke_to_preview_200_lines": summary(large),
                          "workflow_parse_and_lint_200_states_1000_transitions": summary(lint) });
    println!("end-to-end figures: {figures}");
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-figures.json");
    let _ = std::fs::write(out, serde_json::to_string_pretty(&figures).unwrap());
}
