//! The buyer's catalog, searched by words and filtered by category.

use crate::{
    CartState, api,
    model::{Catalog, Product},
    pages::page_heading,
};
use leptos::{prelude::*, task::spawn_local};
use rust_decimal::Decimal;

#[component]
pub fn CatalogPage() -> impl IntoView {
    let cart = expect_context::<CartState>();
    let query = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let categories = RwSignal::new(Vec::<String>::new());
    // `None` until the first answer.
    let products = RwSignal::new(None::<Vec<Product>>);
    let error = RwSignal::new(None::<String>);
    // Each keystroke asks again; only the answer to the latest question is shown, whatever
    // order the answers come back in.
    let asked = StoredValue::new(0u64);
    Effect::new(move |_| {
        let (q, c) = (query.get(), category.get());
        let this = asked.get_value().wrapping_add(1);
        asked.set_value(this);
        spawn_local(async move {
            let path = format!(
                "/api/catalog?q={}&category={}",
                js_sys::encode_uri_component(&q),
                js_sys::encode_uri_component(&c)
            );
            let answer = api::get::<Catalog>(&path).await;
            if asked.get_value() != this {
                return;
            }
            match answer {
                Ok(c) => {
                    products.set(Some(c.products));
                    categories.set(c.categories);
                    error.set(None);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    });
    view! {
        <h1 tabindex="-1" node_ref=page_heading()>"Catalog"</h1>
        <label for="search">"Search products"</label>
        <input id="search" type="search" placeholder="drill, gloves, SKU…"
            prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev))/>
        " "
        <label for="category">"Category"</label>
        <select id="category" on:change=move |ev| category.set(event_target_value(&ev))>
            <option value="">"All categories"</option>
            {move || categories.get().into_iter().map(|c| {
                let selected = category.with_untracked(|now| *now == c);
                view! { <option value=c.clone() prop:selected=selected>{c.clone()}</option> }
            }).collect_view()}
        </select>
        <p class="error" role="alert">{move || error.get()}</p>
        <p role="status" id="catalog-empty">{move || products.with(|p| matches!(p, Some(p) if p.is_empty())).then_some("No products match. Try other words or all categories.")}</p>
        <table class="catalog">
            <thead><tr><th scope="col">"Product"</th><th scope="col" class="wide">"SKU"</th><th scope="col" class="wide">"Category"</th><th scope="col" class="money">"Your price"</th><th scope="col">"Add to cart"</th></tr></thead>
            <tbody>
                <For each=move || products.get().unwrap_or_default() key=|p| p.sku.clone() let:product>
                    <ProductRow product cart/>
                </For>
            </tbody>
        </table>
    }
}

#[component]
fn ProductRow(product: Product, cart: CartState) -> impl IntoView {
    let quantity = RwSignal::new(1u32);
    let id = format!("qty-{}", product.sku);
    let sku = product.sku.clone();
    let added = RwSignal::new(false);
    view! {
        <tr>
            // On a phone the SKU goes under the name, in place of its own column.
            <td>{product.name.clone()}<code class="narrow">{product.sku.clone()}</code></td>
            <td class="wide"><code>{product.sku.clone()}</code></td>
            <td class="wide">{product.category.clone()}</td>
            <td class="money">{
                let tiers = product.tiers.clone();
                // The tier the quantity typed in this row falls in, as checkout will price it.
                let applied = Memo::new(move |_| {
                    let q = quantity.get();
                    tiers.iter().rposition(|t| t.min_quantity <= q)
                });
                match product.tiers.first() {
                    None => view! { <span class="muted">"no price for you"</span> }.into_any(),
                    Some(first) => {
                        let first = first.min_quantity;
                        let tiers = product.tiers.clone();
                        view! {
                            <span id=format!("price-{}", product.sku)>{
                                let tiers = tiers.clone();
                                move || match applied.get().and_then(|i| tiers.get(i)) {
                                    Some(t) => format!("{} each", t.unit_price),
                                    None => format!("from {first} only"),
                                }
                            }</span>
                            // What the typed quantity comes to, before tax and discount.
                            <span class="line-total" id=format!("line-total-{}", product.sku)>{
                                let tiers = tiers.clone();
                                move || {
                                    let q = quantity.get();
                                    let unit = applied.get().and_then(|i| tiers.get(i))?.unit_price;
                                    let total = unit.checked_mul(Decimal::from(q)).ok()?;
                                    (q > 1).then(|| format!("{total} for {q}"))
                                }
                            }</span>
                            {(tiers.len() > 1 || first > 1).then(|| view! {
                                <ul class="tiers" aria-label="Volume prices">
                                    {tiers.iter().enumerate().map(|(i, t)| view! {
                                        <li class:applied=move || applied.get() == Some(i)>{format!("{} or more: {}", t.min_quantity, t.unit_price)}</li>
                                    }).collect_view()}
                                </ul>
                            })}
                        }.into_any()
                    }
                }
            }</td>
            <td>
                <label class="visually-hidden" for=id.clone()>{format!("Quantity of {}", product.name)}</label>
                <input id=id type="number" min="1" class="qty" prop:value=move || quantity.get().to_string()
                    on:input=move |ev| quantity.set(event_target_value(&ev).parse().unwrap_or(1).max(1))/>
                <button type="button" aria-label=format!("Add {} to the cart", product.name) on:click=move |_| { cart.add(&sku, quantity.get_untracked()); added.set(true); }>"Add"</button>
                // Always in place, so that the change of its text is announced.
                <span class="added" role="status">{move || added.get().then_some(" added")}</span>
            </td>
        </tr>
    }
}
