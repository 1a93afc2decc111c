//! Who is asking: [`CurrentUser`] (401 without valid credentials), [`MaybeUser`], [`Staff`],
//! [`Perm`], and the route layers [`require_staff`], [`require_perm`] and [`require_user`].
//!
//! Credentials are, in order: `Authorization: Bearer <access JWT>` (checked without touching
//! the database), `Authorization: Bearer tbp_…` (a personal access token), then the session
//! cookie. The result is computed once per request.
//!
//! ```
//! use turbine::prelude::*;
//! use turbine_auth::{CurrentUser, MaybeUser, require_perm};
//!
//! async fn me(user: CurrentUser) -> String {
//!     format!("user {}", user.id)
//! }
//! async fn hello(MaybeUser(user): MaybeUser) -> String {
//!     match user {
//!         Some(u) => format!("hello, user {}", u.id),
//!         None => "hello, stranger".into(),
//!     }
//! }
//! async fn purge() -> &'static str { "purged" }
//!
//! let app = App::new()
//!     .route("/me", get(me))
//!     .route("/hello", get(hello))
//!     .route("/purge", post(purge).layer(require_perm("chirp.post.delete")));
//! ```

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use http::request::Parts;
use turbine_core::context::Context;
use turbine_orm::{Model, ModelExt};

use crate::authorize::Action;
use crate::models::{ApiToken, User};
use crate::service::{API_TOKEN_PREFIX, AuthService};
use crate::session::SessionData;
use crate::{Error, Result, token};

/// How the request authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMethod {
    /// A signed access token (mobile clients); `device` is the refresh-token family.
    Bearer {
        /// The device id (`sid` claim).
        device: Option<String>,
    },
    /// A personal access token with scopes.
    ApiToken {
        /// The token's id.
        id: i64,
        /// Its scopes (`*`: all).
        scopes: Vec<String>,
    },
    /// The browser session cookie.
    Session {
        /// The session's store key (a digest).
        key: String,
    },
}

/// The authenticated user of a request. As an extractor, a request without valid credentials
/// is refused with 401 problem+json and `WWW-Authenticate: Bearer`.
///
/// It carries what the credentials say (id, staff and superuser flags); [`fetch`](Self::fetch)
/// gives the full [`User`] row (the one a session request already loaded, else from the
/// database).
#[derive(Clone)]
pub struct CurrentUser {
    /// The user's id.
    pub id: i64,
    /// May use the admin.
    pub is_staff: bool,
    /// Has every permission.
    pub is_superuser: bool,
    /// How the request authenticated.
    pub method: AuthMethod,
    auth: AuthService,
    perms: Arc<tokio::sync::OnceCell<Arc<HashSet<String>>>>,
    /// The row, when resolving the credentials loaded it (sessions).
    row: Option<Arc<User>>,
}

impl std::fmt::Debug for CurrentUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentUser")
            .field("id", &self.id)
            .field("is_staff", &self.is_staff)
            .field("is_superuser", &self.is_superuser)
            .finish_non_exhaustive()
    }
}

impl CurrentUser {
    pub(crate) fn new(user: &User, method: AuthMethod, auth: AuthService) -> Self {
        Self {
            id: user.id,
            is_staff: user.is_staff,
            is_superuser: user.is_superuser,
            method,
            auth,
            perms: Arc::default(),
            row: None,
        }
    }

    /// [`new`](Self::new), keeping the row: [`fetch`](Self::fetch) then costs no query.
    fn with_row(user: User, method: AuthMethod, auth: AuthService) -> Self {
        let mut me = Self::new(&user, method, auth);
        me.row = Some(Arc::new(user));
        me
    }

    /// The auth service.
    pub fn auth(&self) -> &AuthService {
        &self.auth
    }

    /// The full user row: the one loaded with the request's session (as it was when the
    /// request began), else read from the database.
    pub async fn fetch(&self) -> Result<User> {
        match &self.row {
            Some(row) => Ok(User::clone(row)),
            None => self.auth.user(self.id).await,
        }
    }

    /// The session's store key, for a cookie-authenticated request.
    pub fn session_key(&self) -> Option<&str> {
        match &self.method {
            AuthMethod::Session { key } => Some(key),
            _ => None,
        }
    }

