//! Versions of the workflow: each with its status and how many entities run on it; open one,
//! publish a draft, and compare two (states and transitions added, removed, changed).

use super::{Saved, WorkflowSummary, editor::Editor};
use crate::api;
use gloo_net::http::Method;
use leptos::{prelude::*, task::spawn_local};
use rules::workflow::{WorkflowDefinition, diff};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

/// `POST /api/workflows/{id}/migrations/preview`, the parts shown.
#[derive(Clone, Debug, Deserialize)]
struct Preview {
    explanation: Vec<String>,
    counts: Counts,
    states: Vec<StateCount>,
    /// The first movable and blocked entities (the server lists a bounded number).
    movable: Vec<Movable>,
    blocked: Vec<Blocked>,
}

/// How many entities in a state of the older version can move, and how many cannot.
#[derive(Clone, Debug, Deserialize)]
struct StateCount {
    state: String,
    movable: usize,
    blocked: usize,
}

#[derive(Clone, Debug, Deserialize)]
struct Counts {
    instances: usize,
    movable: usize,
    blocked: usize,
}

#[derive(Clone, Debug, Deserialize)]
struct Movable {
    entity_id: String,
    #[serde(default)]
    order_number: Option<i64>,
    from_state: String,
    to_state: String,
    #[serde(default)]
    transitions_gained: Vec<String>,
    #[serde(default)]
    transitions_lost: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
struct Blocked {
    entity_id: String,
    #[serde(default)]
    order_number: Option<i64>,
    message: String,
}

#[derive(Clone, Debug, Deserialize)]
struct Migrated {
    moved_count: usize,
}

/// "and N more" under a list the server cut short.
fn more(count: usize, listed: usize) -> Option<impl IntoView> {
    (count > listed)
        .then(|| view! { <p class="muted">{format!("and {} more", count - listed)}</p> })
}

#[component]
pub fn VersionsPanel(editor: Editor, summary: RwSignal<Option<WorkflowSummary>>) -> impl IntoView {
    let message = RwSignal::new(None::<Result<String, String>>);
    let id = move || editor.def.with_untracked(|d| d.id.to_string());
    let refresh = move || {
        let id = id();
        spawn_local(async move {
            if let Ok(s) = api::get::<WorkflowSummary>(&format!("/api/workflows/{id}")).await {
                summary.set(Some(s));
            }
        });
    };
    let open = move |version: i64| {
        let id = id();
        spawn_local(async move {
            match api::get::<WorkflowDefinition>(&format!("/api/workflows/{id}/versions/{version}"))
                .await
            {
                Ok(def) => {
                    editor.load(def);
                    message.set(Some(Ok(format!(
                        "Version {version} is open; saving makes it the draft."
                    ))));
                }
                Err(e) => message.set(Some(Err(e.message))),
            }
        });
    };
    let publish = move |version: i64| {
        let id = id();
        spawn_local(async move {
            let path = format!("/api/workflows/{id}/versions/{version}/publish");
            let done = api::send::<Saved, _>(Method::POST, &path, &json!({})).await;
            message.set(Some(
                done.map(|s| format!("Version {} is published.", s.version)).map_err(|e| e.message),
            ));
            refresh();
        });
    };
    let rows = move || {
        summary.with(|s| {
            s.as_ref()
                .map(|s| {
                    s.versions
                        .iter()
                        .rev()
                        .map(|v| {
                            let (version, draft) = (v.version, v.status == "draft");
                            view! {
                                <tr>
                                    <td>{format!("v{version}")}</td>
                                    <td>{v.status.clone()}</td>
                                    <td class="number">{v.instances}</td>
                                    <td>
                                        <button type="button" class="small" on:click=move |_| open(version)>"Open"</button>
                                        {draft.then(|| view! { " " <button type="button" class="small" on:click=move |_| publish(version)>"Publish"</button> })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()
                })
                .unwrap_or_default()
        })
    };
    let versions = move || {
        summary.with(|s| {
            s.as_ref()
                .map(|s| s.versions.iter().map(|v| v.version).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    };
    let latest = versions().last().copied().unwrap_or(1);
    let (from, to) = (RwSignal::new(latest.saturating_sub(1).max(1)), RwSignal::new(latest));
    let compared = RwSignal::new(None::<Result<Vec<String>, String>>);
    let preview = RwSignal::new(None::<Result<Preview, String>>);
    let compare = move |_| {
        let (id, a, b) = (id(), from.get_untracked(), to.get_untracked());
        spawn_local(async move {
            let (path_a, path_b) = (
                format!("/api/workflows/{id}/versions/{a}"),
                format!("/api/workflows/{id}/versions/{b}"),
            );
            let old = api::get::<WorkflowDefinition>(&path_a).await;
            let new = api::get::<WorkflowDefinition>(&path_b).await;
            let result = match (old, new) {
                (Ok(old), Ok(new)) => {
                    let d = diff(&old, &new);
                    Ok(if d.is_empty() {
                        vec!["No differences.".to_owned()]
                    } else {
                        rules::messages::explain_diff(&d)
                    })
                }
                (Err(e), _) | (_, Err(e)) => Err(e.message),
            };
            compared.set(Some(result));
        });
    };
    // Where entities in a state the newer version no longer has go: chosen per state, sent as
    // `state_map`, with the newer version's states to choose from.
    let state_map = RwSignal::new(BTreeMap::<String, String>::new());
    let targets = RwSignal::new(Vec::<(String, String)>::new());
    let body = move || {
        json!({
            "from_version": from.get_untracked(),
            "to_version": to.get_untracked(),
            "state_map": state_map.get_untracked(),
        })
    };
    let run_preview = move || {
        let (id, body, newer) = (id(), body(), to.get_untracked());
        spawn_local(async move {
            let p = api::send::<Preview, _>(
                Method::POST,
                &format!("/api/workflows/{id}/migrations/preview"),
                &body,
            )
            .await;
            let blocked = p.as_ref().is_ok_and(|p| !p.blocked.is_empty());
            if blocked
                && let Ok(def) =
                    api::get::<WorkflowDefinition>(&format!("/api/workflows/{id}/versions/{newer}"))
                        .await
            {
                targets.set(
                    def.states.iter().map(|s| (s.id.to_string(), s.label.to_string())).collect(),
                );
            }
            preview.set(Some(p.map_err(|e| e.message)));
        });
    };
    let preview_move = move |_| {
        state_map.set(BTreeMap::new());
        run_preview();
    };
    // The blocked entities' states, each with how many are in it and the state chosen for it.
    let mapping = move || {
        let Some(Ok(p)) = preview.get() else { return None };
        let mut states: BTreeMap<String, usize> = BTreeMap::new();
        // States already mapped: their entities are movable now, and the choice stays shown.
        let mapped = state_map.get();
        for from_state in mapped.keys() {
            states.insert(from_state.clone(), 0);
        }
        for s in &p.states {
            let moving = if mapped.contains_key(&s.state) { s.movable } else { 0 };
            if s.blocked > 0 || moving > 0 {
                *states.entry(s.state.clone()).or_default() += s.blocked + moving;
            }
        }
        (!states.is_empty()).then(|| {
            let rows = states
                .into_iter()
                .map(|(from_state, count)| {
                    let chosen = state_map.with_untracked(|m| m.get(&from_state).cloned());
                    let key = from_state.clone();
                    let choose = move |ev| {
                        let value = event_target_value(&ev);
                        state_map.update(|m| {
                            if value.is_empty() {
                                m.remove(&key);
                            } else {
                                m.insert(key.clone(), value);
                            }
                        });
                        run_preview();
                    };
                    let options = targets
                        .get_untracked()
                        .into_iter()
                        .map(|(id, label)| {
                            let selected = chosen.as_deref() == Some(id.as_str());
                            view! { <option value=id.clone() prop:selected=selected>{format!("{label} ({id})")}</option> }
                        })
                        .collect_view();
                    view! {
                        <li>
                            <label>
                                {format!("{count} running in “{from_state}”, which the newer version does not have: move to ")}
                                <select class="state-map" data-from=from_state.clone() on:change=choose>
                                    <option value="">"(choose a state)"</option>
                                    {options}
                                </select>
                            </label>
                        </li>
                    }
                })
                .collect_view();
            view! { <ul id="state-map">{rows}</ul> }
        })
    };
    let migrate = move |_| {
        let (id, body) = (id(), body());
        spawn_local(async move {
            let done = api::send::<Migrated, _>(
                Method::POST,
                &format!("/api/workflows/{id}/migrations"),
                &body,
            )
            .await;
            message.set(Some(
                done.map(|m| format!("{} running entities moved.", m.moved_count))
                    .map_err(|e| e.message),
            ));
            preview.set(None);
            state_map.set(BTreeMap::new());
            refresh();
        });
    };
    let version_select = move |sig: RwSignal<i64>, label: &'static str| {
        view! {
            <select aria-label=label on:change=move |ev| if let Ok(v) = event_target_value(&ev).parse() { sig.set(v) }>
                {move || versions().into_iter().map(|v| view! { <option value=v.to_string() prop:selected=v == sig.get_untracked()>{format!("v{v}")}</option> }).collect_view()}
            </select>
        }
    };
    view! {
        <h2>"Versions"</h2>
        <p class="muted">"Entities stay on the version they started on; publishing changes only what new ones start on."</p>
        {move || message.get().map(|m| match m {
            Ok(t) => view! { <p class="ok" role="status">{t}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        })}
        <table class="versions">
            <thead><tr><th scope="col">"Version"</th><th scope="col">"Status"</th><th scope="col">"Running"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <h3>"Compare"</h3>
        <span class="row">{version_select(from, "Older version")} " → " {version_select(to, "Newer version")}
            <button type="button" id="compare" on:click=compare>"Compare"</button></span>
        {move || compared.get().map(|c| match c {
            Ok(lines) => view! { <ul id="diff">{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        })}
        <h3>"Move running entities"</h3>
        <p class="muted">"Moves every entity running on the older version to the newer one (published), after a preview. Each keeps its state; for a state the newer version does not have, choose where its entities go."</p>
        <button type="button" id="preview-migration" on:click=preview_move>"Preview the move"</button>
        {move || preview.get().map(|p| match p {
            Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            Ok(p) => {
                let can = p.counts.blocked == 0 && p.counts.movable > 0;
                let (listed_movable, listed_blocked) = (p.movable.len(), p.blocked.len());
                view! {
                    <p id="migration-counts">{format!("{} running: {} can move, {} blocked.", p.counts.instances, p.counts.movable, p.counts.blocked)}</p>
                    <ul>{p.explanation.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                    <ul id="movable">{p.movable.into_iter().map(|m| view! { <li>{format!("{}: {} → {}{}{}", running(&m.entity_id, m.order_number), m.from_state, m.to_state,
                        if m.transitions_gained.is_empty() { String::new() } else { format!("; gains {}", m.transitions_gained.join(", ")) },
                        if m.transitions_lost.is_empty() { String::new() } else { format!("; loses {}", m.transitions_lost.join(", ")) })}</li> }).collect_view()}</ul>
                    {more(p.counts.movable, listed_movable)}
                    <ul>{p.blocked.into_iter().map(|b| view! { <li class="error">{format!("{}: {}", running(&b.entity_id, b.order_number), b.message)}</li> }).collect_view()}</ul>
                    {more(p.counts.blocked, listed_blocked)}
                    {mapping}
                    <button type="button" id="migrate" disabled=!can on:click=migrate>"Move them"</button>
                }.into_any()
            }
        })}
    }
}

/// What an instance runs, as people know it: "order 1001", or the entity's id.
fn running(entity_id: &str, order_number: Option<i64>) -> String {
    order_number.map_or_else(|| entity_id.to_owned(), |n| format!("order {n}"))
}
