//! Checkout and approvals, and the attack catalog: each attack must be refused with nothing
//! stored.

use super::*;
use axum::http::{Method, StatusCode};
use harness::{Client, PASSWORD};
use serde_json::{Value, json};
use shop::{claims, shop};

async fn count(app: &TestApp, table: &str) -> i64 {
    db::query(db::AssertSqlSafe(format!("SELECT COUNT(*) AS n FROM {table}")))
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

async fn logged_in(app: &TestApp, email: &str) -> Client {
    let mut c = app.client();
    let answer = c.login(email, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{email}: {:?}", answer.body);
    c
}

/// Puts lines in the buyer's cart and returns a submission as the browser would make it.
async fn prepared(c: &mut Client, lines: Value, key: &str) -> Value {
    let put = c.send(Method::PUT, "/api/cart", Some(json!({ "lines": lines }))).await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    let context = c.get("/api/checkout/context").await;
    assert_eq!(context.status, StatusCode::OK, "{:?}", context.body);
    json!({ "idempotency_key": key, "claimed": claims(&context.body) })
}

/// 20 drills (3,380.00 + 8.875 % NY tax = 3,679.98): Approver 2.
fn twenty_drills() -> Value {
    json!([{ "sku": "DRL-100", "quantity": 20 }])
}

async fn checkout_then_approval(app: &TestApp) {
    let shop = shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let context = {
        buyer.send(Method::PUT, "/api/cart", Some(json!({ "lines": twenty_drills() }))).await;
        buyer.get("/api/checkout/context").await.body
    };
    let lists: Vec<&str> = context["pricing"]["price_lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(lists, ["list-usd"], "another customer's contract prices are not sent");
    let submission = json!({ "idempotency_key": "k1", "claimed": claims(&context) });
    assert_eq!(submission["claimed"]["total"], json!({ "amount": "3679.98", "currency": "USD" }));
    let placed = buyer.post("/api/orders", submission).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
    let order = placed.body;
    let id = order["id"].as_str().unwrap().to_owned();
    assert_eq!(order["number"], json!(1001), "the first order's number");
    assert_eq!(
        (&order["buyer_name"], &order["company_name"], &order["business_unit_name"]),
        (&json!("Pat Buyer"), &json!("Acme Corp"), &json!("New York")),
        "who placed it, for which company and unit"
    );
    assert_eq!(order["state"], json!("awaiting_approval"));
    assert_eq!(order["steps"][0]["candidates"][0]["id"], json!(shop.a2));
    assert_eq!(order["steps"][0]["status"], json!("pending"));
    assert_eq!(
        order["plan"]["explanation"][1],
        json!(
            "1. Blake Diaz — Approver 2: orders of 3,000.00 USD or more; this order is 3,679.98 USD"
        )
    );
    assert_eq!(order["history"][0]["to"], json!("awaiting_approval"));
    assert_eq!(order["steps"][0]["candidates"][0]["name"], json!("Blake Diaz"));
    // Why each line costs what it does, naming the price list and the tax rule as people
    // know them, not by their ids.
    assert_eq!(
        order["priced"]["lines"][0]["explanation"],
        json!([
            "20 × 169.00 USD = 3,380.00 USD",
            "the standard price list \"Standard USD\", volume tier from 10 units",
            "NY sales tax 8.875 %: 299.98 USD"
        ])
    );
    assert_eq!(
        buyer.get(&format!("/api/orders/{id}")).await.body,
        order,
        "the answer to the submission is the order as stored"
    );
    assert_eq!(buyer.get("/api/cart").await.body["lines"], json!([]), "the cart is emptied");
    assert_eq!(order["product_names"], json!({ "DRL-100": "Cordless drill 18 V" }));
    // The order keeps the name its catalog had: a product renamed since does not rename it.
    let mut seller = logged_in(app, "admin@toolmaker.test").await;
    let mut renamed = shop::pricing();
    renamed["catalog"][0]["name"] = json!("Cordless drill 18 V, new model");
    let published = seller.send(Method::PUT, "/api/catalog/document", Some(renamed)).await;
    assert_eq!(published.status, StatusCode::OK, "{:?}", published.body);
    let catalog = buyer.get("/api/catalog?q=DRL-100").await.body;
    assert_eq!(catalog["products"][0]["name"], json!("Cordless drill 18 V, new model"));
    let shown = buyer.get(&format!("/api/orders/{id}")).await.body;
    assert_eq!(shown["product_names"], json!({ "DRL-100": "Cordless drill 18 V" }));

    // The approver learns of it, in the app and by mail (in the outbox: no SMTP here).
    let mut blake = logged_in(app, "blake@acme.test").await;
    let notes = blake.get("/api/notifications").await.body;
    assert_eq!(notes["unread"], json!(1));
    assert_eq!(notes["notifications"][0]["kind"], json!("approval_needed"));
    assert_eq!(
        notes["notifications"][0]["title"],
        json!("Approval needed: order 1001 (3,679.98 USD)")
    );
    assert_eq!(notes["notifications"][0]["order_id"], json!(id));
    let mail = blake.get("/api/mail").await.body;
    assert_eq!(mail["mail"][0]["subject"], json!("Approval needed: order 1001 (3,679.98 USD)"));
    let queue = blake.get("/api/approvals").await.body;
    assert_eq!(queue["pending"][0]["order_id"], json!(id));
    assert_eq!(queue["pending"][0]["number"], json!(1001));
    assert_eq!(
        queue["pending"][0]["lines"],
        json!([{ "sku": "DRL-100", "name": "Cordless drill 18 V", "quantity": 20 }])
    );
    assert_eq!(
        queue["pending"][0]["why"][0],
        json!("Approver 2: orders of 3,000.00 USD or more; this order is 3,679.98 USD")
    );
    // Nobody else has it in their queue.
    let mut avery = logged_in(app, "avery@acme.test").await;
    assert_eq!(avery.get("/api/approvals").await.body["pending"], json!([]));

    let step = order["steps"][0]["id"].clone();
    let approved = blake.post(&format!("/api/orders/{id}/decisions"), json!({ "step_id": step, "decision": "approve", "comment": "ok", "revision": order["revision"] })).await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
    assert_eq!(approved.body["state"], json!("approved"));
    assert_eq!(approved.body["history"][1]["actor_name"], json!("Blake Diaz"));
    assert_eq!(approved.body["history"][1]["comment"], json!("approved step 1: ok"));
    let notes = buyer.get("/api/notifications").await.body;
    assert_eq!(notes["notifications"][0]["kind"], json!("order_approved"));
    assert_eq!(notes["notifications"][0]["title"], json!("Order 1001 approved"));
    let listed = buyer.get("/api/orders").await.body;
    assert_eq!(listed["orders"][0]["state"], json!("approved"));
    assert_eq!(listed["orders"][0]["number"], json!(1001));
}
both_databases!(checkout, checkout_then_approval);

async fn rejection_returns_the_order_to_the_buyer(app: &TestApp) {
    shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let submission = prepared(&mut buyer, twenty_drills(), "k").await;
    let order = buyer.post("/api/orders", submission).await.body;
    let id = order["id"].as_str().unwrap();
    let mut blake = logged_in(app, "blake@acme.test").await;
    let no_reason = blake.post(&format!("/api/orders/{id}/decisions"), json!({ "step_id": order["steps"][0]["id"], "decision": "reject", "revision": order["revision"] })).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_reason.body["error"]["field"], json!("comment"));
    let rejected = blake.post(&format!("/api/orders/{id}/decisions"), json!({ "step_id": order["steps"][0]["id"], "decision": "reject", "comment": "too many drills", "revision": order["revision"] })).await;
    assert_eq!(rejected.body["state"], json!("rejected"));
    let note = &buyer.get("/api/notifications").await.body["notifications"][0];
    assert_eq!(note["kind"], json!("order_rejected"));
    assert!(note["body"].as_str().unwrap().contains("too many drills"));
    // The buyer changes it: a new round of approval starts.
    let changed = buyer.send(Method::PUT, &format!("/api/orders/{id}"), Some(json!({ "lines": [{ "sku": "DRL-100", "quantity": 12 }], "revision": rejected.body["revision"] }))).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["state"], json!("awaiting_approval"));
    assert_eq!(changed.body["round"], json!(2));
}
both_databases!(rejection, rejection_returns_the_order_to_the_buyer);

/// Blake is away: the company admin hands his step to Casey, who is told and decides it; what
/// routing would refuse (the buyer, someone outside the order's unit, someone of another
/// company) is refused here too, and Blake's decision on the page he saw before is not taken.
async fn an_admin_hands_a_waiting_step_to_another_approver(app: &TestApp) {
    let shop = shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let submission = prepared(&mut buyer, twenty_drills(), "k").await;
    let order = buyer.post("/api/orders", submission).await.body;
    let id = order["id"].as_str().unwrap().to_owned();
    let path = format!("/api/orders/{id}/handovers");
    let step = order["steps"][0]["id"].clone();
    let to = |who: &[&str], revision: &Value| json!({ "step_id": step, "to": who, "comment": "Blake is on leave", "revision": revision });
    let revision = order["revision"].clone();

    // Only the company's admins hand steps over.
    let mut casey = logged_in(app, "casey@acme.test").await;
    let refused = casey.post(&path, to(&[&shop.a3], &revision)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
    let mut olga = logged_in(app, "olga@globex.test").await;
    assert_eq!(olga.post(&path, to(&[&shop.a3], &revision)).await.status, StatusCode::NOT_FOUND);
    let mut seller = logged_in(app, "admin@toolmaker.test").await;
    assert_eq!(seller.post(&path, to(&[&shop.a3], &revision)).await.status, StatusCode::NOT_FOUND);

    // What routing would not choose is refused, naming the person at fault.
    let mut dana = logged_in(app, "dana@acme.test").await;
    let stale = json!(revision.as_i64().unwrap() - 1);
    let cases: [(Value, &str, &str); 6] = [
        (to(&[&shop.a3, &shop.buyer], &revision), "to[1]", "nobody approves their own order"),
        (to(&[&shop.emea_approver], &revision), "to[0]", "does not cover the order's"),
        (to(&[&shop.other_approver], &revision), "to[0]", "is not a user of this company"),
        (to(&[], &revision), "to", "name who approves"),
        (to(&[&shop.a2], &revision), "to", "theirs already"),
        (to(&[&shop.a3], &stale), "revision", "changed since you looked"),
    ];
    for (body, field, says) in cases {
        let refused = dana.post(&path, body.clone()).await;
        assert_eq!(refused.body["error"]["field"], json!(field), "{body}: {:?}", refused.body);
        let message = refused.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    // The admins' overview of what waits: Blake's step, and nobody else's to see.
    let overview = format!("/api/companies/{}/approvals", shop.customer);
    let waiting = dana.get(&overview).await.body;
    assert_eq!(
        (
            &waiting["waiting"][0]["number"],
            &waiting["waiting"][0]["status"],
            &waiting["waiting"][0]["candidates"]
        ),
        (&order["number"], &json!("pending"), &json!([{ "id": shop.a2, "name": "Blake Diaz" }])),
        "{waiting:?}"
    );
    assert_eq!(waiting["waiting"][0]["business_unit_name"], json!("New York"));
    assert_eq!(casey.get(&overview).await.status, StatusCode::FORBIDDEN);
    let foreign = olga.get(&overview).await.status;
    assert!(matches!(foreign, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{foreign}");
    let mut casey_notes = casey.get("/api/notifications").await.body["unread"].as_i64().unwrap();
    assert_eq!(casey_notes, 0, "Casey has not been told of anything yet");

    // Handed to Casey: the step is hers, she is told, the history says so.
    let handed = dana.post(&path, to(&[&shop.a3, &shop.a3], &revision)).await;
    assert_eq!(handed.status, StatusCode::OK, "{:?}", handed.body);
    assert_eq!(
        handed.body["steps"][0]["candidates"],
        json!([{ "id": shop.a3, "name": "Casey Evans" }])
    );
    assert_eq!(handed.body["state"], json!("awaiting_approval"));
    let last = handed.body["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&last["actor_name"], &last["comment"]),
        (
            &json!("Dana Admin"),
            &json!("handed step 1 from Blake Diaz to Casey Evans: Blake is on leave")
        )
    );
    casey_notes = casey.get("/api/notifications").await.body["unread"].as_i64().unwrap();
    assert_eq!(casey_notes, 1);
    assert_eq!(casey.get("/api/approvals").await.body["pending"][0]["order_id"], json!(id));
    let mut blake = logged_in(app, "blake@acme.test").await;
    assert_eq!(blake.get("/api/approvals").await.body["pending"], json!([]));
    let waiting = dana.get(&overview).await.body;
    assert_eq!(waiting["waiting"][0]["candidates"][0]["name"], json!("Casey Evans"));

    // Blake, deciding on what he saw before, and then on the order as it is: not his now.
    let decision = |revision: &Value| json!({ "step_id": step, "decision": "approve", "comment": "ok", "revision": revision });
    let decisions = format!("/api/orders/{id}/decisions");
    let late = blake.post(&decisions, decision(&revision)).await;
    assert_eq!(late.body["error"]["code"], json!("order_changed"), "{:?}", late.body);
    let now_revision = handed.body["revision"].clone();
    let not_his = blake.post(&decisions, decision(&now_revision)).await;
    assert_eq!(not_his.status, StatusCode::FORBIDDEN, "{:?}", not_his.body);
    let approved = casey.post(&decisions, decision(&now_revision)).await;
    assert_eq!(approved.body["state"], json!("approved"), "{:?}", approved.body);
    let after = dana.post(&path, to(&[&shop.a1], &approved.body["revision"])).await;
    assert_eq!(after.body["error"]["code"], json!("already_decided"), "{:?}", after.body);
    assert_eq!(dana.get(&overview).await.body["waiting"], json!([]), "nothing waits now");
}
both_databases!(handover, an_admin_hands_a_waiting_step_to_another_approver);

/// Any approver may decide; Blake leaves while the order waits (he was not its only approver),
/// and the admin hands the step to Casey alone: the history names Blake, who is in the
/// directory no more.
async fn a_step_is_handed_over_from_someone_who_left(app: &TestApp) {
    let shop = shop(app).await;
    let mut dana = logged_in(app, "dana@acme.test").await;
    let policy = json!({ "name": "Any approver", "rules": [{ "id": "any", "name": "Any approver", "min_total": { "amount": "1.00", "currency": "USD" }, "approver": { "role": "approver" } }] });
    let saved = dana
        .send(Method::PUT, &format!("/api/companies/{}/policy", shop.customer), Some(policy))
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let submission = prepared(&mut buyer, twenty_drills(), "k").await;
    let order = buyer.post("/api/orders", submission).await.body;
    let named: Vec<&str> = order["steps"][0]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(named, ["Avery Chen", "Blake Diaz", "Casey Evans"], "{order:?}");
    let users = format!("/api/companies/{}/users/{}", shop.customer, shop.a2);
    let removed = dana.send(Method::DELETE, &users, None).await;
    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.body);
    let id = order["id"].as_str().unwrap();
    let handed = dana
        .post(
            &format!("/api/orders/{id}/handovers"),
            json!({ "step_id": order["steps"][0]["id"], "to": [shop.a3], "revision": order["revision"] }),
        )
        .await;
    assert_eq!(handed.status, StatusCode::OK, "{:?}", handed.body);
    let last = handed.body["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["comment"],
        json!("handed step 1 from Avery Chen, Blake Diaz, Casey Evans to Casey Evans")
    );
}
both_databases!(handover_from_who_left, a_step_is_handed_over_from_someone_who_left);

/// An order that waits for its approver reminds them, once per interval, until it is decided.
async fn approvers_are_reminded_of_orders_that_wait(app: &TestApp) {
    shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let submission = prepared(&mut buyer, twenty_drills(), "k").await;
    let order = buyer.post("/api/orders", submission).await.body;
    let hour = 3_600_000;
    let day = rules::time::Duration::from_days(1);
    let placed = server::util::now().millis();
    let remind = |after_hours: i64| {
        server::orders::remind(&app.state, placed + after_hours * hour, day, 100)
    };
    assert_eq!(remind(23).await.unwrap(), 0, "not a day yet");
    assert_eq!(remind(25).await.unwrap(), 1);
    assert_eq!(remind(25).await.unwrap(), 0, "reminded once per interval");
    let mut blake = logged_in(app, "blake@acme.test").await;
    let notes = blake.get("/api/notifications").await.body;
    let reminder = &notes["notifications"][0];
    assert_eq!(reminder["kind"], json!("approval_reminder"));
    assert_eq!(
        reminder["title"],
        json!("Reminder: order 1001 (3,679.98 USD) waits for your approval")
    );
    assert_eq!(
        reminder["body"],
        json!("Pat Buyer's order 1001 for 3,679.98 USD has waited 1 day 1 hour for your approval.")
    );
    assert_eq!(reminder["order_id"], order["id"]);
    let mail = blake.get("/api/mail").await.body;
    assert_eq!(
        mail["mail"][0]["subject"],
        json!("Reminder: order 1001 (3,679.98 USD) waits for your approval")
    );
    // Nobody else is reminded: not the buyer, not the other approvers.
    let pats = buyer.get("/api/notifications").await.body;
    assert!(
        pats["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["kind"] != json!("approval_reminder"))
    );
    // A day after the reminder, another; once decided, none.
    assert_eq!(remind(48).await.unwrap(), 0);
    assert_eq!(remind(49).await.unwrap(), 1);
    let id = order["id"].as_str().unwrap();
    let approved = blake.post(&format!("/api/orders/{id}/decisions"), json!({ "step_id": order["steps"][0]["id"], "decision": "approve", "revision": order["revision"] })).await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
    assert_eq!(remind(100).await.unwrap(), 0, "a decided step reminds nobody");
}
both_databases!(reminders, approvers_are_reminded_of_orders_that_wait);

async fn forged_unit_price_is_refused(app: &TestApp) {
    shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let mut submission = prepared(&mut buyer, twenty_drills(), "k").await;
    submission["claimed"]["lines"][0]["unit_price"]["amount"] = json!("99.00");
    let answer = buyer.post("/api/orders", submission).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.body["error"]["code"], json!("stale_or_forged"));
    assert_eq!(
        answer.body["error"]["differences"][0]["field"],
        json!("claimed.lines[0].unit_price")
    );
    assert_eq!(
        answer.body["error"]["server"]["verdict"]["priced"]["lines"][0]["unit_price"]["amount"],
        json!("169.00")
    );
    assert_eq!(count(app, "orders").await, 0);
}
both_databases!(forged_price, forged_unit_price_is_refused);

async fn forged_total_is_refused(app: &TestApp) {
    shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let mut submission = prepared(&mut buyer, twenty_drills(), "k").await;
    // Just under the 3,000 threshold, with no approver: the route that total would have.
    submission["claimed"]["total"]["amount"] = json!("2999.99");
    submission["claimed"]["approvers"] = json!([]);
    let answer = buyer.post("/api/orders", submission).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    let fields: Vec<&str> = answer.body["error"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["claimed.total", "claimed.approvers"]);
    assert_eq!(count(app, "orders").await, 0);
    assert_eq!(count(app, "outbox").await, 0);
}
both_databases!(forged_total, forged_total_is_refused);

async fn stale_price_list_version_is_refused(app: &TestApp) {
    shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let submission = prepared(&mut buyer, twenty_drills(), "k").await;
    // The seller changes a price after the page was loaded.
    let mut seller = logged_in(app, "admin@toolmaker.test").await;
    let mut pricing = shop::pricing();
    pricing["price_lists"][0]["prices"][0]["tiers"][1]["unit_price"] = json!("179.00");
    let published = seller.send(Method::PUT, "/api/catalog/document", Some(pricing)).await;
    assert_eq!(published.status, StatusCode::OK, "{:?}", published.body);
    let answer = buyer.post("/api/orders", submission).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.body["error"]["differences"][0]["field"], json!("claimed.pricing_version"));
    assert_eq!(
        answer.body["error"]["differences"][0]["message"],
        json!("the prices changed since the page was loaded")
    );
    assert_eq!(count(app, "orders").await, 0);
}
both_databases!(stale_prices, stale_price_list_version_is_refused);

async fn nobody_approves_their_own_order(app: &TestApp) {
    let shop = shop(app).await;
    // Blake, Approver 2, orders 20 drills: his level escalates to Approver 3.
    let mut blake = logged_in(app, "blake@acme.test").await;
    let submission = prepared(&mut blake, twenty_drills(), "k").await;
    let order = blake.post("/api/orders", submission).await.body;
    assert_eq!(order["steps"][0]["candidates"], json!([{ "id": shop.a3, "name": "Casey Evans" }]));
    let id = order["id"].as_str().unwrap();
    let answer = blake.post(&format!("/api/orders/{id}/decisions"), json!({ "step_id": order["steps"][0]["id"], "decision": "approve", "revision": order["revision"] })).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.body["error"]["message"], json!("nobody approves their own order"));
    assert_eq!(
        blake.get(&format!("/api/orders/{id}")).await.body["state"],
        json!("awaiting_approval")
    );
}
both_databases!(self_approval, nobody_approves_their_own_order);

async fn another_companys_order_is_out_of_reach(app: &TestApp) {
    shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let submission = prepared(&mut buyer, twenty_drills(), "k").await;
    let order = buyer.post("/api/orders", submission).await.body;
    let id = order["id"].as_str().unwrap();
    let mut olga = logged_in(app, "olga@globex.test").await;
    assert_eq!(olga.get(&format!("/api/orders/{id}")).await.status, StatusCode::NOT_FOUND);
    // Nor by its number, which the buyer may use instead of the id.
    assert_eq!(olga.get("/api/orders/1001").await.status, StatusCode::NOT_FOUND);
    assert_eq!(buyer.get("/api/orders/1001").await.body["id"], json!(id));
    assert_eq!(buyer.get("/api/orders/1002").await.status, StatusCode::NOT_FOUND);
    let answer = olga.post(&format!("/api/orders/{id}/decisions"), json!({ "step_id": order["steps"][0]["id"], "decision": "approve", "revision": order["revision"] })).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(olga.get("/api/orders").await.body["orders"], json!([]));
    assert_eq!(olga.get("/api/approvals").await.body["pending"], json!([]));
    assert_eq!(
        buyer.get(&format!("/api/orders/{id}")).await.body["state"],
        json!("awaiting_approval")
    );
}
both_databases!(other_company, another_companys_order_is_out_of_reach);

async fn approving_outside_your_unit_is_refused(app: &TestApp) {
    shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    // 12 drills (2,028.00 + tax = 2,207.99): Approver 1's level; Avery covers North America.
    let submission = prepared(&mut buyer, json!([{ "sku": "DRL-100", "quantity": 12 }]), "k").await;
    let order = buyer.post("/api/orders", submission).await.body;
    let id = order["id"].as_str().unwrap();
    let mut eli = logged_in(app, "eli@acme.test").await;
    assert_eq!(eli.get("/api/approvals").await.body["pending"], json!([]));
    let answer = eli.post(&format!("/api/orders/{id}/decisions"), json!({ "step_id": order["steps"][0]["id"], "decision": "approve", "revision": order["revision"] })).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.body["error"]["message"], json!("this step is not yours to decide"));
}
both_databases!(outside_unit, approving_outside_your_unit_is_refused);

async fn two_concurrent_approvals_one_wins(app: &TestApp) {
    let shop = shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    // Solvent: the hazmat rule, which any of Blake and Casey may approve.
    let submission = prepared(&mut buyer, json!([{ "sku": "SOLV-5", "quantity": 2 }]), "k").await;
    let order = buyer.post("/api/orders", submission).await.body;
    assert_eq!(order["steps"][0]["candidates"].as_array().unwrap().len(), 2, "{order}");
    let id = order["id"].as_str().unwrap().to_owned();
    let decision = json!({ "step_id": order["steps"][0]["id"], "decision": "approve", "revision": order["revision"] });
    let mut blake = logged_in(app, "blake@acme.test").await;
    let mut casey = logged_in(app, "casey@acme.test").await;
    let path = format!("/api/orders/{id}/decisions");
    let (a, b) =
        tokio::join!(blake.post(&path, decision.clone()), casey.post(&path, decision.clone()));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{:?} / {:?}", a.body, b.body);
    let loser = if a.status == StatusCode::CONFLICT { a } else { b };
    assert!(
        ["already_decided", "order_changed"]
            .contains(&loser.body["error"]["code"].as_str().unwrap())
    );
    let after = buyer.get(&format!("/api/orders/{id}")).await.body;
    assert_eq!(after["state"], json!("approved"));
    assert_eq!(after["history"].as_array().unwrap().len(), 2, "one decision recorded");
    let _ = shop;
}
both_databases!(concurrent, two_concurrent_approvals_one_wins);

async fn an_approved_order_does_not_drift(app: &TestApp) {
    shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let submission = prepared(&mut buyer, twenty_drills(), "k").await;
    let order = buyer.post("/api/orders", submission).await.body;
    let id = order["id"].as_str().unwrap().to_owned();
    let mut blake = logged_in(app, "blake@acme.test").await;
    let approved = blake.post(&format!("/api/orders/{id}/decisions"), json!({ "step_id": order["steps"][0]["id"], "decision": "approve", "revision": order["revision"] })).await.body;
    assert_eq!(approved["state"], json!("approved"));
    // More drills after approval: approval is needed again.
    let more = buyer.send(Method::PUT, &format!("/api/orders/{id}"), Some(json!({ "lines": [{ "sku": "DRL-100", "quantity": 25 }], "revision": approved["revision"] }))).await;
    assert_eq!(more.status, StatusCode::OK, "{:?}", more.body);
    assert_eq!(more.body["state"], json!("awaiting_approval"));
    let last = more.body["history"].as_array().unwrap().last().unwrap().clone();
    assert!(
        last["comment"].as_str().unwrap().contains("quantity 20 → 25 — needs approval again"),
        "{last}"
    );
    // The old approval cannot be replayed onto the new round.
    let replay = blake.post(&format!("/api/orders/{id}/decisions"), json!({ "step_id": order["steps"][0]["id"], "decision": "approve", "revision": more.body["revision"] })).await;
    assert_eq!(replay.status, StatusCode::CONFLICT);
    assert_eq!(replay.body["error"]["code"], json!("already_decided"));
    // An edit against an old revision is refused.
    let stale = buyer.send(Method::PUT, &format!("/api/orders/{id}"), Some(json!({ "lines": [{ "sku": "DRL-100", "quantity": 1 }], "revision": approved["revision"] }))).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    // A change is checked like a cart: its field named, nothing changed.
    let huge = buyer.send(Method::PUT, &format!("/api/orders/{id}"), Some(json!({ "lines": [{ "sku": "DRL-100", "quantity": 4_000_000_000u32 }], "revision": more.body["revision"] }))).await;
    assert_eq!(huge.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", huge.body);
    assert_eq!(huge.body["error"]["field"], json!("lines[0].quantity"));
    let now = buyer.get(&format!("/api/orders/{id}")).await;
    assert_eq!(now.body["revision"], more.body["revision"]);
}
both_databases!(drift, an_approved_order_does_not_drift);

async fn fewer_items_keep_an_approval(app: &TestApp) {
    shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let submission = prepared(&mut buyer, twenty_drills(), "k").await;
    let order = buyer.post("/api/orders", submission).await.body;
    let id = order["id"].as_str().unwrap().to_owned();
    let mut blake = logged_in(app, "blake@acme.test").await;
    let approved = blake.post(&format!("/api/orders/{id}/decisions"), json!({ "step_id": order["steps"][0]["id"], "decision": "approve", "revision": order["revision"] })).await.body;
    let fewer = buyer.send(Method::PUT, &format!("/api/orders/{id}"), Some(json!({ "lines": [{ "sku": "DRL-100", "quantity": 19 }], "revision": approved["revision"] }))).await;
    assert_eq!(fewer.body["state"], json!("approved"), "{:?}", fewer.body);
    assert_eq!(fewer.body["total"]["amount"], json!("3495.98"));
}
both_databases!(decrease, fewer_items_keep_an_approval);

async fn replaying_an_approval_is_refused(app: &TestApp) {
    shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let submission = prepared(&mut buyer, twenty_drills(), "k").await;
    let order = buyer.post("/api/orders", submission).await.body;
    let id = order["id"].as_str().unwrap().to_owned();
    let mut blake = logged_in(app, "blake@acme.test").await;
    let decision = json!({ "step_id": order["steps"][0]["id"], "decision": "approve", "revision": order["revision"] });
    assert_eq!(
        blake.post(&format!("/api/orders/{id}/decisions"), decision.clone()).await.status,
        StatusCode::OK
    );
    let again = blake.post(&format!("/api/orders/{id}/decisions"), decision).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(count(app, "order_history").await, 2);
}
both_databases!(replay, replaying_an_approval_is_refused);

async fn one_idempotency_key_one_order(app: &TestApp) {
    shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let submission = prepared(&mut buyer, twenty_drills(), "same-key").await;
    let (mut first, mut second) = (buyer.clone(), buyer.clone());
    let (a, b) = tokio::join!(
        first.post("/api/orders", submission.clone()),
        second.post("/api/orders", submission.clone())
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CREATED], "{:?} / {:?}", a.body, b.body);
    assert_eq!(a.body["id"], b.body["id"]);
    // A later retry too.
    let again = buyer.post("/api/orders", submission.clone()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["id"], a.body["id"]);
    assert_eq!(count(app, "orders").await, 1);
    // The same key with another request is refused.
    let mut other = submission;
    other["payment_method"] = json!("invoice");
    let refused = buyer.post("/api/orders", other).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["error"]["code"], json!("idempotency_key_reused"));
}
both_databases!(idempotency, one_idempotency_key_one_order);

