//! Approval routing: who must approve an order, in what order, and why.
//!
//! 1. **Thresholds.** Rules with a `min_total` match orders of that total or more (in the
//!    same currency) whose `when` condition also holds. The policy's [`Mode`] combines them:
//!    the highest only, every one in ascending order, or one step for any of their approvers.
//! 2. **Conditions.** Rules without `min_total` match on their condition alone; each adds a
//!    step after the thresholds.
//! 3. **Spending limits** that apply to the buyer: past the limit for the period (given what
//!    the buyer already spent), a step or a block.
//! 4. **Credit.** An order above the available credit or the card's capacity: a step or a
//!    block, per policy (a block without a setting).
//!
//! Nobody approves their own order, and an approver acts only on orders of their business
//! unit or below. A threshold step left with nobody escalates to the next higher threshold
//! whose condition holds; any other step, or a threshold with nothing above, goes to the
//! policy's fallback approver, and without one the order is blocked.

mod drift;
mod model;

pub use drift::{Change, Drift, Snapshot, SnapshotLine, drift};
pub use model::*;

use crate::ids::SharedStr;
use crate::{
    condition::{CompiledCondition, FieldPath, Schema, Value},
    diagnostic::{Diagnostic, Problem},
    ids::{LimitId, RoleName, UnitId, UserId},
    money::{Money, MoneyError},
};
use rustc_hash::FxHashMap;
use std::{
    cmp::Ordering,
    collections::{BTreeMap, HashSet},
    sync::Arc,
};

/// Why an order cannot be routed at all (as opposed to a plan that blocks it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteError {
    UnknownBuyer(UserId),
    UnknownUnit(UnitId),
    /// A spending limit applies to the buyer but the request does not say what was spent.
    MissingSpent(LimitId),
    Money(MoneyError),
}

impl std::error::Error for RouteError {}

impl From<MoneyError> for RouteError {
    fn from(e: MoneyError) -> Self {
        RouteError::Money(e)
    }
}

/// Where each slot of the approval schema takes its fact from.
#[derive(Clone, Copy, Debug)]
enum Source {
    Total,
    Subtotal,
    Discount,
    Shipping,
    Tax,
    Currency,
    SkuCount,
    Quantity,
    Categories,
    BusinessUnit,
    PaymentMethod,
    BuyerId,
    BuyerRoles,
    CustomerId,
    CustomerGroup,
    Unknown,
}

impl Source {
    fn of(path: &str) -> Source {
        match path {
            "order.total" => Source::Total,
            "order.subtotal" => Source::Subtotal,
            "order.discount" => Source::Discount,
            "order.shipping" => Source::Shipping,
            "order.tax" => Source::Tax,
            "order.currency" => Source::Currency,
            "order.sku_count" => Source::SkuCount,
            "order.quantity" => Source::Quantity,
            "order.categories" => Source::Categories,
            "order.business_unit" => Source::BusinessUnit,
            "order.payment_method" => Source::PaymentMethod,
            "buyer.id" => Source::BuyerId,
            "buyer.roles" => Source::BuyerRoles,
            "customer.id" => Source::CustomerId,
            "customer.group" => Source::CustomerGroup,
            _ => Source::Unknown,
        }
    }
}

/// A policy and a directory, checked and indexed for routing.
#[derive(Debug)]
pub struct ApprovalContext {
    policy: ApprovalPolicy,
    directory: Directory,
    conditions: Vec<Option<CompiledCondition>>,
    /// Threshold rules, by currency, then threshold, then declaration order.
    thresholds: Vec<usize>,
    /// Each unit with its ancestors, itself first.
    unit_paths: FxHashMap<UnitId, Arc<[SharedStr]>>,
    no_unit: Arc<[SharedStr]>,
    users: FxHashMap<UserId, usize>,
    /// Where each slot's fact comes from; `Source::Unknown` for slots no condition reads.
    sources: Vec<Source>,
    needs_facts: bool,
    /// Each member's roles, shared, as the `buyer.roles` fact.
    member_roles: Vec<Arc<[SharedStr]>>,
    /// The approver of each rule, of each spending limit (when it asks for approval), over
    /// credit and the fallback, resolved to the directory once (routing looked each user or
    /// role up by its text on every order).
    rule_approvers: Vec<Named>,
    limit_approvers: Vec<Named>,
    credit_approver: Named,
    fallback_approver: Named,
}

