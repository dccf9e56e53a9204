//! Simulate: a sample entity run through the workflow being edited, in the browser, by the
//! same runtime as the server (`rules::workflow::simulate`). The path is highlighted on the
//! diagram; each state on it lists which transitions were enabled and why, and when its
//! timers would fire.

use super::{diagram::Path, editor::Editor};
use crate::pages::severity;
use leptos::prelude::*;
use rules::ids::SharedStr;
use rules::{
    condition::{Condition, FieldPath, Op, Value, text},
    ids::TransitionId,
    time::Timestamp,
    workflow::{
        Actor, ROLES, Trigger, Workflow,
        simulate::{End, Simulation, simulate},
    },
};
use std::collections::BTreeMap;

/// Samples to start from; the user edits them freely.
const SAMPLES: [(&str, &str); 3] = [
    (
        "Big order, 60,000.00 USD",
        "order.total = 60000 USD\norder.currency = \"USD\"\norder.sku_count = 4\norder.payment_method = \"invoice\"",
    ),
    (
        "Small order, 1,200.00 USD",
        "order.total = 1200 USD\norder.currency = \"USD\"\norder.sku_count = 2\norder.payment_method = \"card\"",
    ),
    ("Empty", ""),
];

/// Reads `field = value` lines.
fn read_fields(source: &str) -> Result<BTreeMap<FieldPath, Value>, String> {
    let mut fields = BTreeMap::new();
    for (n, line) in source.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match text::parse(line) {
            Ok(Condition::Compare(c)) if c.op == Op::Eq => {
                fields.insert(c.field, c.value);
            }
            Ok(_) => {
                return Err(format!("line {}: write one `field = value`", n.saturating_add(1)));
            }
            Err(e) => return Err(format!("line {}: {e}", n.saturating_add(1))),
        }
    }
    Ok(fields)
}

fn now() -> Timestamp {
    // Whole milliseconds since the epoch fit an i64 for the next 292 million years.
    #[allow(clippy::cast_possible_truncation)]
    Timestamp::from_millis(js_sys::Date::now() as i64)
}

