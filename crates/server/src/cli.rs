//! The commands of the command line. Every verdict comes from `rules`; this module reads
//! files and prints.

use rules::{
    CheckoutRequest,
    approval::{ApprovalContext, ApprovalPlan, ApprovalPolicy, Directory, RouteRequest},
    diagnostic::{Diagnostic, Severity},
    messages,
    pricing::{PricedCart, PricingContext, PricingData},
    time::Timestamp,
    workflow::{Instance, Workflow, WorkflowDefinition, validate},
};
use serde::{Deserialize, de::DeserializeOwned};
use std::{fmt, fs, path::Path, process::ExitCode};

/// Why a command could not run.
#[derive(Debug)]
pub enum CliError {
    Read { file: String, error: std::io::Error },
    Json { file: String, path: String, message: String },
    Invalid { file: String, problems: Vec<Diagnostic> },
    Engine(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Read { file, error } => write!(f, "cannot read {file}: {error}"),
            CliError::Json { file, path, message } if path == "." => write!(f, "{file}: {message}"),
            CliError::Json { file, path, message } => write!(f, "{file}: at {path}: {message}"),
            CliError::Invalid { file, problems } => {
                write!(f, "{file} is not valid:")?;
                for p in problems {
                    write!(f, "\n  {}: {}", p.path, p.message())?;
                }
                Ok(())
            }
            CliError::Engine(message) => f.write_str(message),
        }
    }
}

