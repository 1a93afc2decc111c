//! [`Resource`]: what one model's endpoints expose, declared with a builder.
//!
//! ```
//! use turbine_api::{Op, Resource, Rule};
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
//!
//! let note = ModelMeta::new("notes", "Note")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("title", FieldType::String { max_length: 80 }))
//!     .field(FieldMeta::new("body", FieldType::Text));
//! let notes = Resource::new(note)
//!     .filter_fields(["title"])
//!     .search_fields(["title", "body"])
//!     .public_read()
//!     .without(Op::Delete);
//! assert_eq!(notes.path(), "/notes");
//! assert_eq!(notes.rule(Op::List), Rule::Anyone);
//! assert!(!notes.allows(Op::Delete));
//! ```

use std::sync::Arc;

use futures_util::future::BoxFuture;
use turbine_auth::CurrentUser;
use turbine_core::routing::MethodRoutes;
use turbine_orm::meta::{FieldMeta, ModelMeta, RelationKind};
use turbine_orm::query::Filter;
use turbine_orm::{Db, Model, Value};

use crate::store::{Store, Typed, Untyped};

/// One endpoint of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `GET /posts`.
    List,
    /// `GET /posts/{id}`.
    Retrieve,
    /// `POST /posts`.
    Create,
    /// `PUT /posts/{id}`: every writable field.
    Update,
    /// `PATCH /posts/{id}`: the fields sent.
    PartialUpdate,
    /// `DELETE /posts/{id}`.
    Delete,
}

impl Op {
    /// Every operation.
    pub const ALL: [Op; 6] = [
        Op::List,
        Op::Retrieve,
        Op::Create,
        Op::Update,
        Op::PartialUpdate,
        Op::Delete,
    ];

    /// The auth battery's action this operation needs (`view`, `add`, `change`, `delete`).
    pub fn action(self) -> turbine_auth::Action {
        use turbine_auth::Action;
        match self {
            Op::List | Op::Retrieve => Action::View,
            Op::Create => Action::Add,
            Op::Update | Op::PartialUpdate => Action::Change,
            Op::Delete => Action::Delete,
        }
    }

    /// `true` for operations that change data.
    pub fn writes(self) -> bool {
        !matches!(self, Op::List | Op::Retrieve)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Who may perform an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Everyone, signed in or not.
    Anyone,
    /// Any signed-in user.
    SignedIn,
    /// Users with the model permission (`app.model.view/add/change/delete`); on one object, the
    /// model's policy decides when the auth battery has one for it. Superusers always may.
    Permission,
    /// Staff users (and superusers).
    Staff,
    /// The object's owner (see [`Resource::owner`]), or users with the model permission.
    Owner,
    /// Nobody (the endpoint exists but refuses everyone; prefer [`Resource::without`]).
    Nobody,
}

/// How list pages are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pagination {
    /// Keyset pages with an opaque, signed `cursor` (stable while rows are inserted).
    Cursor,
    /// `?page=N` pages with a total `count` (costs a `COUNT(*)` per list).
    PageNumber,
}

/// Finds the owner value for a new object from the signed-in user: the user's id, or the key
/// of a row that belongs to the user (a profile).
pub type OwnerFn =
    Arc<dyn Fn(CurrentUser, Db) -> BoxFuture<'static, turbine_core::Result<Value>> + Send + Sync>;

/// The owner field of a resource and how the current user's owner value is found.
#[derive(Clone)]
pub(crate) struct Owner {
    pub(crate) field: String,
    pub(crate) resolve: OwnerFn,
}

/// A route of the app's own under a resource (a custom action).
pub(crate) struct Extra {
    pub(crate) item: bool,
    pub(crate) name: String,
    pub(crate) routes: MethodRoutes,
}

/// A model's REST endpoints: list, retrieve, create, update (full and partial) and delete, with
/// the fields, filters, ordering, search, expansion, pagination and permissions each allows.
pub struct Resource {
    pub(crate) meta: Arc<ModelMeta>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) path: String,
    pub(crate) ops: [bool; 6],
    pub(crate) rules: [Rule; 6],
    pub(crate) filter_fields: Vec<String>,
    pub(crate) search_fields: Vec<String>,
    pub(crate) ordering_fields: Vec<String>,
    pub(crate) read_only: Vec<String>,
    pub(crate) create_only: Vec<String>,
    pub(crate) hidden: Vec<String>,
    pub(crate) expand: Vec<String>,
    pub(crate) expand_explicit: bool,
    pub(crate) page_size: u64,
    pub(crate) max_page_size: u64,
    pub(crate) pagination: Pagination,
    pub(crate) owner: Option<Owner>,
    pub(crate) parent: Option<(String, String)>,
    pub(crate) strict: bool,
    pub(crate) atomic: bool,
    pub(crate) extras: Vec<Extra>,
    pub(crate) lookup: Option<String>,
    pub(crate) validators: Vec<(String, Validator)>,
    pub(crate) computed: Vec<Computed>,
    pub(crate) views: Vec<ListView>,
}

