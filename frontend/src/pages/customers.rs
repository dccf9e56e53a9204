//! The seller's customers: each company with its account manager, the sales rep who looks after
//! it (workflow notices "to the sales rep" about its orders go to them). Seller admins assign
//! them; sales reps see who manages what.

use crate::{
    Session, api,
    pages::{MoreButton, Paged, page_heading},
};
use gloo_net::http::Method;
use leptos::{prelude::*, task::spawn_local};
use rules::approval::Directory;
use serde::Deserialize;
use serde_json::json;

#[derive(Clone, Debug, Deserialize)]
struct Customer {
    id: String,
    name: String,
    country: String,
    currency: String,
    #[serde(default)]
    sales_rep: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Customers {
    companies: Vec<Customer>,
    next: Option<String>,
}

#[component]
pub fn CustomersPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let (admin, seller) = session.me.with_untracked(|m| {
        m.as_ref().map_or((false, String::new()), |m| (m.has("seller_admin"), m.company_id.clone()))
    });
    let customers = Paged::<Customer>::new();
    let search = RwSignal::new(String::new());
    // Whose accounts are listed: "" everyone's, "none" those without a manager, else a rep's id.
    let manager = RwSignal::new(String::new());
    let me =
        session.me.with_untracked(|m| m.as_ref().map(|m| m.user_id.clone()).unwrap_or_default());
    // The seller's sales reps: (user id, name).
    let reps = RwSignal::new(Vec::<(String, String)>::new());
    let message = RwSignal::new(None::<Result<String, String>>);
    spawn_local(async move {
        if let Ok(d) = api::get::<Directory>(&format!("/api/companies/{seller}/directory")).await {
            reps.set(
                d.users
                    .iter()
                    .filter(|u| u.roles.iter().any(|r| r.as_str() == "sales_rep"))
                    .map(|u| (u.id.to_string(), u.name.to_string()))
                    .collect(),
            );
        }
    });
    // The first page of the companies found, on every change of the search or of the manager
    // chosen; more on request.
    let load = move |q: String, whose: String, after: Option<String>| {
        spawn_local(async move {
            let mut path = format!("/api/companies?q={}", js_sys::encode_uri_component(&q));
            if !whose.is_empty() {
                path.push_str(&format!("&manager={}", js_sys::encode_uri_component(&whose)));
            }
            if let Some(cursor) = &after {
                path.push_str(&format!("&after={}", js_sys::encode_uri_component(cursor)));
            }
            let page = api::get::<Customers>(&path).await;
            // An answer to a search since changed is of no use.
            if search.get_untracked() == q && manager.get_untracked() == whose {
                let page = page.map(|p| (p.companies, p.next)).map_err(|e| e.message);
                customers.take(after.is_some(), page);
            }
        });
    };
    Effect::new(move |_| load(search.get(), manager.get(), None));
    let rep_name = move |id: &Option<String>| match id {
        None => "every sales rep".to_owned(),
        Some(id) => reps.with(|r| {
            r.iter().find(|(rid, _)| rid == id).map_or_else(|| id.clone(), |(_, n)| n.clone())
        }),
    };
    let assign = move |company: String, name: String, user: String| {
        spawn_local(async move {
            let user_id = (!user.is_empty()).then_some(user);
            let path = format!("/api/companies/{company}/sales-rep");
            match api::send::<Customer, _>(Method::PUT, &path, &json!({ "user_id": user_id })).await
            {
                Ok(saved) => {
                    message.set(Some(Ok(format!(
                        "{name}: the account manager is now {}.",
                        rep_name(&saved.sales_rep)
                    ))));
                    customers.items.update(|c| {
                        if let Some(Ok(list)) = c
                            && let Some(row) = list.iter_mut().find(|r| r.id == saved.id)
                        {
                            row.sales_rep = saved.sales_rep;
                        }
                    });
                }
                Err(e) => message.set(Some(Err(format!("{name}: {}", e.message)))),
            }
        });
    };
    // Seller admins choose; sales reps see the same select, read only.
    let manager_cell = move |c: &Customer| {
        let (id, name, current) = (c.id.clone(), c.name.clone(), c.sales_rep.clone());
        let label = format!("Account manager of {}", c.name);
        view! {
            <td>
                <select class="account-manager" aria-label=label disabled=!admin
                    on:change=move |ev| assign(id.clone(), name.clone(), event_target_value(&ev))>
                    <option value="" prop:selected=current.is_none()>"(every sales rep)"</option>
                    {reps.get().into_iter().map(|(rid, rname)| {
                        let selected = current.as_deref() == Some(rid.as_str());
                        view! { <option value=rid prop:selected=selected>{rname}</option> }
                    }).collect_view()}
                </select>
            </td>
        }
    };
    view! {
        <h1 tabindex="-1" node_ref=page_heading()>"Customers"</h1>
        <p class="muted">"Workflow notices to “the sales rep” about a customer's orders go to its account manager; without one, to every sales rep."</p>
        {move || message.get().map(|m| match m {
            Ok(t) => view! { <p class="ok" role="status">{t}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        })}
        <label for="customer-search">"Search customers"</label>
        <input id="customer-search" type="search" placeholder="name or id"
            prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev))/>
        <label for="customer-manager">"Accounts managed by"</label>
        <select id="customer-manager" on:change=move |ev| manager.set(event_target_value(&ev))>
            <option value="" prop:selected=move || manager.get().is_empty()>"Anyone or no one"</option>
            <option value="none" prop:selected=move || manager.get() == "none">"No one (every sales rep)"</option>
            {move || reps.get().into_iter().map(|(rid, rname)| {
                let label = if rid == me { format!("{rname} (you)") } else { rname };
                let chosen = rid.clone();
                view! { <option value=rid prop:selected=move || manager.get() == chosen>{label}</option> }
            }).collect_view()}
        </select>
        {move || match customers.items.get() {
            None => view! { <p class="loading">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! { <p>"No customer matches."</p> }.into_any(),
            Some(Ok(list)) => view! {
                <table id="customers">
                    <thead><tr><th scope="col">"Company"</th><th scope="col">"Country"</th><th scope="col">"Currency"</th><th scope="col">"Account manager"</th></tr></thead>
                    <tbody>{list.iter().map(|c| view! {
                        <tr><td>{c.name.clone()}</td><td>{c.country.clone()}</td><td>{c.currency.clone()}</td>{manager_cell(c)}</tr>
                    }).collect_view()}</tbody>
                </table>
            }.into_any(),
        }}
        <MoreButton list=customers label="More customers" on_more=Callback::new(move |cursor| load(search.get_untracked(), manager.get_untracked(), Some(cursor)))/>
    }
}
