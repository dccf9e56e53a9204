//! Every sentence the engine says, in one place, so that it can be translated.
//!
//! Errors and problems implement `Display` here (and only here); verdicts carry structured
//! reasons, which the `explain_*` functions turn into sentences. Messages are lowercase
//! where they are fragments, quote the offending input, and never name Rust types.

use crate::{
    approval::{
        ApprovalPlan, Because, Block, Change, Escalation, EscalationReason, Funds, Period,
        PlanStep, RouteError, Verdict,
    },
    condition::{
        BadFieldPath, Check, FieldPath, FieldType, Op, Value, ValueKind,
        text::{Expected, ParseError, ParseErrorKind, value_text},
    },
    decimal::DecimalError,
    diagnostic::Problem,
    ids::{IdError, PriceListId, TaxRuleId, UserId},
    money::{Money, MoneyError},
    pricing::{BadCountry, ListLevel, PriceSource, PricedCart, PricedLine, PricingError},
    time::{Duration, TimeError},
    workflow::{
        MoveBlocked, Refusal, RuntimeError, TimerStatus, WorkflowDiff,
        diff::{DefinitionField, StateField, TransitionField},
    },
};
use std::fmt::{self, Display, Formatter};

impl Display for DecimalError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            DecimalError::Empty => f.write_str("a number is required"),
            DecimalError::Malformed(t) => write!(
                f,
                "\"{t}\" is not a number (write digits, an optional \"-\" and an optional \".\", such as \"12.50\")"
            ),
            DecimalError::OutOfRange(t) => write!(f, "\"{t}\" has more than 28 significant digits"),
        }
    }
}

impl Display for IdError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            IdError::Empty { what } => write!(f, "{what} must not be empty"),
            IdError::TooLong { what, len } => {
                write!(f, "{what} is {len} characters long; the most is {}", crate::ids::MAX_ID_LEN)
            }
            IdError::BadCharacter { what, text } => {
                let text = crate::condition::text::quoted(text);
                write!(f, "{what} {text} has leading or trailing spaces or control characters")
            }
        }
    }
}

impl Display for MoneyError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::CurrencyMismatch { left, right } => write!(
                f,
                "amounts in {left} and {right} cannot be combined; currencies are never converted"
            ),
            MoneyError::Overflow => f.write_str("the amount is too large (more than 28 digits)"),
            MoneyError::UnknownCurrency(c) => {
                write!(f, "\"{c}\" is not an ISO 4217 currency code (such as \"USD\")")
            }
            MoneyError::BadAmount(e) => e.fmt(f),
        }
    }
}

impl Display for TimeError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TimeError::BadDate(t) => {
                write!(f, "\"{t}\" is not a date (write YYYY-MM-DD, such as \"2026-11-21\")")
            }
            TimeError::BadTimestamp(t) => write!(
                f,
                "\"{t}\" is not a timestamp (write RFC 3339, such as \"2026-11-21T09:30:00Z\")"
            ),
            TimeError::BadDuration(t) => write!(
                f,
                "\"{t}\" is not a duration (write numbers with units w, d, h, m, s, ms, largest first, such as \"7d\" or \"1d12h\")"
            ),
            TimeError::OutOfRange => f.write_str("the time is out of range (years 1 to 9999)"),
        }
    }
}

impl Display for BadFieldPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\"{}\" is not a field path (write segments of lowercase letters, digits and \"_\" joined by dots, such as \"order.total\")",
            self.0
        )
    }
}

impl Display for BadCountry {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\" is not a two-letter country code (such as \"US\" or \"DE\")", self.0)
    }
}

fn type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Money => "money",
        FieldType::Number => "a number",
        FieldType::Duration => "a duration",
        FieldType::Text => "text",
        FieldType::Bool => "true or false",
        FieldType::TextList => "a list of texts",
        FieldType::Unit => "a business unit",
    }
}

fn kind_name(k: ValueKind) -> &'static str {
    match k {
        ValueKind::Money => "money",
        ValueKind::Number => "a number",
        ValueKind::Duration => "a duration",
        ValueKind::Text => "text",
        ValueKind::Bool => "true or false",
        ValueKind::List => "a list",
    }
}

fn expected_name(e: Expected) -> &'static str {
    match e {
        Expected::Condition => {
            "a condition (a comparison such as order.total >= 1000 USD, \"not\", \"(\", true or false)"
        }
        Expected::Operator => "an operator (=, !=, <, <=, >, >=, in, contains, within)",
        Expected::Value => "a value (such as 50000 USD, 7d, 3, \"text\", true)",
        Expected::Text => "a text in double quotes",
        Expected::ClosingParen => "\")\"",
        Expected::ListOpen => "\"[\" to start a list",
        Expected::ListItem => "a text in double quotes, then \",\" or \"]\"",
        Expected::EndOfText => "\"and\", \"or\" or the end",
    }
}