/// An approver resolved to the directory: the members it names, in the order it names them
/// (a user, any of several users, a role's members), or the buyer's manager.
#[derive(Debug)]
enum Named {
    Members(Vec<usize>),
    Manager,
}

/// What a missing approver names.
static NOBODY: Named = Named::Members(Vec::new());

fn approver_users(a: &Approver) -> Vec<&UserId> {
    match a {
        Approver::User(u) => vec![u],
        Approver::AnyOf(us) => us.iter().collect(),
        Approver::Role(_) | Approver::Manager => vec![],
    }
}

fn threshold_order(rules: &[ApprovalRule], a: usize, b: usize) -> Ordering {
    let key = |i: usize| rules.get(i).and_then(|r| r.min_total);
    match (key(a), key(b)) {
        (Some(x), Some(y)) => x
            .currency()
            .cmp(&y.currency())
            .then_with(|| x.amount().cmp(&y.amount()))
            .then_with(|| a.cmp(&b)),
        _ => a.cmp(&b),
    }
}

/// Checks a policy against its directory; every problem is reported.
pub fn validate(policy: &ApprovalPolicy, directory: &Directory) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let schema = Schema::approval();
    let user_ids: HashSet<&UserId> = directory.users.iter().map(|u| &u.id).collect();
    let unit_ids: HashSet<&UnitId> = directory.units.iter().map(|u| &u.id).collect();
    let check_approver = |problems: &mut Vec<Diagnostic>, a: &Approver, at: String| {
        for user in approver_users(a) {
            if !user_ids.contains(user) {
                problems.push(Diagnostic::error(
                    at.clone(),
                    Problem::UnknownUser { user: user.clone() },
                ));
            }
        }
    };
    let mut rule_ids = HashSet::new();
    for (i, rule) in policy.rules.iter().enumerate() {
        let at = format!("rules[{i}]");
        if !rule_ids.insert(&rule.id) {
            problems.push(Diagnostic::error(
                format!("{at}.id"),
                Problem::DuplicateRule { rule: rule.id.clone() },
            ));
        }
        if rule.min_total.is_some_and(|m| m.is_negative()) {
            problems.push(Diagnostic::error(
                format!("{at}.min_total"),
                Problem::NegativeThreshold { rule: rule.id.clone() },
            ));
        }
        if let Some(when) = &rule.when {
            problems.extend(schema.check(when, &format!("{at}.when")));
        }
        check_approver(&mut problems, &rule.approver, format!("{at}.approver"));
    }
    let mut limit_ids = HashSet::new();
    for (i, limit) in policy.spending_limits.iter().enumerate() {
        let at = format!("spending_limits[{i}]");
        if !limit_ids.insert(&limit.id) {
            problems.push(Diagnostic::error(
                format!("{at}.id"),
                Problem::DuplicateLimit { limit: limit.id.clone() },
            ));
        }
        if limit.amount.is_negative() || limit.amount.is_zero() {
            problems.push(Diagnostic::error(
                format!("{at}.amount"),
                Problem::LimitNotPositive { limit: limit.id.clone() },
            ));
        }
        if let LimitScope::User(u) = &limit.applies_to
            && !user_ids.contains(u)
        {
            problems.push(Diagnostic::error(
                format!("{at}.applies_to"),
                Problem::UnknownUser { user: u.clone() },
            ));
        }
        if let OverLimit::Approval(a) = &limit.on_exceed {
            check_approver(&mut problems, a, format!("{at}.on_exceed"));
        }
    }
    if let Some(OverLimit::Approval(a)) = &policy.over_credit {
        check_approver(&mut problems, a, "over_credit".into());
    }
    if let Some(a) = &policy.fallback {
        check_approver(&mut problems, a, "fallback".into());
    }
    let mut seen_users = HashSet::new();
    for (i, user) in directory.users.iter().enumerate() {
        let at = format!("directory.users[{i}]");
        if !seen_users.insert(&user.id) {
            problems.push(Diagnostic::error(
                format!("{at}.id"),
                Problem::DuplicateUser { user: user.id.clone() },
            ));
        }
        if let Some(unit) = &user.unit
            && !unit_ids.contains(unit)
        {
            problems.push(Diagnostic::error(
                format!("{at}.unit"),
                Problem::UnknownUnit { unit: unit.to_string() },
            ));
        }
        if let Some(manager) = &user.manager
            && !user_ids.contains(manager)
        {
            problems.push(Diagnostic::error(
                format!("{at}.manager"),
                Problem::UnknownUser { user: manager.clone() },
            ));
        }
    }
    for (i, unit) in directory.units.iter().enumerate() {
        if let Some(parent) = &unit.parent {
            if !unit_ids.contains(parent) {
                problems.push(Diagnostic::error(
                    format!("directory.units[{i}].parent"),
                    Problem::UnknownUnit { unit: parent.to_string() },
                ));
            } else if unit_path(directory, &unit.id).is_none() {
                problems.push(Diagnostic::error(
                    format!("directory.units[{i}].parent"),
                    Problem::UnitCycle { unit: unit.id.to_string() },
                ));
            }
        }
    }
    problems
}

