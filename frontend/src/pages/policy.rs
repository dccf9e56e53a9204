//! The company admin's approval policy editor: thresholds and conditions, spending limits, what
//! happens past the company's credit and who approves when nobody else can, as a form checked
//! as you type by the `rules` crate, with a live preview of the route of a sample order.
//!
//! The form edits every part of the policy and keeps what it does not show as it was: an
//! approver that is "any one of" several users stays so, even though the form cannot make one.

use crate::{
    Session, api,
    model::PolicyDocument,
    pages::{
        condition::{Binding, ConditionBuilder, Edit, Fields, in_words},
        focus, page_heading, refusal,
    },
};
use gloo_net::http::Method;
use leptos::{prelude::*, task::spawn_local};
use rules::{
    approval::{
        ApprovalContext, ApprovalPolicy, ApprovalRule, Approver, Directory, Funds, LimitScope,
        Mode, OrderFacts, OverLimit, Period, RouteRequest, SpendingLimit, Spent,
    },
    condition::{Condition, Schema, text},
    decimal::parse_decimal,
    diagnostic::Diagnostic,
    ids::{CategoryId, LimitId, PaymentMethod, RoleName, RuleId, UserId},
    money::{Currency, Money},
};
use serde_json::Value;

/// A rule as the form edits it.
#[derive(Debug, Clone, PartialEq)]
struct Draft {
    key: u64,
    id: String,
    name: String,
    /// A threshold amount, or empty for a rule that applies by its condition alone.
    amount: String,
    /// The condition, if the rule has one.
    when: Option<Condition>,
    /// See [`approver_value`].
    approver: String,
}

/// A spending limit as the form edits it.
#[derive(Debug, Clone, PartialEq)]
struct LimitDraft {
    key: u64,
    id: String,
    name: String,
    /// `everyone`, `role:<name>` or `user:<id>`.
    applies_to: String,
    /// `day`, `week`, `month`, `quarter` or `year`.
    period: String,
    amount: String,
    /// `block`, or an approver (see [`approver_value`]).
    on_exceed: String,
}

/// Where a problem of the form is: a part of the policy, the index of the rule or limit in it,
/// and the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Rule,
    Limit,
    Credit,
    Fallback,
}

