//! Workflow definitions: drafts and published versions, validation blocking publication, scope
//! resolution, YAML import and export, and who may do what.

use super::{
    both_databases,
    harness::{self, Client, PASSWORD, TestApp},
    shop::shop,
};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

async fn logged_in(app: &TestApp, email: &str) -> Client {
    let mut c = app.client();
    let answer = c.login(email, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{email}: {:?}", answer.body);
    c
}

/// A small order workflow: draft → submitted → approved or rejected.
fn definition(id: &str, scope: Value) -> Value {
    json!({
        "id": id, "version": 7, "name": format!("Workflow {id}"), "entity": "order", "scope": scope,
        "states": [
            { "id": "draft", "label": "Draft", "start": true },
            { "id": "submitted", "label": "Submitted" },
            { "id": "approved", "label": "Approved", "terminal": true },
            { "id": "rejected", "label": "Rejected", "terminal": true }
        ],
        "transitions": [
            { "id": "submit", "from": "draft", "to": "submitted", "label": "Submit", "roles": ["buyer"] },
            { "id": "approve", "from": "submitted", "to": "approved", "label": "Approve", "roles": ["approver"] },
            { "id": "reject", "from": "submitted", "to": "rejected", "label": "Reject", "roles": ["approver"] }
        ]
    })
}

async fn resolve(c: &mut Client, customer: &str) -> Value {
    let answer = c.get(&format!("/api/workflows/resolve?entity=order&customer={customer}")).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body["workflow"].clone()
}

async fn drafts_publish_and_stay_pinned(app: &TestApp) {
    let shop = shop(app).await;
    let mut admin = logged_in(app, "admin@toolmaker.test").await;

    // Created as draft version 1, whatever version the document says.
    let created = admin.post("/api/workflows", definition("b2b", json!("all"))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["version"], json!(1));
    assert_eq!(created.body["status"], json!("draft"));
    assert_eq!(created.body["diagnostics"], json!([]));
    let again = admin.post("/api/workflows", definition("b2b", json!("all"))).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["error"]["field"], json!("id"));

    // Nothing is published yet, so nothing applies.
    assert_eq!(resolve(&mut admin, &shop.customer).await, Value::Null);
    let published = admin.post("/api/workflows/b2b/versions/1/publish", json!({})).await;
    assert_eq!(published.status, StatusCode::OK, "{:?}", published.body);
    assert_eq!(published.body["status"], json!("published"));
    let twice = admin.post("/api/workflows/b2b/versions/1/publish", json!({})).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(resolve(&mut admin, &shop.customer).await["version"], json!(1));

    // The next draft: an unreachable state is saved (work in progress), with its error.
    let mut next = definition("b2b", json!("all"));
    next["states"].as_array_mut().unwrap().push(json!({ "id": "limbo", "label": "Limbo" }));
    let saved = admin.send(Method::PUT, "/api/workflows/b2b/draft", Some(next.clone())).await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);
    assert_eq!(saved.body["version"], json!(2));
    let problems = saved.body["diagnostics"].as_array().unwrap();
    assert!(
        problems.iter().any(|d| d["severity"] == json!("error") && d["path"] == json!("states[4]")),
        "{problems:?}"
    );
    // Saving again replaces the draft rather than adding versions.
    let resaved = admin.send(Method::PUT, "/api/workflows/b2b/draft", Some(next.clone())).await;
    assert_eq!(resaved.body["version"], json!(2));
    // Errors block publishing, and nothing changes.
    let refused = admin.post("/api/workflows/b2b/versions/2/publish", json!({})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["error"]["code"], json!("workflow_invalid"));
    assert!(!refused.body["error"]["diagnostics"].as_array().unwrap().is_empty());
    assert_eq!(resolve(&mut admin, &shop.customer).await["version"], json!(1));

    // Fixed: the state is reachable now; published, it applies to new orders.
    next["transitions"].as_array_mut().unwrap().push(json!({ "id": "park", "from": "submitted", "to": "limbo", "label": "Park", "roles": ["sales_rep"] }));
    next["transitions"].as_array_mut().unwrap().push(json!({ "id": "resume", "from": "limbo", "to": "submitted", "label": "Resume", "roles": ["sales_rep"] }));
    let fixed = admin.send(Method::PUT, "/api/workflows/b2b/draft", Some(next)).await;
    assert_eq!(fixed.body["diagnostics"], json!([]), "{:?}", fixed.body);
    let ok = admin.post("/api/workflows/b2b/versions/2/publish", json!({})).await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    assert_eq!(resolve(&mut admin, &shop.customer).await["version"], json!(2));

    // Version 1 is unchanged: whatever started on it stays on it.
    let v1 = admin.get("/api/workflows/b2b/versions/1").await;
    assert_eq!(v1.status, StatusCode::OK);
    assert_eq!(v1.body["version"], json!(1));
    assert_eq!(v1.body["states"].as_array().unwrap().len(), 4);
    // The next save starts version 3 after the published 2.
    let v3 =
        admin.send(Method::PUT, "/api/workflows/b2b/draft", Some(definition("b2b", json!("all"))));
    assert_eq!(v3.await.body["version"], json!(3));
    let listed = admin.get("/api/workflows/b2b").await;
    assert_eq!(listed.body["published_version"], json!(2));
    assert_eq!(listed.body["draft_version"], json!(3));
    assert_eq!(listed.body["versions"].as_array().unwrap().len(), 3);

    // A draft names its own workflow.
    let other_id =
        admin.send(Method::PUT, "/api/workflows/b2b/draft", Some(definition("x", json!("all"))));
    let other_id = other_id.await;
    assert_eq!(other_id.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other_id.body["error"]["field"], json!("id"));
}
both_databases!(workflow_versions, drafts_publish_and_stay_pinned);

