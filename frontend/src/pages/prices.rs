//! The seller's prices: the catalog, price lists, tax rules and rounding that checkout prices
//! with, one version after another. The seller's staff read them; seller admins publish a new
//! version. With forms they add and remove products, price lists and tax rules, change a
//! product's volume prices in a list, a list's name, audience, currency and dates, a tax rule
//! (name, rate, kind, place, class) and the rounding; anything else as JSON.
//! Forms and JSON edit one draft, checked by `rules` in the browser as they type, with the
//! same checks the server makes before it stores a version.

use crate::{
    Session,
    api::{self, Diagnostic},
    pages::{focus, page_heading, refusal, severity},
};
use gloo_net::http::Method;
use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use rules::{
    decimal::{Rounding, parse_decimal},
    ids::{
        CategoryId, CustomerId, GroupId, PriceListId, SharedStr, Sku, TaxClass, TaxRuleId, UnitId,
    },
    money::Currency,
    pricing::{
        Audience, Country, ListPrice, PriceList, PricingData, Product, RoundingMode,
        RoundingPolicy, TaxKind, TaxRule, Tier,
    },
    time::Date,
};
use serde::Deserialize;

/// `GET /api/catalog/document`.
#[derive(Debug, Deserialize)]
struct Document {
    version: i64,
    document: PricingData,
}

/// The draft read: the pricing data, or why the text is not pricing data (with where: the line
/// and column).
type Read = Result<PricingData, Diagnostic>;

fn read(text: &str) -> Read {
    serde_json::from_str(text).map_err(|e| {
        let path = format!("line {}, column {}", e.line(), e.column());
        Diagnostic { error: true, path, message: e.to_string() }
    })
}

/// `PUT /api/catalog/document`'s answer.
#[derive(Debug, Deserialize)]
struct Published {
    version: i64,
}

/// The problems of the draft as read: not JSON or not its shape (with the line and column), or
/// every problem of the engine's own checks.
fn problems(read: &Read) -> Vec<Diagnostic> {
    let data = match read {
        Ok(data) => data,
        Err(e) => return vec![e.clone()],
    };
    rules::pricing::validate(data)
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

/// A volume tier as the form edits it: its texts until they are applied.
#[derive(Debug, Clone, PartialEq)]
struct TierDraft {
    key: u64,
    min_quantity: String,
    unit_price: String,
}

/// What the forms offer to choose from in the draft.
#[derive(Debug, Clone, PartialEq)]
struct Choices {
    /// Each list's label and currency.
    lists: Vec<(String, String)>,
    /// Each product's SKU and name.
    products: Vec<(String, String)>,
    /// The categories and tax classes products have, each once.
    categories: Vec<String>,
    tax_classes: Vec<String>,
    /// Each tax rule's label and rate in percent.
    tax_rules: Vec<(String, String)>,
    /// The currencies of the lists, and the groups lists are for, each once.
    currencies: Vec<String>,
    groups: Vec<String>,
}

impl Choices {
    /// What `d` offers.
    fn of(d: &PricingData) -> Choices {
        let distinct =
            |f: fn(&Product) -> &str| sorted(d.catalog.iter().map(|p| f(p).to_owned()).collect());
        Choices {
            lists: d
                .price_lists
                .iter()
                .map(|l| (format!("{} ({})", l.name, l.id.as_str()), l.currency.to_string()))
                .collect(),
            products: d
                .catalog
                .iter()
                .map(|p| (p.sku.as_str().to_owned(), p.name.to_string()))
                .collect(),
            categories: distinct(|p| p.category.as_str()),
            tax_classes: distinct(|p| p.tax_class.as_str()),
            tax_rules: d
                .tax_rules
                .iter()
                .map(|t| {
                    let region =
                        t.region.as_ref().map(|r| format!(" {}", r.as_str())).unwrap_or_default();
                    let label =
                        format!("{} ({}{region}, {})", t.name, t.country, t.tax_class.as_str());
                    (label, t.percent.to_string())
                })
                .collect(),
            currencies: sorted(d.price_lists.iter().map(|l| l.currency.to_string()).collect()),
            groups: sorted(
                d.price_lists
                    .iter()
                    .filter_map(|l| match &l.audience {
                        Audience::Group(g) => Some(g.as_str().to_owned()),
                        _ => None,
                    })
                    .collect(),
            ),
        }
    }
}

/// The draft that the forms and the JSON edit.
#[derive(Debug, Clone, Copy)]
struct Draft {
    text: RwSignal<String>,
    /// The text read, once per change.
    read: Memo<Read>,
    /// What the forms offer; `None` while the text is not pricing data.
    choices: Memo<Option<Choices>>,
    /// The draft is the published version (nothing to publish; the forms' news is old).
    unchanged: Memo<bool>,
    /// The seller's customer companies (the first page), asked once when the page opens: what
    /// the list forms suggest until a customer is searched by name.
    customers: RwSignal<Vec<Company>>,
}

impl Draft {
    /// The pricing data of the draft, if it is pricing data now: a copy for a form to change.
    fn data(self) -> Option<PricingData> {
        self.read.with_untracked(|r| r.as_ref().ok().cloned())
    }
}

/// A field of the form and what is wrong with it.
type FieldProblem = (String, String);

/// A labelled text input of a form, its problem (if `problems` names it) shown beside it.
fn text_input(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    problems: RwSignal<Vec<FieldProblem>>,
    suggestions: Option<&'static str>,
) -> impl IntoView {
    let error = format!("{id}-error");
    let problem =
        move || problems.with(|p| p.iter().find(|(f, _)| f == id).map(|(_, m)| m.clone()));
    view! {
        <label for=id>{label}</label>
        <input id=id list=suggestions prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))
            aria-describedby=error.clone() aria-invalid=move || problem().is_some().to_string()/>
        <span class="error" id=error>{problem}</span>
    }
}

/// A choice among the draft's price lists or tax rules, by index; `changed` runs after a new
/// choice.
fn index_select(
    id: &'static str,
    choices: Memo<Option<Choices>>,
    of: fn(&Choices) -> &[(String, String)],
    chosen: RwSignal<usize>,
    changed: impl Fn() + 'static,
) -> impl IntoView {
    view! {
        <select id=id on:change=move |ev| {
            chosen.set(event_target_value(&ev).parse().unwrap_or(0));
            changed();
        }>
            {move || choices.with(|c| c.iter().flat_map(|c| of(c).iter().enumerate()).map(|(i, (label, _))| {
                view! { <option value=i.to_string() prop:selected=chosen.get_untracked() == i>{label.clone()}</option> }
            }).collect_view())}
        </select>
    }
}

/// What a form did to the draft, said until the draft is published or discarded.
fn news(said: RwSignal<Option<String>>, unchanged: Memo<bool>, id: &'static str) -> impl IntoView {
    move || {
        said.get()
            .filter(|_| !unchanged.get())
            .map(|said| view! { <p class="ok" role="status" id=id>{said}</p> })
    }
}