impl Display for ParseError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "at column {}: ", self.column)?;
        match &self.kind {
            ParseErrorKind::Unexpected { expected, found: Some(found) } => {
                write!(f, "expected {}, found \"{found}\"", expected_name(*expected))
            }
            ParseErrorKind::Unexpected { expected, found: None } => {
                write!(f, "expected {}, found the end of the text", expected_name(*expected))
            }
            ParseErrorKind::BadNumber(t) => write!(f, "\"{t}\" is not a number"),
            ParseErrorKind::BadDuration(t) => {
                write!(f, "\"{t}\" is not a duration (such as 7d, 1d12h, 90m)")
            }
            ParseErrorKind::UnknownCurrency(c) => {
                write!(f, "\"{c}\" is not an ISO 4217 currency code")
            }
            ParseErrorKind::BadField(t) => {
                write!(f, "\"{t}\" is not a field path (such as order.total)")
            }
            ParseErrorKind::UnterminatedText => {
                f.write_str("a text is missing its closing double quote")
            }
            ParseErrorKind::BadEscape(e) => {
                write!(f, "\"{e}\" is not an escape (use \\\", \\\\, \\n, \\r, \\t or \\u{{hex}})")
            }
            ParseErrorKind::TooDeep => write!(
                f,
                "the condition nests more than {} levels deep",
                crate::condition::MAX_DEPTH
            ),
        }
    }
}

fn list<T: Display>(items: &[T]) -> String {
    items.iter().map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(", ")
}

impl Display for Problem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        use Problem as P;
        match self {
            P::UnknownField { field, suggestion: Some(s) } => {
                write!(f, "unknown field \"{field}\"; did you mean \"{s}\"?")
            }
            P::UnknownField { field, suggestion: None } => write!(f, "unknown field \"{field}\""),
            P::OperatorNotAllowed { field, field_type, op } => write!(
                f,
                "\"{field}\" is {}; the operator \"{}\" does not apply to it",
                type_name(*field_type),
                op.symbol()
            ),
            P::WrongValueType { field, field_type, op, found } => match op {
                Op::In => write!(
                    f,
                    "\"{field} in\" needs a list of texts; the value is {}",
                    kind_name(*found)
                ),
                Op::Contains | Op::Within => write!(
                    f,
                    "\"{field} {}\" needs a text; the value is {}",
                    op.symbol(),
                    kind_name(*found)
                ),
                _ => write!(
                    f,
                    "\"{field}\" is {} but the value compared with it is {}",
                    type_name(*field_type),
                    kind_name(*found)
                ),
            },
            P::NothingToCompare { field } => write!(f, "\"{field}\" is compared with nothing"),
            P::NoStartState => f.write_str("no state is marked as the start state"),
            P::SeveralStartStates { states } => write!(
                f,
                "several states are marked as the start state ({}); mark exactly one",
                list(states)
            ),
            P::DuplicateState { state } => write!(f, "two states have the id \"{state}\""),
            P::DuplicateTransition { transition } => {
                write!(f, "two transitions have the id \"{transition}\"")
            }
            P::UnknownState { transition, state } => write!(
                f,
                "transition \"{transition}\" refers to \"{state}\", which is not a state of this workflow"
            ),
            P::UnreachableState { state } => {
                write!(f, "state \"{state}\" cannot be reached from the start state")
            }
            P::DeadEnd { state } => {
                write!(f, "state \"{state}\" has no way out and is not terminal (a dead end)")
            }
            P::LeavesTerminalState { transition, state } => {
                write!(f, "transition \"{transition}\" leaves \"{state}\", which is terminal")
            }
            P::NoTerminalState => f.write_str("no state is terminal, so nothing ever finishes"),
            P::OverlappingTransitions { state, first, second } => write!(
                f,
                "in state \"{state}\", transitions \"{first}\" and \"{second}\" have the same trigger and their guards can both hold"
            ),
            P::UnknownRole { transition, role, suggestion: Some(s) } => write!(
                f,
                "transition \"{transition}\": unknown role \"{role}\"; did you mean \"{s}\"?"
            ),
            P::UnknownRole { transition, role, suggestion: None } => write!(
                f,
                "transition \"{transition}\": unknown role \"{role}\" (roles are {})",
                list(&crate::workflow::ROLES)
            ),
            P::NobodyMayFire { transition } => {
                write!(f, "transition \"{transition}\" is manual but no role may fire it")
            }
            P::TimerNotPositive { transition } => {
                write!(f, "the timer of transition \"{transition}\" must wait longer than zero")
            }
            P::CustomFieldOutsideEntity { field, entity } => write!(
                f,
                "field \"{field}\" must start with \"{entity}.\": this workflow runs on {entity}s"
            ),
            P::DuplicateField { field } => write!(f, "field \"{field}\" already exists"),
            P::FieldNotSettable { field } => write!(
                f,
                "field \"{field}\" is not one of this workflow's own fields, so it cannot be set"
            ),
            P::SetValueType { field, field_type, found } => write!(
                f,
                "\"{field}\" is {} but the value given is {}",
                type_name(*field_type),
                kind_name(*found)
            ),
            P::BadIntegrationName { name } => write!(
                f,
                "\"{name}\" is not an integration name (1 to 64 lowercase letters, digits, \".\", \"_\" or \"-\")"
            ),
            P::EmptyName { what } => write!(f, "the {what} name must not be empty"),
            P::DuplicateSku { sku } => write!(f, "two products have the SKU \"{sku}\""),
            P::DuplicatePriceList { list } => write!(f, "two price lists have the id \"{list}\""),
            P::PriceForUnknownSku { list, sku } => {
                write!(f, "price list \"{list}\" prices \"{sku}\", which is not in the catalog")
            }
            P::DuplicateListPrice { list, sku } => {
                write!(f, "price list \"{list}\" prices \"{sku}\" twice")
            }
            P::NoTiers { list, sku } => {
                write!(f, "price list \"{list}\" has no price tiers for \"{sku}\"")
            }
            P::TiersNotIncreasing { list, sku } => write!(
                f,
                "price list \"{list}\": the tiers of \"{sku}\" must have increasing minimum quantities"
            ),
            P::ZeroMinQuantity { list, sku } => write!(
                f,
                "price list \"{list}\": a tier of \"{sku}\" has a minimum quantity of 0; the smallest is 1"
            ),
            P::NegativePrice { list, sku } => {
                write!(f, "price list \"{list}\": \"{sku}\" has a negative price")
            }
            P::ValidityReversed { list } => {
                write!(f, "price list \"{list}\" ends before it starts")
            }
            P::DuplicateTaxRule { rule } => write!(f, "two tax rules have the id \"{rule}\""),
            P::SameTaxScope { rule, other } => write!(
                f,
                "tax rules \"{other}\" and \"{rule}\" cover the same country, region and tax class"
            ),
            P::TaxPercentOutOfRange { rule, percent } => {
                write!(f, "tax rule \"{rule}\": {percent} % is not between 0 and 100")
            }
            P::DuplicateRule { rule } => write!(f, "two approval rules have the id \"{rule}\""),
            P::NegativeThreshold { rule } => {
                write!(f, "approval rule \"{rule}\" has a negative threshold")
            }
            P::DuplicateLimit { limit } => write!(f, "two spending limits have the id \"{limit}\""),
            P::LimitNotPositive { limit } => {
                write!(f, "spending limit \"{limit}\" must be more than zero")
            }
            P::UnknownUser { user } => write!(f, "user \"{user}\" is not in the company directory"),
            P::DuplicateUser { user } => {
                write!(f, "user \"{user}\" appears twice in the directory")
            }
            P::UnknownUnit { unit } => {
                write!(f, "business unit \"{unit}\" is not in the company directory")
            }
            P::UnitCycle { unit } => write!(f, "business unit \"{unit}\" is its own ancestor"),
        }
    }
}

