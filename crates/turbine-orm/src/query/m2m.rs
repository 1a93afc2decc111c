//! Many-to-many relations: the links live in a join model (the automatic `app.<Model>_<field>`,
//! or the field's explicit `through` model). [`M2mLink`] is the untyped handle over a join
//! model; [`ManyToManyManager`] is the typed one (`post.m2m(Post::TAGS).add(&db, &[&rust])`).
//!
//! Adding links skips the ones that exist; an explicit `through` model with more required
//! fields needs its rows created as models instead. Link changes do not run save hooks.
//!
//! ```
//! use turbine_orm::backend::Dialect;
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
//! use turbine_orm::query::M2mLink;
//!
//! let post = ModelMeta::new("blog", "Post")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::many_to_many("tags", "blog.Tag"));
//! let link = M2mLink::automatic(&post, "tags").unwrap();
//! assert_eq!(link.table(), "blog_post_tags");
//! assert_eq!((link.source_column(), link.target_column()), ("post_id", "tag_id"));
//! ```

use std::marker::PhantomData;

use sea_query::{Alias, Expr as SqExpr, ExprTrait, JoinType, OnConflict, SelectStatement};

use super::compile::Scope;
use super::eager::{KeyRepr, select_column_where};
use super::filter::{Filter, Lookup, Target};
use super::order::OrderBy;
use super::queryset::QuerySet;
use super::select::{columns, primary_key};
use crate::backend::Dialect;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::meta::{ModelMeta, RelationKind, join_model};
use crate::model::{Column, ManyToMany, Model};
use crate::value::{FieldValue, Value};

/// A many-to-many field's join table: which column holds the source row's key and which the
/// target's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct M2mLink {
    table: String,
    source: String,
    target: String,
    target_model: String,
}

fn m2m_field<'m>(meta: &'m ModelMeta, field: &str) -> Result<&'m crate::meta::Relation> {
    meta.field_named(field)
        .and_then(|f| f.relation.as_ref())
        .filter(|r| r.kind == RelationKind::ManyToMany)
        .ok_or_else(|| {
            Error::Query(format!(
                "{}.{field} is not a many-to-many field",
                meta.label()
            ))
        })
}

impl M2mLink {
    /// The link of an automatic join model (no `through`), derived from the field alone.
    pub fn automatic(meta: &ModelMeta, field: &str) -> Result<Self> {
        let rel = m2m_field(meta, field)?;
        let join = join_model(
            &meta.app,
            &meta.name,
            &meta.table,
            &meta.label(),
            field,
            &rel.to,
        );
        Self::from_join(meta, &rel.to, &join)
    }

    /// The link of `meta.field`: the registry on `db` names the join model when there is one;
    /// without a registry only automatic join models are known.
    pub fn resolve(db: &Db, meta: &ModelMeta, field: &str) -> Result<Self> {
        let rel = m2m_field(meta, field)?;
        let registry = db.registry();
        let through = registry
            .and_then(|r| r.get(&meta.label()))
            .and_then(|m| m.field_named(field))
            .and_then(|f| f.relation.as_ref())
            .and_then(|r| r.through.clone())
            .or_else(|| rel.through.clone());
        match (through, registry) {
            (Some(label), Some(registry)) => {
                let join = registry.get(&label).ok_or_else(|| {
                    Error::Query(format!("the through model {label} is not registered"))
                })?;
                Self::from_join(meta, &rel.to, join)
            }
            (None, _) => Self::automatic(meta, field),
            (Some(label), None) => Err(Error::Config(format!(
                "{}.{field} goes through {label}: give the database the model registry \
                 (Db::set_registry) so the ORM can find it",
                meta.label()
            ))),
        }
    }

    fn from_join(meta: &ModelMeta, to: &str, join: &ModelMeta) -> Result<Self> {
        let label = meta.label();
        let fks = || {
            join.fields.iter().filter(|f| {
                f.relation
                    .as_ref()
                    .is_some_and(|r| r.kind != RelationKind::ManyToMany)
            })
        };
        let source = fks()
            .find(|f| f.relation.as_ref().is_some_and(|r| r.to == label))
            .ok_or_else(|| {
                Error::Query(format!("{} has no foreign key to {label}", join.label()))
            })?;
        let target = fks()
            .find(|f| f.name != source.name && f.relation.as_ref().is_some_and(|r| r.to == to))
            .ok_or_else(|| Error::Query(format!("{} has no foreign key to {to}", join.label())))?;
        Ok(Self {
            table: join.table.clone(),
            source: source.column.clone(),
            target: target.column.clone(),
            target_model: to.to_owned(),
        })
    }

