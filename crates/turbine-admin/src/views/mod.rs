//! The admin's pages: who may see them, what every page shares, and the routes.

mod assets;
mod auth;
mod autocomplete;
mod dashboard;
mod delete;
mod form;
mod history;
mod inline;
mod list;

use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode, Uri};
use serde_json::{Value as J, json};
use turbine_auth::{CurrentSession, CurrentUser, MaybeUser};
use turbine_core::battery::Setup;
use turbine_core::routing::get;
use turbine_orm::meta::ModelMeta;
use turbine_orm::{Db, Row, Value};

use crate::model_admin::{ModelAdmin, slug, title_of};
use crate::site::State;

/// The cookie carrying a one-time message to the next page.
const FLASH: &str = "turbine_admin_flash";

/// A staff member on an admin page.
pub(crate) struct Visitor {
    pub(crate) user: CurrentUser,
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) csrf: String,
    flash: Option<String>,
}

impl Visitor {
    /// Whether the visitor may `action` (`view`, `add`, `change`, `delete`) rows of `meta`.
    pub(crate) async fn can(&self, meta: &ModelMeta, action: &str) -> bool {
        let code = turbine_auth::service::codename(meta, action);
        self.user.has_perm(&code).await.unwrap_or(false)
    }

    /// Who to write in the log.
    pub(crate) fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor {
            id: self.user.id,
            email: self.email.clone(),
        }
    }
}

/// What an admin page reads from the request to know who asks: the user, their session (for
/// its CSRF token), the headers (a message cookie) and the URI (where to come back after
/// logging in).
pub(crate) struct Visit {
    user: MaybeUser,
    session: Option<CurrentSession>,
    headers: HeaderMap,
    pub(crate) uri: Uri,
}

impl<S: Send + Sync> FromRequestParts<S> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let user = MaybeUser::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let session =
            <CurrentSession as OptionalFromRequestParts<S>>::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
        Ok(Visit {
            user,
            session,
            headers: parts.headers.clone(),
            uri: parts.uri.clone(),
        })
    }
}

impl Visit {
    /// The signed-in staff member, or the login page.
    pub(crate) async fn staff(&self, state: &State) -> Result<Visitor, Response> {
        visitor(
            state,
            self.user.clone(),
            self.session.clone(),
            &self.headers,
            &self.uri,
        )
        .await
    }

    /// The staff member and the registered model at `{app}/{model}`, which they may
    /// `action`; else the login, 404 or 403 page.
    pub(crate) async fn model<'s>(
        &self,
        state: &'s State,
        app: &str,
        model: &str,
        action: &str,
    ) -> Result<(Visitor, &'s ModelAdmin), Response> {
        let v = self.staff(state).await?;
        let admin = model_for(state, &v, app, model, action).await?;
        Ok((v, admin))
    }

    /// [`model`](Self::model), and its row with the key text `id` (else the 404 page).
    pub(crate) async fn object<'s>(
        &self,
        state: &'s State,
        db: &Db,
        (app, model, id): &(String, String, String),
        action: &str,
    ) -> Result<(Visitor, &'s ModelAdmin, Value, Vec<Value>), Response> {
        let (v, admin) = self.model(state, app, model, action).await?;
        let (key, values) = form::object(state, &v, db, admin, id).await?;
        Ok((v, admin, key, values))
    }
}

/// The signed-in staff member, or the login page (with where to come back).
async fn visitor(
    state: &State,
    user: MaybeUser,
    session: Option<CurrentSession>,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Visitor, Response> {
    let to_login = || {
        let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish();
        see_other(state, &format!("{}/login?{query}", state.path))
    };
    let Some(user) = user.0 else {
        return Err(to_login());
    };
    if !(user.is_staff || user.is_superuser) {
        return Err(to_login());
    }
    let row = match user.fetch().await {
        Ok(row) if row.is_active => row,
        Ok(_) => return Err(to_login()),
        Err(e) => return Err(server_error(state, &e.to_string())),
    };
    Ok(Visitor {
        user,
        email: row.email,
        name: row.name,
        csrf: session.map(|s| s.data.csrf_token).unwrap_or_default(),
        flash: cookie(headers, FLASH).map(|v| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        }),
    })
}