impl Display for PricingError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            PricingError::UnknownSku { line, sku } => {
                write!(f, "line {}: \"{sku}\" is not in the catalog", line.saturating_add(1))
            }
            PricingError::NoPrice { line, sku, quantity, currency } => write!(
                f,
                "line {}: no price list in {currency} valid today prices \"{sku}\" for a quantity of {quantity}",
                line.saturating_add(1)
            ),
            PricingError::DuplicateLine { line, first, sku } => write!(
                f,
                "lines {} and {} are both \"{sku}\"; put the quantities on one line",
                first.saturating_add(1),
                line.saturating_add(1)
            ),
            PricingError::MixedTaxBasis { line, sku } => write!(
                f,
                "line {}: \"{sku}\" is priced net of tax while other lines are priced with tax included (or the reverse)",
                line.saturating_add(1)
            ),
            PricingError::SalesTaxOnGrossPrices { rule } => write!(
                f,
                "tax rule \"{rule}\" is a sales tax, which cannot be included in gross prices"
            ),
            PricingError::NegativeNegotiatedPrice { sku } => {
                write!(f, "the negotiated price of \"{sku}\" is negative")
            }
            PricingError::DiscountNeedsOneOf => {
                f.write_str("a discount needs either a percent or an amount, not both")
            }
            PricingError::DiscountCapWithoutPercent => {
                f.write_str("a cap applies to a percentage discount only")
            }
            PricingError::DiscountPercentOutOfRange(p) => {
                write!(f, "a discount of {p} % is not between 0 and 100")
            }
            PricingError::NegativeDiscount => f.write_str("a discount cannot be negative"),
            PricingError::NegativeShipping => f.write_str("shipping cannot be negative"),
            PricingError::Money(e) => e.fmt(f),
        }
    }
}

impl Display for RouteError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::UnknownBuyer(u) => {
                write!(f, "buyer \"{u}\" is not in the company directory")
            }
            RouteError::UnknownUnit(u) => {
                write!(f, "business unit \"{u}\" is not in the company directory")
            }
            RouteError::MissingSpent(l) => write!(
                f,
                "spending limit \"{l}\" applies to the buyer, but what the buyer already spent in its period is not given"
            ),
            RouteError::Money(e) => e.fmt(f),
        }
    }
}