#[component]
pub fn SimulatePanel(editor: Editor, path: RwSignal<Path>) -> impl IntoView {
    let sample = RwSignal::new(SAMPLES[0].1.to_owned());
    let roles = RwSignal::new(Vec::<&'static str>::new());
    let choices = RwSignal::new(BTreeMap::<usize, TransitionId>::new());
    let outcome = RwSignal::new(None::<Result<(Simulation, Timestamp), String>>);
    let run = move || {
        let result = (|| {
            let fields = read_fields(&sample.get_untracked())?;
            let workflow = Workflow::new(editor.snapshot()).map_err(|problems| {
                format!(
                    "The workflow has {} errors; fix them first (see Problems).",
                    problems.iter().filter(|p| p.is_error()).count()
                )
            })?;
            let start = now();
            let instance = workflow.begin(fields, start).map_err(|e| e.to_string())?;
            let actor = Actor {
                id: None,
                roles: roles.get_untracked().into_iter().map(SharedStr::from).collect(),
            };
            simulate(&workflow, instance, &actor, &choices.get_untracked())
                .map(|s| (s, start))
                .map_err(|e| e.to_string())
        })();
        match &result {
            Ok((s, _)) => path.set(Path {
                states: s.steps.iter().map(|st| st.state.clone()).collect(),
                transitions: s
                    .steps
                    .iter()
                    .filter_map(|st| st.taken.as_ref().map(|t| t.transition.clone()))
                    .collect(),
            }),
            Err(_) => path.set(Path::default()),
        }
        outcome.set(Some(result));
    };
    let role_boxes = ROLES
        .iter()
        .map(|role| {
            view! { <label class="inline"><input type="checkbox" on:change=move |ev| {
                let on = event_target_checked(&ev);
                roles.update(|r| { r.retain(|x| x != role); if on { r.push(role); } });
            }/> " " {role.replace('_', " ")}</label> }
        })
        .collect_view();
    let steps = move || {
        let Some(result) = outcome.get() else { return ().into_any() };
        let (sim, start) = match result {
            Ok(ok) => ok,
            Err(e) => {
                return view! { <p class="error" role="alert" id="simulation-error">{e}</p> }
                    .into_any();
            }
        };
        let end = match sim.end {
            End::Terminal => "It ends in a terminal state.",
            End::Stuck => {
                "It stops here: nothing can fire (no role of the actor, no event or timer whose guard holds)."
            }
            End::Loops => "It goes round a loop; the simulation stops.",
            End::TooManySteps => "It takes too many steps; the simulation stops.",
        };
        let refused = sim.refused.iter().map(|(step, why)| view! { <p class="warning">{format!("{}step {}: the chosen transition cannot fire: {why}", severity(false), step.saturating_add(1))}</p> }).collect_view();
        let items = sim
            .steps
            .into_iter()
            .enumerate()
            .map(|(n, step)| {
                let offset = step.entered_at.since(start);
                let taken = step.taken.clone();
                let options = step
                    .options
                    .into_iter()
                    .filter(|o| !matches!(o.trigger, Trigger::Timer { .. }))
                    .map(|o| {
                        let id = o.transition.clone();
                        let is_taken = taken.as_ref().is_some_and(|t| t.transition == o.transition);
                        let why = if o.enabled || (matches!(o.trigger, Trigger::Event(_)) && o.refusals.iter().all(|r| matches!(r, rules::workflow::Refusal::NotManual { .. }))) {
                            "could fire".to_owned()
                        } else {
                            o.explanation.join("; ")
                        };
                        view! {
                            <li class:taken=is_taken>
                                <code>{o.transition.to_string()}</code> " " {o.label.to_string()} " → " {o.to.to_string()} ": " {why}
                                {(!is_taken).then(|| view! { " " <button type="button" class="small" on:click=move |_| {
                                    let id = id.clone();
                                    choices.update(|c| { c.retain(|k, _| *k < n); c.insert(n, id); });
                                    run();
                                }>"take this"</button> })}
                            </li>
                        }
                    })
                    .collect_view();
                let timers = step
                    .timers
                    .into_iter()
                    .map(|t| {
                        let at = t.due_at.since(start);
                        let id = t.transition.clone();
                        view! {
                            <li class="timer"><code>{t.transition.to_string()}</code> {format!(" timer: due at +{at} ({}): ", t.due_at)} {t.explanation.clone()}
                                {t.due.then(|| view! { " " <button type="button" class="small" on:click=move |_| {
                                    let id = id.clone();
                                    choices.update(|c| { c.retain(|k, _| *k < n); c.insert(n, id); });
                                    run();
                                }>"wait for it"</button> })}
                            </li>
                        }
                    })
                    .collect_view();
                let left = taken.map(|t| format!("→ took {} to {} at +{}{}", t.transition, t.to, t.at.since(start), if t.chosen { " (your choice)" } else { "" }));
                view! {
                    <li class="step">
                        <strong>{format!("{}. {}", n.saturating_add(1), step.state)}</strong> {format!(" (entered at +{offset})")}
                        <ul>{options}{timers}</ul>
                        {left.map(|l| view! { <p class="taken">{l}</p> })}
                    </li>
                }
            })
            .collect_view();
        view! { <ul id="simulation" class="simulation plain">{items}</ul> {refused} <p id="simulation-end">{end}</p> }.into_any()
    };
    view! {
        <h2>"Simulate"</h2>
        <label for="sample-choice">"Sample"</label>
        <select id="sample-choice" on:change=move |ev| {
            let pick = event_target_value(&ev);
            if let Some((_, text)) = SAMPLES.iter().find(|(name, _)| *name == pick) {
                sample.set((*text).to_owned());
            }
        }>
            {SAMPLES.map(|(name, _)| view! { <option value=name>{name}</option> }).collect_view()}
        </select>
        <label for="sample">"Its fields (one `field = value` per line)"</label>
        <textarea id="sample" rows="5" spellcheck="false" prop:value=move || sample.get()
            on:input=move |ev| sample.set(event_target_value(&ev))></textarea>
        <fieldset class="roles"><legend>"Who acts (none: only events and timers)"</legend>{role_boxes}</fieldset>
        <p>
            <button type="button" id="play" on:click=move |_| { choices.set(BTreeMap::new()); run(); }>"▶ Play"</button>
            " "
            <button type="button" on:click=move |_| { outcome.set(None); path.set(Path::default()); }>"Clear"</button>
        </p>
        {steps}
    }
}
