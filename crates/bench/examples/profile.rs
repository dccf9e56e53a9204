//! Runs the scenario in a loop, for a profiler: `valgrind --tool=callgrind target/release/examples/profile`.
#![allow(clippy::unwrap_used, reason = "profiling")]
fn main() {
    let s = bench::Scenario::new();
    let what = std::env::args().nth(1).unwrap_or_else(|| "checkout".into());
    let verdict = rules::evaluate_checkout(&s.pricing, &s.approval, &s.request).unwrap();
    let route = rules::approval::RouteRequest {
        buyer: s.request.buyer.clone(),
        order: verdict.facts.clone(),
        spent: s.request.spent.clone(),
        funds: s.request.funds.clone(),
    };
    let n: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    for _ in 0..n {
        match what.as_str() {
            "route" => drop(std::hint::black_box(s.approval.route(&route).unwrap())),
            "price" => drop(std::hint::black_box(s.pricing.price(&s.request.cart).unwrap())),
            _ => drop(std::hint::black_box(s.run())),
        }
    }
}
