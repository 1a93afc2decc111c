//! The shared context every handler can reach: config plus whatever batteries provide.
//!
//! ```
//! use turbine_core::{config::Config, context::ContextBuilder};
//!
//! #[derive(Clone)]
//! struct Greeting(&'static str);
//!
//! let config = Config::builder().no_file().env_vars::<String, String>([]).load().unwrap();
//! let builder = ContextBuilder::new(config);
//! builder.insert(Greeting("hi"));
//! let ctx = builder.build();
//! assert_eq!(ctx.get::<Greeting>().unwrap().0, "hi");
//! assert_eq!(ctx.config().profile().name(), "dev");
//! ```

use std::sync::{Arc, Mutex};

use crate::config::Config;

/// The app's shared context: cheap to clone, read-only once the app has started.
///
/// Handlers take it with `axum::extract::State<Context>`; batteries put their handles (a database
/// pool, a cache) in it during start-up and offer their own extractors on top.
#[derive(Clone)]
pub struct Context(Arc<Inner>);

struct Inner {
    config: Config,
    extensions: http::Extensions,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("profile", self.0.config.profile())
            .field("extensions", &self.0.extensions.len())
            .finish()
    }
}

impl Context {
    /// The app's configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// A value a battery provided, by type.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.0.extensions.get::<T>()
    }

    /// A value a battery provided, or an error naming the missing type.
    pub fn require<T: Send + Sync + 'static>(&self) -> crate::Result<&T> {
        self.get::<T>().ok_or_else(|| crate::Error::Missing {
            type_name: std::any::type_name::<T>(),
        })
    }
}

/// Collects what batteries provide while the app starts; shared by the start-up hooks.
#[derive(Clone)]
pub struct ContextBuilder {
    config: Config,
    extensions: Arc<Mutex<http::Extensions>>,
}

impl ContextBuilder {
    /// An empty context for this config.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            extensions: Arc::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Provides a value to every handler; replaces an earlier value of the same type.
    pub fn insert<T: Clone + Send + Sync + 'static>(&self, value: T) {
        self.lock().insert(value);
    }

    /// A clone of a value provided earlier (by a battery installed before).
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.lock().get::<T>().cloned()
    }

    /// Freezes the context.
    pub fn build(self) -> Context {
        let extensions = std::mem::take(&mut *self.lock());
        Context(Arc::new(Inner {
            config: self.config,
            extensions,
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, http::Extensions> {
        self.extensions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the app binary was started to do: start-up hooks read it (from the
/// [`ContextBuilder`]) to do work that only serving needs, such as applying migrations
/// automatically, and skip it for a command like `migrate` itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Invocation {
    /// Serving HTTP.
    Serve,
    /// Built in-process (`App::build`: tests, embedding).
    Build,
    /// Running a battery's subcommand, by name.
    Command(String),
}
