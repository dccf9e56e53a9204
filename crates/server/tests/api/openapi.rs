//! The OpenAPI document tells the truth: it lists exactly the routes the server has, each with
//! exactly its methods; what an unauthenticated caller gets is documented; every reference
//! resolves; and it is what `/api/openapi.json` serves.

use super::*;
use axum::http::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;

fn document() -> Value {
    serde_json::from_str(server::OPENAPI).expect("the OpenAPI document is JSON")
}

fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => references(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

#[test]
fn documents_exactly_the_served_paths() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let mut served: BTreeSet<String> =
        server::api_routes().into_iter().map(|(path, _)| format!("/api{path}")).collect();
    served.insert("/metrics".into());
    assert_eq!(documented, served, "documented paths vs served paths");
}

#[test]
fn every_reference_resolves() {
    let doc = document();
    let mut refs = Vec::new();
    references(&doc, &mut refs);
    assert!(refs.len() > 50, "{} references", refs.len());
    for r in refs {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r}"));
        assert!(doc["components"]["schemas"].get(name).is_some(), "{r} does not resolve");
    }
}

#[tokio::test]
async fn documents_exactly_the_methods_and_the_unauthenticated_answers() {
    let doc = document();
    let app = TestApp::new(harness::Backend::Sqlite).await.unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path.replace("{id}", "x");
        for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
            let answer = app.client().send(method.clone(), &concrete, None).await;
            let Some(operation) = item.get(method.as_str().to_lowercase()) else {
                assert_eq!(
                    answer.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is served but not documented"
                );
                continue;
            };
            assert_ne!(
                answer.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not served"
            );
            let public = operation.get("security").is_some_and(|s| s == &serde_json::json!([]));
            if !public {
                assert_eq!(
                    answer.status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} without login"
                );
                assert_eq!(answer.body["error"]["code"], "unauthenticated");
            }
            assert!(
                operation["responses"].get(answer.status.as_str()).is_some(),
                "{method} {path} answered {} without login, which its responses do not document",
                answer.status
            );
        }
    }
    let served = app.client().get("/api/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body, doc);
    app.finish().await;
}
