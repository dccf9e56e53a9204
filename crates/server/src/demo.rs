//! The demo: the seller (a tool maker), the company of seed 001 (approvers at 2,000 / 3,000 /
//! 5,000 USD, a business-unit tree, buyers, a company admin) and a German customer paying VAT,
//! about 50 products with price lists and volume tiers, US sales tax and EU VAT, the seed
//! order workflow with two draft orders on it, and Acme's own order workflow (orders shipped by
//! the back office after approval), and a few of Pat's orders placed through checkout: one
//! waiting for Avery, one she approved, one Casey rejected and one that needed no approval.

use crate::db;
use crate::{
    AppState, auth, catalog, companies,
    error::{ApiError, Json, Path, Query},
    instances,
    orders::{self, Decision},
    seed::{self, NewCompany, NewUser},
    util, workflows,
};
use axum::extract::State;
use rules::time::Timestamp;
use serde_json::json;

/// Every demo user's password.
pub const PASSWORD: &str = "countersign-demo";

/// A demo login, for the start-up message.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub email: &'static str,
    pub who: &'static str,
}

pub const LOGINS: [DemoLogin; 10] = [
    DemoLogin { email: "pat@acme.example", who: "Pat Buyer, buyer at Acme (New York office)" },
    DemoLogin {
        email: "avery@acme.example",
        who: "Avery Chen, Approver 1 (orders of 2,000 USD or more, North America); order 1004 waits for her",
    },
    DemoLogin {
        email: "blake@acme.example",
        who: "Blake Diaz, Approver 2 (3,000 USD or more); also a buyer",
    },
    DemoLogin { email: "casey@acme.example", who: "Casey Evans, Approver 3 (5,000 USD or more)" },
    DemoLogin {
        email: "dana@acme.example",
        who: "Dana Admin, Acme's company admin (edits the approval policy, manages Acme's people)",
    },
    DemoLogin { email: "sam@acme.example", who: "Sam Safety, approves hazardous goods" },
    DemoLogin {
        email: "robin@acme.example",
        who: "Robin Cash, finance (orders above available credit)",
    },
    DemoLogin {
        email: "kim@berlin-werk.example",
        who: "Kim Keller, buyer at Berlin Werk GmbH (EUR, German VAT)",
    },
    DemoLogin {
        email: "rita@toolmaker.example",
        who: "Rita Rep, the seller's sales rep, Acme's account manager",
    },
    DemoLogin {
        email: "sol@toolmaker.example",
        who: "Sol Seller, the seller's admin (prices and catalog, workflows, the seller's staff)",
    },
];

const FAMILIES: [(&str, &str, &str, u32); 10] = [
    ("DRL", "Cordless drill", "power-tools", 189),
    ("SAW", "Circular saw", "power-tools", 249),
    ("GRD", "Angle grinder", "power-tools", 129),
    ("BIT", "Drill bit set", "accessories", 25),
    ("BLD", "Saw blade", "accessories", 39),
    ("GLV", "Work gloves", "safety", 5),
    ("HLM", "Safety helmet", "safety", 29),
    ("SOL", "Solvent cleaner", "chemicals", 38),
    ("SCR", "Wood screws (box)", "fasteners", 12),
    ("MAN", "Printed manual", "books", 12),
];

const VARIANTS: [(&str, u32); 5] = [("S", 80), ("M", 100), ("L", 125), ("XL", 150), ("PRO", 210)];

