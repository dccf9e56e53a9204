//! Login, logout, CSRF, API tokens, rate limiting.

use super::*;
use axum::http::{Method, StatusCode};
use harness::{PASSWORD, world};
use serde_json::json;
use server::db;

async fn health_names_the_database(app: &TestApp) {
    let answer = app.client().get("/api/health").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(["sqlite", "postgres"].contains(&answer.body["database"].as_str().unwrap()));
}
both_databases!(health, health_names_the_database);

async fn login_sets_an_http_only_cookie_and_returns_a_csrf_token(app: &TestApp) {
    let w = world(app).await;
    let mut c = app.client();
    assert_eq!(c.get("/api/session").await.status, StatusCode::UNAUTHORIZED);
    let answer = c.login("Buyer@Acme.test", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let cookie = answer.set_cookie.unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert_eq!(answer.body["user_id"], json!(w.buyer));
    assert_eq!(answer.body["roles"], json!(["buyer"]));
    assert_eq!(answer.body["seller"], json!(false));
    assert_eq!(answer.body["csrf_token"].as_str().unwrap().len(), 32);
    let me = c.get("/api/session").await;
    assert_eq!(me.body["email"], json!("buyer@acme.test"));

    // Logging out needs the CSRF token, then ends the session.
    let mut without_csrf = c.clone();
    without_csrf.csrf = None;
    let refused = without_csrf.send(Method::DELETE, "/api/session", None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body["error"]["code"], json!("csrf"));
    assert_eq!(c.send(Method::DELETE, "/api/session", None).await.status, StatusCode::NO_CONTENT);
    let mut old = app.client();
    old.cookie = without_csrf.cookie.clone();
    assert_eq!(old.get("/api/session").await.status, StatusCode::UNAUTHORIZED);
}
both_databases!(login, login_sets_an_http_only_cookie_and_returns_a_csrf_token);

async fn wrong_passwords_are_refused_then_rate_limited(app: &TestApp) {
    world(app).await;
    let mut c = app.client();
    for _ in 0..5 {
        let answer = c.login("buyer@acme.test", "wrong").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.body["error"]["code"], json!("bad_credentials"));
    }
    let answer = c.login("buyer@acme.test", PASSWORD).await;
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits out the window"
    );
    // An unknown account gets the same answer as a wrong password.
    let answer = c.login("nobody@acme.test", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.body["error"]["message"], json!("wrong email or password"));
}
both_databases!(rate_limit, wrong_passwords_are_refused_then_rate_limited);

