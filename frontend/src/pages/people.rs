//! A company's people, for its company admins (the seller's: its seller admins): who they are, their roles, unit and manager;
//! adding someone who joined, changing someone's roles or place, and removing someone who left
//! (the server refuses, with the reason, what would leave an order or the policy without its
//! approver).

use crate::{
    Session, api,
    model::when,
    pages::{FieldErrors, focus, page_heading},
};
use gloo_net::http::Method;
use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use leptos_router::components::A;
use rules::approval::{Directory, Unit};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, PartialEq)]
struct Person {
    id: String,
    name: String,
    email: String,
    roles: Vec<String>,
    unit_id: Option<String>,
    manager_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct People {
    users: Vec<Person>,
    #[serde(default)]
    removed: Vec<Gone>,
}

/// Someone the company removed: added again, they come back under their old id.
#[derive(Clone, Debug, Deserialize, PartialEq)]
struct Gone {
    id: String,
    name: String,
    email: String,
    removed_at: i64,
}

/// A person as the form sends them.
#[derive(Debug, Serialize)]
struct PersonBody {
    name: String,
    roles: Vec<String>,
    unit_id: Option<String>,
    manager_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

/// What a removal did.
#[derive(Debug, Deserialize)]
struct Removed {
    name: String,
    reports_moved: i64,
    reports_now_managed_by: Option<String>,
}

/// The roles offered as checkboxes; a company's own roles (finance, safety, …) are typed.
const ROLES: [(&str, &str); 3] =
    [("buyer", "Buyer"), ("approver", "Approver"), ("company_admin", "Company admin")];

/// The form's fields, as the server names them in its errors.
const FIELDS: [&str; 6] = ["name", "email", "password", "roles", "unit_id", "manager_id"];

/// The form, for a new person or for the one being changed (`editing`).
#[derive(Clone, Copy)]
struct Form {
    editing: RwSignal<Option<String>>,
    name: RwSignal<String>,
    email: RwSignal<String>,
    password: RwSignal<String>,
    /// The offered roles held, in the order of [`ROLES`].
    checked: [RwSignal<bool>; 3],
    /// Other roles, separated by commas.
    other: RwSignal<String>,
    unit: RwSignal<String>,
    manager: RwSignal<String>,
}

impl Form {
    fn new() -> Form {
        Form {
            editing: RwSignal::new(None),
            name: RwSignal::new(String::new()),
            email: RwSignal::new(String::new()),
            password: RwSignal::new(String::new()),
            checked: std::array::from_fn(|_| RwSignal::new(false)),
            other: RwSignal::new(String::new()),
            unit: RwSignal::new(String::new()),
            manager: RwSignal::new(String::new()),
        }
    }

    /// Empty, for a new person; or showing `p`, to change them.
    fn show(self, p: Option<&Person>) {
        self.editing.set(p.map(|p| p.id.clone()));
        self.name.set(p.map(|p| p.name.clone()).unwrap_or_default());
        self.email.set(p.map(|p| p.email.clone()).unwrap_or_default());
        self.password.set(String::new());
        let holds = |role: &str| p.is_some_and(|p| p.roles.iter().any(|r| r == role));
        for ((role, _), checked) in ROLES.iter().zip(self.checked) {
            checked.set(holds(role));
        }
        let others = p.map(|p| {
            p.roles
                .iter()
                .filter(|r| !ROLES.iter().any(|(role, _)| role == r))
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        });
        self.other.set(others.unwrap_or_default());
        self.unit.set(p.and_then(|p| p.unit_id.clone()).unwrap_or_default());
        self.manager.set(p.and_then(|p| p.manager_id.clone()).unwrap_or_default());
    }

    fn roles(self) -> Vec<String> {
        let mut roles: Vec<String> = ROLES
            .iter()
            .zip(self.checked)
            .filter(|(_, c)| c.get_untracked())
            .map(|((role, _), _)| (*role).to_owned())
            .collect();
        roles.extend(
            self.other
                .get_untracked()
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned),
        );
        roles
    }

