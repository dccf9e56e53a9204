//! Countersign's app: a Leptos single-page app (client-side rendering), built by Trunk and
//! served by the server.
//!
//! The cart page prices the cart and routes it for approval in the browser, with the same
//! `rules` crate the server uses, on the data the server sends (`GET /api/checkout/context`):
//! every keystroke updates prices, tax, total and who must approve and why, with no request.
//! The server recomputes everything on submission. Pages are one module each under `pages/`;
//! every request goes through `api`.
//!
//! Two apps share these modules: the buyer's, approver's and company admin's app (`App`, the
//! `frontend` binary, `index.html`), and the admins' tools, the workflow editor, the customers,
//! the prices, the approval policy, a company's people, API tokens and the password form
//! (`EditorApp`, the `editor` binary,
//! `editor.html`, served under `/editor/`), kept apart so that their code never weighs on the
//! first load.

/// Talc instead of the default dlmalloc: smaller, and a little faster on the engine's many small
/// allocations (as in the JavaScript package).
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

pub mod api;
pub mod engine;
pub mod model;
pub mod pages;

use leptos::{mount::mount_to_body, prelude::*, task::spawn_local};
use leptos_router::{
    components::{A, Route, Router, Routes},
    path,
};
use model::{Line, Me};

/// Who is logged in, shared by every page.
#[derive(Clone, Copy, Debug)]
pub struct Session {
    pub me: RwSignal<Option<Me>>,
    pub loaded: RwSignal<bool>,
    /// Unread notifications, for the badge.
    pub unread: RwSignal<i64>,
}

/// The buyer's cart, shared by the catalog and the cart page. A product added from the catalog
/// is saved to the server at once; a quantity typed in the cart a moment after the last
/// keystroke (so typing costs no request: the preview is computed here), or at once when the
/// user leaves the page. One save is in flight at a time, and a change made meanwhile is sent
/// after it; a save sent when the page is left may overtake the one in flight, so each save
/// carries this page's name and count, and the server keeps the newest (`PUT /api/cart`). Until the stored cart has
/// been read after login, products added wait and are added to it, so that they neither
/// overwrite it nor get lost.
#[derive(Clone, Copy, Debug)]
pub struct CartState {
    pub lines: RwSignal<Vec<Line>>,
    /// Why the last save failed, until one succeeds.
    pub save_error: RwSignal<Option<api::ApiError>>,
    changes: StoredValue<u64>,
    /// (a save is in flight, the cart changed since it was sent)
    saving: StoredValue<(bool, bool)>,
    /// A typed change waits for the typing to stop.
    waiting: StoredValue<bool>,
    /// The stored cart has been read since login.
    loaded: StoredValue<bool>,
    /// Products added before it was.
    pending: StoredValue<Vec<Line>>,
    /// This page's name and count of saves, sent with each save: saves can arrive out of order.
    writer: StoredValue<(String, i64)>,
}

/// A key no other page or request is likely to have: an idempotency key, a page's name.
pub fn unique_key() -> String {
    format!("{:x}-{:x}", js_sys::Date::now() as u64, (js_sys::Math::random() * 1e16) as u64)
}

/// Adds `quantity` of `sku` to `lines`: to its line, or as a new last line.
fn add_line(lines: &mut Vec<Line>, sku: &str, quantity: u32) {
    match lines.iter_mut().find(|l| l.sku == sku) {
        Some(line) => line.quantity = line.quantity.saturating_add(quantity),
        None => lines.push(Line { sku: sku.to_owned(), quantity }),
    }
}

impl CartState {
    fn new() -> CartState {
        CartState {
            lines: RwSignal::new(Vec::new()),
            save_error: RwSignal::new(None),
            changes: StoredValue::new(0),
            saving: StoredValue::new((false, false)),
            waiting: StoredValue::new(false),
            loaded: StoredValue::new(false),
            pending: StoredValue::new(Vec::new()),
            writer: StoredValue::new((unique_key(), 0)),
        }
    }

    /// `lines` as the next save of this page.
    pub fn stamped(&self, lines: Vec<Line>) -> model::CartSave {
        let mut writer = self.writer.write_value();
        writer.1 = writer.1.saturating_add(1);
        model::CartSave { lines, writer: writer.0.clone(), seq: writer.1 }
    }

