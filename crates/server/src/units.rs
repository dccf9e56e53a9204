//! A company's business units: its company admins add, rename, move and remove them.
//!
//! Approval routing reads the tree through the directory ([`companies::directory`]): an
//! approver of a unit approves the orders of the units under it. Every change here marks the
//! directory changed first, in its own transaction, so that it checks the tree as it will stay
//! (see `seed::hold_directory`). A removed unit keeps its row, so that orders placed in it
//! still name it; only a unit that nobody works in, with no unit under it and that the
//! approval policy does not mention, is removed.

use crate::{
    AppState,
    auth::Caller,
    companies::{self, administered},
    db,
    error::{ApiError, Json, Path},
    seed,
    util::now,
};
use axum::{extract::State, http::StatusCode};
use rules::approval::{Directory, Unit};
use serde::Deserialize;
use serde_json::json;

/// A unit's name and place, as a company admin gives them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitInput {
    pub name: String,
    /// The unit it sits under; none for a top unit.
    #[serde(default)]
    pub parent_id: Option<String>,
}

impl UnitInput {
    /// The name, trimmed; refused when empty or too long.
    fn name(&self) -> Result<&str, ApiError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(ApiError::invalid("name", "a name is required"));
        }
        if name.chars().count() > 200 {
            return Err(ApiError::invalid("name", "a name has at most 200 characters"));
        }
        Ok(name)
    }
}

/// The unit of the directory with this id.
fn find<'d>(directory: &'d Directory, id: &str) -> Option<&'d Unit> {
    directory.units.iter().find(|u| u.id.as_str() == id)
}

/// The parent, if it is one of the company's units, and not `moved` nor a unit under it.
fn check_parent(directory: &Directory, parent: &str, moved: Option<&str>) -> Result<(), ApiError> {
    let Some(mut at) = find(directory, parent) else {
        return Err(ApiError::invalid(
            "parent_id",
            format!("\"{parent}\" is not a unit of this company"),
        ));
    };
    // Up from the parent to the top: meeting the moved unit would make a loop. The walk is
    // bounded by the number of units, whatever the rows say.
    for _ in 0..=directory.units.len() {
        if moved == Some(at.id.as_str()) {
            return Err(ApiError::invalid(
                "parent_id",
                "a unit cannot be placed under itself or a unit within it",
            ));
        }
        match at.parent.as_ref().and_then(|p| find(directory, p.as_str())) {
            Some(up) => at = up,
            None => break,
        }
    }
    Ok(())
}

/// `POST /api/companies/{id}/units`: company admins add a business unit.
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<UnitInput>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    administered(&state, &caller, &id).await?;
    let name = body.name()?;
    let mut tx = state.db.write.begin().await?;
    seed::directory_changed(&mut tx, &id).await?;
    let directory = companies::directory_in(&mut tx, &id).await?;
    if let Some(parent) = &body.parent_id {
        check_parent(&directory, parent, None)?;
    }
    let unit_id = seed::insert_unit(&mut tx, &id, name, body.parent_id.as_deref()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": unit_id }))))
}

/// `PUT /api/companies/{id}/units/{unit}`: company admins rename a unit or move it under
/// another (with the units under it). New orders are routed by the tree as it is now; orders
/// already waiting keep their approvers.
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, unit_id)): Path<(String, String)>,
    Json(body): Json<UnitInput>,
) -> Result<Json<serde_json::Value>, ApiError> {
    administered(&state, &caller, &id).await?;
    let name = body.name()?;
    let mut tx = state.db.write.begin().await?;
    seed::directory_changed(&mut tx, &id).await?;
    let directory = companies::directory_in(&mut tx, &id).await?;
    if find(&directory, &unit_id).is_none() {
        return Err(ApiError::not_found("unit"));
    }
    if let Some(parent) = &body.parent_id {
        check_parent(&directory, parent, Some(&unit_id))?;
    }
    db::query("UPDATE business_units SET name = $1, parent_id = $2 WHERE id = $3")
        .bind(name)
        .bind(body.parent_id.as_deref())
        .bind(&unit_id)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(Json(json!({ "id": unit_id, "name": name, "parent_id": body.parent_id })))
}

