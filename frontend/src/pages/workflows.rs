//! The seller's workflows: the list with their versions, and one workflow's definition edited
//! as JSON beside its states and transitions as tables, checked as you type by `rules` in the
//! browser (every problem with its path, and how long the check took), saved as a draft and
//! published. The visual editor (diagram, rule builder, simulation) builds on this page.

use crate::api;
use gloo_net::http::Method;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::{components::A, hooks::use_params_map};
use rules::{
    condition::text,
    diagnostic::Diagnostic,
    workflow::{Trigger, WorkflowDefinition, validate},
};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, Deserialize)]
struct VersionSummary {
    version: i64,
    status: String,
    /// Entities running on this version.
    instances: i64,
}

#[derive(Debug, Clone, Deserialize)]
struct WorkflowSummary {
    id: String,
    name: String,
    entity: String,
    published_version: Option<i64>,
    draft_version: Option<i64>,
    versions: Vec<VersionSummary>,
}

#[derive(Debug, Clone, Deserialize)]
struct Saved {
    version: i64,
    status: String,
}

fn version_label(v: Option<i64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("v{v}"))
}

#[component]
pub fn WorkflowsPage() -> impl IntoView {
    let list = RwSignal::new(None::<Result<Vec<WorkflowSummary>, String>>);
    spawn_local(async move {
        list.set(Some(api::get("/api/workflows").await.map_err(|e| e.message)));
    });
    view! {
        <h1>"Workflows"</h1>
        {move || match list.get() {
            None => view! { <p>"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            Some(Ok(all)) if all.is_empty() => view! { <p>"No workflows yet."</p> }.into_any(),
            Some(Ok(all)) => view! {
                <table class="workflows">
                    <thead><tr><th scope="col">"Workflow"</th><th scope="col">"Entity"</th><th scope="col">"Published"</th><th scope="col">"Draft"</th><th scope="col">"Versions"</th></tr></thead>
                    <tbody>{all.into_iter().map(|w| view! {
                        <tr>
                            <td><A href=format!("/editor/workflows/{}", w.id)>{w.name.clone()}</A> " (" <code>{w.id.clone()}</code> ")"</td>
                            <td>{w.entity.clone()}</td>
                            <td>{version_label(w.published_version)}</td>
                            <td>{version_label(w.draft_version)}</td>
                            <td>{w.versions.len()}</td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
            }.into_any(),
        }}
    }
}

/// What the text says: a definition with its problems, or why it is not a definition.
#[derive(Debug, Clone)]
enum Checked {
    Empty,
    Parsed { def: Box<WorkflowDefinition>, problems: Vec<Diagnostic>, ms: f64 },
    Unreadable(String),
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

fn check(source: &str) -> Checked {
    if source.trim().is_empty() {
        return Checked::Empty;
    }
    let started = now_ms();
    match serde_json::from_str::<WorkflowDefinition>(source) {
        Ok(def) => {
            let problems = validate(&def);
            Checked::Parsed { ms: now_ms() - started, def: Box::new(def), problems }
        }
        Err(e) => Checked::Unreadable(e.to_string()),
    }
}

fn trigger_text(t: &Trigger) -> String {
    match t {
        Trigger::Manual => "manual".into(),
        Trigger::Event(e) => format!("on {e}"),
        Trigger::Timer { after } => format!("after {after}"),
    }
}

#[component]
pub fn WorkflowPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let summary = RwSignal::new(None::<WorkflowSummary>);
    let source = RwSignal::new(String::new());
    let checked = RwSignal::new(Checked::Empty);
    let outcome = RwSignal::new(None::<Result<String, api::ApiError>>);
    let load = move || {
        let id = id();
        spawn_local(async move {
            match api::get::<WorkflowSummary>(&format!("/api/workflows/{id}")).await {
                Ok(s) => {
                    let latest = s.versions.last().map_or(1, |v| v.version);
                    let path = format!("/api/workflows/{id}/versions/{latest}");
                    match api::get::<Value>(&path).await {
                        Ok(def) => {
                            let pretty = serde_json::to_string_pretty(&def).unwrap_or_default();
                            checked.set(check(&pretty));
                            source.set(pretty);
                        }
                        Err(e) => outcome.set(Some(Err(e))),
                    }
                    summary.set(Some(s));
                }
                Err(e) => outcome.set(Some(Err(e))),
            }
        });
    };
    Effect::new(move |_| load());
    let save = move |_| {
        let id = id();
        let body = source.with(|s| serde_json::from_str::<Value>(s));
        spawn_local(async move {
            let Ok(body) = body else {
                outcome.set(Some(Err(api::ApiError {
                    message: "the definition is not valid JSON".into(),
                    ..api::ApiError::default()
                })));
                return;
            };
            let saved =
                api::send::<Saved, _>(Method::PUT, &format!("/api/workflows/{id}/draft"), &body)
                    .await;
            outcome
                .set(Some(saved.map(|s| format!("Saved as draft v{} ({}).", s.version, s.status))));
            load();
        });
    };
    let publish =
        move |_| {
            let id = id();
            let Some(draft) = summary.with(|s| s.as_ref().and_then(|s| s.draft_version)) else {
                return;
            };
            spawn_local(async move {
                let path = format!("/api/workflows/{id}/versions/{draft}/publish");
                let published = api::send::<Saved, _>(Method::POST, &path, &json!({})).await;
                outcome.set(Some(published.map(|s| {
                    format!("Version {} is published: new orders start on it.", s.version)
                })));
                load();
            });
        };
    let problems_view = move || match checked.get() {
        Checked::Empty => view! { <p>"Loading…"</p> }.into_any(),
        Checked::Unreadable(e) => {
            view! { <p class="error" role="alert">"Not a workflow definition: " {e}</p> }.into_any()
        }
        Checked::Parsed { problems, ms, .. } => {
            let errors = problems.iter().filter(|p| p.is_error()).count();
            let warnings = problems.len().saturating_sub(errors);
            view! {
                <p id="lint-summary" class={if errors > 0 { "error" } else { "ok" }}>
                    {format!("{errors} errors, {warnings} warnings")}
                    <span class="muted">{format!(" · checked in the browser in {ms:.2} ms")}</span>
                </p>
                <ul id="lint" class="problems">{problems.into_iter().map(|p| view! {
                    <li class={if p.is_error() { "error" } else { "warning" }}>
                        <code>{p.path.clone()}</code> " " {p.message()}
                    </li>
                }).collect_view()}</ul>
            }
            .into_any()
        }
    };
    let tables = move || {
        match checked.get() {
        Checked::Parsed { def, .. } => view! {
            <h2>"States"</h2>
            <table class="states">
                <thead><tr><th scope="col">"State"</th><th scope="col">"Label"</th><th scope="col">"Kind"</th></tr></thead>
                <tbody>{def.states.iter().map(|s| view! {
                    <tr><td><code>{s.id.to_string()}</code></td><td>{s.label.to_string()}</td>
                        <td>{if s.start { "start" } else if s.terminal { "terminal" } else { "" }}</td></tr>
                }).collect_view()}</tbody>
            </table>
            <h2>"Transitions"</h2>
            <table class="transitions">
                <thead><tr><th scope="col">"Transition"</th><th scope="col">"From"</th><th scope="col">"To"</th><th scope="col">"Trigger"</th><th scope="col">"Roles"</th><th scope="col">"Guard"</th></tr></thead>
                <tbody>{def.transitions.iter().map(|t| view! {
                    <tr><td>{t.label.to_string()} " (" <code>{t.id.to_string()}</code> ")"</td>
                        <td>{t.from.to_string()}</td><td>{t.to.to_string()}</td>
                        <td>{trigger_text(&t.trigger)}</td>
                        <td>{t.roles.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")}</td>
                        <td><code>{t.guard.as_ref().map(text::print).unwrap_or_default()}</code></td></tr>
                }).collect_view()}</tbody>
            </table>
        }
        .into_any(),
        _ => ().into_any(),
    }
    };
    view! {
        <h1>{move || summary.with(|s| s.as_ref().map_or_else(String::new, |s| format!("Workflow {}", s.name)))}</h1>
        <p>{move || summary.with(|s| s.as_ref().map_or_else(String::new, |s| format!(
            "{} · versions: {}", s.entity,
            s.versions.iter().map(|v| format!("v{} {} ({} running)", v.version, v.status, v.instances)).collect::<Vec<_>>().join(", "))))}</p>
        {move || outcome.get().map(|o| match o {
            Ok(text) => view! { <p class="ok" role="status">{text}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
        })}
        <div class="workflow-editor">
            <section>
                <label for="definition">"Definition (JSON)"</label>
                <textarea id="definition" rows="28" spellcheck="false"
                    prop:value=move || source.get()
                    on:input=move |ev| {
                        let value = event_target_value(&ev);
                        checked.set(check(&value));
                        source.set(value);
                    }></textarea>
                <p>
                    <button type="button" on:click=save>"Save draft"</button>
                    " "
                    <button type="button" on:click=publish
                        disabled=move || summary.with(|s| s.as_ref().is_none_or(|s| s.draft_version.is_none()))
                            || checked.with(|c| !matches!(c, Checked::Parsed { problems, .. } if !problems.iter().any(Diagnostic::is_error)))>
                        "Publish the draft"
                    </button>
                </p>
            </section>
            <section aria-label="Problems">{problems_view}</section>
        </div>
        {tables}
    }
}
