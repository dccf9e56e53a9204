//! Workflow definitions: states, transitions, triggers, guards and actions.

pub use crate::condition::Entity;
use crate::ids::SharedStr;
use crate::{
    condition::{Condition, FieldPath, FieldType, Value},
    ids::{CustomerId, GroupId, StateId, TransitionId, WorkflowId},
    time::Duration,
};
use serde::{Deserialize, Serialize};

/// The roles that may fire manual transitions.
pub const ROLES: [&str; 7] = [
    "buyer",
    "approver",
    "company_admin",
    "sales_rep",
    "seller_admin",
    "back_office",
    "integration",
];

/// Which customers a workflow is for. The most specific published workflow wins.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    All,
    CustomerGroup(GroupId),
    Customer(CustomerId),
}

impl Scope {
    /// Higher is more specific.
    pub fn specificity(&self) -> u8 {
        match self {
            Scope::All => 0,
            Scope::CustomerGroup(_) => 1,
            Scope::Customer(_) => 2,
        }
    }

    pub fn covers(&self, customer: &CustomerId, group: Option<&GroupId>) -> bool {
        match self {
            Scope::All => true,
            Scope::CustomerGroup(g) => Some(g) == group,
            Scope::Customer(c) => c == customer,
        }
    }
}

/// A field a workflow adds to its entity (for example `order.po_number`), set by `set` actions
/// and tested by guards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomField {
    pub path: FieldPath,
    #[serde(rename = "type")]
    pub ty: FieldType,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub id: StateId,
    pub label: SharedStr,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub start: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub terminal: bool,
    /// Where the editor draws the state (diagram units). Presentation only: the runtime, the
    /// validation and version diffs ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
}

/// A point in the editor's diagram, in whole diagram units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub x: i32,
    pub y: i32,
}

/// What fires a transition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A person (with one of the transition's roles) fires it.
    #[default]
    Manual,
    /// Fired when the named event happens (`"order.updated"`), if the guard holds.
    Event(SharedStr),
    /// Fired once the entity has been in the state for `after`, if the guard holds then.
    Timer { after: Duration },
}

/// Who hears about a transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    Buyer,
    Approvers,
    SalesRep,
    CompanyAdmins,
    SellerAdmins,
    BackOffice,
}

/// Something the server does when a transition fires.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    Notify { to: Vec<Recipient>, template: SharedStr },
    RequireApproval {},
    Set { field: FieldPath, value: Value },
    Call { integration: SharedStr },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub id: TransitionId,
    pub from: StateId,
    pub to: StateId,
    pub label: SharedStr,
    /// Roles that may fire a manual transition.
    #[serde(default)]
    pub roles: Vec<SharedStr>,
    #[serde(default)]
    pub trigger: Trigger,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<Condition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
}

/// A workflow definition, one version of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowDefinition {
    pub id: WorkflowId,
    pub version: u32,
    pub name: SharedStr,
    pub entity: Entity,
    #[serde(default)]
    pub scope: Scope,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<CustomField>,
    pub states: Vec<State>,
    pub transitions: Vec<Transition>,
}