impl Display for Refusal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::UnknownTransition { transition } => {
                write!(f, "there is no transition \"{transition}\"")
            }
            Refusal::NotFromHere { transition, state, from } => {
                write!(f, "\"{transition}\" starts from \"{from}\", but this is in \"{state}\"")
            }
            Refusal::RoleNotAllowed { transition, allowed } if allowed.is_empty() => {
                write!(f, "nobody may fire \"{transition}\" by hand")
            }
            Refusal::RoleNotAllowed { transition, allowed } => {
                write!(f, "only {} may fire \"{transition}\"", list(allowed))
            }
            Refusal::OwnRequest { transition } => {
                write!(
                    f,
                    "you started this, and nobody approves their own request (\"{transition}\")"
                )
            }
            Refusal::GuardFails { transition, checks } => write!(
                f,
                "the condition of \"{transition}\" does not hold: {}",
                explain_checks(checks)
            ),
            Refusal::NotManual { transition } => {
                write!(f, "\"{transition}\" fires on its own (a timer or an event)")
            }
            Refusal::NotAutomatic { transition } => {
                write!(f, "\"{transition}\" is fired by a person, not by a timer or an event")
            }
            Refusal::TimerNotDue { transition, due_at } => {
                write!(f, "the timer of \"{transition}\" is due at {due_at}")
            }
        }
    }
}

impl Display for RuntimeError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::WrongVersion {
                workflow,
                version,
                instance_workflow,
                instance_version,
            } => write!(
                f,
                "this runs on workflow \"{instance_workflow}\" version {instance_version}, not \"{workflow}\" version {version}; an instance stays on the version it started on"
            ),
            RuntimeError::UnknownState(s) => write!(f, "\"{s}\" is not a state of this workflow"),
            RuntimeError::NoStartState => f.write_str("the workflow has no start state"),
            RuntimeError::BadFields(problems) => {
                let messages: Vec<String> =
                    problems.iter().map(|p| format!("{}: {}", p.path, p.problem)).collect();
                write!(f, "bad fields: {}", messages.join("; "))
            }
            RuntimeError::Refused(r) => r.fmt(f),
        }
    }
}

/// A field as people name it: `order.total` is "the order's total", `order.sku_count` "the
/// number of products in the order"; a workflow's own field `order.priority_level` is "the
/// order's priority level".
pub fn field_for_people(field: &FieldPath) -> String {
    let path = field.as_str();
    let (root, rest) = path.split_once('.').unwrap_or((path, ""));
    match rest {
        "id" => format!("the {root}"),
        "sku_count" => format!("the number of products in the {root}"),
        "state_age" => format!("the time the {root} has been in its state"),
        _ => format!("the {root}'s {}", rest.replace(['_', '.'], " ")),
    }
}

/// A duration in words: `7d` is "7 days", `1d4h` "1 day 4 hours".
pub fn duration_for_people(d: Duration) -> String {
    const UNITS: [(&str, u64); 6] = [
        ("week", 7 * 86_400_000),
        ("day", 86_400_000),
        ("hour", 3_600_000),
        ("minute", 60_000),
        ("second", 1_000),
        ("millisecond", 1),
    ];
    let mut rest = d.millis().unsigned_abs();
    let mut parts = Vec::new();
    for (unit, ms) in UNITS {
        let count = rest.checked_div(ms).unwrap_or(0);
        if count > 0 {
            rest = rest.checked_rem(ms).unwrap_or(0);
            parts.push(format!("{count} {unit}{}", if count == 1 { "" } else { "s" }));
        }
    }
    match (d.millis() < 0, parts.is_empty()) {
        (_, true) => "no time".to_owned(),
        (true, false) => format!("minus {}", parts.join(" ")),
        (false, false) => parts.join(" "),
    }
}

/// A value as people read it: money as `3,450.00 USD`, durations in words, texts quoted.
pub fn value_for_people(v: &Value) -> String {
    match v {
        Value::Money(m) => m.to_string(),
        Value::Duration(d) => duration_for_people(*d),
        Value::List(items) => {
            items.iter().map(|t| value_text(&Value::Text(t.clone()))).collect::<Vec<_>>().join(", ")
        }
        other => value_text(other),
    }
}

/// The comparison that is true of the fact: `op` when the check held, its opposite otherwise.
fn stated(op: Op, holds: bool) -> Op {
    if holds { op } else { op.negated().unwrap_or(op) }
}

