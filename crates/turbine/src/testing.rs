//! Test kit: drive an app in-process with [`TestClient`], or over a real loopback socket with
//! [`TestServer`]. Both build the app with the `test` profile (unless it was given a config).
//!
//! ```
//! use turbine::prelude::*;
//! use turbine::testing::TestClient;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let app = App::new().route("/echo", post(|Json(v): Json<serde_json::Value>| async move { Json(v) }));
//! let client = TestClient::new(app).await.unwrap();
//! let res = client
//!     .post("/echo")
//!     .json(&serde_json::json!({ "hello": "world" }))
//!     .send()
//!     .await
//!     .assert_status(200)
//!     .assert_header("content-type", "application/json");
//! assert_eq!(res.json::<serde_json::Value>()["hello"], "world");
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::ServiceExt;
use turbine_core::config::Config;
use turbine_core::context::Context;
use turbine_core::problem::Problem;
use turbine_core::{Error, Result};

use crate::app::{App, BuiltApp};

/// The URL of an external service for a test, from `TURBINE_TEST_<NAME>_URL` (e.g. `POSTGRES`).
///
/// When it is not set the test should return early: this says so loudly on stderr. With
/// `TURBINE_REQUIRE_SERVICES=1` (as `.ci/run` sets) a missing service panics instead, so CI never
/// passes by skipping.
///
/// ```no_run
/// # fn test() {
/// let Some(url) = turbine::testing::service_url("POSTGRES") else { return };
/// // connect to `url`, create a `turbine_test_<random>` database, …
/// # let _ = url;
/// # }
/// ```
///
/// # Panics
/// When the service is required and its URL is not set.
pub fn service_url(name: &str) -> Option<String> {
    service_url_from(name, |k| std::env::var(k).ok())
}

fn service_url_from(name: &str, env: impl Fn(&str) -> Option<String>) -> Option<String> {
    let var = format!("TURBINE_TEST_{}_URL", name.to_ascii_uppercase());
    match env(&var).filter(|v| !v.is_empty()) {
        Some(url) => Some(url),
        None if env("TURBINE_REQUIRE_SERVICES").is_some_and(|v| v == "1" || v == "true") => {
            panic!("{var} is not set and TURBINE_REQUIRE_SERVICES=1: this test needs that service")
        }
        None => {
            // Straight to stderr: `eprintln!` would be captured (and hidden) for a passing test.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("\n*** SKIPPED: {var} is not set, so the tests that need it do not run here ***\n").as_bytes(),
            );
            None
        }
    }
}

/// A `test`-profile config from this TOML alone (no `turbine.toml`, no environment), for tests
/// that need particular settings: `App::new().config(testing::config("[http]\nbody_limit = 16"))`.
///
/// # Panics
/// When the TOML is not a valid configuration (the message names the key).
pub fn config(toml: &str) -> Config {
    Config::builder()
        .profile("test")
        .toml(toml)
        .env_vars::<String, String>([])
        .load()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The address in-process requests come from unless [`TestRequest::peer`] says otherwise.
pub const DEFAULT_PEER: &str = "127.0.0.1:49152";

async fn build(app: App) -> Result<BuiltApp> {
    let app = match app.preset_config() {
        Some(_) => app,
        None => app.config(Config::builder().profile("test").load()?),
    };
    app.build().await
}

/// Drives an app in-process (no socket), keeping cookies between requests.
#[derive(Clone)]
pub struct TestClient {
    router: Router,
    ctx: Context,
    jar: Arc<Mutex<Vec<cookie::Cookie<'static>>>>,
}

impl std::fmt::Debug for TestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestClient").finish_non_exhaustive()
    }
}

impl TestClient {
    /// Builds and starts the app.
    pub async fn new(app: App) -> Result<Self> {
        let built = build(app).await?;
        Ok(Self {
            router: built.router(),
            ctx: built.context().clone(),
            jar: Arc::default(),
        })
    }

    /// The app's context.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// A request of any method.
    pub fn request(&self, method: Method, path: &str) -> TestRequest<'_> {
        TestRequest {
            client: self,
            method,
            path: path.to_string(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            peer: DEFAULT_PEER.parse().expect("valid address"),
        }
    }

    /// A `GET` request.
    pub fn get(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::GET, path)
    }

    /// A `POST` request.
    pub fn post(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::POST, path)
    }

    /// A `PUT` request.
    pub fn put(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::PUT, path)
    }

    /// A `PATCH` request.
    pub fn patch(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::PATCH, path)
    }

    /// A `DELETE` request.
    pub fn delete(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::DELETE, path)
    }

    /// The cookies the app has set so far (name, value).
    pub fn cookies(&self) -> Vec<(String, String)> {
        self.lock_jar()
            .iter()
            .map(|c| (c.name().to_string(), c.value().to_string()))
            .collect()
    }

    fn lock_jar(&self) -> std::sync::MutexGuard<'_, Vec<cookie::Cookie<'static>>> {
        self.jar.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn store_cookies(&self, headers: &HeaderMap) {
        let mut jar = self.lock_jar();
        for value in headers.get_all(SET_COOKIE) {
            let Some(c) = value
                .to_str()
                .ok()
                .and_then(|v| cookie::Cookie::parse(v.to_string()).ok())
            else {
                continue;
            };
            jar.retain(|old| old.name() != c.name());
            let expired = c.max_age().is_some_and(|a| a.is_zero() || a.is_negative())
                || c.expires_datetime()
                    .is_some_and(|t| t < cookie::time::OffsetDateTime::now_utc());
            if !expired {
                jar.push(c);
            }
        }
    }
}