/// After a write through the admin: edits to the auth battery's users, groups and permissions
/// change what users may do, so its cached permission answers are dropped.
pub(crate) fn after_write(v: &Visitor, meta: &ModelMeta) {
    if meta.app == "auth" {
        v.user.auth().forget_permissions(None);
    }
}

/// A cookie's value.
pub(crate) use turbine_auth::extract::cookie;

/// A `303 See Other` to `to`. Locations carry text from requests (a `next`, a list's query),
/// so one that is not a valid header value goes to the dashboard instead.
pub(crate) fn see_other(state: &State, to: &str) -> Response {
    let location = HeaderValue::from_str(to)
        .or_else(|_| HeaderValue::from_str(&state.path))
        .unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(http::header::LOCATION, location)]).into_response()
}

/// A redirect that shows `message` on the next page.
pub(crate) fn redirect_with(state: &State, to: &str, message: &str) -> Response {
    let mut res = see_other(state, to);
    let value = percent_encoding::utf8_percent_encode(message, percent_encoding::NON_ALPHANUMERIC);
    let cookie = format!(
        "{FLASH}={value}; Path={}; Max-Age=60; HttpOnly; SameSite=Lax",
        state.path
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(http::header::SET_COOKIE, v);
    }
    res
}

/// The navigation: apps and the models the visitor may view.
async fn nav(state: &State, v: &Visitor) -> J {
    let mut apps: Vec<(String, Vec<J>)> = Vec::new();
    for m in state.models() {
        if !v.can(&m.meta, "view").await {
            continue;
        }
        let url = format!("{}/{}", state.path, m.slug());
        let add = v.can(&m.meta, "add").await.then(|| format!("{url}/add"));
        let entry = json!({
            "label": m.meta.label(),
            "name": title_case(&m.meta.verbose_name_plural),
            "url": url,
            "add_url": add,
        });
        match apps.iter_mut().find(|(a, _)| *a == m.meta.app) {
            Some((_, list)) => list.push(entry),
            None => apps.push((m.meta.app.clone(), vec![entry])),
        }
    }
    J::Array(
        apps.into_iter()
            .map(|(app, models)| json!({"app": app, "name": title_case(&app), "models": models}))
            .collect(),
    )
}

/// `chirp` → `Chirp`.
pub(crate) fn title_case(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Renders a page for a visitor: the shared context (site, user, navigation, message) plus
/// `page`.
pub(crate) async fn render(
    state: &State,
    v: &Visitor,
    status: StatusCode,
    template: &str,
    page: J,
) -> Response {
    let mut context = json!({
        "site": state.title,
        "base": state.path,
        "user": {"email": v.email, "name": v.name, "superuser": v.user.is_superuser},
        "csrf": v.csrf,
        "nav": nav(state, v).await,
        "flash": v.flash,
    });
    if let (J::Object(c), J::Object(p)) = (&mut context, page) {
        c.extend(p);
    }
    let mut res = state.templates.page(status, template, &context);
    if v.flash.is_some() {
        let clear = format!(
            "{FLASH}=; Path={}; Max-Age=0; HttpOnly; SameSite=Lax",
            state.path
        );
        if let Ok(h) = HeaderValue::from_str(&clear) {
            res.headers_mut().append(http::header::SET_COOKIE, h);
        }
    }
    res.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    res
}

/// An error page for a visitor.
pub(crate) async fn error_page(
    state: &State,
    v: &Visitor,
    status: StatusCode,
    detail: &str,
) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    render(
        state,
        v,
        status,
        "error.html",
        json!({"title": title, "detail": detail}),
    )
    .await
}

/// A 500 page that says nothing about the cause (which is logged).
pub(crate) fn server_error(state: &State, cause: &str) -> Response {
    tracing::error!(error = cause, "admin: request failed");
    state.templates.page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "error.html",
        &json!({"site": state.title, "base": state.path, "title": "Server error",
            "detail": "Something went wrong on the server; the error is in its log."}),
    )
}