impl Part {
    /// The part's name in the paths of the server's diagnostics.
    fn path(self) -> &'static str {
        match self {
            Part::Rule => "rules",
            Part::Limit => "spending_limits",
            Part::Credit => "over_credit",
            Part::Fallback => "fallback",
        }
    }

    /// The part in words, for the preview's list of problems.
    fn words(self, index: usize) -> String {
        match self {
            Part::Rule => format!("rule {}", index + 1),
            Part::Limit => format!("spending limit {}", index + 1),
            Part::Credit => "over the credit".into(),
            Part::Fallback => "when nobody else can approve".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Problem {
    part: Part,
    index: usize,
    field: &'static str,
    message: String,
}

/// An approver as a `<select>` value: `manager`, `user:<id>`, `role:<name>` or
/// `any:<id>,<id>`.
fn approver_value(a: &Approver) -> String {
    match a {
        Approver::User(u) => format!("user:{u}"),
        Approver::Role(r) => format!("role:{r}"),
        Approver::Manager => "manager".into(),
        Approver::AnyOf(users) => {
            let ids: Vec<&str> = users.iter().map(UserId::as_str).collect();
            format!("any:{}", ids.join(","))
        }
    }
}

fn parse_approver(value: &str) -> Result<Approver, String> {
    if value == "manager" {
        return Ok(Approver::Manager);
    }
    let wrong = |e: rules::ids::IdError| e.to_string();
    match value.split_once(':') {
        Some(("user", id)) => UserId::parse(id).map(Approver::User).map_err(wrong),
        Some(("role", role)) => RoleName::parse(role).map(Approver::Role).map_err(wrong),
        Some(("any", ids)) => ids
            .split(',')
            .map(UserId::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Approver::AnyOf)
            .map_err(wrong),
        _ => Err("choose who approves".into()),
    }
}

fn over_value(o: &OverLimit) -> String {
    match o {
        OverLimit::Block => "block".into(),
        OverLimit::Approval(a) => approver_value(a),
    }
}

fn parse_over(value: &str) -> Result<OverLimit, String> {
    if value == "block" {
        Ok(OverLimit::Block)
    } else {
        parse_approver(value).map(OverLimit::Approval)
    }
}

fn scope_value(s: &LimitScope) -> String {
    match s {
        LimitScope::Everyone => "everyone".into(),
        LimitScope::User(u) => format!("user:{u}"),
        LimitScope::Role(r) => format!("role:{r}"),
    }
}

fn parse_scope(value: &str) -> Result<LimitScope, String> {
    match parse_approver(value) {
        _ if value == "everyone" => Ok(LimitScope::Everyone),
        Ok(Approver::User(u)) => Ok(LimitScope::User(u)),
        Ok(Approver::Role(r)) => Ok(LimitScope::Role(r)),
        _ => Err("choose whom the limit applies to".into()),
    }
}

const PERIODS: [(Period, &str); 5] = [
    (Period::Day, "day"),
    (Period::Week, "week"),
    (Period::Month, "month"),
    (Period::Quarter, "quarter"),
    (Period::Year, "year"),
];

/// An amount in the company's currency, from the form.
fn money(text: &str, currency: Currency) -> Result<Money, String> {
    parse_decimal(text.trim()).map(|a| Money::new(a, currency)).map_err(|e| e.to_string())
}

/// The policy as the form edits it: every part of it.
#[derive(Debug, Clone, PartialEq)]
struct Form {
    name: String,
    mode: Mode,
    rules: Vec<Draft>,
    limits: Vec<LimitDraft>,
    /// `block` or an approver.
    over_credit: String,
    /// `none` or an approver.
    fallback: String,
}

impl Form {
    /// The choice of a part of the whole policy: over the credit, or the fallback.
    fn exception(&self, part: Part) -> &String {
        if part == Part::Credit { &self.over_credit } else { &self.fallback }
    }

    fn exception_mut(&mut self, part: Part) -> &mut String {
        if part == Part::Credit { &mut self.over_credit } else { &mut self.fallback }
    }
}

/// Turns the form into a policy; the problems name the part, the index and the field.
fn build(form: &Form, currency: Currency) -> Result<ApprovalPolicy, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut note = |part: Part, index: usize, field: &'static str, message: String| {
        problems.push(Problem { part, index, field, message })
    };
    let mut rules = Vec::new();
    for (i, d) in form.rules.iter().enumerate() {
        let id = RuleId::parse(&d.id).map_err(|e| ("name", e.to_string()));
        let min_total = if d.amount.trim().is_empty() {
            Ok(None)
        } else {
            money(&d.amount, currency).map(Some).map_err(|e| ("amount", e))
        };
        let approver = parse_approver(&d.approver).map_err(|e| ("approver", e));
        if d.amount.trim().is_empty() && d.when.is_none() {
            note(Part::Rule, i, "amount", "give a threshold, a condition, or both".to_owned());
        }
        match (id, min_total, approver) {
            (Ok(id), Ok(min_total), Ok(approver)) => rules.push(ApprovalRule {
                id,
                name: d.name.trim().into(),
                min_total,
                when: d.when.clone(),
                approver,
            }),
            (a, b, e) => {
                for (field, message) in [a.err(), b.err(), e.err()].into_iter().flatten() {
                    note(Part::Rule, i, field, message);
                }
            }
        }
    }
    let mut spending_limits = Vec::new();
    for (i, d) in form.limits.iter().enumerate() {
        let id = LimitId::parse(&d.id).map_err(|e| ("name", e.to_string()));
        let applies_to = parse_scope(&d.applies_to).map_err(|e| ("applies_to", e));
        let period = PERIODS
            .iter()
            .find(|p| p.1 == d.period)
            .map(|p| p.0)
            .ok_or(("period", "choose a period".to_owned()));
        let amount = money(&d.amount, currency).map_err(|e| ("amount", e));
        let on_exceed = parse_over(&d.on_exceed).map_err(|e| ("on_exceed", e));
        match (id, applies_to, period, amount, on_exceed) {
            (Ok(id), Ok(applies_to), Ok(period), Ok(amount), Ok(on_exceed)) => spending_limits
                .push(SpendingLimit {
                    id,
                    name: d.name.trim().into(),
                    applies_to,
                    period,
                    amount,
                    on_exceed,
                }),
            (a, b, c, e, f) => {
                for (field, message) in
                    [a.err(), b.err(), c.err(), e.err(), f.err()].into_iter().flatten()
                {
                    note(Part::Limit, i, field, message);
                }
            }
        }
    }
    let over_credit =
        parse_over(&form.over_credit).map_err(|e| note(Part::Credit, 0, "approver", e)).ok();
    let fallback = match form.fallback.as_str() {
        "none" => None,
        value => parse_approver(value).map_err(|e| note(Part::Fallback, 0, "approver", e)).ok(),
    };
    if problems.is_empty() {
        Ok(ApprovalPolicy {
            name: form.name.trim().into(),
            mode: form.mode,
            rules,
            spending_limits,
            over_credit,
            fallback,
        })
    } else {
        Err(problems)
    }
}

/// The field of the form that a diagnostic's path (`rules[2].approver`, `over_credit`) is
/// about, if it is about this part and index.
fn field_at(part: Part, index: usize, path: &str) -> Option<&'static str> {
    let rest = match part {
        Part::Rule | Part::Limit => path.strip_prefix(&format!("{}[{index}]", part.path()))?,
        Part::Credit | Part::Fallback => path.strip_prefix(part.path())?,
    };
    // `rules[1]` is not `rules[12]`.
    if !(rest.is_empty() || rest.starts_with(['.', '['])) {
        return None;
    }
    Some(match rest.split(['.', '[']).nth(1).unwrap_or_default() {
        "when" => "condition",
        "approver" | "approval" | "user" | "role" | "any_of" => "approver",
        "applies_to" => "applies_to",
        "on_exceed" => "on_exceed",
        "id" | "name" => "name",
        _ if matches!(part, Part::Credit | Part::Fallback) => "approver",
        _ => "amount",
    })
}

