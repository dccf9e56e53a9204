//! Compiled conditions: checked once against a schema, then evaluated against facts in slots,
//! without allocating.

use super::{Comparison, Condition, FieldPath, FieldType, Op, Schema, Value};
use crate::ids::SharedStr;
use crate::{diagnostic::Diagnostic, money::Money, time::Duration};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::{cmp::Ordering, sync::Arc};

/// The facts a condition is evaluated against, by schema slot.
pub trait Facts {
    fn fact(&self, slot: usize) -> Option<&Value>;
}

impl Facts for [Option<Value>] {
    fn fact(&self, slot: usize) -> Option<&Value> {
        self.get(slot).and_then(Option::as_ref)
    }
}

impl Facts for Vec<Option<Value>> {
    fn fact(&self, slot: usize) -> Option<&Value> {
        self.as_slice().fact(slot)
    }
}

#[derive(Clone, Debug)]
enum Test {
    Money(Op, Money),
    Number(Op, Decimal),
    Duration(Op, Duration),
    Text { equal: bool, text: SharedStr },
    TextIn(Arc<[SharedStr]>),
    Bool { equal: bool, value: bool },
    Contains(SharedStr),
    Within(SharedStr),
    UnitIs { equal: bool, unit: SharedStr },
}

#[derive(Clone, Debug)]
enum Node {
    All(Box<[Node]>),
    Any(Box<[Node]>),
    Not(Box<Node>),
    Leaf { slot: usize, test: Test, source: Box<Comparison> },
}

/// A type-checked condition, ready to evaluate.
#[derive(Clone, Debug)]
pub struct CompiledCondition {
    root: Node,
}

/// Why a comparison held or not, for explanations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub field: FieldPath,
    pub op: Op,
    pub expected: Value,
    /// The fact compared, if there was one.
    pub actual: Option<Value>,
    pub holds: bool,
}

fn ordered(op: Op, ord: Ordering) -> bool {
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::In | Op::Contains | Op::Within => false,
    }
}

impl Test {
    fn new(op: Op, ty: FieldType, value: &Value) -> Option<Test> {
        Some(match (ty, value) {
            (FieldType::Money, Value::Money(m)) => Test::Money(op, *m),
            (FieldType::Number, Value::Number(n)) => Test::Number(op, *n),
            (FieldType::Duration, Value::Duration(d)) => Test::Duration(op, *d),
            (FieldType::Text, Value::List(items)) if op == Op::In => Test::TextIn(items.clone()),
            (FieldType::Text, Value::Text(t)) => {
                Test::Text { equal: op == Op::Eq, text: t.clone() }
            }
            (FieldType::Bool, Value::Bool(b)) => Test::Bool { equal: op == Op::Eq, value: *b },
            (FieldType::TextList, Value::Text(t)) => Test::Contains(t.clone()),
            (FieldType::Unit, Value::Text(t)) if op == Op::Within => Test::Within(t.clone()),
            (FieldType::Unit, Value::Text(t)) => {
                Test::UnitIs { equal: op == Op::Eq, unit: t.clone() }
            }
            _ => return None,
        })
    }

    /// Whether the fact passes. A missing fact, or money in another currency, never passes.
    fn passes(&self, fact: Option<&Value>) -> bool {
        match (self, fact) {
            (Test::Money(op, want), Some(Value::Money(have))) => {
                have.try_cmp(want).is_ok_and(|ord| ordered(*op, ord))
            }
            (Test::Number(op, want), Some(Value::Number(have))) => {
                ordered(*op, crate::decimal::cmp(have, want))
            }
            (Test::Duration(op, want), Some(Value::Duration(have))) => ordered(*op, have.cmp(want)),
            (Test::Text { equal, text }, Some(Value::Text(have))) => (have == text) == *equal,
            (Test::TextIn(items), Some(Value::Text(have))) => items.contains(have),
            (Test::Bool { equal, value }, Some(Value::Bool(have))) => (have == value) == *equal,
            (Test::Contains(item), Some(Value::List(have))) => have.contains(item),
            (Test::Within(unit), Some(Value::List(path))) => path.contains(unit),
            (Test::UnitIs { equal, unit }, Some(Value::List(path))) => {
                (path.first() == Some(unit)) == *equal
            }
            _ => false,
        }
    }
}

