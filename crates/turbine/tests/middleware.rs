//! The default middleware stack, driven in-process.

use std::time::Duration;

use turbine::middleware::{ClientIp, RequestId};
use turbine::prelude::*;
use turbine::testing::{self, TestClient};

async fn client_with(toml: &str, app: App) -> TestClient {
    TestClient::new(app.config(testing::config(toml)))
        .await
        .unwrap()
}

async fn hello() -> &'static str {
    "hello"
}

#[tokio::test]
async fn request_id_is_generated_and_echoed() {
    let app = App::new().route("/", get(|id: RequestId| async move { id.to_string() }));
    let client = client_with("", app).await;
    let a = client.get("/").send().await.assert_status(200);
    let b = client.get("/").send().await;
    let id = a.header("x-request-id").expect("echoed");
    assert_eq!(id.len(), 36, "a uuid: {id}");
    assert_eq!(a.text(), id, "the handler sees the same id");
    assert_ne!(b.header("x-request-id"), Some(id), "fresh per request");
}

#[tokio::test]
async fn request_id_is_taken_from_trusted_proxies_only() {
    let app = App::new().route("/", get(|id: RequestId| async move { id.to_string() }));
    let client = client_with("[server]\ntrusted_proxies = ['10.0.0.0/8']\n", app).await;
    let trusted = client
        .get("/")
        .peer("10.1.2.3:5000")
        .header("x-request-id", "from-the-proxy-123")
        .send()
        .await;
    assert_eq!(trusted.header("x-request-id"), Some("from-the-proxy-123"));
    assert_eq!(trusted.text(), "from-the-proxy-123");

    let untrusted = client
        .get("/")
        .peer("203.0.113.5:5000")
        .header("x-request-id", "forged")
        .send()
        .await;
    assert_ne!(untrusted.header("x-request-id"), Some("forged"));
    assert_ne!(untrusted.text(), "forged");

    let invalid = client
        .get("/")
        .peer("10.1.2.3:5000")
        .header("x-request-id", &"x".repeat(500))
        .send()
        .await;
    assert_eq!(
        invalid.header("x-request-id").unwrap().len(),
        36,
        "too long: replaced"
    );
}

#[tokio::test]
async fn client_ip_honours_forwarded_for_from_trusted_proxies_only() {
    let app = App::new().route(
        "/ip",
        get(|ClientIp(ip): ClientIp| async move { ip.to_string() }),
    );
    let client = client_with("[server]\ntrusted_proxies = ['10.0.0.0/8']\n", app).await;
    let via_proxy = client
        .get("/ip")
        .peer("10.0.0.1:1")
        .header("x-forwarded-for", "198.51.100.4, 10.0.0.9")
        .send()
        .await;
    assert_eq!(via_proxy.text(), "198.51.100.4");
    let direct = client
        .get("/ip")
        .peer("198.51.100.77:1")
        .header("x-forwarded-for", "1.1.1.1")
        .send()
        .await;
    assert_eq!(direct.text(), "198.51.100.77");
}

#[tokio::test]
async fn body_over_the_limit_is_413_problem() {
    let app = App::new().route(
        "/upload",
        post(|body: axum::body::Bytes| async move { body.len().to_string() }),
    );
    let client = client_with("[http]\nbody_limit = 16\n", app).await;
    client
        .post("/upload")
        .body("small")
        .send()
        .await
        .assert_status(200);

    // Declared too large: rejected before the handler.
    let res = client
        .post("/upload")
        .header("content-length", "64")
        .body(vec![b'x'; 64])
        .send()
        .await
        .assert_status(413);
    let p = res.problem();
    assert_eq!(p.status, 413);
    assert!(p.detail.unwrap().contains("16 bytes"));
    assert_eq!(p.instance.as_deref(), res.header("x-request-id"));
}

#[tokio::test]
async fn streamed_body_over_the_limit_is_413_problem() {
    // No Content-Length: the limit trips while the extractor reads the body.
    let app = App::new().route(
        "/upload",
        post(|body: axum::body::Bytes| async move { body.len().to_string() }),
    );
    let built = app
        .config(testing::config("[http]\nbody_limit = 16\n"))
        .build()
        .await
        .unwrap();
    let stream = futures_util::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 8])));
    let req = http::Request::post("/upload")
        .body(axum::body::Body::from_stream(stream))
        .unwrap();
    let res = tower::ServiceExt::oneshot(built.router(), req)
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}

