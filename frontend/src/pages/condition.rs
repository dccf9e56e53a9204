//! The condition builder: a condition as groups ("all of", "any of", each maybe negated) of
//! comparisons (field, operator, value), edited with selects and inputs beside its text form.
//! Both are parsed by `rules` as you type. A workflow transition's guard and an approval rule's
//! condition are edited with it; where the condition lives is the caller's ([`Binding`]).

use leptos::prelude::*;
use rules::condition::{Condition, FieldPath, FieldType, Op, text};

/// A change of the condition. `None` is no condition.
pub type Edit = Box<dyn FnOnce(&mut Option<Condition>) + Send + Sync>;

/// Where the edited condition lives: how to read it (untracked) and change it. A change with a
/// key is typing in one input; the caller may coalesce those into one step (of undo, say).
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    pub read: Callback<(), Option<Condition>>,
    pub write: Callback<(Option<&'static str>, Edit)>,
}

/// The fields a condition may test, with their types, and how the field select names them.
#[derive(Clone, Debug)]
pub struct Fields {
    pub fields: Vec<(FieldPath, FieldType)>,
    pub label: fn(&FieldPath, FieldType) -> String,
}

/// A field as its path and type: `order.total (money)`.
pub fn path_and_type(path: &FieldPath, ty: FieldType) -> String {
    format!("{path} ({})", type_name(ty))
}

/// A field as people say it: `the order's total`.
pub fn in_words(path: &FieldPath, _: FieldType) -> String {
    rules::messages::field_for_people(path)
}

fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Money => "money",
        FieldType::Number => "number",
        FieldType::Duration => "duration",
        FieldType::Text => "text",
        FieldType::Bool => "yes/no",
        FieldType::TextList => "list",
        FieldType::Unit => "unit",
    }
}

/// A literal that fits a field of this type, to start a new comparison with.
fn default_literal(ty: FieldType) -> (&'static str, &'static str) {
    match ty {
        FieldType::Money => (">=", "1000 USD"),
        FieldType::Number => (">=", "1"),
        FieldType::Duration => (">=", "7d"),
        FieldType::Text => ("=", "\"\""),
        FieldType::Bool => ("=", "true"),
        FieldType::TextList => ("contains", "\"\""),
        FieldType::Unit => ("within", "\"\""),
    }
}

/// A comparison on the total, or else the first field, for "add a condition".
fn new_comparison(fields: &[(FieldPath, FieldType)]) -> Option<Condition> {
    let (path, ty) =
        fields.iter().find(|(p, _)| p.as_str().ends_with(".total")).or(fields.first())?;
    let (op, value) = default_literal(*ty);
    text::parse(&format!("{path} {op} {value}")).ok()
}

/// The node at a path of item indexes; `not` is transparent.
fn at_mut<'a>(c: &'a mut Condition, path: &[usize]) -> Option<&'a mut Condition> {
    let Some((&first, rest)) = path.split_first() else { return Some(c) };
    match c {
        Condition::All(items) | Condition::Any(items) => at_mut(items.get_mut(first)?, rest),
        Condition::Not(inner) => at_mut(inner, path),
        Condition::Compare(_) => None,
    }
}

/// A node without its `not`.
fn bare(c: &mut Condition) -> &mut Condition {
    match c {
        Condition::Not(inner) => bare(inner),
        other => other,
    }
}

fn is_group(c: &Condition) -> bool {
    match c {
        Condition::All(_) | Condition::Any(_) => true,
        Condition::Not(inner) => is_group(inner),
        Condition::Compare(_) => false,
    }
}

/// The builder shows a condition as a group, so that a lone comparison (as the text form
/// parses one) can be joined by others: this is the condition it shows, and paths point into.
fn grouped(c: Condition) -> Condition {
    if is_group(&c) { c } else { Condition::All(vec![c]) }
}

fn bump(epoch: RwSignal<u64>) {
    epoch.update(|e| *e = e.wrapping_add(1));
}

#[derive(Clone, Copy)]
struct Builder {
    binding: Binding,
    /// Re-renders the builder (after a change of shape, or the text form changed).
    shape: RwSignal<u64>,
    text: RwSignal<String>,
    fields: StoredValue<Fields>,
}

impl Builder {
    fn read(&self) -> Option<Condition> {
        self.binding.read.run(())
    }

