//! Batteries: what a battery may add to an app, and the one call that installs it.
//!
//! A battery is any type implementing [`Battery`]. Its `install` receives a [`Setup`] and may add
//! routes, middleware, CLI subcommands, health checks, system checks, start-up and shutdown hooks,
//! and read its own config section. Nothing else is required of an app.
//!
//! ```
//! use turbine_core::battery::{Battery, Setup};
//! use turbine_core::routing::get;
//!
//! #[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
//! struct PingConfig { path: Option<String> }
//!
//! struct Ping;
//!
//! impl Battery for Ping {
//!     fn name(&self) -> &'static str { "ping" }
//!     fn install(self, setup: &mut Setup) -> turbine_core::Result<()> {
//!         let cfg: PingConfig = setup.section("ping")?;
//!         let path = cfg.path.unwrap_or_else(|| "/ping".into());
//!         setup.route(&path, get(|| async { "pong" }));
//!         setup.health_check("ping", |_ctx| async { Ok(()) });
//!         Ok(())
//!     }
//! }
//!
//! let config = turbine_core::config::Config::builder().no_file().env_vars::<String, String>([]).load().unwrap();
//! let mut setup = Setup::new(config);
//! setup.install(Ping).unwrap();
//! assert!(setup.install(Ping).is_err(), "installing twice is an error");
//! let parts = setup.finish().unwrap();
//! assert_eq!(parts.route_info[0].path, "/ping");
//! assert_eq!(parts.health_checks.len(), 1);
//! ```

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::check::{CheckScope, Finding, SystemCheck};
use crate::config::Config;
use crate::context::{Context, ContextBuilder};
use crate::health::HealthCheck;
use crate::routing::{MethodRoutes, RouteInfo, Routes};
use crate::{Error, Result};

/// A battery: installed with one call on the app builder.
pub trait Battery: Send + 'static {
    /// A unique name, e.g. `"auth"`; installing two batteries with one name is an error.
    fn name(&self) -> &'static str;

    /// Adds the battery's routes, middleware, commands, checks and hooks.
    fn install(self, setup: &mut Setup) -> Result<()>;
}

/// A function that wraps the whole app's router (a battery's middleware).
pub type RouterLayer = Box<dyn FnOnce(Router<Context>) -> Router<Context> + Send>;

/// A start-up hook: provides values to the context before the app serves or runs a command.
pub type StartupHook = Box<dyn FnOnce(ContextBuilder) -> BoxFuture<'static, Result<()>> + Send>;

/// A shutdown hook: runs after in-flight requests have drained.
pub type ShutdownHook = Box<dyn FnOnce(Context) -> BoxFuture<'static, ()> + Send>;

type CommandFn =
    Box<dyn FnOnce(Context, clap::ArgMatches) -> BoxFuture<'static, Result<()>> + Send>;

/// A subcommand a battery adds to the app binary (`migrate`, `createsuperuser`, `worker`…).
pub struct Command {
    command: clap::Command,
    run: CommandFn,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Command")
            .field("name", &self.command.get_name())
            .finish()
    }
}

impl Command {
    /// A subcommand: its clap definition and what it does with the started context.
    pub fn new<F, Fut>(command: clap::Command, run: F) -> Self
    where
        F: FnOnce(Context, clap::ArgMatches) -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        Self {
            command,
            run: Box::new(move |ctx, args| Box::pin(run(ctx, args))),
        }
    }

    /// The clap definition.
    pub fn definition(&self) -> &clap::Command {
        &self.command
    }

    /// Runs the command.
    pub fn run(self, ctx: Context, args: clap::ArgMatches) -> BoxFuture<'static, Result<()>> {
        (self.run)(ctx, args)
    }
}