/// Checks one field's value before it is written: `Err` carries the message for the client.
pub type Validator = Arc<dyn Fn(&serde_json::Value) -> Result<(), String> + Send + Sync>;

/// Computes a field for a page of objects at once: gets their primary keys, returns one JSON
/// value per key, in order.
pub type ComputeFn = Arc<
    dyn Fn(Db, Vec<Value>) -> BoxFuture<'static, turbine_core::Result<Vec<serde_json::Value>>>
        + Send
        + Sync,
>;

/// Narrows a list view to what the request may see: a filter from the (signed-in) user.
pub type ScopeFn = Arc<
    dyn Fn(Option<CurrentUser>, Db) -> BoxFuture<'static, turbine_core::Result<Filter>>
        + Send
        + Sync,
>;

/// A second list of a resource, narrowed by a [`ScopeFn`] (a personal feed, "mine").
#[derive(Clone)]
pub(crate) struct ListView {
    pub(crate) name: String,
    pub(crate) rule: Rule,
    pub(crate) summary: String,
    pub(crate) scope: ScopeFn,
}

/// A read-only field computed from other data (counts, flags), with its JSON Schema.
#[derive(Clone)]
pub(crate) struct Computed {
    pub(crate) name: String,
    pub(crate) schema: serde_json::Value,
    pub(crate) compute: ComputeFn,
}

impl std::fmt::Debug for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resource")
            .field("model", &self.meta.label())
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// `Post` → `posts`, `Category` → `categories`, `BlogPost` → `blog_posts`.
fn default_segment(name: &str) -> String {
    let mut snake = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            snake.push('_');
        }
        snake.extend(c.to_lowercase());
    }
    if let Some(stem) = snake.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else if snake.ends_with('s') || snake.ends_with('x') || snake.ends_with("ch") {
        format!("{snake}es")
    } else {
        format!("{snake}s")
    }
}

impl Resource {
    /// A resource over a model known by its metadata (built at runtime, or a derived model's
    /// [`Model::meta`]); writes go through the untyped ORM ([`Record`](turbine_orm::Record)).
    pub fn new(meta: ModelMeta) -> Self {
        Self::with_store(meta, Arc::new(Untyped))
    }

    /// A resource over a derived model: writes run the model's own lifecycle hooks, and the
    /// auth battery's policy for `M` decides object permissions.
    pub fn of<M: Model>() -> Self {
        Self::with_store(M::meta().clone(), Arc::new(Typed::<M>::default()))
    }

    fn with_store(meta: ModelMeta, store: Arc<dyn Store>) -> Self {
        let ordering_fields = meta
            .ordering
            .iter()
            .map(|o| o.field.clone())
            .chain(meta.primary_key().map(|f| f.name.clone()))
            .collect::<Vec<_>>();
        let read_only = meta
            .fields
            .iter()
            .filter(|f| f.primary_key || f.read_only || f.auto.is_some())
            .map(|f| f.name.clone())
            .collect();
        let expand = meta
            .fields
            .iter()
            .filter(|f| {
                f.relation
                    .as_ref()
                    .is_some_and(|r| r.kind != RelationKind::ManyToMany)
            })
            .map(|f| f.name.clone())
            .collect();
        Self {
            path: format!("/{}", default_segment(&meta.name)),
            meta: Arc::new(meta),
            store,
            ops: [true; 6],
            rules: [Rule::Permission; 6],
            filter_fields: Vec::new(),
            search_fields: Vec::new(),
            ordering_fields,
            read_only,
            create_only: Vec::new(),
            hidden: Vec::new(),
            expand,
            expand_explicit: false,
            page_size: 20,
            max_page_size: 100,
            pagination: Pagination::Cursor,
            owner: None,
            parent: None,
            strict: true,
            atomic: false,
            extras: Vec::new(),
            lookup: None,
            validators: Vec::new(),
            computed: Vec::new(),
            views: Vec::new(),
        }
        .dedup_ordering()
    }