/// About 50 products: ten families in five variants.
/// The seller's catalog and prices; the wholesale list runs from the start of `year` to the
/// end of the next.
fn pricing(year: i32) -> serde_json::Value {
    let mut catalog = Vec::new();
    let mut usd = Vec::new();
    let mut eur = Vec::new();
    let mut wholesale = Vec::new();
    let mut contract = Vec::new();
    for (code, name, category, base) in FAMILIES {
        for (variant, percent) in VARIANTS {
            let sku = format!("{code}-{variant}");
            let tax_class = if category == "books" { "reduced" } else { "standard" };
            catalog.push(json!({ "sku": sku, "name": format!("{name} {variant}"), "category": category, "tax_class": tax_class }));
            let cents = u64::from(base) * u64::from(percent);
            let money = |c: u64| format!("{}.{:02}", c / 100, c % 100);
            let tier = |c: u64, off: u64| money(c * (100 - off) / 100 / 10 * 10 + 9);
            usd.push(json!({ "sku": sku, "tiers": [
                { "min_quantity": 1, "unit_price": tier(cents, 0) },
                { "min_quantity": 10, "unit_price": tier(cents, 8) },
                { "min_quantity": 50, "unit_price": tier(cents, 15) } ] }));
            eur.push(json!({ "sku": sku, "tiers": [
                { "min_quantity": 1, "unit_price": tier(cents * 92 / 100, 0) },
                { "min_quantity": 10, "unit_price": tier(cents * 92 / 100, 8) } ] }));
            if category == "accessories" || category == "fasteners" {
                wholesale.push(json!({ "sku": sku, "tiers": [{ "min_quantity": 1, "unit_price": tier(cents, 20) }] }));
            }
            if code == "DRL" {
                contract.push(json!({ "sku": sku, "tiers": [{ "min_quantity": 1, "unit_price": tier(cents, 21) }] }));
            }
        }
    }
    json!({
        "catalog": catalog,
        "price_lists": [
            { "id": "list-usd", "name": "Standard USD", "audience": "default", "currency": "USD", "prices": usd },
            { "id": "list-eur", "name": "Standard EUR (net)", "audience": "default", "currency": "EUR", "prices": eur },
            { "id": format!("wholesale-{year}"), "name": format!("Wholesale {year}"), "audience": { "group": "wholesale" }, "currency": "USD", "valid_from": format!("{year}-01-01"), "valid_until": format!("{}-12-31", year + 1), "prices": wholesale },
            { "id": "acme-contract", "name": "Acme contract", "audience": { "customer": "ACME" }, "currency": "USD", "prices": contract }
        ],
        "tax_rules": [
            { "id": "us-ny", "name": "NY sales tax", "kind": "sales_tax", "country": "US", "region": "NY", "tax_class": "standard", "percent": "8.875" },
            { "id": "us-ny-books", "name": "NY sales tax (books)", "kind": "sales_tax", "country": "US", "region": "NY", "tax_class": "reduced", "percent": "4" },
            { "id": "us-tx", "name": "TX sales tax", "kind": "sales_tax", "country": "US", "region": "TX", "tax_class": "standard", "percent": "6.25" },
            { "id": "de-vat", "name": "German VAT", "kind": "vat", "country": "DE", "tax_class": "standard", "percent": "19" },
            { "id": "de-vat-reduced", "name": "German VAT, reduced", "kind": "vat", "country": "DE", "tax_class": "reduced", "percent": "7" },
            { "id": "fr-vat", "name": "French VAT", "kind": "vat", "country": "FR", "tax_class": "standard", "percent": "20" }
        ],
        "rounding": { "mode": "per_line", "rounding": "half_up" }
    })
}

/// What [`load`] found and did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loaded {
    /// The database was empty: the demo is in it now.
    Now,
    /// The database already had data (a demo or not), which was left as it was.
    Before,
    /// An earlier load was interrupted (the process stopped half way): the database holds part
    /// of the demo, which is left as it was; only a new database gets the whole demo.
    Interrupted,
}

/// The `server_state` key that says how far the demo's load went.
const DEMO_KEY: &str = "demo";

/// Loads the demo into an empty database; does nothing if companies exist.
///
/// The demo is written by the app's own handlers, in many transactions: a marker says
/// "loading" before the first and "loaded" after the last, so that a start after an
/// interrupted load says so rather than serving a demo without its policy or orders.
pub async fn load(state: &AppState) -> Result<Loaded, ApiError> {
    let marker: Option<String> = db::query("SELECT value FROM server_state WHERE key = $1")
        .bind(DEMO_KEY)
        .fetch_optional(&state.db.read)
        .await?
        .map(|row| row.try_get("value"))
        .transpose()?;
    if marker.as_deref() == Some("loading") {
        return Ok(Loaded::Interrupted);
    }
    let companies: i64 = db::query("SELECT COUNT(*) AS n FROM companies")
        .fetch_one(&state.db.read)
        .await?
        .try_get("n")?;
    if companies > 0 {
        return Ok(Loaded::Before);
    }
    db::query("INSERT INTO server_state (key, value) VALUES ($1, 'loading')")
        .bind(DEMO_KEY)
        .execute(&state.db.write)
        .await?;
    write(state).await?;
    db::query("UPDATE server_state SET value = 'loaded' WHERE key = $1")
        .bind(DEMO_KEY)
        .execute(&state.db.write)
        .await?;
    Ok(Loaded::Now)
}

