//! Nothing secret reaches the logs (its own process: it installs a log subscriber).

mod common;

use common::*;
use serde_json::{Value, json};
use turbine::testing::TestClient;

/// Collects everything logged at any level.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_never_contain_passwords_or_tokens() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let db = TestDb::sqlite().await.unwrap();
    let client = TestClient::new(app("", db.url())).await.unwrap();
    let tokens = user_with_tokens(&client, "ana@example.com").await;
    login_tokens(&client, "ana@example.com", "a wrong password")
        .await
        .assert_status(401);
    let r2 = client
        .post("/auth/refresh")
        .json(&json!({"refresh_token": s(&tokens, "refresh_token")}))
        .send()
        .await
        .json::<Value>();
    client
        .post("/auth/password/reset")
        .json(&json!({"email": "ana@example.com"}))
        .send()
        .await
        .assert_status(202);
    let mails = outbox(&client, 2).await;
    let reset_token = link_token(mails.last().unwrap());
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("auth: login"), "the capture works: {logs}");
    for secret in [
        PASSWORD.to_string(),
        "a wrong password".to_string(),
        s(&tokens, "access_token"),
        s(&tokens, "refresh_token"),
        s(&r2, "refresh_token"),
        reset_token,
    ] {
        assert!(
            !logs.contains(&secret),
            "a secret reached the logs: {secret}"
        );
    }
    db.close().await;
}
