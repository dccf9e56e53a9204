//! The shapes the API answers with (the engine's own types where it sends them).

use rules::{
    CheckoutRequest,
    approval::{ApprovalPolicy, Directory},
    money::Money,
    pricing::PricingData,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Me {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub company_id: String,
    pub seller: bool,
    pub roles: Vec<String>,
    #[serde(default)]
    pub csrf_token: Option<String>,
}

impl Me {
    pub fn has(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub category: String,
    /// The buyer's unit price by quantity, as checkout prices it; empty when no price list of
    /// the buyer's has one.
    #[serde(default)]
    pub tiers: Vec<rules::pricing::PriceBreak>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Catalog {
    pub products: Vec<Product>,
    /// Every category of the catalog, to filter by.
    #[serde(default)]
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CartLines {
    pub lines: Vec<Line>,
}

/// A save of the cart, with this page's name and count of saves, so that an older save that
/// arrives late is not applied over a newer one (see `PUT /api/cart`).
#[derive(Debug, Clone, Serialize)]
pub struct CartSave {
    pub lines: Vec<Line>,
    pub writer: String,
    pub seq: i64,
}

/// What the browser needs to price and route the cart itself.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutContext {
    pub pricing_version: i64,
    pub policy_version: i64,
    pub pricing: PricingData,
    pub policy: ApprovalPolicy,
    pub directory: Directory,
    pub request: CheckoutRequest,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderSummary {
    pub id: String,
    /// The number people say and type ("order 1042").
    pub number: i64,
    pub state: String,
    pub total: Money,
    pub created_at: i64,
    pub buyer_name: String,
    pub company_name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OrderStates {
    pub states: Vec<StateCount>,
}

/// How many of the orders one sees are in a state.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StateCount {
    pub state: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Orders {
    pub orders: Vec<OrderSummary>,
    /// The cursor of the next (older) page; `None` on the last.
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Candidate {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Step {
    pub id: String,
    pub round: i64,
    pub index: i64,
    pub status: String,
    pub candidates: Vec<Candidate>,
    pub decided_by_name: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HistoryEntry {
    pub at: i64,
    pub actor_name: Option<String>,
    pub from: Option<String>,
    pub to: String,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    pub id: String,
    pub number: i64,
    pub state: String,
    #[serde(default)]
    pub revision: i64,
    /// The workflow the order runs on (orders placed before orders ran on workflows have none).
    #[serde(default)]
    pub workflow: Option<OrderWorkflow>,
    /// The workflow's manual transitions from the order's state, as the caller sees them.
    #[serde(default)]
    pub transitions: Vec<OrderTransition>,
    #[serde(default)]
    pub buyer_id: String,
    pub buyer_name: String,
    #[serde(default)]
    pub company_name: String,
    #[serde(default)]
    pub business_unit_name: Option<String>,
    pub total: Money,
    pub created_at: i64,
    pub priced: OrderPriced,
    /// The products' names by SKU, as priced.
    #[serde(default)]
    pub product_names: std::collections::BTreeMap<String, String>,
    pub plan: Explained,
    pub steps: Vec<Step>,
    pub history: Vec<HistoryEntry>,
}

/// An order's priced cart, as its page shows it: the lines and the explanation. (Only what is
/// shown is read: reading the engine's whole `PricedCart` and `ApprovalPlan` here cost the app
/// their deserializers, about 10 KB brotli, for nothing the page uses.)
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderPriced {
    pub lines: Vec<OrderLine>,
    #[serde(default)]
    pub explanation: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderLine {
    pub sku: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub amount: Money,
    #[serde(default)]
    pub explanation: Vec<String>,
}

/// Anything the server explains (an order's approval plan), by its sentences.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Explained {
    #[serde(default)]
    pub explanation: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderWorkflow {
    pub id: String,
    pub name: String,
    pub version: i64,
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderTransition {
    pub id: String,
    pub label: String,
    pub to: String,
    pub enabled: bool,
    #[serde(default)]
    pub why: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Pending {
    pub step_id: String,
    pub order_id: String,
    pub number: i64,
    pub revision: i64,
    pub buyer_name: String,
    pub total: Money,
    pub created_at: i64,
    pub why: Vec<String>,
    /// What the order is for.
    #[serde(default)]
    pub lines: Vec<PendingLine>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PendingLine {
    pub sku: String,
    /// The product's name in the catalog the order was priced with.
    #[serde(default)]
    pub name: Option<String>,
    pub quantity: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Queue {
    pub pending: Vec<Pending>,
    /// The cursor of the next page; `None` on the last.
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub order_id: Option<String>,
    pub created_at: i64,
    pub read: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Notifications {
    pub unread: i64,
    pub notifications: Vec<Notification>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PolicyDocument {
    pub version: i64,
    pub policy: ApprovalPolicy,
}

/// A timestamp for people, in the browser's time zone.
pub fn when(ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    String::from(date.to_locale_string("en-US", &wasm_bindgen::JsValue::UNDEFINED))
}