/// Writes the demo: companies, people, prices, the policy, workflows and Pat's orders.
async fn write(state: &AppState) -> Result<(), ApiError> {
    let s = state;
    let seller = seed::company(
        s,
        NewCompany {
            name: "Toolmaker Inc.",
            seller: true,
            customer_group: None,
            country: "US",
            region: Some("NY"),
            currency: "USD",
        },
    )
    .await?;
    // The Acme company has a fixed id, so that its contract price list can name it.
    let acme = "ACME";
    db::query("INSERT INTO companies (id, name, kind, customer_group, country, region, currency, credit_limit, open_balance, created_at) VALUES ($1, $2, 'customer', 'wholesale', 'US', 'NY', 'USD', '25000.00', '3500.00', $3)")
        .bind(acme)
        .bind("Acme Corp")
        .bind(util::now().millis())
        .execute(&s.db.write)
        .await?;
    let berlin = seed::company(
        s,
        NewCompany {
            name: "Berlin Werk GmbH",
            seller: false,
            customer_group: None,
            country: "DE",
            region: None,
            currency: "EUR",
        },
    )
    .await?;
    let root = seed::unit(s, acme, "Acme Corp", None).await?;
    let na = seed::unit(s, acme, "North America", Some(&root)).await?;
    let ny = seed::unit(s, acme, "New York office", Some(&na)).await?;
    let emea = seed::unit(s, acme, "EMEA", Some(&root)).await?;
    seed::unit(s, acme, "London office", Some(&emea)).await?;
    let user = |company: &str,
                email: &'static str,
                name: &'static str,
                roles: &'static [&'static str],
                unit: Option<String>,
                manager: Option<String>| {
        let company = company.to_owned();
        async move {
            seed::user(
                s,
                NewUser {
                    company_id: &company,
                    email,
                    name,
                    password: PASSWORD,
                    roles,
                    unit_id: unit.as_deref(),
                    manager_id: manager.as_deref(),
                },
            )
            .await
        }
    };
    let dana =
        user("ACME", "dana@acme.example", "Dana Admin", &["company_admin"], None, None).await?;
    let avery = user(
        "ACME",
        "avery@acme.example",
        "Avery Chen",
        &["approver"],
        Some(na.clone()),
        Some(dana.clone()),
    )
    .await?;
    let blake = user(
        "ACME",
        "blake@acme.example",
        "Blake Diaz",
        &["approver", "buyer"],
        None,
        Some(dana.clone()),
    )
    .await?;
    let casey =
        user("ACME", "casey@acme.example", "Casey Evans", &["approver"], None, None).await?;
    let pat = user(
        "ACME",
        "pat@acme.example",
        "Pat Buyer",
        &["buyer"],
        Some(ny.clone()),
        Some(avery.clone()),
    )
    .await?;
    user("ACME", "sam@acme.example", "Sam Safety", &["safety"], None, None).await?;
    user("ACME", "robin@acme.example", "Robin Cash", &["finance"], None, None).await?;
    user(&berlin, "kim@berlin-werk.example", "Kim Keller", &["buyer", "company_admin"], None, None)
        .await?;
    let rita =
        user(&seller, "rita@toolmaker.example", "Rita Rep", &["sales_rep"], None, None).await?;
    // Rita manages the Acme account; Berlin Werk has no account manager of its own.
    db::query("UPDATE companies SET sales_rep_id = $1 WHERE id = $2")
        .bind(&rita)
        .bind(acme)
        .execute(&s.db.write)
        .await?;
    user(
        &seller,
        "sol@toolmaker.example",
        "Sol Seller",
        &["seller_admin", "back_office"],
        None,
        None,
    )
    .await?;
    // The year of the oldest demo order (placed six days ago), so that all of them see the
    // wholesale list, whenever the demo is loaded.
    let year = Timestamp::from_millis(util::now().millis() - 7 * 86_400_000).date().ymd().0;
    let data = serde_json::from_value(pricing(year)).map_err(ApiError::internal)?;
    catalog::publish(s, &data, None).await?;
    let usd = |a: &str| json!({ "amount": a, "currency": "USD" });
    let policy = serde_json::from_value(json!({
        "name": "Acme purchasing approvals",
        "mode": "highest",
        "rules": [
            { "id": "approver-1", "name": "Approver 1", "min_total": usd("2000.00"), "approver": { "user": avery } },
            { "id": "approver-2", "name": "Approver 2", "min_total": usd("3000.00"), "approver": { "user": blake } },
            { "id": "approver-3", "name": "Approver 3", "min_total": usd("5000.00"), "approver": { "user": casey } },
            { "id": "hazmat", "name": "Hazardous goods", "when": { "field": "order.categories", "op": "contains", "value": { "text": "chemicals" } }, "approver": { "role": "safety" } }
        ],
        "spending_limits": [{ "id": "buyer-monthly", "name": "Buyer monthly budget", "applies_to": { "role": "buyer" }, "period": "month", "amount": usd("40000.00"), "on_exceed": { "approval": "manager" } }],
        "over_credit": { "approval": { "role": "finance" } },
        "fallback": { "role": "company_admin" }
    }))
    .map_err(ApiError::internal)?;
    companies::save_policy(s, acme, &policy, None).await?;
    demo_workflow(s, acme).await?;
    // Acme's orders run on a workflow of the seller's own: the built-in one, and after approval
    // the back office (Sol) ships them. Berlin Werk's run on the built-in workflow.
    let acme_orders = serde_json::from_str(include_str!("../demo/acme-order-workflow.json"))
        .map_err(ApiError::internal)?;
    workflows::publish_directly(s, acme_orders, None).await?;
    demo_orders(s, &pat, &avery, &casey).await
}

