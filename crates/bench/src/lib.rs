//! The benchmark scenario of the rules engine issue: price a 20-line cart, route it with a
//! 10-rule policy and evaluate 5 guards, natively (criterion, `benches/engine.rs`) and in wasm
//! under Node (`wasm-bench.mjs`), plus the seed routing for the side-by-side with GoRules ZEN
//! (`benches/versus_zen.rs`).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "benchmark set-up: bad data is a bug here"
)]

/// Natively, the server's allocator (see `crates/server/src/main.rs`): the engine's figures are
/// what the server gets.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// In wasm, the browser builds' allocator (see `crates/rules-js/src/lib.rs`).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

use rules::{
    CheckoutRequest, CheckoutVerdict,
    approval::{ApprovalContext, ApprovalPlan, OrderFacts, RouteRequest},
    condition::{CompiledCondition, Entity, Schema, Value, text},
    money::Money,
    pricing::PricingContext,
    time::Duration,
};
use serde_json::json;
use std::sync::Arc;

/// Everything prepared once: the contexts, a cart, compiled guards.
#[derive(Debug)]
pub struct Scenario {
    pub pricing: PricingContext,
    pub approval: ApprovalContext,
    pub request: CheckoutRequest,
    pub guards: Vec<CompiledCondition>,
    slots: Slots,
    unit: Arc<[rules::ids::SharedStr]>,
}

/// Where the guards' fields sit in the order schema.
#[derive(Debug)]
struct Slots {
    len: usize,
    total: usize,
    shipping: usize,
    sku_count: usize,
    categories: usize,
    business_unit: usize,
    payment_method: usize,
    state_age: usize,
}

const CATEGORIES: [&str; 5] = ["power-tools", "accessories", "safety", "chemicals", "office"];

fn usd(amount: &str) -> serde_json::Value {
    json!({ "amount": amount, "currency": "USD" })
}

/// A 50-product catalog with default, group and customer lists (tiers), NY sales tax, a
/// discount and taxed shipping; a 20-line cart.
fn pricing_and_cart() -> (serde_json::Value, serde_json::Value) {
    let products: Vec<_> = (0..50)
        .map(|i| json!({ "sku": format!("SKU-{i:03}"), "name": format!("Product {i}"), "category": CATEGORIES[i % 5], "tax_class": if i % 7 == 0 { "reduced" } else { "standard" } }))
        .collect();
    let default_prices: Vec<_> = (0..50)
        .map(|i| {
            let base = 10 + i * 7;
            json!({ "sku": format!("SKU-{i:03}"), "tiers": [
                { "min_quantity": 1, "unit_price": format!("{base}.90") },
                { "min_quantity": 10, "unit_price": format!("{}.50", base - 1) },
                { "min_quantity": 50, "unit_price": format!("{}.25", base - 2) } ] })
        })
        .collect();
    let group_prices: Vec<_> = (0..50).step_by(3).map(|i| json!({ "sku": format!("SKU-{i:03}"), "tiers": [{ "min_quantity": 1, "unit_price": format!("{}.00", 9 + i * 7) }] })).collect();
    let contract: Vec<_> = (0..50).step_by(5).map(|i| json!({ "sku": format!("SKU-{i:03}"), "tiers": [{ "min_quantity": 1, "unit_price": format!("{}.75", 8 + i * 7) }] })).collect();
    let data = json!({
        "catalog": products,
        "price_lists": [
            { "id": "list-usd", "name": "Standard", "audience": "default", "currency": "USD", "prices": default_prices },
            { "id": "list-eur", "name": "Standard EUR", "audience": "default", "currency": "EUR", "prices": [] },
            { "id": "wholesale", "name": "Wholesale", "audience": { "group": "wholesale" }, "currency": "USD", "valid_from": "2026-01-01", "valid_until": "2026-12-31", "prices": group_prices },
            { "id": "contract", "name": "Contract", "audience": { "customer": "acme" }, "currency": "USD", "prices": contract }
        ],
        "tax_rules": [
            { "id": "us-ny", "name": "NY sales tax", "kind": "sales_tax", "country": "US", "region": "NY", "tax_class": "standard", "percent": "8.875" },
            { "id": "us-ny-red", "name": "NY reduced", "kind": "sales_tax", "country": "US", "region": "NY", "tax_class": "reduced", "percent": "4" },
            { "id": "us", "name": "US sales tax", "kind": "sales_tax", "country": "US", "tax_class": "standard", "percent": "6.25" },
            { "id": "de", "name": "German VAT", "kind": "vat", "country": "DE", "tax_class": "standard", "percent": "19" }
        ],
        "rounding": { "mode": "per_line", "rounding": "half_up" }
    });
    let lines: Vec<_> = (0..20)
        .map(|i| json!({ "sku": format!("SKU-{:03}", i * 2 + 1), "quantity": 1 + (i * 7) % 60 }))
        .collect();
    let cart = json!({
        "currency": "USD", "date": "2026-11-21",
        "customer": { "id": "acme", "group": "wholesale", "country": "US", "region": "NY" },
        "lines": lines,
        "discount": { "percent": "3", "cap": "500.00" },
        "shipping": { "amount": "85.00", "tax_class": "standard" }
    });
    (data, cart)
}

