//! Integrations: a workflow's `call` action goes out as a webhook, signed, through an outbox.
//!
//! The call is written to `webhook_outbox` in the transaction of the transition that made it,
//! so a transition never happens without its call, nor a call without its transition. A sender
//! leases due rows (so two servers never send the same one at once), POSTs each to its
//! integration's URL, and marks it delivered on a 2xx answer; otherwise it tries again later,
//! waiting twice as long each time (from 2 seconds up to an hour).
//!
//! Each request carries `Countersign-Webhook-Id` (the same on every retry, so a receiver can
//! ignore repeats), `Countersign-Timestamp` (Unix seconds) and `Countersign-Signature:
//! sha256=<hex>`, the HMAC-SHA256 of `<timestamp>.<body>` under the integration's secret.
//!
//! Webhooks go to public addresses only (unless the server runs with
//! `--allow-private-webhooks`): the host is resolved, and an address that is loopback,
//! private, link-local, shared or otherwise not public refuses the delivery. The check is made
//! by the resolver the connection uses, so a name cannot resolve to a public address for the
//! check and a private one for the connection. HTTPS receivers are verified by rustls against
//! Mozilla's roots and those of `--webhook-ca-file`.

use crate::db;
use crate::{
    AppState,
    auth::Caller,
    config::Config,
    error::{ApiError, Json, Path},
    util::now,
};
use axum::{
    extract::State,
    http::{Method, Request, header},
};
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{
        Client,
        connect::{HttpConnector, dns::Name},
    },
    rt::TokioExecutor,
};
use rustls::pki_types::{CertificateDer, pem::PemObject};
use serde::{Deserialize, Serialize};
use std::{
    future::Future,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

/// Whether an address is on the public internet: not loopback, private (RFC 1918, unique
/// local), link-local (which holds cloud metadata services), shared (carrier NAT),
/// unspecified, broadcast, multicast or documentation.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19)))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local())
            }
        },
    }
}

/// Why a webhook's host may not be called, if it may not.
fn refused(host: &str, ip: IpAddr) -> String {
    format!(
        "{host} is {ip}, not a public address: webhooks go to public addresses only \
         (run the server with --allow-private-webhooks for a receiver on its own network)"
    )
}

/// The resolver of the webhook client: the system's, refusing addresses that are not public.
#[derive(Clone, Debug)]
pub struct PublicOnly {
    allow_private: bool,
}

impl tower::Service<Name> for PublicOnly {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if !allow_private && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    refused(name.as_str(), bad.ip()),
                ));
            }
            Ok(addrs.into_iter())
        })
    }
}

/// The client webhooks are sent with: HTTP and HTTPS, through [`PublicOnly`].
pub type WebhookClient =
    Client<hyper_rustls::HttpsConnector<HttpConnector<PublicOnly>>, Full<bytes::Bytes>>;

/// The webhook client of a configuration: public roots (and `--webhook-ca-file`'s), TLS 1.2
/// and 1.3 by rustls. An unreadable CA file is an error naming it.
pub fn client(config: &Config) -> Result<WebhookClient, String> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(path) = &config.webhook_ca_file {
        let bad = |e: &dyn std::fmt::Display| format!("--webhook-ca-file {}: {e}", path.display());
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
            roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad(&"no certificate in the file"));
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new_with_resolver(PublicOnly {
        allow_private: config.allow_private_webhooks,
    });
    http.enforce_http(false);
    http.set_connect_timeout(Some(TIMEOUT));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// A lease on a due webhook: a sender that dies holding one lets another take it after this.
const LEASE_MS: i64 = 60_000;
/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait between two attempts.
const MAX_BACKOFF_MS: i64 = 3_600_000;

