//! Orders run on workflows: the built-in one by default, a seller's own one (scoped to the
//! customer) for orders submitted after it is published, older orders staying on their
//! version; the approval steps drive the instance, a custom transition or a timer moves the
//! order's state; the instance's fields are the server's figures.

use super::*;
use axum::http::{Method, StatusCode};
use harness::{Answer, Client, PASSWORD};
use rules::time::Duration;
use serde_json::{Value, json};
use shop::{claims, shop};

const DEFAULT_WORKFLOW: &str = include_str!("../../workflows/default-order.json");
const SEED_WORKFLOW: &str = include_str!("../../demo/order-workflow.json");

async fn logged_in(app: &TestApp, email: &str) -> Client {
    let mut c = app.client();
    let answer = c.login(email, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{email}: {:?}", answer.body);
    c
}

/// Submits `lines` as the browser would; answers the order.
async fn order(c: &mut Client, lines: Value, key: &str) -> Value {
    let put = c.send(Method::PUT, "/api/cart", Some(json!({ "lines": lines }))).await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    let context = c.get("/api/checkout/context").await.body;
    let placed =
        c.post("/api/orders", json!({ "idempotency_key": key, "claimed": claims(&context) })).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
    placed.body
}

/// 20 drills: 3,679.98 USD with tax, Approver 2.
fn twenty_drills() -> Value {
    json!([{ "sku": "DRL-100", "quantity": 20 }])
}

/// One bit set: no approval.
fn one_bit_set() -> Value {
    json!([{ "sku": "BIT-SET", "quantity": 1 }])
}

/// The built-in workflow made the seller's own for one customer: after approval the back
/// office ships the order; an approved order not shipped after 7 days is overdue.
fn custom(customer: &str, label: &str) -> Value {
    let mut def: Value = serde_json::from_str(DEFAULT_WORKFLOW).unwrap();
    def["id"] = json!("acme-orders");
    def["name"] = json!("Acme orders, shipped by the back office");
    def["scope"] = json!({ "customer": customer });
    let states = def["states"].as_array_mut().unwrap();
    states.push(json!({ "id": "shipped", "label": "Shipped", "terminal": true }));
    states.push(json!({ "id": "overdue", "label": "Overdue" }));
    let transitions = def["transitions"].as_array_mut().unwrap();
    let placed = transitions.iter_mut().find(|t| t["id"] == json!("needs-no-approval")).unwrap();
    placed["actions"] = json!([{ "notify": { "to": ["sales_rep"], "template": "order-placed" } }]);
    transitions.push(json!({ "id": "ship", "from": "approved", "to": "shipped", "label": label, "roles": ["back_office", "seller_admin"],
                             "actions": [{ "notify": { "to": ["buyer"], "template": "order-shipped" } }] }));
    transitions.push(json!({ "id": "overdue", "from": "approved", "to": "overdue", "label": "Not shipped in 7 days", "trigger": { "timer": { "after": "7d" } } }));
    transitions.push(json!({ "id": "ship-late", "from": "overdue", "to": "shipped", "label": "Ship late", "roles": ["back_office", "seller_admin"] }));
    def
}

async fn publish(admin: &mut Client, def: Value) -> i64 {
    let id = def["id"].as_str().unwrap().to_owned();
    let saved = if admin.get(&format!("/api/workflows/{id}")).await.status == StatusCode::OK {
        admin.send(Method::PUT, &format!("/api/workflows/{id}/draft"), Some(def)).await
    } else {
        admin.post("/api/workflows", def).await
    };
    assert!(saved.status.is_success(), "{:?}", saved.body);
    let version = saved.body["version"].as_i64().unwrap();
    let published =
        admin.post(&format!("/api/workflows/{id}/versions/{version}/publish"), json!({})).await;
    assert_eq!(published.status, StatusCode::OK, "{:?}", published.body);
    version
}

async fn orders_run_on_the_default_workflow(app: &TestApp) {
    let shop = shop(app).await;
    // The seed workflow models draft orders submitted by hand: published for every customer,
    // it cannot take a submitted order, so orders still run on the built-in workflow.
    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    publish(&mut admin, serde_json::from_str(SEED_WORKFLOW).unwrap()).await;

    let mut pat = logged_in(app, "pat@acme.test").await;
    let placed = order(&mut pat, twenty_drills(), "k1").await;
    let id = placed["id"].as_str().unwrap().to_owned();
    assert_eq!(placed["state"], json!("awaiting_approval"));
    let workflow = &placed["workflow"];
    assert_eq!(workflow["id"], json!("default-order"), "{placed}");
    assert_eq!(workflow["version"], json!(1));
    assert_eq!(workflow["state"], json!("awaiting_approval"));
    assert_eq!(placed["transitions"], json!([]), "the built-in workflow has no manual transition");
    assert_eq!(pat.get(&format!("/api/orders/{id}")).await.body, placed);
    let instance_id = workflow["instance_id"].as_str().unwrap().to_owned();
    let instance = pat.get(&format!("/api/workflow-instances/{instance_id}")).await.body;
    assert_eq!(instance["entity_id"], json!(id));
    assert_eq!(instance["instance"]["state"], json!("awaiting_approval"));
    assert_eq!(instance["history"][0]["transition"], json!("needs-approval"));
    assert_eq!(instance["history"][0]["cause"], json!("event"));

    // Its fields and approval events come from the server, not from the instance API.
    let forged = pat
        .post(
            &format!("/api/workflow-instances/{instance_id}/events"),
            json!({ "event": "approval.granted", "fields": { "order.total": { "money": { "amount": "1.00", "currency": "USD" } } } }),
        )
        .await;
    assert_eq!(forged.status, StatusCode::CONFLICT, "{:?}", forged.body);
    assert_eq!(forged.body["error"]["code"], json!("order_instance"));
    // Another buyer of the company sees neither the order nor its instance.
    server::seed::user(
        &app.state,
        server::seed::NewUser {
            company_id: &shop.customer,
            email: "bob@acme.test",
            name: "Bob Buyer",
            password: PASSWORD,
            roles: &["buyer"],
            unit_id: None,
            manager_id: None,
        },
    )
    .await
    .unwrap();
    let mut bob = logged_in(app, "bob@acme.test").await;
    let hidden = bob.get(&format!("/api/workflow-instances/{instance_id}")).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(bob.get(&format!("/api/orders/{id}")).await.status, StatusCode::NOT_FOUND);

    // The approval drives the instance; the order's state follows it.
    let mut blake = logged_in(app, "blake@acme.test").await;
    let approved = blake
        .post(
            &format!("/api/orders/{id}/decisions"),
            json!({ "step_id": placed["steps"][0]["id"], "decision": "approve", "comment": "ok", "revision": placed["revision"] }),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
    assert_eq!(approved.body["state"], json!("approved"));
    assert_eq!(approved.body["workflow"]["state"], json!("approved"));
    let instance = pat.get(&format!("/api/workflow-instances/{instance_id}")).await.body;
    assert_eq!(instance["instance"]["state"], json!("approved"));
    assert_eq!(instance["history"][1]["transition"], json!("approve"));

    // No approval needed: straight to approved.
    let small = order(&mut pat, one_bit_set(), "k2").await;
    assert_eq!(small["state"], json!("approved"));
    assert_eq!(small["workflow"]["id"], json!("default-order"));

    // A rejection sends the order back to the buyer; a change starts a new round.
    let third = order(&mut pat, twenty_drills(), "k3").await;
    let third_id = third["id"].as_str().unwrap();
    let rejected = blake
        .post(
            &format!("/api/orders/{third_id}/decisions"),
            json!({ "step_id": third["steps"][0]["id"], "decision": "reject", "comment": "no", "revision": third["revision"] }),
        )
        .await;
    assert_eq!(rejected.body["state"], json!("rejected"));
    assert_eq!(rejected.body["workflow"]["state"], json!("rejected"));
    let changed = pat
        .send(
            Method::PUT,
            &format!("/api/orders/{third_id}"),
            Some(json!({ "lines": [{ "sku": "DRL-100", "quantity": 1 }], "revision": rejected.body["revision"] })),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["state"], json!("approved"));
    assert_eq!(changed.body["workflow"]["state"], json!("approved"));

    // The built-in workflow is listed, and nobody edits it.
    let listed = admin.get("/api/workflows/default-order").await;
    assert_eq!(listed.body["builtin"], json!(true), "{:?}", listed.body);
    assert_eq!(listed.body["versions"][0]["instances"], json!(3));
    let mut own: Value = serde_json::from_str(DEFAULT_WORKFLOW).unwrap();
    own["name"] = json!("Mine now");
    let edit =
        admin.send(Method::PUT, "/api/workflows/default-order/draft", Some(own.clone())).await;
    assert_eq!(edit.status, StatusCode::CONFLICT);
    assert_eq!(edit.body["error"]["code"], json!("builtin_workflow"));
    assert_eq!(admin.post("/api/workflows", own).await.body["error"]["field"], json!("id"));
}
both_databases!(default_order_workflow, orders_run_on_the_default_workflow);

async fn a_custom_workflow_takes_new_orders_only(app: &TestApp) {
    let shop = shop(app).await;
    let mut pat = logged_in(app, "pat@acme.test").await;
    let before = order(&mut pat, one_bit_set(), "before").await;
    assert_eq!(before["workflow"]["id"], json!("default-order"));

    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    assert_eq!(publish(&mut admin, custom(&shop.customer, "Ship")).await, 1);
    let after = order(&mut pat, one_bit_set(), "after").await;
    let after_id = after["id"].as_str().unwrap().to_owned();
    assert_eq!(after["workflow"]["id"], json!("acme-orders"), "{after}");
    assert_eq!(after["workflow"]["version"], json!(1));
    assert_eq!(after["state"], json!("approved"));
    // The transition the submission fired told the sales rep, naming the order by the number
    // it got in the same transaction.
    let mut rita = logged_in(app, "rep@toolmaker.test").await;
    let told = rita.get("/api/notifications").await.body["notifications"][0].clone();
    let number = &after["number"];
    assert_eq!(
        told["title"],
        json!(format!(
            "Acme orders, shipped by the back office: Needs no approval (order {number})"
        ))
    );
    assert_eq!(
        told["body"],
        json!(format!("Order placed.\n\nOrder {number}: submitted → approved."))
    );
    assert_eq!(told["order_id"], json!(after_id));
    // The older order stays on the version it started on.
    let before_id = before["id"].as_str().unwrap();
    let again = pat.get(&format!("/api/orders/{before_id}")).await.body;
    assert_eq!(again["workflow"]["id"], json!("default-order"));
    // Another customer's orders are not in the scope.
    let mut olga = logged_in(app, "olga@globex.test").await;
    let elsewhere = order(&mut olga, one_bit_set(), "globex").await;
    assert_eq!(elsewhere["workflow"]["id"], json!("default-order"));

    // The buyer sees the transition, not enabled for them, and why.
    let ship = &after["transitions"][0];
    assert_eq!(ship["id"], json!("ship"), "{after}");
    assert_eq!(ship["enabled"], json!(false));
    assert!(!ship["why"][0].as_str().unwrap().is_empty(), "{ship}");
    let refused = pat
        .post(
            &format!("/api/orders/{after_id}/transitions/ship"),
            json!({ "revision": after["revision"] }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert_eq!(refused.body["error"]["refusal"]["code"], json!("role_not_allowed"));

    // The seller's admin ships it: the order's state follows, with its history.
    let seen = admin.get(&format!("/api/orders/{after_id}")).await.body;
    assert_eq!(seen["transitions"][0]["enabled"], json!(true), "{seen}");
    let stale = admin
        .post(&format!("/api/orders/{after_id}/transitions/ship"), json!({ "revision": 0 }))
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.body["error"]["field"], json!("revision"));
    let shipped = admin
        .post(
            &format!("/api/orders/{after_id}/transitions/ship"),
            json!({ "revision": seen["revision"] }),
        )
        .await;
    assert_eq!(shipped.status, StatusCode::OK, "{:?}", shipped.body);
    assert_eq!(shipped.body["state"], json!("shipped"));
    assert_eq!(shipped.body["workflow"]["state"], json!("shipped"));
    let last = shipped.body["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["from"], json!("approved"));
    assert_eq!(last["to"], json!("shipped"));
    assert_eq!(last["actor_name"], json!("Sam Seller"));
    assert_eq!(pat.get("/api/orders").await.body["orders"][0]["state"], json!("shipped"));
    // The list's filter offers the workflow's own states, counted among the orders each sees.
    let states = |n_approved: i64, shipped: bool| {
        let mut s = vec![json!({ "state": "approved", "count": n_approved })];
        if shipped {
            s.push(json!({ "state": "shipped", "count": 1 }));
        }
        json!({ "states": s })
    };
    assert_eq!(pat.get("/api/orders/states").await.body, states(1, true));
    assert_eq!(olga.get("/api/orders/states").await.body, states(1, false));
    assert_eq!(admin.get("/api/orders/states").await.body, states(2, true));
    assert_eq!(app.client().get("/api/orders/states").await.status, StatusCode::UNAUTHORIZED);
    // The buyer is told, of the order by its number, with a link to it.
    let told = pat.get("/api/notifications").await.body["notifications"][0].clone();
    let number = &after["number"];
    assert_eq!(
        told["title"],
        json!(format!("Acme orders, shipped by the back office: Ship (order {number})"))
    );
    assert_eq!(
        told["body"],
        json!(format!("Order shipped.\n\nOrder {number}: approved → shipped."))
    );
    assert_eq!(told["order_id"], json!(after_id));

    // Version 2: new orders start on it, the shipped one stays on version 1.
    assert_eq!(publish(&mut admin, custom(&shop.customer, "Ship it")).await, 2);
    let newer = order(&mut pat, twenty_drills(), "newer").await;
    assert_eq!(newer["workflow"]["version"], json!(2));
    assert_eq!(newer["state"], json!("awaiting_approval"));
    let shipped_again = pat.get(&format!("/api/orders/{after_id}")).await.body;
    assert_eq!(shipped_again["workflow"]["version"], json!(1));

    // A timer of the custom workflow moves an approved order's state too.
    let newer_id = newer["id"].as_str().unwrap().to_owned();
    let mut blake = logged_in(app, "blake@acme.test").await;
    let approved = blake
        .post(
            &format!("/api/orders/{newer_id}/decisions"),
            json!({ "step_id": newer["steps"][0]["id"], "decision": "approve", "comment": "ok", "revision": newer["revision"] }),
        )
        .await;
    assert_eq!(approved.body["state"], json!("approved"), "{:?}", approved.body);
    let later = server::util::now().checked_add(Duration::parse("8d").unwrap()).unwrap();
    let tick = server::instances::fire_due_timers(&app.state, later, 100).await.unwrap();
    assert_eq!(tick.fired, 1, "{tick:?}");
    let overdue = pat.get(&format!("/api/orders/{newer_id}")).await.body;
    assert_eq!(overdue["state"], json!("overdue"));
    let last = overdue["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["to"], json!("overdue"));
    assert_eq!(last["comment"], json!("Not shipped in 7 days"));
}
both_databases!(custom_order_workflow, a_custom_workflow_takes_new_orders_only);

async fn the_instance_gets_the_servers_figures(app: &TestApp) {
    let shop = shop(app).await;
    let mut pat = logged_in(app, "pat@acme.test").await;
    let put = pat.send(Method::PUT, "/api/cart", Some(json!({ "lines": twenty_drills() }))).await;
    assert_eq!(put.status, StatusCode::OK);
    let context = pat.get("/api/checkout/context").await.body;
    let mut claimed = claims(&context);
    claimed["total"]["amount"] = json!("2999.99");
    claimed["approvers"] = json!([]);
    let forged =
        pat.post("/api/orders", json!({ "idempotency_key": "f", "claimed": claimed })).await;
    assert_eq!(forged.status, StatusCode::CONFLICT);
    assert_eq!(app.count("SELECT COUNT(*) FROM workflow_instances").await, 0, "nothing written");

    let placed = order(&mut pat, twenty_drills(), "honest").await;
    let instance_id = placed["workflow"]["instance_id"].as_str().unwrap();
    let view = pat.get(&format!("/api/workflow-instances/{instance_id}")).await.body;
    let fields = &view["instance"]["fields"];
    let usd = |a: &str| json!({ "money": { "amount": a, "currency": "USD" } });
    assert_eq!(fields["order.total"], usd("3679.98"), "{fields}");
    assert_eq!(fields["order.subtotal"], usd("3380.00"));
    assert_eq!(fields["order.tax"], usd("299.98"));
    assert_eq!(fields["order.currency"], json!({ "text": "USD" }));
    assert_eq!(fields["order.sku_count"], json!({ "number": "1" }));
    assert_eq!(fields["order.quantity"], json!({ "number": "20" }));
    assert_eq!(fields["order.categories"], json!({ "list": ["power-tools"] }));
    assert_eq!(fields["order.business_unit"]["list"][0], json!(shop.ny));
    assert_eq!(fields["buyer.id"], json!({ "text": shop.buyer }));
    assert_eq!(fields["customer.id"], json!({ "text": shop.customer }));
    assert_eq!(fields["customer.group"], json!({ "text": "wholesale" }));
    // The same order total is the one stored on the order.
    assert_eq!(placed["total"], json!({ "amount": "3679.98", "currency": "USD" }));
}
both_databases!(order_fields, the_instance_gets_the_servers_figures);

/// `require_approval` on a transition fired by hand starts a new round of the order's plan: the
/// approvers see it in their queue again, and their decision moves the order on.
async fn require_approval_on_a_manual_transition_starts_a_new_round(app: &TestApp) {
    let shop = shop(app).await;
    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    let mut def = custom(&shop.customer, "Ship");
    def["transitions"].as_array_mut().unwrap().push(json!({
        "id": "reopen", "from": "approved", "to": "awaiting_approval", "label": "Reopen for approval",
        "roles": ["seller_admin"], "actions": [{ "require_approval": {} }]
    }));
    publish(&mut admin, def).await;
    let mut pat = logged_in(app, "pat@acme.test").await;
    let placed = order(&mut pat, twenty_drills(), "reopen").await;
    let id = placed["id"].as_str().unwrap().to_owned();
    let mut blake = logged_in(app, "blake@acme.test").await;
    let approved = blake
        .post(
            &format!("/api/orders/{id}/decisions"),
            json!({ "step_id": placed["steps"][0]["id"], "decision": "approve", "comment": "ok", "revision": placed["revision"] }),
        )
        .await;
    assert_eq!(approved.body["state"], json!("approved"), "{:?}", approved.body);
    assert!(blake.get("/api/approvals").await.body["pending"].as_array().unwrap().is_empty());

    let reopened = reopen(&mut admin, &id).await;
    assert_eq!(reopened.status, StatusCode::OK, "{:?}", reopened.body);
    assert_eq!(reopened.body["state"], json!("awaiting_approval"));
    let round_two: Vec<&Value> = reopened.body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["round"] == json!(2))
        .collect();
    assert_eq!(round_two.len(), 1, "{}", reopened.body["steps"]);
    assert_eq!(round_two[0]["status"], json!("pending"));
    let queue = blake.get("/api/approvals").await.body;
    assert_eq!(queue["pending"][0]["order_id"], json!(id), "{queue}");

    let again = blake
        .post(
            &format!("/api/orders/{id}/decisions"),
            json!({ "step_id": round_two[0]["id"], "decision": "approve", "comment": "still ok", "revision": reopened.body["revision"] }),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body["state"], json!("approved"));
}
both_databases!(
    manual_require_approval,
    require_approval_on_a_manual_transition_starts_a_new_round
);

/// A change that needs no new approval sends `order.updated`: the workflow may react to it.
async fn a_change_sends_order_updated(app: &TestApp) {
    let shop = shop(app).await;
    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    let mut def = custom(&shop.customer, "Ship");
    def["states"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "id": "amended", "label": "Amended after approval" }));
    def["transitions"].as_array_mut().unwrap().push(json!({
        "id": "amended", "from": "approved", "to": "amended", "label": "Changed after approval",
        "trigger": { "event": "order.updated" }
    }));
    def["transitions"].as_array_mut().unwrap().push(json!({
        "id": "ship-amended", "from": "amended", "to": "shipped", "label": "Ship", "roles": ["back_office"]
    }));
    publish(&mut admin, def).await;
    let mut pat = logged_in(app, "pat@acme.test").await;
    let placed = order(&mut pat, one_bit_set(), "amend").await;
    assert_eq!(placed["state"], json!("approved"));
    let id = placed["id"].as_str().unwrap();
    let changed = pat
        .send(
            Method::PUT,
            &format!("/api/orders/{id}"),
            Some(json!({ "lines": [{ "sku": "BIT-SET", "quantity": 2 }], "revision": placed["revision"] })),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["state"], json!("amended"), "{:?}", changed.body);
    assert_eq!(changed.body["workflow"]["state"], json!("amended"));
    let last = changed.body["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["to"], json!("amended"), "{last}");
}
both_databases!(order_updated, a_change_sends_order_updated);

/// The custom workflow with a back office's "reopen for approval" (`require_approval`, by
/// hand) and, instead of the overdue timer, a "recheck" timer that reopens an approved order
/// after 30 days (`require_approval` too).
fn reopenable(customer: &str) -> Value {
    let mut def = custom(customer, "Ship");
    def["states"].as_array_mut().unwrap().retain(|s| s["id"] != json!("overdue"));
    let transitions = def["transitions"].as_array_mut().unwrap();
    transitions.retain(|t| t["from"] != json!("overdue") && t["to"] != json!("overdue"));
    transitions.push(json!({
        "id": "reopen", "from": "approved", "to": "awaiting_approval", "label": "Reopen for approval",
        "roles": ["seller_admin"], "actions": [{ "require_approval": {} }]
    }));
    transitions.push(json!({
        "id": "recheck", "from": "approved", "to": "awaiting_approval", "label": "Recheck after 30 days",
        "trigger": { "timer": { "after": "30d" } }, "actions": [{ "require_approval": {} }]
    }));
    def
}

/// Places twenty drills (Blake approves at 3,000 USD) and has Blake approve them; answers the
/// order as its buyer sees it.
async fn an_approved_order(app: &TestApp, key: &str) -> Value {
    let mut pat = logged_in(app, "pat@acme.test").await;
    let placed = order(&mut pat, twenty_drills(), key).await;
    let id = placed["id"].as_str().unwrap().to_owned();
    let mut blake = logged_in(app, "blake@acme.test").await;
    let approved = blake
        .post(
            &format!("/api/orders/{id}/decisions"),
            json!({ "step_id": placed["steps"][0]["id"], "decision": "approve", "comment": "ok", "revision": placed["revision"] }),
        )
        .await;
    assert_eq!(approved.body["state"], json!("approved"), "{:?}", approved.body);
    approved.body
}

/// The ids of a step's candidates.
fn candidate_ids(step: &Value) -> Vec<String> {
    step["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Acme's company admin (Dana) replaces the company's approval policy; answers its version.
async fn set_policy(app: &TestApp, customer: &str, policy: Value) -> Value {
    let mut dana = logged_in(app, "dana@acme.test").await;
    let put =
        dana.send(Method::PUT, &format!("/api/companies/{customer}/policy"), Some(policy)).await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    put.body["version"].clone()
}

/// Fires the order's "reopen for approval" by hand, at the revision the caller sees now.
async fn reopen(admin: &mut Client, id: &str) -> Answer {
    let seen = admin.get(&format!("/api/orders/{id}")).await.body;
    admin
        .post(
            &format!("/api/orders/{id}/transitions/reopen"),
            json!({ "revision": seen["revision"] }),
        )
        .await
}

/// The new round a hand-fired `require_approval` transition starts is routed under the
/// company's current policy, not from the plan stored at submission: after the company admin
/// hands the 3,000 USD threshold from Blake to Casey, the new round asks Casey, the stored plan
/// and policy version follow, and Blake cannot decide it. The order does not count against a
/// monthly budget with its own total.
async fn a_manual_new_round_is_routed_under_the_current_policy(app: &TestApp) {
    let shop = shop(app).await;
    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    publish(&mut admin, reopenable(&shop.customer)).await;
    let approved = an_approved_order(app, "stale").await;
    let id = approved["id"].as_str().unwrap().to_owned();
    assert_eq!(candidate_ids(&approved["steps"][0]), vec![shop.a2.clone()]);
    assert_eq!(approved["policy_version"], json!(1));

    let policy = json!({ "name": "Acme approvals, Casey for Blake", "mode": "highest",
        "rules": [
            { "id": "approver-1", "name": "Approver 1", "min_total": { "amount": "2000.00", "currency": "USD" }, "approver": { "user": shop.a1 } },
            { "id": "approver-2", "name": "Approver 2", "min_total": { "amount": "3000.00", "currency": "USD" }, "approver": { "user": shop.a3 } }
        ],
        "spending_limits": [{ "id": "monthly", "name": "Monthly budget", "applies_to": "everyone", "period": "month",
            "amount": { "amount": "5000.00", "currency": "USD" }, "on_exceed": { "approval": { "user": shop.a1 } } }] });
    assert_eq!(set_policy(app, &shop.customer, policy).await, json!(2));

    let reopened = reopen(&mut admin, &id).await;
    assert_eq!(reopened.status, StatusCode::OK, "{:?}", reopened.body);
    let order = &reopened.body;
    assert_eq!(order["state"], json!("awaiting_approval"));
    let round_two: Vec<&Value> =
        order["steps"].as_array().unwrap().iter().filter(|s| s["round"] == json!(2)).collect();
    // Casey only: not Blake (the stale plan), and no budget step (3,679.98 USD spent this
    // month is this order itself).
    assert_eq!(round_two.len(), 1, "{}", order["steps"]);
    assert_eq!(round_two[0]["status"], json!("pending"));
    assert_eq!(candidate_ids(round_two[0]), vec![shop.a3.clone()]);
    assert_eq!(order["policy_version"], json!(2));
    assert_eq!(order["plan"]["steps"].as_array().unwrap().len(), 1, "{}", order["plan"]);
    assert_eq!(order["plan"]["steps"][0]["candidates"], json!([shop.a3]));
    assert_ne!(order["plan"], approved["plan"]);

    // Blake is no longer asked, and cannot decide the new step.
    let mut blake = logged_in(app, "blake@acme.test").await;
    assert!(blake.get("/api/approvals").await.body["pending"].as_array().unwrap().is_empty());
    let refused = blake
        .post(
            &format!("/api/orders/{id}/decisions"),
            json!({ "step_id": round_two[0]["id"], "decision": "approve", "comment": "still mine?", "revision": order["revision"] }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
    // Casey is told, and her decision moves the order on.
    let mut casey = logged_in(app, "casey@acme.test").await;
    let queue = casey.get("/api/approvals").await.body;
    assert_eq!(queue["pending"][0]["order_id"], json!(id), "{queue}");
    let again = casey
        .post(
            &format!("/api/orders/{id}/decisions"),
            json!({ "step_id": round_two[0]["id"], "decision": "approve", "comment": "ok", "revision": order["revision"] }),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body["state"], json!("approved"));
}
both_databases!(
    manual_new_round_current_policy,
    a_manual_new_round_is_routed_under_the_current_policy
);

/// When the current policy needs nobody to approve the order any more, a hand-fired
/// `require_approval` transition starts no round and the workflow is told
/// `approval.not_required` at once, as at a submission: the order does not sit in
/// `awaiting_approval` with no step to decide; it goes on to `approved` in the same write.
async fn a_reroute_that_needs_no_approval_goes_on(app: &TestApp) {
    let shop = shop(app).await;
    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    publish(&mut admin, reopenable(&shop.customer)).await;
    let approved = an_approved_order(app, "no-longer").await;
    let id = approved["id"].as_str().unwrap().to_owned();

    let policy = json!({ "name": "Acme approvals, from 10,000 USD", "mode": "highest",
        "rules": [{ "id": "big", "name": "Big orders", "min_total": { "amount": "10000.00", "currency": "USD" }, "approver": { "user": shop.a3 } }] });
    assert_eq!(set_policy(app, &shop.customer, policy).await, json!(2));

    let reopened = reopen(&mut admin, &id).await;
    assert_eq!(reopened.status, StatusCode::OK, "{:?}", reopened.body);
    let order = admin.get(&format!("/api/orders/{id}")).await.body;
    assert_eq!(order["state"], json!("approved"), "{order}");
    assert_eq!(order["workflow"]["state"], json!("approved"), "{order}");
    assert_eq!(order["plan"]["verdict"], json!("no_approval_needed"), "{}", order["plan"]);
    assert_eq!(order["policy_version"], json!(2));
    // No new round, and nothing left to decide.
    assert!(order["steps"].as_array().unwrap().iter().all(|s| s["round"] == json!(1)));
    assert!(order["steps"].as_array().unwrap().iter().all(|s| s["status"] != json!("pending")));
    let moves: Vec<(String, String)> = order["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (h["from"].as_str().unwrap_or("").to_owned(), h["to"].as_str().unwrap().to_owned())
        })
        .collect();
    let tail = moves.get(moves.len() - 2..).unwrap();
    assert_eq!(
        tail,
        [
            ("approved".to_owned(), "awaiting_approval".to_owned()),
            ("awaiting_approval".to_owned(), "approved".to_owned())
        ],
        "{moves:?}"
    );
    let mut casey = logged_in(app, "casey@acme.test").await;
    assert!(casey.get("/api/approvals").await.body["pending"].as_array().unwrap().is_empty());
}
both_databases!(reroute_needs_no_approval, a_reroute_that_needs_no_approval_goes_on);

/// When the current policy blocks the order, a `require_approval` transition does not fire:
/// by hand (the order's and the instance's API) it answers 422 `blocked` with the plan's
/// explanation, and the order, its steps and its instance stay as they were; a timer that
/// would fire it is skipped, with the reason in the instance's history.
async fn a_blocked_reroute_refuses_the_transition(app: &TestApp) {
    let shop = shop(app).await;
    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    publish(&mut admin, reopenable(&shop.customer)).await;
    let approved = an_approved_order(app, "blocked").await;
    let id = approved["id"].as_str().unwrap().to_owned();
    let instance_id = approved["workflow"]["instance_id"].as_str().unwrap().to_owned();

    let policy = json!({ "name": "Tight budget", "spending_limits": [{
        "id": "monthly", "name": "Monthly budget", "applies_to": "everyone", "period": "month",
        "amount": { "amount": "60.00", "currency": "USD" }, "on_exceed": "block" }] });
    set_policy(app, &shop.customer, policy).await;

    let before = admin.get(&format!("/api/orders/{id}")).await.body;
    let instance_before = admin.get(&format!("/api/workflow-instances/{instance_id}")).await.body;
    let counts = [
        "SELECT COUNT(*) FROM approval_steps",
        "SELECT COUNT(*) FROM notifications",
        "SELECT COUNT(*) FROM order_history",
        "SELECT COUNT(*) FROM workflow_history",
    ];
    let mut counted = Vec::new();
    for sql in counts {
        counted.push(app.count(sql).await);
    }

    let reopened = reopen(&mut admin, &id).await;
    assert_eq!(reopened.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", reopened.body);
    assert_eq!(reopened.body["error"]["code"], json!("blocked"));
    let message = reopened.body["error"]["message"].as_str().unwrap().to_owned();
    assert!(!message.is_empty());
    assert_eq!(reopened.body["error"]["plan"]["verdict"], json!("blocked"));
    let by_instance = admin
        .post(
            &format!("/api/workflow-instances/{instance_id}/transitions/reopen"),
            json!({ "revision": instance_before["revision"] }),
        )
        .await;
    assert_eq!(by_instance.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", by_instance.body);
    assert_eq!(by_instance.body["error"]["code"], json!("blocked"));

    assert_eq!(
        admin.get(&format!("/api/orders/{id}")).await.body,
        before,
        "the order is as it was"
    );
    let instance_after = admin.get(&format!("/api/workflow-instances/{instance_id}")).await.body;
    assert_eq!(instance_after["revision"], instance_before["revision"]);
    assert_eq!(instance_after["instance"], instance_before["instance"]);
    assert_eq!(instance_after["history"], instance_before["history"]);
    for (sql, count) in counts.iter().zip(&counted) {
        assert_eq!(app.count(sql).await, *count, "{sql}");
    }

    // The recheck timer meets the same verdict: skipped, the order unchanged, the loop goes on.
    let later = server::util::now().checked_add(Duration::parse("31d").unwrap()).unwrap();
    let tick = server::instances::fire_due_timers(&app.state, later, 100).await.unwrap();
    assert_eq!(tick, server::instances::Tick { fired: 0, skipped: 1, failed: 0 });
    assert_eq!(
        admin.get(&format!("/api/orders/{id}")).await.body,
        before,
        "the order is as it was"
    );
    let instance_after = admin.get(&format!("/api/workflow-instances/{instance_id}")).await.body;
    assert_eq!(instance_after["instance"], instance_before["instance"]);
    let last = instance_after["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["cause"], json!("skipped"), "{last}");
    assert_eq!(last["transition"], json!("recheck"));
    assert!(!last["note"].as_str().unwrap().is_empty(), "{last}");
    assert_eq!(app.count("SELECT COUNT(*) FROM workflow_timers").await, 0, "{last}");
}
both_databases!(blocked_reroute, a_blocked_reroute_refuses_the_transition);