/// A 10-rule policy: three thresholds (2,000 / 3,000 / 5,000), three more on units and
/// categories, four on conditions; a spending limit and a credit rule.
fn company() -> (serde_json::Value, serde_json::Value) {
    let policy = json!({
        "name": "Acme", "mode": "escalation",
        "rules": [
            { "id": "a1", "name": "Approver 1", "min_total": usd("2000.00"), "approver": { "user": "avery" } },
            { "id": "a2", "name": "Approver 2", "min_total": usd("3000.00"), "approver": { "user": "blake" } },
            { "id": "a3", "name": "Approver 3", "min_total": usd("5000.00"), "approver": { "user": "casey" } },
            { "id": "emea", "name": "EMEA director", "min_total": usd("10000.00"), "when": { "field": "order.business_unit", "op": "within", "value": { "text": "emea" } }, "approver": { "user": "dana" } },
            { "id": "na", "name": "NA director", "min_total": usd("20000.00"), "when": { "field": "order.business_unit", "op": "within", "value": { "text": "na" } }, "approver": { "user": "erin" } },
            { "id": "cfo", "name": "CFO", "min_total": usd("50000.00"), "approver": { "user": "fran" } },
            { "id": "hazmat", "name": "Hazardous goods", "when": { "field": "order.categories", "op": "contains", "value": { "text": "chemicals" } }, "approver": { "role": "safety" } },
            { "id": "terms", "name": "On account", "when": { "all": [{ "field": "order.payment_method", "op": "in", "value": { "list": ["invoice", "terms"] } }, { "field": "order.sku_count", "op": ">=", "value": { "number": "15" } }] }, "approver": { "role": "finance" } },
            { "id": "freight", "name": "Costly freight", "when": { "field": "order.shipping", "op": ">", "value": { "money": usd("500") } }, "approver": { "user": "avery" } },
            { "id": "office", "name": "Office supplies", "when": { "not": { "field": "buyer.roles", "op": "contains", "value": { "text": "buyer" } } }, "approver": "manager" }
        ],
        "spending_limits": [{ "id": "monthly", "name": "Monthly budget", "applies_to": { "role": "buyer" }, "period": "month", "amount": usd("50000.00"), "on_exceed": { "approval": "manager" } }],
        "over_credit": { "approval": { "role": "finance" } },
        "fallback": { "role": "company_admin" }
    });
    let directory = json!({
        "units": [{ "id": "acme", "name": "Acme" }, { "id": "na", "name": "NA", "parent": "acme" }, { "id": "ny", "name": "NY", "parent": "na" }, { "id": "emea", "name": "EMEA", "parent": "acme" }],
        "users": [
            { "id": "pat", "name": "Pat Buyer", "roles": ["buyer"], "unit": "ny", "manager": "morgan" },
            { "id": "avery", "name": "Avery Chen", "roles": ["approver"], "unit": "na" },
            { "id": "blake", "name": "Blake Diaz", "roles": ["approver"] },
            { "id": "casey", "name": "Casey Evans", "roles": ["approver"] },
            { "id": "dana", "name": "Dana Fox", "roles": ["approver"], "unit": "emea" },
            { "id": "erin", "name": "Erin Gray", "roles": ["approver"], "unit": "na" },
            { "id": "fran", "name": "Fran Hill", "roles": ["approver"] },
            { "id": "morgan", "name": "Morgan Lee", "roles": ["manager", "company_admin"] },
            { "id": "sam", "name": "Sam Safety", "roles": ["safety"] },
            { "id": "robin", "name": "Robin Cash", "roles": ["finance"] }
        ]
    });
    (policy, directory)
}

