//! Generators of cases (proptest strategies): used by the property tests, and by the build
//! script, which records native answers for thousands of them so the wasm build can replay
//! them and compare.

use proptest::{prelude::*, sample::subsequence};
use serde_json::{Value, json};

const SKUS: [&str; 10] = ["P0", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9"];
const CATEGORIES: [&str; 4] = ["tools", "safety", "chemicals", "office"];
const CLASSES: [&str; 3] = ["standard", "reduced", "exempt"];

fn cents(max: i64) -> impl Strategy<Value = String> {
    (1..=max, prop::bool::weighted(0.15)).prop_map(|(c, three)| {
        if three {
            format!("{}.{:03}", c / 1000, c % 1000)
        } else {
            format!("{}.{:02}", c / 100, c % 100)
        }
    })
}

fn tiers() -> impl Strategy<Value = Value> {
    (cents(50_000), 0usize..3, 2u32..20).prop_map(|(first, extra, step)| {
        let mut tiers = vec![json!({ "min_quantity": 1, "unit_price": first })];
        let mut min = 1u32;
        let mut price = first.clone();
        for i in 0..extra {
            min += step * (i as u32 + 1) * 5;
            // 5 % cheaper each tier, truncated to cents.
            let p: Vec<&str> = price.split('.').collect();
            let whole: i64 = p[0].parse().unwrap_or(0);
            let frac: i64 =
                p.get(1).and_then(|f| f.get(..2)).and_then(|f| f.parse().ok()).unwrap_or(0);
            let c = (whole * 100 + frac) * 95 / 100;
            price = format!("{}.{:02}", c / 100, c % 100);
            tiers.push(json!({ "min_quantity": min, "unit_price": price }));
        }
        Value::Array(tiers)
    })
}

fn price_list(
    id: &str,
    audience: Value,
    currency: &str,
    gross: bool,
    skus: Vec<&'static str>,
) -> impl Strategy<Value = Value> {
    let id = id.to_owned();
    let n = skus.len();
    let dated = audience != json!("default");
    let validity = prop::option::weighted(0.5, ("2026-0[1-9]-1[0-9]", "2026-1[0-2]-2[0-8]"));
    (prop::collection::vec(tiers(), n), validity).prop_map(move |(tiers, validity)| {
        let validity = validity.filter(|_| dated);
        let prices: Vec<Value> = skus.iter().zip(tiers).map(|(s, t)| json!({ "sku": s, "tiers": t })).collect();
        let mut list = json!({ "id": id, "name": format!("List {id}"), "audience": audience, "currency": currency, "prices_include_tax": gross, "prices": prices });
        if let Some((from, until)) = validity {
            list["valid_from"] = json!(from);
            list["valid_until"] = json!(until);
        }
        list
    })
}

/// Seller pricing data: a catalog, five price lists, tax rules, a rounding policy.
pub fn pricing_data() -> impl Strategy<Value = Value> {
    let catalog = prop::collection::vec((0..CATEGORIES.len(), 0..CLASSES.len()), SKUS.len()).prop_map(|attrs| {
        SKUS.iter()
            .zip(attrs)
            .map(|(s, (c, t))| json!({ "sku": s, "name": format!("Product {s}"), "category": CATEGORIES[c], "tax_class": CLASSES[t] }))
            .collect::<Vec<_>>()
    });
    (
        catalog,
        price_list("usd", json!("default"), "USD", false, SKUS.to_vec()),
        (prop::bool::ANY, Just(())).prop_flat_map(|(gross, ())| price_list("eur", json!("default"), "EUR", gross, SKUS.to_vec())),
        subsequence(SKUS.to_vec(), 0..6).prop_flat_map(|s| price_list("wholesale", json!({ "group": "wholesale" }), "USD", false, s)),
        subsequence(SKUS.to_vec(), 0..4).prop_flat_map(|s| price_list("c1-contract", json!({ "customer": "c1" }), "USD", false, s)),
        prop_oneof![Just("per_line"), Just("on_total")],
        prop_oneof![Just("half_up"), Just("half_even"), Just("down"), Just("ceiling")],
    )
        .prop_map(|(catalog, usd, eur, group, contract, mode, rounding)| {
            json!({
                "catalog": catalog,
                "price_lists": [usd, eur, group, contract],
                "tax_rules": [
                    { "id": "us-ny", "name": "NY sales tax", "kind": "sales_tax", "country": "US", "region": "NY", "tax_class": "standard", "percent": "8.875" },
                    { "id": "us-std", "name": "US sales tax", "kind": "sales_tax", "country": "US", "tax_class": "standard", "percent": "6.25" },
                    { "id": "us-red", "name": "US reduced", "kind": "sales_tax", "country": "US", "tax_class": "reduced", "percent": "4" },
                    { "id": "de-std", "name": "MwSt. 19 %", "kind": "vat", "country": "DE", "tax_class": "standard", "percent": "19" },
                    { "id": "de-red", "name": "MwSt. 7 %", "kind": "vat", "country": "DE", "tax_class": "reduced", "percent": "7" }
                ],
                "rounding": { "mode": mode, "rounding": rounding }
            })
        })
}

/// The directory every generated policy uses: a unit tree and seven people.
pub fn directory() -> Value {
    json!({
        "units": [
            { "id": "acme", "name": "Acme" },
            { "id": "na", "name": "North America", "parent": "acme" },
            { "id": "ny", "name": "New York", "parent": "na" },
            { "id": "emea", "name": "EMEA", "parent": "acme" },
            { "id": "berlin", "name": "Berlin", "parent": "emea" }
        ],
        "users": [
            { "id": "b1", "name": "Buyer One", "roles": ["buyer"], "unit": "ny", "manager": "u1" },
            { "id": "b2", "name": "Buyer Two", "roles": ["buyer"], "unit": "berlin", "manager": "u4" },
            { "id": "u1", "name": "Approver One", "roles": ["approver", "buyer"], "unit": "na", "manager": "u4" },
            { "id": "u2", "name": "Approver Two", "roles": ["approver", "buyer"] },
            { "id": "u3", "name": "Approver Three", "roles": ["approver"], "unit": "emea" },
            { "id": "u4", "name": "Manager Four", "roles": ["approver", "manager"] },
            { "id": "u5", "name": "Finance Five", "roles": ["finance"] }
        ]
    })
}

fn approver() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(vec!["u1", "u2", "u3", "u4"]).prop_map(|u| json!({ "user": u })),
        1 => Just(json!({ "role": "approver" })),
        1 => Just(json!("manager")),
        1 => subsequence(vec!["u1", "u2", "u3", "u4", "u5"], 1..4).prop_map(|us| json!({ "any_of": us })),
    ]
}