/// Writes changed data into the draft, as the JSON editor shows it; false if it cannot be
/// written (it always can: the data was read from JSON).
fn write(text: RwSignal<String>, data: &PricingData) -> bool {
    serde_json::to_string_pretty(data).map(|pretty| text.set(pretty)).is_ok()
}

/// Writes what an "Add" form added into the draft, empties the form's `fields` and says what
/// was done.
fn written(
    text: RwSignal<String>,
    data: &PricingData,
    fields: &[RwSignal<String>],
    news: RwSignal<Option<String>>,
    said: String,
) {
    if write(text, data) {
        for f in fields {
            f.set(String::new());
        }
        news.set(Some(said));
    }
}

/// The fields of a form that do not read, collected as they are checked.
#[derive(Default)]
struct Found(Vec<FieldProblem>);

impl Found {
    /// The value of the field `id` if it reads; else its problem is noted.
    fn check<T>(&mut self, id: &str, value: Result<T, String>) -> Option<T> {
        value.map_err(|problem| self.0.push((id.to_owned(), problem))).ok()
    }
}

/// A value as typed (trimmed), read by `parse`.
fn parsed<T, E: std::fmt::Display>(
    typed: RwSignal<String>,
    parse: fn(&str) -> Result<T, E>,
) -> Result<T, String> {
    typed.with_untracked(|t| parse(t.trim())).map_err(|e| e.to_string())
}

/// A new identifier as typed: it must read, and be none of those `taken` (each with its name,
/// which the refusal gives after `what`).
fn fresh_id<'a, T: PartialEq + 'a, E: std::fmt::Display>(
    typed: RwSignal<String>,
    parse: fn(&str) -> Result<T, E>,
    mut taken: impl Iterator<Item = (&'a T, &'a str)>,
    what: &str,
) -> Result<T, String> {
    let id = parsed(typed, parse)?;
    match taken.find(|(t, _)| **t == id) {
        Some((_, name)) => Err(format!("{what}: {name}")),
        None => Ok(id),
    }
}

/// A name as typed, which must not be empty; `why` says why it is needed.
fn required(typed: RwSignal<String>, why: &str) -> Result<String, String> {
    let name = typed.with_untracked(|n| n.trim().to_owned());
    if name.is_empty() { Err(why.to_owned()) } else { Ok(name) }
}

/// A form's problems, set, with the focus on the first field at fault (`form` selects the
/// form).
fn refuse(problems: RwSignal<Vec<FieldProblem>>, found: Vec<FieldProblem>, form: &'static str) {
    problems.set(found);
    request_animation_frame(move || {
        focus(&format!("{form} [aria-invalid=true]"));
    });
}

/// What the form says, read.
#[derive(Debug)]
struct FormRead {
    /// By minimum quantity.
    tiers: Vec<Tier>,
    valid_from: Option<Date>,
    valid_until: Option<Date>,
}

/// The tiers and dates as typed, read; or every field that does not read, by its id.
fn read_form(tiers: &[TierDraft], from: &str, until: &str) -> Result<FormRead, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut parsed = Vec::new();
    for (i, t) in tiers.iter().enumerate() {
        let min = t.min_quantity.trim().parse::<u32>().ok().filter(|n| *n >= 1);
        if min.is_none() {
            problems.push((format!("tier-{i}-min"), "a whole number of units, 1 or more".into()));
        }
        let price = parse_decimal(t.unit_price.trim()).ok().filter(|p| !p.is_sign_negative());
        if price.is_none() {
            problems.push((format!("tier-{i}-price"), "a price such as 12.50".into()));
        }
        if let (Some(min_quantity), Some(unit_price)) = (min, price) {
            parsed.push(Tier { min_quantity, unit_price });
        }
    }
    let mut date = |id: &str, text: &str| match text.trim() {
        "" => None,
        text => Date::parse(text)
            .map_err(|_| problems.push((id.to_owned(), "a date such as 2027-01-31".into())))
            .ok(),
    };
    let (from, until) = (date("list-valid-from", from), date("list-valid-until", until));
    if !problems.is_empty() {
        return Err(problems);
    }
    parsed.sort_by_key(|t| t.min_quantity);
    Ok(FormRead { tiers: parsed, valid_from: from, valid_until: until })
}

/// The form that adds a product to the draft's catalog; the price form then turns to it, to
/// give it prices.
fn product_form(draft: Draft, chosen: RwSignal<String>) -> impl IntoView {
    let Draft { text, choices, unchanged, .. } = draft;
    let fields: [RwSignal<String>; 4] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let [sku, name, category, tax_class] = fields;
    let problems = RwSignal::new(Vec::<FieldProblem>::new());
    let added = RwSignal::new(None::<String>);
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        added.set(None);
        let Some(mut data) = draft.data() else { return };
        let mut found = Found::default();
        let catalog = data.catalog.iter().map(|p| (&p.sku, &*p.name));
        let new_sku =
            found.check("new-sku", fresh_id(sku, Sku::parse, catalog, "already in the catalog"));
        let new_name = found
            .check("new-name", required(name, "a name is needed: buyers see it in the catalog"));
        let category_id = found.check("new-category", parsed(category, CategoryId::parse));
        let class = found.check("new-tax-class", parsed(tax_class, TaxClass::parse));
        let (Some(new_sku), Some(new_name), Some(category_id), Some(class)) =
            (new_sku, new_name, category_id, class)
        else {
            return refuse(problems, found.0, "form.product");
        };
        problems.set(Vec::new());
        let said = format!(
            "{new_sku} is in the draft's catalog. Give it its prices in each list with the form below, then publish."
        );
        chosen.set(new_sku.as_str().to_owned());
        data.catalog.push(Product {
            sku: new_sku,
            name: SharedStr::from(new_name),
            category: category_id,
            tax_class: class,
        });
        written(text, &data, &fields, added, said);
    };
    let input = move |id, label, value, list| text_input(id, label, value, problems, list);
    view! {
        <h2>"Add a product"</h2>
        <form class="product" on:submit=add hidden=move || choices.with(Option::is_none)>
            {input("new-sku", "SKU", sku, None)}
            {input("new-name", "Name", name, None)}
            {input("new-category", "Category", category, Some("known-categories"))}
            {input("new-tax-class", "Tax class (which tax rules apply)", tax_class, Some("known-tax-classes"))}
            <datalist id="known-categories">
                {move || choices.with(|k| k.iter().flat_map(|k| k.categories.iter()).map(|c| view! { <option value=c.clone()></option> }).collect_view())}
            </datalist>
            <datalist id="known-tax-classes">
                {move || choices.with(|k| k.iter().flat_map(|k| k.tax_classes.iter()).map(|c| view! { <option value=c.clone()></option> }).collect_view())}
            </datalist>
            <button type="submit" id="add-product">"Add to the draft"</button>
            {news(added, unchanged, "product-added")}
        </form>
    }
}

