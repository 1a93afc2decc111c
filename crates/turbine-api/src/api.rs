//! The [`Api`] battery: resources registered on it are mounted as routes, checked against
//! their models when the app is built, and their expansions resolved at start-up.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::{OriginalUri, RawQuery};
use axum::handler::Handler;
use http::{HeaderMap, Method};
use turbine_auth::MaybeUser;
use turbine_core::battery::{Battery, Setup};
use turbine_core::context::Context;
use turbine_core::routing::{MethodRoutes, delete, get, patch, post, put};
use turbine_orm::Db;
use turbine_orm::meta::{ModelMeta, RelationKind};

use crate::cursor::CursorKey;
use crate::render::{Expansion, Forward, Reverse};
use crate::resource::{Op, Resource};

/// Everything the handlers share: the resources and what their expansions resolve to.
pub(crate) struct ApiState {
    pub(crate) resources: Vec<Resource>,
    /// Per resource: every expansion it allows, by name.
    pub(crate) expansions: OnceLock<Vec<HashMap<String, Expand>>>,
    pub(crate) cursor_key: CursorKey,
    /// Creates with an `Idempotency-Key` so far (every 256th purges expired keys).
    pub(crate) idempotent_creates: std::sync::atomic::AtomicU64,
}

/// One allowed expansion of a resource.
#[derive(Debug, Clone)]
pub(crate) enum Expand {
    /// A foreign key (joined).
    Forward { target: usize },
    /// A reverse relation (second query), with the foreign keys of the children it may expand.
    Reverse {
        child: usize,
        fk: String,
        fk_pos: usize,
        nested: Vec<(String, usize)>,
    },
}

impl ApiState {
    /// The index of a resource of this API.
    pub(crate) fn index_of(&self, r: &Resource) -> usize {
        self.resources
            .iter()
            .position(|x| std::ptr::eq(x, r))
            .expect("a resource of this API")
    }

