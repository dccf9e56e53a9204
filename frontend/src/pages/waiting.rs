//! Waiting approvals, for a company's admins: every step of the company's orders not yet
//! decided, who may decide it and since when, and the form that hands one to someone else
//! (the approver is away, or has left). The server checks the choice as routing would: never
//! the buyer, someone whose unit covers the order's.

use crate::{
    Session, api,
    model::when,
    pages::{FieldErrors, focus, page_heading},
};
use gloo_net::http::Method;
use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use rules::{approval::Directory, money::Money};
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, PartialEq)]
struct Candidate {
    id: String,
    name: Option<String>,
}

/// A step not yet decided, as `GET /api/companies/{id}/approvals` lists it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
struct WaitingStep {
    step_id: String,
    order_id: String,
    number: i64,
    revision: i64,
    buyer_name: String,
    business_unit_name: Option<String>,
    total: Money,
    index: i64,
    status: String,
    candidates: Vec<Candidate>,
    pending_since: Option<i64>,
}

impl WaitingStep {
    fn who(&self) -> String {
        let names = self.candidates.iter().map(|c| c.name.as_deref().unwrap_or(&c.id));
        names.collect::<Vec<_>>().join(", ")
    }

    fn label(&self) -> String {
        format!("step {} of order {}", self.index + 1, self.number)
    }
}

#[derive(Debug, Deserialize)]
struct Waiting {
    waiting: Vec<WaitingStep>,
    next: Option<String>,
}

