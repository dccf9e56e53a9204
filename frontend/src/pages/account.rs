//! The person logged in changes their password. The server checks the current one, ends their
//! other sessions and keeps this one, so the page only says so.

use crate::{
    api,
    pages::{FieldErrors, focus, page_heading},
};
use gloo_net::http::Method;
use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use serde_json::json;

/// The fields of the form, by the name the server gives them in its errors, with their labels.
const FIELDS: [&str; 3] = ["current_password", "new_password", "repeated"];
const LABELS: [&str; 3] =
    ["Current password", "New password (at least 12 characters)", "The new password again"];

#[component]
pub fn AccountPage() -> impl IntoView {
    let values: [RwSignal<String>; 3] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let [current, new, repeated] = values;
    let errors = FieldErrors::new(&FIELDS);
    let done = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let refuse = move |e: api::ApiError| {
        focus(&format!("#{}", errors.set(e).unwrap_or("current_password")));
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        done.set(false);
        if new.with_untracked(|n| repeated.with_untracked(|r| n != r)) {
            refuse(api::ApiError {
                message: "this is not the new password typed above".into(),
                field: Some("repeated".into()),
                ..api::ApiError::default()
            });
            return;
        }
        let body = json!({
            "current_password": current.get_untracked(),
            "new_password": new.get_untracked(),
        });
        busy.set(true);
        spawn_local(async move {
            let sent =
                api::send::<serde_json::Value, _>(Method::PUT, "/api/session/password", &body)
                    .await;
            busy.set(false);
            match sent {
                Ok(_) => {
                    errors.clear();
                    for v in values {
                        v.set(String::new());
                    }
                    done.set(true);
                    focus("#password-changed");
                }
                Err(e) => refuse(e),
            }
        });
    };
    let fields = FIELDS
        .into_iter()
        .zip(LABELS)
        .zip(values)
        .map(|((id, label), value)| {
            let described = format!("{id}-error");
            let autocomplete = if id == "current_password" { "current-password" } else { "new-password" };
            view! {
                <label for=id>{label}</label>
                <input id=id type="password" autocomplete=autocomplete required
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))
                    aria-describedby=described.clone() aria-invalid=errors.invalid(id)/>
                <span class="error" id=described>{errors.of(id)}</span>
            }
        })
        .collect_view();
    view! {
        <h1 tabindex="-1" node_ref=page_heading()>"Your password"</h1>
        <p>"Changing it ends your sessions in other browsers; this one goes on."</p>
        <form class="password" on:submit=submit>
            {fields}
            <button type="submit" disabled=move || busy.get()>"Change the password"</button>
            <p class="error" role="alert">{errors.other()}</p>
        </form>
        <p class="ok" role="status" id="password-changed" tabindex="-1">
            {move || done.get().then_some("Your password is changed. Your other sessions have ended.")}
        </p>
    }
}
