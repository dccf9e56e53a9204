//! The side panel: the selected state or transition, every property editable. Guards are
//! edited with a rule builder (field, operator, value; all/any groups; not) beside their text
//! form; both are checked by `rules` as you type.

use super::{
    editor::{Editor, Selection},
    lint::Lint,
};
use crate::pages::{
    condition::{Binding, ConditionBuilder, Edit, Fields, path_and_type},
    severity,
};
use leptos::prelude::*;
use rules::ids::SharedStr;
use rules::{
    condition::{Condition, FieldPath, Op, text},
    ids::{CustomerId, GroupId, StateId, TransitionId},
    time::Duration,
    workflow::{
        Action, ROLES, Recipient, Scope, Transition, Trigger, WorkflowDefinition, schema_of,
    },
};

const RECIPIENTS: [(Recipient, &str); 6] = [
    (Recipient::Buyer, "buyer"),
    (Recipient::Approvers, "approvers"),
    (Recipient::SalesRep, "sales rep"),
    (Recipient::CompanyAdmins, "company admins"),
    (Recipient::SellerAdmins, "seller admins"),
    (Recipient::BackOffice, "back office"),
];

fn transition_mut<'a>(
    d: &'a mut WorkflowDefinition,
    id: &TransitionId,
) -> Option<&'a mut Transition> {
    d.transitions.iter_mut().find(|t| t.id == *id)
}

fn problems_view(lint: Memo<Lint>, prefix: String) -> impl IntoView {
    move || {
        lint.with(|l| {
            l.under(&prefix)
                .map(|p| {
                    let class = if p.is_error() { "error" } else { "warning" };
                    view! { <li class=class>{severity(p.is_error())} <code>{p.path.clone()}</code> " " {p.message()}</li> }
                })
                .collect_view()
        })
    }
}

#[component]
pub fn Panel(editor: Editor, lint: Memo<Lint>) -> impl IntoView {
    move || {
        editor.epoch.track();
        match editor.selection.get_untracked() {
            Selection::None => view! {
                <WorkflowSettings editor=editor/>
                <p class="muted">"Select a state or an arrow to edit it. Add states with “Add state”; connect two states by dragging from the dot on a state's right edge to the other state, or from the state's panel."</p>
            }
            .into_any(),
            Selection::State(id) => state_panel(editor, lint, id).into_any(),
            Selection::Transition(id) => transition_panel(editor, lint, id).into_any(),
        }
    }
}