    fn dedup_ordering(mut self) -> Self {
        let mut seen = Vec::new();
        self.ordering_fields.retain(|f| {
            let new = !seen.contains(f);
            seen.push(f.clone());
            new
        });
        self
    }

    /// The model.
    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    /// The collection's path (`/posts` for `Post` unless [`at`](Self::at) says otherwise).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Mounts the collection at `path` (`/api/posts`); items are at `{path}/{id}`.
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The collection nested under a parent's item: `Resource::of::<Comment>().under("/posts",
    /// "post")` serves `GET`/`POST /posts/{post}/comments`, listing the parent's rows and
    /// creating rows that point at it (404 when the parent does not exist). Only the collection
    /// operations (list, create) are mounted there; register the resource a second time, not
    /// nested, for its items.
    pub fn under(mut self, parent_path: &str, field: &str) -> Self {
        let segment = self.path.rsplit('/').next().unwrap_or_default().to_owned();
        let parent_path = parent_path.trim_end_matches('/');
        self.path = format!("{parent_path}/{{parent}}/{segment}");
        self.parent = Some((field.to_owned(), parent_path.to_owned()));
        self.read_only.push(field.to_owned());
        for op in [Op::Retrieve, Op::Update, Op::PartialUpdate, Op::Delete] {
            self.ops[op.index()] = false;
        }
        self
    }

    /// Serves only these operations.
    pub fn only(mut self, ops: impl IntoIterator<Item = Op>) -> Self {
        self.ops = [false; 6];
        for op in ops {
            self.ops[op.index()] = true;
        }
        self
    }

    /// Does not serve this operation (405 with `Allow`).
    pub fn without(mut self, op: Op) -> Self {
        self.ops[op.index()] = false;
        self
    }

    /// Items are found by this unique field instead of the primary key:
    /// `Resource::of::<Profile>().lookup("handle")` serves `/profiles/{handle}`.
    pub fn lookup(mut self, field: &str) -> Self {
        self.lookup = Some(field.to_owned());
        self
    }

    /// Checks a field's value on every write, after the metadata's checks (length, choices):
    /// `validate("handle", |v| …)`; an `Err` is a 422 field error with its message.
    pub fn validate<F>(mut self, field: &str, check: F) -> Self
    where
        F: Fn(&serde_json::Value) -> Result<(), String> + Send + Sync + 'static,
    {
        self.validators.push((field.to_owned(), Arc::new(check)));
        self
    }

