//! The demo data loads, once, and works: its policy fits its directory and a buyer can check out.

use super::*;
use axum::http::{Method, StatusCode};
use serde_json::json;
use server::demo::Loaded;

async fn the_demo_loads_once_and_checks_out(app: &TestApp) {
    assert_eq!(server::demo::load(&app.state).await.unwrap(), Loaded::Now);
    assert_eq!(server::demo::load(&app.state).await.unwrap(), Loaded::Before, "not loaded twice");
    for login in server::demo::LOGINS {
        let mut c = app.client();
        assert_eq!(
            c.login(login.email, server::demo::PASSWORD).await.status,
            StatusCode::OK,
            "{}",
            login.email
        );
    }
    let mut pat = app.client();
    pat.login("pat@acme.example", server::demo::PASSWORD).await;
    // Pat's orders, placed through checkout: the server routed each by the policy.
    let orders = pat.get("/api/orders").await.body;
    let states: Vec<&str> =
        orders["orders"].as_array().unwrap().iter().map(|o| o["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["awaiting_approval", "approved", "rejected", "approved"], "{orders}");
    assert_eq!(pat.get("/api/notifications").await.body["unread"], json!(0));
    let rejected = &orders["orders"][2];
    let rejected = pat.get(&format!("/api/orders/{}", rejected["id"].as_str().unwrap())).await.body;
    let decided = &rejected["history"].as_array().unwrap().last().unwrap()["comment"];
    assert!(decided.as_str().unwrap().contains("split it over two months"), "{rejected}");
    // They were placed over the past week, one after another, and decided later.
    let now = server::util::now().millis();
    let placed: Vec<i64> = orders["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["created_at"].as_i64().unwrap())
        .collect();
    assert!(placed.windows(2).all(|w| w[0] > w[1] + 3_600_000), "{placed:?}");
    assert!(placed.iter().all(|&at| at < now && at > now - 7 * 86_400_000), "{placed:?}");
    let history = rejected["history"].as_array().unwrap();
    let times: Vec<i64> = history.iter().map(|h| h["at"].as_i64().unwrap()).collect();
    assert!(times[times.len() - 1] > times[0] + 3_600_000, "decided a day later: {times:?}");
    // The one waiting is Avery's (Approver 1), and she has been told.
    let mut avery = app.client();
    avery.login("avery@acme.example", server::demo::PASSWORD).await;
    let queue = avery.get("/api/approvals").await.body;
    assert_eq!(queue["pending"].as_array().unwrap().len(), 1, "{queue}");
    assert_eq!(queue["pending"][0]["order_id"], orders["orders"][0]["id"]);
    let why = queue["pending"][0]["why"][0].as_str().unwrap();
    assert!(why.starts_with("Approver 1: orders of 2,000.00 USD or more"), "{why}");
    assert_eq!(avery.get("/api/notifications").await.body["unread"], json!(1));
    let catalog = pat.get("/api/catalog").await;
    assert_eq!(catalog.body["products"].as_array().unwrap().len(), 50);
    // The catalog's price of one, and of the next tier, are what checkout charges: Acme's
    // contract price of a drill (one tier), the standard list's gloves (tiers from 10).
    for (sku, tiered) in [("DRL-M", false), ("GLV-M", true)] {
        let product = pat.get(&format!("/api/catalog?q={sku}")).await.body["products"][0].clone();
        assert_eq!(product["sku"], json!(sku));
        let tier = &product["next_tier"];
        assert_eq!(tier.is_object(), tiered, "{product}");
        let tiers = product["tiers"].as_array().unwrap();
        assert_eq!(tiers.len() > 1, tiered, "{product}");
        assert_eq!(tiers[0]["min_quantity"], json!(1));
        assert_eq!(tiers[0]["unit_price"], product["price"]);
        if tiered {
            assert_eq!(tiers[1]["min_quantity"], tier["min_quantity"]);
            assert_eq!(tiers[1]["unit_price"], tier["unit_price"]);
        }
        // Every tier, and the quantity just below each: checkout's unit price is the tier's.
        let mut expected = Vec::new();
        for (i, t) in tiers.iter().enumerate() {
            let from = t["min_quantity"].as_u64().unwrap();
            expected.push((json!(from), &t["unit_price"]));
            if i > 0 {
                expected.push((json!(from - 1), &tiers[i - 1]["unit_price"]));
            }
        }
        for (quantity, price) in expected {
            assert!(price["amount"].is_string(), "{product}");
            let cart = json!({ "lines": [{ "sku": sku, "quantity": quantity }] });
            pat.send(Method::PUT, "/api/cart", Some(cart)).await;
            let preview = pat.get("/api/checkout/preview").await.body;
            let line = &preview["verdict"]["priced"]["lines"][0];
            assert_eq!(&line["unit_price"], price, "{quantity} × {sku}");
        }
    }
    // By category: only its products, with every category still listed to choose from.
    let safety = pat.get("/api/catalog?category=safety&q=gloves").await.body;
    let skus: Vec<&str> =
        safety["products"].as_array().unwrap().iter().map(|p| p["sku"].as_str().unwrap()).collect();
    assert_eq!(skus, ["GLV-S", "GLV-M", "GLV-L", "GLV-XL", "GLV-PRO"]);
    assert_eq!(
        safety["categories"],
        json!(["accessories", "books", "chemicals", "fasteners", "power-tools", "safety"])
    );
    let none = pat.get("/api/catalog?category=safety&q=drill").await.body;
    assert_eq!(none["products"], json!([]));
    let mut sol = app.client();
    sol.login("sol@toolmaker.example", server::demo::PASSWORD).await;
    let unpriced = sol.get("/api/catalog?q=DRL-M").await.body["products"][0].clone();
    assert!(unpriced.get("price").is_none(), "the seller's staff buy nothing: {unpriced}");
    pat.send(Method::PUT, "/api/cart", Some(json!({ "lines": [{ "sku": "DRL-M", "quantity": 20 }, { "sku": "BIT-M", "quantity": 10 }] }))).await;
    let preview = pat.get("/api/checkout/preview").await;
    assert_eq!(preview.status, StatusCode::OK, "{:?}", preview.body);
    let plan = &preview.body["verdict"]["plan"];
    assert_eq!(plan["verdict"], json!("approval_required"), "{plan}");
    assert!(plan["explanation"][1].as_str().unwrap().contains("Approver 2"), "{plan}");
    // Pat's orders run on Acme's own workflow, which ships them after approval.
    let small = json!({ "lines": [{ "sku": "GLV-S", "quantity": 2 }] });
    pat.send(Method::PUT, "/api/cart", Some(small)).await;
    let context = pat.get("/api/checkout/context").await.body;
    let submission = json!({ "idempotency_key": "demo", "claimed": super::shop::claims(&context) });
    let placed = pat.post("/api/orders", submission).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
    assert_eq!(placed.body["workflow"]["id"], json!("acme-orders"));
    assert_eq!(placed.body["state"], json!("approved"));
    let id = placed.body["id"].as_str().unwrap();
    let path = format!("/api/orders/{id}/transitions/ship");
    let shipped = sol.post(&path, json!({ "revision": placed.body["revision"] })).await;
    assert_eq!(shipped.body["state"], json!("shipped"), "{:?}", shipped.body);
    // The contract price list names Acme, and only Acme sees it.
    let lists: Vec<String> = pat.get("/api/checkout/context").await.body["pricing"]["price_lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    // The wholesale list is the year's of the oldest demo order, whenever the demo is loaded.
    let week_ago = server::util::now().millis() - 7 * 86_400_000;
    let year = rules::time::Timestamp::from_millis(week_ago).date().ymd().0;
    let wholesale = format!("wholesale-{year}");
    assert_eq!(lists, ["list-usd", "list-eur", &wholesale, "acme-contract"]);
    let mut kim = app.client();
    kim.login("kim@berlin-werk.example", server::demo::PASSWORD).await;
    let euro = kim.get("/api/catalog?q=DRL-M").await.body["products"][0].clone();
    assert_eq!(euro["price"]["currency"], json!("EUR"), "{euro}");
    kim.send(Method::PUT, "/api/cart", Some(json!({ "lines": [{ "sku": "DRL-M", "quantity": 2 }, { "sku": "MAN-M", "quantity": 1 }] }))).await;
    let vat = kim.get("/api/checkout/preview").await.body;
    let taxes: Vec<&str> = vat["verdict"]["priced"]["taxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rule"].as_str().unwrap())
        .collect();
    assert_eq!(taxes, ["de-vat", "de-vat-reduced"]);
    assert_eq!(vat["verdict"]["priced"]["currency"], json!("EUR"));

    // The seed workflow's alert is due about two minutes after loading: not now, in three.
    let now = server::util::now();
    let tick = server::instances::fire_due_timers(&app.state, now, 100).await.unwrap();
    assert_eq!(tick, server::instances::Tick::default());
    let later = rules::time::Timestamp::from_millis(now.millis() + 3 * 60_000);
    let tick = server::instances::fire_due_timers(&app.state, later, 100).await.unwrap();
    assert_eq!(tick, server::instances::Tick { fired: 1, skipped: 1, failed: 0 });
    let mut rita = app.client();
    rita.login("rita@toolmaker.example", server::demo::PASSWORD).await;
    let notes = rita.get("/api/notifications").await.body;
    assert_eq!(notes["notifications"][0]["kind"], json!("workflow"), "{notes}");
    assert!(
        notes["notifications"][0]["title"].as_str().unwrap().contains("DEMO-BIG-ORDER"),
        "{notes}"
    );
}
both_databases!(demo_data, the_demo_loads_once_and_checks_out);

/// A load that stopped half way (here: after its first company, as a killed process would
/// leave it) is told apart from a complete demo, and nothing more is written over it.
async fn an_interrupted_demo_load_is_reported_not_served(app: &TestApp) {
    server::db::query("INSERT INTO server_state (key, value) VALUES ('demo', 'loading')")
        .execute(&app.state.db.write)
        .await
        .unwrap();
    server::db::query("INSERT INTO companies (id, name, kind, country, currency, created_at) VALUES ('ACME', 'Acme Corp', 'customer', 'US', 'USD', 0)")
        .execute(&app.state.db.write)
        .await
        .unwrap();
    assert_eq!(server::demo::load(&app.state).await.unwrap(), Loaded::Interrupted);
    let companies: i64 = server::db::query("SELECT COUNT(*) AS n FROM companies")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(companies, 1, "nothing written over the partial demo");
}
both_databases!(interrupted_demo, an_interrupted_demo_load_is_reported_not_served);