/// The form: one product's volume prices in one list, and the list's dates. It reads the draft
/// when the choice or the draft changes and writes it back on "Apply", so the JSON below, its
/// checks and Publish stay the one way a version is made.
fn price_form(draft: Draft, list: RwSignal<usize>, sku: RwSignal<String>) -> impl IntoView {
    let Draft { text, read, choices, unchanged, .. } = draft;
    let tiers = RwSignal::new(Vec::<TierDraft>::new());
    let name = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    let terms = ListTerms::new(draft.customers);
    let problems = RwSignal::new(Vec::<FieldProblem>::new());
    let applied = RwSignal::new(None::<String>);
    let keys = StoredValue::new(0u64);
    let key = move || {
        keys.update_value(|k| *k += 1);
        keys.get_value()
    };
    // The chosen list and product as `data` has them.
    let show = move |data: &PricingData| {
        let index = list.get_untracked().min(data.price_lists.len().saturating_sub(1));
        list.set(index);
        if !data.catalog.iter().any(|p| sku.with_untracked(|s| p.sku.as_str() == s))
            && let Some(first) = data.catalog.first()
        {
            sku.set(first.sku.as_str().to_owned());
        }
        let Some(l) = data.price_lists.get(index) else { return };
        name.set(l.name.to_string());
        from.set(l.valid_from.map(|d| d.to_string()).unwrap_or_default());
        until.set(l.valid_until.map(|d| d.to_string()).unwrap_or_default());
        terms.show(l);
        let price = sku.with_untracked(|s| l.prices.iter().find(|p| p.sku.as_str() == s));
        tiers.set(
            price
                .map(|p| {
                    p.tiers
                        .iter()
                        .map(|t| TierDraft {
                            key: key(),
                            min_quantity: t.min_quantity.to_string(),
                            unit_price: t.unit_price.to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        );
        problems.set(Vec::new());
    };
    let load = move || {
        read.with_untracked(|r| {
            if let Ok(data) = r {
                show(data);
            }
        });
    };
    Effect::new(move |_| {
        read.track();
        load();
    });
    let problem = move |id: String| {
        move || problems.with(|p| p.iter().find(|(f, _)| *f == id).map(|(_, m)| m.clone()))
    };
    let apply = move |ev: SubmitEvent| {
        ev.prevent_default();
        let form =
            tiers.with_untracked(|t| read_form(t, &from.get_untracked(), &until.get_untracked()));
        let mut found = Found::default();
        let new_name = found.check(
            "list-name",
            required(name, "a name is needed: checkout's explanations name the list"),
        );
        let new_terms = terms.read(&mut found, "list");
        let (
            Ok(FormRead { tiers: new_tiers, valid_from, valid_until }),
            Some(new_name),
            Some((for_whom, in_currency)),
        ) = (form.map_err(|e| found.0.extend(e)), new_name, new_terms)
        else {
            applied.set(None);
            return refuse(problems, found.0, "form.prices");
        };
        let data = draft.data();
        let (Some(mut data), Ok(chosen)) = (data, Sku::parse(&sku.get_untracked())) else {
            return;
        };
        let Some(l) = data.price_lists.get_mut(list.get_untracked()) else { return };
        let renamed = (*l.name != *new_name)
            .then(|| std::mem::replace(&mut l.name, SharedStr::from(new_name)))
            .map(|old| format!("{old} is now called {}. ", l.name))
            .unwrap_or_default();
        let gross = terms.gross.get_untracked();
        let retermed =
            if (&l.audience, l.currency, l.prices_include_tax) == (&for_whom, in_currency, gross) {
                String::new()
            } else {
                let prices = if gross { "VAT included" } else { "before tax" };
                format!(
                    "{} is now for {}, in {in_currency}, its prices {prices}. ",
                    l.name,
                    audience(&for_whom)
                )
            };
        l.audience = for_whom;
        l.currency = in_currency;
        l.prices_include_tax = gross;
        l.valid_from = valid_from;
        l.valid_until = valid_until;
        let priced = l.prices.iter().any(|p| p.sku == chosen);
        let said = if new_tiers.is_empty() {
            l.prices.retain(|p| p.sku != chosen);
            if priced {
                format!("{chosen} is no longer priced in {}.", l.name)
            } else {
                format!("The dates of {} are set.", l.name)
            }
        } else if let Some(p) = l.prices.iter_mut().find(|p| p.sku == chosen) {
            p.tiers = new_tiers;
            format!("{chosen}'s prices in {} are changed.", l.name)
        } else {
            l.prices.push(ListPrice { sku: chosen.clone(), tiers: new_tiers });
            format!("{chosen} is now priced in {}.", l.name)
        };
        if write(text, &data) {
            applied.set(Some(format!(
                "{renamed}{retermed}{said} Publish to make it what checkout prices with."
            )));
        }
    };
    let currency = move || {
        choices.with(|c| {
            c.as_ref()
                .and_then(|c| c.lists.get(list.get()).map(|(_, currency)| currency.clone()))
                .unwrap_or_default()
        })
    };
    let rows = move || tiers.with(|t| t.iter().cloned().enumerate().collect::<Vec<_>>());
    // The focus stays in the table: on the tier that took the removed one's place, the one
    // before it, or "Add a tier" when none is left.
    let remove = move |i: usize| {
        tiers.update(|ts| {
            if i < ts.len() {
                ts.remove(i);
            }
        });
        let left = tiers.with_untracked(Vec::len);
        let next = if left == 0 {
            "#add-tier".to_owned()
        } else {
            format!("#tier-{}-min", i.min(left - 1))
        };
        request_animation_frame(move || {
            focus(&next);
        });
    };
    view! {
        <h2>"Change a price or a list"</h2>
        <form class="prices" on:submit=apply hidden=move || choices.with(Option::is_none)>
            <p class="muted">"A product's unit price by quantity in one list, and the list's name, customers, currency and dates: each tier applies from its minimum quantity; with no tiers, the list no longer prices the product. Apply writes it into the draft, checked like the rest."</p>
            <label for="price-list-choice">"Price list"</label>
            {index_select("price-list-choice", choices, |c| &c.lists, list, move || {
                applied.set(None);
                load();
            })}
            <label for="price-product">"Product"</label>
            <select id="price-product" on:change=move |ev| {
                sku.set(event_target_value(&ev));
                applied.set(None);
                load();
            }>
                {move || choices.with(|c| c.iter().flat_map(|c| c.products.iter()).map(|(s, name)| {
                    view! { <option value=s.clone() prop:selected=sku.with_untracked(|k| k == s)>{format!("{name} ({s})")}</option> }
                }).collect_view())}
            </select>
            <table class="tiers" id="price-tiers">
                <thead><tr>
                    <th scope="col">"From quantity"</th>
                    <th scope="col">"Unit price (" {currency} ")"</th>
                    <th scope="col"><span class="visually-hidden">"Remove"</span></th>
                </tr></thead>
                <tbody>
                    <For each=rows key=|(i, t)| (*i, t.key) let:item>
                        {
                            let (i, t) = item;
                            let (min_id, price_id) = (format!("tier-{i}-min"), format!("tier-{i}-price"));
                            let (min_error, price_error) = (format!("{min_id}-error"), format!("{price_id}-error"));
                            let (min_problem, price_problem) = (problem(min_id.clone()), problem(price_id.clone()));
                            let edit = move |f: fn(&mut TierDraft, String)| move |ev: leptos::ev::Event| {
                                let value = event_target_value(&ev);
                                tiers.update(|ts| if let Some(t) = ts.get_mut(i) { f(t, value) });
                            };
                            view! {
                                <tr>
                                    <td>
                                        <input id=min_id inputmode="numeric" size="6" prop:value=t.min_quantity
                                            aria-label=format!("Tier {} from quantity", i + 1)
                                            on:input=edit(|t, v| t.min_quantity = v)
                                            aria-describedby=min_error.clone() aria-invalid=move || min_problem().is_some().to_string()/>
                                        <span class="error" id=min_error>{problem(format!("tier-{i}-min"))}</span>
                                    </td>
                                    <td>
                                        <input id=price_id inputmode="decimal" size="10" prop:value=t.unit_price
                                            aria-label=format!("Tier {} unit price", i + 1)
                                            on:input=edit(|t, v| t.unit_price = v)
                                            aria-describedby=price_error.clone() aria-invalid=move || price_problem().is_some().to_string()/>
                                        <span class="error" id=price_error>{problem(format!("tier-{i}-price"))}</span>
                                    </td>
                                    <td><button type="button" aria-label=format!("Remove tier {}", i + 1)
                                        on:click=move |_| remove(i)>"Remove"</button></td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
            <button type="button" id="add-tier" on:click=move |_| {
                let n = tiers.with_untracked(Vec::len);
                tiers.update(|ts| ts.push(TierDraft { key: key(), min_quantity: String::new(), unit_price: String::new() }));
                request_animation_frame(move || { focus(&format!("#tier-{n}-min")); });
            }>"Add a tier"</button>
            <fieldset>
                <legend>"The list"</legend>
                <label for="list-name">"Name (checkout's explanations give it)"</label>
                <input id="list-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))
                    aria-describedby="list-name-error" aria-invalid=move || problem("list-name".into())().is_some().to_string()/>
                <span class="error" id="list-name-error">{problem("list-name".into())}</span>
                {terms.fields("list", problems, choices)}
                <label for="list-valid-from">"Applies from (empty: always)"</label>
                <input id="list-valid-from" type="date" prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev))
                    aria-describedby="list-valid-from-error" aria-invalid=move || problem("list-valid-from".into())().is_some().to_string()/>
                <span class="error" id="list-valid-from-error">{problem("list-valid-from".into())}</span>
                <label for="list-valid-until">"Until (empty: for good)"</label>
                <input id="list-valid-until" type="date" prop:value=move || until.get() on:input=move |ev| until.set(event_target_value(&ev))
                    aria-describedby="list-valid-until-error" aria-invalid=move || problem("list-valid-until".into())().is_some().to_string()/>
                <span class="error" id="list-valid-until-error">{problem("list-valid-until".into())}</span>
            </fieldset>
            <button type="submit" id="apply-price">"Apply to the draft"</button>
            {news(applied, unchanged, "price-applied")}
        </form>
    }
}

/// Where a tax rule applies and what it taxes, as typed in the fields `{form}-country`,
/// `{form}-region` and `{form}-class`; each field that does not read is noted in `found`.
fn read_place(
    found: &mut Found,
    form: &str,
    [country, region, class]: [RwSignal<String>; 3],
) -> Option<(Country, Option<UnitId>, TaxClass)> {
    let in_country = found.check(
        &format!("{form}-country"),
        country
            .with_untracked(|c| Country::parse(&c.trim().to_ascii_uppercase()))
            .map_err(|_| "a two-letter country code, such as US or DE".to_owned()),
    );
    let in_region = match region.with_untracked(|r| r.trim().is_empty()) {
        true => Some(None),
        false => found.check(&format!("{form}-region"), parsed(region, UnitId::parse)).map(Some),
    };
    let tax_class = found.check(&format!("{form}-class"), parsed(class, TaxClass::parse));
    Some((in_country?, in_region?, tax_class?))
}

/// A tax rate as typed, in percent: from 0 to 100.
fn read_rate(rate: RwSignal<String>) -> Result<rust_decimal::Decimal, String> {
    parsed(rate, parse_decimal)
        .ok()
        .filter(|p| !p.is_sign_negative() && *p <= rust_decimal::Decimal::ONE_HUNDRED)
        .ok_or_else(|| "a rate in percent from 0 to 100, such as 8.875".to_owned())
}

/// The rule of `rules` other than the one at `except` that already taxes `class` at the same
/// place, which a second rule there would contradict.
fn place_taken<'a>(
    rules: &'a [TaxRule],
    except: Option<usize>,
    (country, region, class): &(Country, Option<UnitId>, TaxClass),
) -> Option<&'a TaxRule> {
    rules.iter().enumerate().find_map(|(i, t)| {
        let same = t.country == *country && t.region == *region && t.tax_class == *class;
        (same && Some(i) != except).then_some(t)
    })
}

/// "US, NY" or "DE": where a rule applies, in words.
fn place_words(country: &Country, region: Option<&UnitId>) -> String {
    match region {
        Some(r) => format!("{country}, {}", r.as_str()),
        None => country.to_string(),
    }
}

/// The choice of a tax rule's kind.
fn kind_select(id: &'static str, kind: RwSignal<TaxKind>) -> impl IntoView {
    view! {
        <label for=id>"Kind"</label>
        <select id=id on:change=move |ev| {
            kind.set(if event_target_value(&ev) == "vat" { TaxKind::Vat } else { TaxKind::SalesTax })
        }>
            <option value="sales_tax" prop:selected=move || kind.get() == TaxKind::SalesTax>"Sales tax (added on top of net prices)"</option>
            <option value="vat" prop:selected=move || kind.get() == TaxKind::Vat>"VAT (added to net prices, or contained in gross ones)"</option>
        </select>
    }
}

/// The form that changes a tax rule in the draft: its name, rate, kind, place and class.
fn tax_form(draft: Draft, rule: RwSignal<usize>) -> impl IntoView {
    let Draft { text, read, choices, unchanged, .. } = draft;
    let fields: [RwSignal<String>; 5] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let [name, rate, country, region, class] = fields;
    let kind = RwSignal::new(TaxKind::SalesTax);
    let problems = RwSignal::new(Vec::<FieldProblem>::new());
    let applied = RwSignal::new(None::<String>);
    // The chosen rule as the draft has it.
    let load = move || {
        let now = read.with_untracked(|r| {
            let rule = r.as_ref().ok()?.tax_rules.get(rule.get_untracked())?;
            let region = rule.region.as_ref().map(|r| r.as_str().to_owned()).unwrap_or_default();
            let texts = [
                rule.name.to_string(),
                rule.percent.to_string(),
                rule.country.to_string(),
                region,
                rule.tax_class.as_str().to_owned(),
            ];
            Some((texts, rule.kind))
        });
        let (texts, now_kind) = now.unwrap_or_else(|| (Default::default(), TaxKind::SalesTax));
        for (field, text) in fields.iter().zip(texts) {
            field.set(text);
        }
        kind.set(now_kind);
        problems.set(Vec::new());
    };
    Effect::new(move |_| {
        read.track();
        load();
    });
    let apply = move |ev: SubmitEvent| {
        ev.prevent_default();
        applied.set(None);
        let mut found = Found::default();
        let new_name = found
            .check("tax-name", required(name, "a name is needed: checkout's explanations give it"));
        let percent = found.check("tax-rate", read_rate(rate));
        let place = read_place(&mut found, "tax", [country, region, class]);
        let (Some(new_name), Some(percent), Some(place)) = (new_name, percent, place) else {
            return refuse(problems, found.0, "form.tax");
        };
        let Some(mut data) = draft.data() else { return };
        let index = rule.get_untracked();
        if let Some(other) = place_taken(&data.tax_rules, Some(index), &place) {
            let problem = format!("{} already taxes this class there", other.name);
            return refuse(problems, vec![("tax-class".to_owned(), problem)], "form.tax");
        }
        problems.set(Vec::new());
        let Some(t) = data.tax_rules.get_mut(index) else { return };
        let (in_country, in_region, tax_class) = place;
        t.percent = percent;
        t.kind = kind.get_untracked();
        t.country = in_country;
        t.region = in_region;
        t.tax_class = tax_class;
        let renamed = (*t.name != *new_name)
            .then(|| std::mem::replace(&mut t.name, SharedStr::from(new_name)))
            .map(|old| format!("{old} is now called {}. ", t.name))
            .unwrap_or_default();
        let said = format!(
            "{renamed}{} is {percent} % in the draft, on the tax class {} in {}. Publish to make it what checkout taxes with.",
            t.name,
            t.tax_class.as_str(),
            place_words(&t.country, t.region.as_ref()),
        );
        if write(text, &data) {
            applied.set(Some(said));
        }
    };
    let input = move |id, label, value, list| text_input(id, label, value, problems, list);
    view! {
        <h2>"Change a tax rule"</h2>
        <form class="tax" on:submit=apply hidden=move || choices.with(|c| c.as_ref().is_none_or(|c| c.tax_rules.is_empty()))>
            <label for="tax-rule-choice">"Tax rule"</label>
            {index_select("tax-rule-choice", choices, |c| &c.tax_rules, rule, move || {
                applied.set(None);
                load();
            })}
            {input("tax-name", "Name (checkout's explanations give it)", name, None)}
            {input("tax-rate", "Rate (%)", rate, None)}
            {kind_select("tax-kind", kind)}
            {input("tax-country", "Country (two letters)", country, None)}
            {input("tax-region", "Region, such as a US state (empty: the whole country)", region, None)}
            {input("tax-class", "Tax class (the products it taxes)", class, Some("known-tax-classes"))}
            <button type="submit" id="apply-tax">"Apply to the draft"</button>
            {news(applied, unchanged, "tax-applied")}
        </form>
    }
}

/// A customer company, as `GET /api/companies` lists it: suggested when a list is for a
/// customer or a group.
#[derive(Debug, Clone, Deserialize)]
struct Company {
    id: String,
    name: String,
    currency: String,
    #[serde(default)]
    customer_group: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Companies {
    companies: Vec<Company>,
}

/// What a datalist suggests, from the draft's choices and the customer companies: each value
/// with its label.
type Suggestions = fn(&Choices, &[Company]) -> Vec<(String, String)>;

/// Who a price list is for, in what currency, and whether its prices include VAT, as a form
/// has them typed: the add-list form and the price form (for the chosen list) share them.
#[derive(Debug, Clone, Copy)]
struct ListTerms {
    /// "default", "group" or "customer".
    audience: RwSignal<String>,
    /// The group or the customer company's id.
    who: RwSignal<String>,
    currency: RwSignal<String>,
    gross: RwSignal<bool>,
    /// The seller's customer companies, for suggestions: for a list for one customer, those
    /// whose name or id has what is typed (however many the seller has); else the page's
    /// first page. Only the latest answer counts.
    companies: RwSignal<Vec<Company>>,
}

impl ListTerms {
    /// `first`: the first page of customer companies, which the page asks once for both forms.
    fn new(first: RwSignal<Vec<Company>>) -> ListTerms {
        let terms = ListTerms {
            audience: RwSignal::new("default".to_owned()),
            who: RwSignal::new(String::new()),
            currency: RwSignal::new(String::new()),
            gross: RwSignal::new(false),
            companies: RwSignal::new(Vec::new()),
        };
        let ListTerms { audience, who, companies, .. } = terms;
        let asked = StoredValue::new(0u32);
        Effect::new(move |_| {
            let typed = if audience.get() == "customer" { who.get() } else { String::new() };
            let n = asked.get_value().wrapping_add(1);
            asked.set_value(n);
            if typed.trim().is_empty() {
                // Also when the first page arrives; an older search's answer no longer counts.
                companies.set(first.get());
                return;
            }
            spawn_local(async move {
                let path =
                    format!("/api/companies?q={}", js_sys::encode_uri_component(typed.trim()));
                if let Ok(found) = api::get::<Companies>(&path).await
                    && asked.get_value() == n
                {
                    companies.set(found.companies);
                }
            });
        });
        terms
    }

    /// Shows the terms of `list`.
    fn show(self, list: &PriceList) {
        let (kind, who) = match &list.audience {
            Audience::Default => ("default", ""),
            Audience::Group(g) => ("group", g.as_str()),
            Audience::Customer(c) => ("customer", c.as_str()),
        };
        self.audience.set(kind.to_owned());
        self.who.set(who.to_owned());
        self.currency.set(list.currency.to_string());
        self.gross.set(list.prices_include_tax);
    }

    /// Back to a new list's: for everyone, no currency yet, net prices.
    fn clear(self) {
        self.audience.set("default".to_owned());
        self.who.set(String::new());
        self.currency.set(String::new());
        self.gross.set(false);
    }

    /// The audience and currency as typed; a field that does not read is noted in `found`
    /// under `{form}-who` or `{form}-currency`.
    fn read(self, found: &mut Found, form: &str) -> Option<(Audience, Currency)> {
        let for_whom = match self.audience.get_untracked().as_str() {
            "group" => parsed(self.who, GroupId::parse).map(Audience::Group),
            "customer" => parsed(self.who, CustomerId::parse).map(Audience::Customer),
            _ => Ok(Audience::Default),
        };
        let for_whom = found.check(&format!("{form}-who"), for_whom);
        let code = self.currency.with_untracked(|c| c.trim().to_ascii_uppercase());
        let currency = found.check(
            &format!("{form}-currency"),
            Currency::from_code(&code)
                .map_err(|_| "an ISO 4217 currency code, such as USD or EUR".to_owned()),
        );
        Some((for_whom?, currency?))
    }

    /// The fields, with ids `{form}-for`, `{form}-who`, `{form}-currency` and `{form}-gross`,
    /// and the lists of what they suggest (`{form}-groups`, `{form}-customers`,
    /// `{form}-currencies`); `problems` places each field's problem beside it.
    fn fields(
        self,
        form: &'static str,
        problems: RwSignal<Vec<FieldProblem>>,
        choices: Memo<Option<Choices>>,
    ) -> impl IntoView {
        let ListTerms { audience, who, currency, gross, companies } = self;
        let id = move |field: &str| format!("{form}-{field}");
        let problem = move |field: &'static str| {
            let id = id(field);
            move || problems.with(|p| p.iter().find(|(f, _)| *f == id).map(|(_, m)| m.clone()))
        };
        let suggest = move |f: Suggestions| {
            move || {
                let all = choices.with(|c| {
                    companies
                        .with(|companies| c.as_ref().map(|c| f(c, companies)).unwrap_or_default())
                });
                all.into_iter()
                    .map(|(value, label)| view! { <option value=value>{label}</option> })
                    .collect_view()
            }
        };
        let (groups, customers, currencies) = (id("groups"), id("customers"), id("currencies"));
        let who_list = {
            let (groups, customers) = (groups.clone(), customers.clone());
            move || if audience.get() == "group" { groups.clone() } else { customers.clone() }
        };
        view! {
            <label for=id("for")>"For"</label>
            <select id=id("for") on:change=move |ev| audience.set(event_target_value(&ev))>
                <option value="default" prop:selected=move || audience.get() == "default">"Everyone (a default list)"</option>
                <option value="group" prop:selected=move || audience.get() == "group">"A customer group"</option>
                <option value="customer" prop:selected=move || audience.get() == "customer">"One customer company"</option>
            </select>
            <div hidden=move || audience.get() == "default">
                <label for=id("who")>{move || if audience.get() == "group" { "The group" } else { "The company (its id)" }}</label>
                <input id=id("who") prop:value=move || who.get() on:input=move |ev| who.set(event_target_value(&ev))
                    list=who_list aria-describedby=id("who-error") aria-invalid=move || problem("who")().is_some().to_string()/>
                <span class="error" id=id("who-error")>{problem("who")}</span>
            </div>
            <label for=id("currency")>"Currency"</label>
            <input id=id("currency") prop:value=move || currency.get() on:input=move |ev| currency.set(event_target_value(&ev))
                list=currencies.clone() aria-describedby=id("currency-error") aria-invalid=move || problem("currency")().is_some().to_string()/>
            <span class="error" id=id("currency-error")>{problem("currency")}</span>
            <label class="inline"><input type="checkbox" id=id("gross") prop:checked=move || gross.get()
                on:change=move |ev| gross.set(event_target_checked(&ev))/>" Prices include VAT (gross, as shops in Europe show them)"</label>
            <datalist id=groups>{suggest(|c, companies| {
                let mut all = c.groups.clone();
                all.extend(companies.iter().filter_map(|k| k.customer_group.clone()));
                sorted(all).into_iter().map(|g| (g.clone(), g)).collect()
            })}</datalist>
            <datalist id=customers>{suggest(|_, companies| {
                companies.iter().map(|k| (k.id.clone(), k.name.clone())).collect()
            })}</datalist>
            <datalist id=currencies>{suggest(|c, companies| {
                let mut all = c.currencies.clone();
                all.extend(companies.iter().map(|k| k.currency.clone()));
                sorted(all).into_iter().map(|g| (g.clone(), g)).collect()
            })}</datalist>
        }
    }
}

/// Each text once, sorted.
fn sorted(mut all: Vec<String>) -> Vec<String> {
    all.sort_unstable();
    all.dedup();
    all
}

/// The form that adds a price list to the draft, with no prices yet; the price form then turns
/// to it, to give it prices and dates.
fn list_form(draft: Draft, chosen: RwSignal<usize>) -> impl IntoView {
    let Draft { text, choices, unchanged, .. } = draft;
    let fields: [RwSignal<String>; 2] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let [id, name] = fields;
    let terms = ListTerms::new(draft.customers);
    let problems = RwSignal::new(Vec::<FieldProblem>::new());
    let added = RwSignal::new(None::<String>);
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        added.set(None);
        let Some(mut data) = draft.data() else { return };
        let mut found = Found::default();
        let lists = data.price_lists.iter().map(|l| (&l.id, &*l.name));
        let list_id = found
            .check("new-list-id", fresh_id(id, PriceListId::parse, lists, "already a price list"));
        let new_name = found.check(
            "new-list-name",
            required(name, "a name is needed: checkout's explanations name the list"),
        );
        let read = terms.read(&mut found, "new-list");
        let (Some(list_id), Some(new_name), Some((for_whom, in_currency))) =
            (list_id, new_name, read)
        else {
            return refuse(problems, found.0, "form.list");
        };
        problems.set(Vec::new());
        let said = format!(
            "{new_name} is in the draft, with no prices yet: give it its prices and dates with the form below, then publish."
        );
        data.price_lists.push(PriceList {
            id: list_id,
            name: SharedStr::from(new_name),
            audience: for_whom,
            currency: in_currency,
            prices_include_tax: terms.gross.get_untracked(),
            valid_from: None,
            valid_until: None,
            prices: Vec::new(),
        });
        chosen.set(data.price_lists.len().saturating_sub(1));
        terms.clear();
        written(text, &data, &fields, added, said);
    };
    let input = move |id, label, value| text_input(id, label, value, problems, None);
    view! {
        <h2>"Add a price list"</h2>
        <form class="list" on:submit=add hidden=move || choices.with(Option::is_none)>
            {input("new-list-id", "Id (as explanations and the JSON name it)", id)}
            {input("new-list-name", "Name", name)}
            {terms.fields("new-list", problems, choices)}
            <button type="submit" id="add-list">"Add to the draft"</button>
            {news(added, unchanged, "list-added")}
        </form>
    }
}

/// The form that adds a tax rule to the draft; the tax form then turns to it.
fn rule_form(draft: Draft, chosen: RwSignal<usize>) -> impl IntoView {
    let Draft { text, choices, unchanged, .. } = draft;
    let fields: [RwSignal<String>; 6] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let [id, name, country, region, class, rate] = fields;
    let kind = RwSignal::new(TaxKind::SalesTax);
    let problems = RwSignal::new(Vec::<FieldProblem>::new());
    let added = RwSignal::new(None::<String>);
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        added.set(None);
        let Some(mut data) = draft.data() else { return };
        let mut found = Found::default();
        let rules = data.tax_rules.iter().map(|r| (&r.id, &*r.name));
        let rule_id =
            found.check("new-rule-id", fresh_id(id, TaxRuleId::parse, rules, "already a tax rule"));
        let new_name = found.check(
            "new-rule-name",
            required(name, "a name is needed: checkout's explanations give it"),
        );
        let place = read_place(&mut found, "new-rule", [country, region, class]);
        let percent = found.check("new-rule-rate", read_rate(rate));
        let (Some(rule_id), Some(new_name), Some(place), Some(percent)) =
            (rule_id, new_name, place, percent)
        else {
            return refuse(problems, found.0, "form.rule");
        };
        if let Some(other) = place_taken(&data.tax_rules, None, &place) {
            let problem = format!("{} already taxes this class there", other.name);
            return refuse(problems, vec![("new-rule-class".to_owned(), problem)], "form.rule");
        }
        problems.set(Vec::new());
        let (in_country, in_region, tax_class) = place;
        let place = place_words(&in_country, in_region.as_ref());
        let said = format!(
            "{new_name} is in the draft: {percent} % on the tax class {} in {place}. Publish to make it what checkout taxes with.",
            tax_class.as_str()
        );
        data.tax_rules.push(TaxRule {
            id: rule_id,
            name: SharedStr::from(new_name),
            kind: kind.get_untracked(),
            country: in_country,
            region: in_region,
            tax_class,
            percent,
        });
        chosen.set(data.tax_rules.len().saturating_sub(1));
        written(text, &data, &fields, added, said);
    };
    let input = move |id, label, value, list| text_input(id, label, value, problems, list);
    view! {
        <h2>"Add a tax rule"</h2>
        <form class="rule" on:submit=add hidden=move || choices.with(Option::is_none)>
            {input("new-rule-id", "Id", id, None)}
            {input("new-rule-name", "Name", name, None)}
            {kind_select("new-rule-kind", kind)}
            {input("new-rule-country", "Country (two letters)", country, None)}
            {input("new-rule-region", "Region, such as a US state (empty: the whole country)", region, None)}
            {input("new-rule-class", "Tax class (the products it taxes)", class, Some("known-tax-classes"))}
            {input("new-rule-rate", "Rate (%)", rate, None)}
            <button type="submit" id="add-rule">"Add to the draft"</button>
            {news(added, unchanged, "rule-added")}
        </form>
    }
}

