//! Routes that remember their handlers' names, for the `routes` command.
//!
//! These wrap axum's [`MethodRouter`] and [`Router`]; plain axum routers work everywhere too
//! (they are listed without handler names).
//!
//! ```
//! use turbine_core::routing::{get, Routes};
//!
//! async fn list() -> &'static str { "posts" }
//! async fn create() -> &'static str { "created" }
//!
//! let routes = Routes::new().route("/posts", get(list).post(create));
//! let (_router, info) = routes.into_parts();
//! assert_eq!(info[0].method, "GET");
//! assert_eq!(info[0].path, "/posts");
//! assert!(info[1].handler.ends_with("create"));
//! ```

use std::convert::Infallible;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, Route};
use tower_layer::Layer;
use tower_service::Service;

use crate::context::Context;

/// One line of the `routes` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// `GET`, `POST`…, `*` for any method or unknown ones.
    pub method: String,
    /// The path template, e.g. `/posts/{id}`.
    pub path: String,
    /// The handler's type name, or a note for routers without names.
    pub handler: String,
}

/// A [`MethodRouter`] plus the names of its handlers.
pub struct MethodRoutes {
    router: MethodRouter<Context>,
    handlers: Vec<(&'static str, String)>,
}

impl std::fmt::Debug for MethodRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MethodRoutes")
            .field("handlers", &self.handlers)
            .finish()
    }
}

impl From<MethodRouter<Context>> for MethodRoutes {
    fn from(router: MethodRouter<Context>) -> Self {
        Self {
            router,
            handlers: vec![("*", "(axum method router)".into())],
        }
    }
}

fn handler_name<H>() -> String {
    std::any::type_name::<H>().to_string()
}

macro_rules! method_fns {
    ($($name:ident => $method:literal),* $(,)?) => {
        $(
            #[doc = concat!("Routes `", $method, "` requests to `handler`.")]
            pub fn $name<H, T>(handler: H) -> MethodRoutes
            where
                H: Handler<T, Context>,
                T: 'static,
            {
                MethodRoutes {
                    router: axum::routing::$name(handler),
                    handlers: vec![($method, handler_name::<H>())],
                }
            }
        )*

        impl MethodRoutes {
            $(
                #[doc = concat!("Also routes `", $method, "` requests to `handler`.")]
                pub fn $name<H, T>(mut self, handler: H) -> Self
                where
                    H: Handler<T, Context>,
                    T: 'static,
                {
                    self.router = self.router.$name(handler);
                    self.handlers.push(($method, handler_name::<H>()));
                    self
                }
            )*
        }
    };
}

method_fns! {
    get => "GET",
    post => "POST",
    put => "PUT",
    patch => "PATCH",
    delete => "DELETE",
    head => "HEAD",
    options => "OPTIONS",
}

/// Routes requests of every method to `handler`.
pub fn any<H, T>(handler: H) -> MethodRoutes
where
    H: Handler<T, Context>,
    T: 'static,
{
    MethodRoutes {
        router: axum::routing::any(handler),
        handlers: vec![("*", handler_name::<H>())],
    }
}

impl MethodRoutes {
    /// Applies a layer to these handlers only (like [`MethodRouter::layer`]).
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    /// The axum router and the `(method, handler)` names.
    pub fn into_parts(self) -> (MethodRouter<Context>, Vec<(&'static str, String)>) {
        (self.router, self.handlers)
    }
}

/// An axum [`Router`] over the [`Context`] plus the route table for the `routes` command.
#[derive(Default)]
pub struct Routes {
    router: Router<Context>,
    info: Vec<RouteInfo>,
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routes").field("info", &self.info).finish()
    }
}

impl From<Router<Context>> for Routes {
    fn from(router: Router<Context>) -> Self {
        Self {
            router,
            info: vec![RouteInfo {
                method: "*".into(),
                path: "/".into(),
                handler: "(axum router)".into(),
            }],
        }
    }
}

impl From<Router> for Routes {
    fn from(router: Router) -> Self {
        Router::<()>::with_state::<Context>(router, ()).into()
    }
}

impl Routes {
    /// No routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route (see [`Router::route`]; the same panics on conflicts).
    pub fn route(mut self, path: &str, routes: impl Into<MethodRoutes>) -> Self {
        let (router, handlers) = routes.into().into_parts();
        self.router = self.router.route(path, router);
        self.info
            .extend(handlers.into_iter().map(|(method, handler)| RouteInfo {
                method: method.into(),
                path: path.into(),
                handler,
            }));
        self
    }

    /// Nests routes under a prefix (see [`Router::nest`]).
    pub fn nest(mut self, prefix: &str, routes: impl Into<Routes>) -> Self {
        let routes = routes.into();
        self.router = self.router.nest(prefix, routes.router);
        self.info.extend(routes.info.into_iter().map(|i| RouteInfo {
            path: join_path(prefix, &i.path),
            ..i
        }));
        self
    }

    /// Merges routes (see [`Router::merge`]).
    pub fn merge(mut self, routes: impl Into<Routes>) -> Self {
        let routes = routes.into();
        self.router = self.router.merge(routes.router);
        self.info.extend(routes.info);
        self
    }

    /// Applies a layer to the routes added so far (see [`Router::layer`]).
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    /// Maps the inner router (for anything axum offers that this type does not wrap).
    pub fn map_router(mut self, f: impl FnOnce(Router<Context>) -> Router<Context>) -> Self {
        self.router = f(self.router);
        self
    }

    /// The route table so far.
    pub fn info(&self) -> &[RouteInfo] {
        &self.info
    }

    /// The axum router and the route table.
    pub fn into_parts(self) -> (Router<Context>, Vec<RouteInfo>) {
        (self.router, self.info)
    }
}

fn join_path(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if path == "/" {
        if prefix.is_empty() {
            "/".into()
        } else {
            prefix.into()
        }
    } else {
        format!("{prefix}{path}")
    }
}
