//! [`ModelAdmin`]: how one model shows in the admin, declared with a builder. Everything has a
//! default read from the model's metadata, so `ModelAdmin::of::<Post>()` alone gives a working
//! list, search-less, sorted by the model's ordering, with a form for every editable field.
//!
//! ```
//! use turbine_admin::ModelAdmin;
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
//!
//! let post = ModelMeta::new("blog", "Post")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("title", FieldType::String { max_length: 80 }))
//!     .field(FieldMeta::new("published", FieldType::Bool));
//! let admin = ModelAdmin::new(post)
//!     .list_display(["title", "published"])
//!     .search(["title"])
//!     .filters(["published"])
//!     .action("publish", "Publish the selected posts", |db, ids| async move {
//!         let _ = (db, ids);
//!         Ok("Published.".to_string())
//!     });
//! assert_eq!(admin.slug(), "blog/post");
//! assert!(admin.check().is_ok());
//! assert!(ModelAdmin::new(admin.meta().clone()).search(["nope"]).check().is_err());
//! ```

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use turbine_api::store::{Store, Typed, Untyped};
use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta, RelationKind};
use turbine_orm::{Db, Model, Value};

use crate::forms::is_m2m;

/// What a bulk action does with the keys of the selected rows; `Ok` carries the message shown
/// to the user, `Err` an error message.
pub type ActionFn =
    Arc<dyn Fn(Db, Vec<Value>) -> BoxFuture<'static, Result<String, String>> + Send + Sync>;

/// A custom bulk action on the list page (deleting is built in).
#[derive(Clone)]
pub struct BulkAction {
    /// Its name in the form.
    pub name: String,
    /// What the menu says.
    pub label: String,
    pub(crate) run: ActionFn,
}

impl std::fmt::Debug for BulkAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkAction")
            .field("name", &self.name)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// One model's admin: list columns, search, filters, ordering, form layout, inlines, actions.
#[derive(Clone)]
pub struct ModelAdmin {
    pub(crate) meta: ModelMeta,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) list_display: Vec<String>,
    pub(crate) search: Vec<String>,
    pub(crate) filters: Vec<String>,
    pub(crate) ordering: Vec<String>,
    pub(crate) read_only: Vec<String>,
    pub(crate) exclude: Vec<String>,
    pub(crate) sections: Vec<(String, Vec<String>)>,
    pub(crate) inlines: Vec<String>,
    pub(crate) actions: Vec<BulkAction>,
    pub(crate) title: Option<String>,
    pub(crate) per_page: u64,
}

impl std::fmt::Debug for ModelAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelAdmin")
            .field("model", &self.meta.label())
            .field("list_display", &self.list_display)
            .field("search", &self.search)
            .field("filters", &self.filters)
            .finish_non_exhaustive()
    }
}

impl ModelAdmin {
    /// The admin of a derived model: writes go through the typed model, so its hooks run.
    pub fn of<M: Model>() -> Self {
        Self::with_store(M::meta().clone(), Arc::new(Typed::<M>::default()))
    }

    /// The admin of a model known by its metadata only (built at runtime).
    pub fn new(meta: ModelMeta) -> Self {
        Self::with_store(meta, Arc::new(Untyped))
    }

    fn with_store(meta: ModelMeta, store: Arc<dyn Store>) -> Self {
        Self {
            meta,
            store,
            list_display: Vec::new(),
            search: Vec::new(),
            filters: Vec::new(),
            ordering: Vec::new(),
            read_only: Vec::new(),
            exclude: Vec::new(),
            sections: Vec::new(),
            inlines: Vec::new(),
            actions: Vec::new(),
            title: None,
            per_page: 50,
        }
    }

    /// The model's metadata.
    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    /// `app/model` (lower case): where the model lives under the admin's path.
    pub fn slug(&self) -> String {
        slug(&self.meta)
    }

