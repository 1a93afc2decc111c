//! [`Query`]: the untyped query over one model's metadata — filter, order, limit, distinct, joins
//! — and its read terminals returning [`Row`]s. The typed [`QuerySet`](super::QuerySet) is a
//! thin layer over it; runtime-defined models use it directly.
//!
//! ```
//! use turbine_orm::backend::Dialect;
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
//! use turbine_orm::query::{Filter, Lookup, OrderBy, Query};
//!
//! let note = ModelMeta::new("app", "Note")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("body", FieldType::Text));
//! let q = Query::new(&note)
//!     .filter(Filter::parse_lookup(&note, "body__icontains", "rust").unwrap())
//!     .order_by([OrderBy::parse("-id")])
//!     .limit(10);
//! let stmt = q.to_statement(Dialect::Postgres).unwrap();
//! assert_eq!(
//!     stmt.sql,
//!     r#"SELECT "id", "body" FROM "app_note" WHERE "body" ILIKE $1 ESCAPE '!' ORDER BY "id" DESC LIMIT $2"#
//! );
//! ```

use sea_query::{Alias, Asterisk, Expr as SqExpr, ExprTrait, JoinType, SelectStatement};

use super::compile::Scope;
use super::filter::Filter;
use super::order::OrderBy;
use crate::backend::{Dialect, Statement};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::meta::{FieldMeta, ModelMeta, RelationKind};
use crate::value::Row;

/// A model joined into a query (`select_related`): its columns follow the main model's,
/// named `<field>__<column>`.
#[derive(Debug, Clone)]
pub(crate) struct Join<'m> {
    /// The foreign key field of the main model.
    pub(crate) field: &'m FieldMeta,
    /// The model it points at.
    pub(crate) target: &'m ModelMeta,
}

/// An untyped query over the rows of one model.
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until a terminal (fetch, count…) runs it"]
pub struct Query<'m> {
    pub(crate) meta: &'m ModelMeta,
    pub(crate) filter: Filter,
    pub(crate) order: Option<Vec<OrderBy>>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    pub(crate) distinct: bool,
    pub(crate) for_update: bool,
    pub(crate) joins: Vec<Join<'m>>,
    /// Keyset pagination: the sort-key values rows must come after.
    pub(crate) after: Option<Vec<crate::value::Value>>,
    /// Order by the keyset (the ordering plus the primary key).
    pub(crate) keyset_order: bool,
}

/// The column fields of a model, in the order models read and write them.
pub(crate) fn columns(meta: &ModelMeta) -> impl Iterator<Item = &FieldMeta> {
    meta.fields.iter().filter(|f| f.has_column())
}

/// The primary key of a model, or an error naming it.
pub(crate) fn primary_key(meta: &ModelMeta) -> Result<&FieldMeta> {
    meta.primary_key()
        .ok_or_else(|| Error::Query(format!("{} has no primary key", meta.label())))
}

impl<'m> Query<'m> {
    /// Every row of the model, in its default ordering.
    pub fn new(meta: &'m ModelMeta) -> Self {
        Self {
            meta,
            filter: Filter::All,
            order: None,
            limit: None,
            offset: None,
            distinct: false,
            for_update: false,
            joins: Vec::new(),
            after: None,
            keyset_order: false,
        }
    }