fn rule_ref(rule: &ApprovalRule) -> RuleRef {
    RuleRef { rule: rule.id.clone(), name: rule.name.clone() }
}

/// The business units the policy's conditions name that the directory does not have (a unit
/// since removed, a typing slip): such a condition can never hold, so a rule on it would
/// silently never apply. Kept apart from [`validate`], which checks what routing needs, so
/// that a policy stays usable while its company reorganises; a server refuses to *save* one.
pub fn unknown_units(policy: &ApprovalPolicy, directory: &Directory) -> Vec<Diagnostic> {
    let schema = Schema::approval();
    let known = |u: &str| directory.units.iter().any(|d| d.id.as_str() == u);
    let mut problems = Vec::new();
    for (i, rule) in policy.rules.iter().enumerate() {
        let Some(when) = &rule.when else { continue };
        for (at, cmp) in when.comparisons() {
            let is_unit = schema
                .lookup(&cmp.field)
                .is_some_and(|(_, f)| f.ty == crate::condition::FieldType::Unit);
            let named: Vec<&str> = match &cmp.value {
                Value::Text(t) => vec![t],
                Value::List(items) => items.iter().map(|t| &**t).collect(),
                _ => Vec::new(),
            };
            for unit in named.into_iter().filter(|u| is_unit && !known(u)) {
                let path = if at.is_empty() {
                    format!("rules[{i}].when")
                } else {
                    format!("rules[{i}].when.{at}")
                };
                problems
                    .push(Diagnostic::error(path, Problem::UnknownUnit { unit: unit.to_owned() }));
            }
        }
    }
    problems
}

impl Directory {
    /// Whether `user` may decide a step of an order placed in `unit`, by the rule routing
    /// chooses candidates with: someone without a unit decides for the whole company, someone
    /// in a unit for that unit and the units under it. Nobody outside the directory may.
    pub fn may_decide_for(&self, user: &UserId, unit: Option<&UnitId>) -> bool {
        let Some(member) = self.users.iter().find(|m| &m.id == user) else {
            return false;
        };
        let Some(own) = &member.unit else {
            return true;
        };
        unit.and_then(|u| unit_path(self, u))
            .is_some_and(|path| path.iter().any(|p| **p == *own.as_str()))
    }
}

/// A unit and its ancestors, itself first; `None` on a cycle or an unknown unit.
fn unit_path(directory: &Directory, unit: &UnitId) -> Option<Vec<SharedStr>> {
    let mut path = Vec::new();
    let mut current = Some(unit);
    while let Some(id) = current {
        if path.len() > directory.units.len() {
            return None;
        }
        let u = directory.units.iter().find(|u| &u.id == id)?;
        path.push(u.id.shared());
        current = u.parent.as_ref();
    }
    Some(path)
}

/// The candidates of a step: who may approve, and who was left out.
struct Candidates {
    users: Vec<UserId>,
    buyer_excluded: bool,
    outside_unit: bool,
}

impl Candidates {
    /// Why there is nobody (when `users` is empty).
    fn reason(&self) -> EscalationReason {
        if self.outside_unit {
            EscalationReason::OutsideBusinessUnit
        } else if self.buyer_excluded {
            EscalationReason::BuyerIsOnlyApprover
        } else {
            EscalationReason::NoApprover
        }
    }
}

