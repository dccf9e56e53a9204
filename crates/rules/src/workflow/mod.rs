//! Workflows: definitions, validation and the runtime that says what may happen next.
//!
//! A [`Workflow`] is a validated definition with its guards compiled. For an [`Instance`]
//! (which version it runs, its state, since when, its fields), an [`Actor`] and `now`, it
//! answers which transitions are available and why, fires one (new state, actions to
//! perform) or refuses with the reason, and says which timers are due. An instance stays on
//! the version it started on: a workflow refuses instances of another version.

pub mod diff;
pub mod layout;
mod model;
pub mod orders;
pub mod simulate;
mod validate;

pub use diff::{InstanceMove, MoveBlocked, WorkflowDiff, diff, plan_move};
pub use model::*;
pub use validate::{schema_of, validate};

use crate::ids::SharedStr;
use crate::{
    condition::{Check, CompiledCondition, FieldPath, Schema, Value},
    diagnostic::Diagnostic,
    ids::{CustomerId, GroupId, StateId, TransitionId, UserId, WorkflowId},
    time::Timestamp,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One running entity on a workflow version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    pub workflow: WorkflowId,
    pub version: u32,
    pub state: StateId,
    /// When the instance entered its current state.
    pub entered_at: Timestamp,
    /// The entity's fields (computed ones, `<entity>.state` and `<entity>.state_age`, are not
    /// given: the engine computes them).
    #[serde(default)]
    pub fields: BTreeMap<FieldPath, Value>,
    /// Who started the entity, if a person did: the requester, who may not decide on their own
    /// request (see [`Refusal::OwnRequest`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<UserId>,
}

/// The role that decides on requests (approves or rejects them).
pub const APPROVER_ROLE: &str = "approver";

/// Who wants to fire a transition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    #[serde(default)]
    pub id: Option<UserId>,
    pub roles: Vec<SharedStr>,
}

/// Why a transition cannot fire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Refusal {
    UnknownTransition {
        transition: TransitionId,
    },
    NotFromHere {
        transition: TransitionId,
        state: StateId,
        from: StateId,
    },
    RoleNotAllowed {
        transition: TransitionId,
        allowed: Vec<SharedStr>,
    },
    /// The actor started the instance and may fire the transition only as its approver:
    /// nobody decides on their own request.
    OwnRequest {
        transition: TransitionId,
    },
    GuardFails {
        transition: TransitionId,
        checks: Vec<Check>,
    },
    /// Timers and events fire on their own; nobody fires them by hand.
    NotManual {
        transition: TransitionId,
    },
    /// A manual transition cannot be fired as a timer or an event.
    NotAutomatic {
        transition: TransitionId,
    },
    TimerNotDue {
        transition: TransitionId,
        due_at: Timestamp,
    },
}

/// Why the runtime cannot work with an instance at all.
#[derive(Clone, Debug, PartialEq)]
pub enum RuntimeError {
    /// The instance runs on another workflow or version.
    WrongVersion {
        workflow: WorkflowId,
        version: u32,
        instance_workflow: WorkflowId,
        instance_version: u32,
    },
    UnknownState(StateId),
    NoStartState,
    BadFields(Vec<Diagnostic>),
    Refused(Refusal),
}

impl std::error::Error for RuntimeError {}

/// A transition from the current state, as one actor sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransitionOption {
    pub transition: TransitionId,
    pub label: SharedStr,
    pub to: StateId,
    pub trigger: Trigger,
    pub enabled: bool,
    /// Why it is not enabled (empty when enabled).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<Refusal>,
    /// The guard's deciding comparisons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// The refusals in sentences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<String>,
}

/// A transition that fired: the new instance and what the server must now do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fired {
    pub transition: TransitionId,
    pub from: StateId,
    pub to: StateId,
    pub at: Timestamp,
    pub actions: Vec<Action>,
    pub instance: Instance,
}

