//! Eager loading without N+1: `select_related` (one query with a join) fills foreign keys,
//! `prefetch` (one more query) fills many-to-many fields or foreign keys, and
//! [`QuerySet::children_of`] loads the reverse side of a foreign key for many parents at once.
//!
//! Filling a model's relation field goes through [`Model::relation_mut`], which
//! `#[derive(Model)]` implements.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use sea_query::{Alias, Expr as SqExpr, ExprTrait, SelectStatement};

use super::filter::{Filter, Lookup};
use super::m2m::M2mLink;
use super::queryset::QuerySet;
use super::select::{columns, primary_key};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::model::{Column, ForeignKey, ManyToMany, Model};
use crate::value::{FieldValue, Fields, Value};

/// Reads a joined model from the values after the main model's and stores it in the model.
pub(crate) type RelatedFn<M> = dyn Fn(&mut M, &mut Fields) -> Result<()> + Send + Sync;

/// The Rust types of foreign-key fields: `ForeignKey<T>` and `Option<ForeignKey<T>>`.
pub trait ForeignKeyField {
    /// The model the key points at.
    type Target: Model;
}

impl<T: Model> ForeignKeyField for ForeignKey<T> {
    type Target = T;
}

impl<T: Model> ForeignKeyField for Option<ForeignKey<T>> {
    type Target = T;
}

fn no_relation<M: Model>(field: &str) -> Error {
    Error::Query(format!(
        "{} does not expose the relation `{field}` to eager loading (Model::relation_mut)",
        M::LABEL
    ))
}

/// Stores a loaded target in the foreign key `field` of `model`.
fn set_foreign<M: Model, T: Model>(model: &mut M, field: &str, target: T) -> Result<()> {
    let any = model
        .relation_mut(field)
        .ok_or_else(|| no_relation::<M>(field))?;
    if let Some(fk) = any.downcast_mut::<ForeignKey<T>>() {
        fk.set_loaded(target);
    } else if let Some(opt) = any.downcast_mut::<Option<ForeignKey<T>>>() {
        if let Some(fk) = opt {
            fk.set_loaded(target);
        }
    } else {
        return Err(Error::Query(format!(
            "{}.{field} is not a ForeignKey<{}>",
            M::LABEL,
            T::LABEL
        )));
    }
    Ok(())
}

/// The key a foreign key `field` of `model` holds, if any.
fn foreign_key_of<M: Model, T: Model>(model: &mut M, field: &str) -> Result<Option<Value>> {
    let any = model
        .relation_mut(field)
        .ok_or_else(|| no_relation::<M>(field))?;
    if let Some(fk) = any.downcast_mut::<ForeignKey<T>>() {
        Ok(Some(fk.id().to_value()))
    } else if let Some(opt) = any.downcast_mut::<Option<ForeignKey<T>>>() {
        Ok(opt.as_ref().map(|fk| fk.id().to_value()))
    } else {
        Err(Error::Query(format!(
            "{}.{field} is not a ForeignKey<{}>",
            M::LABEL,
            T::LABEL
        )))
    }
}

/// The loader of a joined `T` behind the foreign key `field` (for `select_related`).
pub(crate) fn related_loader<M: Model, T: Model>(field: &'static str) -> Arc<RelatedFn<M>> {
    let meta = T::meta();
    let width = columns(meta).count();
    let pk_at = columns(meta).position(|f| f.primary_key).unwrap_or(0);
    Arc::new(move |model: &mut M, fields: &mut Fields| {
        // A LEFT JOIN that found nothing: every joined column is NULL.
        if fields.null_ahead(pk_at) {
            fields.skip(width);
            return Ok(());
        }
        let target = T::from_fields(fields)?;
        set_foreign(model, field, target)
    })
}

/// A second query that fills a relation field of already-loaded models.
pub trait Prefetch<M>: Send + Sync {
    /// Loads the related models of `items` and stores them in each.
    fn load<'a>(&'a self, db: &'a Db, items: &'a mut [M]) -> BoxFuture<'a, Result<()>>;
}

/// Field types `prefetch` accepts: `ManyToMany<T>`, and foreign keys to `Clone` models.
pub trait PrefetchField<M: Model> {
    /// The loader for the field named `field`.
    fn prefetcher(field: &'static str) -> Arc<dyn Prefetch<M>>;
}

impl<M: Model, T: Model> PrefetchField<M> for ManyToMany<T> {
    fn prefetcher(field: &'static str) -> Arc<dyn Prefetch<M>> {
        Arc::new(ManyPrefetch::<T> {
            field,
            _target: std::marker::PhantomData,
        })
    }
}

impl<M: Model, T: Model + Clone> PrefetchField<M> for ForeignKey<T> {
    fn prefetcher(field: &'static str) -> Arc<dyn Prefetch<M>> {
        Arc::new(ForeignPrefetch::<T> {
            field,
            _target: std::marker::PhantomData,
        })
    }
}

impl<M: Model, T: Model + Clone> PrefetchField<M> for Option<ForeignKey<T>> {
    fn prefetcher(field: &'static str) -> Arc<dyn Prefetch<M>> {
        <ForeignKey<T> as PrefetchField<M>>::prefetcher(field)
    }
}

/// A hashable form of a key value, for grouping prefetched rows by the row they belong to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum KeyRepr {
    Int(i64),
    Uuid(uuid::Uuid),
    Text(String),
    Other(String),
}

impl KeyRepr {
    pub(crate) fn of(value: &Value) -> Self {
        if let Ok(i) = i64::from_value(value.clone()) {
            return KeyRepr::Int(i);
        }
        match value {
            Value::Uuid(Some(u)) => KeyRepr::Uuid(*u),
            Value::String(Some(s)) => match uuid::Uuid::parse_str(s) {
                Ok(u) => KeyRepr::Uuid(u),
                Err(_) => KeyRepr::Text(s.clone()),
            },
            other => KeyRepr::Other(format!("{other:?}")),
        }
    }
}