#[tokio::test(start_paused = true)]
async fn slow_handler_past_the_timeout_gets_a_problem() {
    let app = App::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            "finally"
        }),
    );
    let client = client_with("[http]\nrequest_timeout = '2s'\n", app).await;
    let res = client.get("/slow").send().await.assert_status(503);
    let p = res.problem();
    assert!(p.detail.unwrap().contains("2s"));

    let app = App::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            "finally"
        }),
    );
    let client = client_with(
        "[http]\nrequest_timeout = '2s'\ntimeout_status = 408\n",
        app,
    )
    .await;
    client
        .get("/slow")
        .send()
        .await
        .assert_status(408)
        .problem();
}

#[tokio::test]
async fn handler_panic_is_a_500_problem_that_leaks_nothing() {
    let app = App::new().route(
        "/boom",
        get(|| async {
            if true {
                panic!("database password is hunter2");
            }
            "unreachable"
        }),
    );
    let client = client_with("", app).await;
    let res = client.get("/boom").send().await.assert_status(500);
    assert!(!res.text().contains("hunter2"), "{}", res.text());
    let p = res.problem();
    assert_eq!(p.title, "Internal Server Error");
    assert_eq!(p.detail, None);
    assert_eq!(p.instance.as_deref(), res.header("x-request-id"));
    // The app keeps serving.
    client.get("/boom").send().await.assert_status(500);
}

#[tokio::test]
async fn security_headers_are_present_and_hsts_only_when_enabled() {
    let client = client_with("", App::new().route("/", get(hello))).await;
    let res = client.get("/").send().await;
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(res.header("x-frame-options"), Some("DENY"));
    assert_eq!(
        res.header("content-security-policy"),
        Some("frame-ancestors 'none'")
    );
    assert_eq!(res.header("referrer-policy"), Some("same-origin"));
    assert_eq!(res.header("server"), Some("turbine"));
    assert!(
        res.header("strict-transport-security").is_none(),
        "no HSTS outside prod"
    );

    let client = client_with(
        "[security]\nhsts = true\n",
        App::new().route("/", get(hello)),
    )
    .await;
    let res = client.get("/").send().await;
    assert_eq!(
        res.header("strict-transport-security"),
        Some("max-age=31536000; includeSubDomains")
    );
}

#[tokio::test]
async fn handlers_can_override_a_security_header() {
    let app = App::new().route(
        "/embed",
        get(|| async { ([("x-frame-options", "SAMEORIGIN")], "embeddable") }),
    );
    let client = client_with("", app).await;
    let res = client.get("/embed").send().await;
    assert_eq!(res.header("x-frame-options"), Some("SAMEORIGIN"));
}

#[tokio::test]
async fn unknown_route_is_404_problem() {
    let client = client_with("", App::new().route("/", get(hello))).await;
    let res = client.get("/missing").send().await.assert_status(404);
    let p = res.problem();
    assert_eq!(p.detail.as_deref(), Some("No route matches /missing."));
    assert!(p.instance.is_some());
}

#[tokio::test]
async fn wrong_method_is_405_problem_with_allow() {
    let client = client_with("", App::new().route("/", get(hello).post(hello))).await;
    let res = client.delete("/").send().await.assert_status(405);
    let allow = res.header("allow").expect("Allow header kept");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let p = res.problem();
    assert!(p.detail.unwrap().contains("Allow"));
}

#[tokio::test]
async fn axum_rejections_become_problems_with_their_message() {
    #[derive(serde::Deserialize)]
    struct Post {
        #[allow(dead_code)]
        title: String,
    }
    let app = App::new().route("/posts", post(|Json(_p): Json<Post>| async { "ok" }));
    let client = client_with("", app).await;
    let res = client
        .post("/posts")
        .header("content-type", "application/json")
        .body("{\"title\": 5}")
        .send()
        .await
        .assert_status(422);
    let p = res.problem();
    assert!(
        p.detail.unwrap().contains("title"),
        "the rejection text is the detail"
    );
    let res = client
        .post("/posts")
        .body("x")
        .send()
        .await
        .assert_status(415);
    res.problem();
}

