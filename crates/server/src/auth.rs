//! Who is asking: password login (argon2) with an HttpOnly SameSite session cookie and a CSRF
//! token for state-changing requests, API tokens for integrations, login rate limiting, and the
//! [`Caller`] extractor every endpoint starts from.

use crate::db::{self, Row};
use crate::{
    AppState,
    error::{ApiError, Json, Path},
    util::{new_id, now, random_token, same_secret, sha256_hex},
};
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::SaltString,
};
use axum::{
    extract::{FromRequestParts, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "countersign_session";
/// The header that carries the CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts.
const SESSION_MS: i64 = 12 * 60 * 60 * 1000;
/// Failed logins allowed per account and window before logins are refused for the window.
const LOGIN_FAILURES: i64 = 5;
/// Failed logins from one network address, on any accounts, within the window before the
/// address is refused too (password spraying tries few passwords on many accounts).
const ADDRESS_FAILURES: i64 = 30;
const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;

/// Password hashing, with the cost set once for the process.
#[derive(Clone, Debug)]
pub struct Passwords {
    argon: Argon2<'static>,
    /// A hash to verify against when the account does not exist, so that both cases take the
    /// same time.
    decoy: String,
    /// One check per core at a time: each takes argon2's memory (19 MiB by default), so logins
    /// sent at once, by anyone, wait their turn instead of taking a thread and that memory each.
    checks: Arc<tokio::sync::Semaphore>,
}

impl Passwords {
    /// `fast` is for tests only: it makes hashing cheap (and weak).
    pub fn new(fast: bool) -> Result<Passwords, String> {
        let params = if fast { Params::new(256, 1, 1, None) } else { Ok(Params::default()) }
            .map_err(|e| e.to_string())?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let checks = Arc::new(tokio::sync::Semaphore::new(cores));
        let mut passwords = Passwords { argon, decoy: String::new(), checks };
        passwords.decoy = passwords.hash("decoy password")?;
        Ok(passwords)
    }

    pub fn hash(&self, password: &str) -> Result<String, String> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
        let salt = SaltString::encode_b64(&bytes).map_err(|e| e.to_string())?;
        self.argon
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    }

    /// Hashes a password off the async threads (argon2 takes its time on purpose).
    pub async fn hash_blocking(&self, password: &str) -> Result<String, ApiError> {
        let (passwords, password) = (self.clone(), password.to_owned());
        tokio::task::spawn_blocking(move || passwords.hash(&password))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)
    }

    pub fn verify(&self, password: &str, hash: &str) -> bool {
        PasswordHash::new(hash)
            .is_ok_and(|parsed| self.argon.verify_password(password.as_bytes(), &parsed).is_ok())
    }

    /// Checks a password off the async threads, one per core at a time: against `hash`, or,
    /// for an account that does not exist, against the decoy (and then it never matches).
    pub async fn check(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        let _turn = self.checks.acquire().await.map_err(ApiError::internal)?;
        let passwords = self.clone();
        tokio::task::spawn_blocking(move || match hash {
            Some(hash) => passwords.verify(&password, &hash),
            None => {
                passwords.verify(&password, &passwords.decoy);
                false
            }
        })
        .await
        .map_err(ApiError::internal)
    }
}

/// How the caller proved who they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A browser session; state-changing requests must carry its CSRF token.
    Session { csrf_token: String },
    /// An API token (integrations): no ambient credential, so no CSRF check.
    Token,
}

/// The authenticated user behind a request, with their company and roles.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub company_id: String,
    /// The seller's staff (sales reps, seller admins, back office) rather than a customer.
    pub seller: bool,
    pub unit_id: Option<String>,
    pub roles: Vec<String>,
    pub via: Via,
}

impl Caller {
    pub fn has(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Refuses unless the caller holds one of `roles`.
    pub fn require_any(&self, roles: &[&str]) -> Result<(), ApiError> {
        if roles.iter().any(|r| self.has(r)) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("this needs the role {}", roles.join(" or "))))
        }
    }
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