fn parse<T: DeserializeOwned>(name: &str, text: &str) -> Result<T, CliError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| CliError::Json {
        file: name.to_owned(),
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// Reads YAML (a workflow exported as YAML): the same shapes as the JSON files.
fn parse_yaml<T: DeserializeOwned>(name: &str, text: &str) -> Result<T, CliError> {
    let value: serde_norway::Value = serde_norway::from_str(text).map_err(|e| CliError::Json {
        file: name.to_owned(),
        path: ".".into(),
        message: format!("not valid YAML: {e}"),
    })?;
    serde_path_to_error::deserialize(value).map_err(|e| CliError::Json {
        file: name.to_owned(),
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// Reads a JSON file, or YAML when the name ends in `.yaml` or `.yml`.
fn read<T: DeserializeOwned>(path: &Path) -> Result<T, CliError> {
    let name = path.display().to_string();
    let text =
        fs::read_to_string(path).map_err(|error| CliError::Read { file: name.clone(), error })?;
    let yaml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    if yaml { parse_yaml(&name, &text) } else { parse(&name, &text) }
}

/// A company file: its approval policy and its directory.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Company {
    policy: ApprovalPolicy,
    directory: Directory,
}

fn approval_context(name: &str, company: Company) -> Result<ApprovalContext, CliError> {
    ApprovalContext::new(company.policy, company.directory)
        .map_err(|problems| CliError::Invalid { file: name.to_owned(), problems })
}

fn pricing_context(name: &str, data: PricingData) -> Result<PricingContext, CliError> {
    PricingContext::new(data)
        .map_err(|problems| CliError::Invalid { file: name.to_owned(), problems })
}

fn print_cart(cart: &PricedCart, pricing: &PricingContext) {
    let cart = pricing.explained(cart.clone());
    println!("Cart ({})", cart.currency);
    for line in &cart.lines {
        let name = pricing.product(&line.sku).map_or("", |p| &p.name);
        println!("  {} {name}", line.sku);
        for sentence in &line.explanation {
            println!("      {sentence}");
        }
    }
    for sentence in &cart.explanation {
        println!("  {sentence}");
    }
}

fn print_plan(plan: &ApprovalPlan, approval: &ApprovalContext) {
    println!("Approval");
    for sentence in messages::explain_plan(plan, |u| approval.member(u).map(|m| &*m.name)) {
        println!("  {sentence}");
    }
}

/// `countersign eval`.
pub fn eval(
    company: &Path,
    order: &Path,
    pricing: Option<&Path>,
    json: bool,
) -> Result<ExitCode, CliError> {
    let approval = approval_context(&company.display().to_string(), read(company)?)?;
    match pricing {
        Some(pricing) => {
            let pricing = pricing_context(&pricing.display().to_string(), read(pricing)?)?;
            let request: CheckoutRequest = read(order)?;
            let verdict = rules::evaluate_checkout(&pricing, &approval, &request)
                .map_err(|e| CliError::Engine(format!("{}: {e}", order.display())))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&verdict)
                        .map_err(|e| CliError::Engine(e.to_string()))?
                );
            } else {
                print_cart(&verdict.priced, &pricing);
                print_plan(&verdict.plan, &approval);
            }
        }
        None => {
            let request: RouteRequest = read(order)?;
            let plan = approval
                .route(&request)
                .map_err(|e| CliError::Engine(format!("{}: {e}", order.display())))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&plan)
                        .map_err(|e| CliError::Engine(e.to_string()))?
                );
            } else {
                print_plan(&plan, &approval);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_diagnostics(file: &str, problems: &[Diagnostic]) {
    for p in problems {
        let severity = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        println!("{file}: {severity}: {}: {}", p.path, p.message());
    }
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = problems.len().saturating_sub(errors);
    let plural =
        |n: usize, word: &str| if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") };
    println!("{file}: {}, {}", plural(errors, "error"), plural(warnings, "warning"));
}

/// `countersign check-workflow`: exit 1 when the definition has errors.
pub fn check_workflow(file: &Path, json: bool) -> Result<ExitCode, CliError> {
    let definition: WorkflowDefinition = read(file)?;
    let problems = validate(&definition);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&problems).map_err(|e| CliError::Engine(e.to_string()))?
        );
    } else {
        print_diagnostics(&file.display().to_string(), &problems);
    }
    Ok(if problems.iter().any(Diagnostic::is_error) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

const DEMO_PRICING: &str = include_str!("../demo/pricing.json");
const DEMO_COMPANY: &str = include_str!("../demo/company.json");
const DEMO_WORKFLOW: &str = include_str!("../demo/order-workflow.json");
const DEMO_CARTS: [(&str, &str); 7] = [
    ("A small order", include_str!("../demo/carts/1-small.json")),
    ("Thirteen drills", include_str!("../demo/carts/2-approver-1.json")),
    ("Twenty drills and ten bit sets", include_str!("../demo/carts/3-approver-2.json")),
    ("Thirty drills and six saws", include_str!("../demo/carts/4-approver-3.json")),
    ("Solvent and gloves", include_str!("../demo/carts/5-hazmat.json")),
    ("Approver 2 orders for themself", include_str!("../demo/carts/6-self-approval.json")),
    ("Paid by a card with 1,500.00 USD left", include_str!("../demo/carts/7-card-capacity.json")),
];

/// `countersign demo`: the seed scenarios on the demo company.
pub fn demo() -> Result<ExitCode, CliError> {
    let pricing = pricing_context("demo/pricing.json", parse("demo/pricing.json", DEMO_PRICING)?)?;
    let approval =
        approval_context("demo/company.json", parse("demo/company.json", DEMO_COMPANY)?)?;
    println!(
        "Countersign demo: Acme Corp buys from a tool seller; approvers at 2,000 / 3,000 / 5,000 USD (seed 001).\n"
    );
    for (title, text) in DEMO_CARTS {
        let request: CheckoutRequest = parse(title, text)?;
        let verdict = rules::evaluate_checkout(&pricing, &approval, &request)
            .map_err(|e| CliError::Engine(format!("{title}: {e}")))?;
        let buyer = approval.member(&request.buyer).map_or("?", |m| &m.name);
        println!("== {title} (buyer: {buyer})");
        print_cart(&verdict.priced, &pricing);
        print_plan(&verdict.plan, &approval);
        println!();
    }

    let definition: WorkflowDefinition = parse("demo/order-workflow.json", DEMO_WORKFLOW)?;
    println!("== Workflow \"{}\"", definition.name);
    print_diagnostics("demo/order-workflow.json", &validate(&definition));
    let workflow = Workflow::new(definition).map_err(|problems| CliError::Invalid {
        file: "demo/order-workflow.json".into(),
        problems,
    })?;
    let entered: Timestamp = parse("entered", "\"2026-11-01T09:00:00Z\"")?;
    for (total, now) in [
        ("50000.00", "2026-11-08T09:00:00Z"),
        ("49999.99", "2026-11-08T09:00:00Z"),
        ("50000.00", "2026-11-07T09:00:00Z"),
    ] {
        let instance: Instance = parse(
            "instance",
            &format!(
                r#"{{"workflow": "b2b-order", "version": 3, "state": "draft", "entered_at": "{entered}", "fields": {{"order.total": {{"money": {{"amount": "{total}", "currency": "USD"}}}}}}}}"#
            ),
        )?;
        let now: Timestamp = parse("now", &format!("\"{now}\""))?;
        let timers =
            workflow.timers(&instance, now).map_err(|e| CliError::Engine(e.to_string()))?;
        println!("  a draft order of {total} USD, unsubmitted since {entered}, at {now}:");
        for t in &timers {
            println!("    {}", messages::explain_timer(t));
        }
    }
    Ok(ExitCode::SUCCESS)
}
