//! Countersign's rules engine for JavaScript.
//!
//! A thin layer: every function converts its arguments from JavaScript values (with the
//! small serde reader and writer of [`js`], so no JSON text crosses the boundary), calls `rules`, and converts
//! the answer back with its explanations filled in. Errors are thrown as `Error` objects whose
//! `message` says what is wrong and where; invalid definitions also carry `diagnostics`.
//!
//! The prepared contexts (`Pricing`, `Approvals`, `WorkflowRuntime`) are classes: build them
//! once from the seller's data, then call them on every keystroke.
//!
//! The TypeScript declarations of the JSON shapes are in `types.d.ts`, next to this file.

use js_sys::{Error, Reflect};
use rules::{
    CheckoutRequest,
    approval::{ApprovalContext, RouteRequest},
    condition::{Condition, Entity, Schema, text},
    diagnostic::Diagnostic,
    pricing::{Cart, PricingContext},
    time::Timestamp,
    workflow::{self, Actor, Instance, Workflow, WorkflowDefinition},
};
use serde::{Serialize, de::DeserializeOwned};
use wasm_bindgen::prelude::*;

/// Talc instead of the default dlmalloc: smaller, and a little faster on the engine's many small
/// allocations.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

mod js;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("../types.d.ts");

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "PricingData")]
    pub type PricingDataJs;
    #[wasm_bindgen(typescript_type = "Cart")]
    pub type CartJs;
    #[wasm_bindgen(typescript_type = "PricedCart")]
    pub type PricedCartJs;
    #[wasm_bindgen(typescript_type = "PriceBreak[]")]
    pub type PriceBreaksJs;
    #[wasm_bindgen(typescript_type = "ApprovalPolicy")]
    pub type ApprovalPolicyJs;
    #[wasm_bindgen(typescript_type = "Directory")]
    pub type DirectoryJs;
    #[wasm_bindgen(typescript_type = "RouteRequest")]
    pub type RouteRequestJs;
    #[wasm_bindgen(typescript_type = "ApprovalPlan")]
    pub type ApprovalPlanJs;
    #[wasm_bindgen(typescript_type = "CheckoutRequest")]
    pub type CheckoutRequestJs;
    #[wasm_bindgen(typescript_type = "CheckoutVerdict")]
    pub type CheckoutVerdictJs;
    #[wasm_bindgen(typescript_type = "WorkflowDefinition")]
    pub type WorkflowDefinitionJs;
    #[wasm_bindgen(typescript_type = "Diagnostic[]")]
    pub type DiagnosticsJs;
    #[wasm_bindgen(typescript_type = "Instance")]
    pub type InstanceJs;
    #[wasm_bindgen(typescript_type = "Actor")]
    pub type ActorJs;
    #[wasm_bindgen(typescript_type = "TransitionOption[]")]
    pub type TransitionOptionsJs;
    #[wasm_bindgen(typescript_type = "Fired")]
    pub type FiredJs;
    #[wasm_bindgen(typescript_type = "Fired | null")]
    pub type MaybeFiredJs;
    #[wasm_bindgen(typescript_type = "TimerStatus[]")]
    pub type TimersJs;
    #[wasm_bindgen(typescript_type = "Record<string, Value>")]
    pub type FieldsJs;
    #[wasm_bindgen(typescript_type = "Condition")]
    pub type ConditionJs;
    #[wasm_bindgen(typescript_type = "Snapshot")]
    pub type SnapshotJs;
    #[wasm_bindgen(typescript_type = "Drift")]
    pub type DriftJs;
    #[wasm_bindgen(typescript_type = "'order' | 'quote' | 'checkout' | 'approval'")]
    pub type SchemaNameJs;
}

/// An `Error` with a message and, optionally, extra properties.
fn error(message: &str) -> JsValue {
    Error::new(message).into()
}

fn with_property(err: JsValue, key: &str, value: &JsValue) -> JsValue {
    // Setting a property on a fresh Error object cannot fail; if it did, the message remains.
    let _ = Reflect::set(&err, &JsValue::from_str(key), value);
    err
}

/// Reads a JavaScript value as `T`; the error names the argument and the path inside it
/// (`cart.lines[2].quantity: ...`, and the path again as the error's `path` property).
fn read<T: DeserializeOwned>(argument: &str, value: JsValue) -> Result<T, JsValue> {
    js::from_value(plain(argument, &value)?).map_err(|e| read_error(argument, &e))
}

/// The argument as plain data (see [`js::plain`]). Out of line, as is [`read_error`]: [`read`]
/// has an instance per type read.
#[inline(never)]
fn plain(argument: &str, value: &JsValue) -> Result<JsValue, JsValue> {
    js::plain(value).ok_or_else(|| error(&format!("{argument}: cannot be written as JSON")))
}

#[inline(never)]
fn read_error(argument: &str, e: &js::Error) -> JsValue {
    let at = e.path(argument);
    with_property(error(&format!("{at}: {}", e.message())), "path", &JsValue::from_str(&at))
}

