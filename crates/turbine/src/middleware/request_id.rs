//! The request id: generated per request (or taken from a trusted proxy), echoed on the response,
//! recorded in the request's log span, and used as `instance` in problem responses.
//!
//! ```no_run
//! use turbine::prelude::*;
//! use turbine::middleware::RequestId;
//!
//! async fn show(id: RequestId) -> String {
//!     format!("your request id is {id}")
//! }
//! # let _ = App::new().route("/id", get(show));
//! ```

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use http::HeaderValue;
use http::request::Parts;
use turbine_core::context::Context;

/// The id of the current request, as sent in the `X-Request-Id` response header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub(crate) HeaderValue);

impl RequestId {
    /// The id of the request this task is handling right now (set by the default stack while a
    /// request's handler runs), e.g. for an error report.
    pub fn current() -> Option<RequestId> {
        crate::observability::current_request_id().map(RequestId)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromRequestParts<Context> for RequestId {
    type Rejection = Infallible;

    /// The id the default stack put in the request id header (`http.request_id_header`); a fresh
    /// one if the request did not pass through it.
    async fn from_request_parts(parts: &mut Parts, ctx: &Context) -> Result<Self, Self::Rejection> {
        let name = ctx.config().settings().http.request_id_header.as_str();
        Ok(RequestId(
            parts
                .headers
                .get(name)
                .cloned()
                .unwrap_or_else(new_request_id),
        ))
    }
}

/// A fresh random (v4) UUID.
pub(crate) fn new_request_id() -> HeaderValue {
    let mut buf = uuid::Uuid::encode_buffer();
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(text).expect("a uuid is a valid header value")
}

/// Accepts ids of 1 to 128 visible ASCII characters.
pub(crate) fn valid_request_id(value: &HeaderValue) -> bool {
    let b = value.as_bytes();
    !b.is_empty() && b.len() <= 128 && b.iter().all(|c| c.is_ascii_graphic())
}