/// One of Pat's demo orders: when it was placed, its lines, and who decided its first step.
struct DemoOrder<'a> {
    hours_ago: i64,
    lines: &'a [(&'a str, u32)],
    decision: Option<DemoDecision<'a>>,
}

/// A decision on a demo order's first step: by whom, how, with what comment, and when.
struct DemoDecision<'a> {
    approver: &'a str,
    decision: Decision,
    comment: &'a str,
    hours_ago: i64,
}

/// The server's preview of a cart, as `GET /api/checkout/preview` answers it.
#[derive(serde::Deserialize)]
struct Preview {
    pricing_version: i64,
    policy_version: i64,
    verdict: rules::CheckoutVerdict,
}

/// Pat's orders, placed and decided through the same handlers as the app's requests, so the
/// server's own pricing and routing make their plans: one Avery (Approver 1) approved, one
/// Casey (Approver 3) rejected back to Pat, a small one that needed no approval, and one
/// waiting for Avery. They were placed over the past week (the handlers run with the clock set
/// back), so their dates, histories and notifications read as they would. Their notifications
/// are read, but for Avery's pending approval.
async fn demo_orders(s: &AppState, pat: &str, avery: &str, casey: &str) -> Result<(), ApiError> {
    let as_user = |id: &str| {
        let id = id.to_owned();
        async move {
            auth::load_caller(s, &id, auth::Via::Token)
                .await?
                .ok_or_else(|| ApiError::internal("a demo user without a row"))
        }
    };
    let buyer = as_user(pat).await?;
    let orders = [
        DemoOrder {
            hours_ago: 6 * 24 + 2,
            lines: &[("GRD-L", 10), ("BIT-L", 20), ("GLV-M", 30)],
            decision: Some(DemoDecision {
                approver: avery,
                decision: Decision::Approve,
                comment: "Approved for the Queens site.",
                hours_ago: 5 * 24 + 20,
            }),
        },
        DemoOrder {
            hours_ago: 4 * 24 + 5,
            lines: &[("SAW-XL", 14), ("HLM-M", 12), ("SCR-M", 40)],
            decision: Some(DemoDecision {
                approver: casey,
                decision: Decision::Reject,
                comment: "Too much at once: please split it over two months.",
                hours_ago: 3 * 24 + 1,
            }),
        },
        DemoOrder { hours_ago: 2 * 24 + 3, lines: &[("BLD-M", 10), ("GLV-S", 25)], decision: None },
        DemoOrder {
            hours_ago: 3,
            lines: &[("DRL-M", 12), ("BIT-M", 10), ("GLV-L", 20)],
            decision: None,
        },
    ];
    const HOUR_MS: i64 = 3_600_000;
    for (i, order) in orders.into_iter().enumerate() {
        let placing = async {
            let lines: Vec<_> = order
                .lines
                .iter()
                .map(|(sku, quantity)| json!({ "sku": sku, "quantity": quantity }))
                .collect();
            let cart = from_json(json!({ "lines": lines }))?;
            orders::put_cart(State(s.clone()), buyer.clone(), Json(cart)).await?;
            let query = Query(from_json(json!({}))?);
            let Json(preview) = orders::preview(State(s.clone()), buyer.clone(), query).await?;
            let Preview { pricing_version, policy_version, verdict } = from_json(preview)?;
            let claimed = orders::Claimed {
                pricing_version,
                policy_version,
                total: verdict.priced.total,
                lines: verdict
                    .priced
                    .lines
                    .iter()
                    .map(|l| orders::ClaimedLine {
                        sku: l.sku.clone(),
                        quantity: l.quantity,
                        unit_price: l.unit_price,
                    })
                    .collect(),
                approvers: verdict
                    .plan
                    .steps
                    .iter()
                    .map(|step| step.candidates.iter().map(ToString::to_string).collect())
                    .collect(),
            };
            let submission = orders::Submission {
                idempotency_key: format!("demo-{i}"),
                payment_method: Some(
                    rules::ids::PaymentMethod::parse("invoice").map_err(ApiError::internal)?,
                ),
                claimed,
            };
            let (_, Json(placed)) =
                orders::submit(State(s.clone()), buyer.clone(), Json(submission)).await?;
            Ok::<_, ApiError>(placed)
        };
        let placed = util::in_the_past(order.hours_ago * HOUR_MS, placing).await?;
        let Some(decided) = order.decision else { continue };
        let step = placed
            .steps
            .first()
            .ok_or_else(|| ApiError::internal("a demo order to decide needs no approval"))?;
        let input = orders::DecisionInput {
            step_id: step.id.clone(),
            decision: decided.decision,
            comment: decided.comment.to_owned(),
            revision: placed.revision,
        };
        let approver = as_user(decided.approver).await?;
        let deciding = orders::decide(State(s.clone()), approver, Path(placed.id), Json(input));
        util::in_the_past(decided.hours_ago * HOUR_MS, deciding).await?;
    }
    // Everyone has read what these orders told them, except the approval still waited for.
    db::query(
        "UPDATE notifications SET read_at = $1 WHERE read_at IS NULL
         AND order_id NOT IN (SELECT id FROM orders WHERE state = $2)",
    )
    .bind(util::now().millis())
    .bind(orders::AWAITING_APPROVAL)
    .execute(&s.db.write)
    .await?;
    Ok(())
}

fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(ApiError::internal)
}

/// The seed workflow (an order of 50,000 USD or more still unsubmitted after 7 days alerts its
/// sales rep), published, and two of Acme's draft orders on it. So that the alert can be seen
/// without waiting a week, the big one is loaded as if drafted 7 days ago less two minutes: its
/// timer fires about two minutes after the demo data is first loaded (DEMO-BIG-ORDER). The
/// small one's timer falls due at the same time, and is skipped: its total is below the guard.
async fn demo_workflow(s: &AppState, acme: &str) -> Result<(), ApiError> {
    let def = serde_json::from_str(include_str!("../demo/order-workflow.json"))
        .map_err(ApiError::internal)?;
    workflows::publish_directly(s, def, None).await?;
    let pat: String = db::query("SELECT id FROM users WHERE email = 'pat@acme.example'")
        .fetch_one(&s.db.read)
        .await?
        .try_get("id")?;
    let customer = rules::ids::CustomerId::parse(acme).map_err(ApiError::internal)?;
    let group = rules::ids::GroupId::parse("wholesale").map_err(ApiError::internal)?;
    let week_less_two_minutes = 7 * 86_400_000 - 2 * 60_000;
    let drafted = Timestamp::from_millis(util::now().millis() - week_less_two_minutes);
    for (entity_id, total) in [("DEMO-BIG-ORDER", "62400.00"), ("DEMO-SMALL-ORDER", "1840.00")] {
        let fields = serde_json::from_value(json!({
            "order.total": { "money": { "amount": total, "currency": "USD" } }
        }))
        .map_err(ApiError::internal)?;
        instances::begin(
            s,
            acme,
            instances::Started {
                entity: rules::workflow::Entity::Order,
                entity_id,
                customer: &customer,
                group: Some(&group),
                fields,
                by: Some(&pat),
                at: drafted,
            },
        )
        .await?;
    }
    Ok(())
}
