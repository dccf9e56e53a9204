//! Mail goes out through the outbox to a real SMTP server process (the `smtp-sink` binary),
//! once; a failing server is retried.

use super::*;
use axum::http::StatusCode;
use serde_json::json;
use server::notifications::{mailer, send_due};
use std::{
    io::BufRead,
    process::{Command, Stdio},
};

/// A running `smtp-sink`: its port and the directory it writes messages to.
pub struct Sink {
    child: std::process::Child,
    pub port: u16,
    pub dir: harness::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn sink() -> Sink {
    let dir = std::env::temp_dir().join(server::util::new_id("countersign-mail"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_smtp-sink"))
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start smtp-sink");
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let port = first.trim().rsplit(':').next().unwrap().parse().unwrap();
    Sink { child, port, dir: harness::TempDir(dir) }
}

fn messages(sink: &Sink) -> Vec<String> {
    let mut files: Vec<_> =
        std::fs::read_dir(&sink.dir.0).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect()
}

async fn mail_is_delivered_once_and_retried_on_failure(app: &TestApp) {
    harness::world(app).await;
    let mut tx = app.state.db.write.begin().await.unwrap();
    let buyer: String = db::query("SELECT id FROM users WHERE email = 'buyer@acme.test'")
        .fetch_one(&mut tx)
        .await
        .unwrap()
        .try_get("id")
        .unwrap();
    let mut batch = server::db::Batch::new();
    server::notifications::notify(
        &mut batch,
        server::notifications::Notice {
            user_id: &buyer,
            kind: "test",
            title: "Order ord_1 approved".into(),
            body: "Approved.\n.\nA line with a dot.".into(),
            order_id: None,
        },
    );
    batch.run(&mut tx).await.unwrap();
    tx.commit().await.unwrap();

    // Nobody listening: the attempt fails and is scheduled again.
    let dead = mailer("smtp://127.0.0.1:9").unwrap();
    assert_eq!(send_due(&app.state, &dead, 10).await.unwrap(), 0);
    let row = db::query("SELECT attempts, last_error, next_attempt_at, sent_at FROM outbox")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    assert_eq!(row.try_get::<i64>("attempts").unwrap(), 1);
    assert!(row.try_get::<Option<String>>("last_error").unwrap().is_some());
    assert!(row.try_get::<Option<i64>>("sent_at").unwrap().is_none());
    db::query("UPDATE outbox SET next_attempt_at = 0").execute(&app.state.db.write).await.unwrap();

    let sink = sink();
    let live = mailer(&format!("smtp://127.0.0.1:{}", sink.port)).unwrap();
    assert_eq!(send_due(&app.state, &live, 10).await.unwrap(), 1);
    assert_eq!(send_due(&app.state, &live, 10).await.unwrap(), 0, "sent once");
    let mail = messages(&sink);
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("X-Sink-To: <buyer@acme.test>"), "{}", mail[0]);
    assert!(mail[0].contains("Subject: Order ord_1 approved"), "{}", mail[0]);
    assert!(mail[0].contains("A line with a dot."), "{}", mail[0]);
    let mut buyer_client = app.client();
    buyer_client.login("buyer@acme.test", harness::PASSWORD).await;
    let listed = buyer_client.get("/api/mail").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(listed.body["mail"][0]["sent_at"].is_i64());
    assert_eq!(listed.body["mail"][0]["attempts"], json!(2));
}
both_databases!(outbox, mail_is_delivered_once_and_retried_on_failure);