/// A timer of the current state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimerStatus {
    pub transition: TransitionId,
    pub due_at: Timestamp,
    /// The time has come.
    pub elapsed: bool,
    pub guard_holds: bool,
    /// Elapsed and the guard holds: it fires now.
    pub due: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// The status in a sentence.
    #[serde(default)]
    pub explanation: String,
}

/// A validated workflow definition, ready to run.
#[derive(Debug)]
pub struct Workflow {
    def: WorkflowDefinition,
    schema: Schema,
    guards: Vec<Option<CompiledCondition>>,
    warnings: Vec<Diagnostic>,
    state_slot: Option<usize>,
    age_slot: Option<usize>,
}

impl Workflow {
    /// Validates and compiles a definition. Errors refuse it; warnings are kept.
    pub fn new(def: WorkflowDefinition) -> Result<Workflow, Vec<Diagnostic>> {
        let (errors, warnings): (Vec<_>, Vec<_>) =
            validate(&def).into_iter().partition(Diagnostic::is_error);
        if !errors.is_empty() {
            return Err(errors);
        }
        let (schema, _) = schema_of(&def);
        let mut guards = Vec::with_capacity(def.transitions.len());
        for (i, t) in def.transitions.iter().enumerate() {
            guards.push(match &t.guard {
                Some(g) => Some(CompiledCondition::compile(g, &schema).map_err(|p| {
                    p.into_iter()
                        .map(|d| d.under(&format!("transitions[{i}].guard")))
                        .collect::<Vec<_>>()
                })?),
                None => None,
            });
        }
        let entity = def.entity.name();
        let state_slot = schema.slot(&format!("{entity}.state"));
        let age_slot = schema.slot(&format!("{entity}.state_age"));
        Ok(Workflow { def, schema, guards, warnings, state_slot, age_slot })
    }

