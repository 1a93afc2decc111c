//! HTTP details shared by the handlers: JSON bodies with a strong `ETag`, conditional reads
//! (`If-None-Match` → 304) and conditional writes (`If-Match` → 412).

use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::{CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH};
use http::{HeaderMap, HeaderValue, StatusCode};
use turbine_core::problem::Problem;

/// A strong entity tag for a representation: its bytes' 128-bit XXH3 hash (a specified,
/// seedless hash: every node and every restart gives the same tag; change detection needs no
/// cryptographic digest).
pub(crate) fn etag_of(bytes: &[u8]) -> String {
    let digest = xxhash_rust::xxh3::xxh3_128(bytes).to_le_bytes();
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(digest))
}

/// Whether a header listing entity tags (`If-None-Match`, `If-Match`) names `etag` (or `*`).
/// `weak` compares weakly (a `W/` prefix is ignored), as `If-None-Match` does.
fn matches(headers: &HeaderMap, name: http::HeaderName, etag: &str, weak: bool) -> Option<bool> {
    let mut any = false;
    let mut hit = false;
    for value in headers.get_all(name) {
        let Ok(text) = value.to_str() else { continue };
        // An empty header names no entity tag: as if it were absent.
        if text.trim().is_empty() {
            continue;
        }
        any = true;
        for tag in text.split(',').map(str::trim) {
            let tag = if weak {
                tag.trim_start_matches("W/")
            } else {
                tag
            };
            if tag == "*" || tag == etag {
                hit = true;
            }
        }
    }
    any.then_some(hit)
}

/// A JSON response with its `ETag`; for a 200 whose request's `If-None-Match` names the tag,
/// a 304 without a body instead.
pub(crate) fn json_response(status: StatusCode, bytes: Vec<u8>, request: &HeaderMap) -> Response {
    let etag = etag_of(&bytes);
    let tag = HeaderValue::from_str(&etag).expect("an entity tag is a valid header");
    if status == StatusCode::OK && matches(request, IF_NONE_MATCH, &etag, true) == Some(true) {
        return (StatusCode::NOT_MODIFIED, [(ETAG, tag)]).into_response();
    }
    (
        status,
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (ETAG, tag),
        ],
        bytes,
    )
        .into_response()
}

/// Refuses a write whose `If-Match` does not name the current representation's tag (412);
/// without `If-Match`, the write goes ahead.
pub(crate) fn check_if_match(request: &HeaderMap, current: &[u8]) -> turbine_core::Result<()> {
    match matches(request, IF_MATCH, &etag_of(current), false) {
        Some(false) => Err(Problem::new(StatusCode::PRECONDITION_FAILED).detail(
            "The object has changed since you read it (If-Match does not match its ETag); read it again and retry.",
        ).into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tags_compare_strongly_for_if_match_and_weakly_for_if_none_match() {
        let tag = etag_of(b"{}");
        let mut h = HeaderMap::new();
        h.insert(
            IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"x\", W/{tag}")).unwrap(),
        );
        assert_eq!(matches(&h, IF_NONE_MATCH, &tag, true), Some(true));
        h.insert(
            IF_MATCH,
            HeaderValue::from_str(&format!("W/{tag}")).unwrap(),
        );
        assert_eq!(matches(&h, IF_MATCH, &tag, false), Some(false));
        h.insert(IF_MATCH, HeaderValue::from_static("*"));
        assert_eq!(matches(&h, IF_MATCH, &tag, false), Some(true));
        assert_eq!(matches(&HeaderMap::new(), IF_MATCH, &tag, false), None);
    }
}