    pub fn add(&self, sku: &str, quantity: u32) {
        self.lines.update(|lines| add_line(lines, sku, quantity));
        if !self.loaded.get_value() {
            self.pending.update_value(|p| add_line(p, sku, quantity));
            return;
        }
        self.flush();
    }

    /// Forgets the cart (at login and logout): the next user's is read afresh.
    fn reset(&self) {
        self.loaded.set_value(false);
        self.pending.set_value(Vec::new());
        self.waiting.set_value(false);
        self.changes.update_value(|c| *c = c.wrapping_add(1));
        self.lines.set(Vec::new());
        self.save_error.set(None);
    }

    /// The stored cart, read after login, with the products added meanwhile; saved at once if
    /// there were any.
    fn loaded(&self, stored: Vec<Line>) {
        let pending = std::mem::take(&mut *self.pending.write_value());
        let mut lines = stored;
        for p in &pending {
            add_line(&mut lines, &p.sku, p.quantity);
        }
        self.lines.set(lines);
        self.loaded.set_value(true);
        if !pending.is_empty() {
            self.flush();
        }
    }

    /// Saves a moment after the last change.
    pub fn save(&self) {
        let change = self.changes.get_value().wrapping_add(1);
        self.changes.set_value(change);
        self.waiting.set_value(true);
        let state = *self;
        set_timeout(
            move || {
                if state.changes.get_value() == change {
                    state.flush();
                }
            },
            std::time::Duration::from_millis(1000),
        );
    }

    /// The page is being left or hidden: a change still waiting goes now. Its request is
    /// sent with `keepalive`, so it arrives even if the page is gone by then.
    fn leaving(&self) {
        let (in_flight, changed) = self.saving.get_value();
        if self.waiting.get_value() || changed {
            // Sent alongside the save in flight, if any: the page may not live to see it end.
            self.saving.set_value((false, false));
            self.flush();
            if in_flight {
                self.saving.update_value(|s| s.0 = true);
            }
        }
    }

    /// Sends the cart now, or right after the save in flight.
    fn flush(&self) {
        if !self.loaded.get_value() {
            return;
        }
        // Cancels a save still waiting for the typing to stop: this one sends everything.
        self.changes.update_value(|c| *c = c.wrapping_add(1));
        self.waiting.set_value(false);
        let (in_flight, _) = self.saving.get_value();
        if in_flight {
            self.saving.set_value((true, true));
            return;
        }
        self.saving.set_value((true, false));
        let state = *self;
        let lines = state.lines.get_untracked();
        spawn_local(async move {
            let saved = api::send_keepalive::<serde_json::Value, _>(
                gloo_net::http::Method::PUT,
                "/api/cart",
                &state.stamped(lines),
            )
            .await;
            state.save_error.set(saved.err());
            let (_, changed) = state.saving.get_value();
            state.saving.set_value((false, false));
            if changed {
                state.flush();
            }
        });
    }
}

pub fn refresh_unread(session: Session) {
    spawn_local(async move {
        if let Ok(n) = api::get::<model::Notifications>("/api/notifications").await {
            session.unread.set(n.unread);
        }
    });
}