    pub fn definition(&self) -> &WorkflowDefinition {
        &self.def
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The start state.
    pub fn start(&self) -> Option<&StateId> {
        self.def.states.iter().find(|s| s.start).map(|s| &s.id)
    }

    /// A new instance in the start state.
    pub fn begin(
        &self,
        fields: BTreeMap<FieldPath, Value>,
        now: Timestamp,
    ) -> Result<Instance, RuntimeError> {
        let state = self.start().cloned().ok_or(RuntimeError::NoStartState)?;
        let instance = Instance {
            workflow: self.def.id.clone(),
            version: self.def.version,
            state,
            entered_at: now,
            fields,
            started_by: None,
        };
        self.facts(&instance, now)?;
        Ok(instance)
    }

    /// The instance's fields in schema slots, with the computed ones filled in.
    pub fn facts(
        &self,
        instance: &Instance,
        now: Timestamp,
    ) -> Result<Vec<Option<Value>>, RuntimeError> {
        if instance.workflow != self.def.id || instance.version != self.def.version {
            return Err(RuntimeError::WrongVersion {
                workflow: self.def.id.clone(),
                version: self.def.version,
                instance_workflow: instance.workflow.clone(),
                instance_version: instance.version,
            });
        }
        if !self.def.states.iter().any(|s| s.id == instance.state) {
            return Err(RuntimeError::UnknownState(instance.state.clone()));
        }
        let mut facts =
            self.schema.bind(&instance.fields, "fields").map_err(RuntimeError::BadFields)?;
        if let Some(slot) = self.state_slot.and_then(|s| facts.get_mut(s)) {
            *slot = Some(Value::Text(instance.state.shared()));
        }
        if let Some(slot) = self.age_slot.and_then(|s| facts.get_mut(s)) {
            *slot = Some(Value::Duration(now.since(instance.entered_at)));
        }
        Ok(facts)
    }

    fn guard_explain(&self, index: usize, facts: &[Option<Value>]) -> (bool, Vec<Check>) {
        match self.guards.get(index) {
            Some(Some(g)) => g.explain(facts),
            _ => (true, Vec::new()),
        }
    }

    fn transitions_from<'a>(
        &'a self,
        state: &'a StateId,
    ) -> impl Iterator<Item = (usize, &'a Transition)> + 'a {
        self.def.transitions.iter().enumerate().filter(move |(_, t)| t.from == *state)
    }

    /// Every transition from the instance's current state, each enabled or not for this actor
    /// now, and why.
    pub fn available(
        &self,
        instance: &Instance,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Vec<TransitionOption>, RuntimeError> {
        let facts = self.facts(instance, now)?;
        Ok(self
            .transitions_from(&instance.state)
            .map(|(i, t)| {
                let (holds, checks) = self.guard_explain(i, &facts);
                let mut refusals = Vec::new();
                match &t.trigger {
                    Trigger::Manual => refusals.extend(who_may_not(t, instance, actor)),
                    _ => refusals.push(Refusal::NotManual { transition: t.id.clone() }),
                }
                if !holds {
                    refusals.push(Refusal::GuardFails {
                        transition: t.id.clone(),
                        checks: checks.clone(),
                    });
                }
                TransitionOption {
                    transition: t.id.clone(),
                    label: t.label.clone(),
                    to: t.to.clone(),
                    trigger: t.trigger.clone(),
                    enabled: refusals.is_empty(),
                    explanation: refusals.iter().map(ToString::to_string).collect(),
                    refusals,
                    checks,
                }
            })
            .collect())
    }

    fn find(
        &self,
        instance: &Instance,
        transition: &TransitionId,
    ) -> Result<(usize, &Transition), RuntimeError> {
        let (i, t) =
            self.def.transitions.iter().enumerate().find(|(_, t)| t.id == *transition).ok_or_else(
                || {
                    RuntimeError::Refused(Refusal::UnknownTransition {
                        transition: transition.clone(),
                    })
                },
            )?;
        if t.from != instance.state {
            return Err(RuntimeError::Refused(Refusal::NotFromHere {
                transition: t.id.clone(),
                state: instance.state.clone(),
                from: t.from.clone(),
            }));
        }
        Ok((i, t))
    }

    fn complete(&self, instance: &Instance, t: &Transition, now: Timestamp) -> Fired {
        let mut next = instance.clone();
        next.state = t.to.clone();
        next.entered_at = now;
        for action in &t.actions {
            if let Action::Set { field, value } = action {
                next.fields.insert(field.clone(), value.clone());
            }
        }
        Fired {
            transition: t.id.clone(),
            from: instance.state.clone(),
            to: t.to.clone(),
            at: now,
            actions: t.actions.clone(),
            instance: next,
        }
    }

    /// Fires a manual transition for an actor, or says why not.
    pub fn fire(
        &self,
        instance: &Instance,
        transition: &TransitionId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Fired, RuntimeError> {
        let facts = self.facts(instance, now)?;
        let (i, t) = self.find(instance, transition)?;
        if t.trigger != Trigger::Manual {
            return Err(RuntimeError::Refused(Refusal::NotManual { transition: t.id.clone() }));
        }
        if let Some(refusal) = who_may_not(t, instance, actor) {
            return Err(RuntimeError::Refused(refusal));
        }
        let (holds, checks) = self.guard_explain(i, &facts);
        if !holds {
            return Err(RuntimeError::Refused(Refusal::GuardFails {
                transition: t.id.clone(),
                checks,
            }));
        }
        Ok(self.complete(instance, t, now))
    }

    /// The timers of the current state: when each falls due and whether it fires now. The
    /// guard is evaluated as of `now`.
    pub fn timers(
        &self,
        instance: &Instance,
        now: Timestamp,
    ) -> Result<Vec<TimerStatus>, RuntimeError> {
        let facts = self.facts(instance, now)?;
        Ok(self
            .transitions_from(&instance.state)
            .filter_map(|(i, t)| {
                let Trigger::Timer { after } = t.trigger else { return None };
                let due_at = instance.entered_at.checked_add(after)?;
                let (guard_holds, checks) = self.guard_explain(i, &facts);
                let elapsed = now >= due_at;
                let mut status = TimerStatus {
                    transition: t.id.clone(),
                    due_at,
                    elapsed,
                    guard_holds,
                    due: elapsed && guard_holds,
                    checks,
                    explanation: String::new(),
                };
                status.explanation = crate::messages::explain_timer(&status);
                Some(status)
            })
            .collect())
    }

    /// The earliest time a timer of the current state falls due (its guard is checked then).
    pub fn next_deadline(&self, instance: &Instance) -> Option<Timestamp> {
        self.transitions_from(&instance.state)
            .filter_map(|(_, t)| match t.trigger {
                Trigger::Timer { after } => instance.entered_at.checked_add(after),
                _ => None,
            })
            .min()
    }

    /// Fires a timer transition whose time has come, re-checking its guard now.
    pub fn fire_timer(
        &self,
        instance: &Instance,
        transition: &TransitionId,
        now: Timestamp,
    ) -> Result<Fired, RuntimeError> {
        let facts = self.facts(instance, now)?;
        let (i, t) = self.find(instance, transition)?;
        let Trigger::Timer { after } = t.trigger else {
            return Err(RuntimeError::Refused(Refusal::NotAutomatic { transition: t.id.clone() }));
        };
        let due_at =
            instance.entered_at.checked_add(after).unwrap_or(Timestamp::from_millis(i64::MAX));
        if now < due_at {
            return Err(RuntimeError::Refused(Refusal::TimerNotDue {
                transition: t.id.clone(),
                due_at,
            }));
        }
        let (holds, checks) = self.guard_explain(i, &facts);
        if !holds {
            return Err(RuntimeError::Refused(Refusal::GuardFails {
                transition: t.id.clone(),
                checks,
            }));
        }
        Ok(self.complete(instance, t, now))
    }

    /// Handles an event: the first transition from the current state triggered by it whose
    /// guard holds fires; `None` if there is none.
    pub fn on_event(
        &self,
        instance: &Instance,
        event: &str,
        now: Timestamp,
    ) -> Result<Option<Fired>, RuntimeError> {
        let facts = self.facts(instance, now)?;
        Ok(self
            .transitions_from(&instance.state)
            .find(|(i, t)| {
                matches!(&t.trigger, Trigger::Event(e) if &**e == event)
                    && self.guard_explain(*i, &facts).0
            })
            .map(|(_, t)| self.complete(instance, t, now)))
    }
}

/// Of several published definitions, the one a new entity starts on: the right entity, a
/// scope that covers the customer, the most specific scope, then the highest version.
pub fn select<'a>(
    definitions: impl IntoIterator<Item = &'a WorkflowDefinition>,
    entity: Entity,
    customer: &CustomerId,
    group: Option<&GroupId>,
) -> Option<&'a WorkflowDefinition> {
    definitions
        .into_iter()
        .filter(|d| d.entity == entity && d.scope.covers(customer, group))
        .max_by(|a, b| {
            a.scope
                .specificity()
                .cmp(&b.scope.specificity())
                .then_with(|| b.id.cmp(&a.id))
                .then_with(|| a.version.cmp(&b.version))
        })
}

/// Why `actor` may not fire the manual transition `t` of `instance`, if they may not: none of
/// their roles is allowed, or they started the instance and hold no allowed role but
/// [`APPROVER_ROLE`] (nobody approves their own request; a role of theirs that the transition
/// also allows, such as a buyer withdrawing their request, still lets them).
fn who_may_not(t: &Transition, instance: &Instance, actor: &Actor) -> Option<Refusal> {
    let mut theirs = t.roles.iter().filter(|r| actor.roles.contains(r)).peekable();
    if theirs.peek().is_none() {
        return Some(Refusal::RoleNotAllowed {
            transition: t.id.clone(),
            allowed: t.roles.clone(),
        });
    }
    let requester = actor.id.is_some() && actor.id == instance.started_by;
    (requester && theirs.all(|r| r.as_str() == APPROVER_ROLE))
        .then(|| Refusal::OwnRequest { transition: t.id.clone() })
}
