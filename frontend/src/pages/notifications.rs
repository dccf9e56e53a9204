//! Notifications, newest first.

use crate::{
    Session, api,
    model::{Notification, Notifications, when},
    pages::page_heading,
    refresh_unread,
};
use gloo_net::http::Method;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use serde_json::{Value, json};

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let items = RwSignal::new(None::<Result<Vec<Notification>, String>>);
    let reload = move || {
        spawn_local(async move {
            items.set(Some(
                api::get::<Notifications>("/api/notifications")
                    .await
                    .map(|n| n.notifications)
                    .map_err(|e| e.message),
            ));
            refresh_unread(session);
        });
    };
    reload();
    let read_all_error = RwSignal::new(None::<String>);
    let read_all = move |_| {
        spawn_local(async move {
            let done =
                api::send::<Value, _>(Method::POST, "/api/notifications/read-all", &json!({}))
                    .await;
            read_all_error.set(done.err().map(|e| e.message));
            reload();
        });
    };
    // One notification read: opened, or marked so.
    let read_one = move |id: String| {
        spawn_local(async move {
            let path = format!("/api/notifications/{id}/read");
            if api::send::<Value, _>(Method::POST, &path, &json!({})).await.is_ok() {
                // The page may be gone (the order was opened from it): then there is no list.
                items.try_update(|items| {
                    if let Some(Ok(list)) = items {
                        list.iter_mut().filter(|n| n.id == id).for_each(|n| n.read = true);
                    }
                });
                refresh_unread(session);
            }
        });
    };
    let any_unread =
        move || items.with(|i| matches!(i, Some(Ok(list)) if list.iter().any(|n| !n.read)));
    view! {
        <h1 tabindex="-1" node_ref=page_heading()>"Notifications"</h1>
        <button type="button" on:click=read_all disabled=move || !any_unread()>"Mark all as read"</button>
        <p class="error" role="alert">{move || read_all_error.get()}</p>
        {move || match items.get() {
            None => view! { <p>"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! { <p>"No notifications."</p> }.into_any(),
            Some(Ok(list)) => view! {
                <ul class="notifications">{list.into_iter().map(|n| {
                    let (open, mark) = (n.id.clone(), n.id.clone());
                    let unread = !n.read;
                    view! {
                        <li class=if n.read { "read" } else { "unread" }>
                            {unread.then_some(view! { <span class="badge">"Unread"</span> " " })}
                            <strong>{n.title.clone()}</strong> " · " {when(n.created_at)}
                            <p class="body">{n.body.clone()}</p>
                            {n.order_id.clone().map(|order| view! {
                                <A href=format!("/orders/{order}") on:click=move |_| if unread { read_one(open.clone()) }>"Open the order"</A> " "
                            })}
                            {unread.then(|| view! {
                                <button type="button" class="mark-read" on:click=move |_| read_one(mark.clone())
                                    aria-label=format!("Mark “{}” as read", n.title)>"Mark as read"</button>
                            })}
                        </li>
                    }
                }).collect_view()}</ul>
            }.into_any(),
        }}
    }
}