/// What batteries and the app builder add to, while the app is being assembled.
pub struct Setup {
    config: Config,
    routes: Routes,
    layers: Vec<RouterLayer>,
    commands: Vec<Command>,
    health_checks: Vec<HealthCheck>,
    system_checks: Vec<SystemCheck>,
    startup: Vec<(String, StartupHook)>,
    shutdown: Vec<ShutdownHook>,
    sections: BTreeSet<String>,
    batteries: Vec<&'static str>,
    /// The battery being installed right now, to name its hooks in errors.
    installing: Option<&'static str>,
    /// Values batteries share while the app is assembled (see [`Setup::shared`]).
    shared: http::Extensions,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("batteries", &self.batteries)
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

/// Everything a [`Setup`] collected, for the app builder to serve.
#[non_exhaustive]
pub struct SetupParts {
    /// The config.
    pub config: Config,
    /// The router of every route.
    pub router: Router<Context>,
    /// The route table.
    pub route_info: Vec<RouteInfo>,
    /// Battery middleware, to wrap around the whole router (first added = innermost).
    pub layers: Vec<RouterLayer>,
    /// Battery subcommands.
    pub commands: Vec<Command>,
    /// Readiness checks.
    pub health_checks: Vec<HealthCheck>,
    /// System checks for the `check` command.
    pub system_checks: Vec<SystemCheck>,
    /// Start-up hooks with the name of the battery that added each.
    pub startup: Vec<(String, StartupHook)>,
    /// Shutdown hooks.
    pub shutdown: Vec<ShutdownHook>,
    /// Names of the installed batteries.
    pub batteries: Vec<&'static str>,
}

impl Setup {
    /// An empty setup for this config.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            routes: Routes::new(),
            layers: Vec::new(),
            commands: Vec::new(),
            health_checks: Vec::new(),
            system_checks: Vec::new(),
            startup: Vec::new(),
            shutdown: Vec::new(),
            sections: BTreeSet::new(),
            batteries: Vec::new(),
            installing: None,
            shared: http::Extensions::new(),
        }
    }

    /// The loaded config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Installs a battery; the same battery twice is an error.
    pub fn install<B: Battery>(&mut self, battery: B) -> Result<()> {
        let name = battery.name();
        if self.batteries.contains(&name) {
            return Err(Error::DuplicateBattery(name.into()));
        }
        self.batteries.push(name);
        let outer = self.installing.replace(name);
        let result = battery.install(self);
        self.installing = outer;
        result
    }

    /// A value batteries share while the app is assembled, created on first use: a battery
    /// that offers something to others (the ORM's model and migration registrar) and the
    /// batteries that use it (auth adds its models) reach the same value whatever order they
    /// are installed in. Make `T` a cheap handle (an `Arc` inside) and read it again later
    /// (at start-up) to see what batteries installed after you added.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// # let config = turbine_core::config::Config::builder().no_file().env_vars::<String, String>([]).load().unwrap();
    /// let mut setup = turbine_core::battery::Setup::new(config);
    /// #[derive(Clone, Default)]
    /// struct Names(Arc<Mutex<Vec<&'static str>>>);
    /// setup.shared::<Names>().0.lock().unwrap().push("auth");
    /// assert_eq!(*setup.shared::<Names>().0.lock().unwrap(), ["auth"]);
    /// ```
    pub fn shared<T: Clone + Default + Send + Sync + 'static>(&mut self) -> T {
        self.shared.get_or_insert_default::<T>().clone()
    }

    /// Names of the batteries installed so far.
    pub fn batteries(&self) -> &[&'static str] {
        &self.batteries
    }

    /// Reads (and claims) a top-level config section; unset keys take `T::default()`'s values.
    pub fn section<T>(&mut self, key: &str) -> Result<T>
    where
        T: DeserializeOwned + Serialize + Default,
    {
        self.sections.insert(key.to_string());
        Ok(self.config.section(key)?)
    }

    /// Adds a route.
    pub fn route(&mut self, path: &str, routes: impl Into<MethodRoutes>) -> &mut Self {
        self.map_routes(|r| r.route(path, routes))
    }

    /// Nests routes under a prefix.
    pub fn nest(&mut self, prefix: &str, routes: impl Into<Routes>) -> &mut Self {
        self.map_routes(|r| r.nest(prefix, routes))
    }

    /// Merges routes.
    pub fn merge(&mut self, routes: impl Into<Routes>) -> &mut Self {
        self.map_routes(|r| r.merge(routes))
    }

    /// Changes the routes added so far (e.g. to apply a tower layer to them).
    pub fn map_routes(&mut self, f: impl FnOnce(Routes) -> Routes) -> &mut Self {
        self.routes = f(std::mem::take(&mut self.routes));
        self
    }

    /// Wraps the whole app (every route, whenever added) in middleware, inside the default stack.
    pub fn layer_all(
        &mut self,
        layer: impl FnOnce(Router<Context>) -> Router<Context> + Send + 'static,
    ) -> &mut Self {
        self.layers.push(Box::new(layer));
        self
    }

    /// Adds a subcommand to the app binary.
    pub fn command(&mut self, command: Command) -> &mut Self {
        self.commands.push(command);
        self
    }

    /// Adds a readiness check to `/health/ready`.
    pub fn health_check<F, Fut>(&mut self, name: impl Into<String>, check: F) -> &mut Self
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<(), String>> + Send + 'static,
    {
        self.health_checks.push(HealthCheck::new(name, check));
        self
    }

    /// Adds a system check to the `check` command.
    pub fn system_check(
        &mut self,
        check: impl Fn(CheckScope<'_>) -> Vec<Finding> + Send + Sync + 'static,
    ) -> &mut Self {
        self.system_checks.push(Arc::new(check));
        self
    }

    /// Runs `hook` at start-up (before serving or running a command), in installation order.
    pub fn on_startup<F, Fut>(&mut self, hook: F) -> &mut Self
    where
        F: FnOnce(ContextBuilder) -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let owner = self.installing.unwrap_or("app").to_string();
        self.startup
            .push((owner, Box::new(move |cx| Box::pin(hook(cx)))));
        self
    }

    /// Runs `hook` on shutdown, after in-flight requests have finished.
    pub fn on_shutdown<F, Fut>(&mut self, hook: F) -> &mut Self
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.shutdown.push(Box::new(move |ctx| Box::pin(hook(ctx))));
        self
    }

    /// Ends the setup: checks that every config key belongs to the core or a battery.
    pub fn finish(self) -> Result<SetupParts> {
        self.config.check_unknown_keys(&self.sections)?;
        let (router, route_info) = self.routes.into_parts();
        Ok(SetupParts {
            config: self.config,
            router,
            route_info,
            layers: self.layers,
            commands: self.commands,
            health_checks: self.health_checks,
            system_checks: self.system_checks,
            startup: self.startup,
            shutdown: self.shutdown,
            batteries: self.batteries,
        })
    }
}