    /// A read-only field computed for each page at once (never one query per object):
    /// `compute` gets the objects' primary keys and returns one value per key, in order.
    /// `schema` is its JSON Schema for the OpenAPI document.
    pub fn computed<F, Fut>(mut self, name: &str, schema: serde_json::Value, compute: F) -> Self
    where
        F: Fn(Db, Vec<Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = turbine_core::Result<Vec<serde_json::Value>>> + Send + 'static,
    {
        let compute: ComputeFn = Arc::new(move |db, keys| Box::pin(compute(db, keys)));
        self.computed.push(Computed {
            name: name.to_owned(),
            schema,
            compute,
        });
        self
    }

    /// Another list of the resource at `{path}/{name}`, narrowed by `scope` (which sees the
    /// signed-in user, if any), with everything a list has: filters, search, ordering,
    /// fields, expansion, cursor pages, `ETag`. `rule` says who may call it; `summary`
    /// describes it in the OpenAPI document.
    ///
    /// `Resource::of::<Post>().list_view("feed", Rule::SignedIn, "Posts of the profiles you
    /// follow", |user, db| async move { … Ok(Filter) })` serves `GET /posts/feed`.
    pub fn list_view<F, Fut>(mut self, name: &str, rule: Rule, summary: &str, scope: F) -> Self
    where
        F: Fn(Option<CurrentUser>, Db) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = turbine_core::Result<Filter>> + Send + 'static,
    {
        let scope: ScopeFn = Arc::new(move |user, db| Box::pin(scope(user, db)));
        self.views.push(ListView {
            name: name.to_owned(),
            rule,
            summary: summary.to_owned(),
            scope,
        });
        self
    }

    /// Whether the operation is served.
    pub fn allows(&self, op: Op) -> bool {
        self.ops[op.index()]
    }

    /// Who may perform `op` (default: [`Rule::Permission`] for every operation).
    pub fn access(mut self, op: Op, rule: Rule) -> Self {
        self.rules[op.index()] = rule;
        self
    }

    /// The rule for `op`.
    pub fn rule(&self, op: Op) -> Rule {
        self.rules[op.index()]
    }

    /// Lists and single objects are open to everyone, signed in or not.
    pub fn public_read(self) -> Self {
        self.access(Op::List, Rule::Anyone)
            .access(Op::Retrieve, Rule::Anyone)
    }

    /// Objects belong to whoever `resolve` names: on create, `field` is set to the signed-in
    /// user's owner value (any signed-in user may create); updates and deletes are for the
    /// owner (or users with the model permission). `field` becomes read-only.
    pub fn owner<F, Fut>(mut self, field: &str, resolve: F) -> Self
    where
        F: Fn(CurrentUser, Db) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = turbine_core::Result<Value>> + Send + 'static,
    {
        let resolve: OwnerFn = Arc::new(move |user, db| Box::pin(resolve(user, db)));
        self.owner = Some(Owner {
            field: field.to_owned(),
            resolve,
        });
        self.read_only.push(field.to_owned());
        self.access(Op::Create, Rule::SignedIn)
            .access(Op::Update, Rule::Owner)
            .access(Op::PartialUpdate, Rule::Owner)
            .access(Op::Delete, Rule::Owner)
    }

    /// [`owner`](Self::owner) where `field` points at the user itself (`auth.User`).
    pub fn owned_by_user(self, field: &str) -> Self {
        self.owner(field, |user: CurrentUser, _db| async move {
            Ok(Value::BigInt(Some(user.id)))
        })
    }

    /// Fields clients may filter on with `?field=…` or `?field__lookup=…` (default: none). A
    /// path through a foreign key (`author__handle`) allows that one field of the related
    /// model; a JSON field allows its keys (`data__lang`).
    pub fn filter_fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.filter_fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Text fields `?search=` looks in (every word must appear in one of them; default: none,
    /// which turns `search` off).
    pub fn search_fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.search_fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Fields clients may sort by with `?ordering=-created_at,id` (default: the model's
    /// ordering fields and its primary key).
    pub fn ordering_fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.ordering_fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Fields clients read but never write (added to the primary key, `auto_now` timestamps,
    /// read-only fields of the metadata and the owner field).
    pub fn read_only<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.read_only.extend(fields.into_iter().map(Into::into));
        self
    }

    /// Fields clients set when they create an object and never change afterwards (a handle,
    /// the post a comment belongs to): writable on `POST`, read-only on `PUT` and `PATCH`.
    pub fn create_only<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.create_only.extend(fields.into_iter().map(Into::into));
        self
    }

    /// Fields never shown to clients (they may still be written unless also read-only).
    pub fn hidden<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.hidden.extend(fields.into_iter().map(Into::into));
        self
    }

    /// What `?expand=` may load (default: every foreign key whose model has a resource in the
    /// same API): foreign keys (`author`), reverse
    /// relations by their related name (`comments`), and a foreign key of a reverse relation
    /// (`comments.author`). Expanded models are shown as their own resource shows them, so
    /// their model must have a resource in the same [`Api`](crate::Api).
    pub fn expand<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.expand = names.into_iter().map(Into::into).collect();
        self.expand_explicit = true;
        self
    }

    /// Rows per page when the client does not say (`?limit=`), and the most it may ask for
    /// (defaults 20 and 100).
    pub fn page_size(mut self, default: u64, max: u64) -> Self {
        self.page_size = default.max(1);
        self.max_page_size = max.max(self.page_size);
        self
    }

    /// How lists are paginated (default [`Pagination::Cursor`]).
    pub fn pagination(mut self, pagination: Pagination) -> Self {
        self.pagination = pagination;
        self
    }

    /// Every write runs in one transaction with the model's hooks (`after_save` updating a
    /// counter, say), so they succeed or fail together. Without it a write is one statement
    /// plus the hooks, and a transaction is opened only where the API needs one: a create with
    /// an `Idempotency-Key` (recorded with the object) and a write with `If-Match` (checked on
    /// the locked row).
    pub fn atomic(mut self) -> Self {
        self.atomic = true;
        self
    }

    /// Unknown fields in a request body are ignored instead of refused with 400.
    pub fn lenient(mut self) -> Self {
        self.strict = false;
        self
    }

