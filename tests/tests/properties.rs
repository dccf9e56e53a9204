//! Properties that must hold for every input, checked on generated cases (proptest).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may panic"
)]
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use rules::{
    CheckoutRequest,
    approval::{
        ApprovalContext, ApprovalPolicy, Because, Block, Directory, Mode, OrderFacts, RouteRequest,
        Verdict,
    },
    condition::{Condition, text},
    money::Money,
    pricing::{PricingContext, PricingData, RoundingMode},
};
use serde_json::Value;
use tests::strategies;

fn from<T: serde::de::DeserializeOwned>(v: &Value) -> T {
    serde_json::from_value(v.clone()).unwrap()
}

fn sum(items: impl IntoIterator<Item = Money>, zero: Money) -> Money {
    items.into_iter().fold(zero, |a, b| a.checked_add(b).unwrap())
}

proptest! {
    // 256 cases each by default; set PROPTEST_CASES for more.
    #![proptest_config(ProptestConfig::default())]

    /// total = subtotal - discount + shipping + added tax; with per-line rounding the lines add
    /// up to the subtotal, their discount shares to the discount and their taxes to the tax.
    #[test]
    fn the_total_is_the_sum_of_its_parts(data in strategies::pricing_data(), request in strategies::checkout_request("USD")) {
        let ctx = PricingContext::new(from::<PricingData>(&data)).unwrap();
        let request: CheckoutRequest = from(&request);
        let Ok(cart) = ctx.price(&request.cart) else { return Ok(()) };
        let zero = Money::zero(cart.currency);
        let expected = cart.subtotal.checked_sub(cart.discount_amount()).unwrap()
            .checked_add(cart.shipping).unwrap()
            .checked_add(cart.tax_added()).unwrap();
        prop_assert_eq!(cart.total, expected);
        prop_assert_eq!(cart.tax_total, sum(cart.taxes.iter().map(|t| t.amount), zero));
        for m in [cart.total, cart.subtotal, cart.tax_total, cart.shipping] {
            prop_assert_eq!(m.amount().scale(), cart.currency.minor_units(), "{:?} is rounded to minor units", m);
        }
        if cart.rounding.mode == RoundingMode::PerLine {
            prop_assert_eq!(cart.subtotal, sum(cart.lines.iter().map(|l| l.amount), zero));
            prop_assert_eq!(cart.discount_amount(), sum(cart.lines.iter().map(|l| l.discount), zero));
            let line_tax = sum(cart.lines.iter().map(|l| l.tax.amount).chain(cart.shipping_tax.iter().map(|t| t.amount)), zero);
            prop_assert_eq!(cart.tax_total, line_tax);
        }
        prop_assert!(!cart.total.is_negative());
    }

    /// A product's price breaks are what checkout charges: at any quantity, a line of it is
    /// priced at the break of the largest quantity not above it, and cannot be priced below
    /// the first break.
    #[test]
    fn price_breaks_are_what_checkout_charges(
        data in strategies::pricing_data(),
        request in strategies::checkout_request("USD"),
        quantity in prop_oneof![1u32..20, 1u32..300],
    ) {
        let ctx = PricingContext::new(from::<PricingData>(&data)).unwrap();
        let request: CheckoutRequest = from(&request);
        let sku = request.cart.lines[0].sku.clone();
        let breaks = ctx.price_breaks(&request.cart, &sku);
        let priced_at = |q: u32| {
            let mut cart = request.cart.clone();
            cart.lines = vec![rules::pricing::CartLine { sku: sku.clone(), quantity: rules::pricing::Quantity::new(q).unwrap() }];
            match ctx.price(&cart) {
                Ok(c) => Ok(Some(c.lines[0].unit_price)),
                Err(rules::pricing::PricingError::NoPrice { .. }) => Ok(None),
                // Refused for another reason (sales tax on gross prices, say): not about price.
                Err(e) => Err(e),
            }
        };
        let mut checked = breaks.iter().map(|b| b.min_quantity).collect::<Vec<_>>();
        checked.extend(breaks.iter().filter_map(|b| b.min_quantity.checked_sub(1)).filter(|q| *q > 0));
        checked.push(quantity);
        for q in checked {
            let expected = breaks.iter().rev().find(|b| b.min_quantity <= q).map(|b| b.unit_price);
            if let Ok(priced) = priced_at(q) {
                prop_assert_eq!(priced, expected, "{} × {}: {:?}", q, sku, breaks);
            }
        }
    }

    /// In escalation mode, a larger total never removes a step: whatever a step stood for is
    /// still asked for (possibly merged into a higher step), unless the order is now blocked.
    #[test]
    fn escalation_never_loses_a_step_as_the_total_grows(
        policy in strategies::policy("USD"),
        request in strategies::checkout_request("USD"),
        low in 0i64..1_200_000,
        raise in 0i64..1_200_000,
    ) {
        let mut policy: ApprovalPolicy = from(&policy);
        policy.mode = Mode::Escalation;
        let directory: Directory = from(&strategies::directory());
        let ctx = ApprovalContext::new(policy, directory).unwrap();
        let request: CheckoutRequest = from(&request);
        let usd = |cents: i64| Money::new(rust_decimal::Decimal::new(cents, 2), rules::money::Currency::from_code("USD").unwrap());
        let route = |cents: i64| {
            let mut facts = OrderFacts {
                total: usd(cents), subtotal: usd(cents), discount: usd(0), shipping: usd(0), tax: usd(0),
                sku_count: u32::try_from(request.cart.lines.len()).unwrap(), quantity: 10,
                categories: vec![rules::ids::CategoryId::parse("tools").unwrap()],
                business_unit: request.business_unit.clone(), payment_method: request.payment_method.clone(),
                customer: None, customer_group: None,
            };
            facts.customer = Some(request.cart.customer.id.clone());
            ctx.route(&RouteRequest { buyer: request.buyer.clone(), order: facts, spent: request.spent.clone(), funds: request.funds.clone() }).unwrap()
        };
        let before = route(low);
        let after = route(low + raise);
        if after.verdict == Verdict::Blocked {
            return Ok(());
        }
        for step in &before.steps {
            let covered = after.steps.iter().any(|s| step.because.iter().all(|b| s.because.contains(b) || matches!(b, Because::Rule(_)) && s.because.iter().any(|c| same_rule(b, c))));
            prop_assert!(covered, "step {:?} of the plan for {} is gone from the plan for {}: {:?}", step, before.total, after.total, after.steps);
        }
        let was_blocked = before.blocks.iter().any(|b| matches!(b, Block::NoEligibleApprover { .. }));
        prop_assert!(after.steps.len() >= before.steps.len() || was_blocked, "fewer steps for a larger total");
    }

    /// Printing a condition and parsing the text gives the same condition.
    #[test]
    fn parse_print_round_trips(condition in strategies::condition()) {
        let condition: Condition = from(&condition);
        let printed = text::print(&condition);
        let parsed = text::parse(&printed);
        prop_assert_eq!(parsed, Ok(condition.clone().canonical()), "printed as {}", printed);
    }

    /// The parser answers every input with a condition or an error, never a panic.
    #[test]
    fn the_parser_never_panics(input in "\\PC{0,80}") {
        let _ = text::parse(&input);
    }

    #[test]
    fn the_parser_never_panics_on_near_misses(input in "(order\\.total|not|and|or|\\(|\\)|>=|=|in|\\[|\\]|\"[a-z]*\"|7d|50000 USD|-1\\.5| |,){0,20}") {
        if let Ok(c) = text::parse(&input) {
            prop_assert_eq!(text::parse(&text::print(&c)), Ok(c));
        }
    }

    /// The browser builds' sort orders as the standard stable sort does, elements with equal
    /// keys in their first order.
    #[test]
    fn the_browsers_sort_is_the_standard_stable_sort(v in prop::collection::vec((0u8..8, any::<u16>()), 0..300)) {
        let mut ours = v.clone();
        rules::sort::by_indices(&mut ours, &mut |a: &(u8, u16), b: &(u8, u16)| a.0.cmp(&b.0));
        let mut std = v;
        std.sort_by_key(|a| a.0);
        prop_assert_eq!(ours, std);
    }
}

/// The same rule (its checks may differ when the total differs).
fn same_rule(a: &Because, b: &Because) -> bool {
    matches!((a, b), (Because::Rule(x), Because::Rule(y)) if x.rule == y.rule)
}
