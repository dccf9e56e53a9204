//! The side panel: the selected state or transition, every property editable. Guards are
//! edited with a rule builder (field, operator, value; all/any groups; not) beside their text
//! form; both are checked by `rules` as you type.

use super::{
    editor::{Editor, Selection},
    lint::Lint,
};
use crate::pages::severity;
use leptos::prelude::*;
use rules::ids::SharedStr;
use rules::{
    condition::{Condition, FieldPath, FieldType, Op, text},
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

fn bump(epoch: RwSignal<u64>) {
    epoch.update(|e| *e = e.wrapping_add(1));
}

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
                view! { <option value=s.to_string() selected=*s == current>{format!("{label} ({s})")}</option> }
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
            {["manual", "event", "timer"].map(|k| view! { <option value=k selected=trigger_kind(&t.trigger) == k>{k}</option> }).collect_view()}
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

/// A literal that fits a field of this type, to start a new comparison with.
fn default_literal(ty: FieldType) -> (&'static str, &'static str) {
    match ty {
        FieldType::Money => (">=", "1000 USD"),
        FieldType::Number => (">=", "1"),
        FieldType::Duration => (">=", "7d"),
        FieldType::Text => ("=", "\"\""),
        FieldType::Bool => ("=", "true"),
        FieldType::TextList => ("contains", "\"\""),
        FieldType::Unit => ("within", "\"\""),
    }
}

/// A comparison on the entity's first field, for "add condition".
fn new_comparison(fields: &[(FieldPath, FieldType)]) -> Option<Condition> {
    let (path, ty) =
        fields.iter().find(|(p, _)| p.as_str().ends_with(".total")).or(fields.first())?;
    let (op, value) = default_literal(*ty);
    text::parse(&format!("{path} {op} {value}")).ok()
}

/// The node at a path of item indexes; `not` is transparent.
fn at_mut<'a>(c: &'a mut Condition, path: &[usize]) -> Option<&'a mut Condition> {
    let Some((&first, rest)) = path.split_first() else { return Some(c) };
    match c {
        Condition::All(items) | Condition::Any(items) => at_mut(items.get_mut(first)?, rest),
        Condition::Not(inner) => at_mut(inner, path),
        Condition::Compare(_) => None,
    }
}

/// A node without its `not`.
fn bare(c: &mut Condition) -> &mut Condition {
    match c {
        Condition::Not(inner) => bare(inner),
        other => other,
    }
}

#[derive(Clone, Copy)]
struct Guard {
    editor: Editor,
    id: StoredValue<TransitionId>,
    /// Re-renders the builder (after a change of shape, or the text form changed).
    shape: RwSignal<u64>,
    text: RwSignal<String>,
    fields: StoredValue<Vec<(FieldPath, FieldType)>>,
}

impl Guard {
    fn guard(&self) -> Option<Condition> {
        let id = self.id.get_value();
        self.editor.def.with_untracked(|d| {
            d.transitions.iter().find(|t| t.id == id).and_then(|t| t.guard.clone())
        })
    }

    /// Changes the guard; the text form follows. `key` coalesces typing into one undo step;
    /// without one, the builder is redrawn.
    fn change(
        &self,
        key: Option<&str>,
        f: impl FnOnce(&mut Option<Condition>) + Send + Sync + 'static,
    ) {
        let id = self.id.get_value();
        let undo_key = key.map(|k| format!("guard-{k}:{id}"));
        self.editor.apply(undo_key, move |d| {
            if let Some(t) = transition_mut(d, &id) {
                f(&mut t.guard);
                if matches!(&t.guard, Some(Condition::All(items)) if items.is_empty()) {
                    t.guard = None;
                }
            }
        });
        self.text.set(self.guard().map(|g| text::print(&g)).unwrap_or_default());
        if key.is_none() {
            bump(self.shape);
        }
    }

    fn at(
        &self,
        key: Option<&str>,
        path: Vec<usize>,
        f: impl FnOnce(&mut Condition) + Send + Sync + 'static,
    ) {
        self.change(key, move |g| {
            if let Some(node) = g.as_mut().and_then(|g| at_mut(g, &path)) {
                f(node);
            }
        });
    }
}