fn compile_node(c: &Condition, schema: &Schema) -> Option<Node> {
    Some(match c {
        Condition::All(items) => {
            Node::All(items.iter().map(|c| compile_node(c, schema)).collect::<Option<_>>()?)
        }
        Condition::Any(items) => {
            Node::Any(items.iter().map(|c| compile_node(c, schema)).collect::<Option<_>>()?)
        }
        Condition::Not(inner) => Node::Not(Box::new(compile_node(inner, schema)?)),
        Condition::Compare(cmp) => {
            let (slot, ty) = schema.check_comparison(cmp).ok()?;
            Node::Leaf {
                slot,
                test: Test::new(cmp.op, ty, &cmp.value)?,
                source: Box::new(cmp.clone()),
            }
        }
    })
}

impl Node {
    fn holds(&self, facts: &(impl Facts + ?Sized)) -> bool {
        match self {
            Node::All(items) => items.iter().all(|n| n.holds(facts)),
            Node::Any(items) => items.iter().any(|n| n.holds(facts)),
            Node::Not(inner) => !inner.holds(facts),
            Node::Leaf { slot, test, .. } => test.passes(facts.fact(*slot)),
        }
    }

    /// Collects the comparisons that decided the outcome.
    fn explain(&self, facts: &(impl Facts + ?Sized), out: &mut Vec<Check>) -> bool {
        match self {
            Node::All(items) => {
                let holds = self.holds(facts);
                for item in items.iter() {
                    // When all hold, each is a reason; otherwise only the failing ones are.
                    if holds || !item.holds(facts) {
                        item.explain(facts, out);
                    }
                }
                holds
            }
            Node::Any(items) => {
                let holds = self.holds(facts);
                if holds {
                    if let Some(first) = items.iter().find(|n| n.holds(facts)) {
                        first.explain(facts, out);
                    }
                } else {
                    for item in items.iter() {
                        item.explain(facts, out);
                    }
                }
                holds
            }
            Node::Not(inner) => !inner.explain(facts, out),
            Node::Leaf { slot, test, source } => {
                let actual = facts.fact(*slot);
                let holds = test.passes(actual);
                out.push(Check {
                    field: source.field.clone(),
                    op: source.op,
                    expected: source.value.clone(),
                    actual: actual.cloned(),
                    holds,
                });
                holds
            }
        }
    }
}

impl CompiledCondition {
    /// Type-checks `condition` against `schema`; every problem is reported.
    pub fn compile(condition: &Condition, schema: &Schema) -> Result<Self, Vec<Diagnostic>> {
        let problems = schema.check(condition, "");
        if !problems.is_empty() {
            return Err(problems);
        }
        compile_node(condition, schema).map(|root| CompiledCondition { root }).ok_or_else(Vec::new)
    }

