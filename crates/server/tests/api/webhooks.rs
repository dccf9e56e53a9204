//! A workflow's `call` action goes out as a signed webhook to a real HTTP receiver on loopback;
//! a receiver that fails is tried again later, and the same webhook id comes back.

use super::{
    both_databases,
    harness::{self, Client, PASSWORD, TestApp},
    shop::shop,
};
use axum::{
    Router,
    body::Bytes,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use serde_json::{Value, json};
use server::db;
use server::webhooks::{Sent, backoff_ms, deliver_due, signature};
use std::sync::{Arc, Mutex};

const SEED_WORKFLOW: &str = include_str!("../../demo/order-workflow.json");
const SECRET: &str = "a shared secret of the ERP";

async fn logged_in(app: &TestApp, email: &str) -> Client {
    let mut c = app.client();
    let answer = c.login(email, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{email}: {:?}", answer.body);
    c
}

/// What the receiver saw: each request's headers and body, and whether it was accepted.
#[derive(Default)]
struct Received {
    requests: Vec<(HeaderMap, String, bool)>,
    /// Answer 503 to this many requests first.
    fail_first: usize,
}

async fn receiver(seen: Arc<Mutex<Received>>) -> String {
    let app = Router::new().route(
        "/erp/hooks",
        post(move |headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().unwrap();
                let accept = seen.requests.len() >= seen.fail_first;
                seen.requests.push((headers, String::from_utf8_lossy(&body).into_owned(), accept));
                if accept { StatusCode::NO_CONTENT } else { StatusCode::SERVICE_UNAVAILABLE }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/erp/hooks")
}

/// The seed order workflow, published by the seller's admin (who is returned, logged in).
async fn published_seed(app: &TestApp) -> Client {
    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    let def: Value = serde_json::from_str(SEED_WORKFLOW).unwrap();
    assert_eq!(admin.post("/api/workflows", def).await.status, StatusCode::CREATED);
    let published = admin.post("/api/workflows/b2b-order/versions/1/publish", json!({})).await;
    assert_eq!(published.status, StatusCode::OK);
    admin
}

/// Configures the ERP integration the seed workflow calls.
async fn put_integration(admin: &mut Client, url: &str, secret: &str) -> harness::Answer {
    let body = json!({ "url": url, "secret": secret });
    admin.send(axum::http::Method::PUT, "/api/integrations/erp.order-export", Some(body)).await
}

/// An order of 2,500.00 USD on the seed workflow, submitted by Pat and approved by Blake: the
/// approval's `call` action puts a webhook in the outbox.
async fn approved_order(app: &TestApp, order: &str) {
    let mut pat = logged_in(app, "pat@acme.test").await;
    let started = pat
        .post(
            "/api/workflow-instances",
            json!({ "entity": "order", "entity_id": order, "fields": { "order.total": { "money": { "amount": "2500.00", "currency": "USD" } } } }),
        )
        .await;
    let id = started.body["id"].as_str().unwrap().to_owned();
    let submit = format!("/api/workflow-instances/{id}/transitions/submit");
    assert_eq!(pat.post(&submit, json!({ "revision": 1 })).await.status, StatusCode::OK);
    let mut blake = logged_in(app, "blake@acme.test").await;
    let approve = format!("/api/workflow-instances/{id}/transitions/approve");
    let approved = blake.post(&approve, json!({ "revision": 2 })).await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
}

async fn approvals_call_the_erp(app: &TestApp) {
    let _shop = shop(app).await;
    let mut admin = published_seed(app).await;

    let seen = Arc::new(Mutex::new(Received { fail_first: 1, ..Received::default() }));
    let url = receiver(seen.clone()).await;
    // Bad configurations are refused, naming the field.
    let bad = put_integration(&mut admin, "ftp://erp", SECRET).await;
    assert_eq!(bad.body["error"]["field"], json!("url"));
    let short = put_integration(&mut admin, &url, "short").await;
    assert_eq!(short.body["error"]["field"], json!("secret"));
    let configured = put_integration(&mut admin, &url, SECRET).await;
    assert_eq!(configured.status, StatusCode::OK, "{:?}", configured.body);
    assert!(configured.body.get("secret").is_none(), "the secret is never shown");

    // An order is submitted and approved: the approval calls the ERP.
    approved_order(app, "ord-77").await;

    // A server left with its default refuses to call an address on its own network (the
    // receiver is on loopback): nothing is sent, and the row says why.
    let strict = app.second_server_with(|c| c.allow_private_webhooks = false).await;
    let at = server::util::now().millis();
    assert_eq!(deliver_due(&strict, at, 10).await.unwrap(), Sent { delivered: 0, failed: 1 });
    let error: String = db::query("SELECT last_error FROM webhook_outbox")
        .fetch_one(&app.state.db.read)
        .await
        .and_then(|row| row.try_get("last_error"))
        .unwrap();
    assert!(error.contains("127.0.0.1 is 127.0.0.1, not a public address"), "{error}");
    assert!(seen.lock().unwrap().requests.is_empty());
    strict.db.close().await;
    db::query("UPDATE webhook_outbox SET attempts = 0, last_error = NULL, next_attempt_at = 0")
        .execute(&app.state.db.write)
        .await
        .unwrap();

    // The first attempt fails (503): tried again after the backoff, not before.
    let at = server::util::now().millis();
    assert_eq!(deliver_due(&app.state, at, 10).await.unwrap(), Sent { delivered: 0, failed: 1 });
    assert_eq!(deliver_due(&app.state, at + 1, 10).await.unwrap(), Sent::default());
    let row = db::query("SELECT attempts, last_error FROM webhook_outbox")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    assert_eq!(row.try_get::<i64>("attempts").unwrap(), 1);
    assert!(row.try_get::<String>("last_error").unwrap().contains("503"));
    let later = server::util::now().millis() + backoff_ms(1) + 1;
    assert_eq!(deliver_due(&app.state, later, 10).await.unwrap(), Sent { delivered: 1, failed: 0 });
    assert_eq!(deliver_due(&app.state, later + 3_600_000, 10).await.unwrap(), Sent::default());

    // Both requests carry the same webhook id and a signature that verifies with the secret.
    let requests = std::mem::take(&mut seen.lock().unwrap().requests);
    assert_eq!(requests.len(), 2);
    let ids: Vec<&str> =
        requests.iter().map(|(h, _, _)| h["countersign-webhook-id"].to_str().unwrap()).collect();
    assert_eq!(ids[0], ids[1]);
    for (headers, body, _) in &requests {
        let timestamp: i64 = headers["countersign-timestamp"].to_str().unwrap().parse().unwrap();
        let expected = signature(SECRET, timestamp, body).unwrap();
        assert_eq!(headers["countersign-signature"].to_str().unwrap(), expected);
        assert_ne!(signature("another secret....", timestamp, body).unwrap(), expected);
        let hook: Value = serde_json::from_str(body).unwrap();
        assert_eq!(hook["transition"], json!("approve"));
        assert_eq!(hook["instance"]["entity_id"], json!("ord-77"));
        assert_eq!(hook["to"], json!("approved"));
    }
    // Independently of our code: HMAC-SHA256 of "timestamp.body" in hex.
    use hmac::Mac;
    let (headers, body, _) = &requests[1];
    let timestamp = headers["countersign-timestamp"].to_str().unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(headers["countersign-signature"].to_str().unwrap(), format!("sha256={hex}"));

    // Only the seller's admins see and change integrations.
    let mut rita = logged_in(app, "rep@toolmaker.test").await;
    assert_eq!(rita.get("/api/integrations").await.status, StatusCode::FORBIDDEN);
    let listed = admin.get("/api/integrations").await;
    assert_eq!(listed.body[0]["pending"], json!(0));
    let _ = harness::PASSWORD;
}
both_databases!(webhooks_signed_and_retried, approvals_call_the_erp);

/// An HTTPS receiver on loopback for `localhost`, certified by a CA of its own (written to a
/// PEM file): answers 204 to every request and keeps the bodies.
async fn tls_receiver(seen: Arc<Mutex<Vec<String>>>) -> (String, std::path::PathBuf) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let ca = std::env::temp_dir().join(format!("countersign-ca-{}.pem", uuid::Uuid::now_v7()));
    std::fs::write(&ca, cert.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key_pair.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), seen.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate ends the handshake.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                let body = loop {
                    let n = tls.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).into_owned();
                    let Some((head, body)) = text.split_once("\r\n\r\n") else { continue };
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        break body.to_owned();
                    }
                };
                seen.lock().unwrap().push(body);
                let _ =
                    tls.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (format!("https://localhost:{port}/erp/hooks"), ca)
}

async fn https_receivers(app: &TestApp) {
    let _shop = shop(app).await;
    let mut admin = published_seed(app).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (url, ca) = tls_receiver(seen.clone()).await;
    let configured = put_integration(&mut admin, &url, SECRET).await;
    assert_eq!(configured.status, StatusCode::OK, "{:?}", configured.body);
    approved_order(app, "ord-78").await;

    // The receiver's certificate is not from a public CA: refused, and nothing arrives.
    let at = server::util::now().millis();
    assert_eq!(deliver_due(&app.state, at, 10).await.unwrap(), Sent { delivered: 0, failed: 1 });
    let error: String = db::query("SELECT last_error FROM webhook_outbox")
        .fetch_one(&app.state.db.read)
        .await
        .and_then(|row| row.try_get("last_error"))
        .unwrap();
    assert!(error.contains("certificate"), "{error}");
    assert!(seen.lock().unwrap().is_empty());

    // With its CA given, the same receiver is trusted: delivered over TLS, signed.
    let trusting = app.second_server_with(|c| c.webhook_ca_file = Some(ca.clone())).await;
    let later = server::util::now().millis() + backoff_ms(1) + 1;
    assert_eq!(deliver_due(&trusting, later, 10).await.unwrap(), Sent { delivered: 1, failed: 0 });
    let bodies = seen.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1);
    let hook: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(hook["instance"]["entity_id"], json!("ord-78"));
    trusting.db.close().await;

    // A CA file without a certificate is an error naming the file.
    std::fs::write(&ca, "not a certificate").unwrap();
    let mut config = app.state.config.clone();
    config.webhook_ca_file = Some(ca.clone());
    let err = server::webhooks::client(&config).err().unwrap();
    assert!(err.contains("--webhook-ca-file") && err.contains("countersign-ca-"), "{err}");
    let _ = std::fs::remove_file(&ca);
}
both_databases!(webhooks_over_https, https_receivers);

#[test]
fn backoff_doubles_up_to_an_hour() {
    assert_eq!(backoff_ms(1), 2_000);
    assert_eq!(backoff_ms(2), 4_000);
    assert_eq!(backoff_ms(5), 32_000);
    assert_eq!(backoff_ms(40), 3_600_000);
}