/// Wrong passwords sent all at once each count: a burst of 12 gets 5 refusals for the
/// password and the rest for the limit, and the account is then locked, the right password too.
async fn a_burst_of_wrong_passwords_counts_every_one(app: &TestApp) {
    world(app).await;
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let mut c = app.client();
        attempts.spawn(async move { c.login("buyer@acme.test", "wrong").await.status });
    }
    let statuses = attempts.join_all().await;
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    assert_eq!((refused, limited), (5, 7), "{statuses:?}");
    let mut c = app.client();
    assert_eq!(c.login("buyer@acme.test", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
}
both_databases!(rate_limit_burst, a_burst_of_wrong_passwords_counts_every_one);

async fn one_address_trying_many_accounts_is_limited(app: &TestApp) {
    world(app).await;
    // Password spraying: one wrong password on many accounts, from one address, stays under
    // every account's limit; the address's limit stops it.
    let mut sprayer = app.client();
    sprayer.from = Some("127.0.0.9".parse().unwrap());
    for i in 0..30 {
        let answer = sprayer.login(&format!("user{i}@acme.test"), "Summer2026!").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let answer = sprayer.login("buyer@acme.test", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", answer.body);
    assert_eq!(answer.body["error"]["code"], json!("too_many_attempts"));
    // Another address, and the account itself, are not affected.
    let mut other = app.client();
    other.from = Some("127.0.0.20".parse().unwrap());
    assert_eq!(other.login("buyer@acme.test", PASSWORD).await.status, StatusCode::OK);
}
both_databases!(address_rate_limit, one_address_trying_many_accounts_is_limited);

async fn behind_the_proxy_the_limit_sees_the_clients(app: &TestApp) {
    world(app).await;
    // The trusted proxy of the tests' configuration.
    let proxy: std::net::IpAddr = "127.0.0.10".parse().unwrap();
    let via_proxy = |client: &str| {
        let mut c = app.client();
        c.from = Some(proxy);
        c.forwarded_for = Some(format!("192.0.2.1, {client}"));
        c
    };
    let mut sprayer = via_proxy("203.0.113.9");
    for i in 0..30 {
        let answer = sprayer.login(&format!("user{i}@acme.test"), "Summer2026!").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    assert_eq!(
        sprayer.login("buyer@acme.test", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client through the same proxy is not locked out with the sprayer.
    assert_eq!(
        via_proxy("198.51.100.20").login("buyer@acme.test", PASSWORD).await.status,
        StatusCode::OK
    );
    // A client that is not a trusted proxy cannot pass for another address: its own counts.
    let mut forger = app.client();
    forger.from = Some("127.0.0.77".parse().unwrap());
    forger.forwarded_for = Some("198.51.100.20".into());
    assert_eq!(forger.login("buyer@acme.test", PASSWORD).await.status, StatusCode::OK);
    let mut pretender = app.client();
    pretender.from = Some("127.0.0.78".parse().unwrap());
    pretender.forwarded_for = Some("203.0.113.9".into());
    assert_eq!(pretender.login("buyer@acme.test", PASSWORD).await.status, StatusCode::OK);
}
both_databases!(proxied_rate_limit, behind_the_proxy_the_limit_sees_the_clients);

async fn bad_bodies_get_the_error_format_with_the_field(app: &TestApp) {
    let mut c = app.client();
    let answer = c.post("/api/session", json!({ "email": "a@b.c" })).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["error"]["code"], json!("invalid"));
    assert!(answer.body["error"]["message"].as_str().unwrap().contains("missing field `password`"));
    let answer = c.post("/api/session", json!({ "email": 5, "password": "x" })).await;
    assert_eq!(answer.body["error"]["field"], json!("email"));
    let answer = c.send(Method::POST, "/api/session", None).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}
both_databases!(bad_bodies, bad_bodies_get_the_error_format_with_the_field);

async fn api_tokens_act_as_their_user_without_csrf(app: &TestApp) {
    let w = world(app).await;
    let mut c = app.client();
    c.login("rep@toolmaker.test", PASSWORD).await;
    let created = c.post("/api/tokens", json!({ "name": "ERP export" })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let token = created.body["token"].as_str().unwrap().to_owned();
    let mut integration = app.client();
    integration.bearer = Some(token);
    let me = integration.get("/api/session").await;
    assert_eq!(me.body["user_id"], json!(w.rep));
    assert_eq!(me.body["seller"], json!(true));
    assert!(me.body.get("csrf_token").is_none());
    let mut forged = app.client();
    forged.bearer = Some("cs_forged".into());
    assert_eq!(forged.get("/api/session").await.status, StatusCode::UNAUTHORIZED);
    // A token cannot make another (which would outlive its revocation); nothing is stored.
    let minted = integration.post("/api/tokens", json!({ "name": "copy" })).await;
    assert_eq!(minted.status, StatusCode::FORBIDDEN, "{:?}", minted.body);

    // It ends: 90 days unless asked, 1 to 366; its owner lists and revokes their own.
    let day = 86_400_000i64;
    let created_at = created.body["expires_at"].as_i64().unwrap() - 90 * day;
    assert!((server::util::now().millis() - created_at).abs() < 60_000, "{:?}", created.body);
    let long = c.post("/api/tokens", json!({ "name": "forever", "expires_in_days": 400 })).await;
    assert_eq!(long.body["error"]["field"], json!("expires_in_days"), "{:?}", long.body);
    let short = c.post("/api/tokens", json!({ "name": "nightly", "expires_in_days": 1 })).await;
    assert_eq!(short.status, StatusCode::CREATED);
    let listed = c.get("/api/tokens").await;
    let names: Vec<&str> = listed.body["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["nightly", "ERP export"], "{:?}", listed.body);
    assert!(!listed.body.to_string().contains("cs_"), "never the secret");
    assert!(listed.body["tokens"][1]["last_used_at"].is_i64(), "{:?}", listed.body);
    // Someone else cannot see or revoke it; its owner can, and it stops at once.
    let mut other = app.client();
    other.login("buyer@acme.test", PASSWORD).await;
    assert_eq!(other.get("/api/tokens").await.body["tokens"], json!([]));
    let id = created.body["id"].as_str().unwrap();
    let theirs = other.send(Method::DELETE, &format!("/api/tokens/{id}"), None).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(integration.get("/api/session").await.status, StatusCode::OK);
    let revoked = c.send(Method::DELETE, &format!("/api/tokens/{id}"), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(integration.get("/api/session").await.status, StatusCode::UNAUTHORIZED);
    // A token past its end is refused.
    let mut nightly = app.client();
    nightly.bearer = Some(short.body["token"].as_str().unwrap().to_owned());
    assert_eq!(nightly.get("/api/session").await.status, StatusCode::OK);
    db::query("UPDATE api_tokens SET expires_at = $1 WHERE id = $2")
        .bind(server::util::now().millis() - 1)
        .bind(short.body["id"].as_str().unwrap())
        .execute(&app.state.db.write)
        .await
        .unwrap();
    assert_eq!(nightly.get("/api/session").await.status, StatusCode::UNAUTHORIZED);
}
both_databases!(tokens, api_tokens_act_as_their_user_without_csrf);

async fn every_answer_has_a_request_id_and_is_counted(app: &TestApp) {
    let mut c = app.client();
    let answer = c.get("/api/health").await;
    assert_eq!(answer.request_id.map(|id| id.len()), Some(36));
    c.get("/api/session").await;
    let metrics = c.get("/metrics").await;
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains(
            r#"countersign_http_requests_total{method="GET",route="/api/health",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"countersign_http_requests_total{method="GET",route="/api/session",status="401"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"countersign_http_request_duration_seconds_count{method="GET",route="/api/health"} 1"#
        ),
        "{text}"
    );
    // SQLite's writer tells how many commits it made (the test world's data took some).
    let sqlite = app.state.db.dialect == server::Dialect::Sqlite;
    assert_eq!(text.contains("countersign_sqlite_commit_groups_total "), sqlite, "{text}");
    assert_eq!(c.get("/api/nothing-here").await.status, StatusCode::NOT_FOUND);
}
both_databases!(observability, every_answer_has_a_request_id_and_is_counted);