/// What a comparison found, as a sentence about the order rather than about the rule, so that
/// it reads true whether the rule held or not (and under a `not`): "the order's total is
/// under 50,000.00 USD (it is 49,999.99 USD)", "the order's categories include "chemicals"".
pub fn explain_check(c: &Check) -> String {
    let subject = field_for_people(&c.field);
    let expected = value_for_people(&c.expected);
    let Some(actual) = &c.actual else { return format!("{subject} is not set") };
    match (c.op, actual) {
        (_, Value::Money(have)) if matches!(&c.expected, Value::Money(want) if want.currency() != have.currency()) =>
        {
            format!("{subject} is {have}, in another currency than {expected}")
        }
        (Op::Contains, Value::List(_)) if c.holds => format!("{subject} include {expected}"),
        (Op::Contains, Value::List(items)) if items.is_empty() => {
            format!("{subject} do not include {expected} (there are none)")
        }
        (Op::Contains, Value::List(_)) => {
            format!("{subject} do not include {expected} (they are {})", value_for_people(actual))
        }
        (Op::In, _) => {
            let quoted = |sep: &str| match &c.expected {
                Value::List(items) => items
                    .iter()
                    .map(|t| value_text(&Value::Text(t.clone())))
                    .collect::<Vec<_>>()
                    .join(sep),
                other => value_text(other),
            };
            let actual = value_for_people(actual);
            if c.holds {
                format!("{subject} is {actual} (one of {})", quoted(", "))
            } else {
                format!("{subject} is {actual} (not {})", quoted(" or "))
            }
        }
        // A business unit's fact is its path up the tree, the unit itself first.
        (op, Value::List(path)) => {
            let Some(unit) = path.first() else { return format!("{subject} is not set") };
            let unit = value_text(&Value::Text(unit.clone()));
            match op {
                Op::Within if c.holds => format!("{subject} {unit} is within {expected}"),
                Op::Within => format!("{subject} {unit} is not within {expected}"),
                op => match stated(op, c.holds) {
                    Op::Eq => format!("{subject} is {expected}"),
                    _ => format!("{subject} is not {expected} (it is {unit})"),
                },
            }
        }
        (op, _) => {
            let stated = stated(op, c.holds);
            let verb = match stated {
                Op::Eq => return format!("{subject} is {expected}"),
                Op::Ne => "is not",
                Op::Lt => "is under",
                Op::Le => "is at most",
                Op::Gt => "is over",
                Op::Ge => "is at least",
                Op::In | Op::Contains | Op::Within => stated.symbol(),
            };
            format!("{subject} {verb} {expected} (it is {})", value_for_people(actual))
        }
    }
}

/// Comparisons joined with "and".
pub fn explain_checks(checks: &[Check]) -> String {
    checks.iter().map(explain_check).collect::<Vec<_>>().join(" and ")
}

fn period_name(p: Period) -> &'static str {
    match p {
        Period::Day => "daily",
        Period::Week => "weekly",
        Period::Month => "monthly",
        Period::Quarter => "quarterly",
        Period::Year => "yearly",
    }
}

fn funds_sentence(funds: &Funds, total: Money) -> String {
    match funds {
        Funds::Credit { limit, open_balance } => {
            let available =
                limit.checked_sub(*open_balance).map_or_else(|e| e.to_string(), |m| m.to_string());
            format!(
                "this order ({total}) exceeds the available credit of {available} (limit {limit}, already owed {open_balance})"
            )
        }
        Funds::Card { capacity } => {
            format!("this order ({total}) exceeds the card's remaining capacity of {capacity}")
        }
    }
}

/// Why one thing is in a plan: "Approver 2: orders of 3,000.00 USD or more; this order is
/// 3,450.00 USD".
pub fn explain_because(b: &Because, total: Money) -> String {
    match b {
        Because::Rule(m) => {
            let mut s = format!("{}: ", m.name);
            match m.threshold {
                Some(t) => s.push_str(&format!("orders of {t} or more; this order is {total}")),
                None if m.checks.is_empty() => s.push_str("applies to every order"),
                None => {}
            }
            if !m.checks.is_empty() {
                if m.threshold.is_some() {
                    s.push_str("; and ");
                }
                s.push_str(&explain_checks(&m.checks));
            }
            s
        }
        Because::SpendingLimit { name, period, limit_amount, spent, .. } => {
            let after = spent.checked_add(total).map_or_else(|e| e.to_string(), |m| m.to_string());
            format!(
                "{name}: {} spending limit of {limit_amount}; already spent {spent}, with this order {after}",
                period_name(*period)
            )
        }
        Because::Credit { funds } => funds_sentence(funds, total),
    }
}

fn escalation_sentence(e: &Escalation) -> String {
    let from = e.from.as_ref().map_or_else(String::new, |r| format!(" from \"{}\"", r.name));
    let to =
        e.to.as_ref()
            .map_or_else(|| "the fallback approver".to_owned(), |r| format!("\"{}\"", r.name));
    let why = match e.reason {
        EscalationReason::BuyerIsOnlyApprover => {
            "its only approver is the buyer, and nobody approves their own order"
        }
        EscalationReason::OutsideBusinessUnit => {
            "none of its approvers covers the order's business unit"
        }
        EscalationReason::NoApprover => {
            "it names nobody (no one holds the role, or there is no manager)"
        }
    };
    format!("escalated{from} to {to}: {why}")
}

