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
    collections::BTreeMap,
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
        let mut seen = None;
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
        {
            if ok(&t) {
                return t;
            }
            seen = Some(t);
        }
        assert!(Instant::now() < deadline, "timed out waiting for {css}, which reads {seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The page as it is now passes axe-core's checks (run in the page): every control labelled,
/// names, roles, landmarks, contrast. axe-core is installed from npm by `cargo xtask setup`.
async fn accessible(c: &Client, page: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../.tools/node_modules/axe-core/axe.min.js");
    let axe = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (`cargo xtask setup` installs axe-core)"));
    let run = r#"
        const done = arguments[arguments.length - 1];
        if (!window.axe) window.eval(arguments[0]);
        axe.run(document, { resultTypes: ['violations'] })
            .then(r => done(r.violations.map(v => `${v.id} (${v.impact}): ${v.help}, at `
                + v.nodes.map(n => n.target.join(' ')).join(', '))))
            .catch(e => done(['axe failed: ' + e]));
    "#;
    let violations = c.execute_async(run, vec![json!(axe)]).await.unwrap();
    assert_eq!(violations, json!([]), "accessibility of {page}");
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

/// On a phone's screen (390 × 844) the page is no wider than the screen (a wide table scrolls
/// within it) and the control `selector` is in reach without scrolling sideways.
async fn fits_a_phone(c: &Client, selector: &str) {
    let (width, height) = c.get_window_size().await.unwrap();
    c.set_window_size(390, 844).await.unwrap();
    let script = r#"
        const control = document.querySelector(arguments[0]).getBoundingClientRect();
        return [document.documentElement.scrollWidth, window.innerWidth, control.right];
    "#;
    let fits = c.execute(script, vec![json!(selector)]).await.unwrap();
    let [page, screen, control] = [0, 1, 2].map(|i| fits[i].as_f64().unwrap());
    assert!(screen <= 400.0, "the window did not shrink to a phone's: {fits}");
    assert!(page <= screen && control <= screen, "wider than a phone at {selector}: {fits}");
    c.set_window_size(width.try_into().unwrap(), height.try_into().unwrap()).await.unwrap();
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
    // The navigation says how many products the cart holds.
    wait_text(c, "nav a[href='/cart'] .badge", |t| t == "2").await;
    c.find(Locator::Css("nav a[href='/cart']")).await.unwrap().click().await.unwrap();
    let route = wait_text(c, "#approval-route", |t| !t.is_empty()).await;
    accessible(c, "the cart").await;
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

    // A quantity that is not one is said next to its field, which is marked invalid; the line
    // keeps its last good quantity meanwhile.
    let qty = c.find(Locator::Css("#qty-DRL-M")).await.unwrap();
    qty.clear().await.unwrap();
    qty.send_keys("0").await.unwrap();
    let said = wait_text(c, "#qty-error-DRL-M", |t| !t.is_empty()).await;
    assert!(said.contains("whole number from 1 to 1,000,000"), "{said}");
    assert_eq!(qty.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));
    qty.clear().await.unwrap();
    qty.send_keys("20").await.unwrap();
    wait_text(c, "#qty-error-DRL-M", str::is_empty).await;
    wait_text(c, "#cart-total", |t| t == "3,471.70 USD").await;

    fits_a_phone(c, "#place-order").await;

    // Submit: the server agrees with what was shown.
    c.find(Locator::Css("#place-order")).await.unwrap().click().await.unwrap();
    let state = wait_text(c, "#order-state", |t| !t.is_empty()).await;
    assert_eq!(state, "awaiting approval");
    let placed_by = wait_text(c, "#order-placed-by", |t| !t.is_empty()).await;
    assert_eq!(placed_by, "Pat Buyer (Acme Corp, New York office)");
    accessible(c, "the order's page").await;
    // People know the order by its number, not its id, and its address says it.
    let heading = wait_text(c, "main h1", |t| t.starts_with("Order ")).await;
    let number = heading.trim_start_matches("Order ").to_owned();
    assert!(number.parse::<u64>().is_ok_and(|n| n > 1000), "an order number: {heading}");
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), format!("/orders/{number}"));

    // The approver approves.
    login(c, &s.base, "blake@acme.example").await;
    c.find(Locator::LinkText("Approvals")).await.unwrap().click().await.unwrap();
    let item = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&format!("li.pending[data-number='{number}']")))
        .await
        .unwrap();
    let why = item.text().await.unwrap();
    accessible(c, "the approval queue").await;
    assert!(why.starts_with(&format!("Order {number} — Pat Buyer")), "{why}");
    assert!(
        why.contains("Approver 2: orders of 3,000.00 USD or more; this order is 3,471.70 USD"),
        "{why}"
    );
    fits_a_phone(c, "li.pending button.approve").await;
    item.find(Locator::Css("textarea"))
        .await
        .unwrap()
        .send_keys("Fine for the new site")
        .await
        .unwrap();
    item.find(Locator::Css("button.approve")).await.unwrap().click().await.unwrap();
    wait_text(c, "main", |t| t.contains("Nothing waits for your approval.")).await;

    // The buyer finds it by its number, and sees it approved.
    login(c, &s.base, "pat@acme.example").await;
    c.find(Locator::LinkText("Orders")).await.unwrap().click().await.unwrap();
    let show = |state: &'static str| async move {
        let select = c.find(Locator::Css("#order-state-filter")).await.unwrap();
        select.select_by_value(state).await.unwrap();
    };
    // The demo's order Casey rejected is there, and only rejected orders are.
    show("rejected").await;
    let rejected = wait_text(c, "table.orders tbody", |t| !t.contains("awaiting approval")).await;
    assert!(rejected.contains("rejected") && !rejected.contains("approved"), "{rejected}");
    assert!(!rejected.contains(&number), "{rejected}");
    show("approved").await;
    let listed = wait_text(c, "table.orders tbody", |t| !t.contains("rejected")).await;
    assert!(listed.starts_with(&number), "the approved order is listed: {listed}");
    type_into(c, "#order-number", "99999").await;
    c.find(Locator::Css("form.find-order button")).await.unwrap().click().await.unwrap();
    let missing = wait_text(c, "#order-number-error", |t| !t.is_empty()).await;
    assert_eq!(missing, "no order 99999 among yours");
    type_into(c, "#order-number", &number).await;
    c.find(Locator::Css("form.find-order button")).await.unwrap().click().await.unwrap();
    assert_eq!(wait_text(c, "#order-state", |t| !t.is_empty()).await, "approved");
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), format!("/orders/{number}"));
    let product = wait_text(c, "td.product", |t| !t.is_empty()).await;
    assert!(
        product.starts_with("Cordless drill"),
        "the order's lines name their products: {product}"
    );
    let history = wait_text(c, "ol.history", |t| t.contains("Blake Diaz")).await;
    assert!(
        history.contains(
            "Blake Diaz — awaiting approval → approved (approved step 1: Fine for the new site)"
        ),
        "{history}"
    );

    // The buyer's notification of it: opening the order from it marks it read.
    wait_text(c, "nav .badge", |t| t == "1").await;
    c.find(Locator::Css("nav a[href='/notifications']")).await.unwrap().click().await.unwrap();
    let note = wait_text(c, "ul.notifications li.unread", |t| !t.is_empty()).await;
    assert!(note.contains(&format!("Order {number} approved")), "{note}");
    c.find(Locator::Css("ul.notifications li.unread a")).await.unwrap().click().await.unwrap();
    wait_text(c, "#order-state", |t| t == "approved").await;
    // Nothing unread: no badge at all.
    wait_text(c, "nav a[href='/notifications']", |t| t == "Notifications").await;
    assert!(c.find(Locator::Css("nav .badge")).await.is_err(), "a badge of nothing unread");

    // And the mail arrived at the SMTP server.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let found = std::fs::read_dir(&s.mail_dir).into_iter().flatten().flatten().any(|f| {
            let text = std::fs::read_to_string(f.path()).unwrap_or_default();
            text.contains("X-Sink-To: <pat@acme.example>")
                && text.contains(&format!("Order {number} approved"))
        });
        if found {
            break;
        }
        assert!(Instant::now() < deadline, "the approval mail did not reach the SMTP server");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The buyer changes the approved order: with 30 drills it is over 5,000.00 USD, which the
    // preview says before anything is sent, and saving sends it back to approval.
    c.find(Locator::Css("#change-order")).await.unwrap().click().await.unwrap();
    wait_text(c, "#change-total", |t| t == "3,471.70 USD").await;
    type_into(c, "#change-qty-DRL-M", "30").await;
    let route = wait_text(c, "#change-route", |t| t.contains("Approver 3")).await;
    assert!(route.contains("orders of 5,000.00 USD or more"), "{route}");
    let total = wait_text(c, "#change-total", |t| !t.is_empty()).await;
    assert_ne!(total, "3,471.70 USD");
    // A product the order did not have is added, and its quantity takes the focus.
    c.find(Locator::Css("#change-add")).await.unwrap().select_by_value("GLV-M").await.unwrap();
    click(c, "#change-add-line").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.execute("return document.activeElement.id", vec![]).await.unwrap() != "change-qty-GLV-M"
    {
        assert!(Instant::now() < deadline, "the added line's quantity did not take the focus");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    type_into(c, "#change-qty-GLV-M", "4").await;
    wait_text(c, "#change-total", |t| t != total).await;
    c.find(Locator::Css("#save-change")).await.unwrap().click().await.unwrap();
    wait_text(c, "#order-state", |t| t == "awaiting approval").await;
    let lines = wait_text(c, "table.cart tbody", |t| !t.is_empty()).await;
    assert!(lines.contains("30"), "the order has the new quantity: {lines}");
    assert!(lines.contains("Work gloves"), "the order has the added product: {lines}");
    timings
}

