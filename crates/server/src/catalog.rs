//! The catalog and prices: the seller's pricing data (products, price lists with tiers, tax
//! rules) as versioned documents. Seller admins replace the document; every change is a new
//! version; everyone else reads the current one.

use crate::db;
use crate::orders;
use crate::{
    AppState,
    auth::Caller,
    error::{ApiError, Json, Query},
    util::now,
};
use axum::{extract::State, http::StatusCode};
use rules::{
    money::Money,
    pricing::{Audience, NextTier, PriceBreak, PricingContext, PricingData},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// The current pricing data, checked and indexed, and its version.
pub async fn current(state: &AppState) -> Result<(i64, Arc<PricingContext>), ApiError> {
    let version: Option<i64> = db::query("SELECT MAX(version) AS v FROM pricing_versions")
        .fetch_one(&state.db.read)
        .await?
        .try_get("v")?;
    if let Some(version) = version {
        seen(state, version)?;
    }
    let ctx = at_version(state, version).await?;
    Ok((version.unwrap_or_default(), ctx))
}

/// How old the version [`recent`] answers may be.
const RECENT: std::time::Duration = std::time::Duration::from_secs(1);

/// The pricing data as of at most a second ago: the latest version this instance read or
/// published in that time, else the current one. For checks that nothing relies on, like a
/// saved cart's (its products are in the catalog): a cart may always hold a product that a
/// version published since removed (the cart shows it, submission refuses it), so a check a
/// second late cannot let anything through that submission, which reads the current version,
/// would accept. Under load it saves a query per cart save.
pub async fn recent(state: &AppState) -> Result<Arc<PricingContext>, ApiError> {
    let latest = *state.pricing_latest.read().map_err(ApiError::internal)?;
    match latest {
        Some((read_at, version)) if read_at.elapsed() < RECENT => {
            at_version(state, Some(version)).await
        }
        _ => Ok(current(state).await?.1),
    }
}

/// Notes that `version` is the latest as of now (never going back to an older one).
fn seen(state: &AppState, version: i64) -> Result<(), ApiError> {
    let mut latest = state.pricing_latest.write().map_err(ApiError::internal)?;
    let newest = latest.map_or(version, |(_, v)| v.max(version));
    *latest = Some((std::time::Instant::now(), newest));
    Ok(())
}

/// How many versions of the pricing data [`at_version`] keeps.
const PRICING_VERSIONS_CACHED: usize = 4;

/// The pricing data of one version, cached by version, so several server instances on one
/// database stay in step. `None` (nothing published yet) is an error for the client.
pub async fn at_version(
    state: &AppState,
    version: Option<i64>,
) -> Result<Arc<PricingContext>, ApiError> {
    let Some(version) = version else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_catalog",
            "the seller has not published a catalog yet",
        ));
    };
    let cached = |cache: &[(i64, Arc<PricingContext>)]| {
        cache.iter().find(|(v, _)| *v == version).map(|(_, ctx)| ctx.clone())
    };
    if let Some(ctx) = cached(&state.pricing_cache.read().map_err(ApiError::internal)?) {
        return Ok(ctx);
    }
    let document: String = db::query("SELECT document FROM pricing_versions WHERE version = $1")
        .bind(version)
        .fetch_one(&state.db.read)
        .await?
        .try_get("document")?;
    let data: PricingData = serde_json::from_str(&document).map_err(ApiError::internal)?;
    let ctx = Arc::new(
        PricingContext::new(data)
            .map_err(|p| ApiError::internal(format!("stored pricing data is invalid: {p:?}")))?,
    );
    let mut cache = state.pricing_cache.write().map_err(ApiError::internal)?;
    if let Some(ctx) = cached(&cache) {
        return Ok(ctx);
    }
    // The newest versions stay: the current one, which checkout and the catalog read, and
    // the few before it that the pages of older orders read (their products' names).
    cache.push((version, ctx.clone()));
    cache.sort_unstable_by_key(|(v, _)| std::cmp::Reverse(*v));
    cache.truncate(PRICING_VERSIONS_CACHED);
    Ok(ctx)
}

/// Stores a new version of the pricing data (checked first). Returns the version.
pub async fn publish(
    state: &AppState,
    data: &PricingData,
    by: Option<&str>,
) -> Result<i64, ApiError> {
    if let Err(problems) = PricingContext::new(data.clone()) {
        return Err(ApiError::invalid("document", "the pricing data has problems")
            .with_details(json!({ "diagnostics": problems })));
    }
    let document = serde_json::to_string(data).map_err(ApiError::internal)?;
    let mut tx = state.db.write.begin().await?;
    let latest: Option<i64> = db::query("SELECT MAX(version) AS v FROM pricing_versions")
        .fetch_one(&mut tx)
        .await?
        .try_get("v")?;
    let version = latest.unwrap_or(0).saturating_add(1);
    db::query("INSERT INTO pricing_versions (version, document, created_at, created_by) VALUES ($1, $2, $3, $4)")
        .bind(version)
        .bind(document)
        .bind(now().millis())
        .bind(by)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    seen(state, version)?;
    Ok(version)
}

