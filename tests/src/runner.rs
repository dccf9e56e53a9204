//! Runs one case of the corpus: a kind of question and its input (JSON) in, the engine's
//! answer (JSON) out. The same function answers natively, in wasm, and in the build script
//! that records native answers for the wasm replay.

use rules::{
    CheckoutRequest,
    approval::{ApprovalContext, ApprovalPolicy, Directory, RouteRequest, Snapshot, drift},
    condition::{Condition, text},
    ids::Sku,
    pricing::{Cart, PricingContext, PricingData},
    time::Timestamp,
    workflow::{Actor, Instance, Workflow, WorkflowDefinition, validate},
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A failed case: `{"error": message}` plus optional details.
fn error(message: impl ToString) -> Value {
    json!({ "error": message.to_string() })
}

fn field<T: DeserializeOwned>(input: &Value, name: &str) -> Result<T, Value> {
    let part = input.get(name).unwrap_or(&Value::Null);
    serde_path_to_error::deserialize(part).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { name.to_owned() } else { format!("{name}.{path}") };
        error(format!("{at}: {}", e.inner()))
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(error)
}

fn diagnostics(problems: &[rules::diagnostic::Diagnostic]) -> Value {
    json!({ "error": "invalid definition", "diagnostics": to_json(&problems) })
}

fn approval_context(input: &Value) -> Result<ApprovalContext, Value> {
    let policy: ApprovalPolicy = field(input, "policy")?;
    let directory: Directory = field(input, "directory")?;
    ApprovalContext::new(policy, directory).map_err(|p| diagnostics(&p))
}

fn pricing_context(input: &Value) -> Result<PricingContext, Value> {
    let data: PricingData = field(input, "data")?;
    PricingContext::new(data).map_err(|p| diagnostics(&p))
}

fn workflow(input: &Value) -> Result<Workflow, Value> {
    let def: WorkflowDefinition = field(input, "definition")?;
    Workflow::new(def).map_err(|p| diagnostics(&p))
}

fn run_inner(kind: &str, input: &Value) -> Result<Value, Value> {
    Ok(match kind {
        "price" => {
            let ctx = pricing_context(input)?;
            let cart: Cart = field(input, "cart")?;
            to_json(&ctx.explained(ctx.price(&cart).map_err(error)?))
        }
        "price_breaks" => {
            let ctx = pricing_context(input)?;
            let cart: Cart = field(input, "cart")?;
            let sku: Sku = field(input, "sku")?;
            json!({ "breaks": to_json(&ctx.price_breaks(&cart, &sku)) })
        }
        "route" => {
            let ctx = approval_context(input)?;
            let request: RouteRequest = field(input, "request")?;
            to_json(&ctx.explained(ctx.route(&request).map_err(error)?))
        }
        "checkout" => {
            let pricing = pricing_context(input)?;
            let approval = approval_context(input)?;
            let request: CheckoutRequest = field(input, "request")?;
            let verdict = rules::evaluate_checkout(&pricing, &approval, &request).map_err(error)?;
            to_json(&verdict.explained(&pricing, &approval))
        }
        "checkout_batch" => {
            let pricing = pricing_context(input)?;
            let approval = approval_context(input)?;
            let requests: Vec<CheckoutRequest> = field(input, "requests")?;
            Value::Array(
                requests
                    .iter()
                    .map(|r| match rules::evaluate_checkout(&pricing, &approval, r) {
                        Ok(v) => to_json(&v.explained(&pricing, &approval)),
                        Err(e) => error(e),
                    })
                    .collect(),
            )
        }
        "drift" => {
            let approved: Snapshot = field(input, "approved")?;
            let current: Snapshot = field(input, "current")?;
            to_json(&drift(&approved, &current))
        }
        "workflow_validate" => {
            let def: WorkflowDefinition = field(input, "definition")?;
            json!({ "diagnostics": to_json(&validate(&def)) })
        }
        "workflow_available" => {
            let wf = workflow(input)?;
            let instance: Instance = field(input, "instance")?;
            let actor: Actor = field(input, "actor")?;
            let now: Timestamp = field(input, "now")?;
            to_json(&wf.available(&instance, &actor, now).map_err(error)?)
        }
        "workflow_fire" => {
            let wf = workflow(input)?;
            let instance: Instance = field(input, "instance")?;
            let transition = field(input, "transition")?;
            let now: Timestamp = field(input, "now")?;
            let fired = match input.get("actor") {
                Some(_) => {
                    let actor: Actor = field(input, "actor")?;
                    wf.fire(&instance, &transition, &actor, now)
                }
                None => wf.fire_timer(&instance, &transition, now),
            };
            to_json(&fired.map_err(error)?)
        }
        "workflow_event" => {
            let wf = workflow(input)?;
            let instance: Instance = field(input, "instance")?;
            let event: String = field(input, "event")?;
            let now: Timestamp = field(input, "now")?;
            to_json(&wf.on_event(&instance, &event, now).map_err(error)?)
        }
        "workflow_timers" => {
            let wf = workflow(input)?;
            let instance: Instance = field(input, "instance")?;
            let now: Timestamp = field(input, "now")?;
            let timers = wf.timers(&instance, now).map_err(error)?;
            json!({
                "timers": to_json(&timers),
                "due": timers.iter().filter(|t| t.due).map(|t| t.transition.to_string()).collect::<Vec<_>>(),
                "next_deadline": to_json(&wf.next_deadline(&instance)),
                "explanation": timers.iter().map(|t| t.explanation.clone()).collect::<Vec<_>>(),
            })
        }
        "condition_text" => {
            let source: String = field(input, "text")?;
            let parsed = text::parse(&source).map_err(error)?;
            json!({ "json": to_json(&parsed), "printed": text::print(&parsed) })
        }
        "condition_print" => {
            let condition: Condition = field(input, "condition")?;
            let printed = text::print(&condition);
            let reparsed = text::parse(&printed).map_err(error)?;
            json!({ "printed": printed, "round_trip": reparsed == condition.canonical() })
        }
        other => return Err(error(format!("unknown case kind \"{other}\""))),
    })
}

/// The engine's answer to one case, as JSON. Failures are answers too: `{"error": ...}`.
pub fn run(kind: &str, input: &Value) -> Value {
    run_inner(kind, input).unwrap_or_else(|e| e)
}
