//! One module per page.

pub mod approvals;
pub mod cart;
pub mod catalog;
pub mod customers;
pub mod login;
pub mod notifications;
pub mod orders;
pub mod policy;
pub mod workflows;
