//! The mail battery's error type.

use turbine_core::problem::Problem;

/// `Result` with the mail [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong building or sending mail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An address did not parse (`Name <user@example.com>` or `user@example.com` expected).
    #[error("invalid address in `{field}`: {address:?}: {reason}")]
    Address {
        /// The header it was given for: `from`, `to`, `cc`, `bcc`, `reply_to` or `mail.from`.
        field: &'static str,
        /// The address as given.
        address: String,
        /// What the parser said.
        reason: String,
    },
    /// Neither the message nor the mailer names a sender.
    #[error(
        "the message has no sender: call `.from(..)` or set the mailer's default (`Mailer::default_from`, `mail.from`)"
    )]
    MissingFrom,
    /// The message has no `to`, `cc` or `bcc` recipient.
    #[error("the message has no recipient: call `.to(..)`, `.cc(..)` or `.bcc(..)`")]
    NoRecipients,
    /// The message has neither a text nor an HTML part.
    #[error("the message has no body: call `.text(..)` and/or `.html(..)`")]
    EmptyBody,
    /// A template placeholder could not be filled.
    #[error("template: {0}")]
    Template(String),
    /// lettre refused to build the message.
    #[error("building the message: {0}")]
    Build(#[from] lettre::error::Error),
    /// The SMTP URL (or another transport setting) is invalid.
    #[error("mail configuration: {0}")]
    Config(String),
    /// The SMTP server could not be reached or refused the message.
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    /// Writing a message file failed.
    #[error("writing the message file: {0}")]
    Io(#[from] std::io::Error),
    /// A custom transport failed.
    #[error("{transport} transport: {source}")]
    Transport {
        /// The transport's name.
        transport: &'static str,
        /// The cause.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// A custom transport's failure.
    pub fn transport(
        transport: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Transport {
            transport,
            source: source.into(),
        }
    }

    /// The problem a client sees: an invalid recipient address is the client's (422, naming
    /// the field); everything else is the server's (500, no detail).
    pub fn to_problem(&self) -> Problem {
        match self {
            Error::Address { field, reason, .. } if matches!(*field, "to" | "cc" | "bcc") => {
                Problem::new(http::StatusCode::UNPROCESSABLE_ENTITY)
                    .detail("invalid email address")
                    .field_error(*field, reason.clone())
            }
            Error::Address { .. }
            | Error::MissingFrom
            | Error::NoRecipients
            | Error::EmptyBody
            | Error::Template(_)
            | Error::Build(_)
            | Error::Config(_)
            | Error::Smtp(_)
            | Error::Io(_)
            | Error::Transport { .. } => Problem::internal(),
        }
    }
}

impl From<Error> for turbine_core::Error {
    fn from(e: Error) -> Self {
        let problem = e.to_problem();
        if problem.status.is_client_error() {
            problem.into()
        } else {
            turbine_core::Error::other("mail", e)
        }
    }
}

impl axum::response::IntoResponse for Error {
    fn into_response(self) -> axum::response::Response {
        turbine_core::Error::from(self).into_response()
    }
}
