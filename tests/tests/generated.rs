//! Native and wasm agree: thousands of cases were generated and answered natively by the build
//! script; here they are answered again (natively, or in wasm under Node) and must be equal,
//! byte for byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may panic"
)]

use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test(unsupported = test)]
fn generated_cases_agree_with_the_native_answers() {
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(tests::GENERATED).expect("generated cases");
    assert!(cases.len() >= 2000, "only {} generated cases", cases.len());
    let mut compared = 0usize;
    for (i, case) in cases.iter().enumerate() {
        let kind = case["kind"].as_str().expect("a kind");
        let answer = tests::runner::run(kind, &case["input"]);
        let expected = serde_json::to_string(&case["answer"]).unwrap();
        let got = serde_json::to_string(&answer).unwrap();
        assert!(
            got == expected,
            "case {i} ({kind}) differs:\n native: {expected}\n   here: {got}\n  input: {}",
            case["input"]
        );
        compared += match &answer {
            serde_json::Value::Array(items) if kind == "checkout_batch" => items.len(),
            _ => 1,
        };
    }
    assert!(compared >= 4000, "compared {compared} answers");
}
