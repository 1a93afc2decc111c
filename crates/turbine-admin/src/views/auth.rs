//! Logging in and out of the admin: a staff account, a browser session with its CSRF token.

use std::sync::Arc;

use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, Uri};
use serde_json::json;
use turbine_auth::{AuthService, ClientInfo, CurrentSession, MaybeUser};
use turbine_core::battery::Setup;
use turbine_core::client_ip::ClientIp;
use turbine_core::routing::{get, post};

use super::{handler, redirect_with, see_other};
use crate::forms::FormInput;
use crate::site::State;

pub(super) fn mount(setup: &mut Setup, state: &Arc<State>) {
    let base = &state.path;
    setup.route(
        &format!("{base}/login"),
        get(handler!(state, login_page, auth: AuthService, user: MaybeUser, session: Option<CurrentSession>, ip: ClientIp, headers: HeaderMap, uri: Uri))
            .post(handler!(state, login, auth: AuthService, session: Option<CurrentSession>, ip: ClientIp, headers: HeaderMap, body: Bytes)),
    );
    setup.route(
        &format!("{base}/logout"),
        post(handler!(state, logout, auth: AuthService, session: Option<CurrentSession>)),
    );
}

/// Where to go after logging in: a path inside the admin, else its dashboard.
fn safe_next(state: &State, next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with(&state.path)
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.contains("://")
                && n.chars().all(|c| c.is_ascii_graphic()) =>
        {
            n.to_string()
        }
        _ => state.path.clone(),
    }
}

fn with_cookie(mut res: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(http::header::SET_COOKIE, v);
    }
    res
}

struct LoginForm<'a> {
    next: String,
    email: &'a str,
    error: Option<&'a str>,
    notice: Option<String>,
}

fn page(
    state: &State,
    status: StatusCode,
    csrf: &str,
    form: LoginForm<'_>,
    flash: Option<String>,
) -> Response {
    let mut res = state.templates.page(
        status,
        "login.html",
        &json!({
            "site": state.title,
            "base": state.path,
            "csrf": csrf,
            "next": form.next,
            "email": form.email,
            "error": form.error,
            "notice": form.notice,
            "flash": flash,
        }),
    );
    res.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    res
}

/// `GET /login`: the form. A visitor without a session gets an anonymous one, so the form
/// carries a CSRF token and logging in cannot be forged from another site.
async fn login_page(
    state: &State,
    auth: AuthService,
    user: MaybeUser,
    session: Option<CurrentSession>,
    ip: ClientIp,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let query = FormInput::parse(uri.query().unwrap_or("").as_bytes());
    let next = safe_next(state, query.get("next"));
    let notice = match &user.0 {
        Some(u) if u.is_staff || u.is_superuser => return see_other(state, &next),
        Some(u) => Some(match u.fetch().await {
            Ok(row) => format!(
                "You are signed in as {}, who may not use the admin. Log in with a staff account.",
                row.email
            ),
            Err(_) => "Log in with a staff account.".to_string(),
        }),
        None => None,
    };
    let flash = super::cookie(&headers, "turbine_admin_flash").map(|v| {
        percent_encoding::percent_decode_str(v)
            .decode_utf8_lossy()
            .into_owned()
    });
    let form = LoginForm {
        next,
        email: "",
        error: None,
        notice,
    };
    match session {
        Some(s) => page(state, StatusCode::OK, &s.data.csrf_token, form, flash),
        None => match auth
            .start_session(None, None, &ClientInfo::of(ip.0, &headers))
            .await
        {
            Ok((cookie, data)) => with_cookie(
                page(state, StatusCode::OK, &data.csrf_token, form, flash),
                &auth.session_cookie(Some(&cookie)),
            ),
            Err(e) => super::server_error(state, &e.to_string()),
        },
    }
}

/// `POST /login`: checks the staff account's email and password (throttled like every login),
/// then starts a new session.
async fn login(
    state: &State,
    auth: AuthService,
    session: Option<CurrentSession>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = FormInput::parse(&body);
    let next = safe_next(state, form.get("next"));
    let email = form.get("email").unwrap_or("");
    // The CSRF check ran in the auth battery's middleware because the session cookie came
    // along; without it there is nothing to check against.
    let Some(session) = session else {
        return page(
            state,
            StatusCode::FORBIDDEN,
            "",
            LoginForm {
                next,
                email,
                error: Some(
                    "Your browser did not send the session cookie: allow cookies for this site and reload the page.",
                ),
                notice: None,
            },
            None,
        );
    };
    let csrf = session.data.csrf_token.clone();
    let refuse = |status, error| {
        page(
            state,
            status,
            &csrf,
            LoginForm {
                next: next.clone(),
                email,
                error: Some(error),
                notice: None,
            },
            None,
        )
    };
    let user = match auth
        .authenticate(email, form.get("password").unwrap_or(""), Some(ip.0))
        .await
    {
        Ok(user) => user,
        Err(turbine_auth::Error::InvalidCredentials) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "Enter the email and password of a staff account. Both may be case-sensitive.",
            );
        }
        Err(turbine_auth::Error::Throttled { .. }) => {
            return refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts: wait a few minutes, then try again.",
            );
        }
        Err(turbine_auth::Error::Forbidden(message)) => {
            return page(
                state,
                StatusCode::FORBIDDEN,
                &csrf,
                LoginForm {
                    next,
                    email,
                    error: Some(&message),
                    notice: None,
                },
                None,
            );
        }
        Err(e) => return super::server_error(state, &e.to_string()),
    };
    if !(user.is_staff || user.is_superuser) {
        return refuse(
            StatusCode::FORBIDDEN,
            "Enter the email and password of a staff account. Both may be case-sensitive.",
        );
    }
    match auth
        .start_session(
            Some(user.id),
            Some(&session.key),
            &ClientInfo::of(ip.0, &headers),
        )
        .await
    {
        Ok((cookie, _)) => {
            with_cookie(see_other(state, &next), &auth.session_cookie(Some(&cookie)))
        }
        Err(e) => super::server_error(state, &e.to_string()),
    }
}

/// `POST /logout`: ends the session.
async fn logout(state: &State, auth: AuthService, session: Option<CurrentSession>) -> Response {
    if let Some(s) = session
        && let Err(e) = auth.sessions().delete(&s.key).await
    {
        return super::server_error(state, &e.to_string());
    }
    with_cookie(
        redirect_with(
            state,
            &format!("{}/login", state.path),
            "You are logged out.",
        ),
        &auth.session_cookie(None),
    )
}
