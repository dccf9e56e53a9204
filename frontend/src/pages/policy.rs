//! The company admin's approval policy editor: thresholds and conditions as a form, checked as
//! you type by the `rules` crate, with a live preview of the route of a sample order.

use crate::{
    Session, api,
    model::PolicyDocument,
    pages::{focus, page_heading, refusal},
};
use gloo_net::http::Method;
use leptos::{prelude::*, task::spawn_local};
use rules::{
    approval::{
        ApprovalContext, ApprovalPolicy, ApprovalRule, Approver, Directory, Mode, OrderFacts,
        RouteRequest,
    },
    condition::text,
    decimal::parse_decimal,
    ids::{CategoryId, PaymentMethod, RoleName, RuleId, UserId},
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
    /// The condition in the text form, or empty.
    condition: String,
    /// `user:<id>`, `role:<name>` or `manager`.
    approver: String,
}

fn approver_value(a: &Approver) -> String {
    match a {
        Approver::User(u) => format!("user:{u}"),
        Approver::Role(r) => format!("role:{r}"),
        Approver::Manager => "manager".into(),
        Approver::AnyOf(users) => {
            users.first().map_or_else(|| "manager".into(), |u| format!("user:{u}"))
        }
    }
}

fn parse_approver(value: &str) -> Result<Approver, String> {
    if value == "manager" {
        return Ok(Approver::Manager);
    }
    match value.split_once(':') {
        Some(("user", id)) => UserId::parse(id).map(Approver::User).map_err(|e| e.to_string()),
        Some(("role", role)) => {
            RoleName::parse(role).map(Approver::Role).map_err(|e| e.to_string())
        }
        _ => Err("choose who approves".into()),
    }
}

/// Turns the form into a policy; the problems name the rule and the field.
fn build(
    base: &ApprovalPolicy,
    name: &str,
    mode: Mode,
    drafts: &[Draft],
    currency: Currency,
) -> Result<ApprovalPolicy, Vec<(usize, &'static str, String)>> {
    let mut problems = Vec::new();
    let mut rules = Vec::new();
    for (i, d) in drafts.iter().enumerate() {
        let id = RuleId::parse(&d.id).map_err(|e| (i, "id", e.to_string()));
        let min_total = if d.amount.trim().is_empty() {
            Ok(None)
        } else {
            parse_decimal(d.amount.trim())
                .map(|a| Some(Money::new(a, currency)))
                .map_err(|e| (i, "amount", e.to_string()))
        };
        let when = if d.condition.trim().is_empty() {
            Ok(None)
        } else {
            text::parse(&d.condition).map(Some).map_err(|e| (i, "condition", e.to_string()))
        };
        let approver = parse_approver(&d.approver).map_err(|e| (i, "approver", e));
        if d.amount.trim().is_empty() && d.condition.trim().is_empty() {
            problems.push((i, "amount", "give a threshold, a condition, or both".to_owned()));
        }
        match (id, min_total, when, approver) {
            (Ok(id), Ok(min_total), Ok(when), Ok(approver)) => rules.push(ApprovalRule {
                id,
                name: d.name.trim().into(),
                min_total,
                when,
                approver,
            }),
            (a, b, c, e) => {
                problems.extend([a.err(), b.err(), c.err(), e.err()].into_iter().flatten())
            }
        }
    }
    if problems.is_empty() {
        Ok(ApprovalPolicy { name: name.trim().into(), mode, rules, ..base.clone() })
    } else {
        Err(problems)
    }
}

