//! The JSON endpoints, mounted under `auth.prefix` (default `/auth`). See `docs/auth.md`.

use axum::Json;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use turbine_core::client_ip::ClientIp;
use turbine_core::routing::{Routes, delete, get, post};
use turbine_orm::ModelExt;

use crate::extract::{AuthMethod, CurrentUser, MaybeUser, load_session};
use crate::models::{Device, User};
use crate::service::{AuthService, ClientInfo, TokenPair, purpose};
use crate::{Error, Result, notify};

/// The routes, relative to the prefix.
pub(crate) fn routes() -> Routes {
    Routes::new()
        .route("/signup", post(signup))
        .route("/login", post(login))
        .route("/refresh", post(refresh))
        .route("/logout", post(logout))
        .route("/logout-all", post(logout_all))
        .route("/me", get(me).patch(update_me))
        .route("/csrf", get(csrf))
        .route("/password/change", post(change_password))
        .route("/password/reset", post(request_reset))
        .route("/password/reset/confirm", post(confirm_reset))
        .route("/email/verify", post(request_verification))
        .route("/email/verify/confirm", post(confirm_verification))
        .route("/devices", get(devices))
        .route("/devices/{id}", delete(revoke_device))
        .route("/sessions", get(sessions))
        .route("/sessions/{id}", delete(revoke_session))
        .route("/tokens", get(api_tokens).post(create_api_token))
        .route("/tokens/{id}", delete(revoke_api_token))
}

/// `202 Accepted` with a message.
fn accepted(detail: &str) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "detail": detail })),
    )
        .into_response()
}

fn with_cookie(mut res: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(http::header::SET_COOKIE, v);
    }
    res
}

/// `POST /signup` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignupBody {
    email: String,
    password: String,
    #[serde(default)]
    name: String,
}

/// Creates an account and mails a verification link. Answers the same whether or not the
/// email was already registered (its owner gets a mail saying so), so sign-up does not reveal
/// who has an account.
async fn signup(auth: AuthService, ip: ClientIp, Json(body): Json<SignupBody>) -> Result<Response> {
    let s = auth.settings();
    if !s.signup {
        return Err(Error::Forbidden("sign-up is closed".into()));
    }
    auth.count_per_ip("signup", ip.0).await?;
    let email = crate::service::normalize_email(&body.email);
    crate::service::validate_email(&email)?;
    if body.name.chars().count() > 150 {
        return Err(Error::invalid("name", "At most 150 characters."));
    }
    auth.check_password(&body.password, &email, &body.name)?;
    match auth.find_by_email(&email).await? {
        Some(existing) => {
            // The same work as a new account, so the answer takes the same time.
            let _ = auth.hash_password(&body.password).await?;
            if auth.count_mail(existing.id).await?.allowed {
                auth.send_mail(notify::already_registered(&auth, &existing));
            }
        }
        None => {
            let name = body.name.trim().to_string();
            let user = auth
                .create_user(&email, Some(&body.password), |u| u.name = name)
                .await;
            match user {
                Ok(user) => {
                    auth.count_mail(user.id).await?;
                    let token = auth
                        .issue_one_time(
                            user.id,
                            purpose::VERIFY_EMAIL,
                            auth.settings().verify_email_ttl,
                        )
                        .await?;
                    auth.send_mail(notify::verify_email(&auth, &user, &token));
                    tracing::info!(user = user.id, "auth: signup");
                }
                // Lost a race with a concurrent sign-up for the same address.
                Err(Error::Validation(e)) if e.iter().any(|f| f.field == "email") => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(accepted(if s.require_verified_email {
        "Check your inbox: we sent a link to confirm your email address. Confirm it, then log in."
    } else {
        "Check your inbox: we sent a link to confirm your email address. You can log in now."
    }))
}

/// How a client wants to stay logged in.
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Mode {
    /// Access + refresh tokens in the body (mobile and other non-browser clients).
    #[default]
    Token,
    /// A session cookie (browsers).
    Session,
}

/// `POST /login` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    email: String,
    password: String,
    #[serde(default)]
    mode: Mode,
    /// A name for the device (`Ana's iPhone`), for token logins.
    #[serde(default)]
    device_name: String,
}

#[derive(Serialize)]
struct TokenLogin {
    #[serde(flatten)]
    tokens: TokenPair,
    user: User,
}

#[derive(Serialize)]
struct SessionLogin {
    user: User,
    csrf_token: String,
}

/// Logs in with email and password: tokens in the body (`"mode": "token"`, the default) or a
/// session cookie (`"mode": "session"`).
async fn login(
    auth: AuthService,
    ip: ClientIp,
    headers: HeaderMap,
    Json(body): Json<LoginBody>,
) -> Result<Response> {
    let user = auth
        .authenticate(&body.email, &body.password, Some(ip.0))
        .await?;
    let info = ClientInfo::of(ip.0, &headers);
    match body.mode {
        Mode::Token => {
            let tokens = auth.issue_tokens(&user, &body.device_name, &info).await?;
            Ok(Json(TokenLogin { tokens, user }).into_response())
        }
        Mode::Session => {
            let previous = crate::extract::cookie(&headers, &auth.settings().session_cookie)
                .map(crate::token::hash);
            let (cookie, data) = auth
                .start_session(Some(user.id), previous.as_deref(), &info)
                .await?;
            let res = Json(SessionLogin {
                user,
                csrf_token: data.csrf_token,
            })
            .into_response();
            Ok(with_cookie(res, &auth.session_cookie(Some(&cookie))))
        }
    }
}

/// `POST /refresh` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
}

/// Exchanges a refresh token for a new access + refresh token pair.
async fn refresh(auth: AuthService, Json(body): Json<RefreshBody>) -> Result<Json<TokenPair>> {
    Ok(Json(auth.refresh(&body.refresh_token).await?))
}

/// `POST /logout` body (optional).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LogoutBody {
    #[serde(default)]
    refresh_token: Option<String>,
}

