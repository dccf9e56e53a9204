//! Versions of the workflow: each with its status and how many entities run on it; open one,
//! publish a draft, and compare two (states and transitions added, removed, changed).

use super::{Saved, WorkflowSummary, editor::Editor};
use crate::api;
use gloo_net::http::Method;
use leptos::{prelude::*, task::spawn_local};
use rules::workflow::WorkflowDefinition;
use serde_json::json;

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
    view! {
        <h2>"Versions"</h2>
        <p class="muted">"Entities stay on the version they started on; publishing changes only what new ones start on."</p>
        {move || message.get().map(|m| match m {
            Ok(t) => view! { <p class="ok" role="status">{t}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        })}
        <table class="versions">
            <thead><tr><th scope="col">"Version"</th><th scope="col">"Status"</th><th scope="col">"Running"</th><th scope="col"></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