#[component]
fn GuardEditor(editor: Editor, id: TransitionId, index: usize) -> impl IntoView {
    let fields: Vec<(FieldPath, FieldType)> = editor.def.with_untracked(|d| {
        schema_of(d).0.fields().iter().map(|f| (f.path.clone(), f.ty)).collect()
    });
    let g = Guard {
        editor,
        id: StoredValue::new(id),
        shape: RwSignal::new(0),
        text: RwSignal::new(String::new()),
        fields: StoredValue::new(fields),
    };
    g.text.set(g.guard().map(|c| text::print(&c)).unwrap_or_default());
    let text_error = RwSignal::new(None::<String>);
    let builder = move || {
        g.shape.track();
        match g.guard() {
            None => view! {
                <p class="muted">"No guard: the transition is always allowed."</p>
                <button type="button" on:click=move |_| {
                    let first = g.fields.with_value(|f| new_comparison(f));
                    g.change(None, move |guard| *guard = first.map(|c| Condition::All(vec![c])));
                }>"Add a condition"</button>
            }
            .into_any(),
            Some(c) => node_view(g, c, Vec::new()),
        }
    };
    view! {
        <fieldset class="guard"><legend>"Guard"</legend>
            <div class="builder">{builder}</div>
            <label for="guard-text">"As text"</label>
            <textarea id="guard-text" rows="2" spellcheck="false" placeholder="order.total >= 50000 USD and order.state_age >= 7d"
                prop:value=move || g.text.get()
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    g.text.set(value.clone());
                    if value.trim().is_empty() {
                        text_error.set(None);
                        let id = g.id.get_value();
                        g.editor.apply(Some(format!("guard-text:{id}")), move |d| if let Some(t) = transition_mut(d, &id) { t.guard = None });
                        bump(g.shape);
                        return;
                    }
                    match text::parse(&value) {
                        Ok(c) => {
                            text_error.set(None);
                            let id = g.id.get_value();
                            g.editor.apply(Some(format!("guard-text:{id}")), move |d| if let Some(t) = transition_mut(d, &id) { t.guard = Some(c) });
                            bump(g.shape);
                        }
                        Err(e) => text_error.set(Some(e.to_string())),
                    }
                }></textarea>
            {move || text_error.get().map(|e| view! { <p class="error" role="alert" id="guard-text-error">{e}</p> })}
            <p class="muted">{format!("Checked against the fields of the workflow's entity (transitions[{index}].guard).")}</p>
        </fieldset>
    }
}

