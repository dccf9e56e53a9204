//! One module per page.

pub mod account;
pub mod approvals;
pub mod cart;
pub mod catalog;
pub mod change;
pub mod condition;
pub mod customers;
pub mod login;
pub mod notifications;
pub mod orders;
pub mod people;
pub mod policy;
pub mod prices;
pub mod tokens;
pub mod waiting;
pub mod workflows;

use leptos::{html::H1, prelude::*};
use std::cell::RefCell;
use wasm_bindgen::JsCast;

/// Focuses the first element that `selector` finds; false if there is none.
pub fn focus(selector: &str) -> bool {
    document()
        .query_selector(selector)
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        .is_some_and(|e| e.focus().is_ok())
}

/// The server's last refusal of a form, read field by field: each of `fields` shows the message
/// of a refusal that named it (`roles[1]` counts as `roles`), and a refusal that named none of
/// them is shown once, for the whole form.
#[derive(Clone, Copy, Debug)]
pub struct FieldErrors {
    error: RwSignal<Option<crate::api::ApiError>>,
    fields: &'static [&'static str],
}

impl FieldErrors {
    pub fn new(fields: &'static [&'static str]) -> FieldErrors {
        FieldErrors { error: RwSignal::new(None), fields }
    }

    /// Shows a refusal; answers the field it named, if it is one of the form's.
    pub fn set(self, e: crate::api::ApiError) -> Option<&'static str> {
        let field = self.field(&e);
        self.error.set(Some(e));
        field
    }

    pub fn clear(self) {
        self.error.set(None);
    }

    fn field(self, e: &crate::api::ApiError) -> Option<&'static str> {
        let named = e.field.as_deref()?.split('[').next()?;
        self.fields.iter().find(|f| **f == named).copied()
    }

    /// The message for `field`, while the last refusal named it.
    pub fn of(self, field: &'static str) -> impl Fn() -> Option<String> + Copy + 'static {
        move || {
            self.error.with(|e| {
                e.as_ref().filter(|e| self.field(e) == Some(field)).map(|e| e.message.clone())
            })
        }
    }

    /// `aria-invalid` of `field`: "true" while the last refusal named it.
    pub fn invalid(self, field: &'static str) -> impl Fn() -> String + Copy + 'static {
        move || self.of(field)().is_some().to_string()
    }

    /// The message of a refusal that named none of the form's fields.
    pub fn other(self) -> impl Fn() -> Option<String> + Copy + 'static {
        move || {
            self.error
                .with(|e| e.as_ref().filter(|e| self.field(e).is_none()).map(|e| e.message.clone()))
        }
    }
}

/// Says whether a problem is an error or a warning in words, not by its colour alone.
pub fn severity(error: bool) -> &'static str {
    if error { "Error: " } else { "Warning: " }
}

/// The server's refusal as an alert: its message, then each problem it lists, with where.
pub fn refusal(e: &crate::api::ApiError, id: &'static str) -> impl IntoView + use<> {
    let problems = e
        .diagnostics()
        .into_iter()
        .map(|d| view! { <li>{severity(d.error)} <code>{d.path}</code> ": " {d.message}</li> })
        .collect_view();
    view! {
        <div class="error" role="alert" id=id>
            <p>{e.message.clone()}</p>
            <ul>{problems}</ul>
        </div>
    }
}

/// An approval plan as the engine explains it: its first sentence says what the order needs
/// ("This order needs 2 approvals, in this order:"), the others what blocks it and each step,
/// already numbered, so they are listed without bullets under it.
pub fn plan_sentences(explanation: &[String]) -> impl IntoView + use<> {
    let (summary, rest) = explanation.split_first().map_or((None, &[][..]), |(s, r)| (Some(s), r));
    view! {
        <p class="plan-summary">{summary.cloned()}</p>
        {(!rest.is_empty()).then(|| view! {
            <ul class="plain">{rest.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}</ul>
        })}
    }
}

/// A priced cart's sums as the engine explains them (subtotal, discount, shipping, each tax),
/// without its last sentence, the total, which the page shows larger beneath them.
pub fn sum_sentences(explanation: &[String]) -> impl IntoView + use<> {
    let sums = explanation.split_last().map_or(&[][..], |(_total, sums)| sums);
    view! { <ul class="plain sums">{sums.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}</ul> }
}

thread_local! {
    /// The address whose heading last took the focus: see [`page_heading`].
    static HEADED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The `node_ref` of a page's `<h1 tabindex="-1">`. The heading names the browser tab after
/// the page ("Cart · Countersign"), and on a page reached from another it takes the focus, so
/// that a screen reader reads the new page from its top and Tab goes on from there rather than
/// from the link that led to it. Neither the first page shown nor a page showing its heading
/// again (after reloading its data) moves the focus.
pub fn page_heading() -> NodeRef<H1> {
    let heading = NodeRef::<H1>::new();
    heading.on_load(|h| {
        document().set_title(&format!("{} · Countersign", h.text_content().unwrap_or_default()));
        let path = window().location().pathname().unwrap_or_default();
        let before = HEADED.with(|p| p.borrow_mut().replace(path.clone()));
        if before.is_some_and(|b| b != path) {
            let _ = h.focus();
        }
    });
    heading
}

/// A list that the server sends a page at a time: the items so far, the cursor of the next
/// page, and the error of the last page asked for.
#[derive(Debug)]
pub struct Paged<T: Send + Sync + 'static> {
    pub items: RwSignal<Option<Result<Vec<T>, String>>>,
    pub next: RwSignal<Option<String>>,
    pub error: RwSignal<Option<String>>,
}

impl<T: Send + Sync + 'static> Clone for Paged<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Paged<T> {}

impl<T: Send + Sync + 'static> Default for Paged<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + Sync + 'static> Paged<T> {
    pub fn new() -> Self {
        Paged { items: RwSignal::new(None), next: RwSignal::new(None), error: RwSignal::new(None) }
    }

    /// Takes a page: the first replaces the list, a following one (`more`) extends it.
    pub fn take(&self, more: bool, page: Result<(Vec<T>, Option<String>), String>) {
        match page {
            Ok((items, next)) => {
                self.error.set(None);
                self.next.set(next);
                self.items.update(|list| match list {
                    Some(Ok(list)) if more => list.extend(items),
                    _ => *list = Some(Ok(items)),
                });
            }
            Err(e) if more => self.error.set(Some(e)),
            Err(e) => self.items.set(Some(Err(e))),
        }
    }
}

/// The button under a paged list that asks for its next page, while there is one.
#[component]
pub fn MoreButton<T: Send + Sync + 'static>(
    list: Paged<T>,
    label: &'static str,
    on_more: Callback<String>,
) -> impl IntoView {
    view! {
        <p class="error" role="alert">{move || list.error.get()}</p>
        <Show when=move || list.next.get().is_some()>
            <button type="button" class="more" on:click=move |_| {
                if let Some(cursor) = list.next.get_untracked() {
                    on_more.run(cursor);
                }
            }>{label}</button>
        </Show>
    }
}