    /// The expansion for `?expand=a,b.c` on resource `index`, or a 400 naming what is allowed.
    pub(crate) fn expansion(
        &self,
        index: usize,
        requested: Option<&str>,
    ) -> turbine_core::Result<Expansion> {
        let mut out = Expansion::default();
        let Some(requested) = requested.filter(|r| !r.is_empty()) else {
            return Ok(out);
        };
        let resource = &self.resources[index];
        let allowed =
            self.expansions.get().map(|e| &e[index]).ok_or_else(|| {
                turbine_core::Error::from(turbine_core::problem::Problem::internal())
            })?;
        let mut offset = resource.width();
        let expandable = self.expandable(index);
        let bad = |name: &str| {
            turbine_core::Error::from(turbine_core::problem::Problem::bad_request(format!(
                "`{name}` cannot be expanded; expandable: {}.",
                if expandable.is_empty() {
                    "nothing".to_owned()
                } else {
                    expandable.join(", ")
                }
            )))
        };
        let mut names: Vec<&str> = requested.split(',').map(str::trim).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let (head, tail) = match name.split_once('.') {
                Some((h, t)) => (h, Some(t)),
                None => (name, None),
            };
            if !expandable.iter().any(|e| e == name) {
                return Err(bad(name));
            }
            match (allowed.get(head), tail) {
                (Some(Expand::Forward { target }), None) => {
                    out.forwards.push(Forward {
                        name: head.to_owned(),
                        target: *target,
                        offset,
                    });
                    offset += self.resources[*target].width();
                }
                (
                    Some(Expand::Reverse {
                        child,
                        fk,
                        fk_pos,
                        nested,
                    }),
                    tail,
                ) => {
                    let rev = match out.reverses.iter_mut().find(|r| r.name == head) {
                        Some(r) => r,
                        None => {
                            out.reverses.push(Reverse {
                                name: head.to_owned(),
                                child: *child,
                                fk: fk.clone(),
                                fk_pos: *fk_pos,
                                forwards: Vec::new(),
                            });
                            out.reverses.last_mut().expect("just pushed")
                        }
                    };
                    if let Some(tail) = tail {
                        let (_, target) = nested
                            .iter()
                            .find(|(n, _)| n == tail)
                            .ok_or_else(|| bad(name))?;
                        let child_offset = self.resources[*child].width()
                            + rev
                                .forwards
                                .iter()
                                .map(|f| self.resources[f.target].width())
                                .sum::<usize>();
                        rev.forwards.push(Forward {
                            name: tail.to_owned(),
                            target: *target,
                            offset: child_offset,
                        });
                    }
                }
                _ => return Err(bad(name)),
            }
        }
        Ok(out)
    }

    /// The names `?expand=` accepts on resource `index` (once resolved).
    pub(crate) fn expandable(&self, index: usize) -> Vec<String> {
        let Some(map) = self.expansions.get().map(|e| &e[index]) else {
            return Vec::new();
        };
        self.resources[index]
            .expand
            .iter()
            .filter(|name| map.contains_key(name.split('.').next().unwrap_or(name)))
            .cloned()
            .collect()
    }

    /// Resolves every resource's expansions against the model registry.
    fn resolve(&self, registry: &turbine_orm::meta::Registry) -> turbine_core::Result<()> {
        let by_label = |label: &str| {
            self.resources
                .iter()
                .position(|r| r.meta.label() == label && r.parent.is_none())
        };
        let mut all = Vec::with_capacity(self.resources.len());
        for r in &self.resources {
            let mut map = HashMap::new();
            for name in &r.expand {
                let head = name.split('.').next().unwrap_or(name);
                if map.contains_key(head) {
                    continue;
                }
                let fk = r.meta.field_named(head).and_then(|f| f.relation.as_ref());
                let entry = if let Some(rel) = fk.filter(|rel| rel.kind != RelationKind::ManyToMany)
                {
                    let Some(target) = by_label(&rel.to) else {
                        if !r.expand_explicit {
                            continue; // the default (every foreign key) skips what has no resource
                        }
                        return Err(setup_error(format!(
                            "{} expands `{head}`, but {} has no resource in this API (expanded objects are shown as their resource shows them)",
                            r.meta.label(),
                            rel.to
                        )));
                    };
                    Expand::Forward { target }
                } else {
                    let (child_meta, fk_field) = registry
                        .related(&r.meta.label())
                        .into_iter()
                        .find(|(m, f)| reverse_name(m, f) == head)
                        .ok_or_else(|| {
                            setup_error(format!(
                                "{} expands `{head}`, which is neither one of its foreign keys nor a reverse relation",
                                r.meta.label()
                            ))
                        })?;
                    let child = by_label(&child_meta.label()).ok_or_else(|| {
                        setup_error(format!(
                            "{} expands `{head}`, but {} has no resource in this API",
                            r.meta.label(),
                            child_meta.label()
                        ))
                    })?;
                    let fk_pos = child_meta
                        .fields
                        .iter()
                        .filter(|f| f.has_column())
                        .position(|f| f.name == fk_field.name)
                        .unwrap_or_default();
                    let mut nested = Vec::new();
                    for tail in r
                        .expand
                        .iter()
                        .filter_map(|e| e.strip_prefix(&format!("{head}.")))
                    {
                        let to = child_meta
                            .field_named(tail)
                            .and_then(|f| f.relation.as_ref())
                            .filter(|rel| rel.kind != RelationKind::ManyToMany)
                            .map(|rel| rel.to.clone())
                            .ok_or_else(|| {
                                setup_error(format!(
                                    "{} expands `{head}.{tail}`: {tail} is not a foreign key of {}",
                                    r.meta.label(),
                                    child_meta.label()
                                ))
                            })?;
                        let target = by_label(&to).ok_or_else(|| {
                            setup_error(format!(
                                "{} expands `{head}.{tail}`, but {to} has no resource in this API",
                                r.meta.label()
                            ))
                        })?;
                        nested.push((tail.to_owned(), target));
                    }
                    Expand::Reverse {
                        child,
                        fk: fk_field.name.clone(),
                        fk_pos,
                        nested,
                    }
                };
                map.insert(head.to_owned(), entry);
            }
            all.push(map);
        }
        let _ = self.expansions.set(all);
        Ok(())
    }
}