/// The condition of the rule with this key, for the condition builder.
fn condition_of(form: RwSignal<Form>, key: u64) -> Binding {
    Binding {
        read: Callback::new(move |()| {
            form.with_untracked(|f| {
                f.rules.iter().find(|d| d.key == key).and_then(|d| d.when.clone())
            })
        }),
        write: Callback::new(move |(_, edit): (Option<&'static str>, Edit)| {
            form.update(|f| {
                if let Some(d) = f.rules.iter_mut().find(|d| d.key == key) {
                    edit(&mut d.when);
                }
            })
        }),
    }
}

/// An id for a new rule or limit, `prefix-N` from `key + 1` on, that none has yet.
fn fresh_id(prefix: &str, key: u64, taken: impl Fn(&str) -> bool) -> String {
    (key + 1..)
        .map(|n| format!("{prefix}-{n}"))
        .find(|id| !taken(id))
        .unwrap_or_else(|| format!("{prefix}-{key}"))
}

/// The form of a stored policy.
fn form_of(policy: &ApprovalPolicy) -> Form {
    Form {
        name: policy.name.to_string(),
        mode: policy.mode,
        rules: policy
            .rules
            .iter()
            .zip(0..)
            .map(|(r, key)| Draft {
                key,
                id: r.id.to_string(),
                name: r.name.to_string(),
                amount: r.min_total.map(|m| m.amount().to_string()).unwrap_or_default(),
                when: r.when.clone(),
                approver: approver_value(&r.approver),
            })
            .collect(),
        limits: policy
            .spending_limits
            .iter()
            .zip(0..)
            .map(|(l, key)| LimitDraft {
                key,
                id: l.id.to_string(),
                name: l.name.to_string(),
                applies_to: scope_value(&l.applies_to),
                period: PERIODS.iter().find(|p| p.0 == l.period).map_or("month", |p| p.1).into(),
                amount: l.amount.amount().to_string(),
                on_exceed: over_value(&l.on_exceed),
            })
            .collect(),
        over_credit: policy.over_credit.as_ref().map_or_else(|| "block".into(), over_value),
        fallback: policy.fallback.as_ref().map_or_else(|| "none".into(), approver_value),
    }
}

/// The choices of who approves, from the directory: the buyer's manager, each role (with its
/// members) and each user; and `selected` itself if it is none of those (an "any one of").
fn approver_choices(directory: &Directory, selected: &str) -> Vec<(String, String)> {
    let name_of = |id: &str| {
        directory
            .users
            .iter()
            .find(|u| u.id.as_str() == id)
            .map_or(id.to_owned(), |u| u.name.to_string())
    };
    let mut roles: Vec<&RoleName> = directory.users.iter().flat_map(|u| &u.roles).collect();
    roles.sort();
    roles.dedup();
    let mut choices = vec![("manager".to_owned(), "The buyer's manager".to_owned())];
    for role in roles.into_iter().filter(|r| r.as_str() != "buyer") {
        let members: Vec<&str> = directory
            .users
            .iter()
            .filter(|u| u.roles.contains(role))
            .map(|u| u.name.as_str())
            .collect();
        choices.push((
            format!("role:{role}"),
            format!("Anyone with the role {role} ({})", members.join(", ")),
        ));
    }
    for u in &directory.users {
        choices.push((format!("user:{}", u.id), u.name.to_string()));
    }
    if !choices.iter().any(|(v, _)| v == selected) {
        let label = match selected.strip_prefix("any:") {
            Some(ids) => {
                format!("Any one of {}", ids.split(',').map(name_of).collect::<Vec<_>>().join(", "))
            }
            None => selected.strip_prefix("user:").map_or_else(|| selected.to_owned(), name_of),
        };
        choices.push((selected.to_owned(), label));
    }
    choices
}

/// The choices of whom a spending limit applies to: every buyer, each role, each user; and
/// `selected` itself if it is none of those.
fn scope_choices(directory: &Directory, selected: &str) -> Vec<(String, String)> {
    let mut roles: Vec<&RoleName> = directory.users.iter().flat_map(|u| &u.roles).collect();
    roles.sort();
    roles.dedup();
    let mut choices = vec![("everyone".to_owned(), "Everyone".to_owned())];
    choices.extend(
        roles.into_iter().map(|r| (format!("role:{r}"), format!("Everyone with the role {r}"))),
    );
    choices.extend(directory.users.iter().map(|u| (format!("user:{}", u.id), u.name.to_string())));
    if !choices.iter().any(|(v, _)| v == selected) {
        choices.push((selected.to_owned(), selected.to_owned()));
    }
    choices
}

