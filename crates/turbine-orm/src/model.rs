//! The [`Model`] trait: what `#[derive(Model)]` implements for a Rust struct, and what typed
//! queries and CRUD are built on. Everything it offers rests on the model's [`ModelMeta`] and
//! its values, so runtime-defined models (no Rust type) use the same machinery untyped.

use std::future::Future;
use std::marker::PhantomData;

use crate::db::Db;
use crate::error::Result;
use crate::hooks::ChangeKind;
use crate::meta::{FieldType, ModelMeta};
use crate::value::{Columns, FieldValue, Fields, Value};

/// A Rust type stored as rows of a table. Implemented by `#[derive(Model)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model",
    label = "relations point at models",
    note = "derive it: `#[derive(turbine::Model)]`"
)]
pub trait Model: Sized + Send + Sync + 'static {
    /// The primary key's Rust type.
    type Key: FieldValue + Clone + PartialEq + std::fmt::Debug;

    /// The model's label, `app.Model`: how relations name it. A constant, so that models that
    /// refer to each other never need each other's metadata while building their own.
    const LABEL: &'static str;

    /// The model's metadata (built once per process).
    fn meta() -> &'static ModelMeta;

    /// Reads the model from values in the order of its column fields (`meta().fields` that
    /// have a column).
    fn from_fields(fields: &mut Fields) -> Result<Self>;

    /// The model's values, in the order of its column fields.
    fn to_values(&self) -> Vec<Value>;

    /// The primary key's value.
    fn key(&self) -> Self::Key;

    /// Sets the primary key (after an insert assigned it).
    fn set_key(&mut self, key: Self::Key);

    /// Sets one column field from a value: how an insert or a save writes back what the ORM
    /// filled in (defaults, `auto_now` timestamps, database defaults). `#[derive(Model)]`
    /// implements it; without it the ORM rebuilds the model with
    /// [`from_fields`](Self::from_fields), which forgets loaded relations.
    fn set_field(&mut self, field: &str, _value: Value) -> Result<()> {
        Err(crate::error::Error::Query(format!(
            "{} does not implement Model::set_field (for `{field}`)",
            Self::LABEL
        )))
    }

    /// The relation field `field` — a `ForeignKey<T>`, `Option<ForeignKey<T>>` or
    /// `ManyToMany<T>` — for eager loading (`select_related`, `prefetch`) to fill.
    /// `#[derive(Model)]` implements it; the default exposes none.
    fn relation_mut(&mut self, _field: &str) -> Option<&mut dyn std::any::Any> {
        None
    }

    /// Runs before the model is inserted or updated; an error stops the save.
    fn before_save(
        &mut self,
        _db: &Db,
        _kind: ChangeKind,
    ) -> impl Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }

    /// Runs after the model was inserted or updated.
    fn after_save(&self, _db: &Db, _kind: ChangeKind) -> impl Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }

    /// Runs before the model is deleted; an error stops the delete.
    fn before_delete(&self, _db: &Db) -> impl Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }

    /// Runs after the model was deleted.
    fn after_delete(&self, _db: &Db) -> impl Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }
}

/// A model's own lifecycle hooks, for `#[derive(Model)]` with `#[model(hooks)]`: implement
/// this trait and the derive's `Model` impl forwards to it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has `#[model(hooks)]` but no `impl ModelHooks for {Self}`",
    label = "hooks are asked for here",
    note = "implement the hooks you need: `impl turbine::orm::ModelHooks for {Self} {{ async fn before_save(…) … }}`, or remove `hooks`"
)]
pub trait ModelHooks: Model {
    /// See [`Model::before_save`].
    fn before_save(
        &mut self,
        _db: &Db,
        _kind: ChangeKind,
    ) -> impl Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }
    /// See [`Model::after_save`].
    fn after_save(&self, _db: &Db, _kind: ChangeKind) -> impl Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }
    /// See [`Model::before_delete`].
    fn before_delete(&self, _db: &Db) -> impl Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }
    /// See [`Model::after_delete`].
    fn after_delete(&self, _db: &Db) -> impl Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }
}

