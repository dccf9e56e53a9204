//! Orders: the list, and one order with its lines, approval steps and history.

use crate::{
    CartState, Session, api,
    model::{Order, OrderStates, OrderSummary, Orders, StateCount, when},
    pages::{
        MoreButton, Paged,
        change::{CHANGEABLE, ChangeOrder},
        page_heading,
    },
};
use gloo_net::http::Method;
use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map},
};

/// A state in words: the built-in ones by name, a workflow's own by its id.
fn state_label(state: &str) -> String {
    match state {
        "awaiting_approval" => "awaiting approval".into(),
        other => other.replace(['_', '-'], " "),
    }
}

/// The states of the built-in order workflow, always offered by the list's filter.
const BUILT_IN_STATES: [&str; 3] = ["awaiting_approval", "approved", "rejected"];

#[component]
pub fn OrdersPage() -> impl IntoView {
    let orders = Paged::<OrderSummary>::new();
    let state = RwSignal::new(String::new());
    // Only the answer to the latest request is shown: a slow one must not overwrite a newer.
    let asked = StoredValue::new(0u64);
    let load = move |before: Option<String>| {
        let request = asked.get_value().wrapping_add(1);
        asked.set_value(request);
        let mut query = Vec::new();
        let wanted = state.get_untracked();
        if !wanted.is_empty() {
            query.push(format!("state={wanted}"));
        }
        if let Some(cursor) = &before {
            query.push(format!("before={cursor}"));
        }
        spawn_local(async move {
            let path = if query.is_empty() {
                "/api/orders".to_owned()
            } else {
                format!("/api/orders?{}", query.join("&"))
            };
            let page = api::get::<Orders>(&path).await;
            if asked.get_value() == request {
                let page = page.map(|p| (p.orders, p.next)).map_err(|e| e.message);
                orders.take(before.is_some(), page);
            }
        });
    };
    load(None);
    // The states to filter by: the built-in ones, and any a workflow put orders in.
    // How many orders are in each (none until they arrive: no count is better than a wrong one).
    let counts = RwSignal::new(None::<Vec<StateCount>>);
    spawn_local(async move {
        if let Ok(found) = api::get::<OrderStates>("/api/orders/states").await {
            counts.set(Some(found.states));
        }
    });
    let options = move || {
        let counts = counts.get();
        let found = counts.as_deref().unwrap_or_default();
        let mut states: Vec<String> = BUILT_IN_STATES.iter().map(|s| (*s).to_owned()).collect();
        states.extend(
            found
                .iter()
                .map(|c| c.state.clone())
                .filter(|s| !BUILT_IN_STATES.contains(&s.as_str())),
        );
        let counted = |label: String, count: i64| match counts {
            Some(_) => format!("{label} ({count})"),
            None => label,
        };
        let count_of = |s: &str| found.iter().find(|c| c.state == s).map_or(0, |c| c.count);
        let every = counted("every order".to_owned(), found.iter().map(|c| c.count).sum());
        let selected = state.get_untracked();
        std::iter::once(view! { <option value="">{every}</option> }.into_any())
            .chain(states.into_iter().map(|s| {
                let label = counted(state_label(&s), count_of(&s));
                view! { <option value=s.clone() prop:selected=s == selected>{label}</option> }
                    .into_any()
            }))
            .collect_view()
    };
    view! {
        <h1 tabindex="-1" node_ref=page_heading()>"Orders"</h1>
        <div class="toolbar">
            <FindOrder/>
            <label class="inline" for="order-state-filter">"Show"</label>
            <select id="order-state-filter" on:change=move |ev| { state.set(event_target_value(&ev)); load(None); }>
                {options}
            </select>
        </div>
        {move || match orders.items.get() {
            None => view! { <p>"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            Some(Ok(o)) if o.is_empty() => {
                let none = if state.with(String::is_empty) { "No orders yet." } else { "No orders in this state." };
                view! { <p>{none}</p> }.into_any()
            }
            Some(Ok(o)) => view! {
                <table class="orders">
                    <thead><tr><th scope="col">"Order"</th><th scope="col">"Placed"</th><th scope="col">"Buyer"</th><th scope="col" class="money">"Total"</th><th scope="col">"State"</th></tr></thead>
                    <tbody>
                        {o.into_iter().map(|o| view! {
                            <tr>
                                <td><A href=format!("/orders/{}", o.number)>{o.number}</A></td>
                                <td>{when(o.created_at)}</td>
                                <td>{o.buyer_name.clone()}" ("{o.company_name.clone()}")"</td>
                                <td class="money">{o.total.to_string()}</td>
                                <td><span class=format!("state {}", o.state)>{state_label(&o.state)}</span></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        }}
        <MoreButton list=orders label="Older orders" on_more=Callback::new(move |cursor| load(Some(cursor)))/>
    }
}

/// Goes to the order with the number typed, among those the user may see.
#[component]
fn FindOrder() -> impl IntoView {
    let navigate = use_navigate();
    let typed = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let find = move |ev: SubmitEvent| {
        ev.prevent_default();
        let text = typed.get_untracked();
        let Some(number) =
            text.trim().trim_start_matches('#').parse::<i64>().ok().filter(|n| *n > 0)
        else {
            problem.set(Some("an order number is a whole number, such as 1042".into()));
            return;
        };
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let found = api::get::<Orders>(&format!("/api/orders?number={number}")).await;
            busy.set(false);
            match found.map(|f| f.orders.into_iter().next()) {
                // Last: the page goes away with its signals.
                Ok(Some(order)) => {
                    navigate(&format!("/orders/{}", order.number), Default::default())
                }
                Ok(None) => problem.set(Some(format!("no order {number} among yours"))),
                Err(e) => problem.set(Some(e.message)),
            }
        });
    };
    view! {
        <form class="find-order" on:submit=find>
            <label for="order-number">"Order number"</label>
            <input id="order-number" inputmode="numeric" autocomplete="off" size="8"
                aria-describedby="order-number-error" aria-invalid=move || problem.with(Option::is_some).to_string()
                prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev))/>
            <button type="submit" disabled=move || busy.get()>"Open"</button>
            <p class="error" role="alert" id="order-number-error">{move || problem.get()}</p>
        </form>
    }
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let session = expect_context::<Session>();
    let my_id =
        move || session.me.with(|m| m.as_ref().map(|m| m.user_id.clone()).unwrap_or_default());
    let is_admin = move || session.me.with(|m| m.as_ref().is_some_and(|m| m.has("company_admin")));
    let order = RwSignal::new(None::<Result<Order, String>>);
    let fire_error = RwSignal::new(None::<String>);
    let cart = expect_context::<CartState>();
    // "Order again": what was added to the cart, said where the button is.
    let again = RwSignal::new(None::<String>);
    let order_again = move |_| {
        let added = order.with_untracked(|o| match o {
            Some(Ok(o)) => {
                o.priced.lines.iter().map(|l| cart.add(l.sku.as_str(), l.quantity)).count()
            }
            _ => 0,
        });
        again.set(Some(match added {
            1 => "Its product was added to your cart.".to_owned(),
            n => format!("Its {n} products were added to your cart."),
        }));
    };
    let fire = move |transition: String, id: String, revision: i64| {
        spawn_local(async move {
            let path = format!("/api/orders/{id}/transitions/{transition}");
            match api::send::<Order, _>(
                Method::POST,
                &path,
                &serde_json::json!({ "revision": revision }),
            )
            .await
            {
                Ok(o) => {
                    fire_error.set(None);
                    order.set(Some(Ok(o)));
                }
                Err(e) => fire_error.set(Some(e.message)),
            }
        });
    };
    Effect::new(move |_| {
        let id = params.with(|p| p.get("id").unwrap_or_default());
        again.set(None);
        spawn_local(async move {
            order.set(Some(
                api::get::<Order>(&format!("/api/orders/{id}")).await.map_err(|e| e.message),
            ));
        });
    });
    view! {
        {move || match order.get() {
            None => view! { <p>"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            Some(Ok(o)) => view! {
                <h1 tabindex="-1" node_ref=page_heading()>"Order " {o.number}</h1>
                <p>"State: " <strong id="order-state" class=format!("state {}", o.state)>{state_label(&o.state)}</strong>
                   " · total " <strong>{o.total.to_string()}</strong> " · placed by " <span id="order-placed-by">{placed_by(&o)}</span> " on " {when(o.created_at)}</p>
                {o.workflow.clone().map(|w| view! {
                    <p id="order-workflow">"Runs on the workflow " <strong>{w.name.clone()}</strong> {format!(" (version {}, {})", w.version, w.id)}</p>
                })}
                {(!o.transitions.is_empty()).then(|| {
                    let (id, revision) = (o.id.clone(), o.revision);
                    view! {
                        <div class="order-transitions">
                            {o.transitions.iter().map(|t| {
                                let (tid, id) = (t.id.clone(), id.clone());
                                view! {
                                    <button type="button" disabled=!t.enabled title=t.why.join("; ")
                                        on:click=move |_| fire(tid.clone(), id.clone(), revision)>{t.label.clone()}</button>
                                    {(!t.enabled).then(|| view! { <span class="muted">{format!(" {} ", t.why.join("; "))}</span> })}
                                }
                            }).collect_view()}
                            {move || fire_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                        </div>
                    }
                })}
                {(o.buyer_id == my_id() && CHANGEABLE.contains(&o.state.as_str())).then(|| view! {
                    <ChangeOrder order=o.clone() saved=Callback::new(move |changed| order.set(Some(Ok(changed))))/>
                })}
                {(o.buyer_id == my_id()).then(|| view! {
                    <p class="order-again">
                        <button type="button" id="order-again" on:click=order_again>"Order again"</button>
                        " "
                        <span role="status" id="order-again-status">{move || again.get().map(|text| view! {
                            {text} " " <A href="/cart">"Go to the cart"</A>
                        })}</span>
                    </p>
                })}
                <h2>"Lines"</h2>
                <table class="cart">
                    <thead><tr><th scope="col">"Product"</th><th scope="col">"SKU"</th><th scope="col">"Quantity"</th><th scope="col" class="money">"Unit price"</th><th scope="col" class="money">"Amount"</th><th scope="col">"Why"</th></tr></thead>
                    <tbody>{o.priced.lines.iter().map(|l| view! {
                        <tr><td class="product">{o.product_names.get(l.sku.as_str()).cloned().unwrap_or_default()}</td><td><code>{l.sku.to_string()}</code></td><td>{l.quantity}</td><td class="money">{l.unit_price.to_string()}</td><td class="money">{l.amount.to_string()}</td>
                            <td class="why">{l.explanation.iter().skip(1).cloned().collect::<Vec<_>>().join("; ")}</td></tr>
                    }).collect_view()}</tbody>
                </table>
                {super::sum_sentences(&o.priced.explanation)}
                <p class="total">"Total: " <strong>{o.total.to_string()}</strong></p>
                <h2>"Approval"</h2>
                <section class="route" aria-label="Approval route">{super::plan_sentences(&o.plan.explanation)}</section>
                {(!o.steps.is_empty()).then(|| view! {
                    <h3>"Decisions"</h3>
                    <ol class="steps">{o.steps.iter().map(|s| {
                        let who = s.candidates.iter().map(|c| c.name.clone().unwrap_or_else(|| c.id.clone())).collect::<Vec<_>>().join(", ");
                        let decided = s.decided_by_name.clone().map(|n| format!(" by {n}")).unwrap_or_default();
                        let comment = s.comment.clone().filter(|c| !c.is_empty()).map(|c| format!(": “{c}”")).unwrap_or_default();
                        view! { <li>{format!("Round {}, step {}: {who} — {}{decided}{comment}", s.round, s.index + 1, s.status)}</li> }
                    }).collect_view()}</ol>
                })}
                {(is_admin() && o.steps.iter().any(|s| s.status == "pending" || s.status == "waiting")).then(|| view! {
                    <p><a id="hand-over-link" href="/editor/approvals" rel="external">"Hand a step to someone else"</a>
                       " (when an approver is away or has left)"</p>
                })}
                <h2>"History"</h2>
                <ol class="history" id="order-history">{o.history.iter().map(|h| {
                    let who = h.actor_name.clone().unwrap_or_else(|| "system".into());
                    let what = match (&h.from, &h.comment) {
                        // Something happened that left the state as it was (a step approved).
                        (Some(from), Some(c)) if *from == h.to => format!("{c} (still {})", state_label(&h.to)),
                        (from, comment) => {
                            let from = from.as_deref().map(|f| format!("{} → ", state_label(f))).unwrap_or_default();
                            let comment = comment.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
                            format!("{from}{}{comment}", state_label(&h.to))
                        }
                    };
                    view! { <li>{format!("{}: {who} — {what}", when(h.at))}</li> }
                }).collect_view()}</ol>
            }.into_any(),
        }}
    }
}

/// "Pat Buyer (Acme Corp, New York office)": who placed an order, for whom.
fn placed_by(o: &Order) -> String {
    let whose: Vec<&str> = [Some(o.company_name.as_str()), o.business_unit_name.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    if whose.is_empty() {
        o.buyer_name.clone()
    } else {
        format!("{} ({})", o.buyer_name, whose.join(", "))
    }
}