    /// Changes the condition (as the builder shows it, see [`grouped`]); the text form follows.
    /// Without a key, the builder is redrawn.
    fn change(
        &self,
        key: Option<&'static str>,
        f: impl FnOnce(&mut Option<Condition>) + Send + Sync + 'static,
    ) {
        self.binding.write.run((
            key,
            Box::new(move |c: &mut Option<Condition>| {
                *c = c.take().map(grouped);
                f(c);
                if matches!(c, Some(Condition::All(items)) if items.is_empty()) {
                    *c = None;
                }
            }),
        ));
        self.text.set(self.read().map(|c| text::print(&c)).unwrap_or_default());
        if key.is_none() {
            bump(self.shape);
        }
    }

    fn at(
        &self,
        key: Option<&'static str>,
        path: Vec<usize>,
        f: impl FnOnce(&mut Condition) + Send + Sync + 'static,
    ) {
        self.change(key, move |c| {
            if let Some(node) = c.as_mut().and_then(|c| at_mut(c, &path)) {
                f(node);
            }
        });
    }

    fn new_comparison(&self) -> Option<Condition> {
        self.fields.with_value(|f| new_comparison(&f.fields))
    }
}

/// The builder and the text form of one condition. The text area is `text_id`; what is wrong
/// with its text is said at `{text_id}-error`.
#[component]
pub fn ConditionBuilder(
    binding: Binding,
    fields: Fields,
    text_id: String,
    /// What no condition means, such as "No guard: the transition is always allowed."
    empty: &'static str,
    placeholder: &'static str,
    /// The text form folded away under "As text", for a form with many conditions.
    #[prop(optional)]
    fold_text: bool,
) -> impl IntoView {
    let b = Builder {
        binding,
        shape: RwSignal::new(0),
        text: RwSignal::new(String::new()),
        fields: StoredValue::new(fields),
    };
    b.text.set(b.read().map(|c| text::print(&c)).unwrap_or_default());
    let text_error = RwSignal::new(None::<String>);
    let builder = move || {
        b.shape.track();
        match b.read() {
            None => view! {
                <p class="muted">{empty}</p>
                " "
                <button type="button" class="small" on:click=move |_| {
                    let first = b.new_comparison();
                    b.change(None, move |c| *c = first.map(|c| Condition::All(vec![c])));
                }>"+ condition"</button>
            }
            .into_any(),
            Some(c) => node_view(b, grouped(c), Vec::new()),
        }
    };
    let error_id = format!("{text_id}-error");
    let text_form = view! {
        <label for=text_id.clone() class:visually-hidden=fold_text>"As text"</label>
        <textarea id=text_id rows="2" spellcheck="false" placeholder=placeholder
            aria-describedby=error_id.clone() aria-invalid=move || text_error.with(Option::is_some).to_string()
            prop:value=move || b.text.get()
            on:input=move |ev| {
                let value = event_target_value(&ev);
                b.text.set(value.clone());
                let parsed = if value.trim().is_empty() { Ok(None) } else { text::parse(&value).map(Some) };
                match parsed {
                    Ok(c) => {
                        text_error.set(None);
                        b.binding.write.run((Some("text"), Box::new(move |now| *now = c)));
                        bump(b.shape);
                    }
                    Err(e) => text_error.set(Some(e.to_string())),
                }
            }></textarea>
        <span class="error" role="alert" id=error_id>{move || text_error.get()}</span>
    };
    let text_form = if fold_text {
        view! { <details class="as-text"><summary>"As text"</summary>{text_form}</details> }
            .into_any()
    } else {
        text_form.into_any()
    };
    view! {
        <div class="builder">{builder}</div>
        {text_form}
    }
}