/// The catalog shows the buyer's volume prices, and the unit price of the quantity typed in
/// a row: the tier it falls in.
async fn catalog_prices_follow_the_quantity(s: &Site, c: &Client) {
    login(c, &s.base, "pat@acme.example").await;
    type_into(c, "#search", "gloves").await;
    assert_eq!(wait_text(c, "#price-GLV-M", |t| !t.is_empty()).await, "5.09 USD each");
    accessible(c, "the catalog").await;
    let row = "//input[@id='qty-GLV-M']/ancestor::tr";
    let text_at = |xpath: String| async move {
        c.find(Locator::XPath(&xpath)).await.unwrap().text().await.unwrap()
    };
    let listed = text_at(format!("{row}//ul[@class='tiers']")).await;
    assert_eq!(
        listed.lines().collect::<Vec<_>>(),
        ["1 or more: 5.09 USD", "10 or more: 4.69 USD", "50 or more: 4.29 USD"]
    );
    type_into(c, "#qty-GLV-M", "12").await;
    assert_eq!(wait_text(c, "#price-GLV-M", |t| t != "5.09 USD each").await, "4.69 USD each");
    assert_eq!(wait_text(c, "#line-total-GLV-M", |t| !t.is_empty()).await, "56.28 USD for 12");
    let applied = text_at(format!("{row}//li[contains(@class, 'applied')]")).await;
    assert_eq!(applied, "10 or more: 4.69 USD");

    // A category narrows the search; when nothing is left, the page says so.
    let category = c.find(Locator::Css("#category")).await.unwrap();
    category.select_by_value("chemicals").await.unwrap();
    wait_text(c, "#catalog-empty", |t| t.contains("No products match")).await;
    category.select_by_value("safety").await.unwrap();
    wait_text(c, "table.catalog tbody", |t| t.contains("Work gloves PRO")).await;
    wait_text(c, "#catalog-empty", str::is_empty).await;
}

