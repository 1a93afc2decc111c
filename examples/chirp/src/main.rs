//! `cargo run --release -p chirp` serves Chirp on http://127.0.0.1:8000 with embedded defaults;
//! `cargo run -p chirp -- --help` lists the other commands.

#[tokio::main]
async fn main() -> turbine::Result<()> {
    chirp::app().run().await
}