/// Writes a value for JavaScript.
fn write<T: Serialize + ?Sized, J: JsCast>(value: &T) -> Result<J, JsValue> {
    js::to_value(value).map(JsCast::unchecked_into).map_err(write_error)
}

#[inline(never)]
fn write_error(e: js::Error) -> JsValue {
    error(e.message())
}

fn invalid(what: &str, problems: &[Diagnostic]) -> JsValue {
    let summary: Vec<String> =
        problems.iter().map(|p| format!("{}: {}", p.path, p.message())).collect();
    let err = error(&format!("invalid {what}: {}", summary.join("; ")));
    match write::<_, JsValue>(&problems) {
        Ok(list) => with_property(err, "diagnostics", &list),
        Err(_) => err,
    }
}

fn failed(e: impl std::fmt::Display) -> JsValue {
    error(&e.to_string())
}

/// The seller's pricing data, checked and indexed. `new Pricing(data)` throws on invalid data.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Pricing {
    ctx: PricingContext,
}

#[wasm_bindgen]
impl Pricing {
    #[wasm_bindgen(constructor)]
    pub fn new(data: PricingDataJs) -> Result<Pricing, JsValue> {
        let data = read("data", data.into())?;
        PricingContext::new(data)
            .map(|ctx| Pricing { ctx })
            .map_err(|p| invalid("pricing data", &p))
    }

    /// Prices a cart: lines, discount, tax and total, each with why.
    pub fn price(&self, cart: CartJs) -> Result<PricedCartJs, JsValue> {
        let cart: Cart = read("cart", cart.into())?;
        write(&self.ctx.explained(self.ctx.price(&cart).map_err(failed)?))
    }

    /// The unit price of a product for the buyer of `cart` by quantity (its volume prices):
    /// each quantity from which the price changes, as checkout would price a line of it. Only
    /// the cart's customer, currency, date and negotiated prices count, not its lines. Empty
    /// when nothing prices the product.
    #[wasm_bindgen(js_name = priceBreaks)]
    pub fn price_breaks(&self, cart: CartJs, sku: &str) -> Result<PriceBreaksJs, JsValue> {
        let cart: Cart = read("cart", cart.into())?;
        let sku = read("sku", JsValue::from_str(sku))?;
        write(&self.ctx.price_breaks(&cart, &sku))
    }
}

/// A company's approval policy and directory, checked. `new Approvals(policy, directory)`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Approvals {
    ctx: ApprovalContext,
}

#[wasm_bindgen]
impl Approvals {
    #[wasm_bindgen(constructor)]
    pub fn new(policy: ApprovalPolicyJs, directory: DirectoryJs) -> Result<Approvals, JsValue> {
        let policy = read("policy", policy.into())?;
        let directory = read("directory", directory.into())?;
        ApprovalContext::new(policy, directory)
            .map(|ctx| Approvals { ctx })
            .map_err(|p| invalid("approval policy", &p))
    }

    /// Who must approve an order, in order, and why.
    pub fn route(&self, request: RouteRequestJs) -> Result<ApprovalPlanJs, JsValue> {
        let request: RouteRequest = read("request", request.into())?;
        write(&self.ctx.explained(self.ctx.route(&request).map_err(failed)?))
    }
}

/// Prices a cart and routes it: what a storefront shows as the buyer edits the cart.
#[wasm_bindgen]
pub fn checkout(
    pricing: &Pricing,
    approvals: &Approvals,
    request: CheckoutRequestJs,
) -> Result<CheckoutVerdictJs, JsValue> {
    let request: CheckoutRequest = read("request", request.into())?;
    let verdict =
        rules::evaluate_checkout(&pricing.ctx, &approvals.ctx, &request).map_err(failed)?;
    write(&verdict.explained(&pricing.ctx, &approvals.ctx))
}

/// Every problem of a workflow definition (errors and warnings), each with a path.
#[wasm_bindgen(js_name = validateWorkflow)]
pub fn validate_workflow(definition: WorkflowDefinitionJs) -> Result<DiagnosticsJs, JsValue> {
    let definition: WorkflowDefinition = read("definition", definition.into())?;
    write(&workflow::validate(&definition))
}

/// A valid workflow definition, ready to run instances. `new WorkflowRuntime(definition)`
/// throws on a definition with errors.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WorkflowRuntime {
    workflow: Workflow,
}

fn now(value: &str) -> Result<Timestamp, JsValue> {
    Timestamp::parse(value).map_err(|e| error(&format!("now: {e}")))
}

#[wasm_bindgen]
impl WorkflowRuntime {
    #[wasm_bindgen(constructor)]
    pub fn new(definition: WorkflowDefinitionJs) -> Result<WorkflowRuntime, JsValue> {
        let definition = read("definition", definition.into())?;
        Workflow::new(definition)
            .map(|workflow| WorkflowRuntime { workflow })
            .map_err(|p| invalid("workflow", &p))
    }

