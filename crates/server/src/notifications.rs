//! Notifications: in the app (a list with unread counts) and by mail through the outbox.
//!
//! A notification and its mail are written in the same transaction as the change they report.
//! A background sender takes due messages from the outbox under a lease (so two server
//! instances never take the same one), hands each to the SMTP server, and marks it sent once the
//! server accepted it; failures are retried with backoff. Without SMTP configured, mail stays
//! in the outbox and users read theirs in the app.

use crate::{
    AppState,
    auth::Caller,
    db::{self, Batch, insert_rows},
    error::{ApiError, Json, Path},
    util::{new_id, now},
};
use axum::{extract::State, http::StatusCode};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, message::header::ContentType,
};
use serde::Serialize;
use serde_json::json;
use std::time::Duration;

/// Something to tell a user: in the app, and by mail.
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    pub user_id: &'a str,
    pub kind: &'a str,
    pub title: String,
    pub body: String,
    pub order_id: Option<&'a str>,
}

/// Adds a notification and its mail to the caller's batch (written in its transaction).
pub fn notify(batch: &mut Batch, notice: Notice<'_>) {
    notify_all(batch, &[notice]);
}

/// Adds the same notification, and its mail, for each of `users` (the candidates of an
/// approval step, say).
pub fn notify_each(
    batch: &mut Batch,
    users: &[String],
    kind: &str,
    (title, body): (String, String),
    order_id: Option<&str>,
) {
    let notices: Vec<Notice<'_>> = users
        .iter()
        .map(|user| Notice {
            user_id: user,
            kind,
            title: title.clone(),
            body: body.clone(),
            order_id,
        })
        .collect();
    notify_all(batch, &notices);
}

/// Adds notifications and their mail to the caller's batch: the notifications in one
/// statement, each mail addressed from the users table in one more. (A notification's user
/// must exist, by its foreign key, so each mail finds its address; a user who was removed gets
/// no more mail: whoever reads that address now is not them.)
pub fn notify_all(batch: &mut Batch, notices: &[Notice<'_>]) {
    if notices.is_empty() {
        return;
    }
    let at = now().millis();
    let sql = insert_rows(
        "notifications",
        &["id", "user_id", "kind", "title", "body", "order_id", "created_at"],
        notices.len(),
    );
    let mut params = Vec::with_capacity(notices.len().saturating_mul(7));
    for n in notices {
        params.extend(crate::params![
            new_id("ntf"),
            n.user_id,
            n.kind,
            &n.title,
            &n.body,
            n.order_id,
            at
        ]);
    }
    batch.push(sql, params);
    for n in notices {
        batch.push(
            "INSERT INTO outbox (id, recipient, subject, body, created_at, next_attempt_at) SELECT $1, email, $2, $3, $4, $5 FROM users WHERE id = $6 AND removed_at IS NULL",
            crate::params![new_id("mail"), &n.title, &n.body, at, at, n.user_id],
        );
    }
}

#[derive(Debug, Serialize)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub order_id: Option<String>,
    pub created_at: i64,
    pub read: bool,
}

