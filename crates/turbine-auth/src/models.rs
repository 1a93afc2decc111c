//! The auth battery's models (app `auth`), shipped with their migrations in `migrations/`.
//!
//! Secrets are never stored: passwords as argon2id PHC strings, session ids, refresh tokens,
//! API keys and one-time links as SHA-256 digests ([`crate::token::hash`]).
//!
//! ```
//! use turbine_auth::models::User;
//! use turbine_orm::Model;
//!
//! assert_eq!(User::LABEL, "auth.User");
//! assert_eq!(User::meta().table, "auth_user");
//! ```

use chrono::{DateTime, Utc};
use serde::Serialize;
use turbine_macros::Model;
use turbine_orm::{ForeignKey, ManyToMany};

/// An account: who can log in, and what they may do.
#[derive(Model, Debug, Clone, Serialize)]
#[model(app = "auth", crate = "turbine_orm", ordering = ["email"])]
pub struct User {
    /// Identity key.
    pub id: i64,
    /// The login, stored lower-case so that uniqueness ignores case.
    #[field(max_length = 254, unique, label = "Email address")]
    pub email: String,
    /// The argon2id PHC string; empty for an account that cannot log in with a password.
    #[serde(skip)]
    #[field(max_length = 255, default = "")]
    pub password: String,
    /// The name shown to people (optional).
    #[field(max_length = 150, default = "")]
    pub name: String,
    /// May log in.
    #[field(default = true)]
    pub is_active: bool,
    /// May use the admin.
    #[field(default = false)]
    pub is_staff: bool,
    /// Has every permission.
    #[field(default = false)]
    pub is_superuser: bool,
    /// When the email address was confirmed.
    pub email_verified_at: Option<DateTime<Utc>>,
    /// The last successful login.
    pub last_login: Option<DateTime<Utc>>,
    /// When the account was created.
    #[field(auto_now_add)]
    pub date_joined: DateTime<Utc>,
    /// Groups the user belongs to (their permissions apply).
    #[serde(skip)]
    #[field(related_name = "users")]
    pub groups: ManyToMany<Group>,
    /// Permissions given to the user directly.
    #[serde(skip)]
    #[field(related_name = "users")]
    pub user_permissions: ManyToMany<Permission>,
}

/// A permission: `app.model.action` (`chirp.post.change`), created for every registered model
/// (`view`, `add`, `change`, `delete`) or by the app for its own actions.
#[derive(Model, Debug, Clone, Serialize)]
#[model(app = "auth", crate = "turbine_orm", ordering = ["codename"])]
pub struct Permission {
    /// Identity key.
    pub id: i64,
    /// `app.model.action`.
    #[field(max_length = 150, unique)]
    pub codename: String,
    /// What it allows, for people (`Can change post`).
    #[field(max_length = 255)]
    pub name: String,
    /// The model it is about (`chirp.Post`), or empty.
    #[field(max_length = 100, default = "")]
    pub model: String,
}

/// A named set of permissions; users in the group have them.
#[derive(Model, Debug, Clone, Serialize)]
#[model(app = "auth", crate = "turbine_orm", ordering = ["name"])]
pub struct Group {
    /// Identity key.
    pub id: i64,
    /// Unique name.
    #[field(max_length = 150, unique)]
    pub name: String,
    /// What members may do.
    #[serde(skip)]
    #[field(related_name = "groups")]
    pub permissions: ManyToMany<Permission>,
}

/// A browser session (server-side; the cookie holds a random id, the table its digest).
#[derive(Model, Debug, Clone)]
#[model(app = "auth", crate = "turbine_orm", index(fields = ["expires_at"]))]
pub struct Session {
    /// SHA-256 of the cookie's value.
    #[field(primary_key, max_length = 64)]
    pub key_hash: String,
    /// The logged-in user, if any (sessions also carry anonymous CSRF tokens).
    #[field(on_delete = "cascade", related_name = "sessions")]
    pub user: Option<ForeignKey<User>>,
    /// The session's CSRF token (given to forms).
    #[field(max_length = 64)]
    pub csrf_token: String,
    /// Free-form data handlers keep in the session.
    pub data: serde_json::Value,
    /// When it was created (the absolute expiry counts from here).
    pub created_at: DateTime<Utc>,
    /// Last request seen (the idle expiry counts from here; updated at most once a minute).
    pub last_seen_at: DateTime<Utc>,
    /// When it expires: the earlier of idle and absolute expiry.
    pub expires_at: DateTime<Utc>,
    /// The browser, as it said (`User-Agent`, shortened).
    #[field(max_length = 200, default = "")]
    pub user_agent: String,
    /// The client address at login.
    #[field(max_length = 45, default = "")]
    pub ip: String,
}

