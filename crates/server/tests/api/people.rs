//! A company's people: company admins list, add, change and remove users; everyone changes
//! their own password.

use super::*;
use axum::http::{Method, StatusCode};
use harness::{Client, PASSWORD};
use rules::approval::ApprovalPolicy;
use serde_json::{Value, json};
use shop::{claims, shop};

async fn logged_in(app: &TestApp, email: &str) -> Client {
    let mut c = app.client();
    let answer = c.login(email, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{email}: {:?}", answer.body);
    c
}

fn names(list: &Value) -> Vec<&str> {
    list["users"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect()
}

async fn admins_list_add_and_change_their_people(app: &TestApp) {
    let shop = shop(app).await;
    let users = format!("/api/companies/{}/users", shop.customer);
    let mut admin = logged_in(app, "dana@acme.test").await;
    let list = admin.get(&users).await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    assert_eq!(
        names(&list.body),
        ["Avery Chen", "Blake Diaz", "Casey Evans", "Dana Admin", "Eli Ng", "Pat Buyer"]
    );
    let pat = &list.body["users"][5];
    assert_eq!(
        (&pat["email"], &pat["roles"], &pat["unit_id"]),
        (&json!("pat@acme.test"), &json!(["buyer"]), &json!(shop.ny))
    );

    // Only the company's admins see or change its people.
    let mut buyer = logged_in(app, "pat@acme.test").await;
    assert_eq!(buyer.get(&users).await.status, StatusCode::FORBIDDEN);
    let mut other = logged_in(app, "olga@globex.test").await;
    assert_eq!(other.get(&users).await.status, StatusCode::NOT_FOUND);
    let mut seller = logged_in(app, "admin@toolmaker.test").await;
    assert_eq!(seller.get(&users).await.status, StatusCode::FORBIDDEN);
    // The seller's admins manage the seller's own people: a new sales rep.
    let staff = format!("/api/companies/{}/users", shop.seller);
    assert_eq!(names(&seller.get(&staff).await.body), ["Rita Rep", "Sam Seller"]);
    let rep = json!({ "email": "ray@toolmaker.test", "name": "Ray Rep", "password": "a long password", "roles": ["sales_rep"] });
    assert_eq!(seller.post(&staff, rep).await.status, StatusCode::CREATED);
    let listed = seller.get(&staff).await.body;
    let sam = listed["users"].as_array().unwrap().iter().find(|u| u["name"] == json!("Sam Seller"));
    let sam = format!("{staff}/{}", sam.unwrap()["id"].as_str().unwrap());
    let refused = seller
        .send(Method::PUT, &sam, Some(json!({ "name": "Sam", "roles": ["back_office"] })))
        .await;
    assert_eq!(refused.body["error"]["field"], json!("roles"), "a seller admin keeps their own");
    let mut rita = logged_in(app, "rep@toolmaker.test").await;
    assert_eq!(rita.get(&staff).await.status, StatusCode::FORBIDDEN, "a sales rep does not");

    // Adding: each field checked, named where it is wrong.
    let new = |name: &str, password: &str, roles: Value| json!({ "email": "finn@acme.test", "name": name, "password": password, "roles": roles });
    for (body, field) in [
        (new(" ", "a long password", json!([])), "name"),
        (new("Finn", "short", json!([])), "password"),
        (new("Finn", "a long password", json!(["sales_rep"])), "roles[0]"),
        (new("Finn", "a long password", json!([" buyer"])), "roles[0]"),
    ] {
        let refused = admin.post(&users, body).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", refused.body);
        assert_eq!(refused.body["error"]["field"], json!(field));
    }
    // A role given twice is held once.
    let mut body = new("Finn Gray", "a long password", json!(["buyer", "buyer"]));
    body["manager_id"] = json!(shop.buyer);
    let added = admin.post(&users, body.clone()).await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    let finn = added.body["id"].as_str().unwrap().to_owned();
    let taken = admin.post(&users, body).await;
    assert_eq!(
        (taken.status, &taken.body["error"]["field"]),
        (StatusCode::CONFLICT, &json!("email"))
    );
    let finn_logs_in = app.client().login("finn@acme.test", "a long password").await;
    assert_eq!(finn_logs_in.status, StatusCode::OK, "{:?}", finn_logs_in.body);
    let listed = admin.get(&users).await.body;
    let row = listed["users"].as_array().unwrap().iter().find(|u| u["id"] == json!(finn));
    assert_eq!(row.unwrap()["roles"], json!(["buyer"]));

    // Changing: name, roles, unit and manager, all at once.
    let one = format!("{users}/{finn}");
    let change = |manager: &str, roles: Value| json!({ "name": "Finn Gray-Lee", "roles": roles, "unit_id": shop.emea, "manager_id": manager });
    let refused = admin.send(Method::PUT, &one, Some(change(&finn, json!(["buyer"])))).await;
    assert_eq!(refused.body["error"]["field"], json!("manager_id"), "nobody manages themselves");
    let changed =
        admin.send(Method::PUT, &one, Some(change(&shop.a1, json!(["buyer", "approver"])))).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    let directory = admin.get(&format!("/api/companies/{}/directory", shop.customer)).await.body;
    let member = directory["users"].as_array().unwrap().iter().find(|u| u["id"] == json!(finn));
    let member = member.expect("Finn is in the directory");
    assert_eq!(
        (&member["name"], &member["roles"], &member["unit"], &member["manager"]),
        (
            &json!("Finn Gray-Lee"),
            &json!(["approver", "buyer"]),
            &json!(shop.emea),
            &json!(shop.a1)
        )
    );
    // An admin keeps their own admin role (another admin can take it away).
    let own = format!("{users}/{}", shop.admin);
    let body = json!({ "name": "Dana Admin", "roles": ["buyer"] });
    let refused = admin.send(Method::PUT, &own, Some(body)).await;
    assert_eq!(
        (refused.status, &refused.body["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("roles"))
    );
    let other_company = format!("/api/companies/{}/users/{}", shop.customer, shop.other_approver);
    let body = json!({ "name": "Olga", "roles": [] });
    assert_eq!(
        admin.send(Method::PUT, &other_company, Some(body)).await.status,
        StatusCode::NOT_FOUND,
        "another company's user is not found"
    );
}
both_databases!(people, admins_list_add_and_change_their_people);

/// 20 drills: 3,679.98 USD with tax, over 3,000.
fn lines_again() -> Value {
    json!({ "lines": [{ "sku": "DRL-100", "quantity": 20 }] })
}

async fn a_user_who_left_is_removed_and_can_no_longer_act(app: &TestApp) {
    let shop = shop(app).await;
    let users = format!("/api/companies/{}/users", shop.customer);
    let mut admin = logged_in(app, "dana@acme.test").await;
    // Blake approves orders of 3,000 USD or more, named in the policy: removing him first
    // needs a policy that names someone else.
    let blake = format!("{users}/{}", shop.a2);
    let refused = admin.send(Method::DELETE, &blake, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert_eq!(refused.body["error"]["code"], json!("named_in_policy"));
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("Blake Diaz"));

    // An order waits for Blake alone; the policy then changes to name Casey instead.
    let mut buyer = logged_in(app, "pat@acme.test").await;
    buyer.send(Method::PUT, "/api/cart", Some(lines_again())).await;
    let context = buyer.get("/api/checkout/context").await.body;
    let placed = buyer
        .post("/api/orders", json!({ "idempotency_key": "k1", "claimed": claims(&context) }))
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
    let order = placed.body["id"].as_str().unwrap().to_owned();
    let policy: ApprovalPolicy = serde_json::from_value(json!({
        "name": "Acme approvals", "mode": "highest",
        "rules": [{ "id": "approver-2", "name": "Approver 2", "min_total": { "amount": "3000.00", "currency": "USD" }, "approver": { "user": shop.a3 } }]
    }))
    .unwrap();
    server::companies::save_policy(&app.state, &shop.customer, &policy, None).await.unwrap();
    let mut blakes = logged_in(app, "blake@acme.test").await;
    let refused = admin.send(Method::DELETE, &blake, None).await;
    assert_eq!(
        (refused.status, &refused.body["error"]["code"], &refused.body["error"]["orders"]),
        (StatusCode::CONFLICT, &json!("sole_approver"), &json!([1001])),
        "{:?}",
        refused.body
    );
    assert_eq!(blakes.get("/api/session").await.status, StatusCode::OK, "nothing changed");

    // Once the order is decided, Blake can be removed.
    let seen = blakes.get(&format!("/api/orders/{order}")).await.body;
    let decided = blakes
        .post(
            &format!("/api/orders/{order}/decisions"),
            json!({ "step_id": seen["steps"][0]["id"], "decision": "approve", "comment": "last one", "revision": seen["revision"] }),
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{:?}", decided.body);
    let token = blakes.post("/api/tokens", json!({ "name": "erp" })).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Pat reports to Blake: after him, to Blake's own manager (none here).
    let pat = json!({ "name": "Pat Buyer", "roles": ["buyer"], "unit_id": shop.ny, "manager_id": shop.a2 });
    let changed = admin.send(Method::PUT, &format!("{users}/{}", shop.buyer), Some(pat)).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    // Blake was mailed about the order; no SMTP server here, so it waits in the outbox.
    let waiting =
        "SELECT COUNT(*) FROM outbox WHERE recipient = 'blake@acme.test' AND sent_at IS NULL";
    let unsent = app.count(waiting).await;
    assert!(unsent > 0, "the approval request waits to be sent");
    let removed = admin.send(Method::DELETE, &blake, None).await;
    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.body);
    assert_eq!(
        (&removed.body["name"], &removed.body["reports_moved"], &removed.body["mail_dropped"]),
        (&json!("Blake Diaz"), &json!(1), &json!(unsent))
    );
    assert_eq!(app.count(waiting).await, 0, "mail to someone who left is not sent");
    assert_eq!(blakes.get("/api/session").await.status, StatusCode::UNAUTHORIZED, "session ended");
    let mut with_token = app.client();
    with_token.bearer = Some(token);
    assert_eq!(
        with_token.get("/api/session").await.status,
        StatusCode::UNAUTHORIZED,
        "token revoked"
    );
    let again = app.client().login("blake@acme.test", PASSWORD).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "no more logins");
    let list = admin.get(&users).await.body;
    assert!(!names(&list).contains(&"Blake Diaz"));
    assert_eq!(
        (&list["removed"][0]["id"], &list["removed"][0]["email"]),
        (&json!(shop.a2), &json!("blake@acme.test")),
        "listed apart, to be added again"
    );
    let pat = list["users"].as_array().unwrap().iter().find(|u| u["id"] == json!(shop.buyer));
    assert_eq!(pat.unwrap()["manager_id"], json!(null));
    let directory = admin.get(&format!("/api/companies/{}/directory", shop.customer)).await.body;
    assert!(!directory["users"].as_array().unwrap().iter().any(|u| u["id"] == json!(shop.a2)));
    // The order he approved still names him.
    let history = buyer.get(&format!("/api/orders/{order}")).await.body;
    assert_eq!(history["steps"][0]["decided_by_name"], json!("Blake Diaz"), "{history:?}");
    assert_eq!(admin.send(Method::DELETE, &blake, None).await.status, StatusCode::NOT_FOUND);

    // Blake comes back: added again, he is himself again, with what he is given now.
    let back = json!({ "email": "Blake@acme.test", "name": "Blake Diaz", "password": "a long password", "roles": ["buyer"] });
    let added = admin.post(&users, back).await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    assert_eq!((&added.body["id"], &added.body["restored"]), (&json!(shop.a2), &json!(true)));
    let mut again = app.client();
    assert_eq!(again.login("blake@acme.test", "a long password").await.status, StatusCode::OK);
    assert_eq!(again.get("/api/session").await.body["roles"], json!(["buyer"]));
    let someone_elses =
        json!({ "email": "olga@globex.test", "name": "Olga", "password": "a long password" });
    let taken = admin.post(&users, someone_elses).await;
    assert_eq!(taken.body["error"]["code"], json!("email_taken"), "another company's user");
    let removed = admin.send(Method::DELETE, &blake, None).await;
    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.body);

    // A buyer who left while an order of theirs waited is not mailed its decision.
    buyer.send(Method::PUT, "/api/cart", Some(lines_again())).await;
    let context = buyer.get("/api/checkout/context").await.body;
    let placed = buyer
        .post("/api/orders", json!({ "idempotency_key": "k2", "claimed": claims(&context) }))
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
    let removed = admin.send(Method::DELETE, &format!("{users}/{}", shop.buyer), None).await;
    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.body);
    let mails = "SELECT COUNT(*) FROM outbox WHERE recipient = 'pat@acme.test'";
    let before = app.count(mails).await;
    let mut casey = logged_in(app, "casey@acme.test").await;
    let decided = casey
        .post(
            &format!("/api/orders/{}/decisions", placed.body["id"].as_str().unwrap()),
            json!({ "step_id": placed.body["steps"][0]["id"], "decision": "approve", "comment": "ok", "revision": placed.body["revision"] }),
        )
        .await;
    assert_eq!(decided.body["state"], json!("approved"), "{:?}", decided.body);
    assert_eq!(app.count(mails).await, before, "no mail to a removed user");
    let told = "SELECT COUNT(*) FROM outbox WHERE recipient = 'casey@acme.test'";
    assert!(app.count(told).await > 0, "the others are still mailed");

    // Nobody removes themselves, and only admins remove anyone.
    let own = format!("{users}/{}", shop.admin);
    assert_eq!(admin.send(Method::DELETE, &own, None).await.status, StatusCode::FORBIDDEN);
    let eli = format!("{users}/{}", shop.emea_approver);
    assert_eq!(casey.send(Method::DELETE, &eli, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(buyer.get("/api/session").await.status, StatusCode::UNAUTHORIZED, "Pat is gone");
}
both_databases!(removal, a_user_who_left_is_removed_and_can_no_longer_act);

/// A policy that names Finn saved while Finn is being removed: one of the two is refused,
/// never both done (a policy naming someone who can no longer approve).
async fn a_removal_and_a_policy_naming_the_user_never_both_pass(app: &TestApp) {
    let shop = shop(app).await;
    let users = format!("/api/companies/{}/users", shop.customer);
    let policy_path = format!("/api/companies/{}/policy", shop.customer);
    let mut dana = logged_in(app, "dana@acme.test").await;
    let mut other_tab = logged_in(app, "dana@acme.test").await;
    let original = dana.get(&policy_path).await.body["policy"].clone();
    let finn = json!({ "email": "finn@acme.test", "name": "Finn Park", "password": "a long password", "roles": ["approver"] });
    for round in 0..6 {
        let added = dana.post(&users, finn.clone()).await;
        assert_eq!(added.status, StatusCode::CREATED, "round {round}: {:?}", added.body);
        let id = added.body["id"].as_str().unwrap().to_owned();
        let naming = json!({ "name": "Finn approves", "rules": [{ "id": "r", "name": "R", "min_total": { "amount": "1.00", "currency": "USD" }, "approver": { "user": id } }] });
        let remove = format!("{users}/{id}");
        let (saved, removed) = tokio::join!(
            dana.send(Method::PUT, &policy_path, Some(naming)),
            other_tab.send(Method::DELETE, &remove, None),
        );
        let outcome = (saved.status, removed.status);
        match outcome {
            (StatusCode::OK, StatusCode::CONFLICT) => {
                assert_eq!(removed.body["error"]["code"], json!("named_in_policy"));
                let back = dana.send(Method::PUT, &policy_path, Some(original.clone())).await;
                assert_eq!(back.status, StatusCode::OK, "{:?}", back.body);
                let gone = dana.send(Method::DELETE, &remove, None).await;
                assert_eq!(gone.status, StatusCode::OK, "{:?}", gone.body);
            }
            (StatusCode::UNPROCESSABLE_ENTITY, StatusCode::OK) => {
                assert_eq!(saved.body["error"]["field"], json!("policy"), "{:?}", saved.body);
            }
            _ => panic!("round {round}: {outcome:?}: {:?} {:?}", saved.body, removed.body),
        }
        let current = dana.get(&policy_path).await.body["policy"].clone();
        assert_eq!(current, original, "round {round}: the policy names nobody who left");
    }
}
both_databases!(removal_races_policy, a_removal_and_a_policy_naming_the_user_never_both_pass);

async fn people_change_their_own_password(app: &TestApp) {
    shop(app).await;
    let mut pat = logged_in(app, "pat@acme.test").await;
    let mut elsewhere = logged_in(app, "pat@acme.test").await;
    let change =
        |current: &str, new: &str| json!({ "current_password": current, "new_password": new });
    let path = "/api/session/password";
    for (body, field) in [
        (change("not it at all", "a new long password"), "current_password"),
        (change(PASSWORD, "short"), "new_password"),
        (change(PASSWORD, PASSWORD), "new_password"),
    ] {
        let refused = pat.send(Method::PUT, path, Some(body)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", refused.body);
        assert_eq!(refused.body["error"]["field"], json!(field));
    }
    let changed = pat.send(Method::PUT, path, Some(change(PASSWORD, "a new long password"))).await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{:?}", changed.body);
    assert_eq!(pat.get("/api/session").await.status, StatusCode::OK, "this session goes on");
    assert_eq!(
        elsewhere.get("/api/session").await.status,
        StatusCode::UNAUTHORIZED,
        "the other sessions end"
    );
    assert_eq!(
        app.client().login("pat@acme.test", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.client().login("pat@acme.test", "a new long password").await.status,
        StatusCode::OK
    );

    // Guessing the current password counts as failed logins.
    let mut guesser = logged_in(app, "avery@acme.test").await;
    for _ in 0..5 {
        guesser
            .send(Method::PUT, path, Some(change("a guess of mine", "a new long password")))
            .await;
    }
    let limited =
        guesser.send(Method::PUT, path, Some(change(PASSWORD, "a new long password"))).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", limited.body);
}
both_databases!(password, people_change_their_own_password);
