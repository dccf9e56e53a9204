//! Schemas: which fields an entity has and their types; type checking of conditions.

use super::{Comparison, Condition, FieldPath, FieldType, Op, Value};
use crate::diagnostic::{Diagnostic, Problem, join_path};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a field's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldOrigin {
    /// Supplied by the caller (the server knows the order's total).
    Builtin,
    /// Computed by the engine (`order.state`, `order.state_age`).
    Computed,
    /// Declared by a workflow; may be set by a `set` action.
    Custom,
}

/// One field of a schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldSpec {
    pub path: FieldPath,
    #[serde(rename = "type")]
    pub ty: FieldType,
    pub origin: FieldOrigin,
}

/// The fields conditions may refer to. A field's position is its slot in [`super::Facts`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    fields: Vec<FieldSpec>,
}

const COMMON: &[(&str, FieldType)] = &[
    ("buyer.id", FieldType::Text),
    ("buyer.roles", FieldType::TextList),
    ("customer.id", FieldType::Text),
    ("customer.group", FieldType::Text),
];

const ORDER: &[(&str, FieldType)] = &[
    ("order.total", FieldType::Money),
    ("order.subtotal", FieldType::Money),
    ("order.discount", FieldType::Money),
    ("order.shipping", FieldType::Money),
    ("order.tax", FieldType::Money),
    ("order.currency", FieldType::Text),
    ("order.sku_count", FieldType::Number),
    ("order.quantity", FieldType::Number),
    ("order.categories", FieldType::TextList),
    ("order.business_unit", FieldType::Unit),
    ("order.payment_method", FieldType::Text),
];

const QUOTE: &[(&str, FieldType)] = &[
    ("quote.total", FieldType::Money),
    ("quote.subtotal", FieldType::Money),
    ("quote.discount", FieldType::Money),
    ("quote.discount_percent", FieldType::Number),
    ("quote.requested_discount_percent", FieldType::Number),
    ("quote.currency", FieldType::Text),
    ("quote.sku_count", FieldType::Number),
    ("quote.revision", FieldType::Number),
    ("quote.time_to_expiry", FieldType::Duration),
    ("quote.business_unit", FieldType::Unit),
];

const CHECKOUT: &[(&str, FieldType)] = &[
    ("checkout.total", FieldType::Money),
    ("checkout.currency", FieldType::Text),
    ("checkout.sku_count", FieldType::Number),
    ("checkout.payment_method", FieldType::Text),
    ("checkout.business_unit", FieldType::Unit),
];

/// What a workflow runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Order,
    Quote,
    Checkout,
}

impl Entity {
    pub fn name(self) -> &'static str {
        match self {
            Entity::Order => "order",
            Entity::Quote => "quote",
            Entity::Checkout => "checkout",
        }
    }
}

fn builtin(fields: &[&[(&str, FieldType)]]) -> Vec<FieldSpec> {
    fields
        .iter()
        .flat_map(|list| list.iter())
        .filter_map(|(path, ty)| {
            Some(FieldSpec {
                path: FieldPath::parse(path).ok()?,
                ty: *ty,
                origin: FieldOrigin::Builtin,
            })
        })
        .collect()
}

impl Schema {
    pub fn new(fields: Vec<FieldSpec>) -> Schema {
        Schema { fields }
    }

    /// The fields approval rules may test: the order as priced, the buyer and the customer.
    pub fn approval() -> Schema {
        Schema { fields: builtin(&[ORDER, COMMON]) }
    }

    /// The built-in fields of a workflow entity, including the computed `<entity>.state` and
    /// `<entity>.state_age`.
    pub fn entity(entity: Entity) -> Schema {
        let own = match entity {
            Entity::Order => ORDER,
            Entity::Quote => QUOTE,
            Entity::Checkout => CHECKOUT,
        };
        let mut fields = builtin(&[own, COMMON]);
        for (suffix, ty) in [("state", FieldType::Text), ("state_age", FieldType::Duration)] {
            if let Ok(path) = FieldPath::parse(&format!("{}.{suffix}", entity.name())) {
                fields.push(FieldSpec { path, ty, origin: FieldOrigin::Computed });
            }
        }
        Schema { fields }
    }

    /// Adds a workflow's own fields; they must belong to the entity and be new.
    pub fn with_custom(
        mut self,
        entity: Entity,
        custom: &[(FieldPath, FieldType)],
        path: &str,
    ) -> (Schema, Vec<Diagnostic>) {
        let mut problems = Vec::new();
        for (i, (field, ty)) in custom.iter().enumerate() {
            let at = format!("{path}[{i}].path");
            if field.root() != entity.name() {
                problems.push(Diagnostic::error(
                    at,
                    Problem::CustomFieldOutsideEntity {
                        field: field.clone(),
                        entity: entity.name().to_owned(),
                    },
                ));
            } else if self.lookup(field).is_some() {
                problems
                    .push(Diagnostic::error(at, Problem::DuplicateField { field: field.clone() }));
            } else {
                self.fields.push(FieldSpec {
                    path: field.clone(),
                    ty: *ty,
                    origin: FieldOrigin::Custom,
                });
            }
        }
        (self, problems)
    }

    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    /// A field and its slot.
    pub fn lookup(&self, path: &FieldPath) -> Option<(usize, &FieldSpec)> {
        self.fields.iter().enumerate().find(|(_, f)| &f.path == path)
    }