struct ManyPrefetch<T> {
    field: &'static str,
    _target: std::marker::PhantomData<fn() -> T>,
}

impl<M: Model, T: Model> Prefetch<M> for ManyPrefetch<T> {
    fn load<'a>(&'a self, db: &'a Db, items: &'a mut [M]) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let field = self.field;
            let mut groups: HashMap<KeyRepr, Vec<T>> = HashMap::new();
            if !items.is_empty() {
                let link = M2mLink::resolve(db, M::meta(), field)?;
                let keys: Vec<Value> = items.iter().map(|m| m.key().to_value()).collect();
                let stmt = db
                    .dialect()
                    .build(&link.targets_of(db.dialect(), T::meta(), keys)?);
                for row in db.fetch(&stmt).await? {
                    let mut fields = row.into_fields();
                    let target = T::from_fields(&mut fields)?;
                    let source = fields.next_value().ok_or_else(|| {
                        Error::Query("the prefetch query lost its source column".into())
                    })?;
                    groups.entry(KeyRepr::of(&source)).or_default().push(target);
                }
            }
            for m in items.iter_mut() {
                let found = groups
                    .remove(&KeyRepr::of(&m.key().to_value()))
                    .unwrap_or_default();
                let any = m
                    .relation_mut(field)
                    .ok_or_else(|| no_relation::<M>(field))?;
                let slot = any.downcast_mut::<ManyToMany<T>>().ok_or_else(|| {
                    Error::Query(format!(
                        "{}.{field} is not a ManyToMany<{}>",
                        M::LABEL,
                        T::LABEL
                    ))
                })?;
                slot.set_loaded(found);
            }
            Ok(())
        })
    }
}

struct ForeignPrefetch<T> {
    field: &'static str,
    _target: std::marker::PhantomData<fn() -> T>,
}

impl<M: Model, T: Model + Clone> Prefetch<M> for ForeignPrefetch<T> {
    fn load<'a>(&'a self, db: &'a Db, items: &'a mut [M]) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut keys = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for m in items.iter_mut() {
                if let Some(k) = foreign_key_of::<M, T>(m, self.field)?
                    && seen.insert(KeyRepr::of(&k))
                {
                    keys.push(k);
                }
            }
            if keys.is_empty() {
                return Ok(());
            }
            let pk = primary_key(T::meta())?;
            let targets = QuerySet::<T>::new()
                .filter_by(Filter::field(
                    pk.name.clone(),
                    Lookup::In(keys.into_iter().map(super::Expr::Value).collect()),
                ))
                .all(db)
                .await?;
            let by_key: HashMap<KeyRepr, T> = targets
                .into_iter()
                .map(|t| (KeyRepr::of(&t.key().to_value()), t))
                .collect();
            for m in items.iter_mut() {
                if let Some(k) = foreign_key_of::<M, T>(m, self.field)?
                    && let Some(t) = by_key.get(&KeyRepr::of(&k))
                {
                    set_foreign(m, self.field, t.clone())?;
                }
            }
            Ok(())
        })
    }
}

/// Children grouped by parent: the reverse side of a foreign key, loaded for many parents with
/// one query (see [`QuerySet::children_of`]).
#[derive(Debug)]
pub struct Children<C> {
    groups: HashMap<KeyRepr, Vec<C>>,
}

impl<C> Children<C> {
    /// The children of `parent` (empty when it has none).
    pub fn of<P: Model>(&self, parent: &P) -> &[C] {
        self.groups
            .get(&KeyRepr::of(&parent.key().to_value()))
            .map_or(&[], Vec::as_slice)
    }

    /// Takes the children of `parent` out.
    pub fn take<P: Model>(&mut self, parent: &P) -> Vec<C> {
        self.groups
            .remove(&KeyRepr::of(&parent.key().to_value()))
            .unwrap_or_default()
    }
}

impl<C: Model> QuerySet<C> {
    /// The matching rows whose foreign key `fk` points at any of `parents`, grouped by parent:
    /// one query (`WHERE fk IN (…)`) for the reverse side of a relation, however many parents.
    pub async fn children_of<F: ForeignKeyField>(
        &self,
        db: &Db,
        fk: Column<C, F>,
        parents: &[F::Target],
    ) -> Result<Children<C>> {
        let mut groups: HashMap<KeyRepr, Vec<C>> = HashMap::new();
        if parents.is_empty() {
            return Ok(Children { groups });
        }
        let keys = parents
            .iter()
            .map(|p| super::Expr::Value(p.key().to_value()))
            .collect();
        let children = self
            .clone()
            .filter_by(Filter::field(fk.name(), Lookup::In(keys)))
            .all(db)
            .await?;
        let at = columns(C::meta())
            .position(|f| f.name == fk.name())
            .ok_or_else(|| Error::Query(format!("{}.{} has no column", C::LABEL, fk.name())))?;
        for child in children {
            let key = child.to_values().swap_remove(at);
            groups.entry(KeyRepr::of(&key)).or_default().push(child);
        }
        Ok(Children { groups })
    }
}

/// `SELECT pk FROM table WHERE column = value` (link lookups).
pub(crate) fn select_column_where(
    table: &str,
    select: &str,
    column: &str,
    value: Value,
) -> SelectStatement {
    let mut sel = SelectStatement::new();
    sel.expr(SqExpr::col(Alias::new(select)))
        .from(Alias::new(table))
        .and_where(SqExpr::col(Alias::new(column)).eq(value));
    sel
}
