//! Workflow instances and their timers: the seed scenario ("an order of 50,000 USD or more
//! still unsubmitted after 7 days alerts its sales rep") fires once with two servers on one
//! database, fires at start when it fell due while no server ran, re-checks its guard when it
//! comes due; manual transitions follow roles; instances stay on their version.

use super::{
    both_databases,
    harness::{self, Client, PASSWORD, TestApp},
    shop::shop,
};
use axum::http::{Method, StatusCode};
use rules::time::{Duration, Timestamp};
use serde_json::{Value, json};
use server::{
    db,
    instances::{Tick, fire_due_timers, run_timers},
};

const SEED_WORKFLOW: &str = include_str!("../../demo/order-workflow.json");

async fn logged_in(app: &TestApp, email: &str) -> Client {
    let mut c = app.client();
    let answer = c.login(email, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{email}: {:?}", answer.body);
    c
}

/// The seed workflow, published as version 1.
async fn publish_seed(app: &TestApp) -> Client {
    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    let def: Value = serde_json::from_str(SEED_WORKFLOW).unwrap();
    let created = admin.post("/api/workflows", def).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let published = admin.post("/api/workflows/b2b-order/versions/1/publish", json!({})).await;
    assert_eq!(published.status, StatusCode::OK, "{:?}", published.body);
    admin
}

fn usd(amount: &str) -> Value {
    json!({ "order.total": { "money": { "amount": amount, "currency": "USD" } } })
}

async fn start(c: &mut Client, order: &str, fields: Value) -> Value {
    let started = c
        .post(
            "/api/workflow-instances",
            json!({ "entity": "order", "entity_id": order, "fields": fields }),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{:?}", started.body);
    started.body
}

fn eight_days_on() -> Timestamp {
    let days = Duration::parse("8d").unwrap();
    server::util::now().checked_add(days).unwrap()
}

async fn the_seed_timer_fires_once_with_two_servers(app: &TestApp) {
    let _shop = shop(app).await;
    publish_seed(app).await;
    let mut pat = logged_in(app, "pat@acme.test").await;
    for i in 0..30 {
        start(&mut pat, &format!("big-{i}"), usd("60000.00")).await;
    }
    // Below the threshold: its timer comes due, the guard does not hold, nothing is sent.
    start(&mut pat, "small", usd("40000.00")).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM workflow_timers").await, 31);

    // Not due yet.
    let early = fire_due_timers(&app.state, server::util::now(), 500).await.unwrap();
    assert_eq!(early, Tick::default());

    // Eight days on, two servers tick at the same time.
    let other = app.second_server().await;
    let at = eight_days_on();
    let (a, b) = tokio::join!(fire_due_timers(&app.state, at, 7), fire_due_timers(&other, at, 500));
    let (a, b) = (a.unwrap(), b.unwrap());
    // A batch of 7 leaves the rest to the other server or the next tick.
    let rest = fire_due_timers(&app.state, at, 500).await.unwrap();
    assert_eq!(a.fired + b.fired + rest.fired, 30, "{a:?} {b:?} {rest:?}");
    assert_eq!(a.skipped + b.skipped + rest.skipped, 1);
    other.db.close().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM workflow_history WHERE cause = 'timer'").await, 30);
    let skipped =
        db::query("SELECT instance_id, note FROM workflow_history WHERE cause = 'skipped'")
            .fetch_all(&app.state.db.read)
            .await
            .unwrap();
    let notes: Vec<String> = skipped.iter().map(|r| r.try_get::<String>("note").unwrap()).collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    // Each alert reached the sales rep once, in the app and in the outbox.
    let mut rita = logged_in(app, "rep@toolmaker.test").await;
    let notes = rita.get("/api/notifications").await;
    let alerts: Vec<&Value> = notes.body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == json!("workflow"))
        .collect();
    assert_eq!(alerts.len(), 30);
    assert!(
        alerts[0]["body"].as_str().unwrap().starts_with("Big order unsubmitted."),
        "{:?}",
        alerts[0]
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE recipient = 'rep@toolmaker.test'").await,
        30
    );
    // The timer is set again for another 7 days (the state was re-entered), not due now.
    let again = fire_due_timers(&app.state, at, 500).await.unwrap();
    assert_eq!(again, Tick::default());
    // The action set its field.
    let row = db::query("SELECT fields FROM workflow_instances WHERE entity_id = 'big-0'")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    let fields: Value = serde_json::from_str(&row.try_get::<String>("fields").unwrap()).unwrap();
    assert_eq!(fields["order.follow_up_sent"], json!({ "bool": true }));
}
both_databases!(timers_fire_once, the_seed_timer_fires_once_with_two_servers);

async fn a_timer_due_while_down_fires_at_start(app: &TestApp) {
    let _shop = shop(app).await;
    publish_seed(app).await;
    let mut pat = logged_in(app, "pat@acme.test").await;
    let started = start(&mut pat, "big", usd("75000.00")).await;
    let id = started["id"].as_str().unwrap().to_owned();
    // The order was started eight days ago, and no server ran since.
    let eight_days_ago = server::util::now().millis() - 8 * 86_400_000;
    db::query("UPDATE workflow_instances SET entered_at = $1 WHERE id = $2")
        .bind(eight_days_ago)
        .bind(&id)
        .execute(&app.state.db.write)
        .await
        .unwrap();
    db::query("UPDATE workflow_timers SET due_at = $1 WHERE instance_id = $2")
        .bind(eight_days_ago + 7 * 86_400_000)
        .bind(&id)
        .execute(&app.state.db.write)
        .await
        .unwrap();
    // A server starts: its scheduler fires the overdue timer at once.
    let server = app.second_server().await;
    let scheduler = tokio::spawn(run_timers(server.clone(), std::time::Duration::from_millis(50)));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let sql = format!(
        "SELECT COUNT(*) FROM workflow_history WHERE instance_id = '{id}' AND cause = 'timer'"
    );
    while app.count(&sql).await == 0 {
        assert!(std::time::Instant::now() < deadline, "the overdue timer did not fire");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    scheduler.abort();
    server.db.close().await;
    let view = pat.get(&format!("/api/workflow-instances/{id}")).await;
    assert_eq!(view.body["history"][0]["transition"], json!("big-order-follow-up"));
    assert_eq!(app.count(&sql).await, 1);
}
both_databases!(timers_after_downtime, a_timer_due_while_down_fires_at_start);

async fn the_guard_is_checked_when_the_timer_comes_due(app: &TestApp) {
    let _shop = shop(app).await;
    publish_seed(app).await;
    let mut pat = logged_in(app, "pat@acme.test").await;
    let started = start(&mut pat, "growing", usd("10000.00")).await;
    let id = started["id"].as_str().unwrap().to_owned();
    // The order grows past 50,000 USD before the 7 days are over: the guard holds when due.
    let changed = pat
        .post(
            &format!("/api/workflow-instances/{id}/events"),
            json!({ "event": "order.updated", "fields": usd("52000.00") }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["timers"][0]["guard_holds"], json!(true));
    let tick = fire_due_timers(&app.state, eight_days_on(), 500).await.unwrap();
    assert_eq!(tick, Tick { fired: 1, skipped: 0, failed: 0 });

    // Another shrinks below it: when due, nothing fires, and the history says why.
    let started = start(&mut pat, "shrinking", usd("90000.00")).await;
    let id = started["id"].as_str().unwrap().to_owned();
    let changed = pat
        .post(
            &format!("/api/workflow-instances/{id}/events"),
            json!({ "event": "order.updated", "fields": usd("900.00") }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    let tick = fire_due_timers(&app.state, eight_days_on(), 500).await.unwrap();
    assert_eq!(tick, Tick { fired: 0, skipped: 1, failed: 0 });
    let view = pat.get(&format!("/api/workflow-instances/{id}")).await;
    assert_eq!(view.body["history"][0]["cause"], json!("skipped"));
    assert_eq!(view.body["instance"]["state"], json!("draft"));
    // A field of the wrong type is refused, naming it.
    let wrong = pat
        .post(
            &format!("/api/workflow-instances/{id}/events"),
            json!({ "event": "order.updated", "fields": { "order.total": { "text": "a lot" } } }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", wrong.body);
    assert_eq!(wrong.body["error"]["field"], json!("fields"));
}
both_databases!(timer_guards, the_guard_is_checked_when_the_timer_comes_due);

async fn manual_transitions_follow_roles_and_versions(app: &TestApp) {
    let shop = shop(app).await;
    let mut admin = publish_seed(app).await;
    let mut pat = logged_in(app, "pat@acme.test").await;
    let started = start(&mut pat, "ord-1", usd("1200.00")).await;
    let id = started["id"].as_str().unwrap().to_owned();
    assert_eq!(started["instance"]["version"], json!(1));
    let submit = started["available"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["transition"] == json!("submit"))
        .unwrap();
    assert_eq!(submit["enabled"], json!(true));

    // The sales rep may cancel but not submit: refused with the reason.
    let mut rita = logged_in(app, "rep@toolmaker.test").await;
    let refused = rita
        .post(&format!("/api/workflow-instances/{id}/transitions/submit"), json!({ "revision": 1 }))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert_eq!(refused.body["error"]["refusal"]["code"], json!("role_not_allowed"));
    // Another customer's user does not see it at all.
    let mut olga = logged_in(app, "olga@globex.test").await;
    let hidden = olga.get(&format!("/api/workflow-instances/{id}")).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);

    // Version 2 is published; the running instance stays on version 1.
    let mut v2: Value = serde_json::from_str(SEED_WORKFLOW).unwrap();
    v2["transitions"][0]["label"] = json!("Send for approval");
    let saved = admin.send(Method::PUT, "/api/workflows/b2b-order/draft", Some(v2)).await;
    assert_eq!(saved.body["version"], json!(2), "{:?}", saved.body);
    let published = admin.post("/api/workflows/b2b-order/versions/2/publish", json!({})).await;
    assert_eq!(published.status, StatusCode::OK);
    let fired = pat
        .post(&format!("/api/workflow-instances/{id}/transitions/submit"), json!({ "revision": 1 }))
        .await;
    assert_eq!(fired.status, StatusCode::OK, "{:?}", fired.body);
    assert_eq!(fired.body["instance"]["state"], json!("submitted"));
    assert_eq!(fired.body["instance"]["version"], json!(1));
    assert_eq!(fired.body["history"][0]["transition"], json!("submit"));
    // A stale revision is refused.
    let stale = pat
        .post(&format!("/api/workflow-instances/{id}/transitions/cancel"), json!({ "revision": 1 }))
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.body["error"]["field"], json!("revision"));
    // The approvers were told (the submit transition notifies them).
    let mut blake = logged_in(app, "blake@acme.test").await;
    let notes = blake.get("/api/notifications").await;
    assert!(
        notes.body["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == json!("workflow")),
        "{:?}",
        notes.body
    );
    // A new order starts on version 2; one entity runs on one instance only.
    let newer = start(&mut pat, "ord-2", usd("10.00")).await;
    assert_eq!(newer["instance"]["version"], json!(2));
    let versions = admin.get("/api/workflows/b2b-order").await.body["versions"].clone();
    assert_eq!(versions[0]["instances"], json!(1), "{versions}");
    assert_eq!(versions[1]["instances"], json!(1), "{versions}");
    let twice = pat
        .post(
            "/api/workflow-instances",
            json!({ "entity": "order", "entity_id": "ord-2", "fields": usd("10.00") }),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    // Seller staff name the customer; a customer's user cannot name another.
    let by_rep = rita
        .post(
            "/api/workflow-instances",
            json!({ "entity": "order", "entity_id": "ord-3", "customer": shop.customer, "fields": usd("10.00") }),
        )
        .await;
    assert_eq!(by_rep.status, StatusCode::CREATED, "{:?}", by_rep.body);
    let elsewhere = pat
        .post(
            "/api/workflow-instances",
            json!({ "entity": "order", "entity_id": "ord-4", "customer": shop.other_customer }),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
}
both_databases!(workflow_instances, manual_transitions_follow_roles_and_versions);

/// Nobody approves their own request on a workflow either: Blake (buyer and approver) submits
/// a draft and may not approve it, Casey may; a buyer does not see a colleague's draft; nobody
/// sends the approval events the server raises from approval steps.
async fn nobody_decides_on_their_own_request(app: &TestApp) {
    let _shop = shop(app).await;
    publish_seed(app).await;
    let mut blake = logged_in(app, "blake@acme.test").await;
    let started = start(&mut blake, "ord-9", usd("800.00")).await;
    let id = started["id"].as_str().unwrap().to_owned();
    let url = |t: &str| format!("/api/workflow-instances/{id}/transitions/{t}");
    let submitted = blake.post(&url("submit"), json!({ "revision": 1 })).await;
    assert_eq!(submitted.status, StatusCode::OK, "{:?}", submitted.body);
    let approve = |body: &Value| {
        body["available"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["transition"] == json!("approve"))
            .unwrap()
            .clone()
    };
    // Offered to Blake disabled, with why; refused when fired anyway, and nothing changes.
    let offered = approve(&submitted.body);
    assert_eq!(offered["enabled"], json!(false), "{offered}");
    assert_eq!(offered["refusals"][0]["code"], json!("own_request"), "{offered}");
    let own = blake.post(&url("approve"), json!({ "revision": 2 })).await;
    assert_eq!(own.status, StatusCode::CONFLICT, "{:?}", own.body);
    assert_eq!(own.body["error"]["refusal"]["code"], json!("own_request"), "{:?}", own.body);
    let mut casey = logged_in(app, "casey@acme.test").await;
    let view = casey.get(&format!("/api/workflow-instances/{id}")).await;
    assert_eq!(view.body["instance"]["state"], json!("submitted"));
    assert_eq!(approve(&view.body)["enabled"], json!(true));
    let approved = casey.post(&url("approve"), json!({ "revision": 2 })).await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
    assert_eq!(approved.body["instance"]["state"], json!("approved"));

    // Pat (a buyer only) sees neither Blake's instance nor can act on it.
    let mut pat = logged_in(app, "pat@acme.test").await;
    assert_eq!(
        pat.get(&format!("/api/workflow-instances/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let mine = start(&mut pat, "ord-10", usd("900.00")).await;
    let mine = mine["id"].as_str().unwrap();
    // The approval events are the server's: refused, naming the field, and nothing changes.
    for event in ["approval.not_required", "approval.granted"] {
        let sent = pat
            .post(&format!("/api/workflow-instances/{mine}/events"), json!({ "event": event }))
            .await;
        assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", sent.body);
        assert_eq!(sent.body["error"]["field"], json!("event"));
    }
    // Entity ids are the company's own: another company may use "ord-9" too.
    let mut olga = logged_in(app, "olga@globex.test").await;
    let theirs = start(&mut olga, "ord-9", usd("10.00")).await;
    assert_ne!(theirs["id"], json!(id));
    let after = pat.get(&format!("/api/workflow-instances/{mine}")).await;
    assert_eq!(after.body["instance"]["state"], json!("draft"));
    assert_eq!(after.body["revision"], json!(1), "{:?}", after.body);
}
both_databases!(own_request, nobody_decides_on_their_own_request);

async fn the_account_manager_gets_the_sales_rep_notices(app: &TestApp) {
    let shop = shop(app).await;
    let rex = server::seed::user(
        &app.state,
        server::seed::NewUser {
            company_id: &shop.seller,
            email: "rex@toolmaker.test",
            name: "Rex Rep",
            password: harness::PASSWORD,
            roles: &["sales_rep"],
            unit_id: None,
            manager_id: None,
        },
    )
    .await
    .unwrap();
    let path = format!("/api/companies/{}/sales-rep", shop.customer);
    // Only the seller's admins assign, and only a sales rep of the seller.
    for who in ["rep@toolmaker.test", "dana@acme.test"] {
        let mut c = logged_in(app, who).await;
        let refused = c.send(Method::PUT, &path, Some(json!({ "user_id": rex }))).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{who}");
    }
    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    let bad = admin.send(Method::PUT, &path, Some(json!({ "user_id": shop.buyer }))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["error"]["field"], json!("user_id"));
    let assigned = admin.send(Method::PUT, &path, Some(json!({ "user_id": rex }))).await;
    assert_eq!(assigned.status, StatusCode::OK, "{:?}", assigned.body);
    assert_eq!(assigned.body["sales_rep"], json!(rex));
    let other = admin.get(&format!("/api/companies/{}", shop.other_customer)).await;
    assert_eq!(other.body["sales_rep"], Value::Null);

    // The seed workflow's timer tells "the sales rep": Acme's account manager alone.
    publish_seed(app).await;
    let mut pat = logged_in(app, "pat@acme.test").await;
    start(&mut pat, "big-1", usd("60000.00")).await;
    let tick = fire_due_timers(&app.state, eight_days_on(), 500).await.unwrap();
    assert_eq!(tick.fired, 1);
    let to = |email: &str| format!("SELECT COUNT(*) FROM outbox WHERE recipient = '{email}'");
    assert_eq!(app.count(&to("rex@toolmaker.test")).await, 1);
    assert_eq!(app.count(&to("rep@toolmaker.test")).await, 0);

    // Without an account manager, every sales rep is told.
    let cleared = admin.send(Method::PUT, &path, Some(json!({ "user_id": null }))).await;
    assert_eq!(cleared.body["sales_rep"], Value::Null);
    start(&mut pat, "big-2", usd("60000.00")).await;
    let tick = fire_due_timers(&app.state, eight_days_on(), 500).await.unwrap();
    assert_eq!(tick.fired, 1);
    assert_eq!(app.count(&to("rex@toolmaker.test")).await, 2);
    assert_eq!(app.count(&to("rep@toolmaker.test")).await, 1);
}
both_databases!(account_managers, the_account_manager_gets_the_sales_rep_notices);
