//! The cart, priced and routed live in the browser by the `rules` crate: every change of a
//! quantity updates the lines, tax, total and the approval route at once, with no request.
//! Placing the order sends what was shown; the server recomputes and compares.

use crate::{
    CartState, api,
    engine::{Engine, MAX_QUANTITY},
    model::CheckoutContext,
    pages::page_heading,
    unique_key,
};
use gloo_net::http::Method;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::{components::A, hooks::use_navigate};
use serde_json::{Value, json};
use std::{collections::HashMap, sync::Arc};

#[component]
pub fn CartPage() -> impl IntoView {
    let cart = expect_context::<CartState>();
    let engine = RwSignal::new(None::<Arc<Engine>>);
    let load_error = RwSignal::new(None::<String>);
    let payment = RwSignal::new(String::from("invoice"));
    let problem = RwSignal::new(None::<api::ApiError>);
    let busy = RwSignal::new(false);
    // One key per attempt to order these lines: a retry after a network failure reuses it.
    let key = RwSignal::new(unique_key());
    let navigate = use_navigate();

    let load = move || {
        let method = payment.get_untracked();
        spawn_local(async move {
            match api::get::<CheckoutContext>(&format!(
                "/api/checkout/context?payment_method={method}"
            ))
            .await
            {
                Ok(context) => match Engine::new(context) {
                    Ok(e) => {
                        engine.set(Some(Arc::new(e)));
                        load_error.set(None);
                    }
                    Err(e) => load_error.set(Some(e)),
                },
                Err(e) => load_error.set(Some(e.message)),
            }
        });
    };
    load();

    let verdict = Memo::new(move |_| {
        let lines = cart.lines.get();
        engine.with(|e| e.as_ref().map(|e| e.evaluate(&lines)))
    });
    // What each line's row shows (unit price, amount, why), by SKU, written once per verdict.
    // Each row reads its own through a memo of its own, so that a keystroke touches the rows
    // whose figures changed and no other: on a 200-line cart, every row looking its line up
    // in the verdict and copying it took most of the time from keystroke to preview. A map,
    // so that a row finds its own without comparing SKUs down a list.
    let shown = Memo::new(move |_| {
        verdict.with(|v| match v {
            Some(Ok(v)) => v
                .priced
                .lines
                .iter()
                .map(|l| {
                    let why = l.explanation.iter().skip(1).cloned().collect::<Vec<_>>().join("; ");
                    (l.sku.to_string(), [l.unit_price.to_string(), l.amount.to_string(), why])
                })
                .collect::<HashMap<_, _>>(),
            _ => HashMap::new(),
        })
    });

    // Quantities typed that are not one (the line keeps its last good quantity meanwhile).
    // Changed only when it changes: every row's error reads it, and a notification for nothing
    // re-ran all of them on each keystroke (on a 200-line cart, a third of the time to preview).
    let bad_input = RwSignal::new(Vec::<String>::new());
    let set_quantity = move |sku: String, text: String| match text.trim().parse::<u32>() {
        Ok(q) if (1..=MAX_QUANTITY).contains(&q) => {
            if bad_input.with_untracked(|bad| bad.contains(&sku)) {
                bad_input.update(|bad| bad.retain(|s| *s != sku));
            }
            cart.lines.update(|lines| {
                if let Some(line) = lines.iter_mut().find(|l| l.sku == sku) {
                    line.quantity = q;
                }
            });
            key.set(unique_key());
            cart.save();
        }
        _ => {
            if !bad_input.with_untracked(|bad| bad.contains(&sku)) {
                bad_input.update(|bad| bad.push(sku));
            }
        }
    };
    // The message for one line: its product no longer sold, else its typing, else the server's
    // answer naming it (`lines[i]...`), else the last save's.
    let line_error = move |sku: &str| -> Option<String> {
        if engine.with(|e| e.as_ref().is_some_and(|e| !e.sells(sku))) {
            return Some("No longer sold: remove it to place the order.".to_owned());
        }
        if bad_input.with(|bad| bad.iter().any(|s| s == sku)) {
            return Some("Enter a whole number from 1 to 1,000,000.".to_owned());
        }
        let on_this_line = |e: &api::ApiError| {
            let i: usize =
                e.field.as_deref()?.strip_prefix("lines[")?.split(']').next()?.parse().ok()?;
            cart.lines
                .with(|lines| lines.get(i).filter(|l| l.sku == sku).map(|_| e.message.clone()))
        };
        problem
            .with(|p| p.as_ref().and_then(on_this_line))
            .or_else(|| cart.save_error.with(|e| e.as_ref().and_then(on_this_line)))
    };
    let remove = move |sku: String| {
        cart.lines.update(|lines| lines.retain(|l| l.sku != sku));
        key.set(unique_key());
        cart.save();
    };

    let place = move |_| {
        let Some(Ok(v)) = verdict.get_untracked() else { return };
        let Some(e) = engine.get_untracked() else { return };
        let navigate = navigate.clone();
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            let lines = cart.lines.get_untracked();
            let saved = api::send::<Value, _>(Method::PUT, "/api/cart", &cart.stamped(lines)).await;
            if let Err(err) = saved {
                problem.set(Some(err));
                busy.set(false);
                return;
            }
            let claimed = json!({
                "pricing_version": e.context.pricing_version,
                "policy_version": e.context.policy_version,
                "total": v.priced.total,
                "lines": v.priced.lines.iter().map(|l| json!({ "sku": l.sku, "quantity": l.quantity, "unit_price": l.unit_price })).collect::<Vec<_>>(),
                "approvers": v.plan.steps.iter().map(|s| s.candidates.iter().map(ToString::to_string).collect::<Vec<_>>()).collect::<Vec<_>>(),
            });
            let body = json!({ "idempotency_key": key.get_untracked(), "payment_method": payment.get_untracked(), "claimed": claimed });
            match api::send::<Value, _>(Method::POST, "/api/orders", &body).await {
                Ok(order) => {
                    cart.lines.set(Vec::new());
                    key.set(unique_key());
                    if let Some(number) = order.get("number").and_then(Value::as_i64) {
                        navigate(&format!("/orders/{number}"), Default::default());
                    }
                }
                Err(err) => {
                    if err.code == "stale_or_forged" {
                        // Show the server's current data, then explain what changed.
                        load();
                        key.set(unique_key());
                    }
                    problem.set(Some(err));
                }
            }
            busy.set(false);
        });
    };

    let payment_changed = move |ev| {
        payment.set(event_target_value(&ev));
        load();
    };

    view! {
        <h1 tabindex="-1" node_ref=page_heading()>"Cart"</h1>
        <p class="error" role="alert">{move || load_error.get()}</p>
        <Show when=move || !cart.lines.with(Vec::is_empty) fallback=|| view! { <p>"The cart is empty. Add products from " <A href="/">"the catalog"</A>"."</p> }>
            <table class="cart">
                <thead><tr>
                    <th scope="col">"Product"</th><th scope="col">"Quantity"</th><th scope="col" class="money">"Unit price"</th>
                    <th scope="col" class="money">"Amount"</th><th scope="col">"Why this price"</th><th scope="col"><span class="visually-hidden">"Remove"</span></th>
                </tr></thead>
                <tbody>
                    <For each=move || cart.lines.get() key=|l| l.sku.clone() let:line>
                        {
                            let sku = line.sku.clone();
                            let sku_for_input = sku.clone();
                            let sku_for_remove = sku.clone();
                            let row = { let sku = sku.clone(); Memo::new(move |_| shown.with(|m| m.get(&sku).cloned())) };
                            let cell = move |i: usize| move || row.with(|r| r.as_ref().and_then(|r| r.get(i).cloned()));
                            let name = { let sku = sku.clone(); move || engine.with(|e| e.as_ref().map_or_else(|| sku.clone(), |e| e.name(&sku))) };
                            let name2 = name.clone();
                            let name3 = name.clone();
                            let input_id = format!("qty-{sku}");
                            let error_id = format!("qty-error-{sku}");
                            let error = { let sku = sku.clone(); move || line_error(&sku) };
                            let invalid = error.clone();
                            view! {
                                <tr data-sku=sku.clone()>
                                    <td>{name}</td>
                                    <td>
                                        <label class="visually-hidden" for=input_id.clone()>{move || format!("Quantity of {}", name2())}</label>
                                        <input id=input_id type="number" min="1" max=MAX_QUANTITY class="qty" value=line.quantity.to_string()
                                            aria-invalid=move || invalid().is_some().to_string() aria-describedby=error_id.clone()
                                            on:input=move |ev| set_quantity(sku_for_input.clone(), event_target_value(&ev))/>
                                        <span class="error" id=error_id>{error}</span>
                                    </td>
                                    <td class="money">{cell(0)}</td>
                                    <td class="money">{cell(1)}</td>
                                    <td class="why">{cell(2)}</td>
                                    <td><button type="button" aria-label=move || format!("Remove {}", name3()) on:click=move |_| remove(sku_for_remove.clone())>"Remove"</button></td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
            <p class="error" role="alert">{move || cart.save_error.get().filter(|e| e.field.is_none()).map(|e| format!("The cart was not saved: {}", e.message))}</p>
            // The sections stay in place and only their contents change, so that screen
            // readers announce the new route (a live region inserted anew is not read).
            <section class="totals" aria-label="Totals">
                // `with`, never `get`: a copy of the verdict of a 200-line cart on every
                // keystroke took half of the time from keystroke to preview.
                {move || verdict.with(|v| match v {
                    None => view! { <p>"Pricing…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="error" role="alert">{e.clone()}</p> }.into_any(),
                    Some(Ok(v)) => view! {
                        {super::sum_sentences(&v.priced.explanation)}
                        <p class="total">"Total: " <strong id="cart-total">{v.priced.total.to_string()}</strong></p>
                    }.into_any(),
                })}
            </section>
            <section class="route" aria-live="polite" aria-label="Approval route">
                <h2>"Approval"</h2>
                <div id="approval-route">{move || verdict.with(|v| match v {
                    Some(Ok(v)) => super::plan_sentences(&v.plan.explanation).into_any(),
                    _ => ().into_any(),
                })}</div>
            </section>
            <label for="payment">"Payment"</label>
            <select id="payment" on:change=payment_changed prop:value=move || payment.get()>
                <option value="invoice">"On account (invoice)"</option>
                <option value="card">"Company card"</option>
            </select>
            <div class="problem" role="alert">
                {move || problem.get().map(|p| {
                    let differences: Vec<String> = p.details.get("differences").and_then(|d| d.as_array()).map(|d| d.iter().filter_map(|x| x.get("message").and_then(|v| v.as_str()).map(str::to_owned)).collect()).unwrap_or_default();
                    // An error about one line is shown on that line.
                    let about_a_line = p.field.as_deref().is_some_and(|f| f.starts_with("lines["));
                    view! {
                        <p class="error">{(!about_a_line).then(|| p.message.clone())}</p>
                        <ul>{differences.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}</ul>
                        <Show when=move || p.code == "stale_or_forged"><p>"The page now shows the current prices and route; check them and place the order again."</p></Show>
                    }
                })}
            </div>
            <button type="button" id="place-order" on:click=place.clone()
                disabled=move || busy.get() || !verdict.with(|v| matches!(v, Some(Ok(v)) if v.plan.verdict != rules::approval::Verdict::Blocked))>
                "Place order"
            </button>
        </Show>
    }
}
