//! The approver's queue: pending orders with why they need this approver; approve or reject
//! with a comment.

use crate::{
    Session, api,
    model::{Pending, Queue, when},
    pages::{MoreButton, Paged, focus, page_heading},
    refresh_unread,
};
use gloo_net::http::Method;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use serde_json::{Value, json};

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let queue = Paged::<Pending>::new();
    let load = move |after: Option<String>| {
        spawn_local(async move {
            let path = match &after {
                Some(cursor) => format!("/api/approvals?after={cursor}"),
                None => "/api/approvals".to_owned(),
            };
            let page = api::get::<Queue>(&path).await;
            queue.take(after.is_some(), page.map(|q| (q.pending, q.next)).map_err(|e| e.message));
        });
    };
    load(None);
    // What the last decision did, said once it is made; the queue then reloads.
    let said = RwSignal::new(String::new());
    let decided = Callback::new(move |what: String| {
        said.set(what);
        load(None);
    });
    // Keyed rows: a reload keeps the rows that stay, with their comments and the focus.
    let rows = move || {
        queue.items.with(|i| match i {
            Some(Ok(p)) => p.clone(),
            _ => Vec::new(),
        })
    };
    view! {
        <h1 tabindex="-1" node_ref=page_heading()>"Approvals"</h1>
        <p class="ok" role="status">{move || said.get()}</p>
        {move || queue.items.with(|i| match i {
            None => Some(view! { <p>"Loading…"</p> }.into_any()),
            Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.clone()}</p> }.into_any()),
            Some(Ok(p)) if p.is_empty() => Some(view! { <p>"Nothing waits for your approval."</p> }.into_any()),
            Some(Ok(_)) => None,
        })}
        <ul class="queue">
            <For each=rows key=|p| (p.step_id.clone(), p.revision) let:item>
                <PendingItem item decided/>
            </For>
        </ul>
        <MoreButton list=queue label="More" on_more=Callback::new(move |cursor| load(Some(cursor)))/>
    }
}

#[component]
fn PendingItem(item: Pending, decided: Callback<String>) -> impl IntoView {
    let session = expect_context::<Session>();
    let comment = RwSignal::new(String::new());
    let error = RwSignal::new(None::<api::ApiError>);
    let busy = RwSignal::new(false);
    let comment_id = format!("comment-{}", item.step_id);
    let error_id = format!("decision-error-{}", item.step_id);
    let decide = {
        let (order, step, revision) = (item.order_id.clone(), item.step_id.clone(), item.revision);
        move |decision: &'static str| {
            let (order, step) = (order.clone(), step.clone());
            busy.set(true);
            spawn_local(async move {
                let body = json!({ "step_id": step, "decision": decision, "comment": comment.get_untracked(), "revision": revision });
                match api::send::<Value, _>(
                    Method::POST,
                    &format!("/api/orders/{order}/decisions"),
                    &body,
                )
                .await
                {
                    Ok(_) => {
                        error.set(None);
                        // This row goes: the focus moves on to the next, or to the heading.
                        if !focus(&format!("li[data-step='{step}'] + li h2")) {
                            focus("main h1");
                        }
                        refresh_unread(session);
                        let done = if decision == "approve" { "approved" } else { "rejected" };
                        decided.run(format!("Order {order} {done}."));
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        }
    };
    let approve = {
        let decide = decide.clone();
        move |_| decide("approve")
    };
    let reject = move |_| decide("reject");
    let href = format!("/orders/{}", item.number);
    let why = item.why.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view();
    let ordered = item
        .lines
        .iter()
        .map(|l| format!("{} × {}", l.quantity, l.name.as_deref().unwrap_or(&l.sku)))
        .collect::<Vec<_>>()
        .join(", ");
    let number = item.number;
    let (order_id, buyer, total, placed) = (
        item.order_id.clone(),
        item.buyer_name.clone(),
        item.total.to_string(),
        when(item.created_at),
    );
    view! {
        <li class="pending" data-order=order_id data-number=number data-step=item.step_id.clone()>
            <h2 tabindex="-1"><A href=href>"Order " {number}</A>" — " {buyer} ", " <strong>{total}</strong> ", " {placed}</h2>
            <p class="ordered">{ordered}</p>
            <ul class="why">{why}</ul>
            <label for=comment_id.clone()>"Comment (needed to reject)"</label>
            <textarea id=comment_id rows="2" prop:value=move || comment.get() on:input=move |ev| comment.set(event_target_value(&ev))
                aria-describedby=error_id.clone() aria-invalid=move || error.with(|e| e.as_ref().is_some_and(|e| e.field.as_deref() == Some("comment"))).to_string()></textarea>
            <p class="error" role="alert" id=error_id>{move || error.get().map(|e| e.message)}</p>
            <button type="button" class="approve" on:click=approve disabled=move || busy.get() aria-label=format!("Approve order {number}")>"Approve"</button>
            <button type="button" class="reject" on:click=reject disabled=move || busy.get() aria-label=format!("Reject order {number}")>"Reject"</button>
        </li>
    }
}