/// Orders are numbered across the seller, in the order they are placed, each number once:
/// concurrent submissions of several companies included; a retry keeps its order's number.
async fn orders_are_numbered_in_the_order_they_are_placed(app: &TestApp) {
    shop(app).await;
    let mut buyers = Vec::new();
    for email in ["pat@acme.test", "blake@acme.test", "olga@globex.test"] {
        let mut c = logged_in(app, email).await;
        let submission =
            prepared(&mut c, json!([{ "sku": "BIT-SET", "quantity": 2 }]), email).await;
        buyers.push((c, submission));
    }
    let [(a, sa), (b, sb), (c, sc)] = &mut buyers[..] else { panic!("three buyers") };
    let (a, b, c) = tokio::join!(
        a.post("/api/orders", sa.clone()),
        b.post("/api/orders", sb.clone()),
        c.post("/api/orders", sc.clone())
    );
    let placed = [a, b, c];
    let mut numbers: Vec<i64> = placed
        .iter()
        .map(|p| {
            assert_eq!(p.status, StatusCode::CREATED, "{:?}", p.body);
            p.body["number"].as_i64().unwrap()
        })
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1001, 1002, 1003], "one number each, none skipped");
    // A retry answers the same order, with its number.
    let (pat, first) = &mut buyers[0];
    let again = pat.post("/api/orders", first.clone()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["number"], placed[0].body["number"]);
    // The next order comes after all of them.
    let next = prepared(pat, json!([{ "sku": "BIT-SET", "quantity": 3 }]), "later").await;
    let later = pat.post("/api/orders", next).await;
    assert_eq!(later.status, StatusCode::CREATED, "{:?}", later.body);
    assert_eq!(later.body["number"], json!(1004));
    // Each buyer's list shows their own orders' numbers, newest first.
    let mine: Vec<Value> = pat.get("/api/orders").await.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["number"].clone())
        .collect();
    assert_eq!(mine, [json!(1004), placed[0].body["number"].clone()]);
    // An order is found by its number, only by those who may see it.
    let found = pat.get("/api/orders?number=1004").await.body;
    assert_eq!(found["orders"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["orders"][0]["id"], later.body["id"]);
    let (olga, _) = &mut buyers[2];
    assert_eq!(olga.get("/api/orders?number=1004").await.body["orders"], json!([]));
    let mut seller = logged_in(app, "admin@toolmaker.test").await;
    let seen = seller.get("/api/orders?number=1004").await.body;
    assert_eq!(seen["orders"][0]["id"], later.body["id"], "the seller sees every order");
    let wrong = seller.get("/api/orders?number=twelve").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.body["error"]["field"], json!("number"));
}
both_databases!(order_numbers, orders_are_numbered_in_the_order_they_are_placed);

