//! The user's API tokens, for integrations (an ERP exporting orders, a script): made here with
//! a name and a lifetime, the secret shown once, listed with when each was last used, revoked
//! at once. Any user may have them (a token acts as its maker), so the page is in the seller
//! tools' bundle only to keep it off the buyer's first load.

use crate::{
    api,
    model::when,
    pages::{FieldErrors, focus, page_heading},
};
use gloo_net::http::Method;
use leptos::{prelude::*, task::spawn_local};
use serde::Deserialize;
use serde_json::json;

#[derive(Clone, Debug, Deserialize)]
struct Token {
    id: String,
    name: String,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Tokens {
    tokens: Vec<Token>,
}

/// A token just made: the only time its secret is seen.
#[derive(Clone, Debug, Deserialize)]
struct Created {
    id: String,
    name: String,
    token: String,
    expires_at: i64,
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let tokens = RwSignal::new(None::<Result<Vec<Token>, String>>);
    let load = move || {
        spawn_local(async move {
            tokens.set(Some(
                api::get::<Tokens>("/api/tokens").await.map(|t| t.tokens).map_err(|e| e.message),
            ));
        });
    };
    load();
    let name = RwSignal::new(String::new());
    let days = RwSignal::new("90".to_owned());
    let created = RwSignal::new(None::<Created>);
    let errors = FieldErrors::new(&["name", "expires_in_days"]);
    // What the last revocation did, said in a status line.
    let said = RwSignal::new(String::new());
    let make = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let days = match days.get_untracked().trim().parse::<i64>() {
            Ok(d) => d,
            Err(_) => {
                errors.set(api::ApiError {
                    message: "the lifetime is a whole number of days, 1 to 366".into(),
                    field: Some("expires_in_days".into()),
                    ..api::ApiError::default()
                });
                focus("#token-days");
                return;
            }
        };
        let body = json!({ "name": name.get_untracked(), "expires_in_days": days });
        spawn_local(async move {
            match api::send::<Created, _>(Method::POST, "/api/tokens", &body).await {
                Ok(c) => {
                    errors.clear();
                    name.set(String::new());
                    created.set(Some(c));
                    load();
                    focus("#token-secret");
                }
                Err(e) => {
                    let field = errors.set(e);
                    focus(if field == Some("expires_in_days") {
                        "#token-days"
                    } else {
                        "#token-name"
                    });
                }
            }
        });
    };
    let revoke = move |t: Token| {
        spawn_local(async move {
            match api::delete(&format!("/api/tokens/{}", t.id)).await {
                Ok(()) => {
                    // Its secret, if still on the page, is of no use any more.
                    if created.with_untracked(|c| c.as_ref().is_some_and(|c| c.id == t.id)) {
                        created.set(None);
                    }
                    said.set(format!("The token “{}” is revoked.", t.name));
                }
                Err(e) => {
                    said.set(format!("The token “{}” could not be revoked: {}", t.name, e.message))
                }
            }
            load();
            focus("main h1");
        });
    };
    view! {
        <h1 tabindex="-1" node_ref=page_heading()>"API tokens"</h1>
        <p>"A token lets an integration (an ERP, a script) use the API as you, with "
           <code>"Authorization: Bearer …"</code>". Revoke it when it is no longer needed."</p>
        <form class="token" on:submit=make>
            <label for="token-name">"Name"</label>
            <input id="token-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))
                aria-describedby="token-name-error" aria-invalid=errors.invalid("name")/>
            <span class="error" id="token-name-error">{errors.of("name")}</span>
            <label for="token-days">"Lasts (days, 1 to 366)"</label>
            <input id="token-days" inputmode="numeric" prop:value=move || days.get() on:input=move |ev| days.set(event_target_value(&ev))
                aria-describedby="token-days-error" aria-invalid=errors.invalid("expires_in_days")/>
            <span class="error" id="token-days-error">{errors.of("expires_in_days")}</span>
            <button type="submit">"Make a token"</button>
            <p class="error" role="alert">{errors.other()}</p>
        </form>
        {move || created.get().map(|c| view! {
            <section class="created" aria-labelledby="token-secret-label">
                <p id="token-secret-label">"The token “" {c.name} "”, until " {when(c.expires_at)}
                   ". Copy it now: it is not shown again."</p>
                <input id="token-secret" readonly aria-labelledby="token-secret-label" prop:value=c.token/>
            </section>
        })}
        <p class="ok" role="status">{move || said.get()}</p>
        {move || match tokens.get() {
            None => view! { <p>"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! { <p>"You have no API tokens."</p> }.into_any(),
            Some(Ok(list)) => view! {
                <table class="tokens">
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Made"</th><th scope="col">"Last used"</th><th scope="col">"Ends"</th><th scope="col"><span class="visually-hidden">"Revoke"</span></th></tr></thead>
                    <tbody>{list.into_iter().map(|t| {
                        let label = format!("Revoke {}", t.name);
                        let row = t.clone();
                        view! {
                            <tr data-token=t.id.clone()>
                                <td>{t.name.clone()}</td>
                                <td>{when(t.created_at)}</td>
                                <td>{t.last_used_at.map_or_else(|| "never".to_owned(), when)}</td>
                                <td>{t.expires_at.map_or_else(|| "when revoked".to_owned(), when)}</td>
                                <td><button type="button" class="revoke" aria-label=label on:click=move |_| revoke(row.clone())>"Revoke"</button></td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            }.into_any(),
        }}
    }
}
