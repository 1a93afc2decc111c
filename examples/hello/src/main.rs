//! The Flask-sized hello world: `cargo run -p hello`, then `curl localhost:8000`.
use turbine::prelude::*;

#[tokio::main]
async fn main() -> turbine::Result<()> {
    App::new()
        .route("/", get(|| async { "Hello, world!" }))
        .run()
        .await
}