fn state_panel(editor: Editor, lint: Memo<Lint>, id: StateId) -> impl IntoView {
    let Some((index, state)) = editor.def.with_untracked(|d| {
        d.states.iter().enumerate().find(|(_, s)| s.id == id).map(|(i, s)| (i, s.clone()))
    }) else {
        return view! { <p>"This state no longer exists."</p> }.into_any();
    };
    let (others, outgoing) = editor.def.with_untracked(|d| {
        (
            d.states.iter().map(|s| (s.id.clone(), s.label.to_string())).collect::<Vec<_>>(),
            d.transitions
                .iter()
                .filter(|t| t.from == id)
                .map(|t| (t.id.clone(), t.label.to_string(), t.to.to_string()))
                .collect::<Vec<_>>(),
        )
    });
    let rename_error = RwSignal::new(None::<String>);
    let connect_to = RwSignal::new(others.first().map(|(s, _)| s.to_string()).unwrap_or_default());
    let (id_label, id_rename, id_start, id_terminal, id_connect) =
        (id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
    view! {
        <h2>"State"</h2>
        <label for="state-id">"Id"</label>
        <input id="state-id" value=id.to_string() on:change=move |ev| {
            match editor.rename_state(&id_rename, &event_target_value(&ev)) {
                Ok(()) => rename_error.set(None),
                Err(e) => rename_error.set(Some(e)),
            }
        }/>
        {move || rename_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <label for="state-label">"Label"</label>
        <input id="state-label" value=state.label.to_string() on:input=move |ev| {
            let value: SharedStr = SharedStr::from(event_target_value(&ev));
            let id = id_label.clone();
            editor.apply(Some(format!("state-label:{id}")), move |d| {
                if let Some(s) = d.states.iter_mut().find(|s| s.id == id) {
                    s.label = value;
                }
            });
        }/>
        <p class="checks">
            <label><input type="checkbox" id="state-start" checked=state.start on:change=move |ev| {
                let on = event_target_checked(&ev);
                let id = id_start.clone();
                // One start state: choosing this one unsets the others.
                editor.edit(move |d| for s in &mut d.states { s.start = if s.id == id { on } else { s.start && !on } });
            }/> " Start state"</label>
            <label><input type="checkbox" id="state-terminal" checked=state.terminal on:change=move |ev| {
                let on = event_target_checked(&ev);
                let id = id_terminal.clone();
                editor.edit(move |d| if let Some(s) = d.states.iter_mut().find(|s| s.id == id) { s.terminal = on });
            }/> " Terminal state"</label>
        </p>
        <label for="connect-to">"Add a transition to"</label>
        <span class="row">
            <select id="connect-to" on:change=move |ev| connect_to.set(event_target_value(&ev))>
                {others.into_iter().map(|(s, label)| view! { <option value=s.to_string()>{format!("{label} ({s})")}</option> }).collect_view()}
            </select>
            <button type="button" on:click=move |_| {
                if let Ok(to) = StateId::parse(&connect_to.get_untracked()) {
                    editor.connect(id_connect.clone(), to);
                }
            }>"Connect"</button>
        </span>
        <h3>"Leaving this state"</h3>
        <ul class="plain">
            {outgoing.into_iter().map(|(t, label, to)| view! {
                <li><button type="button" class="link" on:click=move |_| editor.select(Selection::Transition(t.clone()))>{format!("{label} → {to}")}</button></li>
            }).collect_view()}
        </ul>
        <ul class="problems">{problems_view(lint, format!("states[{index}]"))}</ul>
        <p><button type="button" class="danger" on:click=move |_| editor.delete_selection()>"Delete this state and its transitions"</button></p>
    }
    .into_any()
}

/// A change to one transition.
type TransitionChange = Box<dyn FnOnce(&mut Transition) + Send + Sync>;

fn trigger_kind(t: &Trigger) -> &'static str {
    match t {
        Trigger::Manual => "manual",
        Trigger::Event(_) => "event",
        Trigger::Timer { .. } => "timer",
    }
}

fn transition_panel(editor: Editor, lint: Memo<Lint>, id: TransitionId) -> impl IntoView {
    let Some((index, t)) = editor.def.with_untracked(|d| {
        d.transitions.iter().enumerate().find(|(_, t)| t.id == id).map(|(i, t)| (i, t.clone()))
    }) else {
        return view! { <p>"This transition no longer exists."</p> }.into_any();
    };
    let states = editor.def.with_untracked(|d| {
        d.states.iter().map(|s| (s.id.clone(), s.label.to_string())).collect::<Vec<_>>()
    });
    let id_change = id.clone();
    let change = move |key: &'static str, f: TransitionChange| {
        let id = id_change.clone();
        editor.apply(Some(format!("{key}:{id}")), move |d| {
            if let Some(t) = transition_mut(d, &id) {
                f(t);
            }
        });
    };
    let id_structural = id.clone();
    let structural = move |f: TransitionChange| {
        let id = id_structural.clone();
        editor.edit(move |d| {
            if let Some(t) = transition_mut(d, &id) {
                f(t);
            }
        });
    };
    let change = StoredValue::new(change);
    let structural = StoredValue::new(structural);
    let end_select = move |end: &'static str, current: StateId| {
        let options = states
            .iter()
            .map(|(s, label)| {
                view! { <option value=s.to_string() prop:selected=*s == current>{format!("{label} ({s})")}</option> }
            })
            .collect_view();
        view! {
            <select id=format!("transition-{end}") on:change=move |ev| {
                if let Ok(state) = StateId::parse(&event_target_value(&ev)) {
                    structural.with_value(|f| f(Box::new(move |t| if end == "from" { t.from = state } else { t.to = state })));
                }
            }>{options}</select>
        }
    };
    let trigger_error = RwSignal::new(None::<String>);
    let trigger_param = match &t.trigger {
        Trigger::Manual => ().into_any(),
        Trigger::Event(name) => view! {
            <label for="transition-event">"Event"</label>
            <input id="transition-event" value=name.to_string() placeholder="order.updated" on:input=move |ev| {
                let name: SharedStr = SharedStr::from(event_target_value(&ev));
                change.with_value(|f| f("event", Box::new(move |t| t.trigger = Trigger::Event(name))));
            }/>
        }
        .into_any(),
        Trigger::Timer { after } => view! {
            <label for="transition-after">"After (in the state)"</label>
            <input id="transition-after" value=after.to_string() placeholder="7d" on:input=move |ev| {
                match Duration::parse(&event_target_value(&ev)) {
                    Ok(after) => {
                        trigger_error.set(None);
                        change.with_value(|f| f("after", Box::new(move |t| t.trigger = Trigger::Timer { after })));
                    }
                    Err(e) => trigger_error.set(Some(e.to_string())),
                }
            }/>
            {move || trigger_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        }
        .into_any(),
    };
    let roles = ROLES
        .iter()
        .map(|role| {
            let checked = t.roles.iter().any(|r| &**r == *role);
            view! {
                <label class="inline"><input type="checkbox" checked=checked on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    change.with_value(|f| f("roles", Box::new(move |t| {
                        t.roles.retain(|r| &**r != *role);
                        if on { t.roles.push(SharedStr::from(*role)); }
                    })));
                }/> " " {role.replace('_', " ")}</label>
            }
        })
        .collect_view();
    view! {
        <h2>"Transition " <code>{t.id.to_string()}</code></h2>
        <label for="transition-label">"Label"</label>
        <input id="transition-label" value=t.label.to_string() on:input=move |ev| {
            let label: SharedStr = SharedStr::from(event_target_value(&ev));
            change.with_value(|f| f("label", Box::new(move |t| t.label = label)));
        }/>
        <span class="row">
            <span><label for="transition-from">"From"</label>{end_select("from", t.from.clone())}</span>
            <span><label for="transition-to">"To"</label>{end_select("to", t.to.clone())}</span>
        </span>
        <label for="transition-trigger">"Trigger"</label>
        <select id="transition-trigger" on:change=move |ev| {
            let trigger = match event_target_value(&ev).as_str() {
                "event" => Trigger::Event(SharedStr::from("order.updated")),
                "timer" => Trigger::Timer { after: Duration::from_days(7) },
                _ => Trigger::Manual,
            };
            structural.with_value(|f| f(Box::new(move |t| t.trigger = trigger)));
        }>
            {["manual", "event", "timer"].map(|k| view! { <option value=k prop:selected=trigger_kind(&t.trigger) == k>{k}</option> }).collect_view()}
        </select>
        {trigger_param}
        <fieldset class="roles"><legend>"Who may fire it (manual)"</legend>{roles}</fieldset>
        <GuardEditor editor=editor id=t.id.clone() index=index/>
        <ActionsEditor editor=editor id=t.id.clone() actions=t.actions.clone()/>
        <ul class="problems">{problems_view(lint, format!("transitions[{index}]"))}</ul>
        <p><button type="button" class="danger" on:click=move |_| editor.delete_selection()>"Delete this transition"</button></p>
    }
    .into_any()
}