/// What a removal form takes out of the draft: a product, a price list or a tax rule.
#[derive(Clone, Copy)]
struct Removal {
    /// The kind, in the form's ids: `remove-{what}-choice`, `remove-{what}`, `{what}-removed`.
    what: &'static str,
    heading: &'static str,
    label: &'static str,
    /// The draft's items of this kind: each one's id and label.
    items: fn(&PricingData) -> Vec<(String, String)>,
    /// Takes the item out of `data` by its id and says what that did; `None` if it is not there.
    remove: fn(&mut PricingData, &str) -> Option<String>,
}

/// A product goes out of the catalog and out of every list that prices it.
const PRODUCT_REMOVAL: Removal = Removal {
    what: "product",
    heading: "Remove a product",
    label: "Product",
    items: |d| {
        let label = |p: &Product| format!("{} ({})", p.name, p.sku);
        d.catalog.iter().map(|p| (p.sku.as_str().to_owned(), label(p))).collect()
    },
    remove: |data, sku| {
        let at = data.catalog.iter().position(|p| p.sku.as_str() == sku)?;
        let gone = data.catalog.remove(at);
        let mut lists = 0;
        for l in &mut data.price_lists {
            let before = l.prices.len();
            l.prices.retain(|p| p.sku != gone.sku);
            lists += usize::from(l.prices.len() != before);
        }
        let priced = match lists {
            0 => String::new(),
            1 => ", and from the one list that priced it".to_owned(),
            n => format!(", and from the {n} lists that priced it"),
        };
        Some(format!(
            "{} ({}) is out of the draft's catalog{priced}. Publish to make it so; orders already placed keep it.",
            gone.sku, gone.name
        ))
    },
};

