//! The test harness: every test runs on a fresh database, on SQLite and on PostgreSQL, against
//! the server listening on a loopback port, over real HTTP (one connection a request; a client
//! can come from another loopback address, as another machine would).
//!
//! PostgreSQL is found at `COUNTERSIGN_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`); each test creates its own database there and
//! drops it afterwards. Without a reachable server the PostgreSQL half of each test is skipped
//! and says so, unless `CI=true`, where a missing PostgreSQL fails the test.

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use server::{AppState, Config, Db, auth::Passwords, seed};
use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
};
use tokio::{net::TcpSocket, sync::OnceCell, task::JoinHandle};

pub const PASSWORD: &str = "correct horse battery staple";

fn admin_url() -> String {
    std::env::var("COUNTERSIGN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn config(database_url: String) -> Config {
    Config {
        bind: "127.0.0.1:0".parse().expect("an address"),
        database_url,
        db_connections: 8,
        smtp_url: None,
        mail_from: "Countersign <noreply@countersign.invalid>".into(),
        static_dir: PathBuf::from("dist"),
        demo: false,
        secure_cookies: false,
        log_json: false,
        // The tests' webhook receiver listens on loopback.
        allow_private_webhooks: true,
        webhook_ca_file: None,
        // The tests' reverse proxy (a loopback address: see `Client::from`).
        trusted_proxies: vec!["127.0.0.10".parse().expect("an address")],
        approval_reminder_after: rules::time::Duration::ZERO,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database and the server on it, listening on a loopback port.
pub struct TestApp {
    pub state: AppState,
    /// Where the server listens.
    pub addr: SocketAddr,
    server: JoinHandle<()>,
    cleanup: Option<(String, String)>,
    _dir: Option<TempDir>,
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static POSTGRES: OnceCell<Option<String>> = OnceCell::const_new();

/// The PostgreSQL server for tests, if reachable.
async fn postgres() -> Option<String> {
    POSTGRES
        .get_or_init(|| async {
            let url = admin_url();
            match sqlx::PgPool::connect(&url).await {
                Ok(pool) => {
                    pool.close().await;
                    Some(url)
                }
                Err(e) => {
                    if std::env::var("CI").is_ok_and(|v| v == "true") {
                        panic!("CI=true but PostgreSQL is not reachable at {url}: {e}");
                    }
                    eprintln!(
                        "SKIPPED: the PostgreSQL half of the API tests: no server at {url} ({e})"
                    );
                    None
                }
            }
        })
        .await
        .clone()
}

impl TestApp {
    /// A fresh app on `backend`; `None` when that backend is not available here.
    pub async fn new(backend: Backend) -> Option<TestApp> {
        let (url, cleanup, dir) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(server::util::new_id("countersign-test"));
                std::fs::create_dir_all(&dir).expect("a temporary directory");
                let url = format!("sqlite://{}?mode=rwc", dir.join("test.db").display());
                (url, None, Some(TempDir(dir)))
            }
            Backend::Postgres => {
                let admin = postgres().await?;
                let name = server::util::new_id("cs_test");
                let pool = sqlx::PgPool::connect(&admin).await.expect("connect to PostgreSQL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&pool)
                    .await
                    .expect("create a test database");
                pool.close().await;
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
                (format!("{base}/{name}"), Some((admin, name)), None)
            }
        };
        let db = Db::open(&url, 8).await.expect("open the test database");
        let state = AppState::new(db, config(url), Passwords::new(true).expect("passwords"));
        // As `countersign serve` does: with each connection's peer address.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("the port");
        let app = server::app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the test server");
        });
        Some(TestApp { state, addr, server, cleanup, _dir: dir })
    }

    /// Another server on the same database: its own pools and caches, as a second process has.
    pub async fn second_server(&self) -> AppState {
        self.second_server_with(|_| {}).await
    }

    /// [`TestApp::second_server`] with its configuration changed.
    pub async fn second_server_with(&self, change: impl FnOnce(&mut Config)) -> AppState {
        let url = self.state.config.database_url.clone();
        let db = Db::open(&url, 8).await.expect("open the database again");
        let mut config = config(url);
        change(&mut config);
        AppState::new(db, config, Passwords::new(true).expect("passwords"))
    }

    /// The number in the first column of the first row of `sql`.
    pub async fn count(&self, sql: &str) -> i64 {
        server::db::query(server::db::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.state.db.read)
            .await
            .and_then(|row| row.try_get_at(0))
            .unwrap()
    }

    /// Drops the PostgreSQL test database.
    pub async fn finish(self) {
        self.server.abort();
        self.state.db.close().await;
        if let Some((admin, name)) = self.cleanup
            && let Ok(pool) = sqlx::PgPool::connect(&admin).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
                .execute(&pool)
                .await;
            pool.close().await;
        }
    }

    pub fn client(&self) -> Client {
        Client {
            server: self.addr,
            cookie: None,
            csrf: None,
            bearer: None,
            from: None,
            forwarded_for: None,
        }
    }
}