fn rule_condition() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(CATEGORIES.to_vec()).prop_map(|c| json!({ "field": "order.categories", "op": "contains", "value": { "text": c } })),
        Just(json!({ "field": "order.payment_method", "op": "in", "value": { "list": ["invoice"] } })),
        prop::sample::select(vec!["na", "emea", "berlin"]).prop_map(|u| json!({ "field": "order.business_unit", "op": "within", "value": { "text": u } })),
        (1u32..6).prop_map(|n| json!({ "field": "order.sku_count", "op": ">=", "value": { "number": n.to_string() } })),
        Just(json!({ "not": { "field": "buyer.roles", "op": "contains", "value": { "text": "approver" } } })),
    ]
}

/// An approval policy over [`directory`], with thresholds and limits mostly in `currency`.
pub fn policy(currency: &'static str) -> impl Strategy<Value = Value> {
    let other = if currency == "USD" { "EUR" } else { "USD" };
    let threshold = (
        prop::sample::select(vec![500, 1000, 2000, 3000, 5000, 10000]),
        prop::bool::weighted(0.1),
        approver(),
        prop::option::weighted(0.25, rule_condition()),
    );
    (
        prop_oneof![Just("highest"), Just("escalation"), Just("any")],
        prop::collection::vec(threshold, 1..6),
        prop::collection::vec((rule_condition(), approver()), 0..3),
        prop::option::weighted(0.4, (prop::sample::select(vec!["day", "month", "year"]), 1000i64..20000, prop::bool::ANY)),
        prop::option::of(prop_oneof![Just(json!("block")), approver().prop_map(|a| json!({ "approval": a }))]),
        prop::option::weighted(0.6, approver()),
    )
        .prop_map(move |(mode, thresholds, conditions, limit, over_credit, fallback)| {
            let mut rules = Vec::new();
            for (i, (amount, eur, approver, when)) in thresholds.into_iter().enumerate() {
                let mut r = json!({ "id": format!("t{i}"), "name": format!("Level {i}"), "min_total": { "amount": format!("{amount}.00"), "currency": if eur { other } else { currency } }, "approver": approver });
                if let Some(w) = when {
                    r["when"] = w;
                }
                rules.push(r);
            }
            for (i, (when, approver)) in conditions.into_iter().enumerate() {
                rules.push(json!({ "id": format!("c{i}"), "name": format!("Condition {i}"), "when": when, "approver": approver }));
            }
            let mut p = json!({ "name": "Generated", "mode": mode, "rules": rules });
            if let Some((period, amount, block)) = limit {
                p["spending_limits"] = json!([{ "id": "lim", "name": "Buyer limit", "applies_to": { "role": "buyer" }, "period": period, "amount": { "amount": format!("{amount}.00"), "currency": currency }, "on_exceed": if block { json!("block") } else { json!({ "approval": "manager" }) } }]);
            }
            if let Some(o) = over_credit {
                p["over_credit"] = o;
            }
            if let Some(f) = fallback {
                p["fallback"] = f;
            }
            p
        })
}

