//! Diagnostics: every problem found in a definition (a workflow, a policy, price data), each
//! with a path to the offending part, reported all at once.

use crate::{
    condition::{FieldPath, FieldType, Op, ValueKind},
    ids::{LimitId, PriceListId, RuleId, Sku, StateId, TaxRuleId, TransitionId, UserId},
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks publishing or use.
    Error,
    /// Worth a look; does not block.
    Warning,
}

/// One problem and where it is. `path` points into the JSON form, e.g.
/// `transitions[2].guard.all[1].field`.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub path: String,
    pub problem: Problem,
}

impl Diagnostic {
    pub fn error(path: impl Into<String>, problem: Problem) -> Diagnostic {
        Diagnostic { severity: Severity::Error, path: path.into(), problem }
    }

    pub fn warning(path: impl Into<String>, problem: Problem) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, path: path.into(), problem }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The same problem, with `prefix` put in front of its path.
    pub fn under(mut self, prefix: &str) -> Diagnostic {
        self.path = join_path(prefix, &self.path);
        self
    }

    /// The message a person reads.
    pub fn message(&self) -> String {
        self.problem.to_string()
    }
}

/// Joins two JSON paths: `join_path("transitions[2]", "guard")` is `transitions[2].guard`.
pub fn join_path(prefix: &str, rest: &str) -> String {
    match (prefix.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_owned(),
        (_, true) => prefix.to_owned(),
        _ if rest.starts_with('[') => format!("{prefix}{rest}"),
        _ => format!("{prefix}.{rest}"),
    }
}

/// Serialized as `{"severity", "path", "code", ...the problem's data, "message"}`.
impl Serialize for Diagnostic {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            severity: Severity,
            path: &'a str,
            #[serde(flatten)]
            problem: &'a Problem,
            message: String,
        }
        Out {
            severity: self.severity,
            path: &self.path,
            problem: &self.problem,
            message: self.message(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Diagnostic {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct In {
            severity: Severity,
            path: String,
            #[serde(flatten)]
            problem: Problem,
        }
        let In { severity, path, problem } = In::deserialize(deserializer)?;
        Ok(Diagnostic { severity, path, problem })
    }
}

/// Every kind of problem a definition can have. Messages are in [`crate::messages`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Problem {
    // Conditions.
    UnknownField {
        field: FieldPath,
        suggestion: Option<FieldPath>,
    },
    OperatorNotAllowed {
        field: FieldPath,
        field_type: FieldType,
        op: Op,
    },
    WrongValueType {
        field: FieldPath,
        field_type: FieldType,
        op: Op,
        found: ValueKind,
    },
    NothingToCompare {
        field: FieldPath,
    },

    // Workflows.
    NoStartState,
    SeveralStartStates {
        states: Vec<StateId>,
    },
    DuplicateState {
        state: StateId,
    },
    DuplicateTransition {
        transition: TransitionId,
    },
    UnknownState {
        transition: TransitionId,
        state: StateId,
    },
    UnreachableState {
        state: StateId,
    },
    DeadEnd {
        state: StateId,
    },
    LeavesTerminalState {
        transition: TransitionId,
        state: StateId,
    },
    NoTerminalState,
    OverlappingTransitions {
        state: StateId,
        first: TransitionId,
        second: TransitionId,
    },
    UnknownRole {
        transition: TransitionId,
        role: String,
        suggestion: Option<String>,
    },
    NobodyMayFire {
        transition: TransitionId,
    },
    TimerNotPositive {
        transition: TransitionId,
    },
    CustomFieldOutsideEntity {
        field: FieldPath,
        entity: String,
    },
    DuplicateField {
        field: FieldPath,
    },
    FieldNotSettable {
        field: FieldPath,
    },
    SetValueType {
        field: FieldPath,
        field_type: FieldType,
        found: ValueKind,
    },
    BadIntegrationName {
        name: String,
    },
    EmptyName {
        what: String,
    },

    // Price data.
    DuplicateSku {
        sku: Sku,
    },
    DuplicatePriceList {
        list: PriceListId,
    },
    PriceForUnknownSku {
        list: PriceListId,
        sku: Sku,
    },
    DuplicateListPrice {
        list: PriceListId,
        sku: Sku,
    },
    NoTiers {
        list: PriceListId,
        sku: Sku,
    },
    TiersNotIncreasing {
        list: PriceListId,
        sku: Sku,
    },
    ZeroMinQuantity {
        list: PriceListId,
        sku: Sku,
    },
    NegativePrice {
        list: PriceListId,
        sku: Sku,
    },
    ValidityReversed {
        list: PriceListId,
    },
    DuplicateTaxRule {
        rule: TaxRuleId,
    },
    SameTaxScope {
        rule: TaxRuleId,
        other: TaxRuleId,
    },
    TaxPercentOutOfRange {
        rule: TaxRuleId,
        #[serde(with = "crate::decimal::serde_str")]
        percent: Decimal,
    },

    // Approval policies.
    DuplicateRule {
        rule: RuleId,
    },
    NegativeThreshold {
        rule: RuleId,
    },
    DuplicateLimit {
        limit: LimitId,
    },
    LimitNotPositive {
        limit: LimitId,
    },
    UnknownUser {
        user: UserId,
    },
    DuplicateUser {
        user: UserId,
    },
    UnknownUnit {
        unit: String,
    },
    UnitCycle {
        unit: String,
    },
}
