//! Graceful shutdown over a real socket.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use turbine::prelude::*;
use turbine::testing::{self, TestServer};

/// Sends one HTTP/1.1 request on a fresh connection and reads until the server closes it.
async fn raw_get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut out = String::new();
    stream.read_to_string(&mut out).await?;
    Ok(out)
}

/// Waits (bounded) until the port refuses connections.
async fn refused(addr: std::net::SocketAddr) -> bool {
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn in_flight_request_finishes_new_connections_are_refused_hooks_run() {
    let started = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let events = Arc::new(Mutex::new(Vec::<&str>::new()));
    let (s, r, e) = (started.clone(), release.clone(), events.clone());
    let e2 = events.clone();
    let app = App::new()
        .config(testing::config(""))
        .route(
            "/slow",
            get(move || {
                let (s, r, e) = (s.clone(), r.clone(), e.clone());
                async move {
                    s.notify_one();
                    r.notified().await;
                    e.lock().unwrap().push("request finished");
                    "done"
                }
            }),
        )
        .setup(move |setup| {
            setup.on_shutdown(move |_ctx| async move {
                e2.lock().unwrap().push("shutdown hook");
            });
            Ok(())
        });
    let mut server = TestServer::start(app).await.unwrap();
    let addr = server.addr();
    let slow = tokio::spawn(async move { raw_get(addr, "/slow").await });
    started.notified().await;

    server.begin_shutdown();
    assert!(
        refused(addr).await,
        "new connections must be refused once shutdown begins"
    );

    release.notify_one();
    let response = slow
        .await
        .unwrap()
        .expect("the in-flight request completes");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("done"), "{response}");
    server.shutdown().await.unwrap();
    assert_eq!(
        *events.lock().unwrap(),
        ["request finished", "shutdown hook"]
    );
}

#[tokio::test]
async fn requests_past_the_drain_deadline_are_cut_off() {
    let started = Arc::new(Notify::new());
    let s = started.clone();
    let app = App::new()
        .config(testing::config(
            "[server]\nshutdown_timeout = '200ms'\n[http]\nrequest_timeout = '1h'\n",
        ))
        .route(
            "/forever",
            get(move || {
                let s = s.clone();
                async move {
                    s.notify_one();
                    std::future::pending::<()>().await;
                    "never"
                }
            }),
        );
    let server = TestServer::start(app).await.unwrap();
    let addr = server.addr();
    let stuck = tokio::spawn(async move { raw_get(addr, "/forever").await });
    started.notified().await;
    tokio::time::timeout(Duration::from_secs(30), server.shutdown())
        .await
        .expect("serve returns after the deadline")
        .unwrap();
    // The connection is dropped without a response.
    let out = tokio::time::timeout(Duration::from_secs(30), stuck)
        .await
        .unwrap()
        .unwrap();
    assert!(out.map(|s| s.is_empty()).unwrap_or(true));
}

#[tokio::test]
async fn serves_over_the_socket_with_the_default_stack() {
    let app = App::new()
        .config(testing::config(""))
        .route("/", get(|| async { "hi" }));
    let server = TestServer::start(app).await.unwrap();
    let res = server.get("/").await.unwrap().assert_status(200);
    assert_eq!(res.text(), "hi");
    assert!(res.header("x-request-id").is_some());
    assert!(res.header("date").is_some(), "hyper adds Date");
    server
        .get("/missing")
        .await
        .unwrap()
        .assert_status(404)
        .problem();
    server.shutdown().await.unwrap();
}
