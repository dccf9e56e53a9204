//! The command line, run as a process: what it prints and how it exits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

use std::{path::PathBuf, process::Command};

fn countersign(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run countersign");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("countersign-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn eval_prices_and_routes_a_cart() {
    let (code, out, err) = countersign(&[
        "eval",
        "demo/company.json",
        "demo/carts/3-approver-2.json",
        "--pricing",
        "demo/pricing.json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Total: 3,496.14 USD"), "{out}");
    assert!(
        out.contains(
            "1. Blake Diaz — Approver 2: orders of 3,000.00 USD or more; this order is 3,496.14 USD"
        ),
        "{out}"
    );
}

#[test]
fn eval_routes_order_facts_as_json() {
    let order = temp_file(
        "order.json",
        r#"{"buyer": "pat", "order": {"total": {"amount": "5200.00", "currency": "USD"}, "subtotal": {"amount": "5200.00", "currency": "USD"},
            "discount": {"amount": "0.00", "currency": "USD"}, "shipping": {"amount": "0.00", "currency": "USD"}, "tax": {"amount": "0.00", "currency": "USD"},
            "sku_count": 1, "quantity": 1, "categories": ["tools"], "business_unit": "ny"},
            "spent": [{"limit": "buyer-monthly", "amount": {"amount": "0.00", "currency": "USD"}}]}"#,
    );
    let (code, out, err) =
        countersign(&["eval", "demo/company.json", order.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["verdict"], "approval_required");
    assert_eq!(plan["steps"][0]["candidates"], serde_json::json!(["casey"]));
}

#[test]
fn eval_names_the_field_at_fault() {
    let order = temp_file(
        "bad-order.json",
        r#"{"buyer": "pat", "order": {"total": {"amount": 12.5, "currency": "USD"}}}"#,
    );
    let (code, _, err) = countersign(&["eval", "demo/company.json", order.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("at order.total.amount: invalid type: floating point `12.5`, expected a decimal number written as a string"), "{err}");
}

#[test]
fn check_workflow_passes_a_valid_definition() {
    let (code, out, _) = countersign(&["check-workflow", "demo/order-workflow.json"]);
    assert_eq!(code, 0);
    assert!(out.contains("demo/order-workflow.json: 0 errors, 0 warnings"), "{out}");
}

#[test]
fn check_workflow_fails_on_errors_and_lists_them() {
    let file = temp_file(
        "broken.json",
        r#"{"id": "w", "version": 1, "name": "W", "entity": "order",
            "states": [{"id": "a", "label": "A", "start": true}, {"id": "b", "label": "B"}, {"id": "c", "label": "C", "terminal": true}],
            "transitions": [{"id": "t", "from": "a", "to": "c", "label": "T", "roles": ["buyer"], "guard": {"field": "order.totl", "op": ">", "value": {"number": "1"}}}]}"#,
    );
    let (code, out, _) = countersign(&["check-workflow", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error: transitions[0].guard: unknown field \"order.totl\"; did you mean \"order.total\"?"), "{out}");
    assert!(
        out.contains("error: states[1]: state \"b\" cannot be reached from the start state"),
        "{out}"
    );
    assert!(out.contains("3 errors, 0 warnings"), "{out}");
    let (code, json, _) = countersign(&["check-workflow", file.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    let diagnostics: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(diagnostics.as_array().unwrap().len(), 3);
}

#[test]
fn check_workflow_reads_yaml() {
    let file = temp_file(
        "broken.yaml",
        "id: w\nversion: 1\nname: W\nentity: order\nstates:\n  - { id: a, label: A, start: true }\n  - { id: b, label: B }\ntransitions: []\n",
    );
    let (code, out, _) = countersign(&["check-workflow", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error: states[1]: state \"b\" cannot be reached"), "{out}");
    let wrong = temp_file(
        "wrong.yml",
        "id: w\nversion: 1\nname: W\nentity: invoice\nstates: []\ntransitions: []\n",
    );
    let (code, _, err) = countersign(&["check-workflow", wrong.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("at entity: unknown variant `invoice`"), "{err}");
}

#[test]
fn check_workflow_reports_unreadable_input() {
    let file = temp_file("not-json.json", "{ this is not json");
    let (code, _, err) = countersign(&["check-workflow", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("key must be a string at line 1 column 3"), "{err}");
    let (code, _, err) = countersign(&["check-workflow", "/nonexistent/file.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read /nonexistent/file.json"), "{err}");
}

#[test]
fn demo_runs_the_seed_scenarios() {
    let (code, out, err) = countersign(&["demo"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("this order is 3,496.14 USD"), "{out}");
    assert!(out.contains("escalated from \"Approver 2\" to \"Approver 3\""), "{out}");
    assert!(out.contains("exceeds the card's remaining capacity of 1,500.00 USD"), "{out}");
    assert!(out.contains("\"big-order-follow-up\" is due"), "{out}");
}
