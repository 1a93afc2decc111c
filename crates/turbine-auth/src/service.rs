//! [`AuthService`]: accounts, logins, tokens, sessions and permissions — what the endpoints,
//! extractors and commands call. Handlers take it as an extractor.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> turbine_auth::Result<()> {
//! use turbine_auth::AuthService;
//!
//! let db = turbine_orm::Db::connect("sqlite::memory:").await?;
//! let auth = AuthService::for_tests(db.clone()).await?;
//! let ana = auth.create_user("Ana@Example.com", Some("correct horse battery"), |_| {}).await?;
//! assert_eq!(ana.email, "ana@example.com");
//! let user = auth.authenticate("ana@example.com", "correct horse battery", None).await?;
//! assert_eq!(user.id, ana.id);
//! assert!(auth.authenticate("ana@example.com", "wrong", None).await.is_err());
//! # Ok(()) }
//! ```

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use turbine_orm::{Db, ForeignKey, ManyToMany, ModelExt, Value};

use crate::authorize::Policies;
use crate::jwt::{AccessSettings, AccessTokens};
use crate::models::{ApiToken, Device, OneTimeToken, Permission, RefreshToken, User};
use crate::password::PasswordHasher;
use crate::policy::PasswordPolicy;
use crate::session::{SessionData, SessionStore};
use crate::settings::AuthSettings;
use crate::throttle::Limiter;
use crate::{Error, FieldError, Result, token};

/// Prefix of refresh tokens.
pub const REFRESH_PREFIX: &str = "tbr_";
/// Prefix of personal access tokens (API keys).
pub const API_TOKEN_PREFIX: &str = "tbp_";
/// Account emails (verification, reset, "already registered") one address may receive per
/// login window.
pub const MAILS_PER_WINDOW: u32 = 3;
/// Access tokens remembered as verified (about 300 bytes each).
const VERIFIED_TOKENS: usize = 16_384;
/// One-time token purposes.
pub mod purpose {
    /// Email verification links.
    pub const VERIFY_EMAIL: &str = "verify_email";
    /// Password reset links.
    pub const RESET_PASSWORD: &str = "reset_password";
}

/// The auth battery at run time: cheap to clone.
#[derive(Clone)]
pub struct AuthService(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) settings: AuthSettings,
    pub(crate) db: Db,
    pub(crate) hasher: PasswordHasher,
    pub(crate) policy: PasswordPolicy,
    pub(crate) tokens: AccessTokens,
    pub(crate) sessions: Arc<dyn SessionStore>,
    pub(crate) limiter: Arc<dyn Limiter>,
    pub(crate) mailer: Option<turbine_mail::Mailer>,
    pub(crate) policies: Policies,
    pub(crate) secure_cookie: bool,
    pub(crate) verified: crate::verified::VerifiedTokens,
    pub(crate) permissions: PermissionCache,
}

/// Users' permissions remembered for `auth.permission_cache` (at most [`PERMISSION_CACHE_USERS`]
/// users; full, it starts over).
#[derive(Default)]
pub(crate) struct PermissionCache(std::sync::Mutex<PermissionMap>);

/// A user's id → their permissions and when they were read.
type PermissionMap = HashMap<i64, (Arc<HashSet<String>>, std::time::Instant)>;

/// How many users' permissions are remembered at most.
pub const PERMISSION_CACHE_USERS: usize = 16_384;

impl PermissionCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, PermissionMap> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("prefix", &self.0.settings.prefix)
            .finish_non_exhaustive()
    }
}

/// What a token login or refresh answers (OAuth 2-style field names).
#[derive(Debug, Clone, Serialize)]
pub struct TokenPair {
    /// The signed access token (JWT) for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The opaque refresh token (single use: each refresh returns the next one).
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: u64,
    /// The device (refresh-token family) this login created.
    pub device_id: String,
}

/// Where a request comes from, for devices, sessions and throttling.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The client address (trusted-proxy aware).
    pub ip: Option<IpAddr>,
    /// `User-Agent`, shortened.
    pub user_agent: String,
}

impl ClientInfo {
    /// The client of a request: its address and `User-Agent`.
    pub fn of(ip: IpAddr, headers: &http::HeaderMap) -> Self {
        Self {
            ip: Some(ip),
            user_agent: headers
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
        }
    }
}

/// A freshly issued personal access token: the secret is shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct NewApiToken {
    /// The key to send as `Authorization: Bearer tbp_…`.
    pub token: String,
    /// Its record.
    pub record: ApiToken,
}

/// Builds an [`AuthService`] (the battery does this at start-up; tests may too).
pub struct AuthServiceBuilder {
    settings: AuthSettings,
    db: Db,
    hasher: PasswordHasher,
    policy: Option<PasswordPolicy>,
    secret: Vec<u8>,
    sessions: Option<Arc<dyn SessionStore>>,
    limiter: Option<Arc<dyn Limiter>>,
    mailer: Option<turbine_mail::Mailer>,
    policies: Policies,
    secure_cookie: bool,
}