/// A page's saves of the cart may arrive out of order: an older one arriving late is not
/// applied over a newer one of the same page; another page's (or an unnamed) save is.
async fn a_late_cart_save_does_not_overwrite_a_newer_one(app: &TestApp) {
    shop(app).await;
    let mut pat = logged_in(app, "pat@acme.test").await;
    let save = |writer: &str, seq: i64, quantity: u32| json!({ "lines": [{ "sku": "BIT-SET", "quantity": quantity }], "writer": writer, "seq": seq });
    let lines_of = |quantity: u32| json!([{ "sku": "BIT-SET", "quantity": quantity }]);
    let newer = pat.send(Method::PUT, "/api/cart", Some(save("page-1", 2, 7))).await;
    assert_eq!(newer.status, StatusCode::OK, "{:?}", newer.body);
    assert_eq!(newer.body["applied"], json!(true));
    let late = pat.send(Method::PUT, "/api/cart", Some(save("page-1", 1, 3))).await;
    assert_eq!(late.status, StatusCode::OK, "{:?}", late.body);
    assert_eq!(late.body, json!({ "lines": lines_of(7), "applied": false }));
    assert_eq!(pat.get("/api/cart").await.body["lines"], lines_of(7));
    let again = pat.send(Method::PUT, "/api/cart", Some(save("page-1", 2, 4))).await;
    assert_eq!(again.body["applied"], json!(false), "the same save twice applies once");
    // Another page starts its own count; a save without a writer is applied as it comes.
    let other = pat.send(Method::PUT, "/api/cart", Some(save("page-2", 1, 5))).await;
    assert_eq!(other.body["applied"], json!(true));
    assert_eq!(pat.get("/api/cart").await.body["lines"], lines_of(5));
    let plain = pat.send(Method::PUT, "/api/cart", Some(json!({ "lines": lines_of(6) }))).await;
    assert_eq!(plain.body["applied"], json!(true));
    assert_eq!(pat.get("/api/cart").await.body["lines"], lines_of(6));
    // A writer without its count, or too long a writer, is refused, naming the field.
    let no_seq = pat
        .send(Method::PUT, "/api/cart", Some(json!({ "lines": lines_of(1), "writer": "page-3" })))
        .await;
    assert_eq!(no_seq.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_seq.body["error"]["field"], json!("seq"));
    let long = pat.send(Method::PUT, "/api/cart", Some(save(&"w".repeat(65), 1, 1))).await;
    assert_eq!(long.body["error"]["field"], json!("writer"));
    assert_eq!(pat.get("/api/cart").await.body["lines"], lines_of(6), "nothing refused is kept");

    // A save sent before a submission and arriving after it does not bring the ordered lines
    // back: the submission empties the cart and the page's count stays.
    assert_eq!(
        pat.send(Method::PUT, "/api/cart", Some(save("page-4", 8, 2))).await.status,
        StatusCode::OK
    );
    let context = pat.get("/api/checkout/context").await.body;
    let submission = json!({ "idempotency_key": "late-save", "claimed": claims(&context) });
    let placed = pat.post("/api/orders", submission).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
    assert_eq!(pat.get("/api/cart").await.body["lines"], json!([]));
    let late = pat.send(Method::PUT, "/api/cart", Some(save("page-4", 7, 2))).await;
    assert_eq!(late.body, json!({ "lines": [], "applied": false }));
    let next = pat.send(Method::PUT, "/api/cart", Some(save("page-4", 9, 1))).await;
    assert_eq!(next.body["applied"], json!(true), "the page's next save is applied");
}
both_databases!(late_cart_save, a_late_cart_save_does_not_overwrite_a_newer_one);