/// The `<option>`s of a choice of approver, with `selected` chosen.
fn options(choices: Vec<(String, String)>, selected: &str) -> impl IntoView + use<> {
    choices
        .into_iter()
        .map(|(value, label)| {
            let chosen = value == selected;
            view! { <option value=value prop:selected=chosen>{label}</option> }
        })
        .collect_view()
}

#[component]
pub fn PolicyPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let company =
        session.me.with_untracked(|m| m.as_ref().map(|m| m.company_id.clone()).unwrap_or_default());
    let base = RwSignal::new(None::<ApprovalPolicy>);
    let directory = RwSignal::new(None::<Directory>);
    let version = RwSignal::new(0i64);
    let form = RwSignal::new(Form {
        name: String::new(),
        mode: Mode::Highest,
        rules: Vec::new(),
        limits: Vec::new(),
        over_credit: "block".into(),
        fallback: "none".into(),
    });
    let next_key = StoredValue::new(0u64);
    let approval_fields = StoredValue::new(
        Schema::approval().fields().iter().map(|f| (f.path.clone(), f.ty)).collect::<Vec<_>>(),
    );
    let saved = RwSignal::new(None::<Result<String, api::ApiError>>);
    let sample_total = RwSignal::new(String::from("3450.00"));
    let sample_categories = RwSignal::new(String::new());
    let sample_buyer = RwSignal::new(String::new());
    let sample_spent = RwSignal::new(String::from("0.00"));
    let sample_shipping = RwSignal::new(String::from("0.00"));
    let sample_skus = RwSignal::new(String::from("1"));
    let sample_payment = RwSignal::new(String::from("invoice"));
    let currency = RwSignal::new(None::<Currency>);
    // The company's credit, for the preview of an order on account: (limit, open balance).
    let credit = RwSignal::new(None::<(String, String)>);
    // Why the policy, the directory or the company could not be loaded: without them there is
    // nothing to edit, and the page says so rather than "Loading…" for ever.
    let load_error = RwSignal::new(None::<String>);

    {
        let company = company.clone();
        spawn_local(async move {
            let (p, d, c) = (
                api::get::<PolicyDocument>(&format!("/api/companies/{company}/policy")).await,
                api::get::<Directory>(&format!("/api/companies/{company}/directory")).await,
                api::get::<Value>(&format!("/api/companies/{company}")).await,
            );
            if let Some(e) = p.as_ref().err().or(d.as_ref().err()).or(c.as_ref().err()) {
                load_error.set(Some(format!("The policy could not be loaded: {}", e.message)));
            }
            if let Ok(c) = c {
                let text = |key: &str| c.get(key).and_then(Value::as_str).map(str::to_owned);
                currency.set(text("currency").and_then(|code| Currency::from_code(&code).ok()));
                credit.set(text("credit_limit").zip(text("open_balance")));
            }
            if let (Ok(p), Ok(d)) = (p, d) {
                let f = form_of(&p.policy);
                next_key.set_value(f.rules.len().max(f.limits.len()) as u64);
                form.set(f);
                version.set(p.version);
                // The sample is ordered by a buyer, preferably one who approves nothing, so
                // that the preview shows the route most orders take.
                let has = |u: &&rules::approval::Member, role: &str| {
                    u.roles.iter().any(|r| r.as_str() == role)
                };
                let buyers = || d.users.iter().filter(|u| has(u, "buyer"));
                if let Some(first) =
                    buyers().find(|u| !has(u, "approver")).or_else(|| buyers().next())
                {
                    sample_buyer.set(first.id.to_string());
                }
                directory.set(Some(d));
                base.set(Some(p.policy));
            }
        });
    }

    let policy = Memo::new(move |_| {
        let c = currency.get()?;
        base.with(|b| b.is_some().then(|| form.with(|f| build(f, c))))
    });
    // The edited policy checked and indexed by the engine, once per change: the preview routes
    // with it, and its diagnostics are shown at their fields. (Contexts do not compare: a new
    // one is a change.)
    let context = Memo::new_with_compare(
        move |_| -> Option<Result<ApprovalContext, Vec<Diagnostic>>> {
            let Some(Ok(policy)) = policy.get() else { return None };
            Some(ApprovalContext::new(policy, directory.get()?))
        },
        |_, _| true,
    );
    // The route of the sample order under the edited policy, or why there is none.
    let preview = Memo::new(move |_| -> Option<Result<Vec<String>, Vec<String>>> {
        let form_problems = policy.with(|p| match p {
            Some(Err(problems)) => Some(
                problems
                    .iter()
                    .map(|p| {
                        format!(
                            "{}, {}: {}",
                            p.part.words(p.index),
                            p.field.replace('_', " "),
                            p.message
                        )
                    })
                    .collect(),
            ),
            _ => None,
        });
        if let Some(problems) = form_problems {
            return Some(Err(problems));
        }
        context.with(|context| {
            let context = match context.as_ref()? {
                Ok(c) => c,
                Err(d) => {
                    return Some(Err(d
                        .iter()
                        .map(|d| format!("{}: {}", d.path, d.message()))
                        .collect()));
                }
            };
            let c = currency.get()?;
            let sample =
                |what: &str, text: &str| money(text, c).map_err(|e| vec![format!("{what}: {e}")]);
            let total = match sample("sample total", &sample_total.get()) {
                Ok(m) => m,
                Err(e) => return Some(Err(e)),
            };
            let spent = match sample("spent before this order", &sample_spent.get()) {
                Ok(m) => m,
                Err(e) => return Some(Err(e)),
            };
            let shipping = match sample("shipping", &sample_shipping.get()) {
                Ok(m) => m,
                Err(e) => return Some(Err(e)),
            };
            let subtotal = match total.checked_sub(shipping) {
                Ok(s) if !s.amount().is_sign_negative() => s,
                _ => return Some(Err(vec!["shipping: more than the sample total".into()])),
            };
            let sku_count = match sample_skus.get().trim().parse::<u32>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Some(Err(vec![
                        "number of products: a whole number of at least 1".into(),
                    ]));
                }
            };
            let paid_on_account = sample_payment.get() == "invoice";
            let zero = Money::zero(c);
            let categories = sample_categories
                .get()
                .split(',')
                .filter_map(|s| CategoryId::parse(s.trim()).ok())
                .collect();
            let buyer = UserId::parse(&sample_buyer.get()).ok()?;
            let unit = context.member(&buyer).and_then(|m| m.unit.clone());
            let spent = context
                .policy()
                .spending_limits
                .iter()
                .map(|l| Spent { limit: l.id.clone(), amount: spent })
                .collect();
            let funds = credit.get().filter(|_| paid_on_account).and_then(|(limit, open)| {
                Some(Funds::Credit {
                    limit: money(&limit, c).ok()?,
                    open_balance: money(&open, c).ok()?,
                })
            });
            let request = RouteRequest {
                buyer,
                order: OrderFacts {
                    total,
                    subtotal,
                    discount: zero,
                    shipping,
                    tax: zero,
                    sku_count,
                    quantity: sku_count.into(),
                    categories,
                    business_unit: unit,
                    payment_method: PaymentMethod::parse(&sample_payment.get()).ok(),
                    customer: None,
                    customer_group: None,
                },
                spent,
                funds,
            };
            Some(match context.route(&request) {
                Ok(plan) => Ok(context.explained(plan).explanation),
                Err(e) => Err(vec![e.to_string()]),
            })
        })
    });

    // What the engine finds wrong with the edited policy that the form cannot see (a condition
    // written as text on a field approval rules do not have, say), as (path, message).
    let engine_problems = Memo::new(move |_| {
        context.with(|c| match c {
            Some(Err(d)) => d.iter().map(|d| (d.path.clone(), d.message())).collect(),
            _ => Vec::new(),
        })
    });
    // A problem for one field: from the form itself, from the engine, or from the server's
    // answer to the last save (diagnostics have paths such as `rules[2].approver`).
    let field_problem = move |part: Part, index: usize, field: &'static str| {
        move || {
            let local = policy.with(|p| match p {
                Some(Err(problems)) => problems
                    .iter()
                    .find(|p| p.part == part && p.index == index && p.field == field)
                    .map(|p| p.message.clone()),
                _ => None,
            });
            let at = |path: &str| field_at(part, index, path) == Some(field);
            local
                .or_else(|| {
                    engine_problems.with(|d| {
                        d.iter().find(|(path, _)| at(path)).map(|(_, message)| message.clone())
                    })
                })
                .or_else(|| {
                    saved.with(|s| match s {
                        Some(Err(e)) => {
                            e.diagnostics().into_iter().find(|d| at(&d.path)).map(|d| d.message)
                        }
                        _ => None,
                    })
                })
        }
    };

    let new_key = move || {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        key
    };
    let add_rule = move |threshold: bool| {
        let key = new_key();
        form.update(|f| {
            f.rules.push(Draft {
                key,
                id: fresh_id("rule", key, |id| f.rules.iter().any(|r| r.id == id)),
                name: if threshold {
                    format!("Approver {}", f.rules.len() + 1)
                } else {
                    "Condition".into()
                },
                amount: if threshold { "1000.00".into() } else { String::new() },
                when: if threshold {
                    None
                } else {
                    text::parse("order.categories contains \"chemicals\"").ok()
                },
                approver: "manager".into(),
            })
        });
    };
    let add_limit = move |_| {
        let key = new_key();
        form.update(|f| {
            f.limits.push(LimitDraft {
                key,
                id: fresh_id("limit", key, |id| f.limits.iter().any(|l| l.id == id)),
                name: "Monthly budget".into(),
                applies_to: "everyone".into(),
                period: "month".into(),
                amount: "10000.00".into(),
                on_exceed: "manager".into(),
            })
        });
    };
    // Enter in a field saves too (a form); a form with problems is not sent: the alert says so
    // and the focus goes to the first field marked.
    let save = {
        let company = company.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let Some(Ok(p)) = policy.get_untracked() else {
                saved.set(Some(Err(api::ApiError {
                    message: "Not saved: first fix the problems marked in the form.".into(),
                    ..api::ApiError::default()
                })));
                focus("form.policy [aria-invalid=true]");
                return;
            };
            let company = company.clone();
            spawn_local(async move {
                let result = api::send::<Value, _>(
                    Method::PUT,
                    &format!("/api/companies/{company}/policy"),
                    &p,
                )
                .await;
                saved.set(Some(result.map(|v| {
                    let n = v.get("version").and_then(|v| v.as_i64()).unwrap_or(0);
                    version.set(n);
                    format!("Saved as version {n}.")
                })));
            });
        }
    };
    let choices = move |selected: &str| {
        directory.with(|d| d.as_ref().map(|d| approver_choices(d, selected)).unwrap_or_default())
    };
    let users = move || {
        directory.with(|d| {
            d.as_ref()
                .map(|d| {
                    d.users
                        .iter()
                        .map(|u| (u.id.to_string(), u.name.to_string()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    // The choice for a part of the whole policy (over the credit, the fallback): `first`, then
    // who may approve. The choices follow the directory only: re-rendered on every change of the
    // form, the select would lose the focus as it is used.
    let exception = move |part: Part, id: &'static str, first: (&'static str, &'static str)| {
        move || {
            let selected = form.with_untracked(|f| f.exception(part).clone());
            let mut choices = choices(&selected);
            choices.insert(0, (first.0.into(), first.1.into()));
            let problem = field_problem(part, 0, "approver");
            let error = format!("{id}-error");
            view! {
                <select id=id on:change=move |ev| form.update(|f| *f.exception_mut(part) = event_target_value(&ev))
                    aria-describedby=error.clone() aria-invalid=move || problem().is_some().to_string()>
                    {options(choices, &selected)}
                </select>
                <span class="error" id=error>{field_problem(part, 0, "approver")}</span>
            }
        }
    };
    let rules = move || form.with(|f| f.rules.iter().cloned().enumerate().collect::<Vec<_>>());
    let limits = move || form.with(|f| f.limits.iter().cloned().enumerate().collect::<Vec<_>>());

    view! {
        <h1 tabindex="-1" node_ref=page_heading()>"Approval policy"</h1>
        <p>"Version " {move || version.get()}</p>
        <Show when=move || base.with(Option::is_some) fallback=move || match load_error.get() {
            Some(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            None => view! { <p>"Loading…"</p> }.into_any(),
        }>
            <form class="policy" on:submit=save.clone()>
                <label for="policy-name">"Name"</label>
                <input id="policy-name" prop:value=move || form.with(|f| f.name.clone()) on:input=move |ev| form.update(|f| f.name = event_target_value(&ev))/>
                <label for="policy-mode">"When several thresholds match"</label>
                <select id="policy-mode" on:change=move |ev| form.update(|f| f.mode = match event_target_value(&ev).as_str() { "escalation" => Mode::Escalation, "any" => Mode::Any, _ => Mode::Highest })
                    prop:value=move || form.with(|f| match f.mode { Mode::Highest => "highest", Mode::Escalation => "escalation", Mode::Any => "any" })>
                    <option value="highest">"Only the highest matching approver"</option>
                    <option value="escalation">"Every matching approver, lowest first"</option>
                    <option value="any">"Any one of the matching approvers"</option>
                </select>
                <h2>"Thresholds and conditions"</h2>
                <table class="rules">
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Orders of at least"</th><th scope="col">"Condition"</th><th scope="col">"Approver"</th><th scope="col"><span class="visually-hidden">"Remove"</span></th></tr></thead>
                    <tbody>
                        <For each=rules key=|(i, d)| (*i, d.key) let:item>
                            {
                                let (index, draft) = item;
                                let key = draft.key;
                                let edit = move |f: fn(&mut Draft, String)| move |ev: leptos::ev::Event| {
                                    let value = event_target_value(&ev);
                                    form.update(|form| if let Some(x) = form.rules.iter_mut().find(|x| x.key == key) { f(x, value) });
                                };
                                let amount_problem = field_problem(Part::Rule, index, "amount");
                                let condition_problem = field_problem(Part::Rule, index, "condition");
                                let approver_problem = field_problem(Part::Rule, index, "approver");
                                let name_problem = field_problem(Part::Rule, index, "name");
                                let (name_id, amount_id, condition_id, approver_id) = (format!("rule-{key}-name"), format!("rule-{key}-amount"), format!("rule-{key}-condition"), format!("rule-{key}-approver"));
                                let name_error = format!("{name_id}-error");
                                let (amount_error, condition_error, approver_error) = (format!("{amount_id}-error"), format!("{condition_id}-problem"), format!("{approver_id}-error"));
                                let selected = draft.approver.clone();
                                view! {
                                    <tr>
                                        <td><label class="visually-hidden" for=name_id.clone()>"Rule name"</label>
                                            <input id=name_id value=draft.name.clone() on:change=edit(|d, v| d.name = v)
                                                aria-describedby=name_error.clone() aria-invalid=move || name_problem().is_some().to_string()/>
                                            <span class="error" id=name_error>{name_problem}</span></td>
                                        <td><label class="visually-hidden" for=amount_id.clone()>"Threshold"</label>
                                            <input id=amount_id class="amount" value=draft.amount.clone() on:input=edit(|d, v| d.amount = v)
                                                aria-describedby=amount_error.clone() aria-invalid=move || amount_problem().is_some().to_string()/>
                                            <span class="error" id=amount_error>{amount_problem}</span></td>
                                        <td class="guard">
                                            <ConditionBuilder binding=condition_of(form, key) fields=Fields { fields: approval_fields.get_value(), label: in_words }
                                                text_id=condition_id empty="None: the threshold alone decides."
                                                placeholder="order.categories contains \"chemicals\"" fold_text=true/>
                                            <span class="error" id=condition_error>{condition_problem}</span></td>
                                        <td><label class="visually-hidden" for=approver_id.clone()>"Approver"</label>
                                            <select id=approver_id on:change=edit(|d, v| d.approver = v)
                                                aria-describedby=approver_error.clone() aria-invalid=move || approver_problem().is_some().to_string()>
                                                {options(choices(&selected), &selected)}
                                            </select>
                                            <span class="error" id=approver_error>{approver_problem}</span></td>
                                        <td><button type="button" on:click=move |_| form.update(|f| f.rules.retain(|x| x.key != key))>"Remove"</button></td>
                                    </tr>
                                }
                            }
                        </For>
                    </tbody>
                </table>
                <div class="row">
                    <button type="button" on:click=move |_| add_rule(true)>"Add a threshold"</button>
                    <button type="button" on:click=move |_| add_rule(false)>"Add a condition rule"</button>
                </div>

                <h2>"Spending limits"</h2>
                <p class="muted">"What a buyer may spend in a period before an order needs more approval. Every order of the period counts, except rejected ones."</p>
                <table class="limits">
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"For"</th><th scope="col">"At most"</th><th scope="col">"Per"</th><th scope="col">"Past it"</th><th scope="col"><span class="visually-hidden">"Remove"</span></th></tr></thead>
                    <tbody>
                        <For each=limits key=|(i, d)| (*i, d.key) let:item>
                            {
                                let (index, draft) = item;
                                let key = draft.key;
                                let edit = move |f: fn(&mut LimitDraft, String)| move |ev: leptos::ev::Event| {
                                    let value = event_target_value(&ev);
                                    form.update(|form| if let Some(x) = form.limits.iter_mut().find(|x| x.key == key) { f(x, value) });
                                };
                                let amount_problem = field_problem(Part::Limit, index, "amount");
                                let scope_problem = field_problem(Part::Limit, index, "applies_to");
                                let over_problem = field_problem(Part::Limit, index, "on_exceed");
                                let name_problem = field_problem(Part::Limit, index, "name");
                                let id = |field: &str| format!("limit-{key}-{field}");
                                let (name_error, amount_error, scope_error, over_error) = (id("name-error"), id("amount-error"), id("for-error"), id("over-error"));
                                let scope = draft.applies_to.clone();
                                let over = draft.on_exceed.clone();
                                let period = draft.period.clone();
                                let scopes = directory.with_untracked(|d| d.as_ref().map(|d| scope_choices(d, &scope)).unwrap_or_default());
                                let mut overs = choices(&over);
                                overs.push(("block".into(), "Refused: the order cannot be placed".into()));
                                view! {
                                    <tr>
                                        <td><label class="visually-hidden" for=id("name")>"Limit name"</label>
                                            <input id=id("name") value=draft.name.clone() on:change=edit(|d, v| d.name = v)
                                                aria-describedby=name_error.clone() aria-invalid=move || name_problem().is_some().to_string()/>
                                            <span class="error" id=name_error>{name_problem}</span></td>
                                        <td><label class="visually-hidden" for=id("for")>"Applies to"</label>
                                            <select id=id("for") on:change=edit(|d, v| d.applies_to = v)
                                                aria-describedby=scope_error.clone() aria-invalid=move || scope_problem().is_some().to_string()>
                                                {options(scopes, &scope)}
                                            </select>
                                            <span class="error" id=scope_error>{scope_problem}</span></td>
                                        <td><label class="visually-hidden" for=id("amount")>"Limit amount"</label>
                                            <input id=id("amount") class="amount" value=draft.amount.clone() on:input=edit(|d, v| d.amount = v)
                                                aria-describedby=amount_error.clone() aria-invalid=move || amount_problem().is_some().to_string()/>
                                            <span class="error" id=amount_error>{amount_problem}</span></td>
                                        <td><label class="visually-hidden" for=id("period")>"Period"</label>
                                            <select id=id("period") on:change=edit(|d, v| d.period = v)>
                                                {PERIODS.iter().map(|(_, value)| view! { <option value=*value prop:selected=*value == period>{*value}</option> }).collect_view()}
                                            </select></td>
                                        <td><label class="visually-hidden" for=id("over")>"Past the limit, approved by"</label>
                                            <select id=id("over") on:change=edit(|d, v| d.on_exceed = v)
                                                aria-describedby=over_error.clone() aria-invalid=move || over_problem().is_some().to_string()>
                                                {options(overs, &over)}
                                            </select>
                                            <span class="error" id=over_error>{over_problem}</span></td>
                                        <td><button type="button" on:click=move |_| form.update(|f| f.limits.retain(|x| x.key != key))>"Remove"</button></td>
                                    </tr>
                                }
                            }
                        </For>
                    </tbody>
                </table>
                <button type="button" on:click=add_limit>"Add a spending limit"</button>

                <h2>"Credit and exceptions"</h2>
                <label for="over-credit">"An order on account above the company's available credit"</label>
                {exception(Part::Credit, "over-credit", ("block", "Is refused: it cannot be placed"))}
                <label for="fallback">"When nobody else can approve a step (every approver is the buyer, or outside the order's unit)"</label>
                {exception(Part::Fallback, "fallback", ("none", "The order cannot be placed"))}
                <p><button type="submit" id="save-policy">"Save"</button></p>
                <p class="ok" role="status">{move || saved.with(|s| s.as_ref().and_then(|s| s.as_ref().ok().cloned()))}</p>
                {move || saved.with(|s| s.as_ref().and_then(|s| s.as_ref().err().map(|e| refusal(e, "policy-error"))))}
            </form>
            <section class="preview" aria-live="polite" aria-label="Preview">
                <h2>"Preview with a sample order"</h2>
                <div class="sample">
                    <div>
                        <label for="sample-total">"Total"</label>
                        <input id="sample-total" prop:value=move || sample_total.get() on:input=move |ev| sample_total.set(event_target_value(&ev))/>
                    </div>
                    <div>
                        <label for="sample-categories">"Product categories (comma separated)"</label>
                        <input id="sample-categories" prop:value=move || sample_categories.get() on:input=move |ev| sample_categories.set(event_target_value(&ev))/>
                    </div>
                    <div>
                        <label for="sample-buyer">"Ordered by"</label>
                        <select id="sample-buyer" on:change=move |ev| sample_buyer.set(event_target_value(&ev))>
                            {move || users().into_iter().map(|(id, name)| { let s = id == sample_buyer.get_untracked(); view! { <option value=id prop:selected=s>{name}</option> } }).collect_view()}
                        </select>
                    </div>
                    <div>
                        <label for="sample-spent">"Already spent by the buyer in each limit's period"</label>
                        <input id="sample-spent" prop:value=move || sample_spent.get() on:input=move |ev| sample_spent.set(event_target_value(&ev))/>
                    </div>
                    <div>
                        <label for="sample-shipping">"Shipping (part of the total)"</label>
                        <input id="sample-shipping" prop:value=move || sample_shipping.get() on:input=move |ev| sample_shipping.set(event_target_value(&ev))/>
                    </div>
                    <div>
                        <label for="sample-skus">"Number of products (SKUs)"</label>
                        <input id="sample-skus" inputmode="numeric" prop:value=move || sample_skus.get() on:input=move |ev| sample_skus.set(event_target_value(&ev))/>
                    </div>
                    <div>
                        <label for="sample-payment">"Payment"</label>
                        <select id="sample-payment" on:change=move |ev| sample_payment.set(event_target_value(&ev))>
                            <option value="invoice" selected>"On account (invoice)"</option>
                            <option value="card">"Company card"</option>
                        </select>
                    </div>
                </div>
                <p class="muted">{move || {
                    if sample_payment.get() != "invoice" { return None; }
                    let (c, (limit, open)) = (currency.get()?, credit.get()?);
                    let (limit, open) = (money(&limit, c).ok()?, money(&open, c).ok()?);
                    Some(format!("Paid on account: the company's credit limit is {limit}, of which {open} is owed."))
                }}</p>
                <div id="policy-preview">{move || match preview.get() {
                    Some(Ok(lines)) => super::plan_sentences(&lines).into_any(),
                    Some(Err(problems)) => view! {
                        <ul>{problems.into_iter().map(|l| view! { <li class="error">{l}</li> }).collect_view()}</ul>
                    }.into_any(),
                    None => view! { <p>"…"</p> }.into_any(),
                }}</div>
            </section>
        </Show>
    }
}
