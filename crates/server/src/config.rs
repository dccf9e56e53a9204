//! Configuration: command-line flags with environment fallbacks.

use clap::Args;
use std::{net::SocketAddr, path::PathBuf};

/// How `countersign serve` runs.
#[derive(Args, Clone, Debug)]
pub struct Config {
    /// Where to listen.
    #[arg(long, env = "COUNTERSIGN_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// The database: a SQLite file (created if missing) or a PostgreSQL server.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://countersign.db?mode=rwc")]
    pub database_url: String,
    /// PostgreSQL: connections in the pool. SQLite: idle reader connections kept (it has one
    /// writer).
    #[arg(long, env = "COUNTERSIGN_DB_CONNECTIONS", default_value_t = 16)]
    pub db_connections: u32,
    /// The SMTP server for mail, as `smtp://host:port`. Without one, mail stays in the outbox and
    /// can be read in the app.
    #[arg(long, env = "COUNTERSIGN_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The sender address of mail.
    #[arg(
        long,
        env = "COUNTERSIGN_MAIL_FROM",
        default_value = "Countersign <noreply@countersign.invalid>"
    )]
    pub mail_from: String,
    /// The built app (Trunk's `dist/`), served at `/`.
    #[arg(long, env = "COUNTERSIGN_STATIC_DIR", default_value = "dist")]
    pub static_dir: PathBuf,
    /// Load the demo company, catalog and users into an empty database.
    #[arg(long)]
    pub demo: bool,
    /// Mark the session cookie `Secure` (set this behind HTTPS).
    #[arg(long, env = "COUNTERSIGN_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Log as JSON lines rather than text.
    #[arg(long, env = "COUNTERSIGN_LOG_JSON")]
    pub log_json: bool,
    /// Let webhooks go to loopback, private and link-local addresses. Off by default: an
    /// integration URL must not turn the server into a way to reach its own network (the
    /// database, a metadata service). Turn it on for a receiver on the same machine or network.
    #[arg(long, env = "COUNTERSIGN_ALLOW_PRIVATE_WEBHOOKS")]
    pub allow_private_webhooks: bool,
    /// More certificate authorities (a PEM file) that HTTPS webhook receivers may be certified
    /// by, besides the public ones (Mozilla's list): for receivers with a company's own CA.
    #[arg(long, env = "COUNTERSIGN_WEBHOOK_CA_FILE")]
    pub webhook_ca_file: Option<PathBuf>,
    /// The addresses of reverse proxies (load balancers) in front of the server, comma
    /// separated. A request from one of them is taken to come from the address it names last
    /// in `X-Forwarded-For` (skipping other trusted proxies); from anywhere else, the header is
    /// ignored. Set it behind a proxy: the login limit per address must see the clients, not
    /// the proxy.
    #[arg(long = "trusted-proxies", env = "COUNTERSIGN_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Remind approvers of an order that has waited this long for them (`1d`, `4h`, `30m`),
    /// and again after as long each time, until it is decided; `0s` for no reminders.
    #[arg(
        long,
        env = "COUNTERSIGN_APPROVAL_REMINDER_AFTER",
        default_value = "1d",
        value_parser = reminder_interval
    )]
    pub approval_reminder_after: rules::time::Duration,
}

/// A reminder interval: a duration of the condition language, not negative.
fn reminder_interval(text: &str) -> Result<rules::time::Duration, String> {
    let d = rules::time::Duration::parse(text).map_err(|e| e.to_string())?;
    if d.millis() < 0 {
        return Err("a reminder interval cannot be negative".into());
    }
    Ok(d)
}