    /// The definition's warnings (it has no errors, or it would not have been built).
    pub fn warnings(&self) -> Result<DiagnosticsJs, JsValue> {
        write(&self.workflow.warnings())
    }

    /// A new instance in the start state.
    pub fn begin(&self, fields: FieldsJs, at: &str) -> Result<InstanceJs, JsValue> {
        let fields = read("fields", fields.into())?;
        write(&self.workflow.begin(fields, now(at)?).map_err(failed)?)
    }

    /// The transitions from the instance's state, each enabled or not for the actor, and why.
    pub fn available(
        &self,
        instance: InstanceJs,
        actor: ActorJs,
        at: &str,
    ) -> Result<TransitionOptionsJs, JsValue> {
        let instance: Instance = read("instance", instance.into())?;
        let actor: Actor = read("actor", actor.into())?;
        write(&self.workflow.available(&instance, &actor, now(at)?).map_err(failed)?)
    }

    /// Fires a manual transition, or throws the reason it may not fire.
    pub fn fire(
        &self,
        instance: InstanceJs,
        transition: &str,
        actor: ActorJs,
        at: &str,
    ) -> Result<FiredJs, JsValue> {
        let instance: Instance = read("instance", instance.into())?;
        let transition = read("transition", JsValue::from_str(transition))?;
        let actor: Actor = read("actor", actor.into())?;
        write(&self.workflow.fire(&instance, &transition, &actor, now(at)?).map_err(failed)?)
    }

    /// Fires a timer transition that is due (its guard re-checked now).
    #[wasm_bindgen(js_name = fireTimer)]
    pub fn fire_timer(
        &self,
        instance: InstanceJs,
        transition: &str,
        at: &str,
    ) -> Result<FiredJs, JsValue> {
        let instance: Instance = read("instance", instance.into())?;
        let transition = read("transition", JsValue::from_str(transition))?;
        write(&self.workflow.fire_timer(&instance, &transition, now(at)?).map_err(failed)?)
    }

    /// The timers of the instance's state: when each falls due and whether it fires now.
    pub fn timers(&self, instance: InstanceJs, at: &str) -> Result<TimersJs, JsValue> {
        let instance: Instance = read("instance", instance.into())?;
        write(&self.workflow.timers(&instance, now(at)?).map_err(failed)?)
    }

    /// The earliest time a timer of the instance's state falls due, or `null`.
    #[wasm_bindgen(js_name = nextDeadline)]
    pub fn next_deadline(&self, instance: InstanceJs) -> Result<Option<String>, JsValue> {
        let instance: Instance = read("instance", instance.into())?;
        Ok(self.workflow.next_deadline(&instance).map(|t| t.to_string()))
    }

    /// Handles an event: the transition it fires, or `null`.
    #[wasm_bindgen(js_name = onEvent)]
    pub fn on_event(
        &self,
        instance: InstanceJs,
        event: &str,
        at: &str,
    ) -> Result<MaybeFiredJs, JsValue> {
        let instance: Instance = read("instance", instance.into())?;
        write(&self.workflow.on_event(&instance, event, now(at)?).map_err(failed)?)
    }
}

/// Parses the text form of a condition (`order.total >= 50000 USD and order.state_age >= 7d`);
/// throws with the column of the problem.
#[wasm_bindgen(js_name = parseCondition)]
pub fn parse_condition(source: &str) -> Result<ConditionJs, JsValue> {
    match text::parse(source) {
        Ok(c) => write(&c),
        Err(e) => {
            Err(with_property(error(&e.to_string()), "column", &JsValue::from(e.column as f64)))
        }
    }
}

/// Prints a condition in the text form.
#[wasm_bindgen(js_name = printCondition)]
pub fn print_condition(condition: ConditionJs) -> Result<String, JsValue> {
    let condition: Condition = read("condition", condition.into())?;
    Ok(text::print(&condition))
}

/// Type-checks a condition against an entity's fields (`"approval"` for approval rules).
#[wasm_bindgen(js_name = checkCondition)]
pub fn check_condition(
    condition: ConditionJs,
    schema: SchemaNameJs,
) -> Result<DiagnosticsJs, JsValue> {
    let condition: Condition = read("condition", condition.into())?;
    let schema = match JsValue::from(schema).as_string().as_deref() {
        Some("approval") => Schema::approval(),
        Some("order") => Schema::entity(Entity::Order),
        Some("quote") => Schema::entity(Entity::Quote),
        Some("checkout") => Schema::entity(Entity::Checkout),
        other => {
            let given = other.map_or_else(|| "not a string".to_owned(), text::quoted);
            return Err(error(&format!(
                "schema: {given} is not one of \"order\", \"quote\", \"checkout\", \"approval\""
            )));
        }
    };
    write(&schema.check(&condition, ""))
}