    /// The body of the request: all fields for a new person, no email or password for a change.
    fn body(self) -> PersonBody {
        let optional = |s: RwSignal<String>| Some(s.get_untracked()).filter(|v| !v.is_empty());
        let new = self.editing.with_untracked(Option::is_none);
        PersonBody {
            name: self.name.get_untracked(),
            roles: self.roles(),
            unit_id: optional(self.unit),
            manager_id: optional(self.manager),
            email: new.then(|| self.email.get_untracked()),
            password: new.then(|| self.password.get_untracked()),
        }
    }
}

#[component]
pub fn PeoplePage() -> impl IntoView {
    let session = expect_context::<Session>();
    let (company, me) = session.me.with_untracked(|m| {
        m.as_ref().map(|m| (m.company_id.clone(), m.user_id.clone())).unwrap_or_default()
    });
    // Only a customer's company admins hand approvals over (the seller's orders have none).
    let is_admin =
        session.me.with_untracked(|m| m.as_ref().is_some_and(|m| m.has("company_admin")));
    let base = format!("/api/companies/{company}/users");
    let people = RwSignal::new(None::<Result<Vec<Person>, String>>);
    let gone = RwSignal::new(Vec::<Gone>::new());
    // The company's units, as a tree read depth first, to place people in.
    let units = RwSignal::new(Vec::<UnitRow>::new());
    let load = {
        let base = base.clone();
        move || {
            let base = base.clone();
            spawn_local(async move {
                let found = api::get::<People>(&base).await;
                match found {
                    Ok(p) => {
                        gone.set(p.removed);
                        people.set(Some(Ok(p.users)));
                    }
                    Err(e) => people.set(Some(Err(e.message))),
                }
            });
        }
    };
    load();
    let units_path = format!("/api/companies/{company}/units");
    let load_units = move || {
        let company = company.clone();
        spawn_local(async move {
            let path = format!("/api/companies/{company}/directory");
            if let Ok(d) = api::get::<Directory>(&path).await {
                units.set(tree(&d.units));
            }
        });
    };
    load_units();
    let name_of = move |id: &str| {
        people.with(|p| {
            p.as_ref()
                .and_then(|p| p.as_ref().ok())
                .and_then(|p| p.iter().find(|p| p.id == id).map(|p| p.name.clone()))
                .unwrap_or_else(|| id.to_owned())
        })
    };
    let unit_name = move |id: &str| {
        units.with(|u| {
            u.iter().find(|u| u.id == id).map_or_else(|| id.to_owned(), |u| u.name.clone())
        })
    };

    let form = Form::new();
    let errors = FieldErrors::new(&FIELDS);
    let said = RwSignal::new(None::<Result<String, api::ApiError>>);
    // The person whose removal waits for its confirmation.
    let removing = RwSignal::new(None::<Person>);
    let busy = RwSignal::new(false);

    let submit = {
        let base = base.clone();
        let load = load.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let (base, load) = (base.clone(), load.clone());
            let body = form.body();
            let editing = form.editing.get_untracked();
            busy.set(true);
            spawn_local(async move {
                let sent = match &editing {
                    Some(id) => {
                        api::send::<serde_json::Value, _>(
                            Method::PUT,
                            &format!("{base}/{id}"),
                            &body,
                        )
                        .await
                    }
                    None => api::send::<serde_json::Value, _>(Method::POST, &base, &body).await,
                };
                busy.set(false);
                match sent {
                    Ok(answer) => {
                        let name = body.name.trim().to_owned();
                        let back = answer.get("restored").and_then(serde_json::Value::as_bool);
                        let what = match (editing.is_some(), back) {
                            (true, _) => "is changed",
                            (false, Some(true)) => {
                                "is back: someone removed before, their orders and history theirs again"
                            }
                            (false, _) => "is added",
                        };
                        errors.clear();
                        said.set(Some(Ok(format!("{name} {what}."))));
                        form.show(None);
                        load();
                        focus("#people-said");
                    }
                    Err(e) => {
                        let target = match errors.set(e) {
                            Some("roles") => "person-role-buyer".to_owned(),
                            Some(f) => format!("person-{f}"),
                            None => "person-name".to_owned(),
                        };
                        focus(&format!("#{target}"));
                    }
                }
            });
        }
    };
    let remove = {
        let base = base.clone();
        let load = load.clone();
        move |p: Person| {
            let (base, load) = (base.clone(), load.clone());
            spawn_local(async move {
                let path = format!("{base}/{}", p.id);
                let answer = api::delete_answered::<Removed>(&path).await;
                removing.set(None);
                said.set(Some(answer.map(|r| {
                    let moved = match (r.reports_moved, &r.reports_now_managed_by) {
                        (0, _) => String::new(),
                        (n, Some(m)) => format!(
                            " The {} who reported to them now report{} to {}.",
                            if n == 1 { "person".to_owned() } else { format!("{n} people") },
                            if n == 1 { "s" } else { "" },
                            name_of(m)
                        ),
                        (n, None) => format!(
                            " The {} who reported to them now ha{} no manager.",
                            if n == 1 { "person".to_owned() } else { format!("{n} people") },
                            if n == 1 { "s" } else { "ve" },
                        ),
                    };
                    format!(
                        "{} is removed: they can no longer log in, and new orders are not routed to them.{moved}",
                        r.name
                    )
                })));
                load();
                focus("#people-said");
            });
        }
    };

