//! Cross-crate tests of Countersign.
//!
//! - [`corpus`]: the fixture corpus under `tests/fixtures`, run natively and in wasm.
//! - [`runner`]: one function that answers a case; the native build script and the wasm test
//!   both call it, so native and wasm answers can be compared byte for byte.
//! - [`strategies`] (native only): proptest strategies for generated cases.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod corpus;
pub mod runner;
#[cfg(not(target_arch = "wasm32"))]
pub mod strategies;

/// Every fixture file: its path under `tests/fixtures` and its text (embedded at build time,
/// so the wasm build has them without a file system).
pub static FIXTURES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));

/// Cases generated natively at build time, with the native answers:
/// `[{"kind", "input", "answer"}]`.
pub static GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/generated.json"));