/// The signature of a webhook body: `sha256=` and the hex HMAC-SHA256 of `timestamp.body`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> Result<String, ApiError> {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).map_err(ApiError::internal)?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let bytes = mac.finalize().into_bytes();
    Ok(format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// The wait after `attempts` failed attempts: 2 s, 4 s, 8 s, ... up to an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(1, 21)).unwrap_or(21);
    2_000_i64.saturating_mul(1_i64 << exponent.saturating_sub(1)).min(MAX_BACKOFF_MS)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationInput {
    /// Where the webhooks go: `http://` or `https://`.
    pub url: String,
    /// The shared secret the signatures are made with: at least 16 characters.
    pub secret: String,
}

#[derive(Debug, Serialize)]
pub struct Integration {
    pub name: String,
    pub url: String,
    /// Webhooks waiting to be delivered (after failures, or not yet tried).
    pub pending: i64,
    pub last_error: Option<String>,
}

fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    if !caller.seller {
        return Err(ApiError::forbidden("integrations belong to the seller"));
    }
    caller.require_any(&["seller_admin"])
}

/// `PUT /api/integrations/{name}`: where a workflow's `call` action with this name goes, and
/// the secret its webhooks are signed with (seller admins).
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(input): Json<IntegrationInput>,
) -> Result<Json<Integration>, ApiError> {
    require_admin(&caller)?;
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name", "an integration name has 1 to 100 characters"));
    }
    let url = input.url.trim();
    let authority = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    if authority.is_none_or(|rest| rest.is_empty()) || url.parse::<axum::http::Uri>().is_err() {
        return Err(ApiError::invalid("url", "an http:// or https:// URL is required"));
    }
    if input.secret.chars().count() < 16 {
        return Err(ApiError::invalid("secret", "a secret has at least 16 characters"));
    }
    db::query(
        "INSERT INTO integrations (name, url, secret, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET url = $2, secret = $3, updated_at = $4",
    )
    .bind(&name)
    .bind(url)
    .bind(&input.secret)
    .bind(now().millis())
    .execute(&state.db.write)
    .await?;
    let all = list_all(&state).await?;
    all.into_iter()
        .find(|i| i.name == name)
        .map(Json)
        .ok_or_else(|| ApiError::internal("just saved"))
}

async fn list_all(state: &AppState) -> Result<Vec<Integration>, ApiError> {
    let rows = db::query(
        "SELECT i.name, i.url,
                (SELECT COUNT(*) FROM webhook_outbox w WHERE w.integration = i.name AND w.delivered_at IS NULL) AS pending,
                (SELECT w.last_error FROM webhook_outbox w WHERE w.integration = i.name AND w.last_error IS NOT NULL ORDER BY w.created_at DESC LIMIT 1) AS last_error
         FROM integrations i ORDER BY i.name",
    )
    .fetch_all(&state.db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Integration {
                name: r.try_get("name")?,
                url: r.try_get("url")?,
                pending: r.try_get("pending")?,
                last_error: r.try_get("last_error")?,
            })
        })
        .collect()
}

/// `GET /api/integrations`: the integrations, never their secrets (seller admins).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Integration>>, ApiError> {
    require_admin(&caller)?;
    Ok(Json(list_all(&state).await?))
}

/// What one sending round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub delivered: usize,
    pub failed: usize,
}

