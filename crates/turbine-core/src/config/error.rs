//! Configuration errors that name the key, where its value came from, and what was expected.

use figment::Figment;
use figment::error::Kind;

/// One bad key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    /// Dotted key path, e.g. `server.port`.
    pub key: String,
    /// Where the value came from: a file (and profile section), an environment variable, code, defaults.
    pub origin: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` (from {}): {}", self.key, self.origin, self.message)
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// One or more keys have values of the wrong type or shape, or are unknown.
    #[error("invalid configuration:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<KeyError>),
    /// The config file could not be read or is not valid TOML.
    #[error("cannot read config file {path}: {message}")]
    File {
        /// The file.
        path: String,
        /// The reason, with line and column for syntax errors.
        message: String,
    },
    /// `TURBINE_ENV` names a profile that does not exist.
    #[error(
        "unknown profile `{name}` (from TURBINE_ENV); expected one of: {}",
        .known.join(", ")
    )]
    UnknownProfile {
        /// The name given.
        name: String,
        /// The profiles that exist.
        known: Vec<String>,
    },
    /// `prod` needs an explicit secret key.
    #[error(
        "`secret_key` is required in the `{profile}` profile: set TURBINE_SECRET_KEY or `secret_key` in turbine.toml \
         to at least 32 random characters (e.g. the output of `openssl rand -hex 32`)"
    )]
    MissingSecretKey {
        /// The profile.
        profile: String,
    },
}

impl ConfigError {
    /// Converts figment's errors into errors naming key, origin and expectation.
    pub(crate) fn from_figment(figment: &Figment, err: figment::Error) -> Self {
        Self::from_figment_in(figment, err, None)
    }

    /// Like [`Self::from_figment`] for an error from `extract_inner(section)`.
    pub(crate) fn from_figment_in(
        figment: &Figment,
        err: figment::Error,
        section: Option<&str>,
    ) -> Self {
        let errors = err
            .into_iter()
            .map(|e| {
                let mut path = e.path.clone();
                if let Some(section) = section {
                    // figment appends the focused key to relative paths
                    if path.len() > 1 && path.last().map(String::as_str) == Some(section) {
                        path.pop();
                    }
                    if path.first().map(String::as_str) != Some(section) {
                        path.insert(0, section.to_string());
                    }
                }
                let message = match &e.kind {
                    Kind::UnknownField(field, expected) => {
                        if path.last() != Some(field) {
                            path.push(field.clone());
                        }
                        format!("unknown key; expected one of: {}", expected.join(", "))
                    }
                    Kind::MissingField(field) => {
                        if path.last().map(String::as_str) != Some(field.as_ref()) {
                            path.push(field.to_string());
                        }
                        "missing value".to_string()
                    }
                    other => other.to_string(),
                };
                let key = path.join(".");
                let origin = super::load::origin(figment, &key);
                // serde's messages quote the value found; never for a secret.
                let message = if super::load::is_secret_key(&key) {
                    "invalid value (not shown: this key holds a secret)".to_string()
                } else {
                    message
                };
                KeyError {
                    key,
                    origin,
                    message,
                }
            })
            .collect();
        ConfigError::Invalid(errors)
    }
}
