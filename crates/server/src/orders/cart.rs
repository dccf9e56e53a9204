//! The server-side cart of each buyer.

use super::*;

/// A cart line as clients send it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    pub sku: Sku,
    pub quantity: rules::pricing::Quantity,
}

pub(super) fn cart_lines(lines: &[LineInput]) -> Vec<CartLine> {
    lines.iter().map(|l| CartLine { sku: l.sku.clone(), quantity: l.quantity }).collect()
}

pub(super) async fn load_cart(state: &AppState, user_id: &str) -> Result<Vec<LineInput>, ApiError> {
    let row = db::query("SELECT lines FROM carts WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&state.db.read)
        .await?;
    match row {
        Some(r) => serde_json::from_str(&r.try_get::<String>("lines")?).map_err(ApiError::internal),
        None => Ok(vec![]),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartInput {
    pub lines: Vec<LineInput>,
    /// Who sends the save (one page, say: any text of its own) and its count of saves: a save
    /// of the writer that stored the cart last is applied only if it counts higher, so that
    /// an older save arriving late does not overwrite a newer one. Without them, the save
    /// is applied.
    #[serde(default)]
    pub writer: Option<String>,
    #[serde(default)]
    pub seq: Option<i64>,
}

/// `GET /api/cart`.
pub async fn get_cart(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    require_buyer(&caller)?;
    Ok(Json(json!({ "lines": load_cart(&state, &caller.user_id).await? })))
}

/// The most lines a cart or an order holds.
const MAX_LINES: usize = 500;
/// The most units of one SKU a line orders: more is a typing slip, not an order.
const MAX_QUANTITY: u32 = 1_000_000;

/// Lines a buyer sends (a cart, a changed order): at most [`MAX_LINES`], each SKU in the catalog
/// and once, each quantity at most [`MAX_QUANTITY`]; the error names the line and field.
pub(super) fn check_lines(
    lines: &[LineInput],
    pricing: &rules::pricing::PricingContext,
) -> Result<(), ApiError> {
    if lines.len() > MAX_LINES {
        return Err(ApiError::invalid("lines", format!("at most {MAX_LINES} lines")));
    }
    for (i, line) in lines.iter().enumerate() {
        if pricing.product(&line.sku).is_none() {
            return Err(ApiError::invalid(
                format!("lines[{i}].sku"),
                format!("\"{}\" is not in the catalog", line.sku),
            ));
        }
        if lines.iter().take(i).any(|l| l.sku == line.sku) {
            return Err(ApiError::invalid(
                format!("lines[{i}].sku"),
                format!("\"{}\" is already in the cart", line.sku),
            ));
        }
        if line.quantity.get() > MAX_QUANTITY {
            return Err(ApiError::invalid(
                format!("lines[{i}].quantity"),
                format!("at most {MAX_QUANTITY} units a line"),
            ));
        }
    }
    Ok(())
}

/// `PUT /api/cart`: replaces the cart's lines. Every SKU must be in the catalog, once. A save
/// older than the last one stored by the same writer is not applied (`applied: false`, with the
/// stored lines).
pub async fn put_cart(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CartInput>,
) -> Result<Json<Value>, ApiError> {
    require_buyer(&caller)?;
    let pricing = catalog::recent(&state).await?;
    check_lines(&body.lines, &pricing)?;
    match (&body.writer, body.seq) {
        (Some(w), _) if w.is_empty() || w.chars().count() > 64 => {
            return Err(ApiError::invalid("writer", "a writer is 1 to 64 characters"));
        }
        (Some(_), None) => return Err(ApiError::invalid("seq", "a writer's save needs its seq")),
        (None, Some(_)) => return Err(ApiError::invalid("writer", "a seq needs its writer")),
        _ => {}
    }
    let saved = db::query(
        "INSERT INTO carts (user_id, lines, updated_at, writer, writer_seq) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id) DO UPDATE SET lines = $2, updated_at = $3, writer = $4, writer_seq = $5
         WHERE carts.writer IS NULL OR $4 IS NULL OR carts.writer <> $4 OR carts.writer_seq < $5",
    )
    .bind(&caller.user_id)
    .bind(serde_json::to_string(&body.lines).map_err(ApiError::internal)?)
    .bind(now().millis())
    .bind(body.writer)
    .bind(body.seq)
    .execute(&state.db.write)
    .await?;
    if saved.rows_affected() == 0 {
        let stored = load_cart(&state, &caller.user_id).await?;
        return Ok(Json(json!({ "lines": stored, "applied": false })));
    }
    Ok(Json(json!({ "lines": body.lines, "applied": true })))
}
