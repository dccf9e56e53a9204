//! Can two conditions hold at once? Used to warn about two transitions that the same trigger
//! could both fire.
//!
//! The answer is conservative: `false` only when the conditions provably exclude each other
//! (for example `order.total >= 50000 USD` and `order.total < 50000 USD`), `true` otherwise.
//! Conditions are put in disjunctive normal form (bounded in size; past the bound the answer
//! is `true`), and each conjunction is checked field by field: intervals for money, numbers
//! and durations, allowed and excluded sets for texts, required and forbidden items for lists
//! and units.

use super::{Comparison, Condition, Op, Value};
use crate::ids::SharedStr;
use crate::money::Currency;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Past this many conjunctions the analysis gives up and answers "may overlap".
const MAX_CONJUNCTIONS: usize = 512;

#[derive(Clone, Copy)]
struct Literal<'a> {
    cmp: &'a Comparison,
    negated: bool,
}

type Dnf<'a> = Vec<Vec<Literal<'a>>>;

fn product<'a>(left: Dnf<'a>, right: &Dnf<'a>) -> Option<Dnf<'a>> {
    if left.len().saturating_mul(right.len()) > MAX_CONJUNCTIONS {
        return None;
    }
    let mut out = Vec::with_capacity(left.len().saturating_mul(right.len()));
    for l in &left {
        for r in right {
            let mut both = l.clone();
            both.extend(r.iter().copied());
            out.push(both);
        }
    }
    Some(out)
}

fn dnf(c: &Condition, negated: bool) -> Option<Dnf<'_>> {
    match c {
        Condition::Compare(cmp) => Some(vec![vec![Literal { cmp, negated }]]),
        Condition::Not(inner) => dnf(inner, !negated),
        Condition::All(items) | Condition::Any(items) => {
            // `all` (or a negated `any`) is a product; `any` (or a negated `all`) a union.
            let conjunctive = matches!(c, Condition::All(_)) != negated;
            if conjunctive {
                let mut acc: Dnf<'_> = vec![vec![]];
                for item in items {
                    acc = product(acc, &dnf(item, negated)?)?;
                }
                Some(acc)
            } else {
                let mut acc: Dnf<'_> = vec![];
                for item in items {
                    acc.extend(dnf(item, negated)?);
                    if acc.len() > MAX_CONJUNCTIONS {
                        return None;
                    }
                }
                Some(acc)
            }
        }
    }
}

/// Constraints on one ordered field: a lower and an upper bound (value, inclusive) and
/// excluded points.
#[derive(Default)]
struct Interval {
    low: Option<(Decimal, bool)>,
    high: Option<(Decimal, bool)>,
    excluded: Vec<Decimal>,
}

impl Interval {
    fn add(&mut self, op: Op, v: Decimal) {
        let tighter_low = |cur: Option<(Decimal, bool)>, new: (Decimal, bool)| match cur {
            Some((c, inc)) if c > new.0 || (c == new.0 && !inc) => Some((c, inc)),
            _ => Some(new),
        };
        let tighter_high = |cur: Option<(Decimal, bool)>, new: (Decimal, bool)| match cur {
            Some((c, inc)) if c < new.0 || (c == new.0 && !inc) => Some((c, inc)),
            _ => Some(new),
        };
        match op {
            Op::Eq => {
                self.low = tighter_low(self.low, (v, true));
                self.high = tighter_high(self.high, (v, true));
            }
            Op::Ne => self.excluded.push(v),
            Op::Gt => self.low = tighter_low(self.low, (v, false)),
            Op::Ge => self.low = tighter_low(self.low, (v, true)),
            Op::Lt => self.high = tighter_high(self.high, (v, false)),
            Op::Le => self.high = tighter_high(self.high, (v, true)),
            Op::In | Op::Contains | Op::Within => {}
        }
    }

    fn satisfiable(&self) -> bool {
        match (self.low, self.high) {
            (Some((lo, lo_inc)), Some((hi, hi_inc))) => {
                lo < hi || (lo == hi && lo_inc && hi_inc && !self.excluded.contains(&lo))
            }
            _ => true,
        }
    }
}

#[derive(Default)]
struct FieldConstraints {
    interval: Interval,
    currency: Option<Currency>,
    negated_money: Vec<(Op, Currency, Decimal)>,
    allowed: Option<Vec<SharedStr>>,
    excluded: Vec<SharedStr>,
    required: Vec<SharedStr>,
    forbidden: Vec<SharedStr>,
    unit_is: Vec<SharedStr>,
    unit_is_not: Vec<SharedStr>,
    bools: [bool; 2],
    contradiction: bool,
}

impl FieldConstraints {
    fn allow(&mut self, items: &[SharedStr]) {
        self.allowed = Some(match self.allowed.take() {
            Some(current) => current.into_iter().filter(|t| items.contains(t)).collect(),
            None => items.to_vec(),
        });
    }