/// An HTTP client with a cookie jar of one cookie.
#[derive(Clone)]
pub struct Client {
    server: SocketAddr,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
    /// The loopback address requests come from (127.0.0.1 unless set): all of 127.0.0.0/8 is
    /// this machine, so a test can play clients at different addresses for real.
    pub from: Option<IpAddr>,
    /// An `X-Forwarded-For` header, as a proxy (or someone pretending) sends it.
    pub forwarded_for: Option<String>,
}

/// An answer: status, headers of interest and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub set_cookie: Option<String>,
    pub request_id: Option<String>,
}

impl Client {
    pub async fn send(&mut self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let body = body.map(|b| ("application/json", b.to_string()));
        self.send_raw(method, path, body).await
    }

    /// Sends a body of any media type (for example YAML).
    pub async fn send_raw(
        &mut self,
        method: Method,
        path: &str,
        body: Option<(&str, String)>,
    ) -> Answer {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::HOST, self.server.to_string());
        if let Some(cookie) = &self.cookie {
            req = req.header(header::COOKIE, cookie);
        }
        if let Some(csrf) = &self.csrf {
            req = req.header("x-csrf-token", csrf);
        }
        if let Some(token) = &self.bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(hops) = &self.forwarded_for {
            req = req.header("x-forwarded-for", hops);
        }
        let req = match body {
            Some((media, text)) => req.header(header::CONTENT_TYPE, media).body(Body::from(text)),
            None => req.body(Body::empty()),
        }
        .expect("a request");
        let socket = TcpSocket::new_v4().expect("a socket");
        if let Some(from) = self.from {
            socket.bind(SocketAddr::new(from, 0)).expect("a loopback address to send from");
        }
        let stream = socket.connect(self.server).await.expect("connect to the test server");
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("HTTP/1.1");
        tokio::spawn(connection);
        let res = sender.send_request(req).await.expect("an answer");
        let status = res.status();
        let set_cookie =
            res.headers().get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let request_id =
            res.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        if let Some(c) = &set_cookie {
            let pair = c.split(';').next().unwrap_or_default().to_owned();
            self.cookie = if pair.ends_with('=') { None } else { Some(pair) };
        }
        let bytes = res.into_body().collect().await.expect("a body").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)))
        };
        Answer { status, body, set_cookie, request_id }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }

    /// Logs in; keeps the cookie and the CSRF token.
    pub async fn login(&mut self, email: &str, password: &str) -> Answer {
        let answer =
            self.post("/api/session", json!({ "email": email, "password": password })).await;
        if answer.status == StatusCode::OK {
            self.csrf = answer.body["csrf_token"].as_str().map(str::to_owned);
        }
        answer
    }
}

/// A customer company with a buyer and an approver, and the seller with a sales rep.
#[allow(dead_code, reason = "fields for the tests that need them")]
pub struct World {
    pub seller: String,
    pub customer: String,
    pub buyer: String,
    pub approver: String,
    pub rep: String,
}

pub async fn world(app: &TestApp) -> World {
    let s = &app.state;
    let seller = seed::company(
        s,
        seed::NewCompany {
            name: "Toolmaker Inc.",
            seller: true,
            customer_group: None,
            country: "US",
            region: Some("NY"),
            currency: "USD",
        },
    )
    .await
    .expect("seller");
    let customer = seed::company(
        s,
        seed::NewCompany {
            name: "Acme Corp",
            seller: false,
            customer_group: Some("wholesale"),
            country: "US",
            region: Some("NY"),
            currency: "USD",
        },
    )
    .await
    .expect("customer");
    let user = |company: &str, email: &'static str, roles: &'static [&'static str]| {
        let company = company.to_owned();
        async move {
            seed::user(
                s,
                seed::NewUser {
                    company_id: &company,
                    email,
                    name: email,
                    password: PASSWORD,
                    roles,
                    unit_id: None,
                    manager_id: None,
                },
            )
            .await
            .expect("user")
        }
    };
    let buyer = user(&customer, "buyer@acme.test", &["buyer"]).await;
    let approver = user(&customer, "approver@acme.test", &["approver"]).await;
    let rep = user(&seller, "rep@toolmaker.test", &["sales_rep"]).await;
    World { seller, customer, buyer, approver, rep }
}

/// Runs a test body on SQLite and on PostgreSQL, each on a fresh database.
#[macro_export]
macro_rules! both_databases {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = harness::TestApp::new(harness::Backend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                $body(&app).await;
                app.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = harness::TestApp::new(harness::Backend::Postgres).await else {
                    return;
                };
                $body(&app).await;
                app.finish().await;
            }
        }
    };
}
