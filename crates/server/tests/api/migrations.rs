//! Moving running instances to another version, explicitly: the preview says what changes for
//! each and which are blocked; the migration moves them all at once (or refuses, or skips the
//! blocked ones when asked), re-arms their timers, records it, and an order's state follows.

use super::*;
use axum::http::{Method, StatusCode};
use harness::{Client, PASSWORD};
use rules::time::Duration;
use serde_json::{Value, json};
use shop::{claims, shop};

async fn logged_in(app: &TestApp, email: &str) -> Client {
    let mut c = app.client();
    let answer = c.login(email, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{email}: {:?}", answer.body);
    c
}

fn v1() -> Value {
    json!({
        "id": "flow", "version": 1, "name": "Flow", "entity": "order",
        "states": [
            { "id": "draft", "label": "Draft", "start": true },
            { "id": "submitted", "label": "Submitted" },
            { "id": "parked", "label": "Parked" },
            { "id": "done", "label": "Done", "terminal": true }
        ],
        "transitions": [
            { "id": "submit", "from": "draft", "to": "submitted", "label": "Submit", "roles": ["buyer"] },
            { "id": "park", "from": "submitted", "to": "parked", "label": "Park", "roles": ["sales_rep"] },
            { "id": "resume", "from": "parked", "to": "submitted", "label": "Resume", "roles": ["sales_rep"] },
            { "id": "finish", "from": "submitted", "to": "done", "label": "Finish", "roles": ["back_office"] }
        ]
    })
}

/// "parked" is gone, "review" is new, and a submitted instance is reminded after 2 days.
fn v2() -> Value {
    json!({
        "id": "flow", "version": 2, "name": "Flow", "entity": "order",
        "states": [
            { "id": "draft", "label": "Draft", "start": true },
            { "id": "submitted", "label": "Sent" },
            { "id": "review", "label": "In review" },
            { "id": "done", "label": "Done", "terminal": true }
        ],
        "transitions": [
            { "id": "submit", "from": "draft", "to": "submitted", "label": "Submit", "roles": ["buyer"] },
            { "id": "review", "from": "submitted", "to": "review", "label": "Review", "roles": ["sales_rep"] },
            { "id": "finish", "from": "review", "to": "done", "label": "Finish", "roles": ["back_office"] },
            { "id": "remind", "from": "submitted", "to": "submitted", "label": "Remind", "trigger": { "timer": { "after": "2d" } },
              "actions": [{ "notify": { "to": ["sales_rep"], "template": "still-submitted" } }] }
        ]
    })
}

/// The shop with `v1` published: its seller admin and a buyer, logged in.
async fn v1_published(app: &TestApp) -> (Client, Client) {
    let _shop = shop(app).await;
    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    assert_eq!(admin.post("/api/workflows", v1()).await.status, StatusCode::CREATED);
    let publish = admin.post("/api/workflows/flow/versions/1/publish", json!({})).await;
    assert_eq!(publish.status, StatusCode::OK);
    (admin, logged_in(app, "pat@acme.test").await)
}

async fn start(pat: &mut Client, entity_id: &str) -> String {
    let started = pat
        .post("/api/workflow-instances", json!({ "entity": "order", "entity_id": entity_id }))
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{:?}", started.body);
    started.body["id"].as_str().unwrap().to_owned()
}

async fn fire(c: &mut Client, id: &str, transition: &str) -> Value {
    let view = c.get(&format!("/api/workflow-instances/{id}")).await.body;
    let fired = c
        .post(
            &format!("/api/workflow-instances/{id}/transitions/{transition}"),
            json!({ "revision": view["revision"] }),
        )
        .await;
    assert_eq!(fired.status, StatusCode::OK, "{:?}", fired.body);
    fired.body
}

async fn previews_then_moves_every_instance(app: &TestApp) {
    let (mut admin, mut pat) = v1_published(app).await;
    let mut rita = logged_in(app, "rep@toolmaker.test").await;
    let a = start(&mut pat, "a").await;
    let b = start(&mut pat, "b").await;
    fire(&mut pat, &b, "submit").await;
    let c = start(&mut pat, "c").await;
    fire(&mut pat, &c, "submit").await;
    fire(&mut rita, &c, "park").await;
    let saved = admin.send(Method::PUT, "/api/workflows/flow/draft", Some(v2())).await;
    assert_eq!(saved.body["version"], json!(2), "{:?}", saved.body);

    let preview = "/api/workflows/flow/migrations/preview";
    let body = |map: Value| json!({ "from_version": 1, "to_version": 2, "state_map": map });
    // Clear errors, naming the field; only the seller's admins.
    let draft = admin.post(preview, body(json!({}))).await;
    assert_eq!(draft.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", draft.body);
    assert_eq!(draft.body["error"]["field"], json!("to_version"));
    assert_eq!(
        admin.post("/api/workflows/flow/versions/2/publish", json!({})).await.status,
        StatusCode::OK
    );
    for (wrong, field) in [
        (json!({ "from_version": 1, "to_version": 1 }), "to_version"),
        (json!({ "from_version": 9, "to_version": 2 }), "from_version"),
        (body(json!({ "nope": "review" })), "state_map.nope"),
        (body(json!({ "parked": "limbo" })), "state_map.parked"),
        (json!({ "from_version": 1 }), "to_version"),
    ] {
        let refused = admin.post(preview, wrong.clone()).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong}: {:?}", refused.body);
        assert_eq!(refused.body["error"]["field"], json!(field), "{wrong}");
    }
    assert_eq!(rita.post(preview, body(json!({}))).await.status, StatusCode::FORBIDDEN);
    assert_eq!(pat.post(preview, body(json!({}))).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        admin.post("/api/workflows/nothing/migrations/preview", body(json!({}))).await.status,
        StatusCode::NOT_FOUND
    );

    // The preview: the diff, and per instance where it lands or why it cannot.
    let seen = admin.post(preview, body(json!({}))).await;
    assert_eq!(seen.status, StatusCode::OK, "{:?}", seen.body);
    let p = &seen.body;
    assert_eq!(p["diff"]["states_added"], json!(["review"]));
    assert_eq!(p["diff"]["states_removed"], json!(["parked"]));
    assert_eq!(p["diff"]["transitions_removed"], json!(["park", "resume"]));
    assert_eq!(
        p["diff"]["transitions_changed"][0],
        json!({ "transition": "finish", "changed": ["from"] })
    );
    assert!(p["explanation"].as_array().unwrap().contains(&json!("states removed: \"parked\"")));
    assert_eq!(p["counts"], json!({ "instances": 3, "movable": 2, "blocked": 1 }));
    assert_eq!(
        p["states"],
        json!([
            { "state": "draft", "movable": 1, "blocked": 0 },
            { "state": "parked", "movable": 0, "blocked": 1 },
            { "state": "submitted", "movable": 1, "blocked": 0 }
        ])
    );
    assert_eq!(p["blocked"][0]["id"], json!(c));
    assert_eq!(p["blocked"][0]["reason"]["code"], json!("no_counterpart"));
    assert!(p["blocked"][0]["message"].as_str().unwrap().contains("parked"));
    let moving_b = p["movable"].as_array().unwrap().iter().find(|m| m["id"] == json!(b)).unwrap();
    assert_eq!(moving_b["to_state"], json!("submitted"));
    assert_eq!(moving_b["transitions_gained"], json!(["review", "remind"]));
    assert_eq!(moving_b["transitions_lost"], json!(["park", "finish"]));
    assert_eq!(moving_b["timers"][0]["transition"], json!("remind"));

    // A blocked instance refuses the whole migration: nothing moves.
    let migrate = "/api/workflows/flow/migrations";
    let refused = admin.post(migrate, body(json!({}))).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert_eq!(refused.body["error"]["code"], json!("instances_blocked"));
    assert_eq!(refused.body["error"]["blocked"][0]["id"], json!(c));
    let still = pat.get(&format!("/api/workflow-instances/{a}")).await.body;
    assert_eq!(still["instance"]["version"], json!(1));

    // Mapped, every instance moves, in one go.
    let map = json!({ "parked": "review" });
    let mapped = admin.post(preview, body(map.clone())).await.body;
    assert_eq!(mapped["counts"]["blocked"], json!(0));
    assert_eq!(mapped["states"][1], json!({ "state": "parked", "movable": 1, "blocked": 0 }));
    let moved = admin.post(migrate, body(map)).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    assert_eq!(moved.body["moved"].as_array().unwrap().len(), 3);
    assert_eq!(moved.body["moved_count"], json!(3));
    for (id, state) in [(&a, "draft"), (&b, "submitted"), (&c, "review")] {
        let view = pat.get(&format!("/api/workflow-instances/{id}")).await.body;
        assert_eq!(view["instance"]["version"], json!(2), "{view}");
        assert_eq!(view["instance"]["state"], json!(state));
        let last = view["history"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["cause"], json!("migration"), "{view}");
        assert_eq!(last["note"], json!("moved from version 1 to version 2"));
    }
    let listed = admin.get("/api/workflows/flow").await.body;
    assert_eq!(listed["versions"][0]["instances"], json!(0));
    assert_eq!(listed["versions"][1]["instances"], json!(3));
    // The new version's timer is armed for the submitted one, counted from when it entered
    // its state: due in 2 days, not before.
    let now = server::util::now();
    let early = server::instances::fire_due_timers(&app.state, now, 100).await.unwrap();
    assert_eq!(early.fired, 0);
    let later = now.checked_add(Duration::parse("3d").unwrap()).unwrap();
    let tick = server::instances::fire_due_timers(&app.state, later, 100).await.unwrap();
    assert_eq!(tick.fired, 1, "{tick:?}");
    // Nothing is left on version 1: migrating again moves nothing.
    let again = admin.post(migrate, body(json!({}))).await;
    assert_eq!(again.body["moved"], json!([]), "{:?}", again.body);
}
both_databases!(migrations, previews_then_moves_every_instance);

/// However many instances run on the version, the preview counts them all and lists a bounded
/// number (the editor shows the counts per state and a sample).
async fn a_large_preview_counts_everything_and_lists_a_sample(app: &TestApp) {
    let (mut admin, mut pat) = v1_published(app).await;
    let running = server::migrations::PREVIEW_LISTED + 1;
    for n in 0..running {
        start(&mut pat, &format!("e{n}")).await;
    }
    let saved = admin.send(Method::PUT, "/api/workflows/flow/draft", Some(v2())).await;
    assert_eq!(saved.body["version"], json!(2), "{:?}", saved.body);
    let publish = admin.post("/api/workflows/flow/versions/2/publish", json!({})).await;
    assert_eq!(publish.status, StatusCode::OK);
    let seen = admin
        .post(
            "/api/workflows/flow/migrations/preview",
            json!({ "from_version": 1, "to_version": 2 }),
        )
        .await;
    assert_eq!(seen.status, StatusCode::OK, "{:?}", seen.body);
    assert_eq!(
        seen.body["counts"],
        json!({ "instances": running, "movable": running, "blocked": 0 })
    );
    assert_eq!(
        seen.body["states"],
        json!([{ "state": "draft", "movable": running, "blocked": 0 }])
    );
    assert_eq!(seen.body["movable"].as_array().unwrap().len(), server::migrations::PREVIEW_LISTED);
    // The migration's answer is bounded the same way: every one moves, a sample is listed.
    let moved = admin
        .post("/api/workflows/flow/migrations", json!({ "from_version": 1, "to_version": 2 }))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    assert_eq!(moved.body["moved_count"], json!(running));
    assert_eq!(moved.body["moved"].as_array().unwrap().len(), server::migrations::PREVIEW_LISTED);
    let listed = admin.get("/api/workflows/flow").await.body;
    assert_eq!(listed["versions"][1]["instances"], json!(running), "{listed}");
}
both_databases!(migration_preview_bounded, a_large_preview_counts_everything_and_lists_a_sample);

async fn skips_the_blocked_when_asked_and_never_clobbers(app: &TestApp) {
    let (mut admin, mut pat) = v1_published(app).await;
    let mut rita = logged_in(app, "rep@toolmaker.test").await;
    let parked = start(&mut pat, "parked").await;
    fire(&mut pat, &parked, "submit").await;
    fire(&mut rita, &parked, "park").await;
    let racing = start(&mut pat, "racing").await;
    fire(&mut pat, &racing, "submit").await;
    admin.send(Method::PUT, "/api/workflows/flow/draft", Some(v2())).await;
    admin.post("/api/workflows/flow/versions/2/publish", json!({})).await;

    // Skipping the blocked one: the others move, it stays.
    let body = json!({ "from_version": 1, "to_version": 2, "skip_blocked": true });
    let moved = admin.post("/api/workflows/flow/migrations", body).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    assert_eq!(moved.body["moved"], json!([racing]));
    assert_eq!((&moved.body["moved_count"], &moved.body["blocked_count"]), (&json!(1), &json!(1)));
    assert_eq!(moved.body["blocked"][0]["id"], json!(parked));
    let left = pat.get(&format!("/api/workflow-instances/{parked}")).await.body;
    assert_eq!(left["instance"]["version"], json!(1));

    // A transition fired while a migration runs: whichever commits first, the other sees it.
    // The fired transition is never lost, and the instance is in a state of its version.
    let view = rita.get(&format!("/api/workflow-instances/{parked}")).await.body;
    let body = json!({ "from_version": 1, "to_version": 2, "state_map": { "parked": "review", "submitted": "submitted" } });
    let mut admin2 = admin.clone();
    let resume = format!("/api/workflow-instances/{parked}/transitions/resume");
    let (migrated, resumed) = tokio::join!(
        admin2.post("/api/workflows/flow/migrations", body),
        rita.post(&resume, json!({ "revision": view["revision"] })),
    );
    let after = pat.get(&format!("/api/workflow-instances/{parked}")).await.body;
    let history = after["history"].as_array().unwrap();
    let resumed_ok = resumed.status == StatusCode::OK;
    let migrated_ok = migrated.status == StatusCode::OK;
    assert!(
        resumed_ok
            || resumed.body["error"]["code"] == json!("instance_changed")
            || resumed.body["error"]["code"] == json!("transition_refused"),
        "{:?}",
        resumed.body
    );
    assert!(
        migrated_ok || migrated.body["error"]["code"] == json!("instance_changed"),
        "{:?}",
        migrated.body
    );
    assert!(resumed_ok || migrated_ok, "one of them wins");
    assert_eq!(history.iter().any(|h| h["transition"] == json!("resume")), resumed_ok, "{after}");
    assert_eq!(history.iter().any(|h| h["cause"] == json!("migration")), migrated_ok, "{after}");
    let expected = match (resumed_ok, migrated_ok) {
        (true, true) => (json!(2), json!("submitted")),
        (true, false) => (json!(1), json!("submitted")),
        (false, true) => (json!(2), json!("review")),
        (false, false) => panic!("neither the migration nor the transition went through"),
    };
    assert_eq!(
        (after["instance"]["version"].clone(), after["instance"]["state"].clone()),
        expected
    );
}
both_databases!(migrations_skip_and_race, skips_the_blocked_when_asked_and_never_clobbers);

/// The built-in order workflow with "approved" called "accepted" in version 2.
fn renamed(customer: &str, approved: &str) -> Value {
    let text = include_str!("../../workflows/default-order.json")
        .replace("\"approved\"", &format!("\"{approved}\""));
    let mut def: Value = serde_json::from_str(&text).unwrap();
    def["id"] = json!("acme-orders");
    def["scope"] = json!({ "customer": customer });
    def
}

async fn an_orders_state_follows_its_migration(app: &TestApp) {
    let shop = shop(app).await;
    let mut admin = logged_in(app, "admin@toolmaker.test").await;
    admin.post("/api/workflows", renamed(&shop.customer, "approved")).await;
    admin.post("/api/workflows/acme-orders/versions/1/publish", json!({})).await;
    let mut pat = logged_in(app, "pat@acme.test").await;
    pat.send(
        Method::PUT,
        "/api/cart",
        Some(json!({ "lines": [{ "sku": "BIT-SET", "quantity": 1 }] })),
    )
    .await;
    let context = pat.get("/api/checkout/context").await.body;
    let placed = pat
        .post("/api/orders", json!({ "idempotency_key": "k", "claimed": claims(&context) }))
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
    assert_eq!(placed.body["workflow"]["id"], json!("acme-orders"));
    assert_eq!(placed.body["state"], json!("approved"));
    let id = placed.body["id"].as_str().unwrap().to_owned();

    admin
        .send(
            Method::PUT,
            "/api/workflows/acme-orders/draft",
            Some(renamed(&shop.customer, "accepted")),
        )
        .await;
    admin.post("/api/workflows/acme-orders/versions/2/publish", json!({})).await;
    let body =
        json!({ "from_version": 1, "to_version": 2, "state_map": { "approved": "accepted" } });
    let preview = admin.post("/api/workflows/acme-orders/migrations/preview", body.clone()).await;
    assert_eq!(preview.body["movable"][0]["entity_id"], json!(id), "{:?}", preview.body);
    assert_eq!(preview.body["movable"][0]["order_number"], placed.body["number"]);
    assert_eq!(preview.body["movable"][0]["to_state"], json!("accepted"));
    let moved = admin.post("/api/workflows/acme-orders/migrations", body).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    let order = pat.get(&format!("/api/orders/{id}")).await.body;
    assert_eq!(order["state"], json!("accepted"));
    assert_eq!(order["workflow"]["version"], json!(2));
    assert_eq!(order["revision"], json!(2));
    let last = order["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["from"], json!("approved"));
    assert_eq!(last["to"], json!("accepted"));
    assert_eq!(last["comment"], json!("moved from version 1 to version 2"));
}
both_databases!(order_migration, an_orders_state_follows_its_migration);