/// A checkout request in `currency` against [`pricing_data`] and [`policy`].
pub fn checkout_request(currency: &'static str) -> impl Strategy<Value = Value> {
    let customer = if currency == "USD" {
        prop_oneof![
            Just(json!({ "id": "c1", "group": "wholesale", "country": "US", "region": "NY" })),
            Just(json!({ "id": "c2", "country": "US", "region": "TX" })),
            Just(json!({ "id": "c4", "group": "wholesale", "country": "DE" })),
        ]
        .boxed()
    } else {
        prop_oneof![
            Just(json!({ "id": "c3", "country": "DE" })),
            Just(json!({ "id": "c5", "country": "US", "region": "NY" }))
        ]
        .boxed()
    };
    let lines = subsequence(SKUS.to_vec(), 1..8).prop_flat_map(|skus| {
        let n = skus.len();
        (Just(skus), prop::collection::vec(prop_oneof![1u32..20, 1u32..300], n))
    });
    let discount = prop_oneof![
        3 => Just(Value::Null),
        1 => (1u32..30, prop::option::of(10i64..500)).prop_map(|(p, cap)| match cap {
            Some(c) => json!({ "percent": p.to_string(), "cap": format!("{c}.00") }),
            None => json!({ "percent": p.to_string() }),
        }),
        1 => (1i64..100_000).prop_map(|c| json!({ "amount": format!("{}.{:02}", c / 100, c % 100), "label": "Goodwill" })),
    ];
    let shipping = prop::option::of((0i64..20_000, prop::bool::ANY)).prop_map(|s| {
        s.map(|(c, taxed)| {
            let mut v = json!({ "amount": format!("{}.{:02}", c / 100, c % 100) });
            if taxed {
                v["tax_class"] = json!("standard");
            }
            v
        })
    });
    let buyer =
        prop::sample::select(vec![("b1", "ny"), ("b2", "berlin"), ("u2", "acme"), ("u1", "na")]);
    let funds = prop_oneof![
        2 => Just(Value::Null),
        1 => (0i64..50_000, 0i64..50_000).prop_map(move |(l, o)| json!({ "credit": { "limit": { "amount": format!("{l}.00"), "currency": currency }, "open_balance": { "amount": format!("{o}.00"), "currency": currency } } })),
        1 => (0i64..20_000).prop_map(move |c| json!({ "card": { "capacity": { "amount": format!("{c}.00"), "currency": currency } } })),
    ];
    (customer, lines, discount, shipping, buyer, prop_oneof![Just("invoice"), Just("card")], funds, 0i64..10_000, prop::option::weighted(0.2, Just(())))
        .prop_map(move |(customer, (skus, quantities), discount, shipping, (buyer, unit), payment, funds, spent, negotiated)| {
            let lines: Vec<Value> = skus.iter().zip(quantities).map(|(s, q)| json!({ "sku": s, "quantity": q })).collect();
            let mut cart = json!({ "currency": currency, "date": "2026-11-21", "customer": customer, "lines": lines });
            if !discount.is_null() {
                cart["discount"] = discount;
            }
            if let Some(s) = shipping {
                cart["shipping"] = s;
            }
            if negotiated.is_some() {
                cart["negotiated"] = json!([{ "sku": skus[0], "unit_price": "9.99", "quote": "Q-1" }]);
            }
            let mut request = json!({
                "cart": cart,
                "buyer": buyer,
                "business_unit": unit,
                "payment_method": payment,
                "spent": [{ "limit": "lim", "amount": { "amount": format!("{}.00", spent), "currency": currency } }]
            });
            if !funds.is_null() {
                request["funds"] = funds;
            }
            request
        })
}