/// A price list goes with its prices.
const LIST_REMOVAL: Removal = Removal {
    what: "list",
    heading: "Remove a price list",
    label: "Price list",
    items: |d| {
        let label = |l: &PriceList| format!("{} ({})", l.name, l.id.as_str());
        d.price_lists.iter().map(|l| (l.id.as_str().to_owned(), label(l))).collect()
    },
    remove: |data, id| {
        let at = data.price_lists.iter().position(|l| l.id.as_str() == id)?;
        let gone = data.price_lists.remove(at);
        let prices = match gone.prices.len() {
            0 => "no prices".to_owned(),
            1 => "its one price".to_owned(),
            n => format!("its {n} prices"),
        };
        Some(format!(
            "{} is out of the draft, with {prices}. Publish to make it so: {} is then priced by the next list that applies; orders already placed keep their prices.",
            gone.name,
            audience(&gone.audience)
        ))
    },
};

/// A tax rule goes: the class it taxed where it applied is untaxed there until a rule covers it.
const RULE_REMOVAL: Removal = Removal {
    what: "rule",
    heading: "Remove a tax rule",
    label: "Tax rule",
    items: |d| {
        let label = |t: &TaxRule| format!("{} ({})", t.name, t.id.as_str());
        d.tax_rules.iter().map(|t| (t.id.as_str().to_owned(), label(t))).collect()
    },
    remove: |data, id| {
        let at = data.tax_rules.iter().position(|t| t.id.as_str() == id)?;
        let gone = data.tax_rules.remove(at);
        let region = gone.region.as_ref().map(|r| format!(", {}", r.as_str())).unwrap_or_default();
        Some(format!(
            "{} is out of the draft: it no longer taxes the class {} in {}{region}. Publish to make it so; orders already placed keep their tax.",
            gone.name,
            gone.tax_class.as_str(),
            gone.country
        ))
    },
};