#[tokio::test]
async fn handler_errors_become_problems() {
    let app = App::new()
        .route(
            "/teapot",
            get(|| async {
                Err::<(), _>(Problem::new(http::StatusCode::IM_A_TEAPOT).detail("short and stout"))
            }),
        )
        .route(
            "/missing",
            get(|| async { Err::<(), _>(turbine::Error::not_found()) }),
        )
        .route(
            "/oops",
            get(|| async {
                Err::<(), _>(turbine::Error::other(
                    "loading",
                    std::io::Error::other("disk on fire"),
                ))
            }),
        );
    let client = client_with("", app).await;
    let p = client
        .get("/teapot")
        .send()
        .await
        .assert_status(418)
        .problem();
    assert_eq!(p.detail.as_deref(), Some("short and stout"));
    assert!(p.instance.is_some());
    client
        .get("/missing")
        .send()
        .await
        .assert_status(404)
        .problem();
    let res = client.get("/oops").send().await.assert_status(500);
    assert!(!res.text().contains("disk"), "{}", res.text());
}

#[tokio::test]
async fn host_header_is_checked_against_allowed_hosts() {
    let app = App::new().route("/", get(hello));
    let client = client_with(
        "[server]\nallowed_hosts = ['api.example.com', '.example.org']\n",
        app,
    )
    .await;
    client
        .get("/")
        .header("host", "api.example.com")
        .send()
        .await
        .assert_status(200);
    client
        .get("/")
        .header("host", "api.example.com:8443")
        .send()
        .await
        .assert_status(200);
    client
        .get("/")
        .header("host", "example.org")
        .send()
        .await
        .assert_status(200);
    client
        .get("/")
        .header("host", "www.example.org")
        .send()
        .await
        .assert_status(200);
    let res = client
        .get("/")
        .header("host", "evil.com")
        .send()
        .await
        .assert_status(400);
    assert_eq!(res.problem().title, "Invalid Host header");
    client
        .get("/")
        .header("host", "notexample.org")
        .send()
        .await
        .assert_status(400);
}

#[tokio::test]
async fn cors_follows_the_config() {
    let app = App::new().route("/api", get(hello));
    let client = client_with(
        "[cors]\nallowed_origins = ['https://app.example.com']\n",
        app,
    )
    .await;
    let res = client
        .request(http::Method::OPTIONS, "/api")
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "GET")
        .send()
        .await;
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    let res = client
        .get("/api")
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert!(res.header("access-control-allow-origin").is_none());

    let client = client_with("", App::new().route("/api", get(hello))).await;
    let res = client
        .get("/api")
        .header("origin", "https://app.example.com")
        .send()
        .await;
    assert!(
        res.header("access-control-allow-origin").is_none(),
        "off unless configured"
    );
}

#[tokio::test]
async fn responses_are_compressed_when_accepted_unless_disabled() {
    let big = "turbine ".repeat(200);
    let body = big.clone();
    let app = App::new().route("/big", get(move || async move { body }));
    let client = client_with("", app).await;
    let res = client
        .get("/big")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    assert!(res.bytes().len() < big.len() / 4);

    let body = big.clone();
    let app = App::new().route("/big", get(move || async move { body }));
    let client = client_with("[http]\ncompression = false\n", app).await;
    let res = client
        .get("/big")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    assert!(res.header("content-encoding").is_none());
    assert_eq!(res.text(), big);
}

#[tokio::test]
async fn app_layers_wrap_the_routes_added_before_them() {
    use tower_http::set_header::SetResponseHeaderLayer;
    let app = App::new()
        .route("/inner", get(hello))
        .layer(SetResponseHeaderLayer::overriding(
            http::HeaderName::from_static("x-layer"),
            http::HeaderValue::from_static("yes"),
        ))
        .route("/outer", get(hello));
    let client = client_with("", app).await;
    assert_eq!(
        client.get("/inner").send().await.header("x-layer"),
        Some("yes")
    );
    assert_eq!(client.get("/outer").send().await.header("x-layer"), None);
}