    /// The fact slots the condition reads.
    pub fn slots(&self) -> Vec<usize> {
        fn walk(n: &Node, out: &mut Vec<usize>) {
            match n {
                Node::All(items) | Node::Any(items) => items.iter().for_each(|i| walk(i, out)),
                Node::Not(inner) => walk(inner, out),
                Node::Leaf { slot, .. } => {
                    if !out.contains(slot) {
                        out.push(*slot);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }

    /// The condition that always holds.
    pub fn always() -> Self {
        CompiledCondition { root: Node::All(Box::new([])) }
    }

    pub fn holds(&self, facts: &(impl Facts + ?Sized)) -> bool {
        self.root.holds(facts)
    }

    /// The outcome and the comparisons that decided it: all of them when an `all` holds, the
    /// failing ones when it does not; the first passing one when an `any` holds.
    pub fn explain(&self, facts: &(impl Facts + ?Sized)) -> (bool, Vec<Check>) {
        let mut checks = Vec::with_capacity(4);
        let holds = self.root.explain(facts, &mut checks);
        (holds, checks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::{schema::Entity, text::parse};
    use std::collections::BTreeMap;

    fn facts(schema: &Schema, pairs: &[(&str, Value)]) -> Vec<Option<Value>> {
        let map: BTreeMap<FieldPath, Value> =
            pairs.iter().map(|(k, v)| (FieldPath::parse(k).unwrap(), v.clone())).collect();
        schema.bind(&map, "").unwrap()
    }

    fn usd(s: &str) -> Value {
        Value::Money(Money::parse(s, "USD").unwrap())
    }

    #[test]
    fn evaluates_the_seed_guard() {
        let mut schema = Schema::entity(Entity::Order);
        schema = schema.with_custom(Entity::Order, &[], "fields").0;
        let guard = CompiledCondition::compile(
            &parse("order.total >= 50000 USD and order.sku_count > 2").unwrap(),
            &schema,
        )
        .unwrap();
        let n = |s: &str| Value::Number(s.parse().unwrap());
        assert!(guard.holds(&facts(
            &schema,
            &[("order.total", usd("50000.00")), ("order.sku_count", n("3"))]
        )));
        assert!(!guard.holds(&facts(
            &schema,
            &[("order.total", usd("49999.99")), ("order.sku_count", n("3"))]
        )));
        let eur = Value::Money(Money::parse("60000", "EUR").unwrap());
        assert!(
            !guard.holds(&facts(&schema, &[("order.total", eur), ("order.sku_count", n("3"))]))
        );
        assert!(
            !guard.holds(&facts(&schema, &[("order.sku_count", n("3"))])),
            "a missing fact never passes"
        );
        let (holds, checks) = guard.explain(&facts(
            &schema,
            &[("order.total", usd("49999.99")), ("order.sku_count", n("3"))],
        ));
        assert!(!holds);
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].field.as_str(), "order.total");
        assert_eq!(checks[0].actual, Some(usd("49999.99")));
    }

    #[test]
    fn texts_lists_and_units() {
        let schema = Schema::approval();
        let c = CompiledCondition::compile(
            &parse(r#"order.business_unit within "emea" and order.categories contains "chem" and order.payment_method in ["card", "invoice"] and not order.business_unit = "emea""#).unwrap(),
            &schema,
        )
        .unwrap();
        let list =
            |items: &[&str]| Value::List(items.iter().map(|s| SharedStr::from(*s)).collect());
        let f = facts(
            &schema,
            &[
                ("order.business_unit", list(&["berlin", "germany", "emea", "acme"])),
                ("order.categories", list(&["tools", "chem"])),
                ("order.payment_method", Value::text("card")),
            ],
        );
        assert!(c.holds(&f));
        let f = facts(
            &schema,
            &[
                ("order.business_unit", list(&["emea", "acme"])),
                ("order.categories", list(&["tools", "chem"])),
                ("order.payment_method", Value::text("card")),
            ],
        );
        assert!(!c.holds(&f));
    }

    #[test]
    fn binding_checks_facts() {
        let schema = Schema::entity(Entity::Order);
        let map: BTreeMap<FieldPath, Value> = [
            (FieldPath::parse("order.total").unwrap(), Value::text("x")),
            (FieldPath::parse("order.state_age").unwrap(), Value::Duration(Duration::ZERO)),
            (FieldPath::parse("order.nope").unwrap(), Value::Bool(true)),
        ]
        .into();
        let problems = schema.bind(&map, "fields").unwrap_err();
        assert_eq!(problems.len(), 3);
    }
}