/// A foreign key field: the target's key, and the target itself once loaded
/// (`select_related` / `prefetch` fill it).
pub struct ForeignKey<M: Model> {
    id: M::Key,
    loaded: Option<Box<M>>,
}

impl<M: Model> ForeignKey<M> {
    /// A reference to the row with this key.
    pub fn new(id: M::Key) -> Self {
        Self { id, loaded: None }
    }

    /// The target's key.
    pub fn id(&self) -> &M::Key {
        &self.id
    }

    /// The target, if it was loaded with the query.
    pub fn get(&self) -> Option<&M> {
        self.loaded.as_deref()
    }

    /// Stores the loaded target.
    pub fn set_loaded(&mut self, target: M) {
        self.loaded = Some(Box::new(target));
    }

    /// Takes the loaded target out.
    pub fn take_loaded(&mut self) -> Option<M> {
        self.loaded.take().map(|b| *b)
    }
}

impl<M: Model> From<&M> for ForeignKey<M> {
    fn from(target: &M) -> Self {
        Self::new(target.key())
    }
}

impl<M: Model + Clone> Clone for ForeignKey<M> {
    fn clone(&self) -> Self {
        Self {
            id: self.id.clone(),
            loaded: self.loaded.clone(),
        }
    }
}

impl<M: Model> PartialEq for ForeignKey<M> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<M: Model> std::fmt::Debug for ForeignKey<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ForeignKey").field(&self.id).finish()
    }
}

impl<M: Model> serde::Serialize for ForeignKey<M>
where
    M::Key: serde::Serialize,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.id.serialize(s)
    }
}

impl<M: Model> FieldValue for ForeignKey<M> {
    fn field_type() -> FieldType {
        M::Key::field_type()
    }
    fn to_value(&self) -> Value {
        self.id.to_value()
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        M::Key::from_value(value).map(Self::new)
    }
    fn from_column<C: Columns + ?Sized>(row: &C, i: usize) -> std::result::Result<Self, String> {
        M::Key::from_column(row, i).map(Self::new)
    }
    fn from_column_opt<C: Columns + ?Sized>(
        row: &C,
        i: usize,
    ) -> std::result::Result<Option<Self>, String> {
        M::Key::from_column_opt(row, i).map(|k| k.map(Self::new))
    }
}

/// A typed column of model `M` holding `T`: what `Post::TITLE` is. Lookups on it build filters
/// (see [`query`](crate::query)); its name is the field's name in the metadata.
pub struct Column<M, T> {
    name: &'static str,
    _types: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Column<M, T> {
    /// The column for field `name` (used by `#[derive(Model)]`).
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            _types: PhantomData,
        }
    }

    /// The field's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<M, T> Clone for Column<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, T> Copy for Column<M, T> {}

impl<M, T> std::fmt::Debug for Column<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Column").field(&self.name).finish()
    }
}

/// A many-to-many field: no column; the related objects once loaded (`prefetch`). The links
/// live in the join model (automatic, or the `through` model).
pub struct ManyToMany<M: Model> {
    loaded: Option<Vec<M>>,
}

impl<M: Model> Default for ManyToMany<M> {
    fn default() -> Self {
        Self { loaded: None }
    }
}

impl<M: Model> ManyToMany<M> {
    /// The related objects, if they were prefetched.
    pub fn get(&self) -> Option<&[M]> {
        self.loaded.as_deref()
    }

    /// Stores the prefetched objects.
    pub fn set_loaded(&mut self, objects: Vec<M>) {
        self.loaded = Some(objects);
    }
}

impl<M: Model + Clone> Clone for ManyToMany<M> {
    fn clone(&self) -> Self {
        Self {
            loaded: self.loaded.clone(),
        }
    }
}

impl<M: Model> std::fmt::Debug for ManyToMany<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManyToMany")
            .field("loaded", &self.loaded.as_ref().map(Vec::len))
            .finish()
    }
}
