//! The app builder.
//!
//! ```no_run
//! use turbine::prelude::*;
//!
//! #[tokio::main]
//! async fn main() -> turbine::Result<()> {
//!     App::new().route("/", get(|| async { "Hello, world!" })).run().await
//! }
//! ```
//!
//! Building is lazy: the calls are recorded and replayed, in order, once the configuration is
//! loaded, so batteries see the config when they install and `.layer()` wraps exactly the
//! routes added before it, batteries' routes included.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::Route;
use http::Uri;
use tower_layer::Layer;
use tower_service::Service;
use turbine_core::battery::{Battery, Setup, SetupParts, ShutdownHook};
use turbine_core::config::Config;
use turbine_core::context::{Context, ContextBuilder, Invocation};
use turbine_core::problem::Problem;
use turbine_core::routing::{MethodRoutes, RouteInfo, Routes};
use turbine_core::{Error, Result};

use crate::observability::{self, HealthChecks, Metrics};

type Step = Box<dyn FnOnce(&mut Setup) -> Result<()> + Send>;

/// A Turbine app: routes, layers and batteries, run as its own command-line tool.
#[must_use = "an App does nothing until `.run().await` (or `.build().await`)"]
#[derive(Default)]
pub struct App {
    steps: Vec<Step>,
    config: Option<Config>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("steps", &self.steps.len())
            .finish()
    }
}

impl App {
    /// An app with no routes; health and metrics endpoints and the default stack come built in.
    pub fn new() -> Self {
        Self::default()
    }

    fn step(mut self, step: impl FnOnce(&mut Setup) -> Result<()> + Send + 'static) -> Self {
        self.steps.push(Box::new(step));
        self
    }

    /// Adds a route: `.route("/posts/{id}", get(show).delete(destroy))`. Plain axum method
    /// routers work too.
    pub fn route(self, path: &str, routes: impl Into<MethodRoutes>) -> Self {
        let path = path.to_string();
        let routes = routes.into();
        self.step(move |s| {
            s.route(&path, routes);
            Ok(())
        })
    }

    /// Nests routes (a [`Routes`] or an axum `Router`) under a path prefix.
    pub fn nest(self, prefix: &str, routes: impl Into<Routes>) -> Self {
        let prefix = prefix.to_string();
        let routes = routes.into();
        self.step(move |s| {
            s.nest(&prefix, routes);
            Ok(())
        })
    }

    /// Merges routes (a [`Routes`] or an axum `Router`).
    pub fn merge(self, routes: impl Into<Routes>) -> Self {
        let routes = routes.into();
        self.step(move |s| {
            s.merge(routes);
            Ok(())
        })
    }

    /// Wraps the routes added so far in any tower layer (like axum's `Router::layer`). The default
    /// stack stays outermost.
    pub fn layer<L>(self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.step(move |s| {
            s.map_routes(|r| r.layer(layer));
            Ok(())
        })
    }

    /// Installs a battery.
    pub fn battery<B: Battery>(self, battery: B) -> Self {
        self.step(move |s| s.install(battery))
    }

    /// Adds to the setup directly: start-up hooks that put the app's own state in the context,
    /// health checks, commands.
    pub fn setup(self, f: impl FnOnce(&mut Setup) -> Result<()> + Send + 'static) -> Self {
        self.step(f)
    }

    /// Uses this config instead of loading `turbine.toml` and the environment.
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Parses the command line and runs the chosen command: `serve` (the default), `routes`,
    /// `config`, `check [--deploy]`, or a battery's. Errors are printed and exit the process with
    /// status 1.
    pub async fn run(self) -> Result<()> {
        crate::cli::run(self).await
    }

    /// Loads the config (unless given), installs everything and runs the start-up hooks.
    pub async fn build(self) -> Result<BuiltApp> {
        let config = match self.config.clone() {
            Some(c) => c,
            None => Config::load()?,
        };
        start(self.assemble(config)?, Invocation::Build).await
    }

    /// Replays the recorded calls onto a [`Setup`].
    pub(crate) fn assemble(self, config: Config) -> Result<SetupParts> {
        let mut setup = Setup::new(config.clone());
        for step in self.steps {
            step(&mut setup)?;
        }
        setup.merge(observability::routes(&config));
        setup.finish()
    }

    pub(crate) fn preset_config(&self) -> Option<Config> {
        self.config.clone()
    }
}

/// An assembled, started app: its context and final router, ready to serve or to test.
pub struct BuiltApp {
    pub(crate) ctx: Context,
    pub(crate) router: Router,
    pub(crate) shutdown: Vec<ShutdownHook>,
    pub(crate) route_info: Vec<RouteInfo>,
}

impl std::fmt::Debug for BuiltApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltApp")
            .field("routes", &self.route_info)
            .finish_non_exhaustive()
    }
}

impl BuiltApp {
    /// The shared context.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The final router, with the default stack: a tower service to drive in tests or embed.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The route table.
    pub fn routes(&self) -> &[RouteInfo] {
        &self.route_info
    }

    /// Runs the shutdown hooks (done by `serve` after draining).
    pub async fn shutdown(self) {
        for hook in self.shutdown {
            hook(self.ctx.clone()).await;
        }
    }
}

/// Runs the start-up hooks, freezes the context and wraps the router in the default stack.
pub(crate) async fn start(parts: SetupParts, invocation: Invocation) -> Result<BuiltApp> {
    let config = parts.config.clone();
    let metrics = config.settings().observability.metrics.then(Metrics::new);
    let builder = ContextBuilder::new(config.clone());
    builder.insert(invocation);
    if let Some(m) = &metrics {
        builder.insert(m.clone());
    }
    builder.insert(HealthChecks(Arc::from(parts.health_checks)));
    let trusted = crate::middleware::TrustedProxies::from_config(&config);
    builder.insert(trusted.clone());
    for (owner, hook) in parts.startup {
        hook(builder.clone())
            .await
            .map_err(|e| Error::other(format!("start-up of `{owner}` failed"), e))?;
    }
    let ctx = builder.build();
    // The fallback first, so battery middleware wraps unmatched requests too.
    let mut router = parts.router.fallback(not_found);
    for layer in parts.layers {
        router = layer(router);
    }
    let router =
        crate::middleware::apply(router, &config, metrics, trusted).with_state(ctx.clone());
    Ok(BuiltApp {
        ctx,
        router,
        shutdown: parts.shutdown,
        route_info: parts.route_info,
    })
}

async fn not_found(uri: Uri) -> Problem {
    Problem::not_found().detail(format!("No route matches {}.", uri.path()))
}
