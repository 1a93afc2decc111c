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
    assert!(res.header("x-request-id").is_some());
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
