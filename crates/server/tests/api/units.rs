//! A company's business units: its admins add, rename, move and remove them; routing follows.

use super::*;
use axum::http::{Method, StatusCode};
use harness::{Client, PASSWORD};
use serde_json::{Value, json};
use shop::shop;

async fn logged_in(app: &TestApp, email: &str) -> Client {
    let mut c = app.client();
    let answer = c.login(email, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{email}: {:?}", answer.body);
    c
}

/// The directory's units as (name, parent's name).
fn tree(directory: &Value) -> Vec<(String, Option<String>)> {
    let units = directory["units"].as_array().unwrap();
    let name = |id: &Value| {
        units.iter().find(|u| &u["id"] == id).map(|u| u["name"].as_str().unwrap().to_owned())
    };
    let mut out: Vec<_> = units
        .iter()
        .map(|u| (u["name"].as_str().unwrap().to_owned(), name(&u["parent"])))
        .collect();
    out.sort();
    out
}

fn pair(name: &str, parent: Option<&str>) -> (String, Option<String>) {
    (name.to_owned(), parent.map(str::to_owned))
}

async fn admins_rename_move_and_remove_units(app: &TestApp) {
    let shop = shop(app).await;
    let units = format!("/api/companies/{}/units", shop.customer);
    let directory = format!("/api/companies/{}/directory", shop.customer);
    let mut dana = logged_in(app, "dana@acme.test").await;
    let ny = format!("{units}/{}", shop.ny);
    let emea = format!("{units}/{}", shop.emea);
    let na = dana.get(&directory).await.body["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == json!("North America"))
        .unwrap()["id"]
        .clone();

    // Renamed, and moved with what is under it.
    let renamed = dana
        .send(Method::PUT, &ny, Some(json!({ "name": " New York City ", "parent_id": na })))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert_eq!(renamed.body["name"], json!("New York City"));
    let moved =
        dana.send(Method::PUT, &emea, Some(json!({ "name": "EMEA", "parent_id": na }))).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    assert_eq!(
        tree(&dana.get(&directory).await.body),
        [
            pair("Acme", None),
            pair("EMEA", Some("North America")),
            pair("New York City", Some("North America")),
            pair("North America", Some("Acme")),
        ]
    );

    // Refused, naming the field: a loop, an unknown parent, no name; nothing changes.
    let cases = [
        (
            json!({ "name": "North America", "parent_id": shop.ny }),
            "parent_id",
            format!("{units}/{}", na.as_str().unwrap()),
        ),
        (json!({ "name": "EMEA", "parent_id": shop.emea }), "parent_id", emea.clone()),
        (json!({ "name": "EMEA", "parent_id": "bu_nowhere" }), "parent_id", emea.clone()),
        (json!({ "name": "  " }), "name", emea.clone()),
    ];
    for (body, field, path) in cases {
        let refused = dana.send(Method::PUT, &path, Some(body.clone())).await;
        assert_eq!(
            (refused.status, &refused.body["error"]["field"]),
            (StatusCode::UNPROCESSABLE_ENTITY, &json!(field)),
            "{body}: {:?}",
            refused.body
        );
    }
    let unchanged = tree(&dana.get(&directory).await.body);
    assert_eq!(unchanged[3], pair("North America", Some("Acme")));

    // An approver of North America now approves EMEA's orders too: routing reads the tree.
    let mut pat = logged_in(app, "pat@acme.test").await;
    let context = pat.get("/api/checkout/context").await.body;
    let emea_in_tree = context["directory"]["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == json!("EMEA"))
        .unwrap()
        .clone();
    assert_eq!(emea_in_tree["parent"], na, "the checkout's directory has the move");

    // Removal: refused while people work in it, units sit under it, or the policy mentions it.
    let refused = dana.send(Method::DELETE, &emea, None).await;
    assert_eq!(
        (refused.status, &refused.body["error"]["code"]),
        (StatusCode::CONFLICT, &json!("has_people")),
        "{:?}",
        refused.body
    );
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("Eli Ng works in EMEA"));
    let na_path = format!("{units}/{}", na.as_str().unwrap());
    let refused = dana.send(Method::DELETE, &na_path, None).await;
    assert_eq!(refused.body["error"]["code"], json!("has_units"), "{:?}", refused.body);
    let added = dana.post(&units, json!({ "name": "Boston", "parent_id": na })).await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    let boston = added.body["id"].as_str().unwrap().to_owned();
    let policy_path = format!("/api/companies/{}/policy", shop.customer);
    let mut policy = dana.get(&policy_path).await.body["policy"].clone();
    let original = policy.clone();
    policy["rules"].as_array_mut().unwrap().push(json!({
        "id": "boston", "name": "Boston approver",
        "when": { "field": "order.business_unit", "op": "within", "value": { "text": boston } },
        "approver": { "user": shop.a1 }
    }));
    assert_eq!(dana.send(Method::PUT, &policy_path, Some(policy)).await.status, StatusCode::OK);
    let boston_path = format!("{units}/{boston}");
    let refused = dana.send(Method::DELETE, &boston_path, None).await;
    assert_eq!(refused.body["error"]["code"], json!("named_in_policy"), "{:?}", refused.body);
    assert_eq!(dana.send(Method::PUT, &policy_path, Some(original)).await.status, StatusCode::OK);

    // Then removed: gone from the directory, not offered for people or new units.
    let removed = dana.send(Method::DELETE, &boston_path, None).await;
    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.body);
    assert_eq!(removed.body["name"], json!("Boston"));
    let after = dana.get(&directory).await.body;
    assert!(!tree(&after).iter().any(|(name, _)| name == "Boston"));
    let users = format!("/api/companies/{}/users", shop.customer);
    let finn = json!({ "email": "finn@acme.test", "name": "Finn", "password": "a long password", "roles": ["buyer"], "unit_id": boston });
    let refused = dana.post(&users, finn).await;
    assert_eq!(refused.body["error"]["field"], json!("unit_id"), "{:?}", refused.body);
    let mut naming = dana.get(&policy_path).await.body["policy"].clone();
    naming["rules"].as_array_mut().unwrap().push(json!({
        "id": "boston", "name": "Boston approver",
        "when": { "field": "order.business_unit", "op": "within", "value": { "text": boston } },
        "approver": { "user": shop.a1 }
    }));
    let refused = dana.send(Method::PUT, &policy_path, Some(naming)).await;
    assert_eq!(refused.body["error"]["field"], json!("policy"), "{:?}", refused.body);
    let diagnostic = &refused.body["error"]["diagnostics"][0];
    assert!(
        diagnostic["message"].as_str().unwrap().contains("is not in the company directory"),
        "{diagnostic}"
    );
    let under = dana.post(&units, json!({ "name": "Back Bay", "parent_id": boston })).await;
    assert_eq!(under.body["error"]["field"], json!("parent_id"), "{:?}", under.body);
    let again = dana.send(Method::DELETE, &boston_path, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(
        dana.send(Method::PUT, &boston_path, Some(json!({ "name": "Boston" }))).await.status,
        StatusCode::NOT_FOUND
    );

    // Only the company's admins change its units.
    let body = json!({ "name": "Mine" });
    assert_eq!(pat.send(Method::PUT, &ny, Some(body.clone())).await.status, StatusCode::FORBIDDEN);
    assert_eq!(pat.send(Method::DELETE, &ny, None).await.status, StatusCode::FORBIDDEN);
    let mut olga = logged_in(app, "olga@globex.test").await;
    let foreign = olga.send(Method::PUT, &ny, Some(body)).await.status;
    assert!(matches!(foreign, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{foreign}");
    let mut seller = logged_in(app, "admin@toolmaker.test").await;
    assert_eq!(seller.send(Method::DELETE, &ny, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(tree(&dana.get(&directory).await.body).len(), 4, "nothing else changed");
}
both_databases!(units, admins_rename_move_and_remove_units);