/// The pricing data a customer may see: every product and tax rule, and only the price lists
/// meant for everyone, for its group or for itself (never another customer's contract).
pub fn visible_to(data: &PricingData, customer: &str, group: Option<&str>) -> PricingData {
    let mut out = data.clone();
    out.price_lists.retain(|list| match &list.audience {
        Audience::Default => true,
        Audience::Group(g) => Some(g.as_str()) == group,
        Audience::Customer(c) => c.as_str() == customer,
    });
    out
}

#[derive(Debug, Deserialize)]
pub struct Search {
    /// Words to look for in SKUs, names and categories.
    #[serde(default)]
    pub q: String,
    /// Only the products of this category; empty for all.
    #[serde(default)]
    pub category: String,
}

#[derive(Debug, Serialize)]
pub struct CatalogProduct {
    pub sku: String,
    pub name: String,
    pub category: String,
    pub tax_class: String,
    /// For a buyer: the unit price of one, as checkout would price it (from the buyer's own
    /// price lists; VAT included where the list includes it); `None` when none of them prices
    /// the product (it cannot be ordered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// The next volume tier from one: from how many the unit price falls, and to what.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_tier: Option<NextTier>,
    /// For a buyer: every quantity from which the unit price changes, and the price from
    /// there (`rules::pricing::PricingContext::price_breaks`); empty when nothing prices it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<PriceBreak>,
}

/// `GET /api/catalog?q=&category=`: the products, searched, and the catalog's categories (all
/// of them, to choose from); for a buyer, with the buyer's prices, priced by `rules` as checkout
/// prices them.
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(search): Query<Search>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (version, ctx) = current(&state).await?;
    // Prices are for buyers; a buyer whose checkout cannot be priced (its company not set up
    // yet, say) still sees the products, without prices, as checkout would refuse them anyway.
    let buyer = if !caller.seller && caller.has("buyer") {
        orders::buyer_cart(&state, &caller)
            .await
            .inspect_err(|e| tracing::warn!(error = %e.message, "catalog without prices"))
            .ok()
    } else {
        None
    };
    let words: Vec<String> = search.q.split_whitespace().map(str::to_lowercase).collect();
    let category = search.category.trim();
    let products: Vec<CatalogProduct> = ctx
        .data()
        .catalog
        .iter()
        .filter(|p| category.is_empty() || p.category.as_str() == category)
        .filter(|p| {
            let text = format!("{} {} {}", p.sku, p.name, p.category).to_lowercase();
            words.iter().all(|w| text.contains(w.as_str()))
        })
        .map(|p| {
            let tiers =
                buyer.as_ref().map(|cart| ctx.price_breaks(cart, &p.sku)).unwrap_or_default();
            let price = tiers.first().filter(|b| b.min_quantity == 1).map(|b| b.unit_price);
            let next_tier = price
                .and(tiers.get(1))
                .map(|b| NextTier { min_quantity: b.min_quantity, unit_price: b.unit_price });
            CatalogProduct {
                sku: p.sku.to_string(),
                name: p.name.to_string(),
                category: p.category.to_string(),
                tax_class: p.tax_class.to_string(),
                price,
                next_tier,
                tiers,
            }
        })
        .collect();
    let categories: std::collections::BTreeSet<&str> =
        ctx.data().catalog.iter().map(|p| p.category.as_str()).collect();
    Ok(Json(json!({ "version": version, "products": products, "categories": categories })))
}

/// `GET /api/catalog/document`: the whole pricing data (seller staff only: it holds every
/// customer's contract prices).
pub async fn document(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !caller.seller {
        return Err(ApiError::forbidden("only the seller's staff see the whole pricing data"));
    }
    let (version, ctx) = current(&state).await?;
    Ok(Json(json!({ "version": version, "document": ctx.data() })))
}

/// `PUT /api/catalog/document`: replaces the pricing data (seller admins); a new version.
pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Json(data): Json<PricingData>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !caller.seller {
        return Err(ApiError::forbidden("only the seller's admins change prices"));
    }
    caller.require_any(&["seller_admin"])?;
    let version = publish(&state, &data, Some(&caller.user_id)).await?;
    Ok(Json(json!({ "version": version })))
}