/// A quantity typed in the cart and the page left at once, before the cart's save a moment
/// after the typing: the cart is saved all the same (on `pagehide`, with `keepalive`).
async fn cart_saved_when_leaving(s: &Site, c: &Client) {
    login(c, &s.base, "pat@acme.example").await;
    add_to_cart(c, "bit set", "BIT-M", "1").await;
    c.find(Locator::Css("nav a[href='/cart']")).await.unwrap().click().await.unwrap();
    wait_text(c, "#approval-route", |t| !t.is_empty()).await;
    let typed = r#"
        const input = document.querySelector('#qty-BIT-M');
        input.value = '7';
        input.dispatchEvent(new Event('input', { bubbles: true }));
    "#;
    c.execute(typed, vec![]).await.unwrap();
    c.goto(&format!("{}/orders", s.base)).await.unwrap();
    let stored = r#"
        const done = arguments[arguments.length - 1];
        fetch('/api/cart').then(r => r.json()).then(c => done(c.lines));
    "#;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = c.execute_async(stored, vec![]).await.unwrap();
        if lines == json!([{ "sku": "BIT-M", "quantity": 7 }]) {
            break;
        }
        assert!(Instant::now() < deadline, "the typed quantity was not saved: {lines}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
    // The seed workflow models draft orders submitted by hand: submitted orders cannot run on it.
    let gaps = wait_text(c, "#order-gaps", |t| !t.is_empty()).await;
    assert!(gaps.contains("submitted orders will not run on this workflow"), "{gaps}");
    click_tab(c, "JSON").await;
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

async fn click(c: &Client, css: &str) {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

async fn click_tab(c: &Client, name: &str) {
    let tab = format!("//button[@role='tab' and text()='{name}']");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(&tab))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Presses a key on the tab `from`, then waits until the tab `to` is the chosen one, has the
/// focus, and is the only tab in the Tab order.
async fn key_to_tab(c: &Client, from: &str, key: &str, to: &str) {
    c.find(Locator::Id(from)).await.unwrap().send_keys(key).await.unwrap();
    let check = format!(
        "const t = document.getElementById('{to}');
         const inOrder = [...document.querySelectorAll('[role=tab]')].filter(e => e.tabIndex === 0);
         return document.activeElement === t && t.getAttribute('aria-selected') === 'true'
             && inOrder.length === 1 && inOrder[0] === t;"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.execute(&check, vec![]).await.unwrap() != Value::Bool(true) {
        assert!(Instant::now() < deadline, "a key on #{from} did not move to the tab #{to}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Ticks a role in the side panel's "who" checkboxes (a transition's roles, a simulation's actor).
async fn tick_role(c: &Client, role: &str) {
    let xpath = format!("//fieldset[@class='roles']//label[contains(., '{role}')]/input");
    c.find(Locator::XPath(&xpath)).await.unwrap().click().await.unwrap();
}

/// Replaces an input's text, as typing would.
async fn type_into(c: &Client, css: &str, text: &str) {
    let field =
        c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// An input's current value, once the input is there.
async fn value_of(c: &Client, css: &str) -> String {
    let field =
        c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap();
    field.prop("value").await.unwrap().unwrap_or_default()
}

/// Waits until an input's value is `expected` (the page fills it in when it has read
/// something); `what` says what was awaited when it does not come.
async fn wait_value(c: &Client, css: &str, expected: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while value_of(c, css).await != expected {
        assert!(Instant::now() < deadline, "{what}: {css} is not {expected:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Submits a form with `button` and waits for its field `field` to be refused: the problem
/// beside the field (returned) and the focus on it, to be fixed at once.
async fn refused(c: &Client, button: &str, field: &str) -> String {
    click(c, button).await;
    let error = wait_text(c, &format!("#{field}-error"), |t| !t.is_empty()).await;
    wait_focus(c, field, &format!("the refused #{field} does not have the focus")).await;
    error
}

/// Waits until the element with this id has the focus.
async fn wait_focus(c: &Client, id: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.execute("return document.activeElement.id", vec![]).await.unwrap() != json!(id) {
        assert!(Instant::now() < deadline, "{what}: #{id} does not have the focus");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Drags with the real mouse (WebDriver actions) from one element to another.
async fn drag(c: &Client, from: &str, to: &str) {
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    let (a, b) =
        (c.find(Locator::Css(from)).await.unwrap(), c.find(Locator::Css(to)).await.unwrap());
    let step = |element, x| PointerAction::MoveToElement {
        element,
        duration: Some(Duration::from_millis(120)),
        x,
        y: 0.0,
    };
    let mouse = MouseActions::new("mouse".into())
        .then(step(a, 0.0))
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(step(b.clone(), -20.0))
        .then(step(b, 0.0))
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    c.perform_actions(mouse).await.unwrap();
}

/// The seller's admin draws an order workflow in the editor: creates it (a copy of the
/// built-in order workflow), adds a state (the lint marks it unreachable on the diagram),
/// connects it by dragging, sets roles and a guard with the rule builder, deletes and undoes,
/// scopes it to one customer, simulates two sample orders, exports it, and publishes; then that
/// customer's buyer places an order, which runs on it.
async fn draw_workflow(s: &Site, c: &Client) {
    login(c, &s.base, "sol@toolmaker.example").await;
    c.goto(&format!("{}/editor/workflows", s.base)).await.unwrap();
    type_into(c, "#new-id", "drawn-in-browser").await;
    type_into(c, "#new-name", "Drawn in the browser").await;
    click(c, ".new-workflow button[type=submit]").await;
    wait_text(c, "#lint-summary", |t| t.starts_with("0 errors")).await;
    let states = wait_text(c, "g.nodes", |t| !t.is_empty()).await;
    assert!(
        states.contains("awaiting_approval"),
        "a copy of the built-in order workflow: {states}"
    );
    accessible(c, "the workflow editor").await;

    // A new state cannot be reached: the diagram says so on the state itself.
    click(c, "#add-state").await;
    let marked =
        wait_text(c, "g.node.error[data-state='state_1'] .lint-msg", |t| !t.is_empty()).await;
    assert!(marked.contains("cannot be reached"), "{marked}");
    type_into(c, "#state-label", "Shipped").await;
    click(c, "#state-terminal").await;
    wait_text(c, "g.node[data-state='state_1'] .label", |t| t == "Shipped").await;

    // Connect approved → shipped by dragging from the dot; roles and a guard by the builder.
    drag(c, "g.node[data-state='approved'] .handle", "g.node[data-state='state_1'] rect").await;
    wait_text(c, "g.edge[data-transition='t_1'] .edge-label", |t| t.contains("To Shipped")).await;
    type_into(c, "#transition-label", "Ship").await;
    tick_role(c, "seller admin").await;
    click(c, ".guard button").await;
    type_into(c, ".guard .cmp input.value", "50000 USD").await;
    let guard = value_of(c, "#guard-text").await;
    assert_eq!(guard, "order.total >= 50000 USD");
    wait_text(c, "g.edge[data-transition='t_1'] .edge-label", |t| t == "Ship [if]").await;
    let clean = wait_text(c, "#lint-summary", |t| t.starts_with("0 errors")).await;
    assert!(clean.contains("0 warnings"), "{clean}");
    let gaps = c.find(Locator::Css("#order-gaps")).await.unwrap().text().await.unwrap();
    assert_eq!(gaps, "", "a copy of the built-in workflow meets the orders' convention");

    // Delete from the keyboard, then Ctrl+Z brings it back and Ctrl+Shift+Z deletes it again.
    let gone = || async { c.find(Locator::Css("g.edge[data-transition='t_1']")).await.is_err() };
    let wait_gone = || async {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !gone().await {
            assert!(Instant::now() < deadline, "the transition is still there");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let diagram = c.find(Locator::Css("svg.diagram")).await.unwrap();
    diagram.send_keys("\u{E017}").await.unwrap(); // Delete
    wait_gone().await;
    diagram.send_keys("\u{E009}z\u{E000}").await.unwrap();
    wait_text(c, "g.edge[data-transition='t_1'] .edge-label", |t| t == "Ship [if]").await;
    diagram.send_keys("\u{E009}\u{E008}z\u{E000}").await.unwrap();
    wait_gone().await;
    diagram.send_keys("\u{E009}z\u{E000}").await.unwrap();
    wait_text(c, "g.edge[data-transition='t_1'] .edge-label", |t| t == "Ship [if]").await;

    // For one customer: Berlin Werk.
    diagram.send_keys("\u{E00C}").await.unwrap(); // Escape: nothing selected shows the workflow
    click_tab(c, "Selection").await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#scope-kind"))
        .await
        .unwrap()
        .select_by_value("customer")
        .await
        .unwrap();
    let customers = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#scope-customer"))
        .await
        .unwrap();
    wait_text(c, "#scope-customer", |t| t.contains("Berlin Werk")).await;
    customers.select_by_label("Berlin Werk GmbH").await.unwrap();

    // The side panel's tabs from the keyboard: the arrows go round them, Home goes to the first,
    // and the focus and the panel follow (only the chosen tab is in the Tab order).
    key_to_tab(c, "tab-selection", "\u{E012}", "tab-json").await; // ArrowLeft, round the start
    value_of(c, "#definition").await;
    key_to_tab(c, "tab-json", "\u{E011}", "tab-selection").await; // Home
    // Simulate: the big order is approved and shipped; the small one waits at the guard.
    key_to_tab(c, "tab-selection", "\u{E014}", "tab-simulate").await; // ArrowRight
    tick_role(c, "seller admin").await;
    click(c, "#play").await;
    let end = wait_text(c, "#simulation-end", |t| !t.is_empty()).await;
    assert!(end.contains("terminal"), "{end}");
    let steps = wait_text(c, "#simulation", |t| !t.is_empty()).await;
    for step in ["1. submitted", "2. awaiting_approval", "3. approved", "4. state_1"] {
        assert!(steps.contains(step), "{step} in {steps}");
    }
    assert!(c.find(Locator::Css("g.node.on-path[data-state='state_1']")).await.is_ok());
    c.find(Locator::Css("#sample-choice"))
        .await
        .unwrap()
        .select_by_value("Small order, 1,200.00 USD")
        .await
        .unwrap();
    click(c, "#play").await;
    let end = wait_text(c, "#simulation-end", |t| t.contains("stops")).await;
    assert!(end.contains("nothing can fire"), "{end}");
    let steps = c.find(Locator::Css("#simulation")).await.unwrap().text().await.unwrap();
    assert!(steps.contains("(it is 1,200.00 USD)"), "{steps}");

    // Export: the file offered for download is a standalone SVG of the drawing.
    let capture = r#"
        window.__exported = null;
        const original = URL.createObjectURL;
        URL.createObjectURL = blob => { blob.text().then(t => { window.__exported = t; }); return original.call(URL, blob); };
    "#;
    c.execute(capture, vec![]).await.unwrap();
    click(c, "#export-svg").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let svg = loop {
        if let Value::String(svg) = c.execute("return window.__exported;", vec![]).await.unwrap() {
            break svg;
        }
        assert!(Instant::now() < deadline, "no SVG was exported");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
    assert!(
        svg.contains(">Shipped<") && svg.contains("Ship [if]") && svg.contains("<style>"),
        "{svg}"
    );

    // A picture of the editor for people reviewing a change (not compared with anything).
    let shot = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-editor.png");
    let _ = std::fs::write(shot, c.screenshot().await.unwrap());
    click(c, "#publish").await;
    let published = wait_text(c, "#outcome", |t| !t.is_empty()).await;
    assert!(published.contains("Version 1 is published"), "{published}");

    // Berlin Werk's buyer orders: the order runs on the new workflow.
    login(c, &s.base, "kim@berlin-werk.example").await;
    add_to_cart(c, "drill", "DRL-M", "2").await;
    c.find(Locator::Css("nav a[href='/cart']")).await.unwrap().click().await.unwrap();
    wait_text(c, "#approval-route", |t| !t.is_empty()).await;
    click(c, "#place-order").await;
    let runs_on = wait_text(c, "#order-workflow", |t| !t.is_empty()).await;
    assert!(runs_on.contains("Drawn in the browser") && runs_on.contains("version 1"), "{runs_on}");

    // Version 2 renames a state; the versions panel compares, previews the move of the running
    // order, and moves it.
    login(c, &s.base, "sol@toolmaker.example").await;
    c.goto(&format!("{}/editor/workflows/drawn-in-browser", s.base)).await.unwrap();
    wait_text(c, "#lint-summary", |t| t.starts_with("0 errors")).await;
    click(c, "g.node[data-state='state_1']").await;
    type_into(c, "#state-label", "Shipped to the customer").await;
    click(c, "#publish").await;
    wait_text(c, "#outcome", |t| t.contains("Version 2 is published")).await;
    click_tab(c, "Versions").await;
    click(c, "#compare").await;
    let diff = wait_text(c, "#diff", |t| !t.is_empty()).await;
    assert!(diff.contains("state_1"), "{diff}");
    click(c, "#preview-migration").await;
    let counts = wait_text(c, "#migration-counts", |t| !t.is_empty()).await;
    assert!(counts.starts_with("1 running: 1 can move, 0 blocked"), "{counts}");
    // "<order>: <state> → <state>": the state the order is in.
    let movable = wait_text(c, "#movable", |t| t.contains(" → ")).await;
    assert!(movable.starts_with("order 10"), "the order by its number: {movable}");
    let state = movable.split(": ").nth(1).and_then(|t| t.split(" → ").next()).unwrap().to_owned();
    click(c, "#migrate").await;
    wait_text(c, ".side [role=status]", |t| t.contains("1 running entities moved")).await;

    // Version 3, saved by an integration through the API, renames that state's id: the order
    // cannot keep its state, so the move is blocked until the seller says where it goes.
    let renamed = format!("{state}_v3");
    let save = r#"
        const [state, renamed, done] = arguments;
        (async () => {
            const session = await (await fetch('/api/session')).json();
            const def = await (await fetch('/api/workflows/drawn-in-browser/versions/2')).json();
            const swap = id => id === state ? renamed : id;
            for (const s of def.states) s.id = swap(s.id);
            for (const t of def.transitions) { t.from = swap(t.from); t.to = swap(t.to); }
            const saved = await fetch('/api/workflows/drawn-in-browser/draft', {
                method: 'PUT',
                headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token },
                body: JSON.stringify(def),
            });
            const published = await fetch('/api/workflows/drawn-in-browser/versions/3/publish', {
                method: 'POST',
                headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token },
                body: '{}',
            });
            done(`${saved.status} ${published.status}`);
        })();
    "#;
    let statuses = c
        .execute_async(save, vec![Value::from(state.clone()), Value::from(renamed.clone())])
        .await
        .unwrap();
    assert_eq!(statuses, Value::from("200 200"));
    c.goto(&format!("{}/editor/workflows/drawn-in-browser", s.base)).await.unwrap();
    wait_text(c, "#lint-summary", |t| t.starts_with("0 errors")).await;
    click_tab(c, "Versions").await;
    click(c, "#preview-migration").await;
    let counts = wait_text(c, "#migration-counts", |t| !t.is_empty()).await;
    assert!(counts.starts_with("1 running: 0 can move, 1 blocked"), "{counts}");
    assert!(c.find(Locator::Css("#migrate[disabled]")).await.is_ok());
    c.find(Locator::Css(&format!("select.state-map[data-from='{state}']")))
        .await
        .unwrap()
        .select_by_value(&renamed)
        .await
        .unwrap();
    let counts = wait_text(c, "#migration-counts", |t| t.contains("1 can move")).await;
    assert!(counts.starts_with("1 running: 1 can move, 0 blocked"), "{counts}");
    let movable = wait_text(c, "#movable", |t| !t.is_empty()).await;
    assert!(movable.contains(&format!("{state} → {renamed}")), "{movable}");
    click(c, "#migrate").await;
    wait_text(c, ".side [role=status]", |t| t.contains("1 running entities moved")).await;

    // The seller admin names Berlin Werk's account manager (Acme's is Rita in the demo).
    c.goto(&format!("{}/editor/customers", s.base)).await.unwrap();
    let table = wait_text(c, "#customers", |t| t.contains("Berlin Werk")).await;
    assert!(table.contains("Acme Corp"), "{table}");
    let berlin = "select.account-manager[aria-label='Account manager of Berlin Werk GmbH']";
    let rita = c
        .execute(
            "return [...document.querySelectorAll(\"select.account-manager option\")].find(o => o.textContent === 'Rita Rep').value;",
            vec![],
        )
        .await
        .unwrap();
    let rita = rita.as_str().unwrap();
    // The list narrowed to one manager's accounts (Rita's: Acme), or to those no one manages.
    let whose = |value: &'static str| async move {
        let select = c.find(Locator::Css("#customer-manager")).await.unwrap();
        select.select_by_value(value).await.unwrap();
    };
    c.find(Locator::Css("#customer-manager")).await.unwrap().select_by_value(rita).await.unwrap();
    let ritas = wait_text(c, "#customers", |t| !t.contains("Berlin Werk")).await;
    assert!(ritas.contains("Acme Corp"), "{ritas}");
    whose("none").await;
    let nobodys = wait_text(c, "#customers", |t| !t.contains("Acme Corp")).await;
    assert!(nobodys.contains("Berlin Werk"), "{nobodys}");
    whose("").await;
    wait_text(c, "#customers", |t| t.contains("Acme Corp") && t.contains("Berlin Werk")).await;
    c.find(Locator::Css(berlin)).await.unwrap().select_by_value(rita).await.unwrap();
    let said = wait_text(c, "[role=status]", |t| !t.is_empty()).await;
    assert_eq!(said, "Berlin Werk GmbH: the account manager is now Rita Rep.");
    // The search narrows the list (on the server) as one types.
    type_into(c, "#customer-search", "werk").await;
    let found = wait_text(c, "#customers", |t| !t.contains("Acme Corp")).await;
    assert!(found.contains("Berlin Werk"), "{found}");
    // The main app's old address of the page leads to it.
    c.goto(&format!("{}/customers", s.base)).await.unwrap();
    wait_text(c, "main", |t| t.contains("seller's tools")).await;
    click(c, "main a[href='/editor/customers']").await;
    wait_text(c, "#customers", |t| t.contains("Berlin Werk")).await;
}

/// Drags one state of a 200-state diagram for 120 frames with pointer events dispatched in
/// `requestAnimationFrame`, and collects per frame the page's work (the handler, then the
/// style and layout it causes) and the time between frames.
async fn drag_frame_times(c: &Client) -> (Vec<f64>, Vec<f64>) {
    click(c, "#fit").await;
    wait_text(c, "#lint-summary", |_| true).await;
    let script = r#"
        const done = arguments[0];
        const svg = document.querySelector('svg.diagram');
        const node = document.querySelector("g.node[data-state='s100']");
        const r = node.getBoundingClientRect();
        const x0 = r.left + r.width / 2, y0 = r.top + r.height / 2;
        const ev = (type, target, x, y) => target.dispatchEvent(new PointerEvent(type,
            { bubbles: true, cancelable: true, pointerId: 1, isPrimary: true, button: 0, clientX: x, clientY: y }));
        ev('pointerdown', node.querySelector('rect'), x0, y0);
        const work = [], frames = [];
        let last = null, i = 0;
        const frame = (t) => {
            if (last !== null) frames.push(t - last);
            last = t;
            const t0 = performance.now();
            ev('pointermove', svg, x0 + i * 2, y0 + Math.sin(i / 9) * 40);
            node.getBoundingClientRect(); // style and layout, as the frame would
            work.push(performance.now() - t0);
            if (++i < 120) { requestAnimationFrame(frame); }
            else { ev('pointerup', svg, x0 + i * 2, y0); done({ work, frames }); }
        };
        requestAnimationFrame(frame);
    "#;
    let out = c.execute_async(script, vec![]).await.unwrap();
    let list = |k: &str| {
        out[k].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>()
    };
    let moved = c
        .find(Locator::Css("g.node[data-state='s100']"))
        .await
        .unwrap()
        .attr("transform")
        .await
        .unwrap();
    assert!(moved.is_some(), "the dragged state has a position");
    (list("work"), list("frames"))
}

/// The buyer makes an API token on its page, an integration uses it (no cookie, no CSRF token),
/// the buyer revokes it on the page, and it stops working at once.
async fn api_token_made_and_revoked(s: &Site, c: &Client) {
    login(c, &s.base, "pat@acme.example").await;
    c.find(Locator::LinkText("API tokens")).await.unwrap().click().await.unwrap();
    wait_text(c, "main h1", |t| t == "API tokens").await;
    type_into(c, "#token-name", "ERP export").await;
    c.find(Locator::Css("form.token button[type=submit]")).await.unwrap().click().await.unwrap();
    let secret = value_of(c, "#token-secret").await;
    assert!(secret.starts_with("cs_"), "{secret}");
    let integration = r#"
        const [token, done] = [arguments[0], arguments[arguments.length - 1]];
        fetch('/api/session', { credentials: 'omit', headers: { authorization: 'Bearer ' + token } })
            .then(async r => done([r.status, r.ok ? (await r.json()).email : null]));
    "#;
    let used = c.execute_async(integration, vec![json!(secret)]).await.unwrap();
    assert_eq!(used, json!([200, "pat@acme.example"]));
    let row = wait_text(c, "table.tokens", |t| t.contains("ERP export")).await;
    assert!(!row.contains("cs_"), "the list never shows a secret: {row}");
    click(c, "button.revoke[aria-label='Revoke ERP export']").await;
    wait_text(c, "p.ok[role=status]", |t| t.contains("is revoked")).await;
    assert!(c.find(Locator::Css("#token-secret")).await.is_err(), "a revoked secret stays shown");
    let used = c.execute_async(integration, vec![json!(secret)]).await.unwrap();
    assert_eq!(used, json!([401, null]));
}

/// A company admin adds a person who joined (a first password that is too short refused where
/// it was typed); the new person changes that password on the password page (a wrong current
/// password and a repetition that differs refused where typed), and is then removed again by the
/// admin after a confirmation, and can no longer log in.
async fn people_added_and_removed(s: &Site, c: &Client) {
    login(c, &s.base, "dana@acme.example").await;
    c.find(Locator::LinkText("People")).await.unwrap().click().await.unwrap();
    wait_text(c, "main h1", |t| t == "People").await;
    wait_text(c, "table.people", |t| t.contains("Pat Buyer") && t.contains("pat@acme.example"))
        .await;
    accessible(c, "the people page").await;
    // A new office first, under North America: a unit needs a name.
    let error = refused(c, "#save-unit", "unit-name").await;
    assert!(error.contains("name is required"), "{error}");
    type_into(c, "#unit-name", "Boston office").await;
    let under = c.find(Locator::Css("#unit-parent_id")).await.unwrap();
    under.select_by_label("North America").await.unwrap();
    click(c, "#save-unit").await;
    wait_text(c, "#people-said", |t| t.contains("The unit Boston office is added")).await;
    wait_text(c, "#units", |t| t.contains("Boston office")).await;
    assert_eq!(
        unit_tree(c).await,
        [
            "Acme Corp",
            "  EMEA",
            "    London office",
            "  North America",
            "    Boston office",
            "    New York office"
        ],
        "the units as a tree, depth first and by name"
    );
    type_into(c, "#person-name", "Finn Gray").await;
    type_into(c, "#person-email", "finn@acme.example").await;
    type_into(c, "#person-password", "too short").await;
    click(c, "#person-role-buyer").await;
    let unit = c.find(Locator::Css("#person-unit_id")).await.unwrap();
    unit.select_by_label("Boston office").await.unwrap();
    let manager = c.find(Locator::Css("#person-manager_id")).await.unwrap();
    manager.select_by_label("Avery Chen").await.unwrap();
    let error = refused(c, "#save-person", "person-password").await;
    assert!(error.contains("at least 12 characters"), "{error}");
    type_into(c, "#person-password", server_demo_password()).await;
    click(c, "#save-person").await;
    wait_text(c, "#people-said", |t| t.contains("Finn Gray is added")).await;
    let row = wait_text(c, "table.people", |t| t.contains("finn@acme.example")).await;
    assert!(row.contains("Boston office"), "{row}");
    // The Boston office cannot go while Finn works there.
    click(c, "button.remove[aria-label='Remove the unit Boston office']").await;
    wait_focus(c, "confirm-unit-removal", "a unit's removal asks to be confirmed").await;
    click(c, "#confirm-unit-removal").await;
    let refusal = wait_text(c, "#people-said", |t| t.contains("Finn Gray works in")).await;
    assert!(refusal.contains("place them in another unit first"), "{refusal}");

    login(c, &s.base, "finn@acme.example").await;
    c.find(Locator::LinkText("Password")).await.unwrap().click().await.unwrap();
    wait_text(c, "main h1", |t| t == "Your password").await;
    accessible(c, "the password page").await;
    type_into(c, "#current_password", "not my password").await;
    type_into(c, "#new_password", "finn's own password").await;
    type_into(c, "#repeated", "finn's own pasword").await;
    let error = refused(c, "form.password button[type=submit]", "repeated").await;
    assert!(error.contains("not the new password"), "{error}");
    type_into(c, "#repeated", "finn's own password").await;
    let error = refused(c, "form.password button[type=submit]", "current_password").await;
    assert!(error.contains("not your current password"), "{error}");
    type_into(c, "#current_password", server_demo_password()).await;
    click(c, "form.password button[type=submit]").await;
    wait_text(c, "#password-changed", |t| t.contains("Your password is changed")).await;

    login(c, &s.base, "dana@acme.example").await;
    c.find(Locator::LinkText("People")).await.unwrap().click().await.unwrap();
    wait_text(c, "table.people", |t| t.contains("Finn Gray")).await;
    click(c, "button.remove[aria-label='Remove Finn Gray']").await;
    wait_focus(c, "confirm-removal", "the removal asks to be confirmed").await;
    accessible(c, "the people page, confirming a removal").await;
    click(c, "#confirm-removal").await;
    wait_text(c, "#people-said", |t| t.contains("Finn Gray is removed")).await;
    wait_text(c, "table.people", |t| !t.contains("Finn Gray")).await;
    let log_in = r#"
        const done = arguments[arguments.length - 1];
        fetch('/api/session', { method: 'POST', credentials: 'omit', headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: 'finn@acme.example', password: "finn's own password" }) })
            .then(r => done(r.status));
    "#;
    assert_eq!(
        c.execute_async(log_in, vec![]).await.unwrap(),
        json!(401),
        "Finn can no longer log in"
    );

    // Finn comes back: the removed are listed apart, and adding one again fills the form.
    click(c, "details.removed summary").await;
    click(c, "button.again[aria-label='Add Finn Gray again']").await;
    wait_focus(c, "person-password", "adding again asks for a first password").await;
    assert_eq!(value_of(c, "#person-email").await, "finn@acme.example");
    type_into(c, "#person-password", server_demo_password()).await;
    click(c, "#save-person").await;
    wait_text(c, "#people-said", |t| t.contains("Finn Gray is back")).await;
    wait_text(c, "table.people", |t| t.contains("finn@acme.example")).await;

    // Units are renamed and moved, never under themselves; an empty one is removed.
    click(c, "button.change[aria-label='Change the unit North America']").await;
    wait_focus(c, "unit-name", "changing a unit starts at its name").await;
    let places = c.find(Locator::Css("#unit-parent_id")).await.unwrap().text().await.unwrap();
    assert!(
        places.contains("Acme Corp") && !places.contains("Boston") && !places.contains("North"),
        "not under itself nor a unit within it: {places}"
    );
    click(c, "#unit-form-cancel").await;
    click(c, "button.change[aria-label='Change the unit Boston office']").await;
    assert_eq!(value_of(c, "#unit-name").await, "Boston office");
    type_into(c, "#unit-name", "Boston").await;
    let under = c.find(Locator::Css("#unit-parent_id")).await.unwrap();
    under.select_by_label("Acme Corp").await.unwrap();
    click(c, "#save-unit").await;
    wait_text(c, "#people-said", |t| t.contains("The unit Boston is changed")).await;
    wait_text(c, "#units", |t| !t.contains("Boston office")).await;
    assert_eq!(
        unit_tree(c).await,
        [
            "Acme Corp",
            "  Boston",
            "  EMEA",
            "    London office",
            "  North America",
            "    New York office"
        ]
    );
    type_into(c, "#unit-name", "Temporary desk").await;
    click(c, "#save-unit").await;
    wait_text(c, "#units", |t| t.contains("Temporary desk")).await;
    click(c, "button.remove[aria-label='Remove the unit Temporary desk']").await;
    wait_focus(c, "confirm-unit-removal", "a unit's removal asks to be confirmed").await;
    accessible(c, "the people page, confirming a unit's removal").await;
    click(c, "#confirm-unit-removal").await;
    wait_text(c, "#people-said", |t| t.contains("The unit Temporary desk is removed")).await;
    wait_text(c, "#units", |t| !t.contains("Temporary desk")).await;
}

/// Pat orders; the company admin, from the order's page, goes to the waiting approvals and
/// hands the order's first step to Casey (the approver is away): with nobody chosen the form
/// says so where the choice is made; then the list and the order's page show the handover.
async fn approval_handed_over(s: &Site, c: &Client) {
    login(c, &s.base, "pat@acme.example").await;
    add_to_cart(c, "drill", "DRL-M", "20").await;
    c.find(Locator::Css("nav a[href='/cart']")).await.unwrap().click().await.unwrap();
    wait_text(c, "#approval-route", |t| !t.is_empty()).await;
    click(c, "#place-order").await;
    wait_text(c, "#order-state", |t| t.eq_ignore_ascii_case("awaiting approval")).await;
    let order = c.current_url().await.unwrap().to_string();
    let number = wait_text(c, "main h1", |t| t.starts_with("Order ")).await;
    let number = number.trim_start_matches("Order ").to_owned();
    assert!(c.find(Locator::Css("#hand-over-link")).await.is_err(), "only admins hand steps over");

    login(c, &s.base, "dana@acme.example").await;
    c.goto(&order).await.unwrap();
    click(c, "#hand-over-link").await;
    wait_text(c, "main h1", |t| t == "Waiting approvals").await;
    let button = format!("button.hand-over[aria-label='Hand over step 1 of order {number}']");
    wait_text(c, "table.waiting", |t| t.contains(&number)).await;
    click(c, &button).await;
    wait_focus(c, "handover-to", "handing over starts at the choice of whom").await;
    accessible(c, "the waiting approvals with the handover form").await;
    let error = refused(c, "#hand-over", "handover-to").await;
    assert!(error.contains("choose who approves"), "{error}");
    let to = c.find(Locator::Css("#handover-to")).await.unwrap();
    to.select_by_label("Casey Evans").await.unwrap();
    type_into(c, "#handover-comment", "away this week").await;
    click(c, "#hand-over").await;
    let said = wait_text(c, "#waiting-said", |t| !t.is_empty()).await;
    assert_eq!(
        said,
        format!("Step 1 of order {number} is handed to Casey Evans, who is told now.")
    );
    let row = format!("tr:has({button})");
    wait_text(c, &row, |t| t.contains("Casey Evans")).await;

    c.goto(&order).await.unwrap();
    let history = wait_text(c, "#order-history", |t| t.contains("handed step 1")).await;
    assert!(history.contains("to Casey Evans: away this week"), "{history}");
    let steps = wait_text(c, "ol.steps", |t| !t.is_empty()).await;
    assert!(steps.lines().next().unwrap_or_default().contains("Casey Evans — pending"), "{steps}");
}

/// The business units as the People page shows them: each name indented two spaces a level.
async fn unit_tree(c: &Client) -> Vec<String> {
    let script = r#"return [...document.querySelectorAll('#units li')].map(li =>
        ' '.repeat(2 * Math.round(parseFloat(li.style.paddingLeft) / 2)) + li.querySelector('.unit-name').textContent);"#;
    let rows = c.execute(script, vec![]).await.unwrap();
    serde_json::from_value(rows).unwrap()
}

/// The company admin edits the approval policy: the form shows a role approver as it is,
/// checks a spending limit's amount as it is typed, previews the route of a sample order under
/// the edited limit, and saves what was edited, and only that.
async fn approval_policy_edited(s: &Site, c: &Client) {
    login(c, &s.base, "dana@acme.example").await;
    c.find(Locator::LinkText("Approval policy")).await.unwrap().click().await.unwrap();
    wait_text(c, "main h1", |t| t == "Approval policy").await;
    assert_eq!(value_of(c, "#rule-3-approver").await, "role:safety", "hazardous goods: Sam's role");
    assert_eq!(value_of(c, "#limit-0-for").await, "role:buyer");
    assert_eq!(value_of(c, "#over-credit").await, "role:finance");

    // The hazardous-goods rule's condition, in the builder: an order of chemicals goes to the
    // safety officer; the value changed to solvents, it no longer does, and the text follows.
    let hazmat = "td:has(#rule-3-condition)";
    type_into(c, "#sample-categories", "chemicals").await;
    wait_text(c, "#policy-preview", |t| t.contains("Hazardous goods")).await;
    type_into(c, &format!("{hazmat} .cmp input.value"), "\"solvents\"").await;
    wait_text(c, "#policy-preview", |t| !t.contains("Hazardous goods")).await;
    assert_eq!(value_of(c, "#rule-3-condition").await, "order.categories contains \"solvents\"");
    // A second comparison joins the first ("+ condition" of the rule's group).
    click(c, &format!("{hazmat} .group button")).await;
    assert_eq!(
        value_of(c, "#rule-3-condition").await,
        "order.categories contains \"solvents\" and order.total >= 1000 USD"
    );
    // Written as text on a field approval rules do not have, the condition is marked at once.
    click(c, &format!("{hazmat} summary")).await;
    type_into(c, "#rule-3-condition", "order.colour = \"red\"").await;
    let problem = wait_text(c, "#rule-3-condition-problem", |t| !t.is_empty()).await;
    assert!(problem.contains("order.colour"), "{problem}");
    let both = "order.categories contains \"solvents\" and order.total >= 1000 USD";
    type_into(c, "#rule-3-condition", both).await;
    wait_text(c, "#rule-3-condition-problem", str::is_empty).await;
    assert_eq!(c.find_all(Locator::Css(&format!("{hazmat} .cmp"))).await.unwrap().len(), 2);
    type_into(c, "#sample-categories", "").await;

    // Paid on account, 22,000 USD is past the available credit (25,000 less 3,500 owed), so
    // finance approves it; paid by card it is not, and the credit's note goes away.
    type_into(c, "#sample-total", "22000.00").await;
    wait_text(c, "#policy-preview", |t| t.contains("exceeds the available credit")).await;
    let payment = c.find(Locator::Css("#sample-payment")).await.unwrap();
    payment.select_by_value("card").await.unwrap();
    wait_text(c, "#policy-preview", |t| !t.contains("available credit")).await;
    wait_text(c, "section.preview", |t| !t.contains("Paid on account")).await;
    payment.select_by_value("invoice").await.unwrap();
    wait_text(c, "#policy-preview", |t| t.contains("exceeds the available credit")).await;

    // A sample order of 1,000 USD by a buyer who spent 39,500 this month: past the 40,000 budget.
    type_into(c, "#sample-total", "1000.00").await;
    type_into(c, "#sample-spent", "39500.00").await;
    let preview = wait_text(c, "#policy-preview", |t| t.contains("Buyer monthly budget")).await;
    assert!(preview.contains("needs one approval"), "{preview}");
    accessible(c, "the policy editor").await;

    // A wrong amount is named where it was typed, and the form is not sent.
    type_into(c, "#limit-0-amount", "50,000x").await;
    wait_text(c, "#limit-0-amount-error", |t| !t.is_empty()).await;
    let invalid = c.find(Locator::Css("#limit-0-amount")).await.unwrap();
    assert_eq!(invalid.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));
    click(c, "#save-policy").await;
    wait_text(c, "#policy-error", |t| t.contains("Not saved")).await;

    // Raised to 50,000, the budget no longer asks anybody.
    type_into(c, "#limit-0-amount", "50000.00").await;
    let preview = wait_text(c, "#policy-preview", |t| !t.contains("Buyer monthly budget")).await;
    assert!(preview.contains("No approval needed"), "{preview}");
    c.find(Locator::Css("#over-credit")).await.unwrap().select_by_value("block").await.unwrap();
    click(c, "#save-policy").await;
    wait_text(c, "form.policy p.ok[role=status]", |t| t.contains("Saved as version 2")).await;

    let stored = r#"
        const done = arguments[arguments.length - 1];
        fetch('/api/session').then(r => r.json())
            .then(me => fetch('/api/companies/' + me.company_id + '/policy'))
            .then(r => r.json()).then(p => done(p));
    "#;
    let stored = c.execute_async(stored, vec![]).await.unwrap();
    let policy = &stored["policy"];
    assert_eq!(stored["version"], json!(2));
    assert_eq!(
        policy["spending_limits"][0]["amount"],
        json!({ "amount": "50000.00", "currency": "USD" })
    );
    assert_eq!(policy["spending_limits"][0]["applies_to"], json!({ "role": "buyer" }));
    assert_eq!(policy["over_credit"], json!("block"));
    assert_eq!(policy["rules"][3]["approver"], json!({ "role": "safety" }));
    assert_eq!(
        policy["rules"][3]["when"],
        json!({ "all": [
            { "field": "order.categories", "op": "contains", "value": { "text": "solvents" } },
            { "field": "order.total", "op": ">=", "value": { "money": { "amount": "1000", "currency": "USD" } } },
        ] })
    );
    assert_eq!(policy["fallback"], json!({ "role": "company_admin" }));
}

/// Replaces the first `from` in the Prices page's JSON with `to`, as typing would.
async fn edit_pricing(c: &Client, from: &str, to: &str) {
    let script = "const t = document.querySelector('#pricing-json');
        if (!t.value.includes(arguments[0])) throw new Error('not in the pricing data: ' + arguments[0]);
        t.value = t.value.replace(arguments[0], arguments[1]);
        t.dispatchEvent(new Event('input', { bubbles: true }));";
    c.execute(script, vec![json!(from), json!(to)]).await.unwrap();
}

/// The seller admin reads the prices and publishes a new version from the Prices page: a broken
/// edit says where it is and cannot be published; a good one becomes the next version.
async fn prices_published(s: &Site, c: &Client) {
    // Pat's cart holds a saw blade that the seller is about to take out of the catalog.
    login(c, &s.base, "pat@acme.example").await;
    let put = r#"
        const done = arguments[arguments.length - 1];
        fetch('/api/session').then(r => r.json()).then(s => fetch('/api/cart', { method: 'PUT',
            headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrf_token },
            body: JSON.stringify({ lines: [{ sku: 'BLD-PRO', quantity: 3 }, { sku: 'GLV-M', quantity: 10 }] }) }))
          .then(r => done(r.status));
    "#;
    assert_eq!(c.execute_async(put, vec![]).await.unwrap(), json!(200));
    login(c, &s.base, "sol@toolmaker.example").await;
    c.find(Locator::LinkText("Prices")).await.unwrap().click().await.unwrap();
    let version = wait_text(c, "#pricing-version", |t| t.starts_with("Version ")).await;
    let before: u64 =
        version.trim_start_matches("Version ").split(',').next().unwrap().parse().unwrap();
    wait_text(c, "#price-lists", |t| t.contains("Standard USD list-usd")).await;
    wait_text(c, "#pricing-problems", |t| t.starts_with("Unchanged")).await;
    accessible(c, "the prices page").await;
    let asked = "return performance.getEntriesByType('resource')
        .filter(e => new URL(e.name).pathname == '/api/companies').length";
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.execute(asked, vec![]).await.unwrap() == json!(0) {
        assert!(Instant::now() < deadline, "the customer suggestions are never asked for");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        c.execute(asked, vec![]).await.unwrap(),
        json!(1),
        "the two list forms share one request for their customer suggestions"
    );
    // A tier from zero units: the engine's own check, with where.
    edit_pricing(c, "\"min_quantity\": 1", "\"min_quantity\": 0").await;
    let problems = wait_text(c, "#pricing-problems", |t| t.starts_with("Error:")).await;
    assert!(problems.contains("price_lists[0].prices[0]"), "{problems}");
    assert!(c.find(Locator::Css("#publish-pricing[disabled]")).await.is_ok());
    // Not JSON any more: where, by line and column.
    edit_pricing(c, "\"catalog\": [", "\"catalog\": [,").await;
    let problems = wait_text(c, "#pricing-problems", |t| t.starts_with("Error:")).await;
    assert!(problems.contains("line 2, column"), "{problems}");
    click(c, "#discard-pricing").await;
    wait_text(c, "#pricing-problems", |t| t.starts_with("Unchanged")).await;

    // The form: the work gloves' volume prices in the standard list (4.09, 3.69 from 10, 3.49
    // from 50). A price that does not read is marked where it is, and has the focus.
    c.find(Locator::Id("price-product")).await.unwrap().select_by_value("GLV-S").await.unwrap();
    wait_value(c, "#tier-0-price", "4.09", "the form did not show GLV-S's prices").await;
    assert_eq!(value_of(c, "#tier-2-min").await, "50");
    type_into(c, "#tier-1-price", "3,79").await;
    let error = refused(c, "#apply-price", "tier-1-price").await;
    assert!(error.contains("a price such as"), "{error}");
    wait_text(c, "#pricing-problems", |t| t.starts_with("Unchanged")).await;
    // Fixed, and a fourth tier from 100 units; applied, the draft is checked and publishable.
    type_into(c, "#tier-1-price", "3.79").await;
    click(c, "#add-tier").await;
    type_into(c, "#tier-3-min", "100").await;
    type_into(c, "#tier-3-price", "3.29").await;
    // A tier added by mistake is removed; the focus stays in the table, on the tier before it.
    click(c, "#add-tier").await;
    click(c, "button[aria-label='Remove tier 5']").await;
    wait_focus(c, "tier-3-min", "removing a tier lost the focus").await;
    assert!(c.find(Locator::Css("#tier-4-min")).await.is_err());
    click(c, "#apply-price").await;
    let applied = wait_text(c, "#price-applied", |t| !t.is_empty()).await;
    assert!(applied.starts_with("GLV-S's prices in Standard USD are changed"), "{applied}");
    wait_text(c, "#pricing-problems", |t| t.starts_with("No problems")).await;
    accessible(c, "the prices page's form").await;
    // A new product: a SKU the catalog has is refused where it is typed; a new one is added to
    // the draft and the price form turns to it, to give it its first price.
    type_into(c, "#new-sku", "GLV-S").await;
    type_into(c, "#new-name", "Work gloves XXL").await;
    type_into(c, "#new-category", "safety").await;
    type_into(c, "#new-tax-class", "standard").await;
    let error = refused(c, "#add-product", "new-sku").await;
    assert!(error.contains("already in the catalog: Work gloves S"), "{error}");
    type_into(c, "#new-sku", "GLV-XXL").await;
    click(c, "#add-product").await;
    wait_text(c, "#product-added", |t| t.starts_with("GLV-XXL is in the draft's catalog")).await;
    assert_eq!(value_of(c, "#price-product").await, "GLV-XXL");
    assert!(c.find(Locator::Css("#tier-0-min")).await.is_err(), "a new product has no tiers");
    click(c, "#add-tier").await;
    type_into(c, "#tier-0-min", "1").await;
    type_into(c, "#tier-0-price", "6.49").await;
    click(c, "#apply-price").await;
    wait_text(c, "#price-applied", |t| t.starts_with("GLV-XXL is now priced in Standard USD"))
        .await;
    wait_text(c, "#pricing-problems", |t| t.starts_with("No problems")).await;
    // New York's sales tax goes up: a rate that does not read is refused where it is typed.
    c.find(Locator::Id("tax-rule-choice")).await.unwrap().select_by_value("0").await.unwrap();
    assert_eq!(value_of(c, "#tax-rate").await, "8.875");
    type_into(c, "#tax-rate", "9 %").await;
    let error = refused(c, "#apply-tax", "tax-rate").await;
    assert!(error.contains("a rate in percent"), "{error}");
    type_into(c, "#tax-rate", "9.125").await;
    click(c, "#apply-tax").await;
    wait_text(c, "#tax-applied", |t| t.starts_with("NY sales tax is 9.125 % in the draft")).await;
    // A product taken out of the catalog goes out of every list that priced it.
    c.find(Locator::Id("remove-product-choice"))
        .await
        .unwrap()
        .select_by_value("BLD-PRO")
        .await
        .unwrap();
    click(c, "#remove-product").await;
    wait_text(c, "#product-removed", |t| {
        t.starts_with("BLD-PRO (Saw blade PRO) is out of the draft's catalog, and from the 3 lists that priced it")
    })
    .await;
    // A new price list for a group of customers: an id in use is refused where it is typed;
    // the currency is read in any case. Added, the price form turns to it.
    type_into(c, "#new-list-id", "list-usd").await;
    type_into(c, "#new-list-name", "Retail CAD").await;
    // For one customer, the companies suggested are those whose name has what is typed, asked
    // of the server as it is typed.
    c.find(Locator::Id("new-list-for")).await.unwrap().select_by_value("customer").await.unwrap();
    let suggested = r#"
        return Array.from(document.querySelectorAll('#new-list-customers option')).map(o => o.textContent);
    "#;
    for (typed, company) in [("werk", "Berlin Werk GmbH"), ("acme", "Acme Corp")] {
        type_into(c, "#new-list-who", typed).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.execute(suggested, vec![]).await.unwrap() != json!([company]) {
            assert!(Instant::now() < deadline, "typing {typed:?} did not suggest {company} alone");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    c.find(Locator::Id("new-list-for")).await.unwrap().select_by_value("group").await.unwrap();
    type_into(c, "#new-list-who", "retail").await;
    type_into(c, "#new-list-currency", "cad").await;
    let error = refused(c, "#add-list", "new-list-id").await;
    assert!(error.contains("already a price list: Standard USD"), "{error}");
    type_into(c, "#new-list-id", "retail-cad").await;
    click(c, "#add-list").await;
    wait_text(c, "#list-added", |t| {
        t.starts_with("Retail CAD is in the draft, with no prices yet")
    })
    .await;
    wait_value(c, "#price-list-choice", "4", "the price form did not turn to the new list").await;
    assert_eq!(value_of(c, "#price-product").await, "GLV-XXL");
    click(c, "#add-tier").await;
    type_into(c, "#tier-0-min", "1").await;
    type_into(c, "#tier-0-price", "8.49").await;
    click(c, "#apply-price").await;
    wait_text(c, "#price-applied", |t| t.starts_with("GLV-XXL is now priced in Retail CAD")).await;
    // Whom the list is for, its currency and whether its prices include VAT are the price
    // form's too: made a gross euro list for Berlin Werk, found by its name as it is typed; a
    // currency that is not one is refused where it is typed.
    assert_eq!(value_of(c, "#list-for").await, "group");
    assert_eq!(value_of(c, "#list-who").await, "retail");
    assert_eq!(value_of(c, "#list-currency").await, "CAD");
    c.find(Locator::Id("list-for")).await.unwrap().select_by_value("customer").await.unwrap();
    type_into(c, "#list-who", "werk").await;
    let berlin_werk = r#"
        return Array.from(document.querySelectorAll('#list-customers option')).map(o => [o.value, o.textContent]);
    "#;
    let deadline = Instant::now() + Duration::from_secs(10);
    let berlin = loop {
        let found = c.execute(berlin_werk, vec![]).await.unwrap();
        if let [pair] = found.as_array().map(Vec::as_slice).unwrap_or_default()
            && pair[1] == json!("Berlin Werk GmbH")
        {
            break pair[0].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "typing \"werk\" did not suggest Berlin Werk alone");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    type_into(c, "#list-who", &berlin).await;
    type_into(c, "#list-currency", "euro").await;
    type_into(c, "#list-name", "Berlin Werk EUR").await;
    click(c, "#list-gross").await;
    let error = refused(c, "#apply-price", "list-currency").await;
    assert!(error.starts_with("an ISO 4217 currency code"), "{error}");
    type_into(c, "#list-currency", "eur").await;
    click(c, "#apply-price").await;
    let said = format!(
        "Retail CAD is now called Berlin Werk EUR. Berlin Werk EUR is now for the customer {berlin}, in EUR, its prices VAT included."
    );
    wait_text(c, "#price-applied", |t| t.starts_with(&said)).await;
    // A new tax rule: one where a rule already taxes the class is refused; elsewhere it is
    // added and the tax form turns to it.
    type_into(c, "#new-rule-id", "us-nj").await;
    type_into(c, "#new-rule-name", "NJ sales tax").await;
    type_into(c, "#new-rule-country", "us").await;
    type_into(c, "#new-rule-region", "NY").await;
    type_into(c, "#new-rule-class", "standard").await;
    type_into(c, "#new-rule-rate", "6.625").await;
    let error = refused(c, "#add-rule", "new-rule-class").await;
    assert!(error.contains("NY sales tax already taxes this class there"), "{error}");
    type_into(c, "#new-rule-region", "NJ").await;
    click(c, "#add-rule").await;
    wait_text(c, "#rule-added", |t| {
        t.starts_with("NJ sales tax is in the draft: 6.625 % on the tax class standard in US, NJ")
    })
    .await;
    wait_value(c, "#tax-rule-choice", "6", "the tax form did not turn to the new rule").await;
    assert_eq!(value_of(c, "#tax-rate").await, "6.625");
    // Its name spelt out in the tax form: a name cannot be empty.
    assert_eq!(value_of(c, "#tax-name").await, "NJ sales tax");
    type_into(c, "#tax-name", " ").await;
    let error = refused(c, "#apply-tax", "tax-name").await;
    assert!(error.starts_with("a name is needed"), "{error}");
    type_into(c, "#tax-name", "New Jersey sales tax").await;
    click(c, "#apply-tax").await;
    wait_text(c, "#tax-applied", |t| {
        t.starts_with("NJ sales tax is now called New Jersey sales tax. New Jersey sales tax is 6.625 % in the draft, on the tax class standard in US, NJ.")
    })
    .await;
    // Its place is in the form too: moved to New York, it would tax what NY's rule taxes.
    assert_eq!(value_of(c, "#tax-region").await, "NJ");
    type_into(c, "#tax-region", "NY").await;
    let error = refused(c, "#apply-tax", "tax-class").await;
    assert_eq!(error, "NY sales tax already taxes this class there");
    type_into(c, "#tax-region", "NJ").await;
    // The euro list goes with its prices, and the French VAT; the price and tax forms, which
    // showed the last of each, turn to the first.
    let choose = |id: &'static str, value: &'static str| async move {
        c.find(Locator::Id(id)).await.unwrap().select_by_value(value).await.unwrap();
    };
    choose("remove-list-choice", "list-eur").await;
    click(c, "#remove-list").await;
    wait_text(c, "#list-removed", |t| {
        t.starts_with("Standard EUR (net) is out of the draft, with its ")
            && t.contains("everyone is then priced by the next list that applies")
    })
    .await;
    wait_value(c, "#price-list-choice", "0", "the price form still shows a removed list").await;
    // The removal form shows, and would remove, the first list now.
    wait_value(c, "#remove-list-choice", "list-usd", "the removal form shows another list").await;
    choose("remove-rule-choice", "fr-vat").await;
    click(c, "#remove-rule").await;
    wait_text(c, "#rule-removed", |t| {
        t.starts_with(
            "French VAT is out of the draft: it no longer taxes the class standard in FR.",
        )
    })
    .await;
    wait_value(c, "#tax-rule-choice", "0", "the tax form still shows a removed rule").await;
    wait_value(c, "#remove-rule-choice", "us-ny", "the removal form shows another rule").await;
    // Rounding on the totals, half to even: each choice is in the draft as it is made.
    choose("rounding-mode", "1").await;
    wait_text(c, "#rounding-changed", |t| {
        t.starts_with("Rounding is on total, half up in the draft.")
    })
    .await;
    choose("rounding-rule", "1").await;
    wait_text(c, "#rounding-changed", |t| t.starts_with("Rounding is on total, half even")).await;
    wait_text(c, "#pricing-problems", |t| t.starts_with("No problems")).await;
    accessible(c, "the prices page's forms").await;

    // The standard list renamed in the price form: a name cannot be empty.
    type_into(c, "#list-name", " ").await;
    let error = refused(c, "#apply-price", "list-name").await;
    assert!(error.starts_with("a name is needed"), "{error}");
    type_into(c, "#list-name", "Standard USD, spring").await;
    click(c, "#apply-price").await;
    wait_text(c, "#price-applied", |t| {
        t.starts_with("Standard USD is now called Standard USD, spring.")
    })
    .await;
    // And the new product's name in the JSON.
    edit_pricing(c, "\"name\": \"Work gloves XXL\"", "\"name\": \"Work gloves, XXL\"").await;
    wait_text(c, "#pricing-problems", |t| t.starts_with("No problems")).await;
    click(c, "#publish-pricing").await;
    let published = wait_text(c, "#pricing-published", |t| !t.is_empty()).await;
    assert!(published.starts_with(&format!("Version {} is published", before + 1)), "{published}");
    wait_text(c, "#pricing-version", |t| t.starts_with(&format!("Version {},", before + 1))).await;
    wait_text(c, "#price-lists", |t| t.contains("Standard USD, spring")).await;
    // Published, the forms' news of the draft is gone.
    let news = "#price-applied, #tax-applied, #product-added, #product-removed, #list-added, \
                #rule-added, #list-removed, #rule-removed, #rounding-changed";
    assert!(c.find(Locator::Css(news)).await.is_err());
    let stored = r#"
        const done = arguments[arguments.length - 1];
        fetch('/api/catalog/document').then(r => r.json()).then(d => done(
            d.document.price_lists.find(l => l.id === 'list-usd').prices.find(p => p.sku === 'GLV-S').tiers));
    "#;
    let tiers = c.execute_async(stored, vec![]).await.unwrap();
    let added = r#"
        const done = arguments[arguments.length - 1];
        fetch('/api/catalog/document').then(r => r.json()).then(d => done([
            d.document.catalog.find(p => p.sku === 'GLV-XXL'),
            d.document.price_lists.find(l => l.id === 'list-usd').prices.find(p => p.sku === 'GLV-XXL').tiers]));
    "#;
    let rate = r#"
        const done = arguments[arguments.length - 1];
        fetch('/api/catalog/document').then(r => r.json())
            .then(d => done(d.document.tax_rules.find(t => t.id === 'us-ny').percent));
    "#;
    assert_eq!(c.execute_async(rate, vec![]).await.unwrap(), json!("9.125"));
    let new = r#"
        const done = arguments[arguments.length - 1];
        fetch('/api/catalog/document').then(r => r.json()).then(d => done([
            d.document.catalog.some(p => p.sku === 'BLD-PRO'),
            d.document.price_lists.some(l => l.prices.some(p => p.sku === 'BLD-PRO')),
            d.document.price_lists.find(l => l.id === 'retail-cad'),
            d.document.tax_rules.find(t => t.id === 'us-nj'),
            d.document.price_lists.some(l => l.id === 'list-eur'),
            d.document.tax_rules.some(t => t.id === 'fr-vat'),
            d.document.rounding]));
    "#;
    assert_eq!(
        c.execute_async(new, vec![]).await.unwrap(),
        json!([
            false,
            false,
            { "id": "retail-cad", "name": "Berlin Werk EUR", "audience": { "customer": berlin }, "currency": "EUR",
              "prices_include_tax": true, "valid_from": null, "valid_until": null,
              "prices": [{ "sku": "GLV-XXL", "tiers": [{ "min_quantity": 1, "unit_price": "8.49" }] }] },
            { "id": "us-nj", "name": "New Jersey sales tax", "kind": "sales_tax", "country": "US", "region": "NJ",
              "tax_class": "standard", "percent": "6.625" },
            false,
            false,
            { "mode": "on_total", "rounding": "half_even" },
        ])
    );
    assert_eq!(
        c.execute_async(added, vec![]).await.unwrap(),
        json!([
            { "sku": "GLV-XXL", "name": "Work gloves, XXL", "category": "safety", "tax_class": "standard" },
            [{ "min_quantity": 1, "unit_price": "6.49" }],
        ])
    );
    assert_eq!(
        tiers,
        json!([
            { "min_quantity": 1, "unit_price": "4.09" },
            { "min_quantity": 10, "unit_price": "3.79" },
            { "min_quantity": 50, "unit_price": "3.49" },
            { "min_quantity": 100, "unit_price": "3.29" },
        ])
    );

    // Pat's cart: the product no longer sold is marked on its line, and nothing is priced nor
    // can be ordered until it is removed; then the rest is priced.
    login(c, &s.base, "pat@acme.example").await;
    c.find(Locator::Css("nav a[href='/cart']")).await.unwrap().click().await.unwrap();
    let error = wait_text(c, "#qty-error-BLD-PRO", |t| !t.is_empty()).await;
    assert_eq!(error, "No longer sold: remove it to place the order.");
    wait_text(c, "section.totals", |t| {
        t.contains("BLD-PRO is no longer sold: remove it to see the prices and the approval route.")
    })
    .await;
    assert!(c.find(Locator::Css("#place-order[disabled]")).await.is_ok());
    click(c, "button[aria-label='Remove BLD-PRO']").await;
    let total = wait_text(c, "#cart-total", |t| !t.is_empty()).await;
    assert!(total.ends_with(" USD"), "{total}");
    let cart = r#"
        const done = arguments[arguments.length - 1];
        fetch('/api/cart').then(r => r.json()).then(c => done(c.lines.map(l => l.sku)));
    "#;
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.execute_async(cart, vec![]).await.unwrap() != json!(["GLV-M"]) {
        assert!(Instant::now() < deadline, "the cart without BLD-PRO was not saved");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// "Order again" on an order's page adds its lines to the buyer's cart, to what is there.
async fn ordered_again(s: &Site, c: &Client) {
    login(c, &s.base, "pat@acme.example").await;
    let read = r#"
        const done = arguments[arguments.length - 1];
        const get = path => fetch(path).then(r => r.json());
        get('/api/orders').then(list => Promise.all([get('/api/orders/' + list.orders[0].id), get('/api/cart')]))
            .then(([order, cart]) => done({ id: order.id, lines: order.priced.lines.map(l => [l.sku, l.quantity]),
                                             cart: cart.lines.map(l => [l.sku, l.quantity]) }));
    "#;
    let before = c.execute_async(read, vec![]).await.unwrap();
    let quantities = |lines: &Value| -> BTreeMap<String, u64> {
        lines
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l[0].as_str().unwrap().to_owned(), l[1].as_u64().unwrap()))
            .collect()
    };
    let mut expected = quantities(&before["cart"]);
    for (sku, q) in quantities(&before["lines"]) {
        *expected.entry(sku).or_default() += q;
    }
    c.goto(&format!("{}/orders/{}", s.base, before["id"].as_str().unwrap())).await.unwrap();
    click(c, "#order-again").await;
    wait_text(c, "#order-again-status", |t| t.contains("added to your cart")).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let after = c.execute_async(read, vec![]).await.unwrap();
        if quantities(&after["cart"]) == expected {
            break;
        }
        assert!(Instant::now() < deadline, "the cart is {}, not {expected:?}", after["cart"]);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
            catalog_prices_follow_the_quantity(&site, &c).await;
            cart_saved_when_leaving(&site, &c).await;
            let large = large_cart_timings(&site, &c).await;
            let lint = workflow_lint_timings(&site, &c).await;
            let drag = drag_frame_times(&c).await;
            draw_workflow(&site, &c).await;
            api_token_made_and_revoked(&site, &c).await;
            approval_policy_edited(&site, &c).await;
            ordered_again(&site, &c).await;
            prices_published(&site, &c).await;
            people_added_and_removed(&site, &c).await;
            approval_handed_over(&site, &c).await;
            (small, large, lint, drag)
        }
    })
    .await;
    let _ = c.close().await;
    let (small, large, lint, (drag_work, drag_frames)) = result.expect("the end-to-end checks");
    let figures = json!({ "keystroke_to_preview_small_cart": summary(small), "keystroke_to_preview_200_lines": summary(large),
                          "workflow_validate_200_states_1000_transitions": summary(lint),
                          "drag_200_state_diagram_work_per_frame": summary(drag_work),
                          "drag_200_state_diagram_frame_interval": summary(drag_frames) });
    println!("end-to-end figures: {figures}");
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-figures.json");
    let _ = std::fs::write(out, serde_json::to_string_pretty(&figures).unwrap());
}