    pub fn slot(&self, path: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.path.as_str() == path)
    }

    /// The known field closest to a misspelt one, if any is close.
    pub fn suggest(&self, path: &FieldPath) -> Option<FieldPath> {
        let (best, distance) = self
            .fields
            .iter()
            .map(|f| (f, edit_distance(f.path.as_str(), path.as_str())))
            .min_by_key(|(_, d)| *d)?;
        (distance <= 3).then(|| best.path.clone())
    }

    /// Checks every comparison of a condition: known field, operator valid for its type, value
    /// of the right type. `path` is the condition's own path, prefixed to each problem.
    pub fn check(&self, condition: &Condition, path: &str) -> Vec<Diagnostic> {
        condition
            .comparisons()
            .into_iter()
            .filter_map(|(at, cmp)| {
                self.check_comparison(cmp).err().map(|p| Diagnostic::error(join_path(path, &at), p))
            })
            .collect()
    }

    /// The type of a comparison's field, or why the comparison is wrong.
    pub fn check_comparison(&self, cmp: &Comparison) -> Result<(usize, FieldType), Problem> {
        let Comparison { field, op, value } = cmp;
        let Some((slot, spec)) = self.lookup(field) else {
            return Err(Problem::UnknownField {
                field: field.clone(),
                suggestion: self.suggest(field),
            });
        };
        let ty = spec.ty;
        let ordered = matches!(ty, FieldType::Money | FieldType::Number | FieldType::Duration);
        let op_ok = match op {
            Op::Eq | Op::Ne => ty != FieldType::TextList,
            Op::Lt | Op::Le | Op::Gt | Op::Ge => ordered,
            Op::In => ty == FieldType::Text,
            Op::Contains => ty == FieldType::TextList,
            Op::Within => ty == FieldType::Unit,
        };
        if !op_ok {
            return Err(Problem::OperatorNotAllowed {
                field: field.clone(),
                field_type: ty,
                op: *op,
            });
        }
        let value_ok = match (op, value) {
            (Op::In, Value::List(_)) => true,
            (Op::Contains | Op::Within, Value::Text(_)) => true,
            (Op::Eq | Op::Ne, Value::Text(_)) if ty == FieldType::Unit => true,
            (Op::In | Op::Contains | Op::Within, _) | (_, Value::List(_)) => false,
            (_, v) => v.fits(ty),
        };
        if !value_ok {
            return Err(Problem::WrongValueType {
                field: field.clone(),
                field_type: ty,
                op: *op,
                found: value.kind(),
            });
        }
        Ok((slot, ty))
    }

    /// Turns named facts into slots, checking that each field is known and of the right type.
    /// Computed fields are refused: the engine computes them.
    pub fn bind(
        &self,
        facts: &BTreeMap<FieldPath, Value>,
        path: &str,
    ) -> Result<Vec<Option<Value>>, Vec<Diagnostic>> {
        let mut slots = vec![None; self.fields.len()];
        let mut problems = Vec::new();
        for (field, value) in facts {
            let at = join_path(path, field.as_str());
            match self.lookup(field) {
                Some((_, spec)) if spec.origin == FieldOrigin::Computed => problems.push(
                    Diagnostic::error(at, Problem::FieldNotSettable { field: field.clone() }),
                ),
                Some((slot, spec)) if value.fits(spec.ty) => {
                    if let Some(s) = slots.get_mut(slot) {
                        *s = Some(value.clone());
                    }
                }
                Some((_, spec)) => problems.push(Diagnostic::error(
                    at,
                    Problem::SetValueType {
                        field: field.clone(),
                        field_type: spec.ty,
                        found: value.kind(),
                    },
                )),
                None => problems.push(Diagnostic::error(
                    at,
                    Problem::UnknownField { field: field.clone(), suggestion: self.suggest(field) },
                )),
            }
        }
        if problems.is_empty() { Ok(slots) } else { Err(problems) }
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(previous.len());
        current.push(i.saturating_add(1));
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous
                .get(j)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(usize::from(ca != *cb));
            let delete =
                previous.get(j.saturating_add(1)).copied().unwrap_or(usize::MAX).saturating_add(1);
            let insert = current.last().copied().unwrap_or(usize::MAX).saturating_add(1);
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::text::parse;

    fn problems(text: &str) -> Vec<Problem> {
        Schema::entity(Entity::Order)
            .check(&parse(text).unwrap(), "guard")
            .into_iter()
            .map(|d| d.problem)
            .collect()
    }

    #[test]
    fn type_checks_comparisons() {
        assert_eq!(problems("order.total >= 50000 USD and order.state_age >= 7d"), vec![]);
        assert_eq!(
            problems(r#"order.categories contains "x" and order.business_unit within "emea""#),
            vec![]
        );
        assert_eq!(problems(r#"order.payment_method in ["card"] and buyer.id != "u1""#), vec![]);
        let p = problems("order.totl >= 5 USD");
        assert_eq!(
            p,
            vec![Problem::UnknownField {
                field: FieldPath::parse("order.totl").unwrap(),
                suggestion: Some(FieldPath::parse("order.total").unwrap())
            }]
        );
        assert!(matches!(problems("order.total >= 7d")[..], [Problem::WrongValueType { .. }]));
        assert!(matches!(
            problems(r#"order.currency > "USD""#)[..],
            [Problem::OperatorNotAllowed { .. }]
        ));
        assert!(matches!(
            problems(r#"order.categories = "x""#)[..],
            [Problem::OperatorNotAllowed { .. }]
        ));
        assert!(matches!(
            problems(r#"order.total in ["x"]"#)[..],
            [Problem::OperatorNotAllowed { .. }]
        ));
        assert_eq!(problems("order.total >= 7d or order.sku_count >= 1 USD").len(), 2);
    }

    #[test]
    fn paths_point_at_the_comparison() {
        let d = Schema::entity(Entity::Order).check(
            &parse("order.total >= 1 USD and (order.x = 1 or order.y = 2)").unwrap(),
            "guard",
        );
        let paths: Vec<&str> = d.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["guard.all[1].any[0]", "guard.all[1].any[1]"]);
    }
}