fn node_view(b: Builder, c: Condition, path: Vec<usize>) -> AnyView {
    let negated = matches!(c, Condition::Not(_));
    let mut inner = c;
    while let Condition::Not(x) = inner {
        inner = *x;
    }
    let not_box = {
        let path = path.clone();
        view! {
            <label class="inline not"><input type="checkbox" checked=negated on:change=move |_| {
                let path = path.clone();
                b.change(None, move |c| {
                    let Some(root) = c.as_mut() else { return };
                    if let Some(node) = at_mut(root, &path) {
                        let taken = std::mem::replace(node, Condition::All(vec![]));
                        *node = match taken {
                            Condition::Not(x) => *x,
                            other => Condition::Not(Box::new(other)),
                        };
                    }
                });
            }/> " not"</label>
        }
    };
    let remove = (!path.is_empty()).then(|| {
        let path = path.clone();
        view! {
            <button type="button" class="small" aria-label="Remove this condition" on:click=move |_| {
                let Some((last, parent)) = path.split_last() else { return };
                let (last, parent) = (*last, parent.to_vec());
                b.change(None, move |c| {
                    if let Some(Condition::All(items) | Condition::Any(items)) = c.as_mut().and_then(|r| at_mut(r, &parent)).map(bare)
                        && last < items.len()
                    {
                        items.remove(last);
                    }
                });
            }>"✕"</button>
        }
    });
    let any = matches!(inner, Condition::Any(_));
    match inner {
        Condition::All(items) | Condition::Any(items) => {
            let (p_kind, p_add, p_group) = (path.clone(), path.clone(), path.clone());
            let children = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    let mut child = path.clone();
                    child.push(i);
                    view! { <li>{node_view(b, item, child)}</li> }
                })
                .collect_view();
            view! {
                <div class="group">
                    <span class="row">
                        {not_box}
                        <select aria-label="Combine with" on:change=move |ev| {
                            let any = event_target_value(&ev) == "any";
                            b.at(None, p_kind.clone(), move |node| {
                                let node = bare(node);
                                let items = match std::mem::replace(node, Condition::All(vec![])) {
                                    Condition::All(items) | Condition::Any(items) => items,
                                    other => vec![other],
                                };
                                *node = if any { Condition::Any(items) } else { Condition::All(items) };
                            });
                        }>
                            <option value="all" prop:selected=!any>"all of"</option>
                            <option value="any" prop:selected=any>"any of"</option>
                        </select>
                        <button type="button" class="small" on:click=move |_| {
                            let Some(c) = b.new_comparison() else { return };
                            b.at(None, p_add.clone(), move |node| if let Condition::All(items) | Condition::Any(items) = bare(node) { items.push(c) });
                        }>"+ condition"</button>
                        <button type="button" class="small" on:click=move |_| {
                            let Some(c) = b.new_comparison() else { return };
                            b.at(None, p_group.clone(), move |node| if let Condition::All(items) | Condition::Any(items) = bare(node) { items.push(Condition::Any(vec![c])) });
                        }>"+ group"</button>
                        {remove}
                    </span>
                    <ul class="items">{children}</ul>
                </div>
            }
            .into_any()
        }
        Condition::Compare(cmp) => {
            let value_error = RwSignal::new(None::<String>);
            let value_text = RwSignal::new(text::value_text(&cmp.value));
            let field = cmp.field.clone();
            let (fields, label) = b.fields.with_value(|f| (f.fields.clone(), f.label));
            let known = fields.iter().any(|(p, _)| *p == field);
            let (p_field, p_op, p_value) = (path.clone(), path.clone(), path);
            let op_now = cmp.op;
            view! {
                <span class="row cmp">
                    {not_box}
                    <select aria-label="Field" class="field" on:change=move |ev| {
                        let Ok(field) = FieldPath::parse(&event_target_value(&ev)) else { return };
                        b.at(Some("field"), p_field.clone(), move |node| if let Condition::Compare(c) = bare(node) { c.field = field });
                    }>
                        {(!known).then(|| view! { <option value=field.to_string() prop:selected=true>{format!("{field} (unknown)")}</option> })}
                        {fields.into_iter().map(|(p, ty)| {
                            let selected = p == field;
                            view! { <option value=p.to_string() prop:selected=selected>{label(&p, ty)}</option> }
                        }).collect_view()}
                    </select>
                    <select aria-label="Operator" class="op" on:change=move |ev| {
                        let Some(op) = Op::ALL.into_iter().find(|o| o.symbol() == event_target_value(&ev)) else { return };
                        b.at(Some("op"), p_op.clone(), move |node| if let Condition::Compare(c) = bare(node) { c.op = op });
                    }>
                        {Op::ALL.map(|o| view! { <option value=o.symbol() prop:selected=o == op_now>{o.symbol()}</option> }).collect_view()}
                    </select>
                    <input aria-label="Value" class="value" prop:value=move || value_text.get()
                        aria-invalid=move || value_error.with(Option::is_some).to_string()
                        on:input=move |ev| {
                        let typed = event_target_value(&ev);
                        value_text.set(typed.clone());
                        // The value alone is parsed as the right side of a comparison.
                        match text::parse(&format!("x.y = {typed}")) {
                            Ok(Condition::Compare(parsed)) => {
                                value_error.set(None);
                                let value = parsed.value;
                                b.at(Some("value"), p_value.clone(), move |node| if let Condition::Compare(c) = bare(node) { c.value = value });
                            }
                            Ok(_) => value_error.set(Some("one value, please".into())),
                            Err(e) => value_error.set(Some(e.to_string())),
                        }
                    }/>
                    {remove}
                    {move || value_error.get().map(|e| view! { <span class="error" role="alert">{e}</span> })}
                </span>
            }
            .into_any()
        }
        Condition::Not(_) => ().into_any(),
    }
}
