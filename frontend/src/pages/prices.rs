//! The seller's prices: the catalog, price lists, tax rules and rounding that checkout prices
//! with, one version after another. The seller's staff read them; seller admins publish a new
//! version, edited as JSON and checked by `rules` in the browser as they type, with the same
//! checks the server makes before it stores a version.

use crate::{
    Session,
    api::{self, Diagnostic},
    pages::{page_heading, refusal, severity},
};
use gloo_net::http::Method;
use leptos::{prelude::*, task::spawn_local};
use rules::pricing::{Audience, PricingData, TaxKind};
use serde::Deserialize;

/// `GET /api/catalog/document`.
#[derive(Debug, Deserialize)]
struct Document {
    version: i64,
    document: PricingData,
}

/// `PUT /api/catalog/document`'s answer.
#[derive(Debug, Deserialize)]
struct Published {
    version: i64,
}

/// The problems of `text` as pricing data: not JSON or not its shape (with the line and
/// column), then every problem of the engine's own checks.
fn problems(text: &str) -> Vec<Diagnostic> {
    let data: PricingData = match serde_json::from_str(text) {
        Ok(data) => data,
        Err(e) => {
            let path = format!("line {}, column {}", e.line(), e.column());
            return vec![Diagnostic { error: true, path, message: e.to_string() }];
        }
    };
    rules::pricing::validate(&data)
        .into_iter()
        .map(|d| Diagnostic { error: d.is_error(), path: d.path.clone(), message: d.message() })
        .collect()
}

/// Who a price list is for, in words.
fn audience(a: &Audience) -> String {
    match a {
        Audience::Default => "everyone".to_owned(),
        Audience::Group(g) => format!("the group {}", g.as_str()),
        Audience::Customer(c) => format!("the customer {}", c.as_str()),
    }
}

/// A snake_case setting as words: `half_up` is "half up".
fn words<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default()
}