/// The transition's guard, in the condition builder; typing in one input is one undo step.
#[component]
fn GuardEditor(editor: Editor, id: TransitionId, index: usize) -> impl IntoView {
    let fields = editor.def.with_untracked(|d| {
        schema_of(d).0.fields().iter().map(|f| (f.path.clone(), f.ty)).collect()
    });
    let id = StoredValue::new(id);
    let binding = Binding {
        read: Callback::new(move |()| {
            let id = id.get_value();
            editor.def.with_untracked(|d| {
                d.transitions.iter().find(|t| t.id == id).and_then(|t| t.guard.clone())
            })
        }),
        write: Callback::new(move |(key, edit): (Option<&'static str>, Edit)| {
            let id = id.get_value();
            let undo_key = key.map(|k| format!("guard-{k}:{id}"));
            editor.apply(undo_key, move |d| {
                if let Some(t) = transition_mut(d, &id) {
                    edit(&mut t.guard);
                }
            });
        }),
    };
    view! {
        <fieldset class="guard"><legend>"Guard"</legend>
            <ConditionBuilder binding=binding fields=Fields { fields, label: path_and_type }
                text_id="guard-text".into() empty="No guard: the transition is always allowed."
                placeholder="order.total >= 50000 USD and order.state_age >= 7d"/>
            <p class="muted">{format!("Checked against the fields of the workflow's entity (transitions[{index}].guard).")}</p>
        </fieldset>
    }
}

fn action_kind(a: &Action) -> &'static str {
    match a {
        Action::Notify { .. } => "notify",
        Action::RequireApproval {} => "require_approval",
        Action::Set { .. } => "set",
        Action::Call { .. } => "call",
    }
}

/// A change to a transition's actions.
type ActionsChange = Box<dyn FnOnce(&mut Vec<Action>) + Send + Sync>;

