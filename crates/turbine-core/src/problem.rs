//! RFC 9457 problem details: the body of every error response.
//!
//! ```
//! use turbine_core::problem::Problem;
//! use http::StatusCode;
//!
//! let problem = Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
//!     .detail("The post could not be saved.")
//!     .field_error("title", "may not be empty");
//! let json = serde_json::to_value(&problem).unwrap();
//! assert_eq!(json["status"], 422);
//! assert_eq!(json["title"], "Unprocessable Entity");
//! assert_eq!(json["errors"][0]["field"], "title");
//! ```

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem: `type`, `title`, `status`, `detail`, `instance`, plus extension members.
///
/// The response middleware fills `instance` with the request id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// A URI naming the problem type; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short human-readable summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    #[serde(with = "status_code")]
    pub status: StatusCode,
    /// Explanation specific to this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Identifies this occurrence: the request id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Extension members such as `errors` (field errors).
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
    /// Headers to send with the problem (`Allow`, `Retry-After`, `WWW-Authenticate`…).
    #[serde(skip)]
    pub headers: HeaderMap,
}

impl Problem {
    /// A problem of type `about:blank` whose title is the status' reason phrase.
    pub fn new(status: StatusCode) -> Self {
        Self {
            type_uri: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status,
            detail: None,
            instance: None,
            extensions: Map::new(),
            headers: HeaderMap::new(),
        }
    }

    /// Sets the detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Sets the type URI.
    pub fn type_uri(mut self, uri: impl Into<String>) -> Self {
        self.type_uri = uri.into();
        self
    }

    /// Adds an extension member.
    pub fn extension(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extensions.insert(key.into(), value.into());
        self
    }

    /// Adds an error for one field to the `errors` member: `[{"field": …, "message": …}]`.
    pub fn field_error(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        let entry = serde_json::json!({ "field": field.into(), "message": message.into() });
        match self.extensions.get_mut("errors") {
            Some(Value::Array(list)) => list.push(entry),
            _ => {
                self.extensions
                    .insert("errors".into(), Value::Array(vec![entry]));
            }
        }
        self
    }

    /// Adds a header to the response.
    pub fn header(mut self, name: http::HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// 400 Bad Request with a detail.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST).detail(detail)
    }

    /// 404 Not Found.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND)
    }

    /// 500 Internal Server Error, with nothing about the cause.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The JSON body.
    pub fn to_body(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a problem always serializes")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = self.to_body();
        let mut res = (self.status, body).into_response();
        res.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        for (name, value) in &self.headers {
            res.headers_mut().append(name, value.clone());
        }
        // The response middleware reads this to add `instance` without parsing the body.
        res.extensions_mut().insert(self);
        res
    }
}

mod status_code {
    use http::StatusCode;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(s: &StatusCode, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_u16(s.as_u16())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<StatusCode, D::Error> {
        let n = u16::deserialize(de)?;
        StatusCode::from_u16(n).map_err(serde::de::Error::custom)
    }
}