    fn add(&mut self, lit: Literal<'_>) {
        let Literal { cmp, negated } = lit;
        match (&cmp.value, cmp.op, negated) {
            (Value::Money(m), op, false) => {
                if self.currency.is_some_and(|c| c != m.currency()) {
                    self.contradiction = true;
                }
                self.currency = Some(m.currency());
                self.interval.add(op, m.amount());
            }
            (Value::Money(m), op, true) => {
                if let Some(op) = op.negated() {
                    self.negated_money.push((op, m.currency(), m.amount()));
                }
            }
            (Value::Number(n), op, negated) => {
                if let Some(op) = if negated { op.negated() } else { Some(op) } {
                    self.interval.add(op, *n);
                }
            }
            (Value::Duration(d), op, negated) => {
                if let Some(op) = if negated { op.negated() } else { Some(op) } {
                    self.interval.add(op, Decimal::from(d.millis()));
                }
            }
            (Value::Bool(b), op, negated) => {
                let want = (op == Op::Eq) != negated;
                if let Some(slot) = self.bools.get_mut(usize::from(*b == want)) {
                    *slot = true;
                }
            }
            (Value::List(items), Op::In, false) => self.allow(items),
            (Value::List(items), Op::In, true) => self.excluded.extend(items.iter().cloned()),
            (Value::Text(t), Op::Contains | Op::Within, false) => self.required.push(t.clone()),
            (Value::Text(t), Op::Contains | Op::Within, true) => self.forbidden.push(t.clone()),
            (Value::Text(t), op @ (Op::Eq | Op::Ne), negated) => {
                if (op == Op::Eq) != negated {
                    self.allow(std::slice::from_ref(t));
                    self.unit_is.push(t.clone());
                } else {
                    self.excluded.push(t.clone());
                    self.unit_is_not.push(t.clone());
                }
            }
            _ => {}
        }
    }

    fn satisfiable(mut self) -> bool {
        if self.contradiction || self.bools == [true, true] {
            return false;
        }
        if let Some(currency) = self.currency {
            for (op, c, amount) in std::mem::take(&mut self.negated_money) {
                if c == currency {
                    self.interval.add(op, amount);
                }
            }
        }
        if !self.interval.satisfiable() {
            return false;
        }
        if let Some(allowed) = &self.allowed
            && !allowed.iter().any(|t| !self.excluded.contains(t))
        {
            return false;
        }
        if self.required.iter().any(|t| self.forbidden.contains(t)) {
            return false;
        }
        // A unit that is `u` lies within `u` and is not another unit.
        if let Some(first) = self.unit_is.first() {
            if self.unit_is.iter().any(|u| u != first) || self.forbidden.contains(first) {
                return false;
            }
            if self.unit_is_not.contains(first) {
                return false;
            }
        }
        true
    }
}

fn conjunction_satisfiable(literals: &[Literal<'_>]) -> bool {
    let mut by_field: BTreeMap<&str, FieldConstraints> = BTreeMap::new();
    for lit in literals {
        by_field.entry(lit.cmp.field.as_str()).or_default().add(*lit);
    }
    by_field.into_values().all(FieldConstraints::satisfiable)
}

/// Whether `a` and `b` may both hold for some facts. `None` is a missing guard, which always
/// holds.
pub fn may_overlap(a: Option<&Condition>, b: Option<&Condition>) -> bool {
    let always = Condition::All(vec![]);
    let (Some(left), Some(right)) =
        (dnf(a.unwrap_or(&always), false), dnf(b.unwrap_or(&always), false))
    else {
        return true;
    };
    match product(left, &right) {
        Some(both) => both.iter().any(|conj| conjunction_satisfiable(conj)),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::text::parse;

    fn overlap(a: &str, b: &str) -> bool {
        may_overlap(Some(&parse(a).unwrap()), Some(&parse(b).unwrap()))
    }

    #[test]
    fn disjoint_intervals_do_not_overlap() {
        assert!(!overlap("o.total >= 50000 USD", "o.total < 50000 USD"));
        assert!(overlap("o.total >= 50000 USD", "o.total <= 50000 USD"));
        assert!(!overlap("o.total >= 50000 USD", "not o.total >= 50000 USD and o.total > 1 USD"));
        assert!(!overlap("o.total >= 50000 USD", "not o.total >= 50000 USD"));
        assert!(
            overlap("o.total >= 1 EUR", "not o.total >= 50000 USD"),
            "an EUR order satisfies the negation"
        );
        assert!(!overlap("o.total >= 1 USD", "o.total >= 1 EUR"));
        assert!(!overlap("o.n > 3", "o.n < 2 or o.n = 3"));
        assert!(overlap("o.n > 3", "o.n < 2 or o.n = 4"));
        assert!(!overlap("o.age >= 7d", "o.age < 168h"));
        assert!(!overlap("o.n = 3", "o.n != 3"));
    }

    #[test]
    fn texts_bools_lists() {
        assert!(!overlap(r#"o.m = "card""#, r#"o.m = "invoice""#));
        assert!(!overlap(r#"o.m in ["card", "cash"]"#, r#"o.m in ["invoice"]"#));
        assert!(overlap(r#"o.m in ["card", "cash"]"#, r#"o.m != "card""#));
        assert!(!overlap(r#"o.m in ["card"]"#, r#"not o.m in ["card"]"#));
        assert!(!overlap("o.b = true", "o.b = false"));
        assert!(!overlap("o.b = true", "o.b != true"));
        assert!(overlap("o.b = true", "o.c = false"));
        assert!(!overlap(r#"o.c contains "x""#, r#"not o.c contains "x""#));
        assert!(overlap(r#"o.c contains "x""#, r#"o.c contains "y""#));
        assert!(!overlap(r#"o.u within "emea""#, r#"not o.u within "emea""#));
    }

    #[test]
    fn missing_guards_always_hold() {
        assert!(may_overlap(None, None));
        assert!(may_overlap(None, Some(&parse("o.n > 1").unwrap())));
        assert!(!may_overlap(None, Some(&parse("false").unwrap())));
    }
}