    /// A route of the app's own on each object: `item_route("like", post(like))` serves
    /// `POST /posts/{id}/like` (the handler reads `Path(id)`).
    pub fn item_route(mut self, name: &str, routes: impl Into<MethodRoutes>) -> Self {
        self.extras.push(Extra {
            item: true,
            name: name.to_owned(),
            routes: routes.into(),
        });
        self
    }

    /// A route of the app's own on the collection: `collection_route("mine", get(mine))`
    /// serves `GET /posts/mine`.
    pub fn collection_route(mut self, name: &str, routes: impl Into<MethodRoutes>) -> Self {
        self.extras.push(Extra {
            item: false,
            name: name.to_owned(),
            routes: routes.into(),
        });
        self
    }

    /// The column fields with their positions in a row.
    pub(crate) fn columns(&self) -> impl Iterator<Item = (usize, &FieldMeta)> {
        self.meta
            .fields
            .iter()
            .filter(|f| f.has_column())
            .enumerate()
    }

    /// The position of the column field `name` in a row.
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.columns().find(|(_, f)| f.name == name).map(|(i, _)| i)
    }

    /// The fields clients see: column fields, not hidden.
    pub(crate) fn readable(&self) -> impl Iterator<Item = (usize, &FieldMeta)> {
        self.columns()
            .filter(|(_, f)| !self.hidden.contains(&f.name))
    }

    /// The fields clients may write on create (`creating`) or on update.
    pub(crate) fn writable(&self, creating: bool) -> impl Iterator<Item = (usize, &FieldMeta)> {
        self.columns().filter(move |(_, f)| {
            !self.read_only.contains(&f.name) && (creating || !self.create_only.contains(&f.name))
        })
    }

    /// Whether clients must send the field on create (and full update).
    pub(crate) fn required(f: &FieldMeta) -> bool {
        !f.nullable && f.default.is_none() && f.db_default.is_none() && f.auto.is_none()
    }

    /// The field items are found by (the primary key unless [`lookup`](Self::lookup) says
    /// otherwise) and its position among the columns.
    pub(crate) fn lookup_field(&self) -> (usize, &FieldMeta) {
        match &self.lookup {
            Some(name) => self
                .columns()
                .find(|(_, f)| &f.name == name)
                .expect("checked when the API is built: the lookup field is a column"),
            None => self.key(),
        }
    }

    /// The primary key field and its position among the columns.
    pub(crate) fn key(&self) -> (usize, &FieldMeta) {
        self.columns()
            .find(|(_, f)| f.primary_key)
            .expect("checked when the API is built: every resource's model has a primary key")
    }
}

/// A computed field counting the rows of `M` whose `field` points at each object: one grouped
/// query per page. `Resource::of::<Profile>().computed("posts", schema, count_of::<Post>("author"))`.
pub fn count_of<M: Model>(
    field: &'static str,
) -> impl Fn(Db, Vec<Value>) -> BoxFuture<'static, turbine_core::Result<Vec<serde_json::Value>>>
+ Send
+ Sync
+ 'static {
    move |db: Db, keys: Vec<Value>| {
        Box::pin(async move {
            use turbine_orm::query::{Aggregate, Expr, Lookup, Query};
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let rows = Query::new(M::meta())
                .filter(Filter::field(
                    field,
                    Lookup::In(keys.iter().cloned().map(Expr::Value).collect()),
                ))
                .group_by([field])
                .annotate([Aggregate::count_all().alias("n")])
                .fetch(&db)
                .await?;
            let counts: std::collections::HashMap<String, serde_json::Value> = rows
                .iter()
                .filter_map(|r| match r.values() {
                    [key, n, ..] => Some((
                        crate::render::json_of(key).to_string(),
                        crate::render::json_of(n),
                    )),
                    _ => None,
                })
                .collect();
            Ok(keys
                .iter()
                .map(|k| {
                    counts
                        .get(&crate::render::json_of(k).to_string())
                        .cloned()
                        .unwrap_or(serde_json::Value::from(0))
                })
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::default_segment;

    #[test]
    fn paths_are_plural_snake_case() {
        assert_eq!(default_segment("Post"), "posts");
        assert_eq!(default_segment("Category"), "categories");
        assert_eq!(default_segment("Day"), "days");
        assert_eq!(default_segment("BlogPost"), "blog_posts");
        assert_eq!(default_segment("Box"), "boxes");
        assert_eq!(default_segment("Address"), "addresses");
    }
}