/// One step: "Dana Reyes (Approver 2): orders of 3,000.00 USD or more; this order is 3,450.00
/// USD". `name` gives a user's display name.
pub fn explain_step<'a>(
    step: &PlanStep,
    total: Money,
    name: impl Fn(&UserId) -> Option<&'a str>,
) -> String {
    let who: Vec<String> = step
        .candidates
        .iter()
        .map(|u| name(u).map_or_else(|| u.to_string(), str::to_owned))
        .collect();
    let who = match who.as_slice() {
        [] => "nobody".to_owned(),
        [one] => one.clone(),
        many => format!("any one of {}", many.join(", ")),
    };
    let why: Vec<String> = step.because.iter().map(|b| explain_because(b, total)).collect();
    let mut s = format!("{who} — {}", why.join("; "));
    if !step.escalations.is_empty() {
        let sentences: Vec<String> = step.escalations.iter().map(escalation_sentence).collect();
        s.push_str(&format!(" ({})", sentences.join("; ")));
    }
    s
}

fn block_sentence(b: &Block, total: Money) -> String {
    match b {
        Block::SpendingLimit { name, period, limit_amount, spent, .. } => {
            let after = spent.checked_add(total).map_or_else(|e| e.to_string(), |m| m.to_string());
            format!(
                "{name}: the {} spending limit of {limit_amount} would be exceeded ({after} with this order)",
                period_name(*period)
            )
        }
        Block::Credit { funds } => funds_sentence(funds, total),
        Block::NoEligibleApprover { because } => {
            let why: Vec<String> = because.iter().map(|b| explain_because(b, total)).collect();
            format!("nobody other than the buyer may approve ({})", why.join("; "))
        }
        Block::NoThresholdInCurrency { currency } => format!(
            "the approval policy has no thresholds in {currency}, and currencies are never converted"
        ),
        Block::LimitCurrency { name, .. } => {
            format!("{name}: the spending limit is in another currency than the order")
        }
    }
}

/// The whole plan in sentences: a summary, then one line per step or block.
pub fn explain_plan<'a>(
    plan: &ApprovalPlan,
    name: impl Fn(&UserId) -> Option<&'a str> + Copy,
) -> Vec<String> {
    let mut out = Vec::new();
    match plan.verdict {
        Verdict::NoApprovalNeeded => out.push(format!(
            "No approval needed: no rule of the approval policy applies to this order ({}).",
            plan.total
        )),
        Verdict::ApprovalRequired if plan.steps.len() == 1 => {
            out.push("This order needs one approval:".to_owned())
        }
        Verdict::ApprovalRequired => {
            out.push(format!("This order needs {} approvals, in this order:", plan.steps.len()))
        }
        Verdict::Blocked => out.push("This order cannot be placed:".to_owned()),
    }
    for b in &plan.blocks {
        out.push(block_sentence(b, plan.total));
    }
    for (i, step) in plan.steps.iter().enumerate() {
        out.push(format!("{}. {}", i.saturating_add(1), explain_step(step, plan.total, name)));
    }
    out
}

fn level_name(l: ListLevel) -> &'static str {
    match l {
        ListLevel::Customer => "your own price list",
        ListLevel::Group => "your group's price list",
        ListLevel::Default => "the standard price list",
    }
}

/// Why a line costs what it does; price lists and tax rules are named by `names` (by their id
/// when it has none).
pub fn explain_line<'a>(line: &PricedLine, names: &impl PricingNames<'a>) -> Vec<String> {
    let mut out = vec![format!("{} × {} = {}", line.quantity, line.unit_price, line.amount)];
    match &line.source {
        PriceSource::Negotiated { quote } => {
            out.push(format!("price negotiated in quote \"{quote}\""))
        }
        PriceSource::List { list, level, min_quantity, next_tier } => {
            let tier = if *min_quantity > 1 {
                format!(", volume tier from {min_quantity} units")
            } else {
                String::new()
            };
            let list = names.list(list).unwrap_or(list.as_str());
            out.push(format!("{} \"{list}\"{tier}", level_name(*level)));
            if let Some(next) = next_tier {
                out.push(format!("buy {} or more for {} each", next.min_quantity, next.unit_price));
            }
        }
    }
    if !line.discount.is_zero() {
        out.push(format!("order discount share {}", line.discount));
    }
    match &line.tax.rule {
        Some(rule) => {
            let rule = names.tax_rule(rule).unwrap_or(rule.as_str());
            out.push(format!("{rule} {} %: {}", line.tax.percent, line.tax.amount))
        }
        None => out.push("no tax rule covers this product where the order ships".to_owned()),
    }
    out
}

/// The names of the price lists and tax rules a priced cart refers to by id.
pub trait PricingNames<'a> {
    fn list(&self, id: &PriceListId) -> Option<&'a str>;
    fn tax_rule(&self, id: &TaxRuleId) -> Option<&'a str>;
}

