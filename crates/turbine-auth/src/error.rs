//! The auth battery's errors and their one mapping to HTTP problems.

use std::time::Duration;

use http::{HeaderValue, StatusCode};
use turbine_core::problem::Problem;

/// The auth battery's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a token (access JWT, refresh token, API key, one-time link) was refused. The reason goes
/// to logs at debug level; clients only ever see "invalid or expired token".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a token of the expected shape.
    #[error("malformed token")]
    Malformed,
    /// The signature does not verify with the configured key.
    #[error("bad signature")]
    BadSignature,
    /// Signed with an algorithm not on the allow-list (including `none`).
    #[error("algorithm not allowed")]
    Algorithm,
    /// Past its expiry.
    #[error("expired")]
    Expired,
    /// Its not-before time has not come yet.
    #[error("not yet valid")]
    NotYetValid,
    /// Issued for another audience.
    #[error("wrong audience")]
    Audience,
    /// Issued by someone else.
    #[error("wrong issuer")]
    Issuer,
    /// Revoked, rotated or already used.
    #[error("revoked")]
    Revoked,
    /// Unknown to the server.
    #[error("unknown token")]
    Unknown,
}

/// One field's validation message (`{"field": "password", "message": "…"}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field, as the client sent it.
    pub field: String,
    /// What is wrong, for a person to read.
    pub message: String,
}

impl FieldError {
    /// A message about one field.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Everything that can go wrong in the auth battery.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Email or password wrong (never says which).
    #[error("invalid email or password")]
    InvalidCredentials,
    /// The request carries no (valid) credentials.
    #[error("authentication required")]
    Unauthenticated,
    /// A token was refused.
    #[error("invalid token: {0}")]
    Token(#[from] TokenError),
    /// Authenticated, but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The account is disabled.
    #[error("account disabled")]
    Inactive,
    /// Too many attempts; try again after this long.
    #[error("too many attempts; retry after {retry_after:?}")]
    Throttled {
        /// How long until the next attempt is allowed.
        retry_after: Duration,
    },
    /// Input failed validation (password policy, email format…).
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// The object does not exist (or is not the user's).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A cross-site request to a cookie-authenticated endpoint.
    #[error("CSRF check failed: {0}")]
    Csrf(&'static str),
    /// The database failed.
    #[error(transparent)]
    Orm(#[from] turbine_orm::Error),
    /// Sending mail failed.
    #[error("mail: {0}")]
    Mail(String),
    /// The session or rate-limit store failed.
    #[error("store: {0}")]
    Store(String),
    /// Something else that is the server's fault (hashing failed, bad configuration…).
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    /// One validation message.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The RFC 9457 problem this error is shown as. Server faults are logged here and shown
    /// without detail.
    pub fn to_problem(&self) -> Problem {
        match self {
            Error::InvalidCredentials => unauthorized("invalid email or password", None),
            Error::Unauthenticated => unauthorized("authentication required", None),
            Error::Token(reason) => {
                tracing::debug!(%reason, "token refused");
                unauthorized("invalid or expired token", Some("invalid_token"))
            }
            Error::Forbidden(why) => Problem::new(StatusCode::FORBIDDEN).detail(why.clone()),
            Error::Inactive => {
                Problem::new(StatusCode::FORBIDDEN).detail("this account is disabled")
            }
            Error::Throttled { retry_after } => {
                let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
                Problem::new(StatusCode::TOO_MANY_REQUESTS)
                    .detail(format!("too many attempts; try again in {secs} s"))
                    .header(http::header::RETRY_AFTER, HeaderValue::from(secs))
            }
            Error::Validation(errors) => errors.iter().fold(
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
                    .detail("the request has invalid fields"),
                |p, e| p.field_error(&e.field, &e.message),
            ),
            Error::NotFound(what) => {
                Problem::new(StatusCode::NOT_FOUND).detail(format!("no such {what}"))
            }
            Error::Csrf(why) => Problem::new(StatusCode::FORBIDDEN)
                .title("CSRF check failed")
                .detail(*why),
            Error::Orm(e) => e.to_problem(),
            Error::Mail(e) | Error::Store(e) | Error::Internal(e) => {
                tracing::error!(error = %e, "auth: server error");
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

/// 401 with `WWW-Authenticate: Bearer` (RFC 6750), naming the error when a token was refused.
fn unauthorized(detail: &str, error: Option<&str>) -> Problem {
    let challenge = match error {
        Some(e) => format!("Bearer realm=\"api\", error=\"{e}\""),
        None => "Bearer realm=\"api\"".to_string(),
    };
    Problem::new(StatusCode::UNAUTHORIZED)
        .detail(detail)
        .header(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_str(&challenge).expect("ASCII"),
        )
}

impl axum::response::IntoResponse for Error {
    fn into_response(self) -> axum::response::Response {
        self.to_problem().into_response()
    }
}

/// So handlers returning `turbine::Result` can use `?` on auth calls: client errors keep their
/// problem (401, 403, 422, 429…); server faults become [`turbine_core::Error::Other`].
impl From<Error> for turbine_core::Error {
    fn from(err: Error) -> Self {
        match err {
            Error::Orm(e) => e.into(),
            Error::Mail(_) | Error::Store(_) | Error::Internal(_) => {
                turbine_core::Error::other("auth", err)
            }
            e => turbine_core::Error::Http(Box::new(e.to_problem())),
        }
    }
}