    /// The join table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The column holding the source row's key.
    pub fn source_column(&self) -> &str {
        &self.source
    }

    /// The column holding the target row's key.
    pub fn target_column(&self) -> &str {
        &self.target
    }

    /// The targets of every source in `sources`, each row followed by its source key (for
    /// prefetching), in the target's default ordering.
    pub(crate) fn targets_of(
        &self,
        dialect: Dialect,
        target: &ModelMeta,
        sources: Vec<Value>,
    ) -> Result<SelectStatement> {
        let scope = Scope::qualified(target, target.table.clone(), dialect);
        let pk = primary_key(target)?;
        let mut sel = SelectStatement::new();
        for f in columns(target) {
            sel.expr(scope.col(f));
        }
        sel.expr(SqExpr::col((
            Alias::new(self.table.as_str()),
            Alias::new(self.source.as_str()),
        )))
        .from(Alias::new(target.table.as_str()))
        .join(
            JoinType::InnerJoin,
            Alias::new(self.table.as_str()),
            SqExpr::col((
                Alias::new(self.table.as_str()),
                Alias::new(self.target.as_str()),
            ))
            .equals((
                Alias::new(target.table.as_str()),
                Alias::new(pk.column.as_str()),
            )),
        )
        .and_where(
            SqExpr::col((
                Alias::new(self.table.as_str()),
                Alias::new(self.source.as_str()),
            ))
            .is_in(sources.into_iter().map(SqExpr::val)),
        );
        for key in &target.ordering {
            scope.order(&mut sel, &OrderBy::from(key))?;
        }
        Ok(sel)
    }

    /// The filter, on the target model, of the targets linked to `source`.
    pub fn targets_filter(&self, target: &ModelMeta, source: Value) -> Result<Filter> {
        let pk = primary_key(target)?;
        Ok(Filter::new(
            Target::Field(pk.name.clone().into()),
            Lookup::InSelect(Box::new(select_column_where(
                &self.table,
                &self.target,
                &self.source,
                source,
            ))),
        ))
    }

    /// The keys of the targets linked to `source`.
    pub async fn target_keys(&self, db: &Db, source: Value) -> Result<Vec<Value>> {
        let sel = select_column_where(&self.table, &self.target, &self.source, source);
        let rows = db.fetch(&db.dialect().build(&sel)).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.into_values().into_iter().next())
            .collect())
    }

    /// Links `source` to each of `targets` (existing links are kept, not duplicated).
    pub async fn add(&self, db: &Db, source: Value, targets: Vec<Value>) -> Result<()> {
        if targets.is_empty() {
            return Ok(());
        }
        let existing: Vec<KeyRepr> = self
            .target_keys(db, source.clone())
            .await?
            .iter()
            .map(KeyRepr::of)
            .collect();
        let mut seen = existing;
        let mut insert = sea_query::Query::insert();
        insert
            .into_table(Alias::new(self.table.as_str()))
            .columns([
                Alias::new(self.source.as_str()),
                Alias::new(self.target.as_str()),
            ])
            .on_conflict(OnConflict::new().do_nothing().to_owned());
        let mut any = false;
        for t in targets {
            let repr = KeyRepr::of(&t);
            if seen.contains(&repr) {
                continue;
            }
            seen.push(repr);
            insert
                .values([SqExpr::val(source.clone()), SqExpr::val(t)])
                .map_err(|e| Error::Query(e.to_string()))?;
            any = true;
        }
        if any {
            db.execute(&db.dialect().build(&insert)).await?;
        }
        Ok(())
    }

    /// Unlinks `source` from each of `targets`; returns how many links were removed.
    pub async fn remove(&self, db: &Db, source: Value, targets: Vec<Value>) -> Result<u64> {
        if targets.is_empty() {
            return Ok(0);
        }
        let mut del = sea_query::Query::delete();
        del.from_table(Alias::new(self.table.as_str()))
            .and_where(SqExpr::col(Alias::new(self.source.as_str())).eq(source))
            .and_where(
                SqExpr::col(Alias::new(self.target.as_str()))
                    .is_in(targets.into_iter().map(SqExpr::val)),
            );
        db.execute(&db.dialect().build(&del)).await
    }

    /// Removes every link of `source`.
    pub async fn clear(&self, db: &Db, source: Value) -> Result<u64> {
        let mut del = sea_query::Query::delete();
        del.from_table(Alias::new(self.table.as_str()))
            .and_where(SqExpr::col(Alias::new(self.source.as_str())).eq(source));
        db.execute(&db.dialect().build(&del)).await
    }

    /// Makes `targets` exactly the targets of `source` (in a transaction).
    pub async fn set(&self, db: &Db, source: Value, targets: Vec<Value>) -> Result<()> {
        let link = self.clone();
        db.transaction(|tx| async move {
            let wanted: Vec<KeyRepr> = targets.iter().map(KeyRepr::of).collect();
            let stale: Vec<Value> = link
                .target_keys(&tx, source.clone())
                .await?
                .into_iter()
                .filter(|k| !wanted.contains(&KeyRepr::of(k)))
                .collect();
            link.remove(&tx, source.clone(), stale).await?;
            link.add(&tx, source, targets).await
        })
        .await
    }

    /// The target model's label.
    pub fn target_model(&self) -> &str {
        &self.target_model
    }
}