/// The name a reverse relation is expanded by: the foreign key's `related_name`, else
/// `<child model>_set` (Django's default).
pub(crate) fn reverse_name(child: &ModelMeta, fk: &turbine_orm::meta::FieldMeta) -> String {
    fk.relation
        .as_ref()
        .and_then(|r| r.related_name.clone())
        .unwrap_or_else(|| format!("{}_set", child.name.to_lowercase()))
}

fn setup_error(message: String) -> turbine_core::Error {
    turbine_core::Error::other(
        "the [api] resources",
        std::io::Error::new(std::io::ErrorKind::InvalidInput, message),
    )
}

/// The API battery: `App::new().battery(Api::new().resource(Resource::of::<Post>()))`.
/// Install it after the ORM and auth batteries.
#[derive(Debug)]
pub struct Api {
    resources: Vec<Resource>,
    info: crate::openapi::Info,
    extra: Option<serde_json::Value>,
    openapi_path: Option<String>,
    docs_path: Option<String>,
}

impl Default for Api {
    fn default() -> Self {
        Self {
            resources: Vec::new(),
            info: crate::openapi::Info::default(),
            extra: None,
            openapi_path: Some("/openapi.json".into()),
            docs_path: Some("/docs".into()),
        }
    }
}

impl Api {
    /// An API without resources yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a resource.
    pub fn resource(mut self, resource: Resource) -> Self {
        self.resources.push(resource);
        self
    }

    /// The document's title and version (`info`; default "API", "0.1.0").
    pub fn info(mut self, title: impl Into<String>, version: impl Into<String>) -> Self {
        self.info.title = title.into();
        self.info.version = version.into();
        self
    }

    /// The document's description (Markdown).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.info.description = Some(text.into());
        self
    }

    /// Merges the app's own OpenAPI document into the generated one: its `paths`,
    /// `components` and `tags`. Anything that serializes as an OpenAPI document works —
    /// utoipa's `OpenApi` (from `#[derive(OpenApi)]` over handlers with `#[utoipa::path]`
    /// and types with `#[derive(ToSchema)]`), or a `serde_json` value.
    pub fn document(mut self, doc: impl serde::Serialize) -> Self {
        self.extra = Some(
            serde_json::to_value(doc)
                .unwrap_or_else(|e| serde_json::json!({"x-error": e.to_string()})),
        );
        self
    }

    /// Serves the OpenAPI document at `path` (default `/openapi.json`); `None` turns it off.
    pub fn openapi_path(mut self, path: Option<&str>) -> Self {
        self.openapi_path = path.map(str::to_owned);
        self
    }

    /// Serves the docs UI (Swagger UI, embedded) at `path` (default `/docs`); `None` turns
    /// it off.
    pub fn docs_path(mut self, path: Option<&str>) -> Self {
        self.docs_path = path.map(str::to_owned);
        self
    }

    /// Checks what can be checked without the database: keys, field names, paths.
    fn check(&self) -> turbine_core::Result<()> {
        let mut paths = Vec::new();
        for r in &self.resources {
            let label = r.meta.label();
            if r.meta.primary_key().is_none() {
                return Err(setup_error(format!("{label} has no primary key")));
            }
            if !r.path.starts_with('/') || r.path.len() < 2 {
                return Err(setup_error(format!(
                    "{label}: the path `{}` must start with `/`",
                    r.path
                )));
            }
            if paths.contains(&r.path) {
                return Err(setup_error(format!(
                    "two resources are mounted at `{}`",
                    r.path
                )));
            }
            paths.push(r.path.clone());
            let column = |name: &str| r.position(name).is_some();
            for (what, names) in [
                ("search", &r.search_fields),
                ("ordering", &r.ordering_fields),
                ("read-only", &r.read_only),
                ("create-only", &r.create_only),
                ("hidden", &r.hidden),
            ] {
                if let Some(bad) = names.iter().find(|n| !column(n)) {
                    return Err(setup_error(format!(
                        "{label}: the {what} field `{bad}` is not a field of the model"
                    )));
                }
            }
            if let Some(bad) = r
                .filter_fields
                .iter()
                .find(|n| !column(n.split("__").next().unwrap_or(n)))
            {
                return Err(setup_error(format!(
                    "{label}: the filter field `{bad}` is not a field of the model"
                )));
            }
            if let Some((field, parent_path)) = &r.parent {
                if !column(field) {
                    return Err(setup_error(format!(
                        "{label}: nested under `{field}`, which is not a field of the model"
                    )));
                }
                if !self
                    .resources
                    .iter()
                    .any(|p| p.parent.is_none() && &p.path == parent_path)
                {
                    return Err(setup_error(format!(
                        "{label}: nested under `{parent_path}`, where no resource is mounted"
                    )));
                }
            }
            if let Some(lookup) = &r.lookup {
                let unique = r
                    .meta
                    .field_named(lookup)
                    .is_some_and(|f| f.has_column() && (f.unique || f.primary_key));
                if !unique {
                    return Err(setup_error(format!(
                        "{label}: the lookup field `{lookup}` must be a unique field of the model"
                    )));
                }
            }
            if let Some((bad, _)) = r.validators.iter().find(|(n, _)| !column(n)) {
                return Err(setup_error(format!(
                    "{label}: the validated field `{bad}` is not a field of the model"
                )));
            }
            if let Some(c) = r.computed.iter().find(|c| column(&c.name)) {
                return Err(setup_error(format!(
                    "{label}: the computed field `{}` has the name of a model field",
                    c.name
                )));
            }
        }
        Ok(())
    }
}

