//! The fixture corpus, natively (`cargo test`) and in wasm under Node
//! (`cargo test --target wasm32-unknown-unknown`): the same cases, the same expectations.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may panic"
)]

use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test(unsupported = test)]
fn fixture_corpus_holds() {
    let (count, failures) = tests::corpus::check(tests::FIXTURES);
    println!("{count} fixture cases from {} files", tests::FIXTURES.len());
    assert!(
        failures.is_empty(),
        "{} of {count} fixture cases failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(count >= 60, "the corpus has {count} cases; some files were not found");
}