    /// The list's columns (default: the title field, then up to four more columns).
    pub fn list_display<I: IntoIterator<Item = S>, S: Into<String>>(mut self, fields: I) -> Self {
        self.list_display = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Fields the list's search box looks in, every word in any of them, any case (text
    /// fields, or paths through foreign keys such as `author__handle`).
    pub fn search<I: IntoIterator<Item = S>, S: Into<String>>(mut self, fields: I) -> Self {
        self.search = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Fields with a filter in the list's sidebar: booleans, choices, dates (a range) and
    /// foreign keys (a searchable picker).
    pub fn filters<I: IntoIterator<Item = S>, S: Into<String>>(mut self, fields: I) -> Self {
        self.filters = fields.into_iter().map(Into::into).collect();
        self
    }

    /// The list's default order (`-created_at`); default: the model's ordering, else newest
    /// key first.
    pub fn ordering<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.ordering = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Fields shown but not editable in the form (timestamps set by the model always are).
    pub fn read_only<I: IntoIterator<Item = S>, S: Into<String>>(mut self, fields: I) -> Self {
        self.read_only = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Fields left out of the form and the list (a password hash…).
    pub fn exclude<I: IntoIterator<Item = S>, S: Into<String>>(mut self, fields: I) -> Self {
        self.exclude = fields.into_iter().map(Into::into).collect();
        self
    }

    /// A titled section of the form, in this order; fields in no section come first.
    pub fn section<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        title: impl Into<String>,
        fields: I,
    ) -> Self {
        self.sections
            .push((title.into(), fields.into_iter().map(Into::into).collect()));
        self
    }

    /// Shows the rows of another model that point here (`chirp.Comment`, or
    /// `chirp.Comment.post` to name the foreign key) on the edit page, with a link to add one.
    pub fn inline(mut self, model: impl Into<String>) -> Self {
        self.inlines.push(model.into());
        self
    }

    /// The field that names a row in lists, pickers and the log (default: `name`, `title`,
    /// `handle`, `email`, `username` or the first text field, else `#key`).
    pub fn title_field(mut self, field: impl Into<String>) -> Self {
        self.title = Some(field.into());
        self
    }

    /// Rows per list page (default 50).
    pub fn per_page(mut self, n: u64) -> Self {
        self.per_page = n.clamp(1, 500);
        self
    }

    /// A custom bulk action: `run` gets the keys of the selected rows and answers the message
    /// to show. The user needs the model's `change` permission.
    pub fn action<F, Fut>(
        mut self,
        name: impl Into<String>,
        label: impl Into<String>,
        run: F,
    ) -> Self
    where
        F: Fn(Db, Vec<Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, String>> + Send + 'static,
    {
        self.actions.push(BulkAction {
            name: name.into(),
            label: label.into(),
            run: Arc::new(move |db, ids| Box::pin(run(db, ids))),
        });
        self
    }

    /// Checks every field the configuration names exists and suits its use.
    pub fn check(&self) -> Result<(), String> {
        let label = self.meta.label();
        let field = |name: &str, what: &str| -> Result<&FieldMeta, String> {
            self.meta.field_named(name).ok_or_else(|| {
                format!(
                    "the admin of {label} names the {what} `{name}`, which is not a field of the model; its fields are: {}",
                    self.meta
                        .fields
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        };
        for name in &self.list_display {
            field(name, "list column")?;
        }
        for name in &self.search {
            let head = name.split("__").next().unwrap_or(name);
            let f = field(head, "search field")?;
            if !name.contains("__") && !is_text(&f.ty) {
                return Err(format!(
                    "the admin of {label} searches `{name}`, which is not a text field"
                ));
            }
        }
        for name in &self.filters {
            let f = field(name, "filter")?;
            if filter_kind(f).is_none() {
                return Err(format!(
                    "the admin of {label} filters on `{name}`: filters work on booleans, choices, dates and foreign keys"
                ));
            }
        }
        for key in &self.ordering {
            field(key.trim_start_matches('-'), "ordering key")?;
        }
        for name in self.read_only.iter().chain(&self.exclude) {
            field(name, "form field")?;
        }
        for (_, fields) in &self.sections {
            for name in fields {
                field(name, "section field")?;
            }
        }
        if let Some(t) = &self.title {
            field(t, "title field")?;
        }
        for (i, a) in self.actions.iter().enumerate() {
            if a.name == "delete" || self.actions[..i].iter().any(|b| b.name == a.name) {
                return Err(format!(
                    "the admin of {label} has two actions named `{}` (`delete` is built in)",
                    a.name
                ));
            }
        }
        Ok(())
    }

    /// The field naming a row.
    pub(crate) fn title(&self) -> Option<&FieldMeta> {
        title_of(&self.meta, self.title.as_deref())
    }

    /// Fields the admin shows at all.
    pub(crate) fn visible(&self, f: &FieldMeta) -> bool {
        !self.exclude.contains(&f.name)
    }

    /// The list's columns.
    pub(crate) fn columns(&self) -> Vec<&FieldMeta> {
        if !self.list_display.is_empty() {
            return self
                .list_display
                .iter()
                .filter_map(|n| self.meta.field_named(n))
                .collect();
        }
        let title = self.title();
        let mut out: Vec<&FieldMeta> = title.into_iter().collect();
        for f in &self.meta.fields {
            if out.len() >= 5 {
                break;
            }
            let long = matches!(f.ty, FieldType::Text | FieldType::Json | FieldType::Bytes);
            if f.has_column() && !f.primary_key && !long && self.visible(f) && !out.contains(&f) {
                out.push(f);
            }
        }
        if out.is_empty()
            && let Some(pk) = self.meta.primary_key()
        {
            out.push(pk);
        }
        out
    }

    /// Whether the form may change the field.
    pub(crate) fn editable(&self, f: &FieldMeta) -> bool {
        let writable = f.has_column() && !f.primary_key && !f.read_only || is_m2m(f);
        writable && !self.read_only.contains(&f.name) && self.visible(f)
    }
}

/// `app/model` for a model.
pub(crate) fn slug(meta: &ModelMeta) -> String {
    format!("{}/{}", meta.app.to_lowercase(), meta.name.to_lowercase())
}

/// Text fields (searchable).
pub(crate) fn is_text(ty: &FieldType) -> bool {
    matches!(ty, FieldType::String { .. } | FieldType::Text)
}

/// What kind of sidebar filter a field gets, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FilterKind {
    Bool,
    Choices,
    Date,
    Foreign,
}

pub(crate) fn filter_kind(f: &FieldMeta) -> Option<FilterKind> {
    if matches!(
        f.relation.as_ref().map(|r| r.kind),
        Some(RelationKind::ForeignKey | RelationKind::OneToOne)
    ) {
        return Some(FilterKind::Foreign);
    }
    if !f.choices.is_empty() {
        return Some(FilterKind::Choices);
    }
    match f.ty {
        FieldType::Bool => Some(FilterKind::Bool),
        FieldType::Date | FieldType::DateTime => Some(FilterKind::Date),
        _ => None,
    }
}

/// The field naming a row of `meta`: `chosen`, else a conventional name, else the first text
/// field.
pub(crate) fn title_of<'m>(meta: &'m ModelMeta, chosen: Option<&str>) -> Option<&'m FieldMeta> {
    if let Some(name) = chosen {
        return meta.field_named(name);
    }
    for name in ["name", "title", "handle", "email", "username", "codename"] {
        if let Some(f) = meta.field_named(name).filter(|f| is_text(&f.ty)) {
            return Some(f);
        }
    }
    meta.fields
        .iter()
        .find(|f| matches!(f.ty, FieldType::String { .. }) && f.relation.is_none())
}