/// `DELETE /api/companies/{id}/units/{unit}`: company admins remove a unit that is no longer
/// needed. Refused, with nothing changed, while units sit under it (`has_units`), people work
/// in it (`has_people`), or the approval policy mentions it (`named_in_policy`): each names
/// what to change first.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, unit_id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    administered(&state, &caller, &id).await?;
    let mut tx = state.db.write.begin().await?;
    seed::directory_changed(&mut tx, &id).await?;
    let directory = companies::directory_in(&mut tx, &id).await?;
    let unit = find(&directory, &unit_id).ok_or_else(|| ApiError::not_found("unit"))?;
    let name = unit.name.to_string();
    let under: Vec<&str> = directory
        .units
        .iter()
        .filter(|u| u.parent.as_ref().is_some_and(|p| p.as_str() == unit_id))
        .map(|u| &*u.name)
        .collect();
    if !under.is_empty() {
        return Err(ApiError::conflict(
            "has_units",
            format!("{} under {name}: move or remove them first", listed(&under, "is", "are")),
        ));
    }
    let people: Vec<&str> = directory
        .users
        .iter()
        .filter(|u| u.unit.as_ref().is_some_and(|p| p.as_str() == unit_id))
        .map(|u| &*u.name)
        .collect();
    if !people.is_empty() {
        return Err(ApiError::conflict(
            "has_people",
            format!(
                "{} in {name}: place them in another unit first",
                listed(&people, "works", "work")
            ),
        ));
    }
    // Unit ids are unique and quoted wherever the policy's JSON holds one (in a condition's
    // value), so finding the quoted id is finding every mention.
    let (_, policy) = companies::policy_in(&mut tx, &id).await?;
    let document = serde_json::to_string(&policy).map_err(ApiError::internal)?;
    if document.contains(&format!("\"{unit_id}\"")) {
        return Err(ApiError::conflict(
            "named_in_policy",
            format!(
                "the approval policy mentions {name}: change the policy first, so that no rule depends on it"
            ),
        ));
    }
    db::query("UPDATE business_units SET removed_at = $1 WHERE id = $2")
        .bind(now().millis())
        .bind(&unit_id)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(Json(json!({ "id": unit_id, "name": name })))
}

/// "A is", "A and B are", "A, B and C are".
fn listed(names: &[&str], one: &str, many: &str) -> String {
    match names {
        [] => String::new(),
        [only] => format!("{only} {one}"),
        [init @ .., last] => format!("{} and {last} {many}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> Directory {
        serde_json::from_value(json!({
            "units": [
                { "id": "na", "name": "North America" },
                { "id": "us", "name": "US", "parent": "na" },
                { "id": "ny", "name": "New York", "parent": "us" },
                { "id": "emea", "name": "EMEA" }
            ],
            "users": []
        }))
        .unwrap()
    }

    #[test]
    fn a_unit_moves_anywhere_but_under_itself() {
        let d = directory();
        assert!(check_parent(&d, "emea", Some("us")).is_ok());
        assert!(check_parent(&d, "na", Some("ny")).is_ok());
        for parent in ["us", "ny"] {
            let refused = check_parent(&d, parent, Some("us")).unwrap_err();
            assert_eq!(refused.field.as_deref(), Some("parent_id"), "{parent}");
        }
        assert!(check_parent(&d, "nowhere", None).is_err());
    }

    #[test]
    fn names_are_listed_in_words() {
        assert_eq!(listed(&["Pat"], "works", "work"), "Pat works");
        assert_eq!(listed(&["Pat", "Casey", "Eli"], "is", "are"), "Pat, Casey and Eli are");
    }
}
