//! Embeds the fixture corpus, and generates cases with the native engine's answers so that the
//! wasm build can replay them and compare (see `tests/generated.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "src/runner.rs"]
mod runner;
#[path = "src/strategies.rs"]
#[allow(dead_code)]
mod strategies;

use proptest::{
    strategy::{Strategy, ValueTree},
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use serde_json::{Value, json};
use std::{env, fs, path::Path};

/// How many checkouts, conditions, workflows are generated.
const CHECKOUT_BATCHES: usize = 40;
const CHECKOUTS_PER_BATCH: usize = 50;
const CONDITIONS: usize = 1000;
const WORKFLOWS: usize = 400;

fn fixtures(out: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read tests/fixtures") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                println!("cargo:rerun-if-changed={}", path.display());
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                println!("cargo:rerun-if-changed={}", path.display());
                files.push(path);
            }
        }
    }
    files.sort();
    let mut code = String::from("&[\n");
    for f in files {
        let name = f.strip_prefix(&root).unwrap().display().to_string();
        code.push_str(&format!("    ({name:?}, include_str!({:?})),\n", f.display().to_string()));
    }
    code.push(']');
    fs::write(out.join("fixtures.rs"), code).unwrap();
}

fn generate<S: Strategy<Value = Value>>(
    runner: &mut TestRunner,
    strategy: S,
    n: usize,
) -> Vec<Value> {
    (0..n).map(|_| strategy.new_tree(runner).expect("a generated value").current()).collect()
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = env::var("OUT_DIR").map(std::path::PathBuf::from).expect("OUT_DIR");
    fixtures(&out);

    // A fixed seed: the cases are the same on every build and every machine.
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let mut cases = Vec::new();
    for input in
        generate(&mut runner, strategies::checkout_batch(CHECKOUTS_PER_BATCH), CHECKOUT_BATCHES)
    {
        cases.push(("checkout_batch", input));
    }
    for condition in generate(&mut runner, strategies::condition(), CONDITIONS) {
        cases.push(("condition_print", json!({ "condition": condition })));
    }
    let definitions = generate(&mut runner, strategies::workflow_definition(), WORKFLOWS);
    let fields = generate(&mut runner, strategies::order_fields(), WORKFLOWS);
    for (definition, fields) in definitions.into_iter().zip(fields) {
        cases.push(("workflow_validate", json!({ "definition": definition.clone() })));
        let instance = json!({ "workflow": "generated", "version": 1, "state": "s0", "entered_at": "2026-11-01T00:00:00Z", "fields": fields });
        cases.push(("workflow_timers", json!({ "definition": definition.clone(), "instance": instance.clone(), "now": "2026-11-06T12:00:00Z" })));
        cases.push(("workflow_available", json!({ "definition": definition, "instance": instance, "actor": { "roles": ["buyer", "approver"] }, "now": "2026-11-06T12:00:00Z" })));
    }
    let recorded: Vec<Value> = cases
        .into_iter()
        .map(|(kind, input)| {
            let answer = runner::run(kind, &input);
            json!({ "kind": kind, "input": input, "answer": answer })
        })
        .collect();
    fs::write(out.join("generated.json"), serde_json::to_string(&recorded).unwrap()).unwrap();
}