    /// The device (refresh-token family), for a bearer-token request.
    pub fn device(&self) -> Option<&str> {
        match &self.method {
            AuthMethod::Bearer { device } => device.as_deref(),
            _ => None,
        }
    }

    /// The user's permission codenames, loaded once per request.
    pub async fn permissions(&self) -> Result<Arc<HashSet<String>>> {
        self.perms
            .get_or_try_init(|| self.auth.cached_permissions(self.id))
            .await
            .cloned()
    }

    /// Whether the user has a permission (`app.model.action`); superusers have all.
    pub async fn has_perm(&self, codename: &str) -> Result<bool> {
        if self.is_superuser {
            return Ok(true);
        }
        Ok(self.permissions().await?.contains(codename))
    }

    /// [`has_perm`](Self::has_perm), or 403.
    pub async fn require_perm(&self, codename: &str) -> Result<()> {
        if self.has_perm(codename).await? {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "you need the permission `{codename}`"
            )))
        }
    }

    /// Whether a personal access token allows a scope (other credentials allow every scope).
    pub fn has_scope(&self, scope: &str) -> bool {
        match &self.method {
            AuthMethod::ApiToken { scopes, .. } => scopes.iter().any(|s| s == "*" || s == scope),
            _ => true,
        }
    }

    /// [`has_scope`](Self::has_scope), or 403.
    pub fn require_scope(&self, scope: &str) -> Result<()> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "this token lacks the scope `{scope}`"
            )))
        }
    }

    /// Whether the user may act on an object: superusers always; then the model's policy if
    /// it has one; else the model permission (`app.model.action`).
    pub async fn can<M: Model + 'static>(&self, action: Action, object: &M) -> Result<bool> {
        if self.is_superuser {
            return Ok(true);
        }
        if let Some(answer) = self.auth.policies().check(self, action, object) {
            return Ok(answer);
        }
        self.has_perm(&crate::service::codename(M::meta(), action.as_str()))
            .await
    }

    /// [`can`](Self::can), or 403.
    pub async fn authorize<M: Model + 'static>(&self, action: Action, object: &M) -> Result<()> {
        if self.can(action, object).await? {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "you may not {} this {}",
                action.as_str(),
                M::meta().verbose_name
            )))
        }
    }
}

/// The session of a cookie request, once loaded (for CSRF checks and logout).
#[derive(Debug, Clone)]
pub(crate) struct LoadedSession {
    pub(crate) key: String,
    pub(crate) data: SessionData,
}

/// What the battery's middleware puts in every request: the service, and the request's
/// session and user once worked out (one extension, filled in place, so resolving costs no
/// further allocation in the request).
#[derive(Clone)]
pub(crate) struct RequestAuth {
    pub(crate) service: AuthService,
    session: Option<Option<LoadedSession>>,
    resolved: Option<Option<CurrentUser>>,
}

impl RequestAuth {
    pub(crate) fn new(service: AuthService) -> Self {
        Self {
            service,
            session: None,
            resolved: None,
        }
    }
}

fn not_installed() -> Error {
    Error::Internal("the auth battery is not installed (or its middleware did not run)".into())
}

/// The bearer token of a request, if it has one, as bytes: a token is long, and a known one is
/// found without validating it as text first.
pub(crate) fn bearer(parts: &Parts) -> Option<&[u8]> {
    let value = parts.headers.get(http::header::AUTHORIZATION)?.as_bytes();
    let (scheme, token) = value.split_at_checked(7)?;
    scheme
        .eq_ignore_ascii_case(b"bearer ")
        .then(|| token.trim_ascii())
}

/// The value of the cookie `name`, if the request has one (and it is not empty).
pub fn cookie<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// Loads the request's session (cached in the request).
pub(crate) async fn load_session(
    parts: &mut Parts,
    auth: &AuthService,
) -> Result<Option<LoadedSession>> {
    if let Some(s) = parts
        .extensions
        .get::<RequestAuth>()
        .and_then(|r| r.session.clone())
    {
        return Ok(s);
    }
    let loaded = match cookie(&parts.headers, &auth.settings().session_cookie) {
        Some(cookie) => auth
            .load_session(cookie)
            .await?
            .map(|(key, data)| LoadedSession { key, data }),
        None => None,
    };
    if let Some(slot) = parts.extensions.get_mut::<RequestAuth>() {
        slot.session = Some(loaded.clone());
    }
    Ok(loaded)
}