/// The published version, read: what it holds, list by list and rule by rule.
fn summary(data: &PricingData) -> impl IntoView + use<> {
    let mut categories: Vec<&str> = data.catalog.iter().map(|p| p.category.as_str()).collect();
    categories.sort_unstable();
    categories.dedup();
    let products = format!(
        "{} products in {} categories ({}); rounding {}, {}.",
        data.catalog.len(),
        categories.len(),
        categories.join(", "),
        words(&data.rounding.mode),
        words(&data.rounding.rounding),
    );
    let lists = data
        .price_lists
        .iter()
        .map(|l| {
            let valid = match (&l.valid_from, &l.valid_until) {
                (None, None) => "always".to_owned(),
                (Some(from), None) => format!("from {from}"),
                (None, Some(until)) => format!("until {until}"),
                (Some(from), Some(until)) => format!("{from} to {until}"),
            };
            let tiers: usize = l.prices.iter().map(|p| p.tiers.len()).sum();
            view! {
                <tr>
                    <td>{l.name.to_string()} " " <code>{l.id.as_str().to_owned()}</code></td>
                    <td>{audience(&l.audience)}</td>
                    <td>{l.currency.to_string()} {if l.prices_include_tax { ", VAT included" } else { "" }}</td>
                    <td>{valid}</td>
                    <td class="money">{format!("{} products, {tiers} tiers", l.prices.len())}</td>
                </tr>
            }
        })
        .collect_view();
    let taxes = data
        .tax_rules
        .iter()
        .map(|t| {
            let kind = match t.kind {
                TaxKind::SalesTax => "sales tax, added on top",
                TaxKind::Vat => "VAT",
            };
            let region = t.region.as_ref().map(|r| format!(", {}", r.as_str())).unwrap_or_default();
            view! {
                <tr>
                    <td>{t.name.to_string()} " " <code>{t.id.as_str().to_owned()}</code></td>
                    <td>{kind}</td>
                    <td>{format!("{}{region}", t.country)}</td>
                    <td>{t.tax_class.as_str().to_owned()}</td>
                    <td class="money">{format!("{} %", t.percent)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p id="pricing-summary">{products}</p>
        <h2>"Price lists"</h2>
        <p class="muted">"A customer's own lists come first, then its group's, then those for everyone; a list applies only within its dates."</p>
        <table id="price-lists">
            <thead><tr><th scope="col">"List"</th><th scope="col">"For"</th><th scope="col">"Currency"</th><th scope="col">"Valid"</th><th scope="col" class="money">"Prices"</th></tr></thead>
            <tbody>{lists}</tbody>
        </table>
        <h2>"Tax rules"</h2>
        <table id="tax-rules">
            <thead><tr><th scope="col">"Rule"</th><th scope="col">"Kind"</th><th scope="col">"Where"</th><th scope="col">"Tax class"</th><th scope="col" class="money">"Rate"</th></tr></thead>
            <tbody>{taxes}</tbody>
        </table>
    }
}

#[component]
pub fn PricesPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let admin = session.me.with_untracked(|m| m.as_ref().is_some_and(|m| m.has("seller_admin")));
    let current = RwSignal::new(None::<Result<(i64, PricingData), String>>);
    // The text edited, and the published version's own text to compare it with.
    let text = RwSignal::new(String::new());
    let published_text = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<String, api::ApiError>>);
    let busy = RwSignal::new(false);
    let load = move || {
        spawn_local(async move {
            let loaded = api::get::<Document>("/api/catalog/document").await;
            current.set(Some(loaded.map_err(|e| e.message).map(|d| {
                // Written from the engine's own types, so fields come in their order (a
                // product's `sku` first), as the server's examples write them.
                let pretty = serde_json::to_string_pretty(&d.document).unwrap_or_default();
                text.set(pretty.clone());
                published_text.set(pretty);
                (d.version, d.document)
            })));
        });
    };
    load();
    let checked = Memo::new(move |_| text.with(|t| problems(t)));
    let blocked = move || {
        busy.get()
            || checked.with(|p| p.iter().any(|p| p.error))
            || text.with(|t| published_text.with(|p| t == p))
    };
    let publish = move |_| {
        let Ok(body) = text.with_untracked(|t| serde_json::from_str::<serde_json::Value>(t)) else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            let sent = api::send::<Published, _>(Method::PUT, "/api/catalog/document", &body).await;
            busy.set(false);
            match sent {
                Ok(p) => {
                    outcome.set(Some(Ok(format!(
                        "Version {} is published: checkout prices with it from now on, and a buyer whose cart was priced on an older version is shown the new prices before placing the order.",
                        p.version
                    ))));
                    load();
                }
                Err(e) => outcome.set(Some(Err(e))),
            }
        });
    };
    let problem_list = move || {
        if text.with(|t| published_text.with(|p| t == p)) {
            return view! { <p class="muted" id="pricing-problems" role="status">"Unchanged: this is the published version."</p> }.into_any();
        }
        checked.with(|list| {
            if list.is_empty() {
                return view! { <p class="ok" id="pricing-problems" role="status">"No problems: this can be published."</p> }.into_any();
            }
            let items = list
                .iter()
                .map(|p| {
                    let class = if p.error { "error" } else { "warning" };
                    view! { <li class=class>{severity(p.error)} <code>{p.path.clone()}</code> ": " {p.message.clone()}</li> }
                })
                .collect_view();
            view! { <ul id="pricing-problems" class="problems" role="status">{items}</ul> }.into_any()
        })
    };
    let editor = move || {
        admin.then(|| view! {
            <h2>"Publish a new version"</h2>
            <p class="muted">"The whole pricing data as JSON: "<code>"catalog"</code>" (products), "<code>"price_lists"</code>" (with volume tiers), "<code>"tax_rules"</code>" and "<code>"rounding"</code>". It is checked as you type, as the server will check it; orders already placed keep the version they were priced with."</p>
            <label for="pricing-json">"The pricing data (JSON)"</label>
            <textarea id="pricing-json" class="json" rows="24" spellcheck="false" aria-describedby="pricing-problems"
                prop:value=move || text.get() on:input=move |ev| { outcome.set(None); text.set(event_target_value(&ev)) }></textarea>
            {problem_list}
            <div class="row">
                <button type="button" id="publish-pricing" disabled=blocked on:click=publish>"Publish"</button>
                <button type="button" id="discard-pricing" disabled=move || text.with(|t| published_text.with(|p| t == p))
                    on:click=move |_| { outcome.set(None); text.set(published_text.get_untracked()) }>"Discard changes"</button>
            </div>
            {move || outcome.get().map(|o| match o {
                Ok(said) => view! { <p class="ok" role="status" id="pricing-published">{said}</p> }.into_any(),
                Err(e) => refusal(&e, "pricing-refusal").into_any(),
            })}
        })
    };
    view! {
        <h1 tabindex="-1" node_ref=page_heading()>"Prices"</h1>
        {move || current.with(|c| match c {
            None => view! { <p class="loading">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e.clone()}</p> }.into_any(),
            Some(Ok((version, data))) => view! {
                <p id="pricing-version">"Version " {*version} ", what checkout prices with now."</p>
                {summary(data)}
            }.into_any(),
        })}
        {editor}
    }
}