/// A group of checkouts in one currency sharing pricing data and a policy.
pub fn checkout_batch(size: usize) -> impl Strategy<Value = Value> {
    prop_oneof![2 => Just("USD"), 1 => Just("EUR")].prop_flat_map(move |currency| {
        (pricing_data(), policy(currency), prop::collection::vec(checkout_request(currency), size))
            .prop_map(|(data, policy, requests)| json!({ "data": data, "policy": policy, "directory": directory(), "requests": requests }))
    })
}

fn field_and_value() -> impl Strategy<Value = Value> {
    let text = "[a-z \"\\\\\n\u{e9}\u{1}]{0,8}";
    prop_oneof![
        (prop::sample::select(vec!["order.total", "order.subtotal", "order.shipping"]), -1_000_000i64..10_000_000, 0u32..4, prop::sample::select(vec!["USD", "EUR", "JPY", "BHD"]), prop::sample::select(vec!["=", "!=", "<", "<=", ">", ">="]))
            .prop_map(|(f, m, scale, cur, op)| {
                let d = rules_decimal(m, scale);
                json!({ "field": f, "op": op, "value": { "money": { "amount": d, "currency": cur } } })
            }),
        (-100_000i64..100_000, 0u32..3, prop::sample::select(vec!["<", ">=", "="])).prop_map(|(m, s, op)| json!({ "field": "order.sku_count", "op": op, "value": { "number": rules_decimal(m, s) } })),
        (0i64..2_000_000_000, prop::sample::select(vec![">=", "<"])).prop_map(|(ms, op)| json!({ "field": "order.state_age", "op": op, "value": { "duration": duration_text(ms) } })),
        text.prop_map(|t| json!({ "field": "order.payment_method", "op": "=", "value": { "text": t } })),
        prop::collection::vec(text, 0..3).prop_map(|ts| json!({ "field": "order.payment_method", "op": "in", "value": { "list": ts } })),
        text.prop_map(|t| json!({ "field": "order.categories", "op": "contains", "value": { "text": t } })),
        "[a-z]{1,6}".prop_map(|t| json!({ "field": "order.business_unit", "op": "within", "value": { "text": t } })),
        prop::bool::ANY.prop_map(|b| json!({ "field": "order.flag", "op": "!=", "value": { "bool": b } })),
    ]
}

