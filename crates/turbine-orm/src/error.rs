//! The ORM's errors: one enum, typed for the failures callers handle (not found, constraint
//! violations naming the field), and one HTTP mapping that never shows a raw database message.

use http::StatusCode;
use turbine_core::problem::Problem;

/// A boxed error from a driver.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with the ORM's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the ORM can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `get` found no row.
    #[error("{model} matching the query does not exist")]
    NotFound {
        /// The model's label, `app.Model`.
        model: String,
    },
    /// `get` found more than one row.
    #[error("get() returned more than one {model}")]
    MultipleFound {
        /// The model's label.
        model: String,
    },
    /// A unique constraint refused the write.
    #[error("{table}: a row with the same {} already exists", .fields.join(", "))]
    UniqueViolation {
        /// The table.
        table: String,
        /// The fields (columns) of the constraint, when the database says.
        fields: Vec<String>,
        /// The constraint's name, when the database says.
        constraint: Option<String>,
    },
    /// A NOT NULL constraint refused the write.
    #[error("{table}.{field} may not be null")]
    NotNullViolation {
        /// The table.
        table: String,
        /// The column.
        field: String,
    },
    /// A foreign key refused the write or the delete.
    #[error("{table}: foreign key {} violated", .field.as_deref().unwrap_or("constraint"))]
    ForeignKeyViolation {
        /// The table.
        table: String,
        /// The column, when the database says.
        field: Option<String>,
        /// The constraint's name, when the database says.
        constraint: Option<String>,
    },
    /// A check constraint refused the write.
    #[error("{table}: check constraint {constraint} violated")]
    CheckViolation {
        /// The table.
        table: String,
        /// The constraint's name (or expression, on SQLite).
        constraint: String,
    },
    /// The delete is refused because rows with `on_delete = protect` point at the row.
    #[error("cannot delete {model}: protected by {}", .by.join(", "))]
    Protected {
        /// The model being deleted.
        model: String,
        /// The `app.Model.field`s that protect it.
        by: Vec<String>,
    },
    /// A value is not valid for its field (too long, not a choice, wrong type…).
    #[error("{field}: {message}")]
    Validation {
        /// The field.
        field: String,
        /// What is wrong, in words for the client.
        message: String,
    },
    /// A value read from the database cannot become the field's Rust type.
    #[error("cannot decode {field}: {message}")]
    Decode {
        /// `table.column` or the field name.
        field: String,
        /// What went wrong.
        message: String,
    },
    /// The database URL or settings are unusable.
    #[error("database configuration: {0}")]
    Config(String),
    /// The database could not be reached.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] BoxError),
    /// Any other database error (the message stays in logs; clients get a plain 500).
    #[error("database error: {0}")]
    Database(#[source] BoxError),
    /// A migration could not be made, applied or rolled back.
    #[error("migration: {0}")]
    Migration(String),
    /// The models are inconsistent.
    #[error(transparent)]
    Meta(#[from] crate::meta::MetaError),
    /// A `Db` bound to a transaction was used after the transaction ended.
    #[error("the transaction this handle belongs to has already ended")]
    TransactionClosed,
    /// The query asks for something the model or the backend cannot do.
    #[error("invalid query: {0}")]
    Query(String),
}

impl Error {
    /// Wraps a driver error that is not one of the typed cases.
    pub fn database(source: impl Into<BoxError>) -> Self {
        Error::Database(source.into())
    }

    /// The HTTP status a client should see for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::UniqueViolation { .. } | Error::Protected { .. } => StatusCode::CONFLICT,
            Error::NotNullViolation { .. }
            | Error::ForeignKeyViolation { .. }
            | Error::CheckViolation { .. }
            | Error::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::MultipleFound { .. }
            | Error::Decode { .. }
            | Error::Config(_)
            | Error::Connect(_)
            | Error::Database(_)
            | Error::Migration(_)
            | Error::Meta(_)
            | Error::TransactionClosed
            | Error::Query(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem+json a client sees: field errors for constraint failures, no raw database text.
    pub fn to_problem(&self) -> Problem {
        let status = self.status();
        let problem = Problem::new(status);
        match self {
            Error::NotFound { .. } => problem.detail("The requested object does not exist."),
            Error::UniqueViolation { fields, .. } => fields.iter().fold(
                problem.detail("An object with the same values already exists."),
                |p, f| p.field_error(f, "is already taken"),
            ),
            Error::Protected { .. } => {
                problem.detail("The object is still referenced by other objects.")
            }
            Error::NotNullViolation { field, .. } => problem.field_error(field, "is required"),
            Error::ForeignKeyViolation { field, .. } => match field {
                Some(f) => problem.field_error(f, "refers to an object that does not exist"),
                None => problem.detail("The object refers to an object that does not exist."),
            },
            Error::CheckViolation { .. } => problem.detail("A value is out of its allowed range."),
            Error::Validation { field, message } => problem.field_error(field, message),
            Error::MultipleFound { .. }
            | Error::Decode { .. }
            | Error::Config(_)
            | Error::Connect(_)
            | Error::Database(_)
            | Error::Migration(_)
            | Error::Meta(_)
            | Error::TransactionClosed
            | Error::Query(_) => problem,
        }
    }
}

impl axum::response::IntoResponse for Error {
    fn into_response(self) -> axum::response::Response {
        if self.status().is_server_error() {
            tracing::error!(error = %self, "database error");
        }
        self.to_problem().into_response()
    }
}

impl From<Error> for turbine_core::Error {
    fn from(err: Error) -> Self {
        match err.status() {
            s if s.is_server_error() => turbine_core::Error::other("database", err),
            _ => turbine_core::Error::Http(Box::new(err.to_problem())),
        }
    }
}
