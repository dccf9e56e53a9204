//! Changing an order: its buyer edits the lines of an order that awaits approval, was rejected
//! or is approved: quantities, lines removed, products added. Prices, tax, total and the approval route are recomputed as they type, by
//! `rules`, on the context of this change (what the buyer spent besides this order); saving
//! sends the lines, and the server prices and routes them again and decides whether approval
//! starts over (an approved order stays approved only if the change needs no new approval).

use crate::{
    api,
    engine::{Engine, MAX_QUANTITY},
    model::{CheckoutContext, Line, Order},
    pages::focus,
};
use gloo_net::http::Method;
use leptos::{prelude::*, task::spawn_local};
use serde_json::json;
use std::sync::Arc;

/// The states in which an order's buyer may change it (the server checks it too).
pub const CHANGEABLE: [&str; 3] = ["awaiting_approval", "rejected", "approved"];

/// "Change this order", then the order's lines to edit with the live preview, and saving.
/// `saved` gets the order as the server answers it.
#[component]
pub fn ChangeOrder(order: Order, saved: Callback<Order>) -> impl IntoView {
    let editing = RwSignal::new(false);
    let engine = RwSignal::new(None::<Arc<Engine>>);
    let load_error = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let initial: Vec<Line> = order
        .priced
        .lines
        .iter()
        .map(|l| Line { sku: l.sku.clone(), quantity: l.quantity })
        .collect();
    let lines = RwSignal::new(initial.clone());
    // SKUs whose typed quantity is not one (the line keeps its last good quantity meanwhile).
    let bad_input = RwSignal::new(Vec::<String>::new());
    let (id, revision, approved) = (order.id.clone(), order.revision, order.state == "approved");
    // The form takes the focus when it opens (the button that opened it is gone).
    let heading = NodeRef::<leptos::html::H2>::new();
    heading.on_load(|h| {
        let _ = h.focus();
    });

    let open = {
        let id = id.clone();
        move |_| {
            editing.set(true);
            problem.set(None);
            lines.set(initial.clone());
            bad_input.set(Vec::new());
            let id = id.clone();
            spawn_local(async move {
                match api::get::<CheckoutContext>(&format!("/api/checkout/context?order={id}"))
                    .await
                {
                    Ok(context) => match Engine::new(context) {
                        Ok(e) => engine.set(Some(Arc::new(e))),
                        Err(e) => load_error.set(Some(e)),
                    },
                    Err(e) => load_error.set(Some(e.message)),
                }
            });
        }
    };
    let verdict = Memo::new(move |_| {
        let lines = lines.get();
        engine.with(|e| e.as_ref().map(|e| e.evaluate(&lines)))
    });
    let set_quantity = move |sku: String, text: String| match text.trim().parse::<u32>() {
        Ok(q) if (1..=MAX_QUANTITY).contains(&q) => {
            bad_input.update(|bad| bad.retain(|s| *s != sku));
            lines.update(|lines| {
                if let Some(line) = lines.iter_mut().find(|l| l.sku == sku) {
                    line.quantity = q;
                }
            });
        }
        _ => {
            if !bad_input.with_untracked(|bad| bad.contains(&sku)) {
                bad_input.update(|bad| bad.push(sku));
            }
        }
    };
    // The product chosen to add, and the catalog's products the order has no line of.
    let adding = RwSignal::new(String::new());
    let addable = move || {
        engine.with(|e| {
            let Some(e) = e else { return Vec::new() };
            lines.with(|lines| {
                e.context
                    .pricing
                    .catalog
                    .iter()
                    .filter(|p| !lines.iter().any(|l| l.sku == p.sku.as_str()))
                    .map(|p| (p.sku.to_string(), format!("{} ({})", p.name, p.sku)))
                    .collect::<Vec<_>>()
            })
        })
    };
    let add = move |_| {
        let sku = adding.get_untracked();
        if sku.is_empty() {
            return;
        }
        lines.update(|lines| {
            if !lines.iter().any(|l| l.sku == sku) {
                lines.push(Line { sku: sku.clone(), quantity: 1 });
            }
        });
        adding.set(String::new());
        // Its quantity next: the line is drawn by then.
        request_animation_frame(move || {
            focus(&format!("#change-qty-{sku}"));
        });
    };
    let save = move |_| {
        let id = id.clone();
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            let body = json!({ "lines": lines.get_untracked(), "revision": revision });
            match api::send::<Order, _>(Method::PUT, &format!("/api/orders/{id}"), &body).await {
                Ok(order) => {
                    editing.set(false);
                    saved.run(order);
                }
                Err(e) => problem.set(Some(e.message)),
            }
            busy.set(false);
        });
    };

    view! {
        <Show when=move || editing.get() fallback=move || view! {
            <button type="button" id="change-order" on:click=open.clone()>"Change this order"</button>
        }>
            <section class="change" aria-label="Change this order">
                <h2 tabindex="-1" node_ref=heading>"Change this order"</h2>
                {approved.then(|| view! { <p>"It stays approved if the change needs no new approval; otherwise it goes to approval again."</p> })}
                <p class="error" role="alert">{move || load_error.get()}</p>
                <table class="cart">
                    <thead><tr>
                        <th scope="col">"Product"</th><th scope="col">"Quantity"</th><th scope="col" class="money">"Amount"</th>
                        <th scope="col"><span class="visually-hidden">"Remove"</span></th>
                    </tr></thead>
                    <tbody>
                        <For each=move || lines.get() key=|l| l.sku.clone() let:line>
                            {
                                let sku = line.sku.clone();
                                let name = { let sku = sku.clone(); move || engine.with(|e| e.as_ref().map_or_else(|| sku.clone(), |e| e.name(&sku))) };
                                let (label, remove_label) = (name.clone(), name.clone());
                                let amount = { let sku = sku.clone(); move || verdict.with(|v| match v {
                                    Some(Ok(v)) => v.priced.lines.iter().find(|l| l.sku.as_str() == sku).map(|l| l.amount.to_string()),
                                    _ => None,
                                }) };
                                let bad = { let sku = sku.clone(); move || bad_input.with(|b| b.contains(&sku)) };
                                let invalid = bad.clone();
                                let (input_id, error_id) = (format!("change-qty-{sku}"), format!("change-qty-error-{sku}"));
                                let (for_input, for_remove) = (sku.clone(), sku.clone());
                                view! {
                                    <tr>
                                        <td>{name}</td>
                                        <td>
                                            <label class="visually-hidden" for=input_id.clone()>{move || format!("Quantity of {}", label())}</label>
                                            <input id=input_id type="number" min="1" max=MAX_QUANTITY class="qty" value=line.quantity.to_string()
                                                aria-invalid=move || invalid().to_string() aria-describedby=error_id.clone()
                                                on:input=move |ev| set_quantity(for_input.clone(), event_target_value(&ev))/>
                                            <span class="error" id=error_id>{move || bad().then_some("Enter a whole number from 1 to 1,000,000.")}</span>
                                        </td>
                                        <td class="money">{amount}</td>
                                        <td><button type="button" aria-label=move || format!("Remove {}", remove_label())
                                            on:click=move |_| lines.update(|ls| ls.retain(|l| l.sku != for_remove))>"Remove"</button></td>
                                    </tr>
                                }
                            }
                        </For>
                    </tbody>
                </table>
                <p class="add-line">
                    <label for="change-add">"Add a product"</label> " "
                    <select id="change-add" prop:value=move || adding.get() on:change=move |ev| adding.set(event_target_value(&ev))>
                        <option value="">"Choose a product…"</option>
                        {move || addable().into_iter().map(|(sku, label)| view! { <option value=sku>{label}</option> }).collect_view()}
                    </select> " "
                    <button type="button" id="change-add-line" on:click=add disabled=move || adding.with(String::is_empty)>"Add"</button>
                </p>
                <section class="route" aria-live="polite" aria-label="Approval route of the change">
                    {move || verdict.with(|v| match v {
                        None => view! { <p>"Pricing…"</p> }.into_any(),
                        Some(Err(e)) => view! { <p class="error" role="alert">{e.clone()}</p> }.into_any(),
                        Some(Ok(v)) => view! {
                            <p class="total">"Total: " <strong id="change-total">{v.priced.total.to_string()}</strong></p>
                            <div id="change-route">{super::plan_sentences(&v.plan.explanation)}</div>
                        }.into_any(),
                    })}
                </section>
                <p class="error" role="alert" id="change-error">{move || problem.get()}</p>
                <button type="button" id="save-change" on:click=save.clone()
                    disabled=move || busy.get() || lines.with(Vec::is_empty) || !bad_input.with(Vec::is_empty)
                        || !verdict.with(|v| matches!(v, Some(Ok(v)) if v.plan.verdict != rules::approval::Verdict::Blocked))>
                    "Save the change"
                </button>
                " "
                <button type="button" on:click=move |_| editing.set(false)>"Cancel"</button>
            </section>
        </Show>
    }
}