async fn roles_and_companies_are_checked(app: &TestApp) {
    let shop = shop(app).await;
    let mut rep = logged_in(app, "rep@toolmaker.test").await;
    assert_eq!(
        rep.get("/api/cart").await.status,
        StatusCode::FORBIDDEN,
        "seller staff do not order"
    );
    let mut buyer = logged_in(app, "pat@acme.test").await;
    assert_eq!(
        buyer.get("/api/catalog/document").await.status,
        StatusCode::FORBIDDEN,
        "contract prices are the seller's"
    );
    assert_eq!(
        buyer.get(&format!("/api/companies/{}", shop.other_customer)).await.status,
        StatusCode::NOT_FOUND
    );
    let policy = buyer
        .send(
            Method::PUT,
            &format!("/api/companies/{}/policy", shop.customer),
            Some(json!({ "name": "none" })),
        )
        .await;
    assert_eq!(policy.status, StatusCode::FORBIDDEN);
    let bad_cart = buyer
        .send(
            Method::PUT,
            "/api/cart",
            Some(json!({ "lines": [{ "sku": "NOPE", "quantity": 1 }] })),
        )
        .await;
    assert_eq!(bad_cart.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_cart.body["error"]["field"], json!("lines[0].sku"));
    let zero = buyer
        .send(
            Method::PUT,
            "/api/cart",
            Some(json!({ "lines": [{ "sku": "DRL-100", "quantity": 0 }] })),
        )
        .await;
    assert_eq!(zero.body["error"]["field"], json!("lines[0].quantity"));
    // A quantity past a million a line is a slip, not an order; so is a cart of 501 lines.
    let huge = buyer
        .send(
            Method::PUT,
            "/api/cart",
            Some(json!({ "lines": [{ "sku": "BIT-SET", "quantity": 1 }, { "sku": "DRL-100", "quantity": 1_000_001 }] })),
        )
        .await;
    assert_eq!(huge.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(huge.body["error"]["field"], json!("lines[1].quantity"), "{:?}", huge.body);
    let long: Vec<Value> =
        (0..501).map(|i| json!({ "sku": format!("SKU-{i}"), "quantity": 1 })).collect();
    let long = buyer.send(Method::PUT, "/api/cart", Some(json!({ "lines": long }))).await;
    assert_eq!(long.body["error"]["field"], json!("lines"), "{:?}", long.body);
    assert_eq!(buyer.get("/api/cart").await.body["lines"], json!([]), "nothing was stored");
    // The company admin edits the policy; a policy naming an unknown user is refused with its path.
    let mut dana = logged_in(app, "dana@acme.test").await;
    let bad = dana.send(Method::PUT, &format!("/api/companies/{}/policy", shop.customer), Some(json!({ "name": "X", "rules": [{ "id": "r", "name": "R", "min_total": { "amount": "1.00", "currency": "USD" }, "approver": { "user": "usr_nobody" } }] }))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["error"]["diagnostics"][0]["path"], json!("rules[0].approver"));
    let good = dana.send(Method::PUT, &format!("/api/companies/{}/policy", shop.customer), Some(json!({ "name": "Everyone approves", "rules": [{ "id": "r", "name": "R", "min_total": { "amount": "1.00", "currency": "USD" }, "approver": { "user": shop.a3 } }] }))).await;
    assert_eq!(good.status, StatusCode::OK, "{:?}", good.body);
    assert_eq!(good.body["version"], json!(2));
    let _ = (
        shop.ny,
        shop.emea,
        shop.emea_approver,
        shop.admin,
        shop.other_approver,
        shop.buyer,
        shop.a1,
    );
}
both_databases!(access, roles_and_companies_are_checked);

async fn companies_are_listed_to_the_seller_and_only_their_own_to_customers(app: &TestApp) {
    let shop = shop(app).await;
    let mut seller = logged_in(app, "admin@toolmaker.test").await;
    let all = seller.get("/api/companies").await;
    assert_eq!(all.status, StatusCode::OK);
    let ids: Vec<&str> = all.body["companies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&shop.customer.as_str()) && ids.contains(&shop.other_customer.as_str()),
        "{ids:?}"
    );
    assert!(all.body["companies"].as_array().unwrap().iter().all(|c| c["seller"] == json!(false)));

    let mut buyer = logged_in(app, "pat@acme.test").await;
    let own = buyer.get("/api/companies").await;
    assert_eq!(own.status, StatusCode::OK);
    let ids: Vec<&str> = own.body["companies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [shop.customer.as_str()]);
    assert_eq!(app.client().get("/api/companies").await.status, StatusCode::UNAUTHORIZED);
}
both_databases!(companies_list, companies_are_listed_to_the_seller_and_only_their_own_to_customers);

async fn the_sellers_companies_come_a_page_at_a_time_by_name_and_can_be_searched(app: &TestApp) {
    let shop = shop(app).await;
    let names =
        ["Zeta 50% Tools", "Zeta_Parts", "Zebra Supplies", "Zeta Parts", "Zenith", "Ölwerke Ærø"];
    for name in names {
        server::seed::company(
            &app.state,
            server::seed::NewCompany {
                name,
                seller: false,
                customer_group: None,
                country: "US",
                region: None,
                currency: "USD",
            },
        )
        .await
        .unwrap();
    }
    let mut seller = logged_in(app, "admin@toolmaker.test").await;
    let names = |body: &Value| -> Vec<String> {
        body["companies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = seller.get("/api/companies?limit=200").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body["next"], Value::Null);
    let every = names(&all.body);
    assert_eq!(every.len(), 8, "{every:?}");
    // By name, in the database's collation (binary on SQLite; PostgreSQL's may not be).
    assert_eq!(every[0], "Acme Corp", "{every:?}");
    // Two at a time: the same companies, in the same order, each once.
    let mut paged = Vec::new();
    let mut path = "/api/companies?limit=2".to_owned();
    loop {
        let page = seller.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        assert!(names(&page.body).len() <= 2);
        paged.extend(names(&page.body));
        match page.body["next"].as_str() {
            Some(next) => path = format!("/api/companies?limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(paged, every);
    // Search: in the name or the id, any case; `%` and `_` are themselves.
    let zeta = names(&seller.get("/api/companies?q=ZETA").await.body);
    let mut sorted = zeta.clone();
    sorted.sort();
    assert_eq!(sorted, ["Zeta 50% Tools", "Zeta Parts", "Zeta_Parts"]);
    assert_eq!(names(&seller.get("/api/companies?q=50%25").await.body), ["Zeta 50% Tools"]);
    assert_eq!(names(&seller.get("/api/companies?q=a_p").await.body), ["Zeta_Parts"]);
    // A parameter of the query or of the path that does not fit is named, in the API's format.
    let bad = seller.get("/api/companies?limit=abc").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", bad.body);
    assert_eq!(bad.body["error"]["field"], json!("limit"), "{:?}", bad.body);
    let bad = seller.get("/api/workflows/b2b-order/versions/abc").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", bad.body);
    assert_eq!(bad.body["error"]["field"], json!("version"), "{:?}", bad.body);
    assert_eq!(bad.body["error"]["message"], json!("\"abc\" is not a whole number"));
    // Letters beyond ASCII in any case too (SQLite's own `lower` would not fold them).
    for q in ["%C3%96LWERKE%20%C3%A6R%C3%B8", "%C3%B6lwerke", "%C3%86R%C3%98"] {
        let found = seller.get(&format!("/api/companies?q={q}")).await;
        assert_eq!(names(&found.body), ["Ölwerke Ærø"], "q={q}");
    }
    let by_id = seller.get(&format!("/api/companies?q={}", shop.other_customer)).await;
    assert_eq!(by_id.body["companies"][0]["id"], json!(shop.other_customer));
    let zeta_page = seller.get("/api/companies?q=zeta&limit=1").await;
    let next = zeta_page.body["next"].as_str().unwrap().to_owned();
    assert_eq!(names(&zeta_page.body), zeta[..1]);
    let rest = seller.get(&format!("/api/companies?q=zeta&limit=5&after={next}")).await;
    assert_eq!(names(&rest.body), zeta[1..]);
    // A cursor that names no customer company is refused, naming the parameter.
    for bad in ["nothing", shop.seller.as_str()] {
        let refused = seller.get(&format!("/api/companies?after={bad}")).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused.body["error"]["field"], json!("after"));
    }
    // Narrowed to the companies one sales rep manages (searched and paged as the rest), or to
    // those that no one manages.
    let mut rep = logged_in(app, "rep@toolmaker.test").await;
    let rep_id = rep.get("/api/session").await.body["user_id"].as_str().unwrap().to_owned();
    let zeta_parts = seller.get("/api/companies?q=Zeta%20Parts").await.body["companies"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for company in [&shop.customer, &zeta_parts] {
        let path = format!("/api/companies/{company}/sales-rep");
        let assigned = seller.send(Method::PUT, &path, Some(json!({ "user_id": rep_id }))).await;
        assert_eq!(assigned.status, StatusCode::OK, "{:?}", assigned.body);
    }
    let managed = rep.get(&format!("/api/companies?manager={rep_id}")).await;
    assert_eq!(managed.status, StatusCode::OK, "{:?}", managed.body);
    assert_eq!(names(&managed.body), ["Acme Corp", "Zeta Parts"]);
    let first = rep.get(&format!("/api/companies?manager={rep_id}&limit=1")).await.body;
    assert_eq!(names(&first), ["Acme Corp"]);
    let after = first["next"].as_str().unwrap();
    let rest = rep.get(&format!("/api/companies?manager={rep_id}&after={after}")).await.body;
    assert_eq!(names(&rest), ["Zeta Parts"]);
    assert_eq!(rest["next"], Value::Null);
    let searched = rep.get(&format!("/api/companies?manager={rep_id}&q=zeta")).await.body;
    assert_eq!(names(&searched), ["Zeta Parts"]);
    let unmanaged = names(&seller.get("/api/companies?manager=none&limit=200").await.body);
    assert_eq!(unmanaged.len(), every.len() - 2, "{unmanaged:?}");
    assert!(!unmanaged.iter().any(|n| n == "Acme Corp" || n == "Zeta Parts"), "{unmanaged:?}");
    let nobody = seller.get("/api/companies?manager=usr_nobody").await.body;
    assert_eq!(names(&nobody), Vec::<String>::new());
    // A customer sees its own company, whatever it asks.
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let own = buyer.get("/api/companies?q=zeta").await;
    assert_eq!(own.body["companies"][0]["id"], json!(shop.customer));
    assert_eq!(own.body["next"], Value::Null);
}
both_databases!(
    companies_paging,
    the_sellers_companies_come_a_page_at_a_time_by_name_and_can_be_searched
);

/// A monthly spending limit: the server sums what the buyer spent this month (rejected orders
/// aside) and, past the limit, the order needs the approver the policy names.
async fn a_spending_limit_counts_what_the_buyer_spent_this_month(app: &TestApp) {
    let shop = shop(app).await;
    let mut dana = logged_in(app, "dana@acme.test").await;
    let policy = json!({ "name": "Budget", "spending_limits": [{
        "id": "monthly", "name": "Monthly budget", "applies_to": "everyone", "period": "month",
        "amount": { "amount": "60.00", "currency": "USD" }, "on_exceed": { "approval": { "user": shop.a3 } } }] });
    let put = dana
        .send(Method::PUT, &format!("/api/companies/{}/policy", shop.customer), Some(policy))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let one_set = json!([{ "sku": "BIT-SET", "quantity": 1 }]);
    // 24.90 USD and tax: within the budget.
    let first = prepared(&mut buyer, one_set.clone(), "first").await;
    let first = buyer.post("/api/orders", first).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(first.body["state"], json!("approved"));
    // Another one: still within 60.00 USD.
    let second = prepared(&mut buyer, one_set.clone(), "second").await;
    let second = buyer.post("/api/orders", second).await;
    assert_eq!(second.body["state"], json!("approved"), "{:?}", second.body);
    // Changing it (to the same lines) measures it against what was spent besides itself: it
    // stays within the budget and approved.
    let id = second.body["id"].as_str().unwrap();
    let same = json!({ "lines": [{ "sku": "BIT-SET", "quantity": 1 }], "revision": second.body["revision"] });
    let changed = buyer.send(Method::PUT, &format!("/api/orders/{id}"), Some(same)).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["state"], json!("approved"), "{:?}", changed.body["plan"]);
    // The third goes past it: Casey must approve.
    let third = prepared(&mut buyer, one_set, "third").await;
    let third = buyer.post("/api/orders", third).await;
    assert_eq!(third.status, StatusCode::CREATED, "{:?}", third.body);
    assert_eq!(third.body["state"], json!("awaiting_approval"), "{:?}", third.body);
    assert_eq!(third.body["steps"][0]["candidates"][0]["id"], json!(shop.a3));
    // What the buyer spent, as the checkout sees it: the three orders, then, once Casey
    // rejects the third, the first two only.
    let one = rules::decimal::parse_decimal(first.body["total"]["amount"].as_str().unwrap());
    let one = one.unwrap();
    let spent = |body: Value| {
        let amount = body["request"]["spent"][0]["amount"]["amount"].as_str().unwrap().to_owned();
        rules::decimal::parse_decimal(&amount).unwrap()
    };
    let context = buyer.get("/api/checkout/context").await;
    assert_eq!(spent(context.body), one + one + one);
    // Changing the second order is previewed on its own lines, against what was spent
    // besides it, as the server measures the change.
    let second_id = second.body["id"].as_str().unwrap();
    let changing = buyer.get(&format!("/api/checkout/context?order={second_id}")).await;
    assert_eq!(changing.status, StatusCode::OK, "{:?}", changing.body);
    assert_eq!(
        changing.body["request"]["cart"]["lines"],
        json!([{ "sku": "BIT-SET", "quantity": 1 }])
    );
    assert_eq!(spent(changing.body), one + one);
    let mut casey = logged_in(app, "casey@acme.test").await;
    let not_theirs = casey.get(&format!("/api/checkout/context?order={second_id}")).await;
    assert_eq!(not_theirs.status, StatusCode::FORBIDDEN, "only the buyer changes an order");
    let id = third.body["id"].as_str().unwrap();
    let rejected = casey.post(&format!("/api/orders/{id}/decisions"), json!({ "step_id": third.body["steps"][0]["id"], "decision": "reject", "comment": "over budget", "revision": third.body["revision"] })).await;
    assert_eq!(rejected.body["state"], json!("rejected"), "{:?}", rejected.body);
    let context = buyer.get("/api/checkout/context").await;
    assert_eq!(spent(context.body), one + one);
    // A rejected order never counted: changing it is measured against the same two.
    let changing = buyer.get(&format!("/api/checkout/context?order={id}")).await;
    assert_eq!(spent(changing.body), one + one);
}
both_databases!(spending_limit, a_spending_limit_counts_what_the_buyer_spent_this_month);

/// Follows a list's `next` cursors with `param` and a page size of 2, and returns the pages.
async fn pages(c: &mut Client, path: &str, param: &str, items: &str) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut url = format!("{path}?limit=2");
    loop {
        let page = c.get(&url).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        pages.push(page.body[items].as_array().unwrap().clone());
        match page.body["next"].as_str() {
            Some(next) => url = format!("{path}?limit=2&{param}={next}"),
            None => return pages,
        }
    }
}

/// The orders list (newest first) and the approval queue (oldest first) come a page at a
/// time; following the cursors gives every item once, in order, and only the approver's own
/// steps are in their queue.
async fn lists_come_a_page_at_a_time(app: &TestApp) {
    shop(app).await;
    let mut buyer = logged_in(app, "pat@acme.test").await;
    let mut placed = Vec::new();
    for key in ["p1", "p2", "p3", "p4", "p5"] {
        // Solvent: a step that Blake and Casey may take.
        let submission =
            prepared(&mut buyer, json!([{ "sku": "SOLV-5", "quantity": 2 }]), key).await;
        let order = buyer.post("/api/orders", submission).await;
        assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
        placed.push(order.body["id"].as_str().unwrap().to_owned());
    }
    let ids = |pages: &[Vec<Value>], field: &str| -> Vec<String> {
        pages.iter().flatten().map(|o| o[field].as_str().unwrap().to_owned()).collect()
    };

    let orders = pages(&mut buyer, "/api/orders", "before", "orders").await;
    assert_eq!(orders.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    let newest_first: Vec<String> = placed.iter().rev().cloned().collect();
    assert_eq!(ids(&orders, "id"), newest_first);

    let mut blake = logged_in(app, "blake@acme.test").await;
    let queue = pages(&mut blake, "/api/approvals", "after", "pending").await;
    assert_eq!(queue.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    assert_eq!(ids(&queue, "order_id"), placed);
    assert!(queue.iter().flatten().all(|p| p["why"].as_array().is_some_and(|w| !w.is_empty())));
    let mut avery = logged_in(app, "avery@acme.test").await;
    assert_eq!(avery.get("/api/approvals").await.body, json!({ "pending": [], "next": null }));

    // A decided step leaves the queue; the rest still come once each.
    let first = buyer.get(&format!("/api/orders/{}", placed[0])).await.body;
    let approved = blake.post(&format!("/api/orders/{}/decisions", placed[0]), json!({ "step_id": first["steps"][0]["id"], "decision": "approve", "revision": first["revision"] })).await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
    let queue = pages(&mut blake, "/api/approvals", "after", "pending").await;
    assert_eq!(ids(&queue, "order_id"), placed[1..]);

    for (path, field) in
        [("/api/orders?before=yesterday", "before"), ("/api/approvals?after=12", "after")]
    {
        let bad = blake.get(path).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {:?}", bad.body);
        assert_eq!(bad.body["error"]["field"], json!(field), "{path}");
    }
}
both_databases!(paging, lists_come_a_page_at_a_time);
