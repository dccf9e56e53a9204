//! Lists that come a page at a time: the page size asked for, and the page cut from the rows
//! of a query. Each list has its own cursor (what its order is by), written as text in the
//! page's `next`.

use crate::{db, error::ApiError};
use std::fmt::Display;

/// A page size from the query: 50 unless asked, 1 to 200.
pub fn page_size(limit: Option<i64>) -> i64 {
    limit.unwrap_or(50).clamp(1, 200)
}

/// A page from the rows of a query that asked for `limit + 1` rows (the extra one only says
/// that another page follows): `item` turns a row into its cursor and its item, or no item for
/// a row to leave out (the next page still starts after it). Answers the items and the cursor
/// of the next page, if any.
pub fn page<T, C: Display>(
    rows: &[db::Row],
    limit: i64,
    mut item: impl FnMut(&db::Row) -> Result<(C, Option<T>), ApiError>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let size = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut items = Vec::with_capacity(rows.len().min(size));
    let mut last = None;
    for row in rows.iter().take(size) {
        let (cursor, made) = item(row)?;
        items.extend(made);
        last = Some(cursor);
    }
    Ok((items, last.filter(|_| rows.len() > size).map(|c| c.to_string())))
}