fn node_view(g: Guard, c: Condition, path: Vec<usize>) -> AnyView {
    let negated = matches!(c, Condition::Not(_));
    let mut inner = c;
    while let Condition::Not(x) = inner {
        inner = *x;
    }
    let not_box = {
        let path = path.clone();
        view! {
            <label class="inline not"><input type="checkbox" checked=negated on:change=move |_| {
                let path = path.clone();
                g.change(None, move |guard| {
                    let Some(root) = guard.as_mut() else { return };
                    if let Some(node) = at_mut(root, &path) {
                        let taken = std::mem::replace(node, Condition::All(vec![]));
                        *node = match taken {
                            Condition::Not(x) => *x,
                            other => Condition::Not(Box::new(other)),
                        };
                    }
                });
            }/> " not"</label>
        }
    };
    let remove = (!path.is_empty()).then(|| {
        let path = path.clone();
        view! {
            <button type="button" class="small" aria-label="Remove this condition" on:click=move |_| {
                let Some((last, parent)) = path.split_last() else { return };
                let (last, parent) = (*last, parent.to_vec());
                g.change(None, move |guard| {
                    if let Some(Condition::All(items) | Condition::Any(items)) = guard.as_mut().and_then(|r| at_mut(r, &parent)).map(bare)
                        && last < items.len()
                    {
                        items.remove(last);
                    }
                });
            }>"✕"</button>
        }
    });
    match inner {
        Condition::All(_) | Condition::Any(_) => {
            let any = matches!(inner, Condition::Any(_));
            let (Condition::All(items) | Condition::Any(items)) = inner else {
                return ().into_any();
            };
            let (p_kind, p_add, p_group) = (path.clone(), path.clone(), path.clone());
            let children = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    let mut child = path.clone();
                    child.push(i);
                    view! { <li>{node_view(g, item, child)}</li> }
                })
                .collect_view();
            view! {
                <div class="group">
                    <span class="row">
                        {not_box}
                        <select aria-label="Combine with" on:change=move |ev| {
                            let any = event_target_value(&ev) == "any";
                            let path = p_kind.clone();
                            g.at(None, path, move |node| {
                                let node = bare(node);
                                let items = match std::mem::replace(node, Condition::All(vec![])) {
                                    Condition::All(items) | Condition::Any(items) => items,
                                    other => vec![other],
                                };
                                *node = if any { Condition::Any(items) } else { Condition::All(items) };
                            });
                        }>
                            <option value="all" selected=!any>"all of"</option>
                            <option value="any" selected=any>"any of"</option>
                        </select>
                        <button type="button" class="small" on:click=move |_| {
                            let Some(c) = g.fields.with_value(|f| new_comparison(f)) else { return };
                            g.at(None, p_add.clone(), move |node| if let Condition::All(items) | Condition::Any(items) = bare(node) { items.push(c) });
                        }>"+ condition"</button>
                        <button type="button" class="small" on:click=move |_| {
                            let Some(c) = g.fields.with_value(|f| new_comparison(f)) else { return };
                            g.at(None, p_group.clone(), move |node| if let Condition::All(items) | Condition::Any(items) = bare(node) { items.push(Condition::Any(vec![c])) });
                        }>"+ group"</button>
                        {remove}
                    </span>
                    <ul class="items">{children}</ul>
                </div>
            }
            .into_any()
        }
        Condition::Compare(cmp) => {
            let value_error = RwSignal::new(None::<String>);
            let value_text = RwSignal::new(text::value_text(&cmp.value));
            let field = cmp.field.clone();
            let fields = g.fields.get_value();
            let known = fields.iter().any(|(p, _)| *p == field);
            let (p_field, p_op, p_value) = (path.clone(), path.clone(), path.clone());
            let op_now = cmp.op;
            view! {
                <span class="row cmp">
                    {not_box}
                    <select aria-label="Field" class="field" on:change=move |ev| {
                        let Ok(field) = FieldPath::parse(&event_target_value(&ev)) else { return };
                        g.at(Some("field"), p_field.clone(), move |node| if let Condition::Compare(c) = bare(node) { c.field = field });
                    }>
                        {(!known).then(|| view! { <option value=field.to_string() selected=true>{format!("{field} (unknown)")}</option> })}
                        {fields.into_iter().map(|(p, ty)| {
                            let selected = p == field;
                            view! { <option value=p.to_string() selected=selected>{format!("{p} ({})", type_name(ty))}</option> }
                        }).collect_view()}
                    </select>
                    <select aria-label="Operator" class="op" on:change=move |ev| {
                        let Some(op) = Op::ALL.into_iter().find(|o| o.symbol() == event_target_value(&ev)) else { return };
                        g.at(Some("op"), p_op.clone(), move |node| if let Condition::Compare(c) = bare(node) { c.op = op });
                    }>
                        {Op::ALL.map(|o| view! { <option value=o.symbol() selected=o == op_now>{o.symbol()}</option> }).collect_view()}
                    </select>
                    <input aria-label="Value" class="value" prop:value=move || value_text.get() on:input=move |ev| {
                        let typed = event_target_value(&ev);
                        value_text.set(typed.clone());
                        // The value alone is parsed as the right side of a comparison.
                        match text::parse(&format!("x.y = {typed}")) {
                            Ok(Condition::Compare(parsed)) => {
                                value_error.set(None);
                                let value = parsed.value;
                                g.at(Some("value"), p_value.clone(), move |node| if let Condition::Compare(c) = bare(node) { c.value = value });
                            }
                            Ok(_) => value_error.set(Some("one value, please".into())),
                            Err(e) => value_error.set(Some(e.to_string())),
                        }
                    }/>
                    {remove}
                    {move || value_error.get().map(|e| view! { <span class="error" role="alert">{e}</span> })}
                </span>
            }
            .into_any()
        }
        Condition::Not(_) => ().into_any(),
    }
}

fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Money => "money",
        FieldType::Number => "number",
        FieldType::Duration => "duration",
        FieldType::Text => "text",
        FieldType::Bool => "yes/no",
        FieldType::TextList => "list",
        FieldType::Unit => "unit",
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
                <option value="all" selected=kind == "all">"all customers"</option>
                <option value="group" selected=kind == "group">"a customer group"</option>
                <option value="customer" selected=kind == "customer">"one customer"</option>
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
                            view! { <option value=c.id.clone() selected=selected>{c.name.clone()}</option> }
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
