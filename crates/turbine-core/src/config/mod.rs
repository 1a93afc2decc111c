//! Typed configuration: `turbine.toml`, profiles, `TURBINE_*` environment variables.
//!
//! Sources, lowest priority first: built-in defaults for the profile, the top level of
//! `turbine.toml`, its `[profiles.<name>]` section, `TURBINE_*` environment variables (nested keys
//! joined by `__`), then overrides set in code. The profile comes from `TURBINE_ENV` (`dev` when
//! unset). Every error names the key, the source it came from and what was expected.
//!
//! ```
//! use turbine_core::config::Config;
//!
//! let config = Config::builder()
//!     .profile("prod")
//!     .toml("secret_key = 'an-example-secret-that-is-long-enough-123'\n[server]\nport = 9000\n[profiles.prod.server]\nhost = '0.0.0.0'")
//!     .env_vars([("TURBINE_SERVER__PORT", "9100")])
//!     .load()
//!     .unwrap();
//! assert_eq!(config.settings().server.port, 9100);
//! assert_eq!(config.settings().server.host, "0.0.0.0");
//! assert!(!config.settings().debug);
//!
//! let err = Config::builder().env_vars([("TURBINE_SERVER__PORT", "eighty")]).load().unwrap_err();
//! assert!(err.to_string().contains("server.port"));
//! assert!(err.to_string().contains("TURBINE_SERVER__PORT"));
//! ```

mod error;
mod load;
mod settings;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use figment::Figment;
use figment::providers::Serialized;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use error::{ConfigError, KeyError};
pub use load::ConfigBuilder;
pub use settings::{
    CorsSettings, HttpSettings, LogFormat, LogSettings, ObservabilitySettings, Secret,
    SecuritySettings, ServerSettings, Settings,
};

/// The top-level keys that Turbine's core owns.
pub const CORE_KEYS: &[&str] = &[
    "debug",
    "secret_key",
    "server",
    "http",
    "cors",
    "security",
    "log",
    "observability",
];

/// The profile a config was loaded for: `dev`, `test`, `prod`, or one named in `turbine.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Profile(String);

impl Profile {
    /// A profile by name.
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// `true` for `prod`, where safety checks are strict.
    pub fn is_prod(&self) -> bool {
        self.0 == "prod"
    }

    /// `true` for `test`.
    pub fn is_test(&self) -> bool {
        self.0 == "test"
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The loaded, validated configuration of an app. Cheap to clone.
#[derive(Clone)]
pub struct Config(Arc<Inner>);

struct Inner {
    profile: Profile,
    figment: Figment,
    settings: Settings,
    secret_key: Secret,
    secret_generated: bool,
    file: Option<PathBuf>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("profile", &self.0.profile)
            .field("file", &self.0.file)
            .field("settings", &self.0.settings)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A builder that reads `turbine.toml` (or `$TURBINE_CONFIG`) and the process environment.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Loads the config the usual way: `turbine.toml`, `TURBINE_ENV`, `TURBINE_*` variables.
    pub fn load() -> Result<Self, ConfigError> {
        Self::builder().load()
    }

    /// The selected profile.
    pub fn profile(&self) -> &Profile {
        &self.0.profile
    }

    /// The core settings.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// The secret key: configured, or generated for this process in `dev` and `test`.
    pub fn secret_key(&self) -> &Secret {
        &self.0.secret_key
    }

    /// `true` when no secret key was configured and one was generated for this process.
    pub fn secret_key_generated(&self) -> bool {
        self.0.secret_generated
    }

    /// The config file that was read, if any.
    pub fn file(&self) -> Option<&std::path::Path> {
        self.0.file.as_deref()
    }

    /// Reads a battery's top-level section (e.g. `database`), falling back to `T::default()` for
    /// keys not set anywhere. Errors name the key and its source.
    pub fn section<T>(&self, key: &str) -> Result<T, ConfigError>
    where
        T: DeserializeOwned + Serialize + Default,
    {
        let figment = self.0.figment.clone().join(load::named(
            Serialized::default(key, T::default()),
            "defaults",
        ));
        figment
            .extract_inner::<T>(key)
            .map_err(|e| ConfigError::from_figment_in(&figment, e, Some(key)))
    }

    /// Fails if a top-level key is neither a core key nor one of `claimed` (battery sections).
    pub fn check_unknown_keys(&self, claimed: &BTreeSet<String>) -> Result<(), ConfigError> {
        let data = load::merged(&self.0.figment)?;
        let mut expected: Vec<&str> = CORE_KEYS.to_vec();
        expected.extend(claimed.iter().map(String::as_str));
        let errors: Vec<KeyError> = data
            .keys()
            .filter(|k| !expected.contains(&k.as_str()))
            .map(|k| KeyError {
                key: k.clone(),
                origin: load::origin(&self.0.figment, k),
                message: format!("unknown key; expected one of: {}", expected.join(", ")),
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(errors))
        }
    }

    /// Names the source of the value at a dotted key (a file and section, a variable, defaults).
    pub fn origin_of(&self, key: &str) -> String {
        load::origin(&self.0.figment, key)
    }

    /// The effective configuration as TOML, secrets redacted, each value annotated with its source.
    pub fn render(&self) -> String {
        load::render(&self.0.figment, &self.0.profile)
    }
}
