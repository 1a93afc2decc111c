//! Writes by query: `UPDATE … SET views = views + 1 WHERE …` and `DELETE … WHERE …`.
//!
//! Like Django's `QuerySet.update()` / `.delete()`, these run one statement for every matching
//! row: they do not call the models' `before_save` / `after_save` hooks nor refresh `auto_now`
//! fields. A delete first refuses with [`Error::Protected`] when rows with
//! `on_delete = protect` point at any of the rows (or at rows the delete would cascade to) —
//! checked when the database has the app's registry ([`Db::set_registry`]); the database's own
//! `RESTRICT` backs it up either way.
//!
//! ```
//! use turbine_orm::backend::Dialect;
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
//! use turbine_orm::query::{Expr, Filter, Query};
//!
//! let post = ModelMeta::new("blog", "Post")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("views", FieldType::I64));
//! let update = Query::new(&post)
//!     .filter(Filter::eq("id", 3i64))
//!     .update()
//!     .set("views", Expr::field("views").add(1i64));
//! assert_eq!(
//!     update.to_statement(Dialect::Postgres).unwrap().sql,
//!     r#"UPDATE "blog_post" SET "views" = "views" + $1 WHERE "id" = $2"#
//! );
//! ```

use std::borrow::Cow;

use sea_query::{Alias, Expr as SqExpr, ExprTrait, SelectStatement};

use super::compile::Scope;
use super::expr::Expr;
use super::select::{Query, primary_key};
use crate::backend::{Dialect, Statement};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::meta::{ModelMeta, OnDelete, RelationKind};

/// A bulk update: the rows of a query, and the fields to set.
#[derive(Debug, Clone)]
#[must_use = "an update does nothing until executed"]
pub struct Update<'m> {
    query: Query<'m>,
    sets: Vec<(Cow<'static, str>, Expr)>,
}

impl<'m> Query<'m> {
    /// A bulk update of the matching rows; add fields with [`Update::set`].
    pub fn update(self) -> Update<'m> {
        Update {
            query: self,
            sets: Vec::new(),
        }
    }

    /// `true` when the rows can only be named through a sub-select of their keys.
    fn needs_key_subselect(&self) -> bool {
        self.limit.is_some() || self.offset.is_some() || self.distinct || !self.joins.is_empty()
    }

    /// `SELECT pk FROM … WHERE …` for the matching rows.
    pub(crate) fn key_select(&self, dialect: Dialect) -> Result<SelectStatement> {
        let (mut sel, scope) = self.base(dialect)?;
        sel.expr(scope.col(primary_key(self.meta)?));
        if self.limit.is_some() || self.offset.is_some() {
            self.finish(&mut sel, &scope)?;
        } else if self.distinct {
            sel.distinct();
        }
        Ok(sel)
    }

    /// The WHERE condition naming the matching rows, unqualified, for UPDATE and DELETE.
    fn write_condition(&self, dialect: Dialect) -> Result<Option<SqExpr>> {
        if self.needs_key_subselect() || self.after.is_some() {
            let pk = primary_key(self.meta)?;
            Ok(Some(
                SqExpr::col(Alias::new(pk.column.as_str())).in_subquery(self.key_select(dialect)?),
            ))
        } else {
            Scope::new(self.meta, dialect).filter(&self.filter)
        }
    }

    /// The DELETE statement of the matching rows.
    pub fn delete_statement(&self, dialect: Dialect) -> Result<Statement> {
        let mut del = sea_query::Query::delete();
        del.from_table(Alias::new(self.meta.table.as_str()));
        if let Some(cond) = self.write_condition(dialect)? {
            del.and_where(cond);
        }
        Ok(dialect.build(&del))
    }

    /// Deletes the matching rows and returns how many were deleted; refuses with
    /// [`Error::Protected`] when protected rows point at any of them.
    pub async fn delete(&self, db: &Db) -> Result<u64> {
        let dialect = db.dialect();
        check_protected(db, self.meta, self.key_select(dialect)?).await?;
        db.execute(&self.delete_statement(dialect)?).await
    }
}

impl Update<'_> {
    /// Sets `field` to `value` (a value, another field, or arithmetic on them).
    pub fn set(mut self, field: impl Into<Cow<'static, str>>, value: impl Into<Expr>) -> Self {
        self.sets.push((field.into(), value.into()));
        self
    }

    /// The UPDATE statement.
    pub fn to_statement(&self, dialect: Dialect) -> Result<Statement> {
        if self.sets.is_empty() {
            return Err(Error::Query(
                "an update needs at least one field to set".into(),
            ));
        }
        let scope = Scope::new(self.query.meta, dialect);
        let mut upd = sea_query::Query::update();
        upd.table(Alias::new(self.query.meta.table.as_str()));
        for (name, expr) in &self.sets {
            let f = scope.field(name)?;
            if f.primary_key {
                return Err(Error::Query(format!(
                    "{}.{name}: bulk updates do not change primary keys",
                    self.query.meta.label()
                )));
            }
            upd.value(
                Alias::new(f.column.as_str()),
                scope.expr(expr, Some(&f.ty))?,
            );
        }
        if let Some(cond) = self.query.write_condition(dialect)? {
            upd.and_where(cond);
        }
        Ok(dialect.build(&upd))
    }

    /// Runs the update and returns how many rows it changed.
    pub async fn execute(&self, db: &Db) -> Result<u64> {
        db.execute(&self.to_statement(db.dialect())?).await
    }
}

/// Refuses with [`Error::Protected`] when rows with `on_delete = protect` point at the rows of
/// `model` that `keys` selects, or at rows deleting them would cascade to. Needs the registry on
/// `db` to know who points at what; without it the database's `RESTRICT` is the only guard.
pub(crate) async fn check_protected(
    db: &Db,
    model: &ModelMeta,
    keys: SelectStatement,
) -> Result<()> {
    let Some(registry) = db.registry() else {
        return Ok(());
    };
    let dialect = db.dialect();
    let mut by = Vec::new();
    // (model, the select of its doomed keys, depth): cascades followed a few levels deep.
    let mut pending = vec![(model, keys, 0usize)];
    let mut seen = Vec::new();
    while let Some((target, doomed, depth)) = pending.pop() {
        for (referrer, field) in registry.related(&target.label()) {
            let Some(rel) = &field.relation else { continue };
            if rel.kind == RelationKind::ManyToMany {
                continue;
            }
            let column = SqExpr::col(Alias::new(field.column.as_str()));
            match rel.on_delete {
                OnDelete::Protect => {
                    let mut probe = SelectStatement::new();
                    probe
                        .expr(SqExpr::cust("1"))
                        .from(Alias::new(referrer.table.as_str()))
                        .and_where(column.in_subquery(doomed.clone()))
                        .limit(1);
                    if !db.fetch(&dialect.build(&probe)).await?.is_empty() {
                        by.push(format!("{}.{}", referrer.label(), field.name));
                    }
                }
                OnDelete::Cascade if depth < 4 => {
                    let key = (referrer.label(), field.name.clone());
                    if seen.contains(&key) {
                        continue;
                    }
                    seen.push(key);
                    let pk = primary_key(referrer)?;
                    let mut next = SelectStatement::new();
                    next.expr(SqExpr::col(Alias::new(pk.column.as_str())))
                        .from(Alias::new(referrer.table.as_str()))
                        .and_where(column.in_subquery(doomed.clone()));
                    pending.push((referrer, next, depth + 1));
                }
                _ => {}
            }
        }
    }
    if by.is_empty() {
        Ok(())
    } else {
        Err(Error::Protected {
            model: model.label(),
            by,
        })
    }
}