impl ApprovalContext {
    /// Checks and indexes a policy and its directory.
    pub fn new(
        policy: ApprovalPolicy,
        directory: Directory,
    ) -> Result<ApprovalContext, Vec<Diagnostic>> {
        let problems = validate(&policy, &directory);
        if !problems.is_empty() {
            return Err(problems);
        }
        let schema = Schema::approval();
        let mut conditions = Vec::with_capacity(policy.rules.len());
        for (i, rule) in policy.rules.iter().enumerate() {
            conditions.push(match &rule.when {
                Some(when) => Some(CompiledCondition::compile(when, &schema).map_err(|p| {
                    p.into_iter().map(|d| d.under(&format!("rules[{i}].when"))).collect::<Vec<_>>()
                })?),
                None => None,
            });
        }
        let mut thresholds: Vec<usize> = policy
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.min_total.is_some())
            .map(|(i, _)| i)
            .collect();
        crate::sort::sort_by(&mut thresholds, |a, b| threshold_order(&policy.rules, *a, *b));
        let unit_paths = directory
            .units
            .iter()
            .filter_map(|u| Some((u.id.clone(), Arc::from(unit_path(&directory, &u.id)?))))
            .collect();
        let users: FxHashMap<UserId, usize> =
            directory.users.iter().enumerate().map(|(i, u)| (u.id.clone(), i)).collect();
        // Only the facts some condition reads are computed when routing.
        let read: Vec<usize> =
            conditions.iter().flatten().flat_map(CompiledCondition::slots).collect();
        let sources =
            schema
                .fields()
                .iter()
                .enumerate()
                .map(|(slot, f)| {
                    if read.contains(&slot) { Source::of(f.path.as_str()) } else { Source::Unknown }
                })
                .collect();
        let needs_facts = !read.is_empty();
        let member_roles =
            directory.users.iter().map(|m| m.roles.iter().map(|r| r.shared()).collect()).collect();
        // Each role's members (indices into the directory), in directory order.
        let mut role_members: FxHashMap<RoleName, Vec<usize>> = FxHashMap::default();
        for (i, member) in directory.users.iter().enumerate() {
            for role in &member.roles {
                let members = role_members.entry(role.clone()).or_default();
                if !members.contains(&i) {
                    members.push(i);
                }
            }
        }
        let named = |approver: &Approver| match approver {
            Approver::User(id) => Named::Members(users.get(id).copied().into_iter().collect()),
            Approver::AnyOf(ids) => {
                Named::Members(ids.iter().filter_map(|id| users.get(id).copied()).collect())
            }
            Approver::Role(role) => {
                Named::Members(role_members.get(role).cloned().unwrap_or_default())
            }
            Approver::Manager => Named::Manager,
        };
        let over_limit = |o: Option<&OverLimit>| match o {
            Some(OverLimit::Approval(a)) => named(a),
            Some(OverLimit::Block) | None => Named::Members(Vec::new()),
        };
        let rule_approvers = policy.rules.iter().map(|r| named(&r.approver)).collect();
        let limit_approvers =
            policy.spending_limits.iter().map(|l| over_limit(Some(&l.on_exceed))).collect();
        let credit_approver = over_limit(policy.over_credit.as_ref());
        let fallback_approver = policy.fallback.as_ref().map_or(Named::Members(Vec::new()), named);
        Ok(ApprovalContext {
            rule_approvers,
            limit_approvers,
            credit_approver,
            fallback_approver,
            policy,
            directory,
            conditions,
            thresholds,
            unit_paths,
            users,
            sources,
            needs_facts,
            member_roles,
            no_unit: Arc::from([]),
        })
    }

    pub fn policy(&self) -> &ApprovalPolicy {
        &self.policy
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The plan with its explanation filled in, naming approvers from the directory.
    pub fn explained(&self, mut plan: ApprovalPlan) -> ApprovalPlan {
        plan.explanation =
            crate::messages::explain_plan(&plan, |u| self.member(u).map(|m| &*m.name));
        plan
    }

    /// The approver of the rule at this index, resolved.
    fn rule_approver(&self, index: usize) -> &Named {
        self.rule_approvers.get(index).unwrap_or(&NOBODY)
    }

    pub fn member(&self, id: &UserId) -> Option<&Member> {
        self.users.get(id).and_then(|&i| self.directory.users.get(i))
    }

    fn facts(
        &self,
        order: &OrderFacts,
        buyer: &Member,
        unit: &Arc<[SharedStr]>,
    ) -> Vec<Option<Value>> {
        if !self.needs_facts {
            return Vec::new();
        }
        self.sources.iter().map(|source| self.fact(*source, order, buyer, unit)).collect()
    }

    /// One fact of an order, as approval conditions (and workflow guards) see it.
    fn fact(
        &self,
        source: Source,
        o: &OrderFacts,
        buyer: &Member,
        unit: &Arc<[SharedStr]>,
    ) -> Option<Value> {
        let text = |s: Option<SharedStr>| s.map(Value::Text);
        match source {
            Source::Total => Some(Value::Money(o.total)),
            Source::Subtotal => Some(Value::Money(o.subtotal)),
            Source::Discount => Some(Value::Money(o.discount)),
            Source::Shipping => Some(Value::Money(o.shipping)),
            Source::Tax => Some(Value::Money(o.tax)),
            Source::Currency => Some(Value::text(o.total.currency().code())),
            Source::SkuCount => Some(Value::Number(o.sku_count.into())),
            Source::Quantity => Some(Value::Number(o.quantity.into())),
            Source::Categories => {
                Some(Value::List(o.categories.iter().map(|c| c.shared()).collect()))
            }
            Source::BusinessUnit => (!unit.is_empty()).then(|| Value::List(unit.clone())),
            Source::PaymentMethod => text(o.payment_method.as_ref().map(|p| p.shared())),
            Source::BuyerId => Some(Value::Text(buyer.id.shared())),
            Source::BuyerRoles => self
                .users
                .get(&buyer.id)
                .and_then(|&i| self.member_roles.get(i))
                .map(|roles| Value::List(roles.clone())),
            Source::CustomerId => text(o.customer.as_ref().map(|c| c.shared())),
            Source::CustomerGroup => text(o.customer_group.as_ref().map(|g| g.shared())),
            Source::Unknown => None,
        }
    }

    /// An order's fields as a workflow instance of it gets them: every field of the order
    /// schema that has a value, computed exactly as approval conditions see it (so a guard and
    /// an approval rule on `order.total` can never disagree). The server starts an order's
    /// instance with these, never with figures a client sent.
    pub fn order_fields(
        &self,
        order: &OrderFacts,
        buyer: &UserId,
    ) -> Result<BTreeMap<FieldPath, Value>, RouteError> {
        let member = self.member(buyer).ok_or_else(|| RouteError::UnknownBuyer(buyer.clone()))?;
        let unit: &Arc<[SharedStr]> = match &order.business_unit {
            Some(u) => self.unit_paths.get(u).ok_or_else(|| RouteError::UnknownUnit(u.clone()))?,
            None => &self.no_unit,
        };
        Ok(Schema::approval()
            .fields()
            .iter()
            .filter_map(|f| {
                let value = self.fact(Source::of(f.path.as_str()), order, member, unit)?;
                Some((f.path.clone(), value))
            })
            .collect())
    }

    fn candidates(&self, approver: &Named, buyer: &Member, unit: &[SharedStr]) -> Candidates {
        let mut users = Vec::with_capacity(match approver {
            Named::Members(members) => members.len(),
            Named::Manager => 1,
        });
        let mut buyer_excluded = false;
        let mut outside_unit = false;
        let mut consider = |member: &Member| {
            if member.id == buyer.id {
                buyer_excluded = true;
            } else if !member.unit.as_ref().is_none_or(|u| unit.iter().any(|p| **p == *u.as_str()))
            {
                outside_unit = true;
            } else if !users.contains(&member.id) {
                users.push(member.id.clone());
            }
        };
        match approver {
            Named::Members(members) => {
                members.iter().filter_map(|&i| self.directory.users.get(i)).for_each(&mut consider)
            }
            Named::Manager => buyer
                .manager
                .as_ref()
                .and_then(|m| self.member(m))
                .into_iter()
                .for_each(&mut consider),
        }
        Candidates { users, buyer_excluded, outside_unit }
    }

    fn rule_match(&self, index: usize, facts: &[Option<Value>]) -> Option<RuleMatch> {
        let rule = self.policy.rules.get(index)?;
        let checks = match self.conditions.get(index) {
            Some(Some(c)) => c.explain(facts).1,
            _ => Vec::new(),
        };
        Some(RuleMatch {
            rule: rule.id.clone(),
            name: rule.name.clone(),
            threshold: rule.min_total,
            checks,
        })
    }

    fn condition_holds(&self, index: usize, facts: &[Option<Value>]) -> bool {
        match self.conditions.get(index) {
            Some(Some(c)) => c.holds(facts),
            _ => true,
        }
    }

    /// Routes an order. Deterministic: the same context and request always give the same plan.
    pub fn route(&self, req: &RouteRequest) -> Result<ApprovalPlan, RouteError> {
        self.route_parts(&req.buyer, &req.order, &req.spent, req.funds.as_ref())
    }

    /// [`ApprovalContext::route`] on borrowed parts (checkout routes the facts it just
    /// computed without copying the request).
    pub(crate) fn route_parts(
        &self,
        buyer: &UserId,
        order: &OrderFacts,
        spent: &[Spent],
        funds: Option<&Funds>,
    ) -> Result<ApprovalPlan, RouteError> {
        let buyer_id = buyer;
        let buyer =
            self.member(buyer_id).ok_or_else(|| RouteError::UnknownBuyer(buyer_id.clone()))?;
        let unit_path: &Arc<[SharedStr]> = match &order.business_unit {
            Some(u) => self.unit_paths.get(u).ok_or_else(|| RouteError::UnknownUnit(u.clone()))?,
            None => &self.no_unit,
        };
        let facts = self.facts(order, buyer, unit_path);
        let unit: &[SharedStr] = unit_path;
        let total = order.total;
        let mut plan = ApprovalPlan {
            verdict: Verdict::NoApprovalNeeded,
            total,
            mode: self.policy.mode,
            // At most a step per rule, per spending limit, and one for credit: no regrowth.
            steps: Vec::with_capacity(
                self.policy
                    .rules
                    .len()
                    .saturating_add(self.policy.spending_limits.len())
                    .saturating_add(1),
            ),
            blocks: Vec::new(),
            explanation: Vec::new(),
        };

        self.route_thresholds(&mut plan, buyer, unit, facts.as_slice())?;

        for (i, rule) in self.policy.rules.iter().enumerate() {
            if rule.min_total.is_none() && self.condition_holds(i, &facts) {
                let because = self.rule_match(i, &facts).map(Because::Rule).into_iter().collect();
                let named = self.rule_approver(i);
                self.add_step(&mut plan, (&rule.approver, named), because, buyer, unit, Some(rule));
            }
        }

        for (limit, named) in self.policy.spending_limits.iter().zip(&self.limit_approvers) {
            self.route_limit(&mut plan, (limit, named), spent, total, buyer, unit)?;
        }

        if let Some(funds) = funds {
            let available = match funds {
                Funds::Credit { limit, open_balance } => limit.checked_sub(*open_balance)?,
                Funds::Card { capacity } => *capacity,
            };
            if total.try_cmp(&available)? == Ordering::Greater {
                let because = vec![Because::Credit { funds: funds.clone() }];
                match &self.policy.over_credit {
                    Some(OverLimit::Approval(a)) => {
                        let named = &self.credit_approver;
                        self.add_step(&mut plan, (a, named), because, buyer, unit, None)
                    }
                    Some(OverLimit::Block) | None => {
                        plan.blocks.push(Block::Credit { funds: funds.clone() })
                    }
                }
            }
        }

        plan.verdict = if !plan.blocks.is_empty() {
            Verdict::Blocked
        } else if plan.steps.is_empty() {
            Verdict::NoApprovalNeeded
        } else {
            Verdict::ApprovalRequired
        };
        Ok(plan)
    }

    fn route_thresholds(
        &self,
        plan: &mut ApprovalPlan,
        buyer: &Member,
        unit: &[SharedStr],
        facts: &[Option<Value>],
    ) -> Result<(), RouteError> {
        let total = plan.total;
        let rules = &self.policy.rules;
        let currency = total.currency();
        let in_currency = |i: &usize| {
            rules.get(*i).and_then(|r| r.min_total).is_some_and(|m| m.currency() == currency)
        };
        let mut any_in_currency = false;
        let mut matched: Vec<usize> = Vec::with_capacity(self.thresholds.len());
        for &i in self.thresholds.iter().filter(|i| in_currency(i)) {
            any_in_currency = true;
            let Some(threshold) = rules.get(i).and_then(|r| r.min_total) else { continue };
            if total.try_cmp(&threshold)? != Ordering::Less && self.condition_holds(i, facts) {
                matched.push(i);
            }
        }
        if !any_in_currency {
            if !self.thresholds.is_empty() {
                plan.blocks.push(Block::NoThresholdInCurrency { currency });
            }
            return Ok(());
        }
        let Some(&highest) = matched.last() else { return Ok(()) };
        // The groups of levels that make one step each.
        let groups: &[usize] = match self.policy.mode {
            Mode::Highest => std::slice::from_ref(&highest),
            Mode::Escalation | Mode::Any => &matched,
        };
        let group_count = if self.policy.mode == Mode::Escalation { groups.len() } else { 1 };
        plan.steps.reserve(group_count);
        // Reasons of levels that escalated to a higher level: they join that level's step.
        let mut carried: Vec<(usize, Vec<Because>, Vec<Escalation>)> = Vec::new();
        for g in 0..group_count {
            let group: &[usize] = match self.policy.mode {
                Mode::Escalation => groups.get(g..=g).unwrap_or_default(),
                _ => groups,
            };
            let mut pooled =
                Candidates { users: Vec::new(), buyer_excluded: false, outside_unit: false };
            for &i in group {
                let Some(named) = self.rule_approvers.get(i) else { continue };
                let c = self.candidates(named, buyer, unit);
                pooled.buyer_excluded |= c.buyer_excluded;
                pooled.outside_unit |= c.outside_unit;
                if pooled.users.is_empty() {
                    pooled.users = c.users;
                } else {
                    for u in c.users {
                        if !pooled.users.contains(&u) {
                            pooled.users.push(u);
                        }
                    }
                }
            }
            let mut because = Vec::with_capacity(group.len());
            let mut escalations = Vec::new();
            if !carried.is_empty() {
                let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut carried)
                    .into_iter()
                    .partition(|(t, _, _)| group.contains(t));
                carried = rest;
                for (_, b, e) in mine {
                    because.extend(b);
                    escalations.extend(e);
                }
            }
            because
                .extend(group.iter().filter_map(|&i| self.rule_match(i, facts)).map(Because::Rule));
            if !pooled.users.is_empty() {
                let approver = match group {
                    [only] => rules.get(*only).map(|r| r.approver.clone()),
                    _ => None,
                }
                .unwrap_or_else(|| Approver::AnyOf(pooled.users.clone()));
                plan.steps.push(PlanStep {
                    approver,
                    candidates: pooled.users,
                    because,
                    escalations,
                });
                continue;
            }
            // Nobody may approve at this level: escalate to the next threshold above it whose
            // condition holds and that has someone eligible.
            let top = group.last().copied().unwrap_or(highest);
            let mut above =
                self.thresholds.iter().copied().filter(in_currency).skip_while(|&i| i != top);
            above.next();
            let next = above.find_map(|j| {
                let rule = rules.get(j)?;
                if !self.condition_holds(j, facts) {
                    return None;
                }
                let c = self.candidates(self.rule_approver(j), buyer, unit);
                (!c.users.is_empty()).then_some((j, rule))
            });
            escalations.push(Escalation {
                from: rules.get(top).map(rule_ref),
                to: next.map(|(_, rule)| rule_ref(rule)),
                reason: pooled.reason(),
            });
            match next {
                // The higher level takes this one over; levels that land on the same one share
                // its step.
                Some((j, _)) => carried.push((j, because, escalations)),
                None => self.to_fallback(plan, because, buyer, unit, escalations),
            }
        }
        // Escalations to levels above the order's total: one step per level, lowest first.
        for &j in self.thresholds.iter() {
            if carried.is_empty() {
                break;
            }
            let (mine, rest): (Vec<_>, Vec<_>) =
                std::mem::take(&mut carried).into_iter().partition(|(t, _, _)| *t == j);
            carried = rest;
            let Some(rule) = rules.get(j).filter(|_| !mine.is_empty()) else { continue };
            let mut because = Vec::new();
            let mut escalations = Vec::new();
            for (_, b, e) in mine {
                because.extend(b);
                escalations.extend(e);
            }
            let users = self.candidates(self.rule_approver(j), buyer, unit).users;
            plan.steps.push(PlanStep {
                approver: rule.approver.clone(),
                candidates: users,
                because,
                escalations,
            });
        }
        Ok(())
    }

    fn to_fallback(
        &self,
        plan: &mut ApprovalPlan,
        because: Vec<Because>,
        buyer: &Member,
        unit: &[SharedStr],
        escalations: Vec<Escalation>,
    ) {
        if let Some(fallback) = &self.policy.fallback {
            let c = self.candidates(&self.fallback_approver, buyer, unit);
            if !c.users.is_empty() {
                plan.steps.push(PlanStep {
                    approver: fallback.clone(),
                    candidates: c.users,
                    because,
                    escalations,
                });
                return;
            }
        }
        plan.blocks.push(Block::NoEligibleApprover { because });
    }

    fn add_step(
        &self,
        plan: &mut ApprovalPlan,
        (approver, named): (&Approver, &Named),
        because: Vec<Because>,
        buyer: &Member,
        unit: &[SharedStr],
        rule: Option<&ApprovalRule>,
    ) {
        let c = self.candidates(named, buyer, unit);
        if c.users.is_empty() {
            let escalation = Escalation { from: rule.map(rule_ref), to: None, reason: c.reason() };
            self.to_fallback(plan, because, buyer, unit, vec![escalation]);
        } else {
            plan.steps.push(PlanStep {
                approver: approver.clone(),
                candidates: c.users,
                because,
                escalations: Vec::new(),
            });
        }
    }

    fn route_limit(
        &self,
        plan: &mut ApprovalPlan,
        (limit, named): (&SpendingLimit, &Named),
        spent: &[Spent],
        total: Money,
        buyer: &Member,
        unit: &[SharedStr],
    ) -> Result<(), RouteError> {
        let applies = match &limit.applies_to {
            LimitScope::Everyone => true,
            LimitScope::User(u) => *u == buyer.id,
            LimitScope::Role(r) => buyer.roles.contains(r),
        };
        if !applies {
            return Ok(());
        }
        let spent = spent
            .iter()
            .find(|s| s.limit == limit.id)
            .map(|s| s.amount)
            .ok_or_else(|| RouteError::MissingSpent(limit.id.clone()))?;

        if limit.amount.currency() != total.currency() || spent.currency() != total.currency() {
            plan.blocks
                .push(Block::LimitCurrency { limit: limit.id.clone(), name: limit.name.clone() });
            return Ok(());
        }
        let after: Money = spent.checked_add(total)?;
        if after.try_cmp(&limit.amount)? != Ordering::Greater {
            return Ok(());
        }
        match &limit.on_exceed {
            OverLimit::Approval(a) => {
                let because = vec![Because::SpendingLimit {
                    limit: limit.id.clone(),
                    name: limit.name.clone(),
                    period: limit.period,
                    limit_amount: limit.amount,
                    spent,
                }];
                self.add_step(plan, (a, named), because, buyer, unit, None);
            }
            OverLimit::Block => plan.blocks.push(Block::SpendingLimit {
                limit: limit.id.clone(),
                name: limit.name.clone(),
                period: limit.period,
                limit_amount: limit.amount,
                spent,
            }),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn who_may_decide_for_a_unit() {
        let directory: Directory = serde_json::from_str(
            r#"{
                "units": [
                    { "id": "na", "name": "North America" },
                    { "id": "ny", "name": "New York", "parent": "na" },
                    { "id": "emea", "name": "EMEA" }
                ],
                "users": [
                    { "id": "head", "name": "Head", "roles": ["approver"] },
                    { "id": "avery", "name": "Avery", "roles": ["approver"], "unit": "na" },
                    { "id": "eli", "name": "Eli", "roles": ["approver"], "unit": "emea" }
                ]
            }"#,
        )
        .unwrap();
        let may = |user: &str, unit: Option<&str>| {
            let unit = unit.map(|u| UnitId::parse(u).unwrap());
            directory.may_decide_for(&UserId::parse(user).unwrap(), unit.as_ref())
        };
        assert!(may("head", Some("ny")) && may("head", None), "no unit: the whole company");
        assert!(may("avery", Some("ny")) && may("avery", Some("na")), "a unit and those under it");
        assert!(!may("avery", Some("emea")) && !may("avery", None), "not elsewhere");
        assert!(!may("eli", Some("ny")));
        assert!(!may("nobody", Some("ny")), "only people of the directory");
    }

    #[test]
    fn conditions_on_units_the_directory_lacks_are_found() {
        let policy: ApprovalPolicy = serde_json::from_value(serde_json::json!({
            "name": "P",
            "rules": [
                { "id": "emea", "name": "EMEA", "when": { "field": "order.business_unit", "op": "within", "value": { "text": "emea" } }, "approver": { "user": "u" } },
                { "id": "mars", "name": "Mars", "when": { "all": [
                    { "field": "order.categories", "op": "contains", "value": { "text": "mars" } },
                    { "field": "order.business_unit", "op": "within", "value": { "text": "mars" } }
                ] }, "approver": { "user": "u" } }
            ]
        }))
        .unwrap();
        let directory: Directory = serde_json::from_value(serde_json::json!({
            "units": [{ "id": "emea", "name": "EMEA" }],
            "users": [{ "id": "u", "name": "U", "roles": ["approver"] }]
        }))
        .unwrap();
        let found = unknown_units(&policy, &directory);
        let paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["rules[1].when.all[1]"], "only the unit comparison, not the category");
        assert!(validate(&policy, &directory).is_empty(), "routing can still run it");
    }
}
