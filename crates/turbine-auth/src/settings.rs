//! `[auth]` settings.
//!
//! ```
//! let s: turbine_auth::settings::AuthSettings =
//!     toml_like(r#"{"prefix": "/api/auth", "access_ttl": "5m"}"#);
//! assert_eq!(s.prefix, "/api/auth");
//! assert_eq!(s.access_ttl, std::time::Duration::from_secs(300));
//! assert_eq!(s.session_cookie, "turbine_session");
//! # fn toml_like(json: &str) -> turbine_auth::settings::AuthSettings { serde_json::from_str(json).unwrap() }
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The default `auth.redis_prefix`.
pub const DEFAULT_REDIS_PREFIX: &str = "turbine:";

/// `[auth]` in `turbine.toml` (or `TURBINE_AUTH__…` variables).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AuthSettings {
    /// Where the JSON endpoints are mounted.
    pub prefix: String,
    /// Lifetime of an access token (JWT) for mobile clients.
    #[serde(with = "humantime_serde")]
    pub access_ttl: Duration,
    /// Lifetime of a refresh token; each refresh issues a new one with a fresh lifetime.
    #[serde(with = "humantime_serde")]
    pub refresh_ttl: Duration,
    /// `iss` of access tokens.
    pub issuer: String,
    /// `aud` of access tokens.
    pub audience: String,
    /// A browser session ends after this long without a request.
    #[serde(with = "humantime_serde")]
    pub session_idle: Duration,
    /// A browser session ends this long after login, however active.
    #[serde(with = "humantime_serde")]
    pub session_absolute: Duration,
    /// The session cookie's name.
    pub session_cookie: String,
    /// Send the cookie over HTTPS only (`None`: only in the `prod` profile).
    pub cookie_secure: Option<bool>,
    /// The cookie's `Domain` (unset: this host only).
    pub cookie_domain: Option<String>,
    /// Origins (`https://app.example.com`) whose cross-site requests may use the session cookie.
    pub csrf_trusted_origins: Vec<String>,
    /// Where session data lives: `database` (default) or `redis`.
    pub session_store: String,
    /// Where login throttling counts attempts: `memory` (default, one node) or `redis`.
    pub throttle_store: String,
    /// The Redis URL for a `redis` store.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key (default `turbine:`); give each app sharing a Redis database
    /// its own (`chirp:`), or their sessions and counts mix.
    pub redis_prefix: String,
    /// Refuse logins until the email address is verified.
    pub require_verified_email: bool,
    /// Failed logins allowed per account per window.
    pub login_attempts_per_account: u32,
    /// Failed logins allowed per client IP per window.
    pub login_attempts_per_ip: u32,
    /// The throttling window.
    #[serde(with = "humantime_serde")]
    pub login_window: Duration,
    /// How long an email-verification link works.
    #[serde(with = "humantime_serde")]
    pub verify_email_ttl: Duration,
    /// How long a password-reset link works.
    #[serde(with = "humantime_serde")]
    pub reset_password_ttl: Duration,
    /// The link sent to verify an email; `{token}` is replaced.
    pub verify_email_url: String,
    /// The link sent to reset a password; `{token}` is replaced.
    pub reset_password_url: String,
    /// Minimum password length.
    pub password_min_length: usize,
    /// Sign-up through `POST {prefix}/signup` is open.
    pub signup: bool,
    /// How long a user's permissions are remembered between requests (`0s`: asked from the
    /// database on each request that checks one). Grants and revokes through the service
    /// forget them at once on this node; other changes show within this time.
    #[serde(with = "humantime_serde")]
    pub permission_cache: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            prefix: "/auth".into(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            issuer: "turbine".into(),
            audience: "turbine-app".into(),
            session_idle: Duration::from_secs(14 * 24 * 3600),
            session_absolute: Duration::from_secs(30 * 24 * 3600),
            session_cookie: "turbine_session".into(),
            cookie_secure: None,
            cookie_domain: None,
            csrf_trusted_origins: Vec::new(),
            session_store: "database".into(),
            throttle_store: "memory".into(),
            redis_url: None,
            redis_prefix: DEFAULT_REDIS_PREFIX.into(),
            require_verified_email: false,
            login_attempts_per_account: 5,
            login_attempts_per_ip: 50,
            login_window: Duration::from_secs(15 * 60),
            verify_email_ttl: Duration::from_secs(48 * 3600),
            reset_password_ttl: Duration::from_secs(3600),
            verify_email_url: "http://localhost:8000/auth/email/verify?token={token}".into(),
            reset_password_url: "http://localhost:8000/auth/password/reset?token={token}".into(),
            password_min_length: 8,
            signup: true,
            permission_cache: Duration::from_secs(5),
        }
    }
}
