//! Turbine's auth battery: users, argon2id passwords, web sessions with CSRF, mobile tokens
//! (JWT access + rotating refresh), API keys, permissions and groups, throttled logins.
//!
//! (The runnable example arrives with the battery.)

pub mod error;
pub mod jwt;
pub mod models;
pub mod password;
pub mod policy;
pub mod schema;
pub mod throttle;
pub mod token;

pub use error::{Error, FieldError, Result, TokenError};