/// Works out who the request is from (cached in the request).
pub(crate) async fn resolve(parts: &mut Parts) -> Result<Option<CurrentUser>> {
    let slot = parts
        .extensions
        .get::<RequestAuth>()
        .ok_or_else(not_installed)?;
    if let Some(resolved) = &slot.resolved {
        return Ok(resolved.clone());
    }
    let auth = slot.service.clone();
    let user = if let Some(token) = bearer(parts) {
        Some(if token.starts_with(API_TOKEN_PREFIX.as_bytes()) {
            let token = std::str::from_utf8(token).map_err(|_| crate::TokenError::Malformed)?;
            from_api_token(&auth, token).await?
        } else {
            let v = auth.verify_access(token)?;
            CurrentUser {
                id: v.id,
                is_staff: v.staff,
                is_superuser: v.superuser,
                method: AuthMethod::Bearer { device: v.device },
                auth: auth.clone(),
                perms: Arc::default(),
                row: None,
            }
        })
    } else {
        match load_session(parts, &auth).await? {
            Some(LoadedSession {
                key,
                data: SessionData {
                    user_id: Some(id), ..
                },
            }) => User::objects()
                .filter(User::ID.eq(id) & User::IS_ACTIVE.eq(true))
                .first(auth.db())
                .await?
                .map(|user| CurrentUser::with_row(user, AuthMethod::Session { key }, auth.clone())),
            _ => None,
        }
    };
    if let Some(slot) = parts.extensions.get_mut::<RequestAuth>() {
        slot.resolved = Some(user.clone());
    }
    Ok(user)
}

async fn from_api_token(auth: &AuthService, text: &str) -> Result<CurrentUser> {
    use crate::TokenError;
    let now = chrono::Utc::now();
    let row = ApiToken::objects()
        .filter(ApiToken::TOKEN_HASH.eq(token::hash(text).as_str()))
        .select_related(ApiToken::USER)
        .first(auth.db())
        .await?
        .ok_or(TokenError::Unknown)?;
    if row.revoked_at.is_some() {
        return Err(TokenError::Revoked.into());
    }
    if row.expires_at.is_some_and(|t| t <= now) {
        return Err(TokenError::Expired.into());
    }
    let user = row.user.get().ok_or(TokenError::Unknown)?;
    if !user.is_active {
        return Err(Error::Inactive);
    }
    if row
        .last_used_at
        .is_none_or(|t| now - t > chrono::Duration::seconds(60))
    {
        ApiToken::objects()
            .filter(ApiToken::ID.eq(row.id))
            .update()
            .set(ApiToken::LAST_USED_AT, Some(now))
            .execute(auth.db())
            .await?;
    }
    Ok(CurrentUser::new(
        user,
        AuthMethod::ApiToken {
            id: row.id,
            scopes: row.scopes.split_whitespace().map(str::to_string).collect(),
        },
        auth.clone(),
    ))
}

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        resolve(parts).await?.ok_or(Error::Unauthenticated)
    }
}

impl<S> OptionalFromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>> {
        resolve(parts).await
    }
}

/// The user if the request has valid credentials, `None` if it has none. Invalid credentials
/// (an expired token…) are still refused with 401, so clients know to refresh.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl<S> FromRequestParts<S> for MaybeUser
where
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        Ok(MaybeUser(resolve(parts).await?))
    }
}

/// The request's live session (anonymous ones too), if its cookie names one: server-rendered
/// pages read its CSRF token from here to put in their forms.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    /// The session store's key (the digest of the cookie's value).
    pub key: String,
    /// What the session holds.
    pub data: crate::session::SessionData,
}