/// The columns a [`Caller`] is read from, one row per role (one row with a NULL role for a
/// user without any), so that authenticating a request is a single query.
const CALLER: &str = "u.id, u.name, u.email, u.company_id, u.unit_id, c.kind, r.role
    FROM users u JOIN companies c ON c.id = u.company_id LEFT JOIN user_roles r ON r.user_id = u.id";

/// How stale an API token's `last_used_at` may get before a request writes it again.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

fn caller_from(rows: &[Row], via: Via) -> Result<Option<Caller>, ApiError> {
    let Some(row) = rows.first() else { return Ok(None) };
    let mut roles = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(role) = r.try_get::<Option<String>>("role")? {
            roles.push(role);
        }
    }
    roles.sort_unstable();
    Ok(Some(Caller {
        user_id: row.try_get("id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        company_id: row.try_get("company_id")?,
        unit_id: row.try_get("unit_id")?,
        seller: row.try_get::<String>("kind")? == "seller",
        roles,
        via,
    }))
}

/// Loads a user with their company kind and roles.
pub(crate) async fn load_caller(
    state: &AppState,
    user_id: &str,
    via: Via,
) -> Result<Option<Caller>, ApiError> {
    let rows = db::query(db::AssertSqlSafe(format!("SELECT {CALLER} WHERE u.id = $1")))
        .bind(user_id)
        .fetch_all(&state.db.read)
        .await?;
    caller_from(&rows, via)
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let at = now().millis();
        if let Some(token) = bearer(&parts.headers) {
            let rows = db::query(db::AssertSqlSafe(format!(
                "SELECT t.id AS token_id, t.last_used_at, {CALLER} JOIN api_tokens t ON t.user_id = u.id
                 WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > $2)"
            )))
            .bind(sha256_hex(token))
            .bind(at)
            .fetch_all(&state.db.read)
            .await?;
            let first = rows.first().ok_or_else(ApiError::unauthenticated)?;
            let last_used: Option<i64> = first.try_get("last_used_at")?;
            if last_used.is_none_or(|t| at.saturating_sub(t) >= LAST_USED_RESOLUTION_MS) {
                db::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(first.try_get::<String>("token_id")?)
                    .execute(&state.db.write)
                    .await?;
            }
            return caller_from(&rows, Via::Token)?.ok_or_else(ApiError::unauthenticated);
        }
        let token =
            cookie_value(&parts.headers, SESSION_COOKIE).ok_or_else(ApiError::unauthenticated)?;
        let rows = db::query(db::AssertSqlSafe(format!(
            "SELECT s.csrf_token, {CALLER} JOIN sessions s ON s.user_id = u.id WHERE s.token_hash = $1 AND s.expires_at > $2"
        )))
        .bind(sha256_hex(token))
        .bind(at)
        .fetch_all(&state.db.read)
        .await?;
        let csrf_token: String =
            rows.first().ok_or_else(ApiError::unauthenticated)?.try_get("csrf_token")?;
        if is_state_changing(&parts.method) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !same_secret(sent, &csrf_token) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    format!(
                        "state-changing requests must send the session's CSRF token in the {CSRF_HEADER} header"
                    ),
                ));
            }
        }
        caller_from(&rows, Via::Session { csrf_token })?.ok_or_else(ApiError::unauthenticated)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login").field("email", &self.email).field("password", &"(hidden)").finish()
    }
}

/// The caller as the app sees it.
#[derive(Debug, Serialize)]
pub struct Me {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub company_id: String,
    pub seller: bool,
    pub roles: Vec<String>,
    /// Send this in the `x-csrf-token` header of every state-changing request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

impl From<Caller> for Me {
    fn from(c: Caller) -> Me {
        let csrf_token = match c.via {
            Via::Session { csrf_token } => Some(csrf_token),
            Via::Token => None,
        };
        Me {
            user_id: c.user_id,
            name: c.name,
            email: c.email,
            company_id: c.company_id,
            seller: c.seller,
            roles: c.roles,
            csrf_token,
        }
    }
}

fn session_cookie(state: &AppState, value: &str, max_age_s: i64) -> Result<HeaderValue, ApiError> {
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}"
    ))
    .map_err(ApiError::internal)
}