#[tokio::test]
async fn nested_and_merged_axum_routers_work() {
    let api: axum::Router =
        axum::Router::new().route("/ping", axum::routing::get(|| async { "pong" }));
    let app = App::new()
        .nest("/api", api)
        .merge(Routes::new().route("/merged", get(hello)));
    let client = client_with("", app).await;
    assert_eq!(
        client
            .get("/api/ping")
            .send()
            .await
            .assert_status(200)
            .text(),
        "pong"
    );
    client.get("/merged").send().await.assert_status(200);
}

#[tokio::test]
async fn repeated_response_headers_survive_the_stack() {
    let app = App::new().route(
        "/login",
        get(|| async {
            (
                axum::response::AppendHeaders([
                    ("set-cookie", "a=1; Path=/"),
                    ("set-cookie", "b=2; Path=/"),
                ]),
                "ok",
            )
        }),
    );
    let client = client_with("", app).await;
    let res = client.get("/login").send().await;
    let cookies: Vec<_> = res.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert_eq!(client.cookies().len(), 2);
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn problems_are_compressed_whole_when_the_client_accepts_gzip() {
    #[derive(serde::Deserialize)]
    struct Post {
        #[allow(dead_code)]
        title: String,
    }
    let app = App::new().route("/posts", post(|Json(_p): Json<Post>| async { "ok" }));
    let client = client_with("", app).await;
    for res in [
        client
            .get("/missing")
            .header("accept-encoding", "gzip")
            .send()
            .await,
        client
            .post("/posts")
            .header("accept-encoding", "gzip")
            .header("content-type", "application/json")
            .body("{\"title\": 5}")
            .send()
            .await,
    ] {
        assert!(res.status().is_client_error());
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
        match res.header("content-encoding") {
            // gzip magic: the body really is gzip, not plain JSON under a gzip label
            Some("gzip") => assert_eq!(&res.bytes()[..2], &[0x1f, 0x8b]),
            other => panic!("expected a gzip body, got {other:?}: {:?}", res.bytes()),
        }
    }
}

#[tokio::test]
async fn refusing_identity_does_not_turn_a_done_request_into_406() {
    let app = App::new().route("/", post(|| async { "created".repeat(20) }));
    let client = client_with("", app).await;
    let res = client
        .post("/")
        .header("accept-encoding", "br;q=0, gzip;q=0, identity;q=0")
        .send()
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.header("content-encoding").is_none());
}

#[tokio::test]
async fn repeated_problem_headers_survive() {
    let app = App::new().route(
        "/private",
        get(|| async {
            Err::<(), _>(
                Problem::new(http::StatusCode::UNAUTHORIZED)
                    .header(
                        http::header::WWW_AUTHENTICATE,
                        http::HeaderValue::from_static("Bearer"),
                    )
                    .header(
                        http::header::WWW_AUTHENTICATE,
                        http::HeaderValue::from_static("Basic realm=\"x\""),
                    ),
            )
        }),
    );
    let client = client_with("", app).await;
    let res = client.get("/private").send().await.assert_status(401);
    assert_eq!(res.headers().get_all("www-authenticate").iter().count(), 2);
    res.problem();
}

#[tokio::test]
async fn absolute_form_requests_cannot_bypass_the_host_check() {
    let app = App::new().route("/", get(hello));
    let client = client_with("[server]\nallowed_hosts = ['api.example.com']\n", app).await;
    client
        .get("http://api.example.com/")
        .header("host", "evil.com")
        .send()
        .await
        .assert_status(400);
    client
        .get("http://api.example.com/")
        .header("host", "api.example.com")
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn unknown_methods_share_one_metrics_label() {
    let app = App::new().route("/", get(hello));
    let client = client_with("", app).await;
    for i in 0..5 {
        let method = http::Method::from_bytes(format!("FOO{i}").as_bytes()).unwrap();
        client
            .request(method, "/nowhere")
            .send()
            .await
            .assert_status(404);
    }
    let text = client.get("/metrics").send().await.text();
    assert!(!text.contains("FOO"), "{text}");
    assert!(
        text.contains(r#"http_request_duration_seconds_count{method="OTHER",route="unmatched",status="404"} 5"#),
        "{text}"
    );
}