    let text_field = move |field: &'static str,
                           label: &'static str,
                           kind: &'static str,
                           value: RwSignal<String>| {
        let id = format!("person-{field}");
        let described = format!("person-{field}-error");
        view! {
            <label for=id.clone()>{label}</label>
            <input id=id type=kind prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))
                aria-describedby=described.clone() aria-invalid=errors.invalid(field)/>
            <span class="error" id=described>{errors.of(field)}</span>
        }
    };
    let new_only = move || form.editing.with(Option::is_none);
    let me_for_rows = me.clone();
    let rows = move || {
        let me = me_for_rows.clone();
        people.with(|p| match p {
            None => view! { <p>"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e.clone()}</p> }.into_any(),
            Some(Ok(list)) => view! {
                <table class="people">
                    <thead><tr>
                        <th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Roles"</th>
                        <th scope="col">"Unit"</th><th scope="col">"Manager"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr></thead>
                    <tbody>{list.iter().map(|p| {
                        let (shown, asked) = (p.clone(), p.clone());
                        let yourself = p.id == me;
                        view! {
                            <tr data-person=p.id.clone()>
                                <td>{p.name.clone()}</td>
                                <td>{p.email.clone()}</td>
                                <td>{p.roles.join(", ")}</td>
                                <td>{p.unit_id.as_deref().map(unit_name).unwrap_or_default()}</td>
                                <td>{p.manager_id.as_deref().map(name_of).unwrap_or_default()}</td>
                                <td>
                                    <button type="button" class="change" aria-label=format!("Change {}", p.name)
                                        on:click=move |_| { errors.clear(); form.show(Some(&shown)); focus("#person-name"); }>"Change"</button>
                                    {(!yourself).then(|| view! {
                                        <button type="button" class="remove" aria-label=format!("Remove {}", p.name)
                                            on:click=move |_| {
                                                removing.set(Some(asked.clone()));
                                                // Once the question is on the page.
                                                request_animation_frame(|| { focus("#confirm-removal"); });
                                            }>"Remove"</button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            }.into_any(),
        })
    };
    let confirm = move || {
        removing.get().map(|p| {
            let (name, kept) = (p.name.clone(), p.name.clone());
            let remove = remove.clone();
            view! {
                <section class="confirm" aria-labelledby="removal-question">
                    <p id="removal-question">"Remove " {name} "? They can no longer log in or act; their orders and decisions stay in the history."</p>
                    <button type="button" id="confirm-removal" on:click=move |_| remove(p.clone())>"Remove"</button>
                    <button type="button" on:click=move |_| { removing.set(None); said.set(Some(Ok(format!("{kept} is kept.")))); }>"Keep"</button>
                </section>
            }
        })
    };
    let heading = move || if new_only() { "Add a person" } else { "Change a person" };
    view! {
        <h1 tabindex="-1" node_ref=page_heading()>"People"</h1>
        <p>"Your company's users: what they may do (their roles), where they work (their unit) and who manages them, as approval routing reads them. Orders already waiting keep the approvers they were given."</p>
        <div role="status" id="people-said" tabindex="-1">{move || said.get().map(|s| match s {
            Ok(text) => view! { <p class="ok">{text}</p> }.into_any(),
            // Someone who alone may decide a waiting order can go once it is handed over.
            Err(e) if e.code == "sole_approver" && is_admin => view! {
                {crate::pages::refusal(&e, "people-refused")}
                <p><A href="/editor/approvals">"Hand their waiting approvals to someone else"</A></p>
            }.into_any(),
            Err(e) => crate::pages::refusal(&e, "people-refused").into_any(),
        })}</div>
        {confirm}
        {rows}
        <Show when=move || gone.with(|g| !g.is_empty())>
            <details class="removed">
                <summary>"Removed (" {move || gone.with(Vec::len)} ")"</summary>
                <ul id="removed-people">{move || gone.get().into_iter().map(|g| {
                    let label = format!("Add {} again", g.name);
                    let (name, email) = (g.name.clone(), g.email.clone());
                    view! {
                        <li data-person=g.id>
                            {g.name} " (" {g.email} "), removed " {when(g.removed_at)} " "
                            <button type="button" class="again" aria-label=label on:click=move |_| {
                                errors.clear();
                                form.show(None);
                                form.name.set(name.clone());
                                form.email.set(email.clone());
                                focus("#person-password");
                            }>"Add again"</button>
                        </li>
                    }
                }).collect_view()}</ul>
            </details>
        </Show>
        <form class="person" on:submit=submit>
            <h2>{heading}</h2>
            {text_field("name", "Name", "text", form.name)}
            <Show when=new_only>
                {text_field("email", "Email", "email", form.email)}
                {text_field("password", "First password (at least 12 characters; they change it)", "password", form.password)}
            </Show>
            <fieldset aria-describedby="person-roles-error">
                <legend>"Roles"</legend>
                {ROLES.iter().zip(form.checked).map(|(&(role, label), checked)| {
                    let id = format!("person-role-{}", role.split('_').next().unwrap_or(role));
                    view! {
                        <label><input type="checkbox" id=id prop:checked=move || checked.get()
                            on:change=move |ev| checked.set(event_target_checked(&ev))/>" " {label}</label>
                    }
                }).collect_view()}
                <label for="person-other-roles">"Other roles (comma-separated, e.g. finance)"</label>
                <input id="person-other-roles" prop:value=move || form.other.get() on:input=move |ev| form.other.set(event_target_value(&ev))/>
                <span class="error" id="person-roles-error">{errors.of("roles")}</span>
            </fieldset>
            <label for="person-unit_id">"Unit"</label>
            <select id="person-unit_id" aria-describedby="person-unit_id-error" aria-invalid=errors.invalid("unit_id")
                prop:value=move || form.unit.get() on:change=move |ev| form.unit.set(event_target_value(&ev))>
                <option value="">"None (the whole company)"</option>
                {move || units.get().into_iter().map(|u| {
                    let selected = form.unit.get_untracked() == u.id;
                    view! { <option value=u.id selected=selected>{u.name}</option> }
                }).collect_view()}
            </select>
            <span class="error" id="person-unit_id-error">{errors.of("unit_id")}</span>
            <label for="person-manager_id">"Manager"</label>
            <select id="person-manager_id" aria-describedby="person-manager_id-error" aria-invalid=errors.invalid("manager_id")
                prop:value=move || form.manager.get() on:change=move |ev| form.manager.set(event_target_value(&ev))>
                <option value="">"None"</option>
                {move || people.with(|p| p.as_ref().and_then(|p| p.as_ref().ok()).cloned().unwrap_or_default())
                    .into_iter()
                    .filter(|p| form.editing.with(|e| e.as_deref() != Some(p.id.as_str())))
                    .map(|p| {
                        let selected = form.manager.get_untracked() == p.id;
                        view! { <option value=p.id selected=selected>{p.name}</option> }
                    }).collect_view()}
            </select>
            <span class="error" id="person-manager_id-error">{errors.of("manager_id")}</span>
            <div class="row">
                <button type="submit" id="save-person" disabled=move || busy.get()>{move || if new_only() { "Add" } else { "Save" }}</button>
                <Show when=move || !new_only()>
                    <button type="button" on:click=move |_| { errors.clear(); form.show(None); }>"Cancel"</button>
                </Show>
            </div>
            <p class="error" role="alert">{errors.other()}</p>
        </form>
        {units_section(units, units_path, load_units, said)}
    }
}

/// A business unit, placed in the company's tree.
#[derive(Clone, Debug, PartialEq)]
struct UnitRow {
    id: String,
    name: String,
    parent: Option<String>,
    /// 0 for a unit without a parent.
    depth: usize,
}

/// The units depth first, each unit's children by name after it. A unit whose parent is
/// unknown counts as a top one; a cycle (which the server refuses) ends where it closes.
fn tree(units: &[Unit]) -> Vec<UnitRow> {
    let known = |u: &Unit| u.parent.as_ref().is_some_and(|p| units.iter().any(|o| &o.id == p));
    let mut out = Vec::with_capacity(units.len());
    let mut next: Vec<(&Unit, usize)> = Vec::new();
    let by_name = |list: &mut Vec<&Unit>| list.sort_by(|a, b| b.name.cmp(&a.name));
    let mut top: Vec<&Unit> = units.iter().filter(|u| !known(u)).collect();
    by_name(&mut top);
    next.extend(top.into_iter().map(|u| (u, 0)));
    while let Some((unit, depth)) = next.pop() {
        if out.iter().any(|r: &UnitRow| r.id == unit.id.as_str()) {
            continue;
        }
        out.push(UnitRow {
            id: unit.id.to_string(),
            name: unit.name.to_string(),
            parent: unit.parent.as_ref().map(ToString::to_string),
            depth,
        });
        let mut children: Vec<&Unit> =
            units.iter().filter(|u| u.parent.as_ref() == Some(&unit.id)).collect();
        by_name(&mut children);
        next.extend(children.into_iter().map(|u| (u, depth + 1)));
    }
    out
}

/// The unit and those under it: in the depth-first rows, the rows after it that lie deeper.
fn subtree(rows: &[UnitRow], id: &str) -> Vec<String> {
    let Some(at) = rows.iter().position(|r| r.id == id) else {
        return Vec::new();
    };
    let depth = rows.get(at).map_or(0, |r| r.depth);
    rows.iter()
        .skip(at)
        .enumerate()
        .take_while(|(i, r)| *i == 0 || r.depth > depth)
        .map(|(_, r)| r.id.clone())
        .collect()
}

/// The company's business units as a tree, each to rename, move or remove, and the form that
/// adds one or changes the one chosen.
fn units_section(
    units: RwSignal<Vec<UnitRow>>,
    path: String,
    reload: impl Fn() + Clone + Send + Sync + 'static,
    said: RwSignal<Option<Result<String, api::ApiError>>>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let parent = RwSignal::new(String::new());
    // The unit being changed; none while the form adds one.
    let editing = RwSignal::new(None::<UnitRow>);
    let removing = RwSignal::new(None::<UnitRow>);
    let errors = FieldErrors::new(&["name", "parent_id"]);
    let show = move |unit: Option<UnitRow>| {
        errors.clear();
        name.set(unit.as_ref().map(|u| u.name.clone()).unwrap_or_default());
        parent.set(unit.as_ref().and_then(|u| u.parent.clone()).unwrap_or_default());
        editing.set(unit);
    };
    let save = {
        let (path, reload) = (path.clone(), reload.clone());
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let (path, reload) = (path.clone(), reload.clone());
            let parent_id = Some(parent.get_untracked()).filter(|p| !p.is_empty());
            let body = serde_json::json!({ "name": name.get_untracked(), "parent_id": parent_id });
            let changing = editing.get_untracked();
            spawn_local(async move {
                let sent = match &changing {
                    Some(u) => {
                        let at = format!("{path}/{}", u.id);
                        api::send::<serde_json::Value, _>(Method::PUT, &at, &body).await
                    }
                    None => api::send::<serde_json::Value, _>(Method::POST, &path, &body).await,
                };
                match sent {
                    Ok(_) => {
                        let named = name.get_untracked().trim().to_owned();
                        said.set(Some(Ok(match changing {
                            Some(_) => format!("The unit {named} is changed."),
                            None => format!("The unit {named} is added."),
                        })));
                        show(None);
                        reload();
                        focus("#people-said");
                    }
                    Err(e) => {
                        let field = errors.set(e);
                        focus(if field == Some("parent_id") {
                            "#unit-parent_id"
                        } else {
                            "#unit-name"
                        });
                    }
                }
            });
        }
    };
    let remove = move |unit: UnitRow| {
        let (path, reload) = (path.clone(), reload.clone());
        spawn_local(async move {
            let answer =
                api::delete_answered::<serde_json::Value>(&format!("{path}/{}", unit.id)).await;
            removing.set(None);
            said.set(Some(answer.map(|_| {
                format!("The unit {} is removed; orders placed in it keep its name.", unit.name)
            })));
            if editing.with_untracked(|e| e.as_ref().is_some_and(|e| e.id == unit.id)) {
                show(None);
            }
            reload();
            focus("#people-said");
        });
    };
    let confirm = move || {
        removing.get().map(|u| {
            let (asked, kept) = (u.clone(), u.name.clone());
            let remove = remove.clone();
            view! {
                <section class="confirm" aria-labelledby="unit-removal-question">
                    <p id="unit-removal-question">"Remove the unit " {u.name} "? Only a unit without people, units under it or mention in the approval policy can go."</p>
                    <button type="button" id="confirm-unit-removal" on:click=move |_| remove(asked.clone())>"Remove"</button>
                    <button type="button" on:click=move |_| { removing.set(None); said.set(Some(Ok(format!("The unit {kept} is kept.")))); }>"Keep"</button>
                </section>
            }
        })
    };
    // Where the unit may go: anywhere but under itself or a unit within it.
    let places = move || {
        let rows = units.get();
        let out = editing.with(|e| e.as_ref().map(|e| subtree(&rows, &e.id))).unwrap_or_default();
        rows.into_iter().filter(|u| !out.contains(&u.id)).collect::<Vec<_>>()
    };
    let changing = move || editing.with(Option::is_some);
    view! {
        <section aria-labelledby="units-heading">
            <h2 id="units-heading">"Business units"</h2>
            <p>"An approver approves the orders of their unit and of the units under it."</p>
            <ul class="units" id="units">{move || units.get().into_iter().map(|u| {
                let indent = format!("padding-left: {}em", u.depth * 2);
                let (chosen, asked) = (u.clone(), u.clone());
                view! {
                    <li style=indent data-unit=u.id.clone()>
                        <span class="unit-name">{u.name.clone()}</span>
                        <button type="button" class="change" aria-label=format!("Change the unit {}", u.name)
                            on:click=move |_| { show(Some(chosen.clone())); focus("#unit-name"); }>"Change"</button>
                        <button type="button" class="remove" aria-label=format!("Remove the unit {}", u.name)
                            on:click=move |_| {
                                removing.set(Some(asked.clone()));
                                request_animation_frame(|| { focus("#confirm-unit-removal"); });
                            }>"Remove"</button>
                    </li>
                }
            }).collect_view()}</ul>
            {confirm}
            <form class="unit" on:submit=save>
                <h3>{move || editing.with(|e| e.as_ref().map_or_else(|| "Add a unit".to_owned(), |e| format!("Change the unit {}", e.name)))}</h3>
                <label for="unit-name">{move || if changing() { "Name" } else { "Name of a new unit" }}</label>
                <input id="unit-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))
                    aria-describedby="unit-name-error" aria-invalid=errors.invalid("name")/>
                <span class="error" id="unit-name-error">{errors.of("name")}</span>
                <label for="unit-parent_id">"Under"</label>
                <select id="unit-parent_id" aria-describedby="unit-parent_id-error" aria-invalid=errors.invalid("parent_id")
                    prop:value=move || parent.get() on:change=move |ev| parent.set(event_target_value(&ev))>
                    <option value="">"Nothing (a top unit)"</option>
                    {move || places().into_iter().map(|u| {
                        let selected = parent.get_untracked() == u.id;
                        view! { <option value=u.id selected=selected>{u.name}</option> }
                    }).collect_view()}
                </select>
                <span class="error" id="unit-parent_id-error">{errors.of("parent_id")}</span>
                <div class="row">
                    <button type="submit" id="save-unit">{move || if changing() { "Save the unit" } else { "Add the unit" }}</button>
                    <Show when=changing>
                        <button type="button" id="unit-form-cancel" on:click=move |_| show(None)>"Cancel"</button>
                    </Show>
                </div>
                <p class="error" role="alert">{errors.other()}</p>
            </form>
        </section>
    }
}
