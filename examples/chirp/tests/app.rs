//! Chirp driven in-process.

use turbine::testing::{self, TestClient};

/// Chirp on an in-memory database (these tests do not touch data).
fn app() -> turbine::App {
    chirp::app().config(testing::config("[database]\nurl = 'sqlite::memory:'"))
}

#[tokio::test]
async fn index_lists_the_api() {
    let client = TestClient::new(app()).await.unwrap();
    let res = client.get("/").send().await.assert_status(200);
    let body: serde_json::Value = res.json();
    assert_eq!(body["name"], "chirp");
    assert_eq!(body["profile"], "test");
    assert_eq!(body["links"]["metrics"], "/metrics");
    assert_eq!(body["links"]["posts"], "/posts");
    assert_eq!(body["links"]["profiles"], "/profiles");
    for (link, path) in [
        ("signup", "/auth/signup"),
        ("login", "/auth/login"),
        ("refresh", "/auth/refresh"),
        ("me", "/auth/me"),
    ] {
        assert_eq!(body["links"][link], path, "{link}");
    }
    assert!(res.header("x-request-id").is_some());
}

#[tokio::test]
async fn auth_links_follow_the_configured_prefix() {
    let config =
        testing::config("[database]\nurl = 'sqlite::memory:'\n[auth]\nprefix = '/api/auth'");
    let client = TestClient::new(chirp::app().config(config)).await.unwrap();
    let body: serde_json::Value = client.get("/").send().await.json();
    assert_eq!(body["links"]["login"], "/api/auth/login");
    client.get("/api/auth/me").send().await.assert_status(401);
}

#[tokio::test]
async fn account_mail_stays_in_memory_in_tests() {
    let client = TestClient::new(app()).await.unwrap();
    let mailer = client.context().get::<turbine::mail::Mailer>().unwrap();
    assert_eq!(mailer.transport_name(), "memory");
}

#[tokio::test]
async fn health_endpoints_answer() {
    let client = TestClient::new(app()).await.unwrap();
    client.get("/health/live").send().await.assert_status(200);
    client.get("/health/ready").send().await.assert_status(200);
}

#[tokio::test]
async fn unknown_paths_are_problems() {
    let client = TestClient::new(app()).await.unwrap();
    let p = client
        .get("/nope")
        .send()
        .await
        .assert_status(404)
        .problem();
    assert_eq!(p.title, "Not Found");
}
