//! Raw hyper 1.x baseline for the Turbine benchmarks: the floor a Rust framework can reach.
//!
//! TechEmpower shapes: `GET /plaintext` answers `Hello, World!` as `text/plain`, `GET /json`
//! answers `{"message":"Hello, World!"}` serialized from a struct on every request; anything else
//! is a 404. Both carry a `Server` header; hyper adds `Date`. One HTTP/1.1 connection task per
//! accepted socket (`hyper::server::conn::http1`, keep-alive on), no router, no tower. Listens on
//! 127.0.0.1, port from `--port N`, then the `PORT` environment variable, then 8083. Tokio
//! multi-thread runtime with the default worker count.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{
    Method, Request, Response, StatusCode,
    header::{CONTENT_TYPE, HeaderValue, SERVER},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use serde::Serialize;

const DEFAULT_PORT: u16 = 8083;
const PLAINTEXT: &[u8] = b"Hello, World!";

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

fn response(content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(body));
    let headers = res.headers_mut();
    headers.insert(SERVER, HeaderValue::from_static("hyper"));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

async fn handle(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() != Method::GET {
        let mut res = response("text/plain; charset=utf-8", Bytes::new());
        *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        return Ok(res);
    }
    Ok(match req.uri().path() {
        "/plaintext" => response("text/plain; charset=utf-8", Bytes::from_static(PLAINTEXT)),
        "/json" => {
            let body = serde_json::to_vec(&Message {
                message: "Hello, World!",
            })
            .expect("a struct of one string always serializes");
            response("application/json", Bytes::from(body))
        }
        _ => {
            let mut res = response("text/plain; charset=utf-8", Bytes::new());
            *res.status_mut() = StatusCode::NOT_FOUND;
            res
        }
    })
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
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port())).await?;
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            // e.g. EMFILE: keep serving the connections we have.
            Err(e) => {
                eprintln!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            // Errors here are a client hanging up mid-request: nothing to do.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(handle))
                .await;
        });
    }
}
