//! CSRF protection for cookie-authenticated requests, and the battery's request middleware.
//!
//! An unsafe request (`POST`, `PUT`, `PATCH`, `DELETE`…) that carries a live session cookie
//! and no `Authorization` header is checked:
//!
//! 1. the browser's word on where it comes from: `Sec-Fetch-Site` (`same-origin` passes,
//!    `same-site`/`cross-site` only from `auth.csrf_trusted_origins`), else `Origin` (same
//!    host, or trusted); a cross-site request is refused with 403;
//! 2. a token as well when the body is a form (`application/x-www-form-urlencoded`,
//!    `multipart/form-data`, `text/plain` — what a cross-site page can post without asking) or
//!    when the browser said nothing about the origin: the session's CSRF token in the
//!    `X-CSRF-Token` header or (url-encoded forms) a `csrf_token` field.
//!
//! Bearer-token requests carry no ambient authority and are exempt. `GET {prefix}/csrf` hands
//! out the session's token.
//!
//! ```
//! use http::HeaderMap;
//! use turbine_auth::csrf::{Origin, classify};
//!
//! let mut h = HeaderMap::new();
//! h.insert("host", "app.example.com".parse().unwrap());
//! h.insert("origin", "https://evil.example".parse().unwrap());
//! assert_eq!(classify(&h, &[]), Origin::CrossSite);
//! h.insert("origin", "https://app.example.com".parse().unwrap());
//! assert_eq!(classify(&h, &[]), Origin::SameOrigin);
//! ```

use std::sync::{Arc, OnceLock};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method};

use crate::extract::{bearer, cookie, load_session};
use crate::service::AuthService;
use crate::{Error, token};

/// The header scripts send the token in.
pub const HEADER: &str = "x-csrf-token";
/// The form field HTML forms send the token in.
pub const FIELD: &str = "csrf_token";
/// The largest url-encoded form body read to find the token.
const FORM_LIMIT: usize = 1 << 20;

/// Where a request says it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// This site (or a trusted origin), or typed by the user.
    SameOrigin,
    /// Another site.
    CrossSite,
    /// The request does not say (an old browser, or not a browser).
    Unknown,
}

/// Classifies a request by `Sec-Fetch-Site`, then `Origin`, against its `Host` and the
/// trusted origins (`https://app.example.com`).
pub fn classify(headers: &HeaderMap, trusted: &[String]) -> Origin {
    let origin = headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    let is_trusted = |o: Option<&str>| {
        o.is_some_and(|o| {
            trusted
                .iter()
                .any(|t| t.trim_end_matches('/').eq_ignore_ascii_case(o))
        })
    };
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return match site {
            "same-origin" | "none" => Origin::SameOrigin,
            _ if is_trusted(origin) => Origin::SameOrigin,
            _ => Origin::CrossSite,
        };
    }
    let Some(origin) = origin else {
        return Origin::Unknown;
    };
    if is_trusted(Some(origin)) {
        return Origin::SameOrigin;
    }
    let host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok());
    let authority = origin.split_once("://").map(|(_, rest)| rest);
    match (authority, host) {
        (Some(a), Some(h)) if a.eq_ignore_ascii_case(h) => Origin::SameOrigin,
        _ => Origin::CrossSite,
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// A content type a cross-site HTML page can send without a CORS preflight.
fn is_simple_body(headers: &HeaderMap) -> Option<&'static str> {
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())?
        .to_ascii_lowercase();
    let essence = ct.split(';').next().unwrap_or("").trim().to_string();
    match essence.as_str() {
        "application/x-www-form-urlencoded" => Some("urlencoded"),
        "multipart/form-data" => Some("multipart"),
        "text/plain" => Some("text"),
        _ => None,
    }
}

/// The battery's handle, filled when the app starts.
pub(crate) type Handle = Arc<OnceLock<AuthService>>;

/// Puts the auth service in every request and runs the CSRF check.
pub(crate) async fn middleware(State(handle): State<Handle>, req: Request, next: Next) -> Response {
    let Some(auth) = handle.get().cloned() else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    parts
        .extensions
        .insert(crate::extract::RequestAuth::new(auth.clone()));
    let needs_check = !is_safe(&parts.method)
        && bearer(&parts).is_none()
        && cookie(&parts.headers, &auth.settings().session_cookie).is_some();
    if !needs_check {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let session = match load_session(&mut parts, &auth).await {
        Ok(Some(s)) => s,
        // A stale cookie authenticates nothing.
        Ok(None) => return next.run(Request::from_parts(parts, body)).await,
        Err(e) => return e.into_response(),
    };
    let origin = classify(&parts.headers, &auth.settings().csrf_trusted_origins);
    if origin == Origin::CrossSite {
        tracing::warn!(method = %parts.method, path = parts.uri.path(), "csrf: cross-site request refused");
        return Error::Csrf("cross-site request refused").into_response();
    }
    let form = is_simple_body(&parts.headers);
    if origin == Origin::SameOrigin && form.is_none() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let expected = session.data.csrf_token.as_bytes();
    let header = parts.headers.get(HEADER).map(|v| v.as_bytes().to_vec());
    if let Some(sent) = header {
        if token::constant_time_eq(&sent, expected) {
            return next.run(Request::from_parts(parts, body)).await;
        }
        return Error::Csrf("the CSRF token is wrong").into_response();
    }
    if form == Some("urlencoded") {
        let bytes = match axum::body::to_bytes(body, FORM_LIMIT).await {
            Ok(b) => b,
            Err(_) => return Error::Csrf("the form is too large to check").into_response(),
        };
        let sent = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == FIELD)
            .map(|(_, v)| v.into_owned());
        return match sent {
            Some(t) if token::constant_time_eq(t.as_bytes(), expected) => {
                next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                    .await
            }
            Some(_) => Error::Csrf("the CSRF token is wrong").into_response(),
            None => Error::Csrf("the form has no csrf_token field").into_response(),
        };
    }
    Error::Csrf("send the session's CSRF token in the X-CSRF-Token header").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn fetch_metadata_wins_over_origin() {
        let h = headers(&[
            ("host", "a.test"),
            ("origin", "https://a.test"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert_eq!(classify(&h, &[]), Origin::CrossSite);
        let h = headers(&[("host", "a.test"), ("sec-fetch-site", "same-origin")]);
        assert_eq!(classify(&h, &[]), Origin::SameOrigin);
    }

    #[test]
    fn trusted_origins_pass_cross_site() {
        let trusted = vec!["https://app.test/".to_string()];
        let h = headers(&[
            ("host", "api.test"),
            ("origin", "https://app.test"),
            ("sec-fetch-site", "same-site"),
        ]);
        assert_eq!(classify(&h, &trusted), Origin::SameOrigin);
        assert_eq!(classify(&h, &[]), Origin::CrossSite);
    }

    #[test]
    fn null_origin_and_silence() {
        assert_eq!(
            classify(&headers(&[("host", "a.test"), ("origin", "null")]), &[]),
            Origin::CrossSite
        );
        assert_eq!(
            classify(&headers(&[("host", "a.test")]), &[]),
            Origin::Unknown
        );
    }

    #[test]
    fn simple_bodies_are_forms() {
        let h = headers(&[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )]);
        assert_eq!(is_simple_body(&h), Some("urlencoded"));
        let h = headers(&[("content-type", "application/json")]);
        assert_eq!(is_simple_body(&h), None);
    }
}
