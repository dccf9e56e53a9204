//! The API, black box: one integration binary, each test on a fresh database, on SQLite and on
//! PostgreSQL (see `harness.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

mod demo;
mod harness;
mod instances;
mod mail;
mod migrations;
mod openapi;
mod order_workflows;
mod orders;
mod people;
mod session;
mod shop;
mod units;
mod webhooks;
mod workflows;

use harness::TestApp;
use server::db;