/// The cart's totals in sentences.
pub fn explain_cart(cart: &PricedCart) -> Vec<String> {
    let mut out = vec![format!("Subtotal: {}", cart.subtotal)];
    if let Some(d) = &cart.discount {
        let label = d.label.as_deref().map_or_else(String::new, |l| format!(" \"{l}\""));
        let how = match d.percent {
            Some(p) if d.capped => format!("{p} % off, capped at {}", d.amount),
            Some(p) => format!("{p} % off"),
            None if d.limited_to_subtotal => "a fixed amount, limited to the subtotal".to_owned(),
            None => "a fixed amount".to_owned(),
        };
        out.push(format!("Discount{label}: -{} ({how})", d.amount));
    }
    if !cart.shipping.is_zero() {
        out.push(format!("Shipping: {}", cart.shipping));
    }
    for t in &cart.taxes {
        let how = if t.included { "included" } else { "added" };
        out.push(format!("{} {} % on {}: {} ({how})", t.name, t.percent, t.base, t.amount));
    }
    out.push(format!("Total: {}", cart.total));
    out
}

/// A change to an approved order.
pub fn explain_change(c: &Change) -> String {
    let tail = if c.requires_reapproval() { " — needs approval again" } else { "" };
    let what = match c {
        Change::LineAdded { sku, quantity } => format!("added {quantity} × \"{sku}\""),
        Change::LineRemoved { sku } => format!("removed \"{sku}\""),
        Change::QuantityChanged { sku, from, to } => format!("\"{sku}\": quantity {from} → {to}"),
        Change::UnitPriceChanged { sku, from, to } => {
            format!("\"{sku}\": unit price {from} → {to}")
        }
        Change::TotalChanged { from, to } => format!("total {from} → {to}"),
        Change::CurrencyChanged { from, to } => format!("currency {from} → {to}"),
        Change::PaymentMethodChanged { from, to } => {
            format!("payment method {} → {}", opt(from), opt(to))
        }
        Change::BusinessUnitChanged { from, to } => {
            format!("business unit {} → {}", opt(from), opt(to))
        }
        Change::NewApproval { rules } if rules.is_empty() => {
            "the order now needs approval".to_owned()
        }
        Change::NewApproval { rules } => {
            format!("the order now also needs approval under {}", list(rules))
        }
        Change::NowBlocked => "the order is now blocked".to_owned(),
    };
    format!("{what}{tail}")
}

fn opt<T: Display>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "none".to_owned(), |v| format!("\"{v}\""))
}

/// A timer's status.
pub fn explain_timer(t: &TimerStatus) -> String {
    match (t.elapsed, t.guard_holds) {
        (true, true) => format!("\"{}\" is due (since {})", t.transition, t.due_at),
        (true, false) => format!(
            "\"{}\" would be due since {}, but its condition does not hold: {}",
            t.transition,
            t.due_at,
            explain_checks(&t.checks)
        ),
        (false, _) => format!("\"{}\" falls due at {}", t.transition, t.due_at),
    }
}

impl Display for crate::workflow::orders::Gap {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        use crate::workflow::orders::{Gap, REQUIRED};
        match self {
            Gap::NoApprovalEntry => write!(
                f,
                "submitted orders will not run on this workflow: its start state has no transition on the event {REQUIRED} with a require-approval action, so an order could skip its approvals (orders use the built-in workflow instead)"
            ),
            Gap::Unanswered { state, event } => write!(
                f,
                "\"{state}\" waits for approval but has no transition on the event {event}: an order would stay there after that decision"
            ),
        }
    }
}

impl Display for MoveBlocked {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            MoveBlocked::NotOnVersion { workflow, version } => {
                write!(f, "it does not run on workflow \"{workflow}\" version {version}")
            }
            MoveBlocked::NoCounterpart { state } => write!(
                f,
                "its state \"{state}\" is not in the new version; map it to one of the new version's states"
            ),
            MoveBlocked::MappedToUnknownState { state, to } => write!(
                f,
                "its state \"{state}\" is mapped to \"{to}\", which is not a state of the new version"
            ),
            MoveBlocked::FieldsDoNotFit { problems } => {
                let messages: Vec<String> =
                    problems.iter().map(|p| format!("{}: {}", p.path, p.problem)).collect();
                write!(f, "its fields do not fit the new version: {}", messages.join("; "))
            }
        }
    }
}

/// Why an instance cannot move to another version, in a sentence.
pub fn explain_move_blocked(b: &MoveBlocked) -> String {
    b.to_string()
}

fn names<T: Display>(items: &[T]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    quoted.join(", ")
}

