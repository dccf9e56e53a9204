//! Logging in.

use crate::{Session, api, model::Me};
use gloo_net::http::Method;
use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use serde_json::json;

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        spawn_local(async move {
            let body =
                json!({ "email": email.get_untracked(), "password": password.get_untracked() });
            match api::send::<Me, _>(Method::POST, "/api/session", &body).await {
                Ok(me) => {
                    api::set_csrf(me.csrf_token.clone());
                    error.set(None);
                    session.me.set(Some(me));
                }
                Err(e) => error.set(Some(e.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <main class="login">
            <h1>"Countersign"</h1>
            <form on:submit=submit>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required
                    prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev))/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                <p class="error" role="alert">{move || error.get()}</p>
                <button type="submit" disabled=move || busy.get()>"Log in"</button>
            </form>
        </main>
    }
}
