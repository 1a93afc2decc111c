//! `/health/live`, `/health/ready` and `/metrics`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use turbine::observability::Metrics;
use turbine::prelude::*;
use turbine::testing::{self, TestClient};

#[tokio::test]
async fn live_is_ok() {
    let client = TestClient::new(App::new().config(testing::config("")))
        .await
        .unwrap();
    let res = client.get("/health/live").send().await.assert_status(200);
    assert_eq!(res.json::<serde_json::Value>()["status"], "ok");
}

#[tokio::test]
async fn ready_turns_503_when_a_registered_check_fails() {
    let healthy = Arc::new(AtomicBool::new(true));
    let flag = healthy.clone();
    let app = App::new().config(testing::config("")).setup(move |s| {
        s.health_check("database", move |_ctx| {
            let ok = flag.load(Ordering::SeqCst);
            async move {
                if ok {
                    Ok(())
                } else {
                    Err("connection refused".into())
                }
            }
        });
        s.health_check("cache", |_ctx| async { Ok(()) });
        Ok(())
    });
    let client = TestClient::new(app).await.unwrap();

    let res = client.get("/health/ready").send().await.assert_status(200);
    let body: serde_json::Value = res.json();
    assert_eq!(body["checks"]["database"]["status"], "ok");
    assert_eq!(body["checks"]["cache"]["status"], "ok");

    healthy.store(false, Ordering::SeqCst);
    let res = client.get("/health/ready").send().await.assert_status(503);
    let p = res.problem();
    assert_eq!(p.extensions["checks"]["database"]["status"], "failing");
    assert_eq!(
        p.extensions["checks"]["database"]["error"],
        "connection refused"
    );
    assert_eq!(p.extensions["checks"]["cache"]["status"], "ok");
    assert_eq!(p.detail.as_deref(), Some("1 of 2 readiness checks failed."));
}

#[tokio::test(start_paused = true)]
async fn a_check_that_hangs_counts_as_failed() {
    let app = App::new()
        .config(testing::config(
            "[observability]\nhealth_check_timeout = '1s'\n",
        ))
        .setup(|s| {
            s.health_check("stuck", |_ctx| std::future::pending());
            Ok(())
        });
    let client = TestClient::new(app).await.unwrap();
    let p = client
        .get("/health/ready")
        .send()
        .await
        .assert_status(503)
        .problem();
    assert_eq!(
        p.extensions["checks"]["stuck"]["error"],
        "no answer within 1s"
    );
}

fn sample(metrics: &str, line_start: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = App::new().config(testing::config("")).route(
        "/posts/{id}",
        get(|Path(id): Path<u32>| async move { id.to_string() }),
    );
    let client = TestClient::new(app).await.unwrap();
    client.get("/posts/1").send().await.assert_status(200);
    client.get("/posts/2").send().await.assert_status(200);
    client.get("/posts/x").send().await.assert_status(400);
    client.get("/nowhere").send().await.assert_status(404);

    let res = client.get("/metrics").send().await.assert_status(200);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = res.text();
    let ok =
        r#"http_request_duration_seconds_count{method="GET",route="/posts/{id}",status="200"}"#;
    assert_eq!(sample(&text, ok), Some(2.0), "{text}");
    let bad =
        r#"http_request_duration_seconds_count{method="GET",route="/posts/{id}",status="400"}"#;
    assert_eq!(sample(&text, bad), Some(1.0), "{text}");
    let unmatched =
        r#"http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}"#;
    assert_eq!(sample(&text, unmatched), Some(1.0), "{text}");
    assert!(
        !text.contains("/posts/1"),
        "raw paths never become labels: {text}"
    );
    let buckets = r#"http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/posts/{id}",status="200"}"#;
    assert_eq!(sample(&text, buckets), Some(2.0), "{text}");
    // The scrape itself is in flight while the metrics are rendered.
    assert_eq!(
        sample(&text, "http_requests_in_flight "),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test]
async fn batteries_register_their_own_metrics() {
    use prometheus_client::metrics::counter::Counter;
    let app = App::new().config(testing::config("")).setup(|s| {
        s.on_startup(|cx| async move {
            let metrics = cx.get::<Metrics>().expect("metrics are in the context");
            let c: Counter = Counter::default();
            c.inc_by(7);
            metrics.register("widgets", "Widgets made", c);
            Ok(())
        });
        Ok(())
    });
    let client = TestClient::new(app).await.unwrap();
    let text = client.get("/metrics").send().await.text();
    assert_eq!(sample(&text, "widgets_total "), Some(7.0), "{text}");
}

#[tokio::test]
async fn endpoints_can_be_switched_off() {
    let app = App::new().config(testing::config(
        "[observability]\nhealth = false\nmetrics = false\n",
    ));
    let client = TestClient::new(app).await.unwrap();
    client.get("/health/live").send().await.assert_status(404);
    client.get("/metrics").send().await.assert_status(404);
}