#[component]
pub fn PolicyPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let company =
        session.me.with_untracked(|m| m.as_ref().map(|m| m.company_id.clone()).unwrap_or_default());
    let base = RwSignal::new(None::<ApprovalPolicy>);
    let directory = RwSignal::new(None::<Directory>);
    let version = RwSignal::new(0i64);
    let name = RwSignal::new(String::new());
    let mode = RwSignal::new(Mode::Highest);
    let drafts = RwSignal::new(Vec::<Draft>::new());
    let next_key = RwSignal::new(0u64);
    let saved = RwSignal::new(None::<Result<String, api::ApiError>>);
    let sample_total = RwSignal::new(String::from("3450.00"));
    let sample_categories = RwSignal::new(String::new());
    let sample_buyer = RwSignal::new(String::new());
    let currency = RwSignal::new(None::<Currency>);
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
                currency.set(
                    c.get("currency")
                        .and_then(|v| v.as_str())
                        .and_then(|code| Currency::from_code(code).ok()),
                );
            }
            if let (Ok(p), Ok(d)) = (p, d) {
                name.set(p.policy.name.to_string());
                mode.set(p.policy.mode);
                version.set(p.version);
                let list: Vec<Draft> = p
                    .policy
                    .rules
                    .iter()
                    .enumerate()
                    .map(|(i, r)| Draft {
                        key: i as u64,
                        id: r.id.to_string(),
                        name: r.name.to_string(),
                        amount: r.min_total.map(|m| m.amount().to_string()).unwrap_or_default(),
                        condition: r.when.as_ref().map(text::print).unwrap_or_default(),
                        approver: approver_value(&r.approver),
                    })
                    .collect();
                next_key.set(list.len() as u64);
                drafts.set(list);
                if let Some(first) =
                    d.users.iter().find(|u| u.roles.iter().any(|r| r.as_str() == "buyer"))
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
        base.with(|b| b.as_ref().map(|b| drafts.with(|d| build(b, &name.get(), mode.get(), d, c))))
    });
    // The route of the sample order under the edited policy, or why there is none.
    let preview = Memo::new(move |_| -> Option<Result<Vec<String>, Vec<String>>> {
        let policy = policy.get()?;
        let policy = match policy {
            Ok(p) => p,
            Err(problems) => {
                return Some(Err(problems
                    .into_iter()
                    .map(|(i, f, m)| format!("rule {}, {f}: {m}", i + 1))
                    .collect()));
            }
        };
        let directory = directory.get()?;
        let context = match ApprovalContext::new(policy, directory) {
            Ok(c) => c,
            Err(d) => {
                return Some(Err(d
                    .iter()
                    .map(|d| format!("{}: {}", d.path, d.message()))
                    .collect()));
            }
        };
        let c = currency.get()?;
        let total = match parse_decimal(sample_total.get().trim()) {
            Ok(a) => Money::new(a, c),
            Err(e) => return Some(Err(vec![format!("sample total: {e}")])),
        };
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
            .map(|l| rules::approval::Spent { limit: l.id.clone(), amount: zero })
            .collect();
        let request = RouteRequest {
            buyer,
            order: OrderFacts {
                total,
                subtotal: total,
                discount: zero,
                shipping: zero,
                tax: zero,
                sku_count: 1,
                quantity: 1,
                categories,
                business_unit: unit,
                payment_method: PaymentMethod::parse("invoice").ok(),
                customer: None,
                customer_group: None,
            },
            spent,
            funds: None,
        };
        Some(match context.route(&request) {
            Ok(plan) => Ok(context.explained(plan).explanation),
            Err(e) => Err(vec![e.to_string()]),
        })
    });

    // A problem for one field of one rule: from the form itself, or from the server's answer
    // to the last save (its diagnostics have paths such as `rules[2].approver`).
    let field_problem = move |index: usize, field: &'static str| {
        move || {
            let local = policy.with(|p| match p {
                Some(Err(problems)) => problems
                    .iter()
                    .find(|(i, f, _)| *i == index && *f == field)
                    .map(|(_, _, m)| m.clone()),
                _ => None,
            });
            local.or_else(|| {
                saved.with(|s| match s {
                    Some(Err(e)) => e.diagnostics().into_iter().find_map(|d| {
                        let rest = d.path.strip_prefix(&format!("rules[{index}]"))?;
                        let on = if rest.starts_with(".when") {
                            "condition"
                        } else if rest.starts_with(".approver") {
                            "approver"
                        } else {
                            "amount"
                        };
                        (on == field).then_some(d.message)
                    }),
                    _ => None,
                })
            })
        }
    };

    let add = move |threshold: bool| {
        let key = next_key.get_untracked();
        next_key.set(key + 1);
        drafts.update(|d| {
            d.push(Draft {
                key,
                id: format!("rule-{}", key + 1),
                name: if threshold {
                    format!("Approver {}", d.len() + 1)
                } else {
                    "Condition".into()
                },
                amount: if threshold { "1000.00".into() } else { String::new() },
                condition: if threshold {
                    String::new()
                } else {
                    "order.categories contains \"chemicals\"".into()
                },
                approver: "manager".into(),
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
                    message: "Not saved: first fix the problems marked in the rules.".into(),
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
    let rows = move || drafts.get().into_iter().enumerate().collect::<Vec<(usize, Draft)>>();
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

    view! {
        <h1 tabindex="-1" node_ref=page_heading()>"Approval policy"</h1>
        <p>"Version " {move || version.get()}</p>
        <Show when=move || base.with(Option::is_some) fallback=move || match load_error.get() {
            Some(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            None => view! { <p>"Loading…"</p> }.into_any(),
        }>
            <form class="policy" on:submit=save.clone()>
                <label for="policy-name">"Name"</label>
                <input id="policy-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <label for="policy-mode">"When several thresholds match"</label>
                <select id="policy-mode" on:change=move |ev| mode.set(match event_target_value(&ev).as_str() { "escalation" => Mode::Escalation, "any" => Mode::Any, _ => Mode::Highest })
                    prop:value=move || match mode.get() { Mode::Highest => "highest", Mode::Escalation => "escalation", Mode::Any => "any" }>
                    <option value="highest">"Only the highest matching approver"</option>
                    <option value="escalation">"Every matching approver, lowest first"</option>
                    <option value="any">"Any one of the matching approvers"</option>
                </select>
                <table class="rules">
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Orders of at least"</th><th scope="col">"Condition"</th><th scope="col">"Approver"</th><th scope="col"><span class="visually-hidden">"Remove"</span></th></tr></thead>
                    <tbody>
                        <For each=rows key=|(i, d)| (*i, d.key) let:item>
                            {
                                let (index, draft) = item;
                                let key = draft.key;
                                let edit = move |f: fn(&mut Draft, String)| move |ev: leptos::ev::Event| {
                                    let value = event_target_value(&ev);
                                    drafts.update(|d| if let Some(x) = d.iter_mut().find(|x| x.key == key) { f(x, value) });
                                };
                                let amount_problem = field_problem(index, "amount");
                                let condition_problem = field_problem(index, "condition");
                                let approver_problem = field_problem(index, "approver");
                                let (name_id, amount_id, condition_id, approver_id) = (format!("rule-{key}-name"), format!("rule-{key}-amount"), format!("rule-{key}-condition"), format!("rule-{key}-approver"));
                                let (amount_error, condition_error, approver_error) = (format!("{amount_id}-error"), format!("{condition_id}-error"), format!("{approver_id}-error"));
                                let selected = draft.approver.clone();
                                view! {
                                    <tr>
                                        <td><label class="visually-hidden" for=name_id.clone()>"Rule name"</label>
                                            <input id=name_id value=draft.name.clone() on:change=edit(|d, v| d.name = v)/></td>
                                        <td><label class="visually-hidden" for=amount_id.clone()>"Threshold"</label>
                                            <input id=amount_id class="amount" value=draft.amount.clone() on:input=edit(|d, v| d.amount = v)
                                                aria-describedby=amount_error.clone() aria-invalid=move || amount_problem().is_some().to_string()/>
                                            <span class="error" id=amount_error>{amount_problem}</span></td>
                                        <td><label class="visually-hidden" for=condition_id.clone()>"Condition"</label>
                                            <input id=condition_id class="condition" value=draft.condition.clone() placeholder="order.categories contains \"chemicals\"" on:input=edit(|d, v| d.condition = v)
                                                aria-describedby=condition_error.clone() aria-invalid=move || condition_problem().is_some().to_string()/>
                                            <span class="error" id=condition_error>{condition_problem}</span></td>
                                        <td><label class="visually-hidden" for=approver_id.clone()>"Approver"</label>
                                            <select id=approver_id on:change=edit(|d, v| d.approver = v)
                                                aria-describedby=approver_error.clone() aria-invalid=move || approver_problem().is_some().to_string()>
                                                <option value="manager" selected=selected == "manager">"The buyer's manager"</option>
                                                {users().into_iter().map(|(id, name)| { let v = format!("user:{id}"); let s = v == selected; view! { <option value=v selected=s>{name}</option> } }).collect_view()}
                                            </select>
                                            <span class="error" id=approver_error>{approver_problem}</span></td>
                                        <td><button type="button" on:click=move |_| drafts.update(|d| d.retain(|x| x.key != key))>"Remove"</button></td>
                                    </tr>
                                }
                            }
                        </For>
                    </tbody>
                </table>
                <button type="button" on:click=move |_| add(true)>"Add a threshold"</button>
                <button type="button" on:click=move |_| add(false)>"Add a condition"</button>
                <button type="submit" id="save-policy">"Save"</button>
                <p class="ok" role="status">{move || saved.with(|s| s.as_ref().and_then(|s| s.as_ref().ok().cloned()))}</p>
                {move || saved.with(|s| s.as_ref().and_then(|s| s.as_ref().err().map(|e| refusal(e, "policy-error"))))}
            </form>
            <section class="preview" aria-live="polite" aria-label="Preview">
                <h2>"Preview with a sample order"</h2>
                <label for="sample-total">"Total"</label>
                <input id="sample-total" prop:value=move || sample_total.get() on:input=move |ev| sample_total.set(event_target_value(&ev))/>
                <label for="sample-categories">"Product categories (comma separated)"</label>
                <input id="sample-categories" prop:value=move || sample_categories.get() on:input=move |ev| sample_categories.set(event_target_value(&ev))/>
                <label for="sample-buyer">"Ordered by"</label>
                <select id="sample-buyer" on:change=move |ev| sample_buyer.set(event_target_value(&ev))>
                    {move || users().into_iter().map(|(id, name)| { let s = id == sample_buyer.get_untracked(); view! { <option value=id selected=s>{name}</option> } }).collect_view()}
                </select>
                <ul id="policy-preview">{move || match preview.get() {
                    Some(Ok(lines)) => lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view().into_any(),
                    Some(Err(problems)) => problems.into_iter().map(|l| view! { <li class="error">{l}</li> }).collect_view().into_any(),
                    None => view! { <li>"…"</li> }.into_any(),
                }}</ul>
            </section>
        </Show>
    }
}