/// The five guards of the scenario, in the text form.
pub const GUARDS: [&str; 5] = [
    "order.total >= 50000 USD and order.state_age >= 7d",
    r#"order.payment_method in ["invoice", "terms"]"#,
    r#"order.categories contains "chemicals""#,
    r#"not order.business_unit within "emea""#,
    "order.sku_count > 10 or order.shipping > 100 USD",
];

impl Scenario {
    pub fn new() -> Scenario {
        let (data, cart) = pricing_and_cart();
        let (policy, directory) = company();
        let pricing = PricingContext::new(serde_json::from_value(data).unwrap()).unwrap();
        let approval = ApprovalContext::new(
            serde_json::from_value(policy).unwrap(),
            serde_json::from_value(directory).unwrap(),
        )
        .unwrap();
        let request: CheckoutRequest = serde_json::from_value(json!({
            "cart": cart, "buyer": "pat", "business_unit": "ny", "payment_method": "invoice",
            "spent": [{ "limit": "monthly", "amount": usd("12000.00") }],
            "funds": { "credit": { "limit": usd("100000.00"), "open_balance": usd("20000.00") } }
        }))
        .unwrap();
        let schema = Schema::entity(Entity::Order);
        let guards = GUARDS
            .iter()
            .map(|g| CompiledCondition::compile(&text::parse(g).unwrap(), &schema).unwrap())
            .collect();
        let slot = |p: &str| schema.slot(p).unwrap();
        let slots = Slots {
            len: schema.fields().len(),
            total: slot("order.total"),
            shipping: slot("order.shipping"),
            sku_count: slot("order.sku_count"),
            categories: slot("order.categories"),
            business_unit: slot("order.business_unit"),
            payment_method: slot("order.payment_method"),
            state_age: slot("order.state_age"),
        };
        let unit = Arc::from(["ny".into(), "na".into(), "acme".into()]);
        Scenario { pricing, approval, request, guards, slots, unit }
    }

    /// The facts the guards read, from the order as priced.
    fn facts(&self, order: &OrderFacts) -> Vec<Option<Value>> {
        let s = &self.slots;
        let mut facts = vec![None; s.len];
        facts[s.total] = Some(Value::Money(order.total));
        facts[s.shipping] = Some(Value::Money(order.shipping));
        facts[s.sku_count] = Some(Value::Number(order.sku_count.into()));
        facts[s.categories] =
            Some(Value::List(order.categories.iter().map(|c| c.shared()).collect()));
        facts[s.business_unit] = Some(Value::List(self.unit.clone()));
        facts[s.payment_method] = order.payment_method.as_ref().map(|p| Value::Text(p.shared()));
        facts[s.state_age] = Some(Value::Duration(Duration::from_days(3)));
        facts
    }

    /// The measured work: price, route, evaluate the guards. Returns the verdict and how many
    /// guards hold.
    pub fn run(&self) -> (CheckoutVerdict, usize) {
        let verdict =
            rules::evaluate_checkout(&self.pricing, &self.approval, &self.request).unwrap();
        let facts = self.facts(&verdict.facts);
        let holding = self.guards.iter().filter(|g| g.holds(&facts)).count();
        (verdict, holding)
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario::new()
    }
}

/// The seed routing (approvers at 2,000 / 3,000 / 5,000) as our policy, in a mode.
pub fn seed_routing(mode: &str) -> ApprovalContext {
    let policy = json!({
        "name": "Seed 001", "mode": mode,
        "rules": [
            { "id": "a1", "name": "Approver 1", "min_total": usd("2000"), "approver": { "user": "a1" } },
            { "id": "a2", "name": "Approver 2", "min_total": usd("3000"), "approver": { "user": "a2" } },
            { "id": "a3", "name": "Approver 3", "min_total": usd("5000"), "approver": { "user": "a3" } }
        ]
    });
    let directory = json!({ "users": [
        { "id": "buyer", "name": "Buyer" }, { "id": "a1", "name": "A1" }, { "id": "a2", "name": "A2" }, { "id": "a3", "name": "A3" } ] });
    ApprovalContext::new(
        serde_json::from_value(policy).unwrap(),
        serde_json::from_value(directory).unwrap(),
    )
    .unwrap()
}