    /// The model.
    pub fn meta(&self) -> &'m ModelMeta {
        self.meta
    }

    /// The filter so far.
    pub fn filter_ref(&self) -> &Filter {
        &self.filter
    }

    /// Keeps the rows that also match `filter`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = std::mem::take(&mut self.filter).and(filter);
        self
    }

    /// Sorts by these keys (replacing the model's default ordering; an empty list leaves the
    /// rows unordered).
    pub fn order_by(mut self, keys: impl IntoIterator<Item = OrderBy>) -> Self {
        self.order = Some(keys.into_iter().collect());
        self
    }

    /// The sort keys in effect: the explicit ones, else the model's default ordering.
    pub fn ordering(&self) -> Vec<OrderBy> {
        match &self.order {
            Some(keys) => keys.clone(),
            None => self.meta.ordering.iter().map(OrderBy::from).collect(),
        }
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    /// Drops duplicate rows (`SELECT DISTINCT`).
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }

    /// Locks the selected rows until the transaction ends (`FOR UPDATE` on Postgres; SQLite
    /// write transactions already hold the database lock).
    pub fn for_update(mut self) -> Self {
        self.for_update = true;
        self
    }

    /// Joins the model the foreign key `field` points at (`target`), whose columns then follow
    /// the main model's in each row as `<field>__<column>`.
    pub fn select_related(mut self, field: &str, target: &'m ModelMeta) -> Result<Self> {
        let f = self
            .meta
            .fields
            .iter()
            .find(|f| f.name == field)
            .ok_or_else(|| Error::Query(super::compile::unknown_field(self.meta, field)))?;
        match &f.relation {
            Some(r) if r.kind != RelationKind::ManyToMany && r.to == target.label() => {}
            _ => {
                return Err(Error::Query(format!(
                    "{}.{field} is not a foreign key to {}",
                    self.meta.label(),
                    target.label()
                )));
            }
        }
        self.joins.push(Join { field: f, target });
        Ok(self)
    }

    /// [`select_related`](Self::select_related), finding the target model in `registry`.
    pub fn select_related_in(
        self,
        registry: &'m crate::meta::Registry,
        field: &str,
    ) -> Result<Self> {
        let to = self
            .meta
            .field_named(field)
            .and_then(|f| f.relation.as_ref())
            .map(|r| r.to.clone())
            .ok_or_else(|| {
                Error::Query(format!("{}.{field} is not a relation", self.meta.label()))
            })?;
        let target = registry
            .get(&to)
            .ok_or_else(|| Error::Query(format!("model {to} is not registered")))?;
        self.select_related(field, target)
    }

    fn join_alias(field: &FieldMeta) -> String {
        format!("j_{}", field.name)
    }

    /// The scope that names the main model's columns (qualified when there are joins).
    pub(crate) fn scope(&self, dialect: Dialect) -> Scope<'m> {
        if self.joins.is_empty() {
            Scope::new(self.meta, dialect)
        } else {
            Scope::qualified(self.meta, self.meta.table.clone(), dialect)
        }
    }

    /// FROM, joins, WHERE (no columns, order or limit).
    pub(crate) fn base(&self, dialect: Dialect) -> Result<(SelectStatement, Scope<'m>)> {
        let scope = self.scope(dialect);
        let mut sel = SelectStatement::new();
        sel.from(Alias::new(self.meta.table.as_str()));
        for join in &self.joins {
            let alias = Self::join_alias(join.field);
            let target_pk = primary_key(join.target)?;
            let on = SqExpr::col((
                Alias::new(alias.as_str()),
                Alias::new(target_pk.column.as_str()),
            ))
            .equals((
                Alias::new(self.meta.table.as_str()),
                Alias::new(join.field.column.as_str()),
            ));
            let kind = if join.field.nullable {
                JoinType::LeftJoin
            } else {
                JoinType::InnerJoin
            };
            sel.join_as(
                kind,
                Alias::new(join.target.table.as_str()),
                Alias::new(alias.as_str()),
                on,
            );
        }
        if let Some(cond) = scope.filter(&self.filter)? {
            sel.and_where(cond);
        }
        if self.after.is_some()
            && let Some(cond) = scope.filter(&self.keyset_filter(dialect)?)?
        {
            sel.and_where(cond);
        }
        Ok((sel, scope))
    }

    /// Adds ORDER BY, LIMIT, OFFSET, DISTINCT and the lock.
    pub(crate) fn finish(&self, sel: &mut SelectStatement, scope: &Scope<'_>) -> Result<()> {
        if self.keyset_order {
            for key in &self.keyset()? {
                scope.order(sel, key)?;
            }
        } else {
            match &self.order {
                Some(keys) => {
                    for key in keys {
                        scope.order(sel, key)?;
                    }
                }
                None => {
                    for key in &self.meta.ordering {
                        scope.order(sel, &OrderBy::from(key))?;
                    }
                }
            }
        }
        match (self.limit, self.offset) {
            (Some(n), _) => {
                sel.limit(n);
            }
            // SQLite needs a LIMIT before an OFFSET.
            (None, Some(_)) if scope.dialect == Dialect::Sqlite => {
                sel.limit(i64::MAX as u64);
            }
            _ => {}
        }
        if let Some(n) = self.offset {
            sel.offset(n);
        }
        if self.distinct {
            sel.distinct();
        }
        if self.for_update && scope.dialect == Dialect::Postgres {
            sel.lock_exclusive();
        }
        Ok(())
    }

    /// The full SELECT of the model's columns (then joined models' columns).
    pub(crate) fn select(&self, dialect: Dialect) -> Result<SelectStatement> {
        let (mut sel, scope) = self.base(dialect)?;
        for f in columns(self.meta) {
            sel.expr(scope.col(f));
        }
        for join in &self.joins {
            let alias = Self::join_alias(join.field);
            for f in columns(join.target) {
                sel.expr_as(
                    SqExpr::col((Alias::new(alias.as_str()), Alias::new(f.column.as_str()))),
                    Alias::new(format!("{}__{}", join.field.name, f.column)),
                );
            }
        }
        self.finish(&mut sel, &scope)?;
        Ok(sel)
    }

    /// The SQL and values this query runs as.
    pub fn to_statement(&self, dialect: Dialect) -> Result<Statement> {
        Ok(dialect.build(&self.select(dialect)?))
    }

    /// The matching rows.
    pub async fn fetch(&self, db: &Db) -> Result<Vec<Row>> {
        let stmt = self.to_statement(db.dialect())?;
        db.fetch(&stmt).await
    }

    /// The first matching row, if any.
    pub async fn fetch_first(&self, db: &Db) -> Result<Option<Row>> {
        let stmt = self.clone().limit(1).to_statement(db.dialect())?;
        Ok(db.fetch(&stmt).await?.into_iter().next())
    }

    /// Only these fields of the matching rows (a projection), named by field name.
    pub async fn values(&self, db: &Db, fields: &[&str]) -> Result<Vec<Row>> {
        let dialect = db.dialect();
        let (mut sel, scope) = self.base(dialect)?;
        for name in fields {
            let f = scope.field(name)?;
            if f.column == f.name {
                sel.expr(scope.col(f));
            } else {
                sel.expr_as(scope.col(f), Alias::new(f.name.as_str()));
            }
        }
        self.finish(&mut sel, &scope)?;
        db.fetch(&dialect.build(&sel)).await
    }

    /// `SELECT COUNT(*)`-style statement of this query.
    pub(crate) fn count_statement(&self, dialect: Dialect) -> Result<SelectStatement> {
        if self.distinct || self.limit.is_some() || self.offset.is_some() {
            let mut inner = self.select(dialect)?;
            inner.clear_order_by();
            let mut outer = SelectStatement::new();
            outer
                .expr(SqExpr::col(Asterisk).count())
                .from_subquery(inner, Alias::new("counted"));
            Ok(outer)
        } else {
            let (mut sel, _) = self.base(dialect)?;
            sel.expr(SqExpr::col(Asterisk).count());
            Ok(sel)
        }
    }

    /// How many rows match.
    pub async fn count(&self, db: &Db) -> Result<u64> {
        let stmt = db.dialect().build(&self.count_statement(db.dialect())?);
        let row = db.fetch(&stmt).await?.into_iter().next();
        let n: i64 = match row {
            Some(row) => row.into_fields().next()?,
            None => 0,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// How many rows match, counting no further than `limit` (`SELECT COUNT(*) FROM (… LIMIT
    /// n)`): the cost stays bounded on huge tables. `Ok(n)` with `n < limit` is exact; `limit`
    /// means "at least that many".
    pub async fn count_upto(&self, db: &Db, limit: u64) -> Result<u64> {
        let mut q = self.clone();
        q.limit = Some(limit);
        q.offset = None;
        q.count(db).await
    }

    /// `true` when at least one row matches (`SELECT 1 … LIMIT 1`).
    pub async fn exists(&self, db: &Db) -> Result<bool> {
        let dialect = db.dialect();
        let (mut sel, _) = self.base(dialect)?;
        sel.expr(SqExpr::cust("1")).limit(1);
        if let Some(n) = self.offset {
            sel.offset(n);
        }
        Ok(!db.fetch(&dialect.build(&sel)).await?.is_empty())
    }
}