async fn the_most_specific_scope_wins(app: &TestApp) {
    let shop = shop(app).await;
    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    for (id, scope) in [
        ("everyone", json!("all")),
        ("wholesale", json!({ "customer_group": "wholesale" })),
        ("acme-only", json!({ "customer": shop.customer })),
    ] {
        let created = admin.post("/api/workflows", definition(id, scope)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    }
    // Drafts do not count.
    assert_eq!(resolve(&mut admin, &shop.customer).await, Value::Null);
    for id in ["everyone", "wholesale"] {
        let path = format!("/api/workflows/{id}/versions/1/publish");
        assert_eq!(admin.post(&path, json!({})).await.status, StatusCode::OK);
    }
    // Acme is in the wholesale group; the other customer is in none.
    assert_eq!(resolve(&mut admin, &shop.customer).await["id"], json!("wholesale"));
    assert_eq!(resolve(&mut admin, &shop.other_customer).await["id"], json!("everyone"));
    let published = admin.post("/api/workflows/acme-only/versions/1/publish", json!({})).await;
    assert_eq!(published.status, StatusCode::OK);
    assert_eq!(resolve(&mut admin, &shop.customer).await["id"], json!("acme-only"));
    assert_eq!(resolve(&mut admin, &shop.other_customer).await["id"], json!("everyone"));

    // A customer's user asks for their own company only.
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let own = buyer.get("/api/workflows/resolve?entity=order").await;
    assert_eq!(own.body["workflow"]["id"], json!("acme-only"));
    let path = format!("/api/workflows/resolve?entity=order&customer={}", shop.other_customer);
    assert_eq!(buyer.get(&path).await.status, StatusCode::NOT_FOUND);
    let quote = buyer.get("/api/workflows/resolve?entity=quote").await;
    assert_eq!(quote.body["workflow"], Value::Null);
}
both_databases!(workflow_scope, the_most_specific_scope_wins);

async fn yaml_in_and_out(app: &TestApp) {
    let _shop = shop(app).await;
    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    let created = admin.post("/api/workflows", definition("b2b", json!("all"))).await;
    assert_eq!(created.status, StatusCode::CREATED);

    let exported = admin.get("/api/workflows/b2b/versions/1?format=yaml").await;
    assert_eq!(exported.status, StatusCode::OK);
    let yaml = exported.body.as_str().expect("YAML text").to_owned();
    assert!(yaml.contains("id: b2b") && yaml.contains("entity: order"), "{yaml}");

    // The export imports as another workflow, unchanged but for its id.
    let copy = yaml.replace("id: b2b", "id: b2b-copy");
    let imported =
        admin.send_raw(Method::POST, "/api/workflows", Some(("application/yaml", copy))).await;
    assert_eq!(imported.status, StatusCode::CREATED, "{:?}", imported.body);
    let original = admin.get("/api/workflows/b2b/versions/1").await.body;
    let mut copied = admin.get("/api/workflows/b2b-copy/versions/1").await.body;
    copied["id"] = json!("b2b");
    assert_eq!(copied, original);

    // A wrong field is named with its path.
    let bad = yaml.replace("entity: order", "entity: invoice");
    let refused =
        admin.send_raw(Method::POST, "/api/workflows", Some(("application/yaml", bad))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", refused.body);
    assert_eq!(refused.body["error"]["field"], json!("entity"));
    let broken = admin
        .send_raw(Method::POST, "/api/workflows", Some(("application/yaml", "id: [".into())))
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.body["error"]["code"], json!("bad_yaml"));
    let unknown_format = admin.get("/api/workflows/b2b/versions/1?format=xml").await;
    assert_eq!(unknown_format.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Checking without saving: every problem with its path.
    let mut dead_end = definition("b2b", json!("all"));
    dead_end["states"][3]["terminal"] = json!(false);
    let checked = admin.post("/api/workflows/check", dead_end).await;
    assert_eq!(checked.status, StatusCode::OK);
    assert_eq!(checked.body["valid"], json!(false));
    assert_eq!(checked.body["diagnostics"][0]["path"], json!("states[3]"));
}
both_databases!(workflow_yaml, yaml_in_and_out);

async fn only_the_sellers_admins_change_workflows(app: &TestApp) {
    let shop = shop(app).await;
    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    assert_eq!(
        admin.post("/api/workflows", definition("b2b", json!("all"))).await.status,
        StatusCode::CREATED
    );
    // A sales rep reads but does not change.
    let mut rep = logged_in(app, "rep@toolmaker.test").await;
    assert_eq!(rep.get("/api/workflows").await.status, StatusCode::OK);
    assert_eq!(rep.get("/api/workflows/b2b/versions/1").await.status, StatusCode::OK);
    assert_eq!(
        rep.post("/api/workflows", definition("mine", json!("all"))).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        rep.post("/api/workflows/b2b/versions/1/publish", json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    // A customer's admin neither reads nor changes them.
    let mut dana = logged_in(app, "dana@acme.test").await;
    assert_eq!(dana.get("/api/workflows").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        dana.send(Method::PUT, "/api/workflows/b2b/draft", Some(definition("b2b", json!("all"))))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Nobody logged in: nothing.
    let mut anonymous = app.client();
    assert_eq!(anonymous.get("/api/workflows").await.status, StatusCode::UNAUTHORIZED);
    let _ = (harness::PASSWORD, shop.customer);
}
both_databases!(workflow_access, only_the_sellers_admins_change_workflows);
