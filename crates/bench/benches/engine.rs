//! The scenario, natively: price a 20-line cart, route it with a 10-rule policy and
//! evaluate 5 guards; and each part alone.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark")]

use bench::Scenario;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn scenario(c: &mut Criterion) {
    let s = Scenario::new();
    c.bench_function("checkout: price 20 lines + route 10 rules + 5 guards", |b| {
        b.iter(|| black_box(s.run()))
    });
    c.bench_function("price 20 lines", |b| {
        b.iter(|| black_box(s.pricing.price(&s.request.cart).unwrap()))
    });
    let verdict = rules::evaluate_checkout(&s.pricing, &s.approval, &s.request).unwrap();
    let route = rules::approval::RouteRequest {
        buyer: s.request.buyer.clone(),
        order: verdict.facts.clone(),
        spent: s.request.spent.clone(),
        funds: s.request.funds.clone(),
    };
    c.bench_function("route with 10 rules", |b| {
        b.iter(|| black_box(s.approval.route(&route).unwrap()))
    });
    c.bench_function("explain the verdict (sentences, on request)", |b| {
        b.iter(|| black_box(verdict.clone().explained(&s.pricing, &s.approval)))
    });
}

fn workflows(c: &mut Criterion) {
    let definition = bench::large_workflow(200, 1000);
    c.bench_function("validate a 200-state, 1,000-transition workflow", |b| {
        b.iter(|| black_box(rules::workflow::validate(&definition)))
    });
    c.bench_function("parse a guard", |b| {
        b.iter(|| black_box(rules::condition::text::parse(bench::GUARDS[0]).unwrap()))
    });
}

criterion_group!(benches, scenario, workflows);
criterion_main!(benches);