#[component]
fn Nav() -> impl IntoView {
    let session = expect_context::<Session>();
    let has =
        move |role: &'static str| session.me.with(|m| m.as_ref().is_some_and(|m| m.has(role)));
    let buyer = move || has("buyer");
    // How many products the cart holds, said next to its link; only a change of the count
    // reaches the navigation, not every keystroke in the cart.
    let cart = expect_context::<CartState>();
    let in_cart = Memo::new(move |_| cart.lines.with(Vec::len));
    let logout = move |_| {
        spawn_local(async move {
            let _ = api::delete("/api/session").await;
            api::set_csrf(None);
            session.me.set(None);
        });
    };
    view! {
        <nav aria-label="Main">
            <span class="brand">"Countersign"</span>
            <Show when=buyer><A href="/">"Catalog"</A><A href="/cart">"Cart" <Show when=move || { in_cart.get() > 0 }>" " <span class="badge count">{move || in_cart.get()}</span><span class="visually-hidden">{move || if in_cart.get() == 1 { " product" } else { " products" }}</span></Show></A></Show>
            <A href="/orders">"Orders"</A>
            <Show when=move || has("approver")><A href="/approvals">"Approvals"</A></Show>
            <Show when=move || has("company_admin")><a href="/editor/policy" rel="external">"Approval policy"</a><a href="/editor/approvals" rel="external">"Waiting approvals"</a></Show>
            <Show when=move || has("company_admin") || has("seller_admin")><a href="/editor/people" rel="external">"People"</a></Show>
            <Show when=move || has("seller_admin") || has("sales_rep")><a href="/editor/customers" rel="external">"Customers"</a><a href="/editor/workflows" rel="external">"Workflows"</a></Show>
            <Show when=move || session.me.with(|m| m.as_ref().is_some_and(|m| m.seller))><a href="/editor/prices" rel="external">"Prices"</a></Show>
            <a href="/editor/tokens" rel="external">"API tokens"</a>
            <a href="/editor/account" rel="external">"Password"</a>
            <A href="/notifications">"Notifications" <Show when=move || { session.unread.get() > 0 }>" " <span class="badge">{move || session.unread.get()}</span><span class="visually-hidden">" unread"</span></Show></A>
            <span class="who">{move || session.me.with(|m| m.as_ref().map(|m| m.name.clone()).unwrap_or_default())}</span>
            <button type="button" on:click=logout>"Log out"</button>
        </nav>
    }
}

/// The first stop of Tab, shown when it has the focus: past the navigation, to the page.
#[component]
fn SkipLink() -> impl IntoView {
    // `rel=external` keeps the router from taking the click as a navigation; the link moves the
    // focus itself, as following the fragment alone would scroll but leave the focus behind.
    view! {
        <a class="skip" href="#main" rel="external" on:click=|ev| {
            ev.prevent_default();
            pages::focus("main");
        }>"Skip to main content"</a>
    }
}

#[component]
fn Home() -> impl IntoView {
    let session = expect_context::<Session>();
    move || {
        if session.me.with(|m| m.as_ref().is_some_and(|m| m.has("buyer"))) {
            view! { <pages::catalog::CatalogPage/> }.into_any()
        } else {
            view! { <pages::orders::OrdersPage/> }.into_any()
        }
    }
}

/// The buyer's, approver's and admin's app.
#[component]
pub fn App() -> impl IntoView {
    let session =
        Session { me: RwSignal::new(None), loaded: RwSignal::new(false), unread: RwSignal::new(0) };
    let cart = CartState::new();
    provide_context(session);
    provide_context(cart);
    // A quantity typed a moment before the tab is closed, or the user goes elsewhere, is
    // saved all the same. `pagehide` is the last event a page reliably gets; a hidden page
    // (another tab, a phone's app switcher) may be discarded without one.
    // (The listeners live as long as the app: their handles are not kept to remove them.)
    let _ = window_event_listener_untyped("pagehide", move |_| cart.leaving());
    let _ = window_event_listener_untyped("visibilitychange", move |_| {
        if document().hidden() {
            cart.leaving();
        }
    });
    spawn_local(async move {
        if let Ok(me) = api::get::<Me>("/api/session").await {
            api::set_csrf(me.csrf_token.clone());
            session.me.set(Some(me));
        }
        session.loaded.set(true);
    });
    // Whenever someone logs in or out: their cart and their unread count.
    Effect::new(move |_| {
        cart.reset();
        if session.me.with(|m| m.as_ref().is_some_and(|m| m.has("buyer"))) {
            spawn_local(async move {
                match api::get::<model::CartLines>("/api/cart").await {
                    Ok(c) => cart.loaded(c.lines),
                    Err(e) => cart.save_error.set(Some(e)),
                }
            });
        }
        if session.me.with(Option::is_some) {
            refresh_unread(session);
        }
    });
    view! {
        <Router>
            <Show when=move || session.loaded.get() fallback=|| view! { <p class="loading">"Loading…"</p> }>
                <Show when=move || session.me.with(Option::is_some) fallback=|| view! { <pages::login::LoginPage/> }>
                    <SkipLink/>
                    <Nav/>
                    <main id="main" tabindex="-1">
                        <Routes fallback=|| view! { <h1>"Page not found"</h1> <p>"This page does not exist. " <a href="/">"Go to the start page"</a>"."</p> }>
                            <Route path=path!("/") view=Home/>
                            <Route path=path!("/cart") view=pages::cart::CartPage/>
                            <Route path=path!("/orders") view=pages::orders::OrdersPage/>
                            <Route path=path!("/orders/:id") view=pages::orders::OrderPage/>
                            <Route path=path!("/approvals") view=pages::approvals::ApprovalsPage/>
                            <Route path=path!("/policy") view=|| view! { <p>"The approval policy has moved: " <a href="/editor/policy" rel="external">"open it"</a>"."</p> }/>
                            <Route path=path!("/notifications") view=pages::notifications::NotificationsPage/>
                            <Route path=path!("/customers") view=|| view! { <p>"The customers are with the seller's tools now: " <a href="/editor/customers" rel="external">"open them"</a>"."</p> }/>
                        </Routes>
                    </main>
                </Show>
            </Show>
        </Router>
    }
}