#[component]
pub fn WaitingApprovalsPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let company =
        session.me.with_untracked(|m| m.as_ref().map(|m| m.company_id.clone()).unwrap_or_default());
    let list = RwSignal::new(None::<Result<Waiting, String>>);
    let load = {
        let path = format!("/api/companies/{company}/approvals?limit=200");
        move || {
            let path = path.clone();
            spawn_local(async move {
                list.set(Some(api::get::<Waiting>(&path).await.map_err(|e| e.message)));
            });
        }
    };
    load();
    // The company's people, by name, to hand a step to.
    let people = RwSignal::new(Vec::<(String, String)>::new());
    spawn_local(async move {
        let path = format!("/api/companies/{company}/directory");
        if let Ok(d) = api::get::<Directory>(&path).await {
            let mut all: Vec<(String, String)> =
                d.users.iter().map(|u| (u.id.to_string(), u.name.to_string())).collect();
            all.sort_by(|a, b| a.1.cmp(&b.1));
            people.set(all);
        }
    });

    // The step being handed over, and the form's fields.
    let chosen = RwSignal::new(None::<WaitingStep>);
    let to = RwSignal::new(String::new());
    let comment = RwSignal::new(String::new());
    let errors = FieldErrors::new(&["to", "comment"]);
    let said = RwSignal::new(None::<String>);
    let choose = move |step: Option<WaitingStep>| {
        errors.clear();
        to.set(String::new());
        comment.set(String::new());
        chosen.set(step);
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(step) = chosen.get_untracked() else { return };
        let load = load.clone();
        let body = serde_json::json!({
            "step_id": step.step_id,
            "to": [to.get_untracked()],
            "comment": comment.get_untracked(),
            "revision": step.revision,
        });
        let path = format!("/api/orders/{}/handovers", step.order_id);
        spawn_local(async move {
            match api::send::<serde_json::Value, _>(Method::POST, &path, &body).await {
                Ok(_) => {
                    let name = people.with_untracked(|p| {
                        p.iter().find(|(id, _)| *id == to.get_untracked()).map(|p| p.1.clone())
                    });
                    said.set(Some(format!(
                        "{} is handed to {}, who is told now.",
                        capitalised(&step.label()),
                        name.unwrap_or_default()
                    )));
                    choose(None);
                    load();
                    focus("#waiting-said");
                }
                Err(e) => {
                    let field = errors.set(e);
                    focus(if field == Some("comment") {
                        "#handover-comment"
                    } else {
                        "#handover-to"
                    });
                }
            }
        });
    };

    let rows = move || {
        list.with(|l| match l {
            None => view! { <p>"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e.clone()}</p> }.into_any(),
            Some(Ok(w)) if w.waiting.is_empty() => {
                view! { <p id="nothing-waits">"No approval is waiting."</p> }.into_any()
            }
            Some(Ok(w)) => view! {
                <table class="waiting">
                    <thead><tr>
                        <th scope="col">"Order"</th><th scope="col">"Placed by"</th><th scope="col" class="money">"Total"</th>
                        <th scope="col">"Step"</th><th scope="col">"Who may decide"</th><th scope="col">"Waiting since"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr></thead>
                    <tbody>{w.waiting.iter().map(|s| {
                        let picked = s.clone();
                        let placed = match &s.business_unit_name {
                            Some(unit) => format!("{} ({unit})", s.buyer_name),
                            None => s.buyer_name.clone(),
                        };
                        let since = match (s.status.as_str(), s.pending_since) {
                            ("pending", Some(at)) => when(at),
                            _ => "after the steps before it".to_owned(),
                        };
                        view! {
                            <tr data-step=s.step_id.clone()>
                                <td><a href=format!("/orders/{}", s.number) rel="external">{s.number}</a></td>
                                <td>{placed}</td>
                                <td class="money">{s.total.to_string()}</td>
                                <td>{s.index + 1}</td>
                                <td>{s.who()}</td>
                                <td>{since}</td>
                                <td><button type="button" class="hand-over" aria-label=format!("Hand over {}", s.label())
                                    on:click=move |_| {
                                        choose(Some(picked.clone()));
                                        // Once the form is on the page.
                                        request_animation_frame(|| { focus("#handover-to"); });
                                    }>"Hand over"</button></td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
                {w.next.is_some().then(|| view! { <p class="muted">"The 200 oldest are shown: decide or hand over these first."</p> })}
            }
            .into_any(),
        })
    };
    let form = move || {
        chosen.get().map(|step| {
            let submit = submit.clone();
            let heading = format!("Hand {} to someone else", step.label());
            let from = format!("It waits for {} now.", step.who());
            view! {
                <form class="handover" on:submit=submit aria-labelledby="handover-heading">
                    <h2 id="handover-heading">{heading}</h2>
                    <p>{from} " Whoever you choose decides it instead, and is told at once; nobody approves their own order, and an approver decides only for their unit and the units under it."</p>
                    <label for="handover-to">"Hand it to"</label>
                    <select id="handover-to" prop:value=move || to.get() on:change=move |ev| to.set(event_target_value(&ev))
                        aria-describedby="handover-to-error" aria-invalid=errors.invalid("to")>
                        <option value="">"Choose someone"</option>
                        {move || people.get().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                    </select>
                    <span class="error" id="handover-to-error">{errors.of("to")}</span>
                    <label for="handover-comment">"Why (kept in the order's history)"</label>
                    <input id="handover-comment" prop:value=move || comment.get() on:input=move |ev| comment.set(event_target_value(&ev))
                        aria-describedby="handover-comment-error" aria-invalid=errors.invalid("comment")/>
                    <span class="error" id="handover-comment-error">{errors.of("comment")}</span>
                    <div class="row">
                        <button type="submit" id="hand-over">"Hand over"</button>
                        <button type="button" on:click=move |_| choose(None)>"Cancel"</button>
                    </div>
                    <p class="error" role="alert">{errors.other()}</p>
                </form>
            }
        })
    };
    view! {
        <h1 tabindex="-1" node_ref=page_heading()>"Waiting approvals"</h1>
        <p>"Every approval your company's orders are waiting for, oldest order first. When an approver is away or has left, hand their step to someone else."</p>
        <div role="status" id="waiting-said" tabindex="-1">{move || said.get().map(|s| view! { <p class="ok">{s}</p> })}</div>
        {rows}
        {form}
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
