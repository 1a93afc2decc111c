//! Running aggregates: over the whole query ([`Query::aggregate`]) or per group
//! ([`Query::group_by`] → [`Grouped`]).
//!
//! ```
//! use turbine_orm::backend::Dialect;
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
//! use turbine_orm::query::{AggFunc, Aggregate, Expr, Filter, Lookup, Query, Target};
//!
//! let post = ModelMeta::new("blog", "Post")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("author", FieldType::Text))
//!     .field(FieldMeta::new("views", FieldType::I64));
//! let total = Aggregate::new(AggFunc::Sum, Some("views")).alias("total");
//! let grouped = Query::new(&post)
//!     .group_by(["author"])
//!     .annotate([total.clone()])
//!     .having(Filter::new(Target::Aggregate(total), Lookup::Gt(Expr::value(100i64))));
//! assert_eq!(
//!     grouped.to_statement(Dialect::Sqlite).unwrap().sql,
//!     r#"SELECT "author", SUM("views") AS "total" FROM "blog_post" GROUP BY "author" HAVING SUM("views") > ?"#
//! );
//! ```

use std::borrow::Cow;

use sea_query::{Alias, Expr as SqExpr, Order, SelectStatement};

use super::aggregate::Aggregate;
use super::filter::Filter;
use super::order::OrderBy;
use super::select::Query;
use crate::backend::{Dialect, Statement};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::value::Row;

impl<'m> Query<'m> {
    /// The statement computing `aggregates` over the matching rows (over a sub-select when the
    /// query has a limit, an offset or is distinct).
    pub fn aggregate_statement(
        &self,
        dialect: Dialect,
        aggregates: &[Aggregate],
    ) -> Result<Statement> {
        if aggregates.is_empty() {
            return Err(Error::Query(
                "aggregate() needs at least one aggregate".into(),
            ));
        }
        let mut sel: SelectStatement;
        if self.limit.is_some() || self.offset.is_some() || self.distinct {
            let mut inner = self.select(dialect)?;
            if self.limit.is_none() && self.offset.is_none() {
                inner.clear_order_by();
            }
            sel = SelectStatement::new();
            sel.from_subquery(inner, Alias::new("sub"));
            // The sub-select's columns are named like the model's: aggregate over them.
            let scope = super::compile::Scope::new(self.meta, dialect);
            for a in aggregates {
                sel.expr_as(scope.aggregate(a)?, Alias::new(a.alias.as_ref()));
            }
        } else {
            let (base, scope) = self.base(dialect)?;
            sel = base;
            for a in aggregates {
                sel.expr_as(scope.aggregate(a)?, Alias::new(a.alias.as_ref()));
            }
        }
        Ok(dialect.build(&sel))
    }

    /// Computes aggregates over the matching rows: one row, columns named by the aliases.
    pub async fn aggregate(&self, db: &Db, aggregates: &[Aggregate]) -> Result<Row> {
        let stmt = self.aggregate_statement(db.dialect(), aggregates)?;
        db.fetch(&stmt)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Query("the aggregate query returned no row".into()))
    }

    /// Groups the matching rows by these fields; add aggregates with [`Grouped::annotate`].
    pub fn group_by<S: Into<Cow<'static, str>>>(
        self,
        fields: impl IntoIterator<Item = S>,
    ) -> Grouped<'m> {
        Grouped {
            query: self,
            fields: fields.into_iter().map(Into::into).collect(),
            annotations: Vec::new(),
            having: Filter::All,
            order: Vec::new(),
        }
    }
}

/// A grouped query: one row per distinct value of the group fields, with aggregates.
#[derive(Debug, Clone)]
#[must_use = "a grouped query does nothing until fetched"]
pub struct Grouped<'m> {
    query: Query<'m>,
    fields: Vec<Cow<'static, str>>,
    annotations: Vec<Aggregate>,
    having: Filter,
    order: Vec<OrderBy>,
}

impl Grouped<'_> {
    /// Adds aggregates, computed per group, named by their aliases.
    pub fn annotate(mut self, aggregates: impl IntoIterator<Item = impl Into<Aggregate>>) -> Self {
        self.annotations
            .extend(aggregates.into_iter().map(Into::into));
        self
    }

    /// Keeps the groups matching `filter` (conditions on aggregates, or on the group fields).
    pub fn having(mut self, filter: impl Into<Filter>) -> Self {
        self.having = std::mem::take(&mut self.having).and(filter.into());
        self
    }

    /// Sorts the groups by group fields or annotation aliases (replacing the model's ordering,
    /// which does not apply to groups).
    pub fn order_by(mut self, keys: impl IntoIterator<Item = OrderBy>) -> Self {
        self.order = keys.into_iter().collect();
        self
    }

    /// The statement.
    pub fn to_statement(&self, dialect: Dialect) -> Result<Statement> {
        let (mut sel, scope) = self.query.base(dialect)?;
        for name in &self.fields {
            let f = scope.field(name)?;
            if f.column == f.name {
                sel.expr(scope.col(f));
            } else {
                sel.expr_as(scope.col(f), Alias::new(f.name.as_str()));
            }
            sel.add_group_by([scope.col(f)]);
        }
        for a in &self.annotations {
            sel.expr_as(scope.aggregate(a)?, Alias::new(a.alias.as_ref()));
        }
        if let Some(cond) = scope.filter(&self.having)? {
            sel.and_having(cond);
        }
        for key in &self.order {
            let order = if key.descending {
                Order::Desc
            } else {
                Order::Asc
            };
            if self.annotations.iter().any(|a| a.alias == key.field) {
                sel.order_by_expr(SqExpr::col(Alias::new(key.field.as_ref())), order);
            } else {
                scope.order(&mut sel, key)?;
            }
        }
        match (self.query.limit, self.query.offset) {
            (Some(n), _) => {
                sel.limit(n);
            }
            // SQLite needs a LIMIT before an OFFSET.
            (None, Some(_)) if dialect == Dialect::Sqlite => {
                sel.limit(i64::MAX as u64);
            }
            _ => {}
        }
        if let Some(n) = self.query.offset {
            sel.offset(n);
        }
        Ok(dialect.build(&sel))
    }

    /// The groups.
    pub async fn fetch(&self, db: &Db) -> Result<Vec<Row>> {
        db.fetch(&self.to_statement(db.dialect())?).await
    }
}