/// The form that takes a product, a price list or a tax rule out of the draft; `removed` runs
/// after it did (to turn the other forms away from what is gone).
fn removal_form(draft: Draft, r: Removal, removed: impl Fn() + 'static) -> impl IntoView {
    let Draft { text, read, unchanged, .. } = draft;
    let chosen = RwSignal::new(String::new());
    let said = RwSignal::new(None::<String>);
    let items = Memo::new(move |_| read.with(|d| d.as_ref().map(r.items).unwrap_or_default()));
    // The item the select shows and Remove takes: the one chosen while it is there, else the
    // first (after a removal, say).
    let shown = move |all: &[(String, String)]| {
        chosen
            .with_untracked(|c| all.iter().find(|(id, _)| id == c).or(all.first()))
            .map(|(id, _)| id.clone())
    };
    let remove = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(mut data) = draft.data() else { return };
        let id = items.with_untracked(|all| shown(all));
        let Some(done) = id.and_then(|id| (r.remove)(&mut data, &id)) else { return };
        if write(text, &data) {
            chosen.set(String::new());
            said.set(Some(done));
            removed();
        }
    };
    let (choice, button) = (format!("remove-{}-choice", r.what), format!("remove-{}", r.what));
    view! {
        <h2>{r.heading}</h2>
        <form class="removal" on:submit=remove hidden=move || items.with(Vec::is_empty)>
            <label for=choice.clone()>{r.label}</label>
            <select id=choice on:change=move |ev| chosen.set(event_target_value(&ev))>
                {move || items.with(|all| {
                    let shown = shown(all);
                    all.iter().map(|(id, label)| {
                        view! { <option value=id.clone() prop:selected=shown.as_ref() == Some(id)>{label.clone()}</option> }
                    }).collect_view()
                })}
            </select>
            <button type="submit" class="danger" id=button>"Remove from the draft"</button>
            {news(said, unchanged, match r.what { "list" => "list-removed", "rule" => "rule-removed", _ => "product-removed" })}
        </form>
    }
}