/// Whether the server has said that it ignores `X-Forwarded-For` from an untrusted peer.
static FORWARDED_IGNORED_SAID: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// The network address a request came from, when the server knows it (it does when serving;
/// tests that call the router directly may leave it out). Behind a trusted proxy
/// (`--trusted-proxies`), the client's address from `X-Forwarded-For`.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub Option<std::net::IpAddr>);

impl Peer {
    /// The client of a connection from `peer`, given the proxies trusted and the
    /// `X-Forwarded-For` header: the last address not of a trusted proxy. Only a trusted proxy
    /// is believed; anyone can write the header.
    pub fn client(
        peer: std::net::IpAddr,
        trusted: &[std::net::IpAddr],
        forwarded_for: Option<&str>,
    ) -> std::net::IpAddr {
        if !trusted.contains(&peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded_for.unwrap_or_default().rsplit(',') {
            match hop.trim().parse::<std::net::IpAddr>() {
                Ok(ip) if trusted.contains(&ip) => client = ip,
                Ok(ip) => return ip,
                // A hop that is not an address: nothing before it can be believed.
                Err(_) => return client,
            }
        }
        client
    }
}

impl axum::extract::FromRequestParts<AppState> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let info = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        let trusted = &state.config.trusted_proxies;
        if let (Some(i), Some(_)) = (info, forwarded)
            && !trusted.contains(&i.0.ip())
            && !FORWARDED_IGNORED_SAID.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            // Said once: anyone may send the header, and the log is not theirs to fill.
            tracing::warn!(
                peer = %i.0.ip(),
                "X-Forwarded-For from a peer not in --trusted-proxies is ignored; if this peer \
                 is your reverse proxy, name it there, or every client behind it counts as one \
                 address for the login limits"
            );
        }
        Ok(Peer(info.map(|i| Peer::client(i.0.ip(), trusted, forwarded))))
    }
}

/// Whether a key (an account, an address) has reached `limit` failed logins in the current
/// window, and is refused until it ends.
async fn rate_limited(state: &AppState, key: &str, limit: i64, at: i64) -> Result<bool, ApiError> {
    let row = db::query("SELECT window_start, failures FROM login_attempts WHERE attempt_key = $1")
        .bind(key)
        .fetch_optional(&state.db.read)
        .await?;
    Ok(match row {
        Some(r) => {
            at - r.try_get::<i64>("window_start")? < LOGIN_WINDOW_MS
                && r.try_get::<i64>("failures")? >= limit
        }
        None => false,
    })
}

/// Counts a failed login under a key, in one statement so that failures sent at once all
/// count (a read, then a write of the count read plus one, would count a burst as one); true
/// when this failure is past `limit` in the window (it came in a burst with others that
/// passed [`rate_limited`] together).
async fn count_failure(state: &AppState, key: &str, limit: i64, at: i64) -> Result<bool, ApiError> {
    let row = db::query(
        "INSERT INTO login_attempts (attempt_key, window_start, failures) VALUES ($1, $2, 1)
         ON CONFLICT (attempt_key) DO UPDATE SET
           failures = CASE WHEN $2 - login_attempts.window_start < $3
                           THEN login_attempts.failures + 1 ELSE 1 END,
           window_start = CASE WHEN $2 - login_attempts.window_start < $3
                               THEN login_attempts.window_start ELSE $2 END
         RETURNING failures",
    )
    .bind(key)
    .bind(at)
    .bind(LOGIN_WINDOW_MS)
    .fetch_one(&state.db.write)
    .await?;
    Ok(row.try_get::<i64>("failures")? > limit)
}