#[component]
fn ActionsEditor(editor: Editor, id: TransitionId, actions: Vec<Action>) -> impl IntoView {
    let id = StoredValue::new(id);
    let change = move |key: Option<String>, f: ActionsChange| {
        let tid = id.get_value();
        let apply = move |d: &mut WorkflowDefinition| {
            if let Some(t) = transition_mut(d, &tid) {
                f(&mut t.actions);
            }
        };
        match key {
            Some(k) => editor.apply(Some(format!("{k}:{}", id.get_value())), apply),
            None => editor.edit(apply),
        }
    };
    let change = StoredValue::new(change);
    let new_kind = RwSignal::new("notify".to_owned());
    let rows = actions
        .into_iter()
        .enumerate()
        .map(|(i, action)| {
            let remove = move |_| change.with_value(|f| f(None, Box::new(move |a| if i < a.len() { a.remove(i); })));
            let body = match action {
                Action::Notify { to, template } => {
                    let boxes = RECIPIENTS
                        .into_iter()
                        .map(|(r, name)| {
                            let on = to.contains(&r);
                            view! { <label class="inline"><input type="checkbox" checked=on on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                change.with_value(|f| f(Some(format!("notify-to{i}")), Box::new(move |a| {
                                    if let Some(Action::Notify { to, .. }) = a.get_mut(i) {
                                        to.retain(|x| *x != r);
                                        if on { to.push(r); }
                                    }
                                })));
                            }/> " " {name}</label> }
                        })
                        .collect_view();
                    view! {
                        <strong>"Notify"</strong> " " {boxes}
                        <input aria-label="Message template" value=template.to_string() placeholder="template name" on:input=move |ev| {
                            let v: SharedStr = SharedStr::from(event_target_value(&ev));
                            change.with_value(|f| f(Some(format!("notify-template{i}")), Box::new(move |a| {
                                if let Some(Action::Notify { template, .. }) = a.get_mut(i) { *template = v; }
                            })));
                        }/>
                    }
                    .into_any()
                }
                Action::RequireApproval {} => view! { <strong>"Require approval"</strong> " (routes the order by the company's policy)" }.into_any(),
                Action::Set { field, value } => {
                    let error = RwSignal::new(None::<String>);
                    view! {
                        <strong>"Set"</strong> " "
                        <input aria-label="Field = value" value=format!("{field} = {}", text::value_text(&value)) on:input=move |ev| {
                            match text::parse(&event_target_value(&ev)) {
                                Ok(Condition::Compare(c)) if c.op == Op::Eq => {
                                    error.set(None);
                                    change.with_value(|f| f(Some(format!("set{i}")), Box::new(move |a| {
                                        if let Some(slot) = a.get_mut(i) { *slot = Action::Set { field: c.field, value: c.value }; }
                                    })));
                                }
                                Ok(_) => error.set(Some("write field = value".into())),
                                Err(e) => error.set(Some(e.to_string())),
                            }
                        }/>
                        {move || error.get().map(|e| view! { <span class="error" role="alert">{e}</span> })}
                    }
                    .into_any()
                }
                Action::Call { integration } => view! {
                    <strong>"Call integration"</strong> " "
                    <input aria-label="Integration" value=integration.to_string() on:input=move |ev| {
                        let v: SharedStr = SharedStr::from(event_target_value(&ev));
                        change.with_value(|f| f(Some(format!("call{i}")), Box::new(move |a| {
                            if let Some(Action::Call { integration }) = a.get_mut(i) { *integration = v; }
                        })));
                    }/>
                }
                .into_any(),
            };
            view! { <li class=action_kind_class(i)>{body} " " <button type="button" class="small" aria-label="Remove this action" on:click=remove>"✕"</button></li> }
        })
        .collect_view();
    view! {
        <fieldset class="actions"><legend>"Actions"</legend>
            <ul class="plain">{rows}</ul>
            <span class="row">
                <select aria-label="New action" on:change=move |ev| new_kind.set(event_target_value(&ev))>
                    <option value="notify">"Notify"</option>
                    <option value="require_approval">"Require approval"</option>
                    <option value="set">"Set a field"</option>
                    <option value="call">"Call an integration"</option>
                </select>
                <button type="button" on:click=move |_| {
                    let action = match new_kind.get_untracked().as_str() {
                        "require_approval" => Action::RequireApproval {},
                        "set" => match FieldPath::parse("order.note") {
                            Ok(field) => Action::Set { field, value: rules::condition::Value::text("") },
                            Err(_) => return,
                        },
                        "call" => Action::Call { integration: SharedStr::from("erp") },
                        _ => Action::Notify { to: vec![Recipient::SalesRep], template: SharedStr::from("order-update") },
                    };
                    change.with_value(|f| f(None, Box::new(move |a| a.push(action))));
                }>"Add action"</button>
            </span>
        </fieldset>
    }
}