/// Where rounding happens, as the rounding form offers it.
const MODES: [(RoundingMode, &str); 2] = [
    (RoundingMode::PerLine, "each line; the totals are the sums of the lines"),
    (RoundingMode::OnTotal, "the totals only; the lines are kept exact"),
];

/// How amounts round, as the rounding form offers it.
const RULES: [(Rounding, &str); 7] = [
    (Rounding::HalfUp, "half up: 0.125 is 0.13, -0.125 is -0.13"),
    (Rounding::HalfEven, "half to even (banker's): 0.125 is 0.12, 0.135 is 0.14"),
    (Rounding::HalfDown, "half down: 0.125 is 0.12"),
    (Rounding::Up, "up, away from zero: 0.121 is 0.13"),
    (Rounding::Down, "down, towards zero: 0.129 is 0.12"),
    (Rounding::Ceiling, "ceiling, towards positive: -0.129 is -0.12"),
    (Rounding::Floor, "floor, towards negative: 0.121 is 0.12, -0.121 is -0.13"),
];

/// One select of the rounding form: it shows the draft's setting (`of` reads it) and writes a
/// new choice into the draft at once, with `set`.
fn rounding_select<T: Copy + PartialEq + Send + Sync + 'static>(
    draft: Draft,
    id: &'static str,
    options: &'static [(T, &'static str)],
    of: fn(&RoundingPolicy) -> T,
    set: fn(&mut RoundingPolicy, T),
    said: RwSignal<Option<String>>,
) -> impl IntoView {
    let now = Memo::new(move |_| draft.read.with(|d| d.as_ref().ok().map(|d| of(&d.rounding))));
    let change = move |ev: leptos::ev::Event| {
        let picked = event_target_value(&ev).parse::<usize>().ok().and_then(|i| options.get(i));
        let (Some((value, _)), Some(mut data)) = (picked, draft.data()) else { return };
        set(&mut data.rounding, *value);
        let RoundingPolicy { mode, rounding } = data.rounding;
        if write(draft.text, &data) {
            said.set(Some(format!(
                "Rounding is {}, {} in the draft. Publish to price with it; orders already placed keep their amounts.",
                words(&mode),
                words(&rounding)
            )));
        }
    };
    view! {
        <select id=id on:change=change>
            {move || options.iter().enumerate().map(|(i, (value, label))| {
                view! { <option value=i.to_string() prop:selected=now.get() == Some(*value)>{*label}</option> }
            }).collect_view()}
        </select>
    }
}