/// The tools of admins (the workflow editor, the customers, the prices, the approval policy, a
/// company's people) and the pages of one's own credentials (API tokens, password): a separate
/// bundle, loaded only when its pages open.
#[component]
pub fn EditorApp() -> impl IntoView {
    let session =
        Session { me: RwSignal::new(None), loaded: RwSignal::new(false), unread: RwSignal::new(0) };
    provide_context(session);
    spawn_local(async move {
        if let Ok(me) = api::get::<Me>("/api/session").await {
            api::set_csrf(me.csrf_token.clone());
            session.me.set(Some(me));
        }
        session.loaded.set(true);
    });
    view! {
        <Router>
            <SkipLink/>
            <nav aria-label="Main">
                <span class="brand">"Countersign"</span>
                <a href="/" rel="external">"Back to the app"</a>
                <Show when=move || session.me.with(|m| m.as_ref().is_some_and(|m| m.seller))>
                    <A href="/editor/customers">"Customers"</A>
                    <A href="/editor/workflows">"Workflows"</A>
                    <A href="/editor/prices">"Prices"</A>
                </Show>
                <Show when=move || session.me.with(|m| m.as_ref().is_some_and(|m| m.has("company_admin")))>
                    <A href="/editor/policy">"Approval policy"</A>
                    <A href="/editor/approvals">"Waiting approvals"</A>
                </Show>
                <Show when=move || session.me.with(|m| m.as_ref().is_some_and(|m| m.has("company_admin") || m.has("seller_admin")))>
                    <A href="/editor/people">"People"</A>
                </Show>
                <A href="/editor/tokens">"API tokens"</A>
                <A href="/editor/account">"Password"</A>
                <span class="who">{move || session.me.with(|m| m.as_ref().map(|m| m.name.clone()).unwrap_or_default())}</span>
            </nav>
            <main id="main" tabindex="-1">
                {move || match (session.loaded.get(), session.me.with(Option::is_some)) {
                    (false, _) => view! { <p class="loading">"Loading…"</p> }.into_any(),
                    (true, false) => view! { <p>"Log in first: " <a href="/" rel="external">"to the login page"</a></p> }.into_any(),
                    (true, true) => view! {
                        <Routes fallback=|| view! { <h1>"Page not found"</h1> <p>"This page does not exist. " <a href="/" rel="external">"Back to the app"</a>"."</p> }>
                            <Route path=path!("/editor/customers") view=pages::customers::CustomersPage/>
                            <Route path=path!("/editor/workflows") view=pages::workflows::WorkflowsPage/>
                            <Route path=path!("/editor/workflows/:id") view=pages::workflows::WorkflowPage/>
                            <Route path=path!("/editor/tokens") view=pages::tokens::TokensPage/>
                            <Route path=path!("/editor/policy") view=pages::policy::PolicyPage/>
                            <Route path=path!("/editor/prices") view=pages::prices::PricesPage/>
                            <Route path=path!("/editor/people") view=pages::people::PeoplePage/>
                            <Route path=path!("/editor/account") view=pages::account::AccountPage/>
                            <Route path=path!("/editor/approvals") view=pages::waiting::WaitingApprovalsPage/>
                        </Routes>
                    }.into_any(),
                }}
            </main>
        </Router>
    }
}

/// Starts the main app.
pub fn start() {
    mount_to_body(App);
}

/// Starts the seller's tools (the workflow editor, the customers).
pub fn start_editor() {
    mount_to_body(EditorApp);
}