impl Battery for Api {
    fn name(&self) -> &'static str {
        "api"
    }

    fn install(self, setup: &mut Setup) -> turbine_core::Result<()> {
        self.check()?;
        let (self_info, self_extra, self_openapi_path, self_docs_path) =
            (self.info, self.extra, self.openapi_path, self.docs_path);
        let orm = setup.shared::<turbine_orm::battery::Contributions>();
        orm.model::<crate::idempotency::IdempotencyKey>();
        orm.migrations(
            crate::idempotency::migrations()
                .map_err(|e| turbine_core::Error::other("the api battery's migrations", e))?,
        );
        let mut resources = self.resources;
        // The app's own routes on resources are mounted as they are.
        let mut extras = Vec::new();
        for r in &mut resources {
            for extra in r.extras.drain(..) {
                let path = if extra.item {
                    format!("{}/{{id}}/{}", r.path, extra.name)
                } else {
                    format!("{}/{}", r.path, extra.name)
                };
                extras.push((path, extra.routes));
            }
        }
        let state = Arc::new(ApiState {
            cursor_key: CursorKey::derive(setup.config().secret_key().expose().as_bytes()),
            expansions: OnceLock::new(),
            idempotent_creates: std::sync::atomic::AtomicU64::new(0),
            resources,
        });
        let for_startup = state.clone();
        setup.on_startup(move |cx| async move {
            let db = cx.get::<Db>().ok_or_else(|| {
                setup_error("install the orm battery before the api battery".into())
            })?;
            let registry = db.registry().ok_or_else(|| {
                setup_error("the database has no model registry (install the orm battery)".into())
            })?;
            for_startup.resolve(registry)
        });
        for index in 0..state.resources.len() {
            mount(setup, &state, index);
        }
        for (path, routes) in extras {
            setup.route(&path, routes);
        }
        if let Some(path) = &self_openapi_path {
            let doc_state = state.clone();
            let document: Arc<OnceLock<Bytes>> = Arc::new(OnceLock::new());
            let (info, extra) = (Arc::new(self_info), Arc::new(self_extra));
            setup.route(
                path,
                get(move |ctx: axum::extract::State<Context>| {
                    let (state, document, info, extra) = (
                        doc_state.clone(),
                        document.clone(),
                        info.clone(),
                        extra.clone(),
                    );
                    async move {
                        let bytes = document.get_or_init(|| {
                            let cookie = ctx
                                .get::<turbine_auth::AuthService>()
                                .map(|a| a.settings().session_cookie.clone())
                                .unwrap_or_else(|| "turbine_session".into());
                            let doc =
                                crate::openapi::document(&state, &info, &cookie, (*extra).clone());
                            Bytes::from(serde_json::to_vec(&doc).expect("JSON values serialize"))
                        });
                        (
                            [(http::header::CONTENT_TYPE, "application/json")],
                            bytes.clone(),
                        )
                    }
                }),
            );
            if let Some(docs) = &self_docs_path {
                crate::docs::mount(setup, docs, path);
            }
        }
        Ok(())
    }
}