/// Logs out: ends the session (and clears its cookie), revokes the device of the access or
/// refresh token, or revokes the API token used.
async fn logout(
    auth: AuthService,
    MaybeUser(user): MaybeUser,
    body: Option<Json<LogoutBody>>,
) -> Result<Response> {
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Some(user) = &user {
        match &user.method {
            AuthMethod::Session { key } => {
                auth.sessions().delete(key).await?;
                res = with_cookie(res, &auth.session_cookie(None));
            }
            AuthMethod::Bearer {
                device: Some(device),
            } => {
                auth.revoke_device(user.id, device).await?;
            }
            AuthMethod::ApiToken { id, .. } => {
                auth.revoke_api_token(user.id, *id).await?;
            }
            AuthMethod::Bearer { device: None } => {}
        }
    }
    if let Some(refresh) = body.refresh_token {
        if let Some(device) = auth.device_of_refresh(&refresh).await? {
            auth.revoke_device(*device.user.id(), &device.id).await?;
        }
    } else if user.is_none() {
        return Err(Error::Unauthenticated);
    }
    Ok(res)
}

/// Signs the user out everywhere: all devices and sessions.
async fn logout_all(auth: AuthService, user: CurrentUser) -> Result<Response> {
    auth.revoke_all(user.id).await?;
    let res = StatusCode::NO_CONTENT.into_response();
    Ok(match user.method {
        AuthMethod::Session { .. } => with_cookie(res, &auth.session_cookie(None)),
        _ => res,
    })
}

/// The current user.
async fn me(user: CurrentUser) -> Result<Json<serde_json::Value>> {
    let row = user.fetch().await?;
    Ok(Json(user.auth().user_json(&row).await?))
}

/// `PATCH /me` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateMe {
    name: Option<String>,
}

/// Changes the current user's name.
async fn update_me(
    user: CurrentUser,
    Json(body): Json<UpdateMe>,
) -> Result<Json<serde_json::Value>> {
    let mut row = user.fetch().await?;
    if let Some(name) = body.name {
        let name = name.trim().to_string();
        if name.chars().count() > 150 {
            return Err(Error::invalid("name", "At most 150 characters."));
        }
        let mut edit = row.edit();
        edit.name = name;
        edit.save(user.auth().db()).await?;
    }
    Ok(Json(user.auth().user_json(&row).await?))
}

/// The session's CSRF token (a session is started if there is none).
async fn csrf(
    auth: AuthService,
    ip: ClientIp,
    headers: HeaderMap,
    mut parts: http::request::Parts,
) -> Result<Response> {
    if let Some(s) = load_session(&mut parts, &auth).await? {
        return Ok(Json(serde_json::json!({ "csrf_token": s.data.csrf_token })).into_response());
    }
    let (cookie, data) = auth
        .start_session(None, None, &ClientInfo::of(ip.0, &headers))
        .await?;
    let res = Json(serde_json::json!({ "csrf_token": data.csrf_token })).into_response();
    Ok(with_cookie(res, &auth.session_cookie(Some(&cookie))))
}

