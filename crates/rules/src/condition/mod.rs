//! Conditions: the one typed condition language of Countersign.
//!
//! Workflow guards ("`order.total >= 50000 USD and order.state_age >= 7d`") and approval rule
//! conditions ("`order.categories contains \"chemicals\"`") are the same thing: boolean
//! combinations (`all`, `any`, `not`) of comparisons between a typed field and a literal.
//!
//! A condition has two equivalent forms: JSON (what the visual rule builder edits) and text (what
//! people read and type). [`text::print`] and [`text::parse`] convert between them and round trip
//! exactly for conditions in canonical form (see [`Condition::canonical`]).
//!
//! Before it runs, a condition is checked against a [`Schema`] (the fields an entity has and
//! their types) and compiled to a [`CompiledCondition`], which evaluates against [`Facts`]
//! without allocating.

mod eval;
mod overlap;
mod schema;
pub mod text;

pub use eval::{Check, CompiledCondition, Facts};
pub use overlap::may_overlap;
pub use schema::{Entity, FieldOrigin, FieldSpec, Schema};

use crate::ids::SharedStr;
use crate::{money::Money, time::Duration};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::{fmt, sync::Arc};

/// A dotted field path such as `order.total`: at least two segments, each a lowercase letter
/// followed by lowercase letters, digits or `_`, none of them a keyword of the text form.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldPath(SharedStr);

/// Words of the text form that cannot be field segments.
pub const KEYWORDS: [&str; 8] = ["and", "or", "not", "in", "contains", "within", "true", "false"];

/// Why a text is not a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadFieldPath(pub String);

impl std::error::Error for BadFieldPath {}