/// The registered model at `{app}/{model}` the visitor may `action`, or the page saying why not.
async fn model_for<'s>(
    state: &'s State,
    v: &Visitor,
    app: &str,
    model: &str,
    action: &str,
) -> Result<&'s ModelAdmin, Response> {
    let Some(admin) = state.find(app, model) else {
        return Err(error_page(
            state,
            v,
            StatusCode::NOT_FOUND,
            "There is no such model in the admin.",
        )
        .await);
    };
    if !v.can(&admin.meta, action).await {
        return Err(error_page(
            state,
            v,
            StatusCode::FORBIDDEN,
            &format!(
                "You do not have permission to {action} {}.",
                admin.meta.verbose_name_plural.to_lowercase()
            ),
        )
        .await);
    }
    Ok(admin)
}

/// The title of a row of `meta` (values in column order).
pub(crate) fn row_title(admin_title: Option<&str>, meta: &ModelMeta, values: &[Value]) -> String {
    let pk = meta.primary_key().map(|f| f.name.as_str()).unwrap_or("id");
    let key = column_index(meta, pk)
        .and_then(|i| values.get(i))
        .map(crate::display::key_text)
        .unwrap_or_default();
    title_of(meta, admin_title)
        .and_then(|f| column_index(meta, &f.name))
        .and_then(|i| values.get(i))
        .and_then(|v| {
            let f = title_of(meta, admin_title)?;
            crate::display::show(v, f)
        })
        .filter(|t| !t.is_empty())
        .map(|t| crate::display::clip(&t, 80))
        .unwrap_or_else(|| format!("{} #{key}", meta.verbose_name))
}

/// The model's names and list URL, for templates.
pub(crate) fn model_json(state: &State, admin: &ModelAdmin) -> J {
    let meta = &admin.meta;
    json!({
        "name": title_case(&meta.verbose_name),
        "plural": title_case(&meta.verbose_name_plural),
        "url": format!("{}/{}", state.path, admin.slug()),
        "app": title_case(&meta.app),
    })
}

/// Values read from the database as their fields' types (SQLite hands back booleans as
/// integers and timestamps as text).
pub(crate) fn typed(meta: &ModelMeta, values: Vec<Value>) -> Vec<Value> {
    values
        .into_iter()
        .zip(meta.fields.iter().filter(|f| f.has_column()))
        .map(|(v, f)| turbine_orm::query::convert::coerce(v, &f.ty))
        .collect()
}

/// The position of a field among the model's columns.
pub(crate) fn column_index(meta: &ModelMeta, field: &str) -> Option<usize> {
    meta.fields
        .iter()
        .filter(|f| f.has_column())
        .position(|f| f.name == field)
}

/// The key of a row (values in column order).
pub(crate) fn row_key(meta: &ModelMeta, values: &[Value]) -> Option<Value> {
    let pk = meta.primary_key()?;
    column_index(meta, &pk.name).and_then(|i| values.get(i).cloned())
}

/// The title of a row as the admin of its model names it.
pub(crate) fn title_for(state: &State, meta: &ModelMeta, row: &Row) -> String {
    let chosen = state
        .by_label(&meta.label())
        .and_then(|a| a.title.as_deref());
    row_title(chosen, meta, row.values())
}

/// Where a row's edit page is.
pub(crate) fn item_url(state: &State, meta: &ModelMeta, key: &Value) -> String {
    let id = crate::display::key_text(key);
    format!(
        "{}/{}/{}",
        state.path,
        slug(meta),
        percent_encoding::utf8_percent_encode(&id, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// The handler for `f`, given the shared state.
macro_rules! handler {
    ($state:expr, $f:path, $($arg:ident : $ty:ty),*) => {{
        let state = $state.clone();
        move |$($arg: $ty),*| {
            let state = state.clone();
            async move { $f(&state, $($arg),*).await }
        }
    }};
}
pub(crate) use handler;

/// Mounts every page under the admin's path.
pub(crate) fn mount(setup: &mut Setup, state: &Arc<State>) {
    let base = state.path.clone();
    setup.route(&base, get(handler!(state, dashboard::show, visit: Visit)));
    auth::mount(setup, state);
    assets::mount(setup, &base);
    history::mount(setup, state);
    list::mount(setup, state);
    form::mount(setup, state);
    delete::mount(setup, state);
    autocomplete::mount(setup, state);
}