/// The differences between two versions of a workflow, one sentence per kind of change.
pub fn explain_diff(d: &WorkflowDiff) -> Vec<String> {
    let mut out = Vec::new();
    if !d.definition.is_empty() {
        let parts: Vec<&str> = d
            .definition
            .iter()
            .map(|f| match f {
                DefinitionField::Name => "name",
                DefinitionField::Entity => "entity",
                DefinitionField::Scope => "scope",
                DefinitionField::Fields => "custom fields",
            })
            .collect();
        out.push(format!("changed: {}", parts.join(", ")));
    }
    if !d.states_added.is_empty() {
        out.push(format!("states added: {}", names(&d.states_added)));
    }
    if !d.states_removed.is_empty() {
        out.push(format!("states removed: {}", names(&d.states_removed)));
    }
    for c in &d.states_changed {
        let parts: Vec<&str> = c
            .changed
            .iter()
            .map(|f| match f {
                StateField::Label => "label",
                StateField::Start => "start",
                StateField::Terminal => "terminal",
            })
            .collect();
        out.push(format!("state \"{}\" changed: {}", c.state, parts.join(", ")));
    }
    if !d.transitions_added.is_empty() {
        out.push(format!("transitions added: {}", names(&d.transitions_added)));
    }
    if !d.transitions_removed.is_empty() {
        out.push(format!("transitions removed: {}", names(&d.transitions_removed)));
    }
    for c in &d.transitions_changed {
        let parts: Vec<&str> = c
            .changed
            .iter()
            .map(|f| match f {
                TransitionField::From => "from",
                TransitionField::To => "to",
                TransitionField::Label => "label",
                TransitionField::Roles => "roles",
                TransitionField::Trigger => "trigger",
                TransitionField::Guard => "guard",
                TransitionField::Actions => "actions",
            })
            .collect();
        out.push(format!("transition \"{}\" changed: {}", c.transition, parts.join(", ")));
    }
    if out.is_empty() {
        out.push("no differences".to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::condition::{CompiledCondition, Schema, text::parse};
    use std::collections::BTreeMap;

    /// The sentence of each comparison `guard` makes on `facts`.
    fn sentences(guard: &str, facts: &[(&str, Value)]) -> Vec<String> {
        let schema = Schema::approval();
        let map: BTreeMap<FieldPath, Value> =
            facts.iter().map(|(k, v)| (FieldPath::parse(k).unwrap(), v.clone())).collect();
        let slots = schema.bind(&map, "").unwrap();
        let compiled = CompiledCondition::compile(&parse(guard).unwrap(), &schema).unwrap();
        let (_, checks) = compiled.explain(slots.as_slice());
        checks.iter().map(explain_check).collect()
    }

    fn usd(amount: &str) -> Value {
        Value::Money(Money::parse(amount, "USD").unwrap())
    }

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|&i| i.into()).collect())
    }

    #[test]
    fn comparisons_read_as_what_is_true_of_the_order() {
        let total = |amount| sentences("order.total >= 2000 USD", &[("order.total", usd(amount))]);
        assert_eq!(
            total("2500.00"),
            ["the order's total is at least 2,000.00 USD (it is 2,500.00 USD)"]
        );
        assert_eq!(
            total("1999.99"),
            ["the order's total is under 2,000.00 USD (it is 1,999.99 USD)"]
        );
        assert_eq!(
            sentences(
                "order.total >= 2000 USD",
                &[("order.total", Value::Money(Money::parse("9", "EUR").unwrap()))]
            ),
            ["the order's total is 9.00 EUR, in another currency than 2,000.00 USD"]
        );
        assert_eq!(
            sentences(r#"order.payment_method = "card""#, &[]),
            ["the order's payment method is not set"]
        );
        assert_eq!(
            sentences(
                r#"order.payment_method != "card""#,
                &[("order.payment_method", Value::text("card"))]
            ),
            [r#"the order's payment method is "card""#]
        );
        assert_eq!(
            sentences(
                r#"order.payment_method in ["invoice", "terms"]"#,
                &[("order.payment_method", Value::text("card"))]
            ),
            [r#"the order's payment method is "card" (not "invoice" or "terms")"#]
        );
        assert_eq!(
            sentences("order.sku_count > 10", &[("order.sku_count", Value::Number(10.into()))]),
            ["the number of products in the order is at most 10 (it is 10)"]
        );
    }

    #[test]
    fn lists_and_units_and_negations() {
        // Under `not`, the sentence still says what is true: the buyer lacks the role.
        assert_eq!(
            sentences(
                r#"not buyer.roles contains "buyer""#,
                &[("buyer.roles", list(&["approver"]))]
            ),
            [r#"the buyer's roles do not include "buyer" (they are "approver")"#]
        );
        assert_eq!(
            sentences(
                r#"order.categories contains "chemicals""#,
                &[("order.categories", list(&[]))]
            ),
            [r#"the order's categories do not include "chemicals" (there are none)"#]
        );
        assert_eq!(
            sentences(
                r#"order.business_unit within "emea""#,
                &[("order.business_unit", list(&["ny", "na", "acme"]))]
            ),
            [r#"the order's business unit "ny" is not within "emea""#]
        );
        assert_eq!(
            sentences(r#"buyer.id = "pat""#, &[("buyer.id", Value::text("kim"))]),
            [r#"the buyer is not "pat" (it is "kim")"#]
        );
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(duration_for_people(Duration::from_days(7)), "1 week");
        assert_eq!(duration_for_people(Duration::from_secs(86_400 + 4 * 3_600)), "1 day 4 hours");
        assert_eq!(duration_for_people(Duration::ZERO), "no time");
        assert_eq!(
            field_for_people(&FieldPath::parse("order.state_age").unwrap()),
            "the time the order has been in its state"
        );
        assert_eq!(
            field_for_people(&FieldPath::parse("order.priority_level").unwrap()),
            "the order's priority level"
        );
    }
}
