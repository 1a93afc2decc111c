//! Turbine under the TechEmpower plaintext and JSON shapes, as an application would write them.
//!
//! `GET /plaintext` answers `Hello, World!`, `GET /json` answers `{"message":"Hello, World!"}`
//! serialized from a struct on every request. Everything else (CLI, config, the `Server` and
//! `Date` headers, the production middleware stack) is Turbine's default. `bench/run` starts it as
//! `TURBINE_ENV=prod TURBINE_SECRET_KEY=… TURBINE_SERVER__ALLOWED_HOSTS='["*"]'
//! bench-turbine serve --host 127.0.0.1 --port 8081`.

use serde::Serialize;
use turbine::prelude::*;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

#[tokio::main]
async fn main() -> turbine::Result<()> {
    App::new()
        .route("/plaintext", get(|| async { "Hello, World!" }))
        .route(
            "/json",
            get(|| async {
                Json(Message {
                    message: "Hello, World!",
                })
            }),
        )
        .run()
        .await
}