/// A routing request for the seed policy with this total.
pub fn seed_request(total: &str) -> RouteRequest {
    let m = Money::parse(total, "USD").unwrap();
    let zero = Money::zero(m.currency());
    RouteRequest {
        buyer: rules::ids::UserId::parse("buyer").unwrap(),
        order: OrderFacts {
            total: m,
            subtotal: m,
            discount: zero,
            shipping: zero,
            tax: zero,
            sku_count: 1,
            quantity: 1,
            categories: vec![],
            business_unit: None,
            payment_method: None,
            customer: None,
            customer_group: None,
        },
        spent: vec![],
        funds: None,
    }
}

/// The approvers of a plan's steps, in order.
pub fn approvers(plan: &ApprovalPlan) -> Vec<String> {
    plan.steps.iter().flat_map(|s| s.candidates.iter().map(ToString::to_string)).collect()
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use wasm_bindgen::prelude::*;

    /// Runs the scenario `n` times and returns how many guards held in the last run (so that
    /// nothing is optimised away). Timed by the caller with `performance.now()`.
    #[wasm_bindgen]
    pub fn run_scenario(n: u32) -> u32 {
        thread_local! { static SCENARIO: super::Scenario = super::Scenario::new(); }
        SCENARIO.with(|s| {
            let mut held = 0;
            for _ in 0..n {
                held = s.run().1;
            }
            held as u32
        })
    }
}

/// A valid workflow with `states` states and `transitions` transitions (a chain from the start
/// to the terminal state, plus guarded extras), for the validation benchmark.
pub fn large_workflow(states: usize, transitions: usize) -> rules::workflow::WorkflowDefinition {
    let state_list: Vec<_> = (0..states)
        .map(|i| json!({ "id": format!("s{i}"), "label": format!("State {i}"), "start": i == 0, "terminal": i + 1 == states }))
        .collect();
    let mut list: Vec<_> = (0..states - 1)
        .map(|i| json!({ "id": format!("next{i}"), "from": format!("s{i}"), "to": format!("s{}", i + 1), "label": "Next", "roles": ["buyer"] }))
        .collect();
    for k in 0..transitions.saturating_sub(states - 1) {
        let from = (k * 7) % (states - 1);
        let to = (k * 13 + 1) % states;
        let guard = match k % 4 {
            0 => {
                json!({ "field": "order.total", "op": ">=", "value": { "money": usd(&format!("{}", 1000 * (k % 50))) } })
            }
            1 => {
                json!({ "all": [{ "field": "order.state_age", "op": ">=", "value": { "duration": format!("{}d", k % 9 + 1) } }, { "field": "order.payment_method", "op": "=", "value": { "text": "invoice" } }] })
            }
            2 => {
                json!({ "not": { "field": "order.categories", "op": "contains", "value": { "text": "chemicals" } } })
            }
            _ => {
                json!({ "any": [{ "field": "order.sku_count", "op": "<", "value": { "number": "5" } }, { "field": "order.business_unit", "op": "within", "value": { "text": "emea" } }] })
            }
        };
        let trigger = if k % 3 == 0 {
            json!({ "timer": { "after": format!("{}d", k % 9 + 1) } })
        } else {
            json!("manual")
        };
        list.push(json!({ "id": format!("t{k}"), "from": format!("s{from}"), "to": format!("s{to}"), "label": format!("Go {k}"), "roles": ["sales_rep"], "trigger": trigger, "guard": guard }));
    }
    serde_json::from_value(json!({ "id": "big", "version": 1, "name": "Big", "entity": "order", "states": state_list, "transitions": list })).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_is_what_it_claims() {
        let s = Scenario::new();
        let (verdict, held) = s.run();
        assert_eq!(s.request.cart.lines.len(), 20);
        assert_eq!(s.approval.policy().rules.len(), 10);
        assert_eq!(s.guards.len(), 5);
        assert!(verdict.priced.discount.is_some() && !verdict.priced.taxes.is_empty());
        assert!(!verdict.plan.steps.is_empty(), "the cart needs approval: {:?}", verdict.plan);
        assert!((2..=4).contains(&held), "{held} guards hold");
    }
}
