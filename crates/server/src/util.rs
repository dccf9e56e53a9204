//! Small things used everywhere: ids, the clock, random tokens, hashes.

use rules::time::Timestamp;
use sha2::{Digest, Sha256};

/// A new id with a readable prefix: `ord_0190f3c1a2b37c1d8e4f5a6b7c8d9e0f`. Time-ordered.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// The current time, to the millisecond. The server reads the clock; the rules engine never
/// does. Inside [`in_the_past`], the clock of that task is set back.
pub fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let back = SET_BACK.try_with(|ms| *ms).unwrap_or(0);
    Timestamp::from_millis(ms.saturating_sub(back))
}

tokio::task_local! {
    /// How far [`now`] is set back for the task, in milliseconds.
    static SET_BACK: i64;
}

/// Runs `work` with the clock of its task set back by `ms`: what it stores happened then, as
/// if the requests had been made at the time. The demo places its orders over the past days
/// this way, through the same handlers as every request. Tasks that `work` spawns keep the
/// real clock.
pub async fn in_the_past<F: std::future::Future>(ms: i64, work: F) -> F::Output {
    SET_BACK.scope(ms, work).await
}

/// A random token, hex: 32 bytes for sessions and API tokens, 16 for CSRF.
pub fn random_token(bytes: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(hex(&buf))
}

pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