/// `POST /api/session`: logs in; sets the session cookie; answers the user and the CSRF token.
pub async fn login(
    State(state): State<AppState>,
    peer: Peer,
    Json(body): Json<Login>,
) -> Result<Response, ApiError> {
    let email = body.email.trim().to_lowercase();
    let key = format!("login:{email}");
    let address_key = peer.0.map(|ip| format!("login-address:{ip}"));
    let at = now().millis();
    let too_many = || too_many_attempts("failed logins");
    if rate_limited(&state, &key, LOGIN_FAILURES, at).await? {
        return Err(too_many());
    }
    if let Some(address_key) = &address_key
        && rate_limited(&state, address_key, ADDRESS_FAILURES, at).await?
    {
        return Err(too_many());
    }
    let row =
        db::query("SELECT id, password_hash FROM users WHERE email = $1 AND removed_at IS NULL")
            .bind(&email)
            .fetch_optional(&state.db.read)
            .await?;
    let (user_id, hash) = match row {
        Some(row) => (Some(row.try_get::<String>("id")?), Some(row.try_get("password_hash")?)),
        None => (None, None),
    };
    let ok = state.passwords.check(body.password, hash).await?;
    let Some(user_id) = user_id.filter(|_| ok) else {
        let address_locked = match &address_key {
            Some(k) => count_failure(&state, k, ADDRESS_FAILURES, at).await?,
            None => false,
        };
        if count_failure(&state, &key, LOGIN_FAILURES, at).await? || address_locked {
            return Err(too_many());
        }
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong email or password",
        ));
    };
    db::query("DELETE FROM login_attempts WHERE attempt_key = $1")
        .bind(&key)
        .execute(&state.db.write)
        .await?;
    let token = random_token(32).map_err(ApiError::internal)?;
    let csrf_token = random_token(16).map_err(ApiError::internal)?;
    db::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(sha256_hex(&token))
        .bind(&user_id)
        .bind(&csrf_token)
        .bind(at)
        .bind(at.saturating_add(SESSION_MS))
        .execute(&state.db.write)
        .await?;
    let caller = load_caller(&state, &user_id, Via::Session { csrf_token })
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    let cookie = session_cookie(&state, &token, SESSION_MS / 1000)?;
    Ok(([(header::SET_COOKIE, cookie)], Json(Me::from(caller))).into_response())
}

/// `GET /api/session`: who am I (and my CSRF token).
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me::from(caller))
}

/// `DELETE /api/session`: logs out.
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let (Via::Session { .. }, Some(token)) =
        (&caller.via, cookie_value(&headers, SESSION_COOKIE))
    {
        db::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(sha256_hex(token))
            .execute(&state.db.write)
            .await?;
    }
    let cookie = session_cookie(&state, "", 0)?;
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange { (hidden) }")
    }
}

/// The answer once an account (or an address) has had too many failed attempts: `what`
/// says which ("failed logins").
fn too_many_attempts(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("too many {what}; try again in 15 minutes"),
    )
}

/// `PUT /api/session/password`: the person logged in changes their password, giving the
/// current one. Their other sessions end (a password changed because it leaked should lock
/// out whoever has it); this one goes on. Wrong current passwords count as failed logins of
/// the account, so this is no way around the login limit.
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    if caller.via == Via::Token {
        return Err(ApiError::forbidden("a password is changed by its owner, logged in"));
    }
    let key = format!("login:{}", caller.email.to_lowercase());
    let at = now().millis();
    let too_many = || too_many_attempts("wrong passwords");
    if rate_limited(&state, &key, LOGIN_FAILURES, at).await? {
        return Err(too_many());
    }
    crate::users::check_password("new_password", &body.new_password)?;
    if body.new_password == body.current_password {
        return Err(ApiError::invalid("new_password", "the new password is the current one"));
    }
    let hash: String = db::query("SELECT password_hash FROM users WHERE id = $1")
        .bind(&caller.user_id)
        .fetch_one(&state.db.read)
        .await?
        .try_get("password_hash")?;
    if !state.passwords.check(body.current_password, Some(hash)).await? {
        if count_failure(&state, &key, LOGIN_FAILURES, at).await? {
            return Err(too_many());
        }
        return Err(ApiError::invalid("current_password", "this is not your current password"));
    }
    let hash = state.passwords.hash_blocking(&body.new_password).await?;
    let this = cookie_value(&headers, SESSION_COOKIE).map(sha256_hex).unwrap_or_default();
    let mut tx = state.db.write.begin().await?;
    db::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(&caller.user_id)
        .execute(&mut tx)
        .await?;
    db::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(&caller.user_id)
        .bind(this)
        .execute(&mut tx)
        .await?;
    db::query("DELETE FROM login_attempts WHERE attempt_key = $1")
        .bind(&key)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// How long it lasts: [`TOKEN_DAYS`] unless asked, at most [`TOKEN_MAX_DAYS`].
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

