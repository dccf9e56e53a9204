//! Countersign's server: a thin axum backend around the `rules` crate.
//!
//! It authenticates, stores and notifies; it never decides. Prices, approval routes and
//! workflow transitions come from `rules`, computed from the server's own data, whatever the
//! client claims. `app(state)` builds the whole HTTP application, so tests drive it without a
//! socket and `main.rs` only parses configuration and starts things.

pub mod auth;
pub mod catalog;
pub mod companies;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod instances;
pub mod metrics;
pub mod migrations;
pub mod notifications;
pub mod orders;
pub mod paging;
pub mod seed;
pub mod units;
pub mod users;
pub mod util;
pub mod webhooks;
pub mod workflows;

use axum::{
    Router,
    http::HeaderName,
    middleware,
    routing::{MethodRouter, delete, get, post, put},
};
use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};
use tower::ServiceBuilder;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    services::{ServeDir, ServeFile},
    trace::TraceLayer,
};

pub use config::Config;
pub use db::{Db, Dialect};

/// A company's approval context with the policy and directory versions it was built from.
pub type CachedApproval = (i64, i64, Arc<rules::approval::ApprovalContext>);

/// What every handler can reach. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub db: Db,
    pub config: Config,
    pub passwords: auth::Passwords,
    /// The pricing data of the latest versions read, newest first (`catalog::at_version`).
    pub pricing_cache: RwLock<Vec<(i64, Arc<rules::pricing::PricingContext>)>>,
    /// The latest pricing version this instance read or published, and when
    /// (`catalog::recent`).
    pub pricing_latest: RwLock<Option<(std::time::Instant, i64)>>,
    /// Each company's approval context, by policy version and directory version.
    pub approval_cache: RwLock<HashMap<String, CachedApproval>>,
    /// Published workflow versions, compiled (they never change once published).
    pub workflow_cache: RwLock<HashMap<(String, u32), Arc<rules::workflow::Workflow>>>,
    /// The built-in order workflow is stored (see `orders::workflow::ensure_default`).
    pub default_workflow_stored: std::sync::atomic::AtomicBool,
    /// The published order workflows new orders choose from, with the number of published
    /// versions they were read at (read with the company at each submission, so a publish on
    /// any server instance is seen by the next submission everywhere).
    pub order_workflows: RwLock<Option<(i64, Arc<Vec<rules::workflow::WorkflowDefinition>>)>>,
    pub metrics: metrics::Metrics,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(db: Db, config: Config, passwords: auth::Passwords) -> AppState {
        AppState(Arc::new(Inner {
            db,
            config,
            passwords,
            pricing_cache: RwLock::new(Vec::new()),
            pricing_latest: RwLock::new(None),
            approval_cache: RwLock::new(HashMap::new()),
            workflow_cache: RwLock::new(HashMap::new()),
            default_workflow_stored: std::sync::atomic::AtomicBool::new(false),
            order_workflows: RwLock::new(None),
            metrics: metrics::Metrics::default(),
        }))
    }
}

/// `GET /api/health`: the server is up and its database answers.
async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<error::Json<serde_json::Value>, error::ApiError> {
    db::query("SELECT 1").execute(&state.db.read).await?;
    let database = match state.db.dialect {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgres",
    };
    Ok(error::Json(serde_json::json!({ "status": "ok", "database": database })))
}

/// The OpenAPI document of the JSON API, served at `/api/openapi.json`. A test checks that it
/// lists exactly the routes below, with exactly their methods.
pub const OPENAPI: &str = include_str!("../api/openapi.json");

async fn openapi() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// The JSON API's routes, under `/api`.
pub fn api_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/health", get(health)),
        ("/openapi.json", get(openapi)),
        ("/session", get(auth::me).post(auth::login).delete(auth::logout)),
        ("/session/password", put(auth::change_password)),
        ("/tokens", post(auth::create_token).get(auth::list_tokens)),
        ("/tokens/{id}", delete(auth::revoke_token)),
        ("/catalog", get(catalog::search)),
        ("/catalog/document", get(catalog::document).put(catalog::replace)),
        ("/companies", get(companies::list)),
        ("/companies/{id}", get(companies::get)),
        ("/companies/{id}/directory", get(companies::get_directory)),
        ("/companies/{id}/sales-rep", put(companies::put_sales_rep)),
        ("/companies/{id}/users", get(users::list).post(users::add)),
        ("/companies/{id}/users/{user}", put(users::change).delete(users::remove)),
        ("/companies/{id}/units", post(units::add)),
        ("/companies/{id}/units/{unit}", put(units::change).delete(units::remove)),
        ("/companies/{id}/policy", get(companies::get_policy).put(companies::put_policy)),
        ("/companies/{id}/approvals", get(orders::waiting)),
        ("/cart", get(orders::get_cart).put(orders::put_cart)),
        ("/checkout/context", get(orders::context)),
        ("/checkout/preview", get(orders::preview)),
        ("/orders", get(orders::list).post(orders::submit)),
        ("/orders/states", get(orders::states)),
        ("/orders/{id}", get(orders::get).put(orders::change)),
        ("/orders/{id}/decisions", post(orders::decide)),
        ("/orders/{id}/handovers", post(orders::hand_over)),
        ("/orders/{id}/transitions/{transition}", post(orders::fire)),
        ("/approvals", get(orders::queue)),
        ("/notifications", get(notifications::list)),
        ("/notifications/read-all", post(notifications::mark_all_read)),
        ("/notifications/{id}/read", post(notifications::mark_read)),
        ("/mail", get(notifications::mail)),
        ("/workflows", get(workflows::list).post(workflows::create)),
        ("/workflows/check", post(workflows::check)),
        ("/workflows/resolve", get(workflows::resolve)),
        ("/workflows/{id}", get(workflows::get)),
        ("/workflows/{id}/draft", put(workflows::save_draft)),
        ("/workflows/{id}/migrations", post(migrations::migrate)),
        ("/workflows/{id}/migrations/preview", post(migrations::preview)),
        ("/workflows/{id}/versions/{version}", get(workflows::version)),
        ("/workflows/{id}/versions/{version}/publish", post(workflows::publish)),
        ("/integrations", get(webhooks::list)),
        ("/integrations/{name}", put(webhooks::put)),
        ("/workflow-instances", post(instances::start)),
        ("/workflow-instances/{id}", get(instances::get)),
        ("/workflow-instances/{id}/events", post(instances::event)),
        ("/workflow-instances/{id}/transitions/{transition}", post(instances::fire)),
    ]
}

/// The whole HTTP application: the JSON API under `/api`, `/metrics`, and the app's files
/// (precompressed, with `index.html` for every other path so the app's routes load).
pub fn app(state: AppState) -> Router {
    let api = api_routes().into_iter().fold(Router::new(), |r, (path, route)| r.route(path, route));
    let dir = state.config.static_dir.clone();
    let files = ServeDir::new(&dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(ServeFile::new(dir.join("index.html")).precompressed_br().precompressed_gzip());
    // The workflow editor is an app of its own under /editor/, with its own index.html.
    let editor_dir = dir.join("editor");
    let editor = ServeDir::new(&editor_dir).precompressed_br().precompressed_gzip().fallback(
        ServeFile::new(editor_dir.join("index.html")).precompressed_br().precompressed_gzip(),
    );
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .nest("/api", api)
        .route("/metrics", get(metrics::expose))
        .nest_service("/editor", editor)
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(state.clone(), metrics::record))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
                }))
                .layer(PropagateRequestIdLayer::new(request_id)),
        )
        .with_state(state)
}