impl<S> OptionalFromRequestParts<S> for CurrentSession
where
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>> {
        let auth = parts
            .extensions
            .get::<RequestAuth>()
            .ok_or_else(not_installed)?
            .service
            .clone();
        Ok(load_session(parts, &auth).await?.map(|s| CurrentSession {
            key: s.key,
            data: s.data,
        }))
    }
}

/// A staff user (403 for others, 401 without credentials).
#[derive(Debug, Clone)]
pub struct Staff(pub CurrentUser);

impl<S> FromRequestParts<S> for Staff
where
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        let user = resolve(parts).await?.ok_or(Error::Unauthenticated)?;
        if user.is_staff || user.is_superuser {
            Ok(Staff(user))
        } else {
            Err(Error::Forbidden("staff only".into()))
        }
    }
}

/// Names a permission at the type level, for the [`Perm`] extractor; make one with
/// [`permission!`](crate::permission).
pub trait PermissionName: Send + Sync + 'static {
    /// `app.model.action`.
    const CODENAME: &'static str;
}

/// Declares a type naming a permission: `permission!(DeletePost = "chirp.post.delete");`
/// then `Perm<DeletePost>` is an extractor that refuses users without it.
#[macro_export]
macro_rules! permission {
    ($(#[$m:meta])* $vis:vis $name:ident = $codename:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;
        impl $crate::extract::PermissionName for $name {
            const CODENAME: &'static str = $codename;
        }
    };
}

/// A user holding the permission `P` (403 otherwise, 401 without credentials).
#[derive(Debug, Clone)]
pub struct Perm<P>(pub CurrentUser, std::marker::PhantomData<P>);

impl<P> Perm<P> {
    /// The user.
    pub fn user(&self) -> &CurrentUser {
        &self.0
    }
}

impl<S, P> FromRequestParts<S> for Perm<P>
where
    S: Send + Sync,
    P: PermissionName,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        let user = resolve(parts).await?.ok_or(Error::Unauthenticated)?;
        user.require_perm(P::CODENAME).await?;
        Ok(Perm(user, std::marker::PhantomData))
    }
}

impl<S> FromRequestParts<S> for AuthService
where
    S: Send + Sync,
    Context: FromRef<S>,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        match parts.extensions.get::<RequestAuth>() {
            Some(a) => Ok(a.service.clone()),
            None => Context::from_ref(state)
                .get::<AuthService>()
                .cloned()
                .ok_or_else(|| Error::Internal("the auth battery is not installed".into())),
        }
    }
}

// ---- route layers --------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Rule {
    User,
    Staff,
    Perm(&'static str),
}

/// A route layer that lets only some users through: see [`require_user`], [`require_staff`]
/// and [`require_perm`].
#[derive(Debug, Clone)]
pub struct Guard(Rule);

/// Refuses requests without a user (401).
pub fn require_user() -> Guard {
    Guard(Rule::User)
}

/// Refuses non-staff users (403) and requests without a user (401).
pub fn require_staff() -> Guard {
    Guard(Rule::Staff)
}

/// Refuses users without the permission `app.model.action` (403) and requests without a user
/// (401).
pub fn require_perm(codename: &'static str) -> Guard {
    Guard(Rule::Perm(codename))
}

impl<S> tower_layer::Layer<S> for Guard {
    type Service = GuardService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GuardService {
            rule: self.0.clone(),
            inner,
        }
    }
}

/// The service of a [`Guard`].
#[derive(Debug, Clone)]
pub struct GuardService<S> {
    rule: Rule,
    inner: S,
}

impl<S> tower_service::Service<Request> for GuardService<S>
where
    S: tower_service::Service<Request, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let rule = self.rule.clone();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let verdict = async {
                let user = resolve(&mut parts).await?.ok_or(Error::Unauthenticated)?;
                match rule {
                    Rule::User => Ok(()),
                    Rule::Staff if user.is_staff || user.is_superuser => Ok(()),
                    Rule::Staff => Err(Error::Forbidden("staff only".into())),
                    Rule::Perm(codename) => user.require_perm(codename).await,
                }
            }
            .await;
            match verdict {
                Ok(()) => inner.call(Request::from_parts(parts, body)).await,
                Err(e) => Ok(e.into_response()),
            }
        })
    }
}