impl FieldPath {
    pub fn parse(text: &str) -> Result<FieldPath, BadFieldPath> {
        let valid_segment = |s: &str| {
            let mut bytes = s.bytes();
            bytes.next().is_some_and(|b| b.is_ascii_lowercase())
                && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && !KEYWORDS.contains(&s)
        };
        let segments = text.split('.').count();
        if segments >= 2 && text.len() <= 128 && text.split('.').all(valid_segment) {
            Ok(FieldPath(SharedStr::from(text)))
        } else {
            Err(BadFieldPath(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first segment: the entity (`order`, `quote`, `buyer`, ...).
    pub fn root(&self) -> &str {
        self.0.split('.').next().unwrap_or_default()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for FieldPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for FieldPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = FieldPath;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field path such as \"order.total\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldPath, E> {
                FieldPath::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// The type of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Money,
    Number,
    Duration,
    Text,
    Bool,
    /// A set of texts (an order's product categories, a buyer's roles).
    TextList,
    /// A business unit, known with its ancestors, so that `within` covers subtrees.
    Unit,
}

/// A typed value: a literal in a condition, or a fact about an entity.
///
/// JSON form: `{"money": {"amount": "50000", "currency": "USD"}}`, `{"number": "3"}`,
/// `{"duration": "7d"}`, `{"text": "card"}`, `{"bool": true}`, `{"list": ["a", "b"]}`.
/// A business unit fact is a list: the unit first, then its ancestors up to the root.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Value {
    Money(Money),
    Number(#[serde(with = "crate::decimal::serde_str")] Decimal),
    Duration(Duration),
    Text(SharedStr),
    Bool(bool),
    List(Arc<[SharedStr]>),
}

/// The kind of a [`Value`], for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    Money,
    Number,
    Duration,
    Text,
    Bool,
    List,
}

impl Value {
    pub fn kind(&self) -> ValueKind {
        match self {
            Value::Money(_) => ValueKind::Money,
            Value::Number(_) => ValueKind::Number,
            Value::Duration(_) => ValueKind::Duration,
            Value::Text(_) => ValueKind::Text,
            Value::Bool(_) => ValueKind::Bool,
            Value::List(_) => ValueKind::List,
        }
    }

    pub fn text(s: &str) -> Value {
        Value::Text(SharedStr::from(s))
    }

    /// Whether this value may be the fact of a field of type `ty`.
    pub fn fits(&self, ty: FieldType) -> bool {
        matches!(
            (self, ty),
            (Value::Money(_), FieldType::Money)
                | (Value::Number(_), FieldType::Number)
                | (Value::Duration(_), FieldType::Duration)
                | (Value::Text(_), FieldType::Text)
                | (Value::Bool(_), FieldType::Bool)
                | (Value::List(_), FieldType::TextList)
        ) || matches!((self, ty), (Value::List(path), FieldType::Unit) if !path.is_empty())
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    /// The field's text is one of a list.
    #[serde(rename = "in")]
    In,
    /// The field's list contains a text.
    #[serde(rename = "contains")]
    Contains,
    /// The field's business unit is the given unit or lies below it.
    #[serde(rename = "within")]
    Within,
}

impl Op {
    pub const ALL: [Op; 9] =
        [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::In, Op::Contains, Op::Within];

    /// The comparison that holds exactly when this one does not; `None` for `in`, `contains`
    /// and `within`, which have no opposite among the operators.
    pub fn negated(self) -> Option<Op> {
        Some(match self {
            Op::Eq => Op::Ne,
            Op::Ne => Op::Eq,
            Op::Lt => Op::Ge,
            Op::Le => Op::Gt,
            Op::Gt => Op::Le,
            Op::Ge => Op::Lt,
            Op::In | Op::Contains | Op::Within => return None,
        })
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "in",
            Op::Contains => "contains",
            Op::Within => "within",
        }
    }
}

/// One comparison: `field op value`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    pub field: FieldPath,
    pub op: Op,
    pub value: Value,
}

/// A boolean condition over an entity's fields.
///
/// JSON form: `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}` or a comparison
/// `{"field": "order.total", "op": ">=", "value": {...}}`. `{"all": []}` always holds and
/// `{"any": []}` never does.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    Compare(Comparison),
}

/// Nesting deeper than this is refused (by the parser and by deserialization), so that hostile
/// input cannot exhaust the stack.
pub const MAX_DEPTH: usize = 64;

impl Condition {
    pub fn compare(field: FieldPath, op: Op, value: Value) -> Condition {
        Condition::Compare(Comparison { field, op, value })
    }

    /// The canonical form: groups of a single condition are replaced by that condition.
    /// The text form prints every condition as its canonical form, and parsing text gives
    /// canonical conditions, so `parse(print(c)) == c.canonical()`.
    pub fn canonical(self) -> Condition {
        match self {
            Condition::All(items) | Condition::Any(items) if items.len() == 1 => {
                items.into_iter().next().map(Condition::canonical).unwrap_or(Condition::All(vec![]))
            }
            Condition::All(items) => {
                Condition::All(items.into_iter().map(Condition::canonical).collect())
            }
            Condition::Any(items) => {
                Condition::Any(items.into_iter().map(Condition::canonical).collect())
            }
            Condition::Not(inner) => Condition::Not(Box::new(inner.canonical())),
            c @ Condition::Compare(_) => c,
        }
    }

    /// Nesting depth (a comparison has depth 1).
    pub fn depth(&self) -> usize {
        match self {
            Condition::All(items) | Condition::Any(items) => {
                items.iter().map(Condition::depth).max().unwrap_or(0).saturating_add(1)
            }
            Condition::Not(inner) => inner.depth().saturating_add(1),
            Condition::Compare(_) => 1,
        }
    }

    /// Every comparison, depth first, with its path relative to this condition
    /// (`all[1].any[0]`).
    pub fn comparisons(&self) -> Vec<(String, &Comparison)> {
        let mut out = Vec::new();
        self.walk(String::new(), &mut out);
        out
    }

    fn walk<'a>(&'a self, path: String, out: &mut Vec<(String, &'a Comparison)>) {
        let join = |p: &str, seg: String| if p.is_empty() { seg } else { format!("{p}.{seg}") };
        match self {
            Condition::All(items) => {
                for (i, c) in items.iter().enumerate() {
                    c.walk(join(&path, format!("all[{i}]")), out);
                }
            }
            Condition::Any(items) => {
                for (i, c) in items.iter().enumerate() {
                    c.walk(join(&path, format!("any[{i}]")), out);
                }
            }
            Condition::Not(inner) => inner.walk(join(&path, "not".to_owned()), out),
            Condition::Compare(cmp) => out.push((path, cmp)),
        }
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Condition::All(items) => {
                let mut m = serializer.serialize_map(Some(1))?;
                m.serialize_entry("all", items)?;
                m.end()
            }
            Condition::Any(items) => {
                let mut m = serializer.serialize_map(Some(1))?;
                m.serialize_entry("any", items)?;
                m.end()
            }
            Condition::Not(inner) => {
                let mut m = serializer.serialize_map(Some(1))?;
                m.serialize_entry("not", inner)?;
                m.end()
            }
            Condition::Compare(cmp) => cmp.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Repr {
            all: Option<Vec<Condition>>,
            any: Option<Vec<Condition>>,
            not: Option<Box<Condition>>,
            field: Option<FieldPath>,
            op: Option<Op>,
            value: Option<Value>,
        }
        let r = Repr::deserialize(deserializer)?;
        let condition = match r {
            Repr { all: Some(items), any: None, not: None, field: None, op: None, value: None } => {
                Condition::All(items)
            }
            Repr { all: None, any: Some(items), not: None, field: None, op: None, value: None } => {
                Condition::Any(items)
            }
            Repr { all: None, any: None, not: Some(inner), field: None, op: None, value: None } => {
                Condition::Not(inner)
            }
            Repr {
                all: None,
                any: None,
                not: None,
                field: Some(field),
                op: Some(op),
                value: Some(value),
            } => Condition::Compare(Comparison { field, op, value }),
            _ => {
                return Err(de::Error::custom(
                    "a condition is one of {\"all\": [...]}, {\"any\": [...]}, {\"not\": {...}} \
                     or {\"field\": ..., \"op\": ..., \"value\": ...}",
                ));
            }
        };
        if condition.depth() > MAX_DEPTH {
            return Err(de::Error::custom(format!(
                "a condition may nest at most {MAX_DEPTH} levels deep"
            )));
        }
        Ok(condition)
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        text::write(self, f)
    }
}