/// `POST /password/change` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangePassword {
    current_password: String,
    new_password: String,
}

/// Changes the password (the current one is required); other sessions and devices are signed
/// out.
async fn change_password(
    user: CurrentUser,
    ip: ClientIp,
    Json(body): Json<ChangePassword>,
) -> Result<StatusCode> {
    let auth = user.auth().clone();
    let row = user.fetch().await?;
    let mut row = match auth
        .authenticate(&row.email, &body.current_password, Some(ip.0))
        .await
    {
        Ok(u) => u,
        Err(Error::InvalidCredentials) => {
            return Err(Error::invalid(
                "current_password",
                "Your current password was entered incorrectly.",
            ));
        }
        Err(e) => return Err(e),
    };
    auth.check_password(&body.new_password, &row.email, &row.name)
        .map_err(|e| rename_field(e, "password", "new_password"))?;
    auth.set_password(
        &mut row,
        &body.new_password,
        user.session_key(),
        user.device(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn rename_field(e: Error, from: &str, to: &str) -> Error {
    match e {
        Error::Validation(mut errors) => {
            for f in &mut errors {
                if f.field == from {
                    f.field = to.to_string();
                }
            }
            Error::Validation(errors)
        }
        e => e,
    }
}

/// `POST /password/reset` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    email: String,
}

/// Mails a password-reset link if the email belongs to an active account. Always answers 202
/// at once (the lookup and the mail happen in the background), so the answer says nothing
/// about the address.
async fn request_reset(
    auth: AuthService,
    ip: ClientIp,
    Json(body): Json<ResetRequest>,
) -> Result<Response> {
    auth.count_per_ip("reset", ip.0).await?;
    let email = crate::service::normalize_email(&body.email);
    crate::service::validate_email(&email)?;
    let bg = auth.clone();
    tokio::spawn(async move {
        let run = async {
            let s = bg.settings();
            let Some(user) = bg.find_by_email(&email).await?.filter(|u| u.is_active) else {
                return Ok(());
            };
            // At most a few mails per address per window, whoever asks.
            if bg.count_mail(user.id).await?.allowed {
                let token = bg
                    .issue_one_time(user.id, purpose::RESET_PASSWORD, s.reset_password_ttl)
                    .await?;
                bg.send_mail(notify::reset_password(&bg, &user, &token));
            }
            Ok::<_, Error>(())
        };
        if let Err(e) = run.await {
            tracing::error!(error = %e, "auth: password reset request failed");
        }
    });
    Ok(accepted(
        "If an account uses this address, we sent it a link to reset the password.",
    ))
}

/// `POST /password/reset/confirm` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetConfirm {
    token: String,
    password: String,
}

/// Sets a new password with a reset link's token (single use); signs the user out everywhere.
async fn confirm_reset(auth: AuthService, Json(body): Json<ResetConfirm>) -> Result<StatusCode> {
    if body.token.len() > 200 {
        return Err(crate::TokenError::Malformed.into());
    }
    // Check the password first, so a weak one does not use the link up.
    let hash = crate::token::hash(&body.token);
    let pending = auth
        .pending_one_time(&hash, purpose::RESET_PASSWORD)
        .await?;
    auth.check_password(&body.password, &pending.email, &pending.name)?;
    let mut user = auth
        .consume_one_time(&body.token, purpose::RESET_PASSWORD)
        .await?;
    auth.set_password(&mut user, &body.password, None, None)
        .await?;
    if user.email_verified_at.is_none() {
        // The link reached the inbox: the address is the user's.
        let mut edit = user.edit();
        edit.email_verified_at = Some(Utc::now());
        edit.save(auth.db()).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Mails a new verification link to the current user.
async fn request_verification(user: CurrentUser) -> Result<Response> {
    let auth = user.auth().clone();
    let row = user.fetch().await?;
    if row.email_verified_at.is_some() {
        return Ok(Json(
            serde_json::json!({ "detail": "Your email address is already verified." }),
        )
        .into_response());
    }
    auth.count_mail(row.id).await?.ensure_allowed()?;
    let token = auth
        .issue_one_time(
            row.id,
            purpose::VERIFY_EMAIL,
            auth.settings().verify_email_ttl,
        )
        .await?;
    auth.send_mail(notify::verify_email(&auth, &row, &token));
    Ok(accepted(
        "We sent a new confirmation link to your email address.",
    ))
}

/// `POST /email/verify/confirm` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    token: String,
}

/// Marks the email address verified with a link's token (single use).
async fn confirm_verification(
    auth: AuthService,
    Json(body): Json<TokenBody>,
) -> Result<Json<User>> {
    let mut user = auth
        .consume_one_time(&body.token, purpose::VERIFY_EMAIL)
        .await?;
    if user.email_verified_at.is_none() {
        let mut edit = user.edit();
        edit.email_verified_at = Some(Utc::now());
        edit.save(auth.db()).await?;
    }
    Ok(Json(user))
}

#[derive(Serialize)]
struct DeviceOut {
    #[serde(flatten)]
    device: Device,
    current: bool,
}

/// The user's signed-in devices (token clients).
async fn devices(user: CurrentUser) -> Result<Json<Vec<DeviceOut>>> {
    let list = user.auth().devices(user.id).await?;
    Ok(Json(
        list.into_iter()
            .map(|d| DeviceOut {
                current: user.device() == Some(d.id.as_str()),
                device: d,
            })
            .collect(),
    ))
}

/// Signs one device out.
async fn revoke_device(user: CurrentUser, Path(id): Path<String>) -> Result<StatusCode> {
    if user.auth().revoke_device(user.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound("device"))
    }
}

#[derive(Serialize)]
struct SessionOut {
    /// A public id (the start of the store key).
    id: String,
    current: bool,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    user_agent: String,
    ip: String,
}

/// The public id of a session: the first 16 hex digits of its store key.
fn public_id(key: &str) -> &str {
    &key[..key.len().min(16)]
}

/// The user's browser sessions.
async fn sessions(user: CurrentUser) -> Result<Json<Vec<SessionOut>>> {
    let list = user.auth().sessions().list_user(user.id).await?;
    Ok(Json(
        list.into_iter()
            .map(|(key, d)| SessionOut {
                id: public_id(&key).to_string(),
                current: user.session_key() == Some(key.as_str()),
                created_at: d.created_at,
                last_seen_at: d.last_seen_at,
                expires_at: d.expires_at,
                user_agent: d.user_agent,
                ip: d.ip,
            })
            .collect(),
    ))
}

/// Ends one of the user's sessions.
async fn revoke_session(user: CurrentUser, Path(id): Path<String>) -> Result<StatusCode> {
    let store = user.auth().sessions();
    let found = store
        .list_user(user.id)
        .await?
        .into_iter()
        .find(|(key, _)| id.len() == 16 && public_id(key) == id);
    match found {
        Some((key, _)) => {
            store.delete(&key).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        None => Err(Error::NotFound("session")),
    }
}

/// The user's API tokens (never their secrets).
async fn api_tokens(user: CurrentUser) -> Result<Json<Vec<crate::models::ApiToken>>> {
    Ok(Json(user.auth().api_tokens(user.id).await?))
}

/// `POST /tokens` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTokenBody {
    name: String,
    #[serde(default = "all_scopes")]
    scopes: Vec<String>,
    /// Days until it stops working (unset: never).
    #[serde(default)]
    expires_in_days: Option<u32>,
}

fn all_scopes() -> Vec<String> {
    vec!["*".into()]
}

/// Creates an API token; its secret is in this answer only.
async fn create_api_token(
    user: CurrentUser,
    Json(body): Json<NewTokenBody>,
) -> Result<(StatusCode, Json<crate::service::NewApiToken>)> {
    if matches!(user.method, AuthMethod::ApiToken { .. }) {
        return Err(Error::Forbidden(
            "API tokens cannot create API tokens; log in".into(),
        ));
    }
    let expires = match body.expires_in_days {
        Some(0) | None => None,
        Some(d) if d > 3650 => {
            return Err(Error::invalid("expires_in_days", "At most 3650 days."));
        }
        Some(d) => Some(Utc::now() + chrono::Duration::days(d.into())),
    };
    let created = user
        .auth()
        .create_api_token(user.id, &body.name, &body.scopes, expires)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes an API token.
async fn revoke_api_token(user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode> {
    if user.auth().revoke_api_token(user.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound("API token"))
    }
}