/// A signed-in device of a mobile (or other token) client: one refresh-token family.
#[derive(Model, Debug, Clone, Serialize)]
#[model(app = "auth", crate = "turbine_orm", ordering = ["-last_used_at"])]
pub struct Device {
    /// Random id (also the `sid` claim of its access tokens).
    #[field(primary_key, max_length = 36)]
    pub id: String,
    /// Whose device.
    #[serde(skip)]
    #[field(on_delete = "cascade", related_name = "devices")]
    pub user: ForeignKey<User>,
    /// A name the client gave (`Ana's iPhone`).
    #[field(max_length = 100, default = "")]
    pub name: String,
    /// `User-Agent` at sign-in.
    #[field(max_length = 200, default = "")]
    pub user_agent: String,
    /// Client address at sign-in.
    #[field(max_length = 45, default = "")]
    pub ip: String,
    /// Signed in at.
    pub created_at: DateTime<Utc>,
    /// Last refresh.
    pub last_used_at: DateTime<Utc>,
    /// Signed out, revoked, or a stolen refresh token was detected.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One refresh token of a device's family; each refresh uses it up and issues the next.
#[derive(Model, Debug, Clone)]
#[model(app = "auth", crate = "turbine_orm")]
pub struct RefreshToken {
    /// Identity key.
    pub id: i64,
    /// The family.
    #[field(on_delete = "cascade", related_name = "refresh_tokens")]
    pub device: ForeignKey<Device>,
    /// SHA-256 of the token.
    #[field(max_length = 64, unique)]
    pub token_hash: String,
    /// Issued at.
    pub created_at: DateTime<Utc>,
    /// Refused after.
    pub expires_at: DateTime<Utc>,
    /// When it was exchanged for the next one; presenting it again revokes the family.
    pub used_at: Option<DateTime<Utc>>,
}

/// A personal access token (API key) with scopes, like Laravel Sanctum's.
#[derive(Model, Debug, Clone, Serialize)]
#[model(app = "auth", crate = "turbine_orm", ordering = ["-created_at"])]
pub struct ApiToken {
    /// Identity key.
    pub id: i64,
    /// Whose key.
    #[serde(skip)]
    #[field(on_delete = "cascade", related_name = "api_tokens")]
    pub user: ForeignKey<User>,
    /// A name to recognise it by.
    #[field(max_length = 100)]
    pub name: String,
    /// The first characters of the key, to recognise it in a list.
    #[field(max_length = 16)]
    pub prefix: String,
    /// SHA-256 of the key.
    #[serde(skip)]
    #[field(max_length = 64, unique)]
    pub token_hash: String,
    /// Space-separated scopes (`posts:read posts:write`); `*` for all.
    #[field(max_length = 500, default = "")]
    pub scopes: String,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last used (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Refused after, if set.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revoked at.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A single-use, expiring link token (email verification, password reset).
#[derive(Model, Debug, Clone)]
#[model(app = "auth", crate = "turbine_orm")]
pub struct OneTimeToken {
    /// Identity key.
    pub id: i64,
    /// For whom.
    #[field(on_delete = "cascade", related_name = "one_time_tokens")]
    pub user: ForeignKey<User>,
    /// `verify_email` or `reset_password`.
    #[field(max_length = 20)]
    pub purpose: String,
    /// SHA-256 of the token.
    #[field(max_length = 64, unique)]
    pub token_hash: String,
    /// Issued at.
    pub created_at: DateTime<Utc>,
    /// Refused after.
    pub expires_at: DateTime<Utc>,
    /// Used at (then refused).
    pub used_at: Option<DateTime<Utc>>,
}