fn rules_decimal(mantissa: i64, scale: u32) -> String {
    let sign = if mantissa < 0 { "-" } else { "" };
    let digits = mantissa.unsigned_abs().to_string();
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale as usize + 1);
    let (whole, frac) = padded.split_at(padded.len() - scale as usize);
    format!("{sign}{whole}.{frac}")
}

fn duration_text(ms: i64) -> String {
    rules::time::Duration::from_millis(ms).to_string()
}

/// A condition in canonical form (no group of one).
pub fn condition() -> impl Strategy<Value = Value> {
    field_and_value().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|items| json!({ "all": items })),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|items| json!({ "any": items })),
            inner.clone().prop_map(|c| json!({ "not": c })),
            Just(json!({ "all": [] })),
            Just(json!({ "any": [] })),
        ]
    })
}

/// A workflow definition: a chain of 2 to 8 states from the start to a terminal state, plus
/// random extra transitions with guards, timers and events. Some are invalid (unknown roles,
/// transitions out of the terminal state), which is the point: validation must agree too.
pub fn workflow_definition() -> impl Strategy<Value = Value> {
    (2usize..8).prop_flat_map(|n| {
        let trigger = prop_oneof![
            3 => Just(json!("manual")),
            1 => Just(json!({ "event": "order.updated" })),
            2 => (1i64..10).prop_map(|d| json!({ "timer": { "after": format!("{d}d") } })),
        ];
        let role = prop_oneof![10 => prop::sample::select(vec!["buyer", "approver", "sales_rep"]), 1 => Just("nobody")];
        let extra = (0..n, 0..n, trigger, prop::option::weighted(0.6, condition()), role);
        (Just(n), prop::collection::vec(extra, 0..(n * 2)), prop::bool::weighted(0.05))
    })
    .prop_map(|(n, extras, from_terminal)| {
        let last = n - 1;
        let states: Vec<Value> = (0..n)
            .map(|i| json!({ "id": format!("s{i}"), "label": format!("State {i}"), "start": i == 0, "terminal": i == last }))
            .collect();
        let mut transitions: Vec<Value> = (0..last)
            .map(|i| json!({ "id": format!("next{i}"), "from": format!("s{i}"), "to": format!("s{}", i + 1), "label": "Next", "roles": ["buyer"] }))
            .collect();
        for (i, (from, to, trigger, guard, role)) in extras.into_iter().enumerate() {
            let from = if from == last && !from_terminal { 0 } else { from };
            let mut t = json!({ "id": format!("t{i}"), "from": format!("s{from}"), "to": format!("s{to}"), "label": format!("Go {to}"), "roles": [role], "trigger": trigger });
            if let Some(g) = guard {
                t["guard"] = g;
            }
            transitions.push(t);
        }
        json!({
            "id": "generated", "version": 1, "name": "Generated", "entity": "order",
            "fields": [{ "path": "order.flag", "type": "bool" }],
            "states": states, "transitions": transitions
        })
    })
}

/// Facts for an order instance.
pub fn order_fields() -> impl Strategy<Value = Value> {
    (0i64..10_000_000, prop::bool::ANY, prop::sample::select(vec!["invoice", "card"])).prop_map(|(cents, flag, pm)| {
        json!({
            "order.total": { "money": { "amount": rules_decimal(cents, 2), "currency": "USD" } },
            "order.sku_count": { "number": (cents % 13).to_string() },
            "order.payment_method": { "text": pm },
            "order.categories": { "list": ["tools", "safety"] },
            "order.business_unit": { "list": ["berlin", "emea", "acme"] },
            "order.flag": { "bool": flag }
        })
    })
}