/// Sends the webhooks due at `at`, up to `batch` of them. Safe to run on several servers.
pub async fn deliver_due(state: &AppState, at: i64, batch: i64) -> Result<Sent, ApiError> {
    let candidates = db::query(
        "SELECT id FROM webhook_outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1 AND leased_until <= $2 ORDER BY created_at LIMIT $3",
    )
    .bind(at)
    .bind(at)
    .bind(batch)
    .fetch_all(&state.db.read)
    .await?;
    let allow_private = state.config.allow_private_webhooks;
    let client = client(&state.config).map_err(ApiError::internal)?;
    let mut sent = Sent::default();
    for row in candidates {
        let id: String = row.try_get("id")?;
        let leased = db::query(
            "UPDATE webhook_outbox SET leased_until = $1 WHERE id = $2 AND delivered_at IS NULL AND leased_until <= $3",
        )
        .bind(at.saturating_add(LEASE_MS))
        .bind(&id)
        .bind(at)
        .execute(&state.db.write)
        .await?;
        if leased.rows_affected() != 1 {
            continue;
        }
        let hook = db::query(
            "SELECT w.body, w.attempts, w.integration, i.url, i.secret FROM webhook_outbox w
             LEFT JOIN integrations i ON i.name = w.integration WHERE w.id = $1",
        )
        .bind(&id)
        .fetch_one(&state.db.read)
        .await?;
        let body: String = hook.try_get("body")?;
        let attempts: i64 = hook.try_get::<i64>("attempts")?.saturating_add(1);
        let integration: String = hook.try_get("integration")?;
        let outcome = match (
            hook.try_get::<Option<String>>("url")?,
            hook.try_get::<Option<String>>("secret")?,
        ) {
            (Some(url), Some(secret)) => {
                post(&client, allow_private, &url, &secret, &id, &body).await
            }
            _ => Err(format!("no integration named {integration:?} is configured")),
        };
        let done = now().millis();
        match outcome {
            Ok(()) => {
                db::query("UPDATE webhook_outbox SET delivered_at = $1, attempts = $2, last_error = NULL WHERE id = $3")
                    .bind(done)
                    .bind(attempts)
                    .bind(&id)
                    .execute(&state.db.write)
                    .await?;
                sent.delivered = sent.delivered.saturating_add(1);
            }
            Err(error) => {
                tracing::warn!(webhook = %id, %integration, attempts, "webhook not delivered: {error}");
                db::query("UPDATE webhook_outbox SET attempts = $1, last_error = $2, next_attempt_at = $3, leased_until = 0 WHERE id = $4")
                    .bind(attempts)
                    .bind(&error)
                    .bind(done.saturating_add(backoff_ms(attempts)))
                    .bind(&id)
                    .execute(&state.db.write)
                    .await?;
                sent.failed = sent.failed.saturating_add(1);
            }
        }
    }
    Ok(sent)
}

/// POSTs one webhook; `Err` with what went wrong unless the receiver answered 2xx in time.
async fn post(
    client: &WebhookClient,
    allow_private: bool,
    url: &str,
    secret: &str,
    id: &str,
    body: &str,
) -> Result<(), String> {
    // A host written as an address is connected to without resolving: check it here.
    let uri: axum::http::Uri = url.parse().map_err(|e| format!("{url} is not a URL: {e}"))?;
    let host = uri.host().unwrap_or_default();
    if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>()
        && !allow_private
        && !is_public(ip)
    {
        return Err(refused(host, ip));
    }
    let timestamp = now().millis() / 1_000;
    let signature = signature(secret, timestamp, body).map_err(|e| e.message)?;
    let request = Request::builder()
        .method(Method::POST)
        .uri(url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "Countersign-Webhooks/1")
        .header("countersign-webhook-id", id)
        .header("countersign-timestamp", timestamp.to_string())
        .header("countersign-signature", signature)
        .body(Full::new(bytes::Bytes::from(body.to_owned())))
        .map_err(|e| format!("cannot make the request: {e}"))?;
    let response = tokio::time::timeout(TIMEOUT, client.request(request))
        .await
        .map_err(|_| format!("no answer within {} s", TIMEOUT.as_secs()))?
        .map_err(|e| {
            // hyper's error says "client error (Connect)"; the reason is in its sources.
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(inner) = source {
                reason = format!("{reason}: {inner}");
                source = inner.source();
            }
            format!("cannot reach {url}: {reason}")
        })?;
    let status = response.status();
    // Read the answer so the connection can be reused.
    let _ = response.into_body().collect().await;
    if status.is_success() { Ok(()) } else { Err(format!("{url} answered {status}")) }
}

/// The sender: delivers due webhooks every `period`, until the process ends.
pub async fn run_sender(state: AppState, period: Duration) {
    loop {
        if let Err(e) = deliver_due(&state, now().millis(), 100).await {
            tracing::warn!("webhooks: {}", e.message);
        }
        tokio::time::sleep(period).await;
    }
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private} is not public");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public} is public");
        }
    }
}
