//! Readiness checks that batteries register (a database ping, a broker connection).
//!
//! ```
//! use turbine_core::health::HealthCheck;
//!
//! let check = HealthCheck::new("always-fine", |_ctx| async { Ok(()) });
//! assert_eq!(check.name(), "always-fine");
//! ```

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::context::Context;

type CheckFn = dyn Fn(Context) -> BoxFuture<'static, Result<(), String>> + Send + Sync;

/// A named readiness check run by `/health/ready`; `Err` explains what is wrong.
#[derive(Clone)]
pub struct HealthCheck {
    name: String,
    check: Arc<CheckFn>,
}

impl std::fmt::Debug for HealthCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthCheck")
            .field("name", &self.name)
            .finish()
    }
}

impl HealthCheck {
    /// A check from an async function of the context.
    pub fn new<F, Fut>(name: impl Into<String>, check: F) -> Self
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self {
            name: name.into(),
            check: Arc::new(move |ctx| Box::pin(check(ctx))),
        }
    }

    /// The check's name, shown in the readiness report.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs the check.
    pub fn run(&self, ctx: Context) -> BoxFuture<'static, Result<(), String>> {
        (self.check)(ctx)
    }
}
