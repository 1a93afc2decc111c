//! Bare axum 0.8 baseline for the Turbine benchmarks.
//!
//! TechEmpower shapes: `GET /plaintext` answers `Hello, World!` as `text/plain`, `GET /json`
//! answers `{"message":"Hello, World!"}` serialized from a struct on every request. Both carry a
//! `Server` header; hyper adds `Date`. Listens on 127.0.0.1, port from `--port N`, then the `PORT`
//! environment variable, then 8082. Tokio multi-thread runtime with the default worker count.

use axum::{
    Json, Router,
    http::header::{HeaderName, SERVER},
    response::IntoResponse,
    routing::get,
};
use serde::Serialize;

const DEFAULT_PORT: u16 = 8082;
const SERVER_HEADER: [(HeaderName, &str); 1] = [(SERVER, "axum")];

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

async fn plaintext() -> impl IntoResponse {
    (SERVER_HEADER, "Hello, World!")
}

async fn json() -> impl IntoResponse {
    (
        SERVER_HEADER,
        Json(Message {
            message: "Hello, World!",
        }),
    )
}

/// `--port N` / `--port=N`, else `PORT`, else [`DEFAULT_PORT`].
fn port() -> u16 {
    let mut args = std::env::args().skip(1);
    let mut from_args = None;
    while let Some(arg) = args.next() {
        if arg == "--port" {
            from_args = args.next();
        } else if let Some(v) = arg.strip_prefix("--port=") {
            from_args = Some(v.to_owned());
        }
    }
    from_args
        .or_else(|| std::env::var("PORT").ok())
        .map(|p| p.parse().expect("port must be a number 0..=65535"))
        .unwrap_or(DEFAULT_PORT)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = Router::new()
        .route("/plaintext", get(plaintext))
        .route("/json", get(json));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port())).await?;
    axum::serve(listener, app).await
}
