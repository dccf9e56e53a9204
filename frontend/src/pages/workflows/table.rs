//! The workflow as two tables, states and transitions, editable and in sync with the diagram
//! (both read and change the one definition in the [`Editor`]).

use super::{
    editor::{Editor, Selection},
    lint::Lint,
    panel::actions_summary,
};
use leptos::prelude::*;
use rules::ids::SharedStr;
use rules::{
    condition::text,
    ids::StateId,
    workflow::{Trigger, WorkflowDefinition},
};

fn trigger_text(t: &Trigger) -> String {
    match t {
        Trigger::Manual => "manual".into(),
        Trigger::Event(e) => format!("on {e}"),
        Trigger::Timer { after } => format!("after {after}"),
    }
}

#[component]
pub fn Tables(editor: Editor, lint: Memo<Lint>) -> impl IntoView {
    let state_keys = move || {
        editor.def.with(|d| d.states.iter().map(|s| s.id.clone()).enumerate().collect::<Vec<_>>())
    };
    let transition_keys = move || {
        editor
            .def
            .with(|d| d.transitions.iter().map(|t| t.id.clone()).enumerate().collect::<Vec<_>>())
    };
    let state_options = Memo::new(move |_| {
        editor.def.with(|d| d.states.iter().map(|s| s.id.clone()).collect::<Vec<StateId>>())
    });
    let read = move |f: Box<dyn Fn(&WorkflowDefinition) -> String + Send + Sync>| {
        move || editor.def.with(|d| f(d))
    };

    let state_row = move |(i, id): (usize, StateId)| {
        let (id_label, id_start, id_terminal, id_select) =
            (id.clone(), id.clone(), id.clone(), id.clone());
        let label = read(Box::new(move |d| {
            d.states.get(i).map(|s| s.label.to_string()).unwrap_or_default()
        }));
        let start = move || editor.def.with(|d| d.states.get(i).is_some_and(|s| s.start));
        let terminal = move || editor.def.with(|d| d.states.get(i).is_some_and(|s| s.terminal));
        let mark = {
            let id = id.clone();
            move || lint.with(|l| l.states.get(&id).map(|m| m.message.clone()))
        };
        view! {
            <tr class:error=move || lint.with(|l| l.states.get(&id_select).is_some_and(|m| m.error))>
                <td><button type="button" class="link" on:click={ let id = id.clone(); move |_| editor.select(Selection::State(id.clone())) }><code>{id.to_string()}</code></button></td>
                <td><input aria-label=format!("Label of {id}") prop:value=label on:input=move |ev| {
                    let value: SharedStr = SharedStr::from(event_target_value(&ev));
                    let id = id_label.clone();
                    editor.apply(Some(format!("state-label:{id}")), move |d| if let Some(s) = d.states.iter_mut().find(|s| s.id == id) { s.label = value });
                }/></td>
                <td><input type="checkbox" aria-label=format!("{id} is the start") prop:checked=start on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    let id = id_start.clone();
                    editor.edit(move |d| for s in &mut d.states { s.start = if s.id == id { on } else { s.start && !on } });
                }/></td>
                <td><input type="checkbox" aria-label=format!("{id} is terminal") prop:checked=terminal on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    let id = id_terminal.clone();
                    editor.edit(move |d| if let Some(s) = d.states.iter_mut().find(|s| s.id == id) { s.terminal = on });
                }/></td>
                <td class="error">{mark}</td>
            </tr>
        }
    };

    let transition_row = move |(i, id): (usize, rules::ids::TransitionId)| {
        let guard_error = RwSignal::new(None::<String>);
        let (id_label, id_from, id_to, id_roles, id_guard, id_mark) =
            (id.clone(), id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
        let label = read(Box::new(move |d| {
            d.transitions.get(i).map(|t| t.label.to_string()).unwrap_or_default()
        }));
        let trigger = read(Box::new(move |d| {
            d.transitions.get(i).map(|t| trigger_text(&t.trigger)).unwrap_or_default()
        }));
        let roles = read(Box::new(move |d| {
            d.transitions.get(i).map(|t| t.roles.join(", ")).unwrap_or_default()
        }));
        let guard = read(Box::new(move |d| {
            d.transitions.get(i).and_then(|t| t.guard.as_ref()).map(text::print).unwrap_or_default()
        }));
        let actions = read(Box::new(move |d| {
            d.transitions.get(i).map(|t| actions_summary(&t.actions)).unwrap_or_default()
        }));
        let end = move |which: &'static str, tid: rules::ids::TransitionId| {
            let current = move || {
                editor.def.with(|d| {
                    d.transitions
                        .get(i)
                        .map(
                            |t| if which == "from" { t.from.to_string() } else { t.to.to_string() },
                        )
                        .unwrap_or_default()
                })
            };
            view! {
                <select aria-label=format!("{which} of {tid}") prop:value=current on:change=move |ev| {
                    let Ok(state) = StateId::parse(&event_target_value(&ev)) else { return };
                    let tid = tid.clone();
                    editor.edit(move |d| if let Some(t) = d.transitions.iter_mut().find(|t| t.id == tid) {
                        if which == "from" { t.from = state } else { t.to = state }
                    });
                }>
                    {move || state_options.get().into_iter().map(|s| {
                        let selected = s.to_string() == current();
                        view! { <option value=s.to_string() prop:selected=selected>{s.to_string()}</option> }
                    }).collect_view()}
                </select>
            }
        };
        view! {
            <tr class:error=move || lint.with(|l| l.transitions.get(&id_mark).is_some_and(|m| m.error))>
                <td><button type="button" class="link" on:click={ let id = id.clone(); move |_| editor.select(Selection::Transition(id.clone())) }><code>{id.to_string()}</code></button></td>
                <td><input aria-label=format!("Label of {id}") prop:value=label on:input=move |ev| {
                    let value: SharedStr = SharedStr::from(event_target_value(&ev));
                    let id = id_label.clone();
                    editor.apply(Some(format!("label:{id}")), move |d| if let Some(t) = d.transitions.iter_mut().find(|t| t.id == id) { t.label = value });
                }/></td>
                <td>{end("from", id_from)}</td>
                <td>{end("to", id_to)}</td>
                <td>{trigger}</td>
                <td><input aria-label=format!("Roles of {id}") prop:value=roles on:change=move |ev| {
                    let roles: Vec<SharedStr> = event_target_value(&ev).split(',').map(str::trim).filter(|r| !r.is_empty()).map(SharedStr::from).collect();
                    let id = id_roles.clone();
                    editor.edit(move |d| if let Some(t) = d.transitions.iter_mut().find(|t| t.id == id) { t.roles = roles });
                }/></td>
                <td><input class="guard-text" aria-label=format!("Guard of {id}") prop:value=guard on:change=move |ev| {
                    let value = event_target_value(&ev);
                    let parsed = if value.trim().is_empty() { Ok(None) } else { text::parse(&value).map(Some) };
                    match parsed {
                        Ok(g) => {
                            guard_error.set(None);
                            let id = id_guard.clone();
                            editor.edit(move |d| if let Some(t) = d.transitions.iter_mut().find(|t| t.id == id) { t.guard = g });
                        }
                        Err(e) => guard_error.set(Some(e.to_string())),
                    }
                }/>
                {move || guard_error.get().map(|e| view! { <span class="error" role="alert">{e}</span> })}</td>
                <td>{actions}</td>
            </tr>
        }
    };

    view! {
        <h2>"States"</h2>
        <table class="states">
            <thead><tr><th scope="col">"State"</th><th scope="col">"Label"</th><th scope="col">"Start"</th><th scope="col">"Terminal"</th><th scope="col">"Problem"</th></tr></thead>
            <tbody><For each=state_keys key=|k| k.clone() children=state_row/></tbody>
        </table>
        <p><button type="button" on:click=move |_| { editor.add_state(None); }>"Add state"</button></p>
        <h2>"Transitions"</h2>
        <table class="transitions">
            <thead><tr><th scope="col">"Transition"</th><th scope="col">"Label"</th><th scope="col">"From"</th><th scope="col">"To"</th><th scope="col">"Trigger"</th><th scope="col">"Roles"</th><th scope="col">"Guard"</th><th scope="col">"Actions"</th></tr></thead>
            <tbody><For each=transition_keys key=|k| k.clone() children=transition_row/></tbody>
        </table>
    }
}
