//! The error type of Turbine's core, and its one mapping to HTTP.

use axum::response::{IntoResponse, Response};

use crate::config::ConfigError;
use crate::problem::Problem;

/// A boxed error from anywhere.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in Turbine's core, in a handler, or in a battery hook.
///
/// Handlers may return it: an [`Error::Http`] becomes its problem response, everything else a
/// 500 problem that reveals nothing (the cause is logged with the request id).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An I/O error (binding the socket, reading a file).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// An HTTP error meant for the client, as a problem.
    #[error("{} {}{}", .0.status.as_u16(), .0.title, .0.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Http(Box<Problem>),
    /// A handler or battery asked the context for something no installed battery provides.
    #[error(
        "nothing of type `{type_name}` in the context: is the battery that provides it installed?"
    )]
    Missing {
        /// The type asked for.
        type_name: &'static str,
    },
    /// A battery was installed twice.
    #[error("battery `{0}` is installed twice")]
    DuplicateBattery(String),
    /// A command-line usage error.
    #[error("{0}")]
    Usage(String),
    /// Anything else, with what was being done.
    #[error("{context}: {source}")]
    Other {
        /// What was being done.
        context: String,
        /// The cause.
        source: BoxError,
    },
}

impl Error {
    /// Wraps any error with what was being done.
    pub fn other(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Other {
            context: context.into(),
            source: source.into(),
        }
    }

    /// A 404 for the client.
    pub fn not_found() -> Self {
        Problem::not_found().into()
    }

    /// A 400 for the client, with a detail.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::bad_request(detail).into()
    }

    /// The problem this error shows a client. Server-side errors say nothing about their cause.
    pub fn to_problem(&self) -> Problem {
        match self {
            Error::Http(problem) => (**problem).clone(),
            Error::Config(_)
            | Error::Io(_)
            | Error::Missing { .. }
            | Error::DuplicateBattery(_)
            | Error::Usage(_)
            | Error::Other { .. } => Problem::internal(),
        }
    }
}

impl From<Problem> for Error {
    fn from(problem: Problem) -> Self {
        Error::Http(Box::new(problem))
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let problem = self.to_problem();
        if problem.status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        problem.into_response()
    }
}
