//! The small, stable core that Turbine and its batteries share.
//!
//! - [`config`]: typed configuration from `turbine.toml`, profiles and `TURBINE_*` variables;
//! - [`context`]: the shared context handlers reach (config + what batteries provide);
//! - [`battery`]: the [`Battery`](battery::Battery) trait and the [`Setup`](battery::Setup) it installs into;
//! - [`routing`]: routes that remember their handler names;
//! - [`health`] and [`check`]: readiness checks and system checks;
//! - [`client_ip`]: the client's address behind trusted proxies;
//! - [`problem`]: RFC 9457 problem details; [`Error`]: the core error and its HTTP mapping.
//!
//! App authors use the `turbine` crate, which re-exports all of this.
//!
//! ```
//! use turbine_core::problem::Problem;
//! let p = Problem::bad_request("`limit` must be a number");
//! assert_eq!(p.status, 400);
//! ```

pub mod battery;
pub mod check;
pub mod client_ip;
pub mod config;
pub mod context;
mod error;
pub mod health;
pub mod problem;
pub mod routing;

pub use error::{BoxError, Error, Result};