impl AuthServiceBuilder {
    /// Settings (default: [`AuthSettings::default`]).
    pub fn settings(mut self, settings: AuthSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The password hasher (default: OWASP argon2id).
    pub fn hasher(mut self, hasher: PasswordHasher) -> Self {
        self.hasher = hasher;
        self
    }

    /// The password policy (default: from the settings' minimum length).
    pub fn policy(mut self, policy: PasswordPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The app secret the access-token key is derived from.
    pub fn secret(mut self, secret: &[u8]) -> Self {
        self.secret = secret.to_vec();
        self
    }

    /// The session store (default: the database).
    pub fn sessions(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.sessions = Some(store);
        self
    }

    /// The login limiter (default: in memory).
    pub fn limiter(mut self, limiter: Arc<dyn Limiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Where account mail goes (default: logged, not sent).
    pub fn mailer(mut self, mailer: Option<turbine_mail::Mailer>) -> Self {
        self.mailer = mailer;
        self
    }

    /// Object policies.
    pub fn policies(mut self, policies: Policies) -> Self {
        self.policies = policies;
        self
    }

    /// Whether session cookies are `Secure`.
    pub fn secure_cookie(mut self, secure: bool) -> Self {
        self.secure_cookie = secure;
        self
    }

    /// The service.
    pub fn build(self) -> AuthService {
        let s = &self.settings;
        let access = AccessSettings {
            ttl: s.access_ttl,
            ..AccessSettings::new(s.issuer.clone(), s.audience.clone())
        };
        let key = token::derive_key(&self.secret, "access-token");
        let policy = self.policy.unwrap_or_else(|| PasswordPolicy {
            min_length: s.password_min_length,
            ..PasswordPolicy::default()
        });
        let db = self.db;
        AuthService(Arc::new(Inner {
            tokens: AccessTokens::hs256(&key, access),
            sessions: self
                .sessions
                .unwrap_or_else(|| Arc::new(crate::session::DatabaseSessions::new(db.clone()))),
            limiter: self
                .limiter
                .unwrap_or_else(|| Arc::new(crate::throttle::MemoryLimiter::default())),
            settings: self.settings,
            db,
            hasher: self.hasher,
            policy,
            mailer: self.mailer,
            policies: self.policies,
            secure_cookie: self.secure_cookie,
            verified: crate::verified::VerifiedTokens::new(VERIFIED_TOKENS),
            permissions: PermissionCache::default(),
        }))
    }
}

/// Lower-cases and trims an email address.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Checks an email address's shape (`local@domain.tld`, no spaces, at most 254 characters).
pub fn validate_email(email: &str) -> Result<()> {
    let bad = || Error::invalid("email", "Enter a valid email address.");
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = email.rsplit_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.len() < 3
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains('@')
    {
        return Err(bad());
    }
    Ok(())
}

fn user_agent(ua: &str) -> String {
    ua.chars().take(200).collect()
}

fn ip_text(ip: Option<IpAddr>) -> String {
    ip.map(|i| i.to_string()).unwrap_or_default()
}

fn chrono_dur(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl AuthService {
    /// A builder on this database, with default settings.
    pub fn builder(db: Db) -> AuthServiceBuilder {
        AuthServiceBuilder {
            settings: AuthSettings::default(),
            db,
            hasher: PasswordHasher::owasp(),
            policy: None,
            secret: Vec::new(),
            sessions: None,
            limiter: None,
            mailer: None,
            policies: Policies::default(),
            secure_cookie: false,
        }
    }

    /// A service for tests and examples on a fresh database: creates the auth tables, uses
    /// cheap password hashing, a fixed secret and an in-memory outbox.
    pub async fn for_tests(db: Db) -> Result<Self> {
        use turbine_orm::migrate::{MigrateOptions, Progress, migrate};
        db.set_registry(Arc::new(crate::schema::registry()?))?;
        migrate(
            &db,
            &crate::schema::migrations()?,
            &MigrateOptions::new(),
            &Progress::quiet(),
        )
        .await?;
        Ok(Self::builder(db)
            .hasher(PasswordHasher::for_tests())
            .secret(b"turbine-auth-tests-secret-turbine-auth-tests")
            .mailer(Some(turbine_mail::Mailer::memory()))
            .build())
    }

    /// The settings.
    pub fn settings(&self) -> &AuthSettings {
        &self.0.settings
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.0.db
    }

    /// The access-token signer and verifier.
    pub fn access_tokens(&self) -> &AccessTokens {
        &self.0.tokens
    }

    /// Checks an access token (signature, algorithm, issuer, audience, expiry), remembering
    /// the answer until the token expires so the next request with it costs a map lookup.
    pub(crate) fn verify_access(&self, token: &[u8]) -> Result<crate::verified::Verified> {
        let now = crate::verified::unix_now();
        if let Some(v) = self.0.verified.get(token, now) {
            return Ok(v);
        }
        let text = std::str::from_utf8(token).map_err(|_| crate::TokenError::Malformed)?;
        let claims = self.0.tokens.verify(text)?;
        let verified = crate::verified::Verified {
            id: claims
                .sub
                .parse::<i64>()
                .map_err(|_| crate::TokenError::Malformed)?,
            staff: claims.staff,
            superuser: claims.su,
            device: claims.sid,
            exp: claims.exp,
        };
        self.0.verified.insert(token, verified.clone(), now);
        Ok(verified)
    }

    /// The session store.
    pub fn sessions(&self) -> &dyn SessionStore {
        self.0.sessions.as_ref()
    }

    /// The mailer account messages go through, if one is configured.
    pub fn mailer(&self) -> Option<&turbine_mail::Mailer> {
        self.0.mailer.as_ref()
    }

    /// The login limiter.
    pub fn limiter(&self) -> &dyn Limiter {
        self.0.limiter.as_ref()
    }

    /// The object policies.
    pub fn policies(&self) -> &Policies {
        &self.0.policies
    }

    /// Checks a password against the policy, with the user's email and name for similarity.
    pub fn check_password(&self, password: &str, email: &str, name: &str) -> Result<()> {
        let errors: Vec<FieldError> = self
            .0
            .policy
            .validate(password, &[("email", email), ("name", name)]);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(errors))
        }
    }

    /// Hashes a password (off the async runtime).
    pub async fn hash_password(&self, password: &str) -> Result<String> {
        self.0.hasher.hash(password).await
    }

    /// Creates a user: the email is normalized and checked, the password (if any) checked
    /// against the policy and hashed; `edit` sets further fields (name, staff…) before the
    /// insert. A taken email is a validation error on `email`.
    pub async fn create_user(
        &self,
        email: &str,
        password: Option<&str>,
        edit: impl FnOnce(&mut User),
    ) -> Result<User> {
        let email = normalize_email(email);
        validate_email(&email)?;
        let mut user = User {
            id: 0,
            email,
            password: String::new(),
            name: String::new(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
            email_verified_at: None,
            last_login: None,
            date_joined: Utc::now(),
            groups: ManyToMany::default(),
            user_permissions: ManyToMany::default(),
        };
        edit(&mut user);
        user.password = match password {
            Some(pw) => {
                self.check_password(pw, &user.email, &user.name)?;
                self.hash_password(pw).await?
            }
            None => PasswordHasher::unusable(),
        };
        match user.insert(&self.0.db).await {
            Ok(()) => Ok(user),
            Err(turbine_orm::Error::UniqueViolation { .. }) => Err(Error::invalid(
                "email",
                "A user with this email address already exists.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The user with this email (any case), if any.
    pub async fn find_by_email(&self, email: &str) -> Result<Option<User>> {
        Ok(User::objects()
            .filter(User::EMAIL.eq(normalize_email(email).as_str()))
            .first(&self.0.db)
            .await?)
    }

    /// The user with this id.
    pub async fn user(&self, id: i64) -> Result<User> {
        Ok(User::get(&self.0.db, id).await?)
    }

    /// A user as the endpoints show it: the battery's fields, then the app's own
    /// ([`Auth::user_field`](crate::Auth::user_field)) when the user model has any.
    pub async fn user_json(&self, user: &User) -> Result<serde_json::Value> {
        let mut json = serde_json::to_value(user)
            .map_err(|e| Error::Internal(format!("serializing a user: {e}")))?;
        let Some(meta) = self.0.db.registry().and_then(|r| r.get("auth.User")) else {
            return Ok(json);
        };
        let own = <User as turbine_orm::Model>::meta();
        let extra: Vec<&str> = meta
            .fields
            .iter()
            .filter(|f| !own.fields.iter().any(|o| o.name == f.name))
            .map(|f| f.name.as_str())
            .collect();
        if extra.is_empty() {
            return Ok(json);
        }
        let record = turbine_orm::crud::Record::fetch(&self.0.db, meta, user.id).await?;
        let mut values = record.to_json();
        if let Some(object) = json.as_object_mut() {
            for name in extra {
                if let Some(v) = values.remove(name) {
                    object.insert(name.to_string(), v);
                }
            }
        }
        Ok(json)
    }

    /// Checks an email and password; throttled per account and per client IP. Unknown emails,
    /// wrong passwords and disabled accounts all fail the same way, taking the same time.
    /// Re-hashes the password when the hashing parameters changed, and records the login.
    pub async fn authenticate(
        &self,
        email: &str,
        password: &str,
        ip: Option<IpAddr>,
    ) -> Result<User> {
        let s = &self.0.settings;
        let email = normalize_email(email);
        let account_key = format!("login:account:{}", token::hash(&email));
        let ip_key = ip.map(|ip| format!("login:ip:{ip}"));
        let window = s.login_window;
        let limiter = &self.0.limiter;
        // The account's attempt is counted before the password is checked, so concurrent
        // guesses cannot all slip under the limit; a success resets the count. The client IP's
        // limit counts failures only (a success must not use up a shared address's allowance),
        // so it is peeked first and hit after a failure.
        limiter
            .hit(&account_key, s.login_attempts_per_account, window)
            .await?
            .ensure_allowed()?;
        if let Some(k) = &ip_key {
            limiter
                .peek(k, s.login_attempts_per_ip, window)
                .await?
                .ensure_allowed()?;
        }
        let found = self.find_by_email(&email).await?;
        let verified = match &found {
            Some(user) => Some(self.0.hasher.verify(password, &user.password).await?),
            None => {
                self.0.hasher.burn(password).await;
                None
            }
        };
        let ok = matches!((&found, &verified), (Some(u), Some(v)) if v.ok && u.is_active);
        if !ok {
            if let Some(k) = &ip_key {
                limiter.hit(k, s.login_attempts_per_ip, window).await?;
            }
            tracing::info!(ip = ?ip, "auth: failed login");
            return Err(Error::InvalidCredentials);
        }
        let mut user = found.expect("checked above");
        limiter.reset(&account_key).await?;
        if s.require_verified_email && user.email_verified_at.is_none() {
            return Err(Error::Forbidden(
                "verify your email address before logging in".into(),
            ));
        }
        let mut edit = user.edit();
        if verified.is_some_and(|v| v.needs_rehash) {
            edit.password = self.0.hasher.hash(password).await?;
        }
        edit.last_login = Some(Utc::now());
        edit.save(&self.0.db).await?;
        tracing::info!(user = user.id, "auth: login");
        Ok(user)
    }

    /// Sets a user's password (checked against the policy) and ends their other sessions and
    /// devices: `keep_session` / `keep_device` stay signed in.
    pub async fn set_password(
        &self,
        user: &mut User,
        password: &str,
        keep_session: Option<&str>,
        keep_device: Option<&str>,
    ) -> Result<()> {
        self.check_password(password, &user.email, &user.name)?;
        let hash = self.hash_password(password).await?;
        let mut edit = user.edit();
        edit.password = hash;
        edit.save(&self.0.db).await?;
        self.0.sessions.delete_user(user.id, keep_session).await?;
        let mut q =
            Device::objects().filter(Device::USER.eq(user.id) & Device::REVOKED_AT.is_null());
        if let Some(keep) = keep_device {
            q = q.exclude(Device::ID.eq(keep));
        }
        q.update()
            .set(Device::REVOKED_AT, Some(Utc::now()))
            .execute(&self.0.db)
            .await?;
        self.revoke_api_tokens(user.id).await?;
        tracing::info!(user = user.id, "auth: password changed");
        Ok(())
    }

    // ---- mobile tokens -------------------------------------------------------------------

    fn access_for(&self, user: &User, device: &str) -> Result<(String, u64)> {
        let (jwt, claims) = self.0.tokens.issue(
            &user.id.to_string(),
            Some(device),
            user.is_staff,
            user.is_superuser,
            None,
        )?;
        Ok((jwt, (claims.exp - claims.iat).max(0) as u64))
    }

    async fn new_refresh(&self, db: &Db, device: &str) -> Result<String> {
        let t = token::generate(REFRESH_PREFIX);
        let now = Utc::now();
        RefreshToken {
            id: 0,
            device: ForeignKey::new(device.to_string()),
            token_hash: t.hash,
            created_at: now,
            expires_at: now + chrono_dur(self.0.settings.refresh_ttl),
            used_at: None,
        }
        .insert(db)
        .await?;
        Ok(t.token)
    }

    /// Signs a user in on a new device: an access token and the first refresh token of a new
    /// family.
    pub async fn issue_tokens(
        &self,
        user: &User,
        device_name: &str,
        client: &ClientInfo,
    ) -> Result<TokenPair> {
        let now = Utc::now();
        let device = Device {
            id: uuid::Uuid::new_v4().to_string(),
            user: ForeignKey::new(user.id),
            name: device_name.chars().take(100).collect(),
            user_agent: user_agent(&client.user_agent),
            ip: ip_text(client.ip),
            created_at: now,
            last_used_at: now,
            revoked_at: None,
        };
        let device_id = device.id.clone();
        let refresh = self
            .0
            .db
            .transaction(|db| async move {
                let mut device = device;
                device.insert(&db).await?;
                self.new_refresh(&db, &device.id).await
            })
            .await?;
        let (access_token, expires_in) = self.access_for(user, &device_id)?;
        Ok(TokenPair {
            access_token,
            token_type: "Bearer",
            expires_in,
            refresh_token: refresh,
            refresh_expires_in: self.0.settings.refresh_ttl.as_secs(),
            device_id,
        })
    }

    /// Exchanges a refresh token for a new pair. The old one is used up; presenting a used one
    /// again means it was stolen (or the client misbehaves): the whole family is revoked.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair> {
        use crate::TokenError;
        let db = &self.0.db;
        let hash = token::hash(refresh_token);
        let Some(row) = RefreshToken::objects()
            .filter(RefreshToken::TOKEN_HASH.eq(hash.as_str()))
            .select_related(RefreshToken::DEVICE)
            .first(db)
            .await?
        else {
            return Err(TokenError::Unknown.into());
        };
        let device = row.device.get().cloned().ok_or(TokenError::Unknown)?;
        let now = Utc::now();
        if device.revoked_at.is_some() {
            return Err(TokenError::Revoked.into());
        }
        if row.used_at.is_some() {
            self.revoke_family(&device.id, "refresh token reused")
                .await?;
            return Err(TokenError::Revoked.into());
        }
        if row.expires_at <= now {
            return Err(TokenError::Expired.into());
        }
        let user = self.user(*device.user.id()).await?;
        if !user.is_active {
            return Err(Error::Inactive);
        }
        let device_id = device.id.clone();
        let next = db
            .transaction(|db| async move {
                // Only one of two concurrent refreshes with the same token wins this update.
                let won = RefreshToken::objects()
                    .filter(RefreshToken::ID.eq(row.id) & RefreshToken::USED_AT.is_null())
                    .update()
                    .set(RefreshToken::USED_AT, Some(now))
                    .execute(&db)
                    .await?;
                if won == 0 {
                    return Ok(None);
                }
                Device::objects()
                    .filter(Device::ID.eq(device_id.as_str()))
                    .update()
                    .set(Device::LAST_USED_AT, now)
                    .execute(&db)
                    .await?;
                Ok::<_, Error>(Some(self.new_refresh(&db, &device_id).await?))
            })
            .await?;
        let Some(refresh_token) = next else {
            self.revoke_family(&device.id, "refresh token reused concurrently")
                .await?;
            return Err(TokenError::Revoked.into());
        };
        let (access_token, expires_in) = self.access_for(&user, &device.id)?;
        Ok(TokenPair {
            access_token,
            token_type: "Bearer",
            expires_in,
            refresh_token,
            refresh_expires_in: self.0.settings.refresh_ttl.as_secs(),
            device_id: device.id,
        })
    }

    async fn revoke_family(&self, device: &str, why: &str) -> Result<()> {
        tracing::warn!(device, why, "auth: revoking a device's refresh tokens");
        let now = Utc::now();
        Device::objects()
            .filter(Device::ID.eq(device) & Device::REVOKED_AT.is_null())
            .update()
            .set(Device::REVOKED_AT, Some(now))
            .execute(&self.0.db)
            .await?;
        Ok(())
    }

    /// Signs a device out (its refresh tokens stop working; access tokens already issued live
    /// until they expire). Only the owner's devices; `false` when there was none.
    pub async fn revoke_device(&self, user_id: i64, device: &str) -> Result<bool> {
        let n = Device::objects()
            .filter(Device::ID.eq(device) & Device::USER.eq(user_id) & Device::REVOKED_AT.is_null())
            .update()
            .set(Device::REVOKED_AT, Some(Utc::now()))
            .execute(&self.0.db)
            .await?;
        Ok(n > 0)
    }

    /// The device a refresh token belongs to (to sign it out with the token alone).
    pub async fn device_of_refresh(&self, refresh_token: &str) -> Result<Option<Device>> {
        let row = RefreshToken::objects()
            .filter(RefreshToken::TOKEN_HASH.eq(token::hash(refresh_token).as_str()))
            .select_related(RefreshToken::DEVICE)
            .first(&self.0.db)
            .await?;
        Ok(row.and_then(|r| r.device.get().cloned()))
    }

    /// A user's signed-in devices (not revoked), most recently used first.
    pub async fn devices(&self, user_id: i64) -> Result<Vec<Device>> {
        Ok(Device::objects()
            .filter(Device::USER.eq(user_id) & Device::REVOKED_AT.is_null())
            .order_by([Device::LAST_USED_AT.desc()])
            .all(&self.0.db)
            .await?)
    }

    /// Signs a user out everywhere: every device and session.
    pub async fn revoke_all(&self, user_id: i64) -> Result<()> {
        Device::objects()
            .filter(Device::USER.eq(user_id) & Device::REVOKED_AT.is_null())
            .update()
            .set(Device::REVOKED_AT, Some(Utc::now()))
            .execute(&self.0.db)
            .await?;
        self.0.sessions.delete_user(user_id, None).await?;
        self.revoke_api_tokens(user_id).await?;
        Ok(())
    }

    /// Revokes every API token of a user (signing out everywhere and a new password do).
    async fn revoke_api_tokens(&self, user_id: i64) -> Result<u64> {
        Ok(ApiToken::objects()
            .filter(ApiToken::USER.eq(user_id) & ApiToken::REVOKED_AT.is_null())
            .update()
            .set(ApiToken::REVOKED_AT, Some(Utc::now()))
            .execute(&self.0.db)
            .await?)
    }

    // ---- API tokens ----------------------------------------------------------------------

    /// Creates a personal access token with scopes (`*` for all); the secret is returned once.
    pub async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        scopes: &[String],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<NewApiToken> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid(
                "name",
                "Give the token a name (at most 100 characters).",
            ));
        }
        for s in scopes {
            if s.is_empty() || s.len() > 64 || s.chars().any(|c| c.is_whitespace()) {
                return Err(Error::invalid(
                    "scopes",
                    format!("`{s}` is not a scope (no spaces, at most 64 characters)."),
                ));
            }
        }
        let t = token::generate(API_TOKEN_PREFIX);
        let mut record = ApiToken {
            id: 0,
            user: ForeignKey::new(user_id),
            name: name.to_string(),
            prefix: t.token.chars().take(12).collect(),
            token_hash: t.hash,
            scopes: scopes.join(" "),
            created_at: Utc::now(),
            last_used_at: None,
            expires_at,
            revoked_at: None,
        };
        record.insert(&self.0.db).await?;
        Ok(NewApiToken {
            token: t.token,
            record,
        })
    }

    /// A user's API tokens that still work (neither revoked nor expired).
    pub async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        Ok(ApiToken::objects()
            .filter(
                ApiToken::USER.eq(user_id)
                    & ApiToken::REVOKED_AT.is_null()
                    & (ApiToken::EXPIRES_AT.is_null() | ApiToken::EXPIRES_AT.gt(Utc::now())),
            )
            .all(&self.0.db)
            .await?)
    }

    /// Revokes one of a user's API tokens; `false` when there was none.
    pub async fn revoke_api_token(&self, user_id: i64, id: i64) -> Result<bool> {
        let n = ApiToken::objects()
            .filter(
                ApiToken::ID.eq(id) & ApiToken::USER.eq(user_id) & ApiToken::REVOKED_AT.is_null(),
            )
            .update()
            .set(ApiToken::REVOKED_AT, Some(Utc::now()))
            .execute(&self.0.db)
            .await?;
        Ok(n > 0)
    }

    // ---- one-time links ------------------------------------------------------------------

    /// Issues a single-use link token for a purpose ([`purpose`]); earlier unused ones of the
    /// same purpose stop working.
    pub async fn issue_one_time(
        &self,
        user_id: i64,
        purpose: &str,
        ttl: std::time::Duration,
    ) -> Result<String> {
        let t = token::generate("");
        let now = Utc::now();
        let row = OneTimeToken {
            id: 0,
            user: ForeignKey::new(user_id),
            purpose: purpose.to_string(),
            token_hash: t.hash,
            created_at: now,
            expires_at: now + chrono_dur(ttl),
            used_at: None,
        };
        let purpose = purpose.to_string();
        self.0
            .db
            .transaction(|db| async move {
                OneTimeToken::objects()
                    .filter(
                        OneTimeToken::USER.eq(user_id)
                            & OneTimeToken::PURPOSE.eq(purpose.as_str())
                            & OneTimeToken::USED_AT.is_null(),
                    )
                    .update()
                    .set(OneTimeToken::USED_AT, Some(now))
                    .execute(&db)
                    .await?;
                let mut row = row;
                row.insert(&db).await
            })
            .await?;
        Ok(t.token)
    }

    /// The user a link token is for, if it is unused and unexpired (without using it up).
    pub async fn pending_one_time(&self, hash: &str, purpose: &str) -> Result<User> {
        use crate::TokenError;
        let row = OneTimeToken::objects()
            .filter(
                OneTimeToken::TOKEN_HASH.eq(hash)
                    & OneTimeToken::PURPOSE.eq(purpose)
                    & OneTimeToken::USED_AT.is_null()
                    & OneTimeToken::EXPIRES_AT.gt(Utc::now()),
            )
            .first(&self.0.db)
            .await?
            .ok_or(TokenError::Unknown)?;
        self.user(*row.user.id()).await
    }

    /// Uses up a link token: the user it was for, or a token error (unknown, used, expired).
    pub async fn consume_one_time(&self, token_text: &str, purpose: &str) -> Result<User> {
        use crate::TokenError;
        let now = Utc::now();
        let hash = token::hash(token_text);
        let row = OneTimeToken::objects()
            .filter(OneTimeToken::TOKEN_HASH.eq(hash.as_str()) & OneTimeToken::PURPOSE.eq(purpose))
            .first(&self.0.db)
            .await?
            .ok_or(TokenError::Unknown)?;
        if row.used_at.is_some() {
            return Err(TokenError::Revoked.into());
        }
        if row.expires_at <= now {
            return Err(TokenError::Expired.into());
        }
        let won = OneTimeToken::objects()
            .filter(OneTimeToken::ID.eq(row.id) & OneTimeToken::USED_AT.is_null())
            .update()
            .set(OneTimeToken::USED_AT, Some(now))
            .execute(&self.0.db)
            .await?;
        if won == 0 {
            return Err(TokenError::Revoked.into());
        }
        let user = self.user(*row.user.id()).await?;
        if !user.is_active {
            return Err(Error::Inactive);
        }
        Ok(user)
    }

    // ---- sessions ------------------------------------------------------------------------

    /// Starts a session for `user` (or an anonymous one): a new id every time, so a session id
    /// known before login is worthless after it (no fixation). Ends `previous` if given.
    /// Returns the cookie value and the session.
    pub async fn start_session(
        &self,
        user_id: Option<i64>,
        previous: Option<&str>,
        client: &ClientInfo,
    ) -> Result<(String, SessionData)> {
        let s = &self.0.settings;
        if let Some(prev) = previous {
            self.0.sessions.delete(prev).await?;
        }
        let t = token::generate("");
        let mut data = SessionData::new(
            user_id,
            chrono_dur(s.session_idle),
            chrono_dur(s.session_absolute),
        );
        data.user_agent = user_agent(&client.user_agent);
        data.ip = ip_text(client.ip);
        self.0.sessions.save(&t.hash, &data).await?;
        Ok((t.token, data))
    }

    /// The live session for a cookie value, its idle expiry moved forward (written at most
    /// once a minute). Returns the store key too.
    pub async fn load_session(&self, cookie: &str) -> Result<Option<(String, SessionData)>> {
        let key = token::hash(cookie);
        let Some(mut data) = self.0.sessions.load(&key).await? else {
            return Ok(None);
        };
        let now = Utc::now();
        if now - data.last_seen_at > chrono::Duration::seconds(60) {
            let s = &self.0.settings;
            data.touch(
                now,
                chrono_dur(s.session_idle),
                chrono_dur(s.session_absolute),
            );
            if !data.is_live(now) {
                self.0.sessions.delete(&key).await?;
                return Ok(None);
            }
            self.0.sessions.save(&key, &data).await?;
        }
        Ok(Some((key, data)))
    }

    /// The `Set-Cookie` value for a session cookie (`None`: clear it).
    pub fn session_cookie(&self, value: Option<&str>) -> String {
        let s = &self.0.settings;
        let mut c =
            cookie::Cookie::build((s.session_cookie.clone(), value.unwrap_or("").to_string()))
                .path("/")
                .http_only(true)
                .same_site(cookie::SameSite::Lax)
                .secure(self.0.secure_cookie);
        if let Some(domain) = &s.cookie_domain {
            c = c.domain(domain.clone());
        }
        c = match value {
            Some(_) => c.max_age(cookie::time::Duration::seconds(
                s.session_absolute.as_secs() as i64,
            )),
            None => c.max_age(cookie::time::Duration::ZERO),
        };
        c.build().to_string()
    }

    // ---- permissions ---------------------------------------------------------------------

    /// The codenames a user has, directly and through groups (superusers: see
    /// [`CurrentUser::has_perm`](crate::CurrentUser::has_perm), which does not ask).
    pub async fn permissions_of(&self, user_id: i64) -> Result<HashSet<String>> {
        let rows = Permission::raw(
            &self.0.db,
            "SELECT p.* FROM auth_permission p WHERE p.id IN \
             (SELECT permission_id FROM auth_user_user_permissions WHERE user_id = ?) \
             OR p.id IN (SELECT gp.permission_id FROM auth_group_permissions gp \
             JOIN auth_user_groups ug ON ug.group_id = gp.group_id WHERE ug.user_id = ?)",
            [Value::from(user_id), Value::from(user_id)],
        )
        .await?;
        Ok(rows.into_iter().map(|p| p.codename).collect())
    }

    /// [`permissions_of`](Self::permissions_of), remembered for `auth.permission_cache`.
    pub async fn cached_permissions(&self, user_id: i64) -> Result<Arc<HashSet<String>>> {
        let ttl = self.0.settings.permission_cache;
        if !ttl.is_zero()
            && let Some((perms, at)) = self.0.permissions.lock().get(&user_id)
            && at.elapsed() < ttl
        {
            return Ok(perms.clone());
        }
        let perms = Arc::new(self.permissions_of(user_id).await?);
        if !ttl.is_zero() {
            let mut cache = self.0.permissions.lock();
            if cache.len() >= PERMISSION_CACHE_USERS {
                cache.clear();
            }
            cache.insert(user_id, (perms.clone(), std::time::Instant::now()));
        }
        Ok(perms)
    }

    /// Forgets the remembered permissions of a user (`None`: of everyone), after changing
    /// them other than through [`grant`](Self::grant) and [`revoke`](Self::revoke) (groups,
    /// the admin).
    pub fn forget_permissions(&self, user_id: Option<i64>) {
        let mut cache = self.0.permissions.lock();
        match user_id {
            Some(id) => {
                cache.remove(&id);
            }
            None => cache.clear(),
        }
    }

    /// The permission with this codename, created if missing (`app.model.action`).
    pub async fn permission(&self, codename: &str) -> Result<Permission> {
        let (label, name) = describe_codename(codename)?;
        let (p, _) =
            Permission::get_or_create(&self.0.db, Permission::CODENAME.eq(codename), || {
                Permission {
                    id: 0,
                    codename: codename.to_string(),
                    name,
                    model: label,
                }
            })
            .await?;
        Ok(p)
    }

    /// Gives a user a permission directly.
    pub async fn grant(&self, user: &User, codename: &str) -> Result<()> {
        let p = self.permission(codename).await?;
        user.m2m(User::USER_PERMISSIONS)
            .add(&self.0.db, &[&p])
            .await?;
        self.forget_permissions(Some(user.id));
        Ok(())
    }

    /// Takes a directly given permission away.
    pub async fn revoke(&self, user: &User, codename: &str) -> Result<()> {
        let p = self.permission(codename).await?;
        user.m2m(User::USER_PERMISSIONS)
            .remove(&self.0.db, &[&p])
            .await?;
        self.forget_permissions(Some(user.id));
        Ok(())
    }

    /// Creates the `view`/`add`/`change`/`delete` permissions of every model (join models
    /// excepted); returns how many were new.
    pub async fn sync_permissions(&self, registry: &turbine_orm::meta::Registry) -> Result<usize> {
        let existing: HashSet<String> = Permission::objects()
            .values_of(&self.0.db, Permission::CODENAME)
            .await?
            .into_iter()
            .collect();
        let mut new = Vec::new();
        for meta in registry.models() {
            // Automatic many-to-many join models are named `<Model>_<field>`.
            if meta.name.contains('_') {
                continue;
            }
            for action in ["view", "add", "change", "delete"] {
                let codename = codename(meta, action);
                if !existing.contains(&codename) {
                    new.push(Permission {
                        id: 0,
                        name: format!("Can {action} {}", meta.verbose_name),
                        model: format!("{}.{}", meta.app, meta.name),
                        codename,
                    });
                }
            }
        }
        let n = new.len();
        if n > 0 {
            Permission::insert_many(&self.0.db, new).await?;
        }
        Ok(n)
    }

    /// Counts a request of a kind (`signup`, `reset`) from a client address against
    /// `auth.login_attempts_per_ip` per window; [`Error::Throttled`] past it.
    pub(crate) async fn count_per_ip(&self, kind: &str, ip: IpAddr) -> Result<()> {
        let s = &self.0.settings;
        self.0
            .limiter
            .hit(
                &format!("{kind}:ip:{ip}"),
                s.login_attempts_per_ip,
                s.login_window,
            )
            .await?
            .ensure_allowed()?;
        Ok(())
    }

    /// Counts an account email to `user_id`: refused once more than [`MAILS_PER_WINDOW`] were
    /// sent in the login window, so nobody can make the server flood an inbox.
    pub(crate) async fn count_mail(&self, user_id: i64) -> Result<crate::throttle::Decision> {
        let decision = self
            .0
            .limiter
            .hit(
                &format!("mail:user:{user_id}"),
                MAILS_PER_WINDOW,
                self.0.settings.login_window,
            )
            .await?;
        if !decision.allowed {
            tracing::info!(user = user_id, "auth: account email not sent (too many)");
        }
        Ok(decision)
    }

    /// Sends an account email through the mailer (in the background, so a response never
    /// waits for SMTP and takes the same time whether or not a mail went out).
    pub(crate) fn send_mail(&self, mut message: turbine_mail::Message) {
        match self.0.mailer.clone() {
            Some(mailer) => {
                if !message.has_from() && mailer.default_from_address().is_none() {
                    message = message.from("noreply@localhost");
                }
                tokio::spawn(async move {
                    if let Err(e) = mailer.send(message).await {
                        tracing::error!(error = %e, "auth: sending an account email failed");
                    }
                });
            }
            None => tracing::warn!(
                "auth: no mailer configured (install the mail battery); an account email was not sent"
            ),
        }
    }
}

/// `app.model.action` for a model.
pub fn codename(meta: &turbine_orm::meta::ModelMeta, action: &str) -> String {
    format!("{}.{}.{}", meta.app, meta.name.to_lowercase(), action)
}

/// `("app.model", "Can action model")` for a codename, or a validation error.
fn describe_codename(codename: &str) -> Result<(String, String)> {
    let parts: Vec<&str> = codename.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || p.contains(' ')) {
        return Err(Error::invalid(
            "codename",
            format!(
                "`{codename}` is not a permission: write `app.model.action` (`chirp.post.change`)"
            ),
        ));
    }
    Ok((
        format!("{}.{}", parts[0], parts[1]),
        format!("Can {} {}", parts[2], parts[1]),
    ))
}
