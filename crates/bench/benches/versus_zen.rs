//! GoRules ZEN side by side: the seed routing (approvers at 2,000 / 3,000 / 5,000) as a ZEN
//! decision table and as our policy, on the seven totals of the issue; both engines must give
//! the same approvers before anything is timed. ZEN's decision is pre-compiled, as its own
//! benchmarks do.
//!
//! Prints ns per evaluation (median of runs) and the ratio.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "benchmark"
)]

use serde_json::{Value, json};
use std::{hint::black_box, sync::Arc, time::Instant};
use zen_engine::{Decision, model::GraphContent};

const TOTALS: [&str; 7] =
    ["1999.99", "2000.00", "2999.99", "3000.00", "4999.99", "5000.00", "12000.00"];

/// The seed as a ZEN decision table: "first" hit with rows from the highest threshold down is
/// "highest level only"; "collect" with rows ascending is "every matching level".
fn zen_table(hit_policy: &str) -> Decision {
    let mut rows = vec![
        json!({ "_id": "r1", "i1": ">= 2000", "o1": "\"a1\"" }),
        json!({ "_id": "r2", "i1": ">= 3000", "o1": "\"a2\"" }),
        json!({ "_id": "r3", "i1": ">= 5000", "o1": "\"a3\"" }),
    ];
    if hit_policy == "first" {
        rows.reverse();
    }
    let content: GraphContent = serde_json::from_value(json!({
        "nodes": [
            { "id": "in", "name": "Request", "type": "inputNode", "content": {} },
            { "id": "dt", "name": "Approvers", "type": "decisionTableNode", "content": {
                "hitPolicy": hit_policy,
                "inputs": [{ "id": "i1", "name": "Total", "field": "total" }],
                "outputs": [{ "id": "o1", "name": "Approver", "field": "approver" }],
                "rules": rows } },
            { "id": "out", "name": "Response", "type": "outputNode", "content": {} }
        ],
        "edges": [{ "id": "e1", "sourceId": "in", "targetId": "dt" }, { "id": "e2", "sourceId": "dt", "targetId": "out" }]
    }))
    .unwrap();
    let mut decision = Decision::from(Arc::new(content));
    decision.compile();
    decision
}

fn zen_approvers(result: &Value) -> Vec<String> {
    match result {
        Value::Array(rows) => {
            rows.iter().map(|r| r["approver"].as_str().unwrap().to_owned()).collect()
        }
        Value::Object(o) => o
            .get("approver")
            .and_then(Value::as_str)
            .map(|a| vec![a.to_owned()])
            .unwrap_or_default(),
        _ => vec![],
    }
}

/// Median nanoseconds per call of `f` over `runs` runs of `iterations` calls.
fn median_ns(runs: usize, iterations: u32, mut f: impl FnMut(usize)) -> f64 {
    let mut samples: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            for i in 0..iterations {
                f(i as usize);
            }
            start.elapsed().as_nanos() as f64 / f64::from(iterations)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    // `cargo bench -- --test` (from `cargo xtask test`): check agreement, time briefly.
    let quick = std::env::args().any(|a| a == "--test");
    let (runs, iterations) = if quick { (3, 200) } else { (21, 20_000) };
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    println!("Seed routing, approvers at 2,000 / 3,000 / 5,000; totals {TOTALS:?}");
    let mut ratios = Vec::new();
    for (mode, hit_policy) in [("highest", "first"), ("escalation", "collect")] {
        let ours = bench::seed_routing(mode);
        let zen = zen_table(hit_policy);
        let requests: Vec<_> = TOTALS.iter().map(|t| bench::seed_request(t)).collect();
        let inputs: Vec<zen_expression::variable::Variable> =
            TOTALS.iter().map(|t| json!({ "total": t.parse::<f64>().unwrap() }).into()).collect();
        for (t, (req, input)) in TOTALS.iter().zip(requests.iter().zip(&inputs)) {
            let mine = bench::approvers(&ours.route(req).unwrap());
            let theirs = zen_approvers(
                &serde_json::to_value(rt.block_on(zen.evaluate(input.clone())).unwrap().result)
                    .unwrap(),
            );
            assert_eq!(mine, theirs, "{mode}: the engines disagree for a total of {t}");
        }
        let ours_ns = median_ns(runs, iterations, |i| {
            black_box(ours.route(&requests[i % requests.len()]).unwrap());
        });
        let zen_ns = median_ns(runs, iterations / 10 + 1, |i| {
            black_box(rt.block_on(zen.evaluate(inputs[i % inputs.len()].clone())).unwrap());
        });
        let ratio = zen_ns / ours_ns;
        ratios.push(ratio);
        println!(
            "{mode:>10} ({hit_policy:>7} hit in ZEN): Countersign {ours_ns:>8.0} ns, ZEN {zen_ns:>8.0} ns: ours is {ratio:.1}x faster"
        );
    }
    if quick {
        println!("(quick run: figures are indicative; run `cargo xtask bench` to measure)");
    }
}