fn action_kind_class(i: usize) -> String {
    format!("action action-{i}")
}

/// For the table: the kind of each action, in words.
pub fn actions_summary(actions: &[Action]) -> String {
    actions.iter().map(action_kind).collect::<Vec<_>>().join(", ")
}

#[derive(Clone, Debug, serde::Deserialize)]
struct Companies {
    companies: Vec<CompanySummary>,
    next: Option<String>,
}

#[derive(Clone, Debug, serde::Deserialize)]
struct CompanySummary {
    id: String,
    name: String,
    customer_group: Option<String>,
}

/// The workflow itself: its name and which customers it is for; for order workflows, whether
/// submitted orders can run on it.
#[component]
fn WorkflowSettings(editor: Editor) -> impl IntoView {
    let def = editor.def.get_untracked();
    let companies = RwSignal::new(Vec::<CompanySummary>::new());
    // Every customer, for the choice of one and of a group: the list comes 200 at a time.
    leptos::task::spawn_local(async move {
        let mut path = "/api/companies?limit=200".to_owned();
        while let Ok(page) = crate::api::get::<Companies>(&path).await {
            companies.update(|list| list.extend(page.companies));
            let Some(next) = page.next else { break };
            path =
                format!("/api/companies?limit=200&after={}", js_sys::encode_uri_component(&next));
        }
    });
    let (kind, target) = match &def.scope {
        Scope::All => ("all", String::new()),
        Scope::CustomerGroup(g) => ("group", g.to_string()),
        Scope::Customer(c) => ("customer", c.to_string()),
    };
    let scope_kind = RwSignal::new(kind.to_owned());
    let scope_error = RwSignal::new(None::<String>);
    let set_scope = move |kind: &str, target: &str| {
        let scope = match kind {
            "group" => {
                GroupId::parse(target.trim()).map(Scope::CustomerGroup).map_err(|e| e.to_string())
            }
            "customer" => {
                CustomerId::parse(target.trim()).map(Scope::Customer).map_err(|e| e.to_string())
            }
            _ => Ok(Scope::All),
        };
        match scope {
            Ok(scope) => {
                scope_error.set(None);
                editor.apply(Some("scope".into()), move |d| d.scope = scope);
            }
            Err(e) => scope_error.set(Some(format!("scope: {e}"))),
        }
    };
    let target = RwSignal::new(target);
    view! {
        <h2>"Workflow"</h2>
        <label for="workflow-name">"Name"</label>
        <input id="workflow-name" value=def.name.to_string() on:input=move |ev| {
            let name: SharedStr = SharedStr::from(event_target_value(&ev));
            editor.apply(Some("name".into()), move |d| d.name = name);
        }/>
        <label for="scope-kind">"For"</label>
        <span class="row">
            <select id="scope-kind" on:change=move |ev| {
                let kind = event_target_value(&ev);
                scope_kind.set(kind.clone());
                if kind == "all" { set_scope("all", ""); }
            }>
                <option value="all" prop:selected=kind == "all">"all customers"</option>
                <option value="group" prop:selected=kind == "group">"a customer group"</option>
                <option value="customer" prop:selected=kind == "customer">"one customer"</option>
            </select>
            {move || match scope_kind.get().as_str() {
                "customer" => view! {
                    <select id="scope-customer" aria-label="Customer" on:change=move |ev| {
                        let id = event_target_value(&ev);
                        target.set(id.clone());
                        set_scope("customer", &id);
                    }>
                        <option value="">"choose…"</option>
                        {move || companies.get().into_iter().map(|c| {
                            let selected = c.id == target.get_untracked();
                            view! { <option value=c.id.clone() prop:selected=selected>{c.name.clone()}</option> }
                        }).collect_view()}
                    </select>
                }.into_any(),
                "group" => view! {
                    <input id="scope-group" aria-label="Customer group" list="groups" prop:value=move || target.get() on:change=move |ev| {
                        let id = event_target_value(&ev);
                        target.set(id.clone());
                        set_scope("group", &id);
                    }/>
                    <datalist id="groups">{move || {
                        let mut groups: Vec<String> = companies.get().into_iter().filter_map(|c| c.customer_group).collect();
                        groups.sort();
                        groups.dedup();
                        groups.into_iter().map(|g| view! { <option value=g.clone()></option> }).collect_view()
                    }}</datalist>
                }.into_any(),
                _ => ().into_any(),
            }}
        </span>
        {move || scope_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <p class="muted">{format!("For {}s. The most specific published workflow (one customer, then a group, then all) is the one a new {} starts on.", def.entity.name(), def.entity.name())}</p>
    }
}
