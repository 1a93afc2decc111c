//! The auth battery: `App::new().battery(orm).battery(Mail::new()).battery(Auth::new())`.
//!
//! Installs the auth models and their migrations on the ORM, the JSON endpoints under
//! `auth.prefix`, the middleware (CSRF checks, the service in every request), the
//! `createsuperuser`, `changepassword` and `clearsessions` commands, and the `view`/`add`/
//! `change`/`delete` permissions of every model when the app starts. Install it after the
//! ORM battery (and the mail battery, whose mailer it sends through).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use turbine::orm::battery::{Migrations, Orm};
//! use turbine::prelude::*;
//! use turbine::testing::{TestClient, config};
//! use turbine_auth::{Auth, CurrentUser, password::PasswordHasher};
//!
//! async fn hello(user: CurrentUser) -> String {
//!     format!("hello, user {}", user.id)
//! }
//! let app = App::new()
//!     .battery(Orm::new().migrations(Migrations::none()).auto_migrate(true))
//!     .battery(Auth::new().password_hasher(PasswordHasher::for_tests()))
//!     .route("/hello", get(hello));
//! let client = TestClient::new(app.config(config("[database]\nurl = 'sqlite::memory:'")))
//!     .await
//!     .unwrap();
//! client.get("/hello").send().await.assert_status(401);
//! client
//!     .post("/auth/signup")
//!     .json(&serde_json::json!({"email": "ana@example.com", "password": "a long passphrase"}))
//!     .send()
//!     .await
//!     .assert_status(202);
//! let login = client
//!     .post("/auth/login")
//!     .json(&serde_json::json!({"email": "ana@example.com", "password": "a long passphrase"}))
//!     .send()
//!     .await
//!     .assert_status(200);
//! let token = login.json::<serde_json::Value>()["access_token"].as_str().unwrap().to_string();
//! let hi = client.get("/hello").bearer(&token).send().await.assert_status(200);
//! assert!(hi.text().starts_with("hello, user"));
//! # }
//! ```

use std::sync::{Arc, OnceLock};

use turbine_core::battery::{Battery, Setup};
use turbine_core::check::Finding;
use turbine_core::context::Invocation;
use turbine_orm::Db;
use turbine_orm::battery::Contributions;

use crate::authorize::{Policies, Policy};
use crate::password::PasswordHasher;
use crate::policy::PasswordPolicy;
use crate::service::AuthService;
use crate::session::{RedisSessions, SessionStore};
use crate::settings::AuthSettings;
use crate::throttle::{Limiter, RedisLimiter};

/// The auth battery.
#[derive(Default)]
pub struct Auth {
    policies: Policies,
    hasher: Option<PasswordHasher>,
    password_policy: Option<PasswordPolicy>,
    user_fields: Vec<turbine_orm::meta::FieldMeta>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").finish_non_exhaustive()
    }
}

impl Auth {
    /// The battery with default settings (`[auth]` in the config adjusts them).
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the object policy of a model ([`CurrentUser::can`](crate::CurrentUser::can)).
    pub fn policy<M: 'static>(mut self, policy: impl Policy<M>) -> Self {
        self.policies = self.policies.with::<M>(policy);
        self
    }

    /// Replaces the password hasher (tests use [`PasswordHasher::for_tests`]).
    pub fn password_hasher(mut self, hasher: PasswordHasher) -> Self {
        self.hasher = Some(hasher);
        self
    }

    /// Replaces the password policy.
    pub fn password_policy(mut self, policy: PasswordPolicy) -> Self {
        self.password_policy = Some(policy);
        self
    }

    /// Adds a field of the app's own to the user model (`auth.User`, table `auth_user`), as
    /// metadata: `makemigrations` writes the column into the app's next migration, and the
    /// admin, the API and the untyped ORM (`Record`, `Query` on `db.registry()`) see it. It
    /// must be nullable or have a `db_default` (the battery's own inserts leave it out), and
    /// its name must not be one of the user's.
    ///
    /// ```
    /// use turbine_auth::Auth;
    /// use turbine_orm::meta::{FieldMeta, FieldType};
    ///
    /// let auth = Auth::new()
    ///     .user_field(FieldMeta::new("phone", FieldType::String { max_length: 20 }).nullable());
    /// ```
    pub fn user_field(mut self, field: turbine_orm::meta::FieldMeta) -> Self {
        self.user_fields.push(field);
        self
    }
}

fn config_error(message: String) -> turbine_core::Error {
    turbine_core::Error::other("the [auth] settings", crate::Error::Internal(message))
}