macro_rules! handler {
    ($state:expr, $index:expr, $f:path, $($arg:ident : $ty:ty),*) => {{
        let state = $state.clone();
        let index = $index;
        move |$($arg: $ty),*| {
            let state = state.clone();
            async move { $f(&state, index, $($arg),*).await }
        }
    }};
}

/// Adds `handler` for `method` to a route's methods.
fn on<H, T>(routes: Option<MethodRoutes>, method: Method, handler: H) -> Option<MethodRoutes>
where
    H: Handler<T, Context>,
    T: 'static,
{
    Some(match (routes, method) {
        (None, Method::GET) => get(handler),
        (None, Method::POST) => post(handler),
        (None, Method::PUT) => put(handler),
        (None, Method::PATCH) => patch(handler),
        (None, _) => delete(handler),
        (Some(r), Method::GET) => r.get(handler),
        (Some(r), Method::POST) => r.post(handler),
        (Some(r), Method::PUT) => r.put(handler),
        (Some(r), Method::PATCH) => r.patch(handler),
        (Some(r), _) => r.delete(handler),
    })
}

fn mount(setup: &mut Setup, state: &Arc<ApiState>, index: usize) {
    let r = &state.resources[index];
    let mut collection = None;
    if r.allows(Op::List) {
        let h = handler!(state, index, crate::list::list, db: Db, user: MaybeUser, parent: ParentPath, uri: OriginalUri, headers: HeaderMap);
        collection = on(collection, Method::GET, h);
    }
    if r.allows(Op::Create) {
        let h = handler!(state, index, crate::item::create, db: Db, user: MaybeUser, parent: ParentPath, uri: OriginalUri, headers: HeaderMap, body: Bytes);
        collection = on(collection, Method::POST, h);
    }
    if let Some(routes) = collection {
        setup.route(&r.path, routes);
    }
    for v in 0..r.views.len() {
        let h = handler!(state, (index, v), crate::list::view, db: Db, user: MaybeUser, uri: OriginalUri, headers: HeaderMap);
        setup.route(&format!("{}/{}", r.path, r.views[v].name), get(h));
    }
    let mut item = None;
    if r.allows(Op::Retrieve) {
        let h = handler!(state, index, crate::item::retrieve, db: Db, user: MaybeUser, id: ItemId, query: RawQuery, headers: HeaderMap);
        item = on(item, Method::GET, h);
    }
    for (op, method) in [
        (Op::Update, Method::PUT),
        (Op::PartialUpdate, Method::PATCH),
    ] {
        if r.allows(op) {
            let h = handler!(state, index, crate::item::update, db: Db, user: MaybeUser, id: ItemId, method: Method, headers: HeaderMap, body: Bytes);
            item = on(item, method, h);
        }
    }
    if r.allows(Op::Delete) {
        let h = handler!(state, index, crate::item::destroy, db: Db, user: MaybeUser, id: ItemId, headers: HeaderMap);
        item = on(item, Method::DELETE, h);
    }
    if let Some(routes) = item {
        setup.route(&format!("{}/{{id}}", r.path), routes);
    }
}

/// The `{id}` of an item route.
pub(crate) type ItemId = axum::extract::Path<String>;
/// The `{parent}` of a nested collection (absent elsewhere).
pub(crate) type ParentPath = Option<axum::extract::Path<String>>;
