//! System checks run by the `check` command (and `check --deploy` for production risks).
//!
//! ```
//! use turbine_core::check::{Finding, Level};
//!
//! let f = Finding::warning("security.W004", "HSTS is off").hint("set security.hsts = true behind HTTPS");
//! assert_eq!(f.level, Level::Warning);
//! assert!(f.to_string().contains("security.W004"));
//! ```

use std::sync::Arc;

use crate::config::Config;

/// How serious a finding is. `check` exits non-zero when any finding is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Worth knowing.
    Warning,
    /// Must be fixed.
    Error,
}

/// One thing a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A stable id such as `security.W001`, usable to silence a finding.
    pub id: String,
    /// Severity.
    pub level: Level,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Finding {
    /// A warning.
    pub fn warning(id: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            level: Level::Warning,
            message: message.into(),
            hint: None,
        }
    }

    /// An error.
    pub fn error(id: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            level: Level::Error,
            ..Self::warning(id, message)
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.level {
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        };
        write!(f, "{level} {}: {}", self.id, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n    HINT: {hint}")?;
        }
        Ok(())
    }
}

/// What a check is told: the config, and whether production risks should be reported.
#[derive(Debug, Clone, Copy)]
pub struct CheckScope<'a> {
    /// The loaded configuration.
    pub config: &'a Config,
    /// `true` for `check --deploy`.
    pub deploy: bool,
}

/// A system check: a function from the scope to its findings.
pub type SystemCheck = Arc<dyn Fn(CheckScope<'_>) -> Vec<Finding> + Send + Sync>;