impl Battery for Auth {
    fn name(&self) -> &'static str {
        "auth"
    }

    fn install(self, setup: &mut Setup) -> turbine_core::Result<()> {
        crate::schema::contribute(&setup.shared::<Contributions>(), &self.user_fields)
            .map_err(|e| turbine_core::Error::other("adding the auth models", e))?;
        let settings: AuthSettings = setup.section("auth")?;
        if !settings.prefix.starts_with('/') || settings.prefix.len() < 2 {
            return Err(config_error(format!(
                "auth.prefix must start with `/` and name a path, like `/auth` (got `{}`)",
                settings.prefix
            )));
        }
        for (key, value, allowed) in [
            (
                "session_store",
                &settings.session_store,
                ["database", "redis"],
            ),
            (
                "throttle_store",
                &settings.throttle_store,
                ["memory", "redis"],
            ),
        ] {
            if !allowed.contains(&value.as_str()) {
                return Err(config_error(format!(
                    "auth.{key} = `{value}` is not one of {allowed:?}"
                )));
            }
            if value == "redis" && settings.redis_url.is_none() {
                return Err(config_error(format!(
                    "auth.{key} = `redis` needs auth.redis_url (`redis://127.0.0.1:6379`)"
                )));
            }
        }
        for (key, url) in [
            ("verify_email_url", &settings.verify_email_url),
            ("reset_password_url", &settings.reset_password_url),
        ] {
            if !url.contains("{token}") {
                return Err(config_error(format!(
                    "auth.{key} = `{url}` has no `{{token}}` where the link's token goes"
                )));
            }
        }
        let links_local = [&settings.verify_email_url, &settings.reset_password_url]
            .iter()
            .any(|u| is_local_link(u));
        let secure = settings
            .cookie_secure
            .unwrap_or_else(|| setup.config().profile().is_prod());
        let secret = setup.config().secret_key().expose().as_bytes().to_vec();
        let handle: crate::csrf::Handle = Arc::new(OnceLock::new());

        setup.nest(&settings.prefix, crate::routes::routes());
        let layer_handle = handle.clone();
        setup.layer_all(move |router| {
            router.layer(axum::middleware::from_fn_with_state(
                layer_handle,
                crate::csrf::middleware,
            ))
        });
        for command in crate::commands::commands() {
            setup.command(command);
        }
        setup.system_check(move |scope| {
            let mut out = Vec::new();
            if scope.deploy && !secure {
                out.push(
                    Finding::warning("auth.W001", "session cookies are sent over plain HTTP")
                        .hint("leave auth.cookie_secure unset in prod, or set it to true"),
                );
            }
            if scope.deploy && links_local {
                out.push(
                    Finding::warning(
                        "auth.W002",
                        "emailed verification and reset links point at localhost",
                    )
                    .hint(
                        "set auth.verify_email_url and auth.reset_password_url to pages of your \
                         front end (or app deep links) that POST the token to the API",
                    ),
                );
            }
            out
        });

        let Auth {
            policies,
            hasher,
            password_policy,
            user_fields: _,
        } = self;
        setup.on_startup(move |cx| async move {
            let db = cx.get::<Db>().ok_or_else(|| {
                config_error("install the orm battery before the auth battery".into())
            })?;
            let sessions: Option<Arc<dyn SessionStore>> = match settings.session_store.as_str() {
                "redis" => Some(Arc::new(
                    RedisSessions::connect(settings.redis_url.as_deref().unwrap_or_default())
                        .await
                        .map_err(|e| turbine_core::Error::other("connecting to Redis for sessions", e))?
                        .with_prefix(&settings.redis_prefix),
                )),
                _ => None,
            };
            let limiter: Option<Arc<dyn Limiter>> = match settings.throttle_store.as_str() {
                "redis" => Some(Arc::new(
                    RedisLimiter::connect(settings.redis_url.as_deref().unwrap_or_default())
                        .await
                        .map_err(|e| turbine_core::Error::other("connecting to Redis for throttling", e))?
                        .with_prefix(&settings.redis_prefix),
                )),
                _ => None,
            };
            let mut builder = AuthService::builder(db)
                .settings(settings)
                .secret(&secret)
                .hasher(hasher.unwrap_or_default())
                .mailer(cx.get::<turbine_mail::Mailer>())
                .policies(policies)
                .secure_cookie(secure);
            if let Some(p) = password_policy {
                builder = builder.policy(p);
            }
            if let Some(s) = sessions {
                builder = builder.sessions(s);
            }
            if let Some(l) = limiter {
                builder = builder.limiter(l);
            }
            let service = builder.build();
            let serving = !matches!(cx.get::<Invocation>(), Some(Invocation::Command(_)));
            if serving && let Some(registry) = cx.get::<Arc<turbine_orm::meta::Registry>>() {
                match service.sync_permissions(&registry).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(created = n, "auth: created model permissions"),
                    Err(e) => tracing::warn!(error = %e, "auth: could not create model permissions (run `migrate`)"),
                }
            }
            cx.insert(service.clone());
            let _ = handle.set(service);
            Ok(())
        });
        Ok(())
    }
}

/// Whether a mailed link goes to this machine (the defaults do), useless in anyone's inbox.
fn is_local_link(link: &str) -> bool {
    match url::Url::parse(link)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_local_link;

    #[test]
    fn local_links() {
        assert!(is_local_link(
            "http://localhost:8000/auth/email/verify?token={token}"
        ));
        assert!(is_local_link("http://127.0.0.1/x?token={token}"));
        assert!(is_local_link("http://[::1]:8000/x"));
        assert!(!is_local_link("https://chirp.example/verify?token={token}"));
        assert!(!is_local_link("chirp://verify?token={token}"));
        assert!(!is_local_link("https://localhost.example.com/x"));
    }
}