/// The typed manager of one row's many-to-many field: `ManyToManyManager::new(&post,
/// Post::TAGS)` or `post.m2m(Post::TAGS)`.
#[derive(Debug)]
pub struct ManyToManyManager<M, T> {
    source: Value,
    field: &'static str,
    _types: PhantomData<fn() -> (M, T)>,
}

impl<M: Model, T: Model> ManyToManyManager<M, T> {
    /// The manager of `model`'s field `column`.
    pub fn new(model: &M, column: Column<M, ManyToMany<T>>) -> Self {
        Self {
            source: model.key().to_value(),
            field: column.name(),
            _types: PhantomData,
        }
    }

    fn link(&self, db: &Db) -> Result<M2mLink> {
        M2mLink::resolve(db, M::meta(), self.field)
    }

    fn keys(targets: &[&T]) -> Vec<Value> {
        targets.iter().map(|t| t.key().to_value()).collect()
    }

    /// The linked models, as a query to refine.
    pub fn query(&self, db: &Db) -> Result<QuerySet<T>> {
        let filter = self
            .link(db)?
            .targets_filter(T::meta(), self.source.clone())?;
        Ok(QuerySet::new().filter_by(filter))
    }

    /// Every linked model.
    pub async fn all(&self, db: &Db) -> Result<Vec<T>> {
        self.query(db)?.all(db).await
    }

    /// Links these models (existing links are kept).
    pub async fn add(&self, db: &Db, targets: &[&T]) -> Result<()> {
        self.link(db)?
            .add(db, self.source.clone(), Self::keys(targets))
            .await
    }

    /// Links the models with these keys.
    pub async fn add_keys(&self, db: &Db, keys: impl IntoIterator<Item = T::Key>) -> Result<()> {
        let keys = keys.into_iter().map(|k| k.to_value()).collect();
        self.link(db)?.add(db, self.source.clone(), keys).await
    }

    /// Unlinks these models; returns how many links were removed.
    pub async fn remove(&self, db: &Db, targets: &[&T]) -> Result<u64> {
        self.link(db)?
            .remove(db, self.source.clone(), Self::keys(targets))
            .await
    }

    /// Makes these models exactly the linked ones.
    pub async fn set(&self, db: &Db, targets: &[&T]) -> Result<()> {
        self.link(db)?
            .set(db, self.source.clone(), Self::keys(targets))
            .await
    }

    /// Removes every link.
    pub async fn clear(&self, db: &Db) -> Result<u64> {
        self.link(db)?.clear(db, self.source.clone()).await
    }
}