/// A request being built by a [`TestClient`].
#[must_use = "call .send().await"]
pub struct TestRequest<'a> {
    client: &'a TestClient,
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
    peer: SocketAddr,
}

impl TestRequest<'_> {
    /// Adds a header.
    ///
    /// # Panics
    /// On an invalid header name or value.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.append(
            HeaderName::from_bytes(name.as_bytes()).expect("valid header name"),
            HeaderValue::from_str(value).expect("valid header value"),
        );
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// Sends `value` as a JSON body.
    pub fn json(mut self, value: &impl Serialize) -> Self {
        self.body = serde_json::to_vec(value).expect("serializable body").into();
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self
    }

    /// Sets the raw body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Makes the request come from this address (to test trusted proxies and client IPs).
    pub fn peer(mut self, addr: &str) -> Self {
        self.peer = addr.parse().expect("a socket address like 10.0.0.1:1234");
        self
    }

    /// Sends the request and reads the whole response.
    pub async fn send(self) -> TestResponse {
        let mut req = Request::builder()
            .method(self.method)
            .uri(&self.path)
            .body(Body::from(self.body))
            .expect("valid request");
        *req.headers_mut() = self.headers;
        if !req.headers().contains_key("host") {
            req.headers_mut()
                .insert("host", HeaderValue::from_static("localhost"));
        }
        let cookies = self.client.cookies();
        if !cookies.is_empty() && !req.headers().contains_key(COOKIE) {
            let line = cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req.headers_mut()
                .insert(COOKIE, HeaderValue::from_str(&line).expect("cookie header"));
        }
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let res = self
            .client
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("the router is infallible");
        let (parts, body) = res.into_parts();
        let body = body
            .collect()
            .await
            .expect("reading the response body")
            .to_bytes();
        self.client.store_cookies(&parts.headers);
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct TestResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl TestResponse {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// All headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    /// When the body is not valid JSON for `T` (the message shows the body).
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not the expected JSON ({e}): {}",
                self.text()
            )
        })
    }

    /// The body as a problem, checking the `application/problem+json` content type.
    ///
    /// # Panics
    /// When the response is not a problem.
    pub fn problem(&self) -> Problem {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "not a problem response: {} {}",
            self.status,
            self.text()
        );
        self.json()
    }

    /// Asserts the status.
    ///
    /// # Panics
    /// When it differs (the message shows the body).
    #[track_caller]
    pub fn assert_status(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text()
        );
        self
    }

    /// Asserts a header's value.
    ///
    /// # Panics
    /// When it is missing or differs.
    #[track_caller]
    pub fn assert_header(self, name: &str, value: &str) -> Self {
        assert_eq!(self.header(name), Some(value), "header `{name}`");
        self
    }
}

/// Serves an app on a real loopback socket, for tests that need one (shutdown, streaming).
pub struct TestServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<()>>,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Builds the app and serves it on `127.0.0.1` on a free port.
    pub async fn start(app: App) -> Result<Self> {
        let built = build(app).await?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(built.serve(listener, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            stop: Some(stop),
            task,
            http: Client::builder(TokioExecutor::new()).build_http(),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends a request over the socket.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: impl Into<Bytes>,
    ) -> Result<TestResponse> {
        let req = Request::builder()
            .method(method)
            .uri(self.url(path))
            .body(Full::new(body.into()))
            .map_err(|e| Error::other("building the request", e))?;
        let res = self
            .http
            .request(req)
            .await
            .map_err(|e| Error::other("sending the request", e))?;
        let (parts, body) = res.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| Error::other("reading the response", e))?
            .to_bytes();
        Ok(TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// Sends a `GET` over the socket.
    pub async fn get(&self, path: &str) -> Result<TestResponse> {
        self.request(Method::GET, path, Bytes::new()).await
    }

    /// Signals shutdown (as SIGTERM would) without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Signals shutdown and waits until in-flight requests have drained and the server stopped.
    pub async fn shutdown(mut self) -> Result<()> {
        self.begin_shutdown();
        self.task
            .await
            .map_err(|e| Error::other("the server task failed", e))?
    }
}

#[cfg(test)]
mod tests {
    use super::service_url_from;

    #[test]
    fn service_urls_come_from_the_environment() {
        let env = |k: &str| (k == "TURBINE_TEST_REDIS_URL").then(|| "redis://x".to_string());
        assert_eq!(service_url_from("redis", env).as_deref(), Some("redis://x"));
        assert_eq!(
            service_url_from("nats", env),
            None,
            "missing and not required: skipped"
        );
    }

    #[test]
    #[should_panic(expected = "TURBINE_TEST_NATS_URL")]
    fn a_required_missing_service_fails() {
        let env = |k: &str| (k == "TURBINE_REQUIRE_SERVICES").then(|| "1".to_string());
        service_url_from("nats", env);
    }
}