/// `GET /api/notifications`: the caller's latest notifications and the unread count.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rows = db::query("SELECT id, kind, title, body, order_id, created_at, read_at FROM notifications WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 100")
        .bind(&caller.user_id)
        .fetch_all(&state.db.read)
        .await?;
    let items = rows
        .iter()
        .map(|r| -> Result<Notification, db::Error> {
            Ok(Notification {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                title: r.try_get("title")?,
                body: r.try_get("body")?,
                order_id: r.try_get("order_id")?,
                created_at: r.try_get("created_at")?,
                read: r.try_get::<Option<i64>>("read_at")?.is_some(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let unread: i64 =
        db::query("SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL")
            .bind(&caller.user_id)
            .fetch_one(&state.db.read)
            .await?
            .try_get("n")?;
    Ok(Json(json!({ "unread": unread, "notifications": items })))
}

/// `POST /api/notifications/{id}/read`.
pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let done = db::query(
        "UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL",
    )
    .bind(now().millis())
    .bind(&id)
    .bind(&caller.user_id)
    .execute(&state.db.write)
    .await?;
    if done.rows_affected() == 0
        && db::query("SELECT 1 AS x FROM notifications WHERE id = $1 AND user_id = $2")
            .bind(&id)
            .bind(&caller.user_id)
            .fetch_optional(&state.db.read)
            .await?
            .is_none()
    {
        return Err(ApiError::not_found("notification"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/notifications/read-all`.
pub async fn mark_all_read(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    db::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
        .bind(now().millis())
        .bind(&caller.user_id)
        .execute(&state.db.write)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/mail`: the mail addressed to the caller, sent or still waiting in the outbox.
pub async fn mail(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rows = db::query("SELECT id, subject, body, created_at, sent_at, attempts, last_error FROM outbox WHERE recipient = $1 ORDER BY created_at DESC, id DESC LIMIT 100")
        .bind(&caller.email)
        .fetch_all(&state.db.read)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(json!({
            "id": r.try_get::<String>("id")?,
            "subject": r.try_get::<String>("subject")?,
            "body": r.try_get::<String>("body")?,
            "created_at": r.try_get::<i64>("created_at")?,
            "sent_at": r.try_get::<Option<i64>>("sent_at")?,
            "attempts": r.try_get::<i64>("attempts")?,
            "last_error": r.try_get::<Option<String>>("last_error")?,
        }));
    }
    Ok(Json(json!({ "mail": items })))
}

/// How long a sender holds a message before another may take it.
const LEASE_MS: i64 = 60_000;

/// Sends due mail once: leases up to `batch` messages, sends each, records the outcome.
/// Returns how many were sent.
pub async fn send_due(
    state: &AppState,
    mailer: &AsyncSmtpTransport<Tokio1Executor>,
    batch: i64,
) -> Result<usize, ApiError> {
    let at = now().millis();
    let lease = crate::util::new_id("lease");
    // Take the lease with one conditional update per candidate: two senders cannot both win.
    let candidates = db::query("SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 AND leased_until <= $2 ORDER BY created_at LIMIT $3")
        .bind(at)
        .bind(at)
        .bind(batch)
        .fetch_all(&state.db.read)
        .await?;
    let mut sent = 0;
    for row in candidates {
        let id: String = row.try_get("id")?;
        let taken = db::query("UPDATE outbox SET leased_until = $1, last_error = $2 WHERE id = $3 AND sent_at IS NULL AND leased_until <= $4")
            .bind(at.saturating_add(LEASE_MS))
            .bind(&lease)
            .bind(&id)
            .bind(at)
            .execute(&state.db.write)
            .await?;
        if taken.rows_affected() != 1 {
            continue;
        }
        let r = db::query("SELECT recipient, subject, body, attempts FROM outbox WHERE id = $1")
            .bind(&id)
            .fetch_one(&state.db.read)
            .await?;
        let (recipient, subject, body, attempts): (String, String, String, i64) = (
            r.try_get("recipient")?,
            r.try_get("subject")?,
            r.try_get("body")?,
            r.try_get("attempts")?,
        );
        let outcome = match build(&state.config.mail_from, &recipient, &subject, &body, &id) {
            Ok(message) => mailer.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {
                db::query("UPDATE outbox SET sent_at = $1, attempts = $2, last_error = NULL WHERE id = $3")
                    .bind(now().millis())
                    .bind(attempts.saturating_add(1))
                    .bind(&id)
                    .execute(&state.db.write)
                    .await?;
                sent += 1;
            }
            Err(e) => {
                // Backoff: 1 s, 2 s, 4 s, ... up to an hour.
                let delay = 1000i64.saturating_mul(1i64 << attempts.clamp(0, 12)).min(3_600_000);
                tracing::warn!(mail = %id, error = %e, "sending mail failed; will retry");
                db::query("UPDATE outbox SET attempts = $1, last_error = $2, next_attempt_at = $3, leased_until = 0 WHERE id = $4")
                    .bind(attempts.saturating_add(1))
                    .bind(&e)
                    .bind(now().millis().saturating_add(delay))
                    .bind(&id)
                    .execute(&state.db.write)
                    .await?;
            }
        }
    }
    Ok(sent)
}

fn build(from: &str, to: &str, subject: &str, body: &str, id: &str) -> Result<Message, String> {
    Message::builder()
        .from(from.parse().map_err(|e| format!("sender {from:?}: {e}"))?)
        .to(to.parse().map_err(|e| format!("recipient {to:?}: {e}"))?)
        // The outbox id makes a resend after a crash recognisable as the same message.
        .message_id(Some(format!("<{id}@countersign>")))
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .map_err(|e| e.to_string())
}

/// The SMTP transport for `smtp://host:port` (plain, as a relay on a trusted network).
pub fn mailer(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let rest = url
        .strip_prefix("smtp://")
        .ok_or_else(|| format!("{url:?} is not an smtp://host:port URL"))?;
    let (host, port) = match rest.trim_end_matches('/').rsplit_once(':') {
        Some((host, port)) => {
            (host, port.parse::<u16>().map_err(|_| format!("{url:?}: the port is not a number"))?)
        }
        None => (rest.trim_end_matches('/'), 25),
    };
    Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .timeout(Some(Duration::from_secs(10)))
        .build())
}

/// Runs the sender until the process ends: every 200 ms, sends what is due.
pub async fn run_sender(state: AppState, mailer: AsyncSmtpTransport<Tokio1Executor>) {
    loop {
        match send_due(&state, &mailer, 50).await {
            Ok(0) => tokio::time::sleep(Duration::from_millis(200)).await,
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "the mail sender failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
