//! Prometheus metrics at `/metrics`: requests by route and status, their latency, and a few
//! business counters. Kept in process; each server instance reports its own.

use crate::AppState;
use axum::{
    extract::{MatchedPath, Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::{collections::BTreeMap, fmt::Write, sync::Mutex, time::Instant};

/// Latency buckets, in seconds.
const BUCKETS: [f64; 11] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Debug, Default)]
struct Route {
    /// Count per status code.
    statuses: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The process's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String), Route>>,
    counters: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub fn count(&self, name: &'static str) {
        if let Ok(mut c) = self.counters.lock() {
            *c.entry(name).or_default() += 1;
        }
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut routes) = self.routes.lock() else { return };
        let r = routes.entry((method.to_owned(), route.to_owned())).or_default();
        *r.statuses.entry(status).or_default() += 1;
        r.count += 1;
        r.sum += seconds;
        for (bucket, le) in r.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= le {
                *bucket += 1;
            }
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP countersign_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE countersign_http_requests_total counter");
        let routes = self
            .routes
            .lock()
            .map(|r| {
                r.iter()
                    .map(|(k, v)| (k.clone(), v.statuses.clone(), v.buckets, v.count, v.sum))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for ((method, route), statuses, _, _, _) in &routes {
            for (status, n) in statuses {
                let _ = writeln!(
                    out,
                    "countersign_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP countersign_http_request_duration_seconds HTTP request latency by route."
        );
        let _ = writeln!(out, "# TYPE countersign_http_request_duration_seconds histogram");
        for ((method, route), _, buckets, count, sum) in &routes {
            for (le, n) in BUCKETS.iter().zip(buckets) {
                let _ = writeln!(
                    out,
                    "countersign_http_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "countersign_http_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "countersign_http_request_duration_seconds_sum{{method=\"{method}\",route=\"{route}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "countersign_http_request_duration_seconds_count{{method=\"{method}\",route=\"{route}\"}} {count}"
            );
        }
        let counters = self.counters.lock().map(|c| c.clone()).unwrap_or_default();
        for (name, n) in counters {
            let _ = writeln!(out, "# TYPE countersign_{name}_total counter");
            let _ = writeln!(out, "countersign_{name}_total {n}");
        }
        out
    }
}

/// Middleware: times every request under its route template.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`.
pub async fn expose(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    if let Some(groups) = state.db.sqlite_commit_groups() {
        let _ = writeln!(
            text,
            "# HELP countersign_sqlite_commit_groups_total Commits of SQLite's writer (each may hold several transactions)."
        );
        let _ = writeln!(text, "# TYPE countersign_sqlite_commit_groups_total counter");
        let _ = writeln!(text, "countersign_sqlite_commit_groups_total {groups}");
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