/// Where and how amounts round to the currency's minor unit. Each choice is written into the
/// draft as it is made: the selects always show the draft's setting.
fn rounding_form(draft: Draft) -> impl IntoView {
    let said = RwSignal::new(None::<String>);
    view! {
        <h2>"Rounding"</h2>
        <form class="rounding" hidden=move || draft.choices.with(Option::is_none) on:submit=|ev: SubmitEvent| ev.prevent_default()>
            <label for="rounding-mode">"Round to the currency's minor unit (cents)"</label>
            {rounding_select(draft, "rounding-mode", &MODES, |r| r.mode, |r, m| r.mode = m, said)}
            <label for="rounding-rule">"How amounts round"</label>
            {rounding_select(draft, "rounding-rule", &RULES, |r| r.rounding, |r, v| r.rounding = v, said)}
            {news(said, draft.unchanged, "rounding-changed")}
        </form>
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
    // The product and the list the price form shows, and the rule the tax form shows: the
    // forms that add one turn them to it.
    let chosen = RwSignal::new(String::new());
    let chosen_list = RwSignal::new(0usize);
    let chosen_rule = RwSignal::new(0usize);
    // Every change of the text is read once, here; the checks, the forms' choices and the
    // forms themselves use what was read.
    let read = Memo::new_with_compare(move |_| text.with(|t| read(t)), |_, _| true);
    let choices = Memo::new(move |_| read.with(|r| r.as_ref().ok().map(Choices::of)));
    let unchanged = Memo::new(move |_| text.with(|t| published_text.with(|p| t == p)));
    let customers = RwSignal::new(Vec::new());
    let draft = Draft { text, read, choices, unchanged, customers };
    if admin {
        spawn_local(async move {
            if let Ok(found) = api::get::<Companies>("/api/companies").await {
                customers.set(found.companies);
            }
        });
    }
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
    let checked = Memo::new(move |_| read.with(problems));
    let blocked =
        move || busy.get() || checked.with(|p| p.iter().any(|p| p.error)) || unchanged.get();
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
        if unchanged.get() {
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
            {move || choices.with(Option::is_none).then(|| view! {
                <p class="muted" id="forms-blocked">"The forms read the draft below, which is not pricing data now: fix it or discard the changes."</p>
            })}
            {product_form(draft, chosen)}
            {removal_form(draft, PRODUCT_REMOVAL, || ())}
            {list_form(draft, chosen_list)}
            {price_form(draft, chosen_list, chosen)}
            {removal_form(draft, LIST_REMOVAL, move || chosen_list.set(0))}
            {rule_form(draft, chosen_rule)}
            {tax_form(draft, chosen_rule)}
            {removal_form(draft, RULE_REMOVAL, move || chosen_rule.set(0))}
            {rounding_form(draft)}
            <h2>"Publish a new version"</h2>
            <p class="muted">"The whole pricing data as JSON: "<code>"catalog"</code>" (products), "<code>"price_lists"</code>" (with volume tiers), "<code>"tax_rules"</code>" and "<code>"rounding"</code>". It is checked as you type, as the server will check it; orders already placed keep the version they were priced with."</p>
            <label for="pricing-json">"The pricing data (JSON)"</label>
            <textarea id="pricing-json" class="json" rows="24" spellcheck="false" aria-describedby="pricing-problems"
                prop:value=move || text.get() on:input=move |ev| { outcome.set(None); text.set(event_target_value(&ev)) }></textarea>
            {problem_list}
            <div class="row">
                <button type="button" id="publish-pricing" disabled=blocked on:click=publish>"Publish"</button>
                <button type="button" id="discard-pricing" disabled=move || unchanged.get()
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
