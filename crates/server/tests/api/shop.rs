//! A small shop for the checkout tests: a catalog, a customer with a unit tree, approvers at
//! 2,000 / 3,000 / 5,000 USD, a second customer, and helpers that compute what the browser
//! would show (with the same rules crate) for a submission.

use super::harness::{PASSWORD, TestApp};
use rules::{
    CheckoutRequest,
    approval::{ApprovalContext, ApprovalPolicy, Directory},
    pricing::{PricingContext, PricingData},
};
use serde_json::{Value, json};
use server::seed;

pub struct Shop {
    pub seller: String,
    pub customer: String,
    pub other_customer: String,
    pub ny: String,
    pub emea: String,
    pub buyer: String,
    pub a1: String,
    pub a2: String,
    pub a3: String,
    pub emea_approver: String,
    pub admin: String,
    pub other_approver: String,
}

pub fn pricing() -> Value {
    json!({
        "catalog": [
            { "sku": "DRL-100", "name": "Cordless drill 18 V", "category": "power-tools", "tax_class": "standard" },
            { "sku": "BIT-SET", "name": "Drill bit set (50)", "category": "accessories", "tax_class": "standard" },
            { "sku": "SOLV-5", "name": "Solvent cleaner 5 l", "category": "chemicals", "tax_class": "standard" }
        ],
        "price_lists": [
            { "id": "list-usd", "name": "Standard USD", "audience": "default", "currency": "USD", "prices": [
                { "sku": "DRL-100", "tiers": [{ "min_quantity": 1, "unit_price": "189.00" }, { "min_quantity": 10, "unit_price": "169.00" }] },
                { "sku": "BIT-SET", "tiers": [{ "min_quantity": 1, "unit_price": "24.90" }] },
                { "sku": "SOLV-5", "tiers": [{ "min_quantity": 1, "unit_price": "38.00" }] } ] },
            { "id": "contract-secret", "name": "Another customer's contract", "audience": { "customer": "co_someone_else" }, "currency": "USD", "prices": [
                { "sku": "DRL-100", "tiers": [{ "min_quantity": 1, "unit_price": "99.00" }] } ] }
        ],
        "tax_rules": [{ "id": "us-ny", "name": "NY sales tax", "kind": "sales_tax", "country": "US", "region": "NY", "tax_class": "standard", "percent": "8.875" }]
    })
}

pub async fn shop(app: &TestApp) -> Shop {
    let s = &app.state;
    let seller = seed::company(
        s,
        seed::NewCompany {
            name: "Toolmaker",
            seller: true,
            customer_group: None,
            country: "US",
            region: Some("NY"),
            currency: "USD",
        },
    )
    .await
    .unwrap();
    let customer = seed::company(
        s,
        seed::NewCompany {
            name: "Acme Corp",
            seller: false,
            customer_group: Some("wholesale"),
            country: "US",
            region: Some("NY"),
            currency: "USD",
        },
    )
    .await
    .unwrap();
    let other = seed::company(
        s,
        seed::NewCompany {
            name: "Globex",
            seller: false,
            customer_group: None,
            country: "US",
            region: Some("NY"),
            currency: "USD",
        },
    )
    .await
    .unwrap();
    let root = seed::unit(s, &customer, "Acme", None).await.unwrap();
    let na = seed::unit(s, &customer, "North America", Some(&root)).await.unwrap();
    let ny = seed::unit(s, &customer, "New York", Some(&na)).await.unwrap();
    let emea = seed::unit(s, &customer, "EMEA", Some(&root)).await.unwrap();
    let user = |company: String,
                email: &'static str,
                name: &'static str,
                roles: &'static [&'static str],
                unit: Option<String>| async move {
        seed::user(
            s,
            seed::NewUser {
                company_id: &company,
                email,
                name,
                password: PASSWORD,
                roles,
                unit_id: unit.as_deref(),
                manager_id: None,
            },
        )
        .await
        .unwrap()
    };
    let buyer =
        user(customer.clone(), "pat@acme.test", "Pat Buyer", &["buyer"], Some(ny.clone())).await;
    let a1 = user(
        customer.clone(),
        "avery@acme.test",
        "Avery Chen",
        &["approver", "buyer"],
        Some(na.clone()),
    )
    .await;
    let a2 =
        user(customer.clone(), "blake@acme.test", "Blake Diaz", &["approver", "buyer"], None).await;
    let a3 = user(customer.clone(), "casey@acme.test", "Casey Evans", &["approver"], None).await;
    let emea_approver =
        user(customer.clone(), "eli@acme.test", "Eli Ng", &["approver"], Some(emea.clone())).await;
    let admin =
        user(customer.clone(), "dana@acme.test", "Dana Admin", &["company_admin"], None).await;
    let other_approver =
        user(other.clone(), "olga@globex.test", "Olga Other", &["approver", "buyer"], None).await;
    user(seller.clone(), "admin@toolmaker.test", "Sam Seller", &["seller_admin"], None).await;
    user(seller.clone(), "rep@toolmaker.test", "Rita Rep", &["sales_rep"], None).await;
    let data: PricingData = serde_json::from_value(pricing()).unwrap();
    server::catalog::publish(s, &data, None).await.unwrap();
    let policy: ApprovalPolicy = serde_json::from_value(json!({
        "name": "Acme approvals", "mode": "highest",
        "rules": [
            { "id": "approver-1", "name": "Approver 1", "min_total": { "amount": "2000.00", "currency": "USD" }, "approver": { "user": a1 } },
            { "id": "approver-2", "name": "Approver 2", "min_total": { "amount": "3000.00", "currency": "USD" }, "approver": { "user": a2 } },
            { "id": "approver-3", "name": "Approver 3", "min_total": { "amount": "5000.00", "currency": "USD" }, "approver": { "user": a3 } },
            { "id": "hazmat", "name": "Hazardous goods", "when": { "field": "order.categories", "op": "contains", "value": { "text": "chemicals" } }, "approver": { "any_of": [a2, a3] } }
        ]
    }))
    .unwrap();
    server::companies::save_policy(s, &customer, &policy, None).await.unwrap();
    Shop {
        seller,
        customer,
        other_customer: other,
        ny,
        emea,
        buyer,
        a1,
        a2,
        a3,
        emea_approver,
        admin,
        other_approver,
    }
}

/// What the browser computes from `GET /api/checkout/context`, as the `claimed` part of a
/// submission.
pub fn claims(context: &Value) -> Value {
    let pricing =
        PricingContext::new(serde_json::from_value(context["pricing"].clone()).unwrap()).unwrap();
    let policy: ApprovalPolicy = serde_json::from_value(context["policy"].clone()).unwrap();
    let directory: Directory = serde_json::from_value(context["directory"].clone()).unwrap();
    let approval = ApprovalContext::new(policy, directory).unwrap();
    let request: CheckoutRequest = serde_json::from_value(context["request"].clone()).unwrap();
    let verdict = rules::evaluate_checkout(&pricing, &approval, &request).unwrap();
    json!({
        "pricing_version": context["pricing_version"],
        "policy_version": context["policy_version"],
        "total": verdict.priced.total,
        "lines": verdict.priced.lines.iter().map(|l| json!({ "sku": l.sku, "quantity": l.quantity, "unit_price": l.unit_price })).collect::<Vec<_>>(),
        "approvers": verdict.plan.steps.iter().map(|s| s.candidates.iter().map(ToString::to_string).collect::<Vec<_>>()).collect::<Vec<_>>(),
    })
}