/// How long an API token lasts unless its maker asks for another length, and at most.
const TOKEN_DAYS: i64 = 90;
const TOKEN_MAX_DAYS: i64 = 366;

#[derive(Debug, Serialize)]
pub struct CreatedToken {
    pub id: String,
    pub name: String,
    /// Shown once: only its hash is kept.
    pub token: String,
    /// When it stops working (milliseconds since the epoch).
    pub expires_at: i64,
}

/// An API token as its owner sees it later: never the secret.
#[derive(Debug, Serialize)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// `null` for a token made before tokens expired: it lasts until revoked.
    pub expires_at: Option<i64>,
}

/// `POST /api/tokens`: an API token acting as the caller, for an integration. Only a person
/// logged in makes one: a token that could make tokens would outlive its own revocation and end
/// in copies of itself.
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    if matches!(caller.via, Via::Token) {
        return Err(ApiError::forbidden(
            "API tokens are made by a person logged in, not by a token",
        ));
    }
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name", "a token needs a name of 1 to 100 characters"));
    }
    let days = body.expires_in_days.unwrap_or(TOKEN_DAYS);
    if !(1..=TOKEN_MAX_DAYS).contains(&days) {
        return Err(ApiError::invalid(
            "expires_in_days",
            format!("a token lasts 1 to {TOKEN_MAX_DAYS} days"),
        ));
    }
    let token = format!("cs_{}", random_token(32).map_err(ApiError::internal)?);
    let id = new_id("tok");
    let at = now().millis();
    let expires_at = at.saturating_add(days.saturating_mul(86_400_000));
    db::query("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&id)
        .bind(&caller.user_id)
        .bind(name)
        .bind(sha256_hex(&token))
        .bind(at)
        .bind(expires_at)
        .execute(&state.db.write)
        .await?;
    let created = CreatedToken { id, name: name.to_owned(), token, expires_at };
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/tokens`: the caller's own API tokens, newest first (expired ones too, marked by
/// their `expires_at`, until revoked).
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rows = db::query(
        "SELECT id, name, created_at, last_used_at, expires_at FROM api_tokens
         WHERE user_id = $1 ORDER BY created_at DESC, id",
    )
    .bind(&caller.user_id)
    .fetch_all(&state.db.read)
    .await?;
    let tokens = rows
        .iter()
        .map(|r| -> Result<TokenView, ApiError> {
            Ok(TokenView {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(serde_json::json!({ "tokens": tokens })))
}

/// `DELETE /api/tokens/{id}`: revokes one of the caller's own API tokens at once.
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let done = db::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
        .bind(&id)
        .bind(&caller.user_id)
        .execute(&state.db.write)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found("token"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::Peer;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_trusted_proxies_name_the_client() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        // Not a proxy: the header is anyone's to write, and ignored.
        assert_eq!(
            Peer::client(ip("198.51.100.7"), &trusted, Some("203.0.113.9")),
            ip("198.51.100.7")
        );
        // Through one proxy, or two: the last address that is not a proxy's.
        assert_eq!(
            Peer::client(ip("10.0.0.1"), &trusted, Some("1.2.3.4, 203.0.113.9")),
            ip("203.0.113.9")
        );
        assert_eq!(
            Peer::client(ip("10.0.0.1"), &trusted, Some("203.0.113.9, 10.0.0.2")),
            ip("203.0.113.9")
        );
        // A proxy that names nobody, or nonsense: the proxy itself.
        assert_eq!(Peer::client(ip("10.0.0.1"), &trusted, None), ip("10.0.0.1"));
        assert_eq!(Peer::client(ip("10.0.0.1"), &trusted, Some("unknown")), ip("10.0.0.1"));
    }
}
