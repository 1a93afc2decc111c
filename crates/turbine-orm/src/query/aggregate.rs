//! Aggregates: `count`, `sum`, `avg`, `min`, `max` over a query, or per group with
//! `group_by(…).annotate(…).having(…)`.
//!
//! Results come back as [`Row`](crate::Row)s named by each aggregate's alias (Django's
//! `<field>__<function>` unless set with [`Aggregate::alias`]). Sums of integer fields are
//! integers and averages are floating point on both backends.
//!
//! ```
//! use turbine_orm::query::{AggFunc, Aggregate};
//!
//! let total = Aggregate::new(AggFunc::Sum, Some("views"));
//! assert_eq!(total.alias, "views__sum");
//! assert_eq!(Aggregate::count_all().alias, "count");
//! ```

use std::borrow::Cow;
use std::marker::PhantomData;

use super::expr::Numeric;
use super::filter::{Filter, Lookup, Q, Target};
use crate::model::Column;

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    /// Number of rows (or of non-NULL values of a field).
    Count,
    /// Sum.
    Sum,
    /// Average.
    Avg,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
}

impl AggFunc {
    /// The function's name in aliases: `count`, `sum`…
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
        }
    }
}

/// An untyped aggregate over a field (or over rows, for `COUNT(*)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// The function.
    pub func: AggFunc,
    /// The field; `None` counts rows.
    pub field: Option<Cow<'static, str>>,
    /// Over distinct values only.
    pub distinct: bool,
    /// The result column's name.
    pub alias: Cow<'static, str>,
}

impl Aggregate {
    /// `func(field)`, aliased `<field>__<func>`.
    pub fn new(func: AggFunc, field: Option<impl Into<Cow<'static, str>>>) -> Self {
        let field = field.map(Into::into);
        let alias = match &field {
            Some(f) => Cow::Owned(format!("{f}__{}", func.name())),
            None => Cow::Borrowed(func.name()),
        };
        Self {
            func,
            field,
            distinct: false,
            alias,
        }
    }

    /// `COUNT(*)`, aliased `count`.
    pub fn count_all() -> Self {
        Self::new(AggFunc::Count, None::<&'static str>)
    }

    /// Over distinct values.
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }

    /// Names the result column.
    pub fn alias(mut self, alias: impl Into<Cow<'static, str>>) -> Self {
        self.alias = alias.into();
        self
    }
}

/// An aggregate over model `M` (`Post::VIEWS.sum()`); usable in `aggregate`, `annotate`, and
/// compared in `having` (`Post::VIEWS.sum().gt(100)`).
pub struct Agg<M> {
    agg: Aggregate,
    _model: PhantomData<fn() -> M>,
}

impl<M> Agg<M> {
    fn wrap(agg: Aggregate) -> Self {
        Self {
            agg,
            _model: PhantomData,
        }
    }

    /// `COUNT(*)`.
    pub fn count_all() -> Self {
        Self::wrap(Aggregate::count_all())
    }

    /// Names the result column.
    pub fn alias(self, alias: impl Into<Cow<'static, str>>) -> Self {
        Self::wrap(self.agg.alias(alias))
    }

    /// The untyped aggregate.
    pub fn into_aggregate(self) -> Aggregate {
        self.agg
    }

    fn cmp(self, lookup: impl FnOnce(super::Expr) -> Lookup, v: impl Into<super::Expr>) -> Q<M> {
        Q::from_filter(Filter::new(Target::Aggregate(self.agg), lookup(v.into())))
    }

    /// `aggregate = value`, for `having`.
    pub fn eq(self, v: impl Into<super::Expr>) -> Q<M> {
        self.cmp(Lookup::Eq, v)
    }
    /// `aggregate > value`.
    pub fn gt(self, v: impl Into<super::Expr>) -> Q<M> {
        self.cmp(Lookup::Gt, v)
    }
    /// `aggregate >= value`.
    pub fn gte(self, v: impl Into<super::Expr>) -> Q<M> {
        self.cmp(Lookup::Gte, v)
    }
    /// `aggregate < value`.
    pub fn lt(self, v: impl Into<super::Expr>) -> Q<M> {
        self.cmp(Lookup::Lt, v)
    }
    /// `aggregate <= value`.
    pub fn lte(self, v: impl Into<super::Expr>) -> Q<M> {
        self.cmp(Lookup::Lte, v)
    }
}

impl<M> Clone for Agg<M> {
    fn clone(&self) -> Self {
        Self::wrap(self.agg.clone())
    }
}

impl<M> std::fmt::Debug for Agg<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.agg.fmt(f)
    }
}

impl<M> From<Agg<M>> for Aggregate {
    fn from(a: Agg<M>) -> Self {
        a.agg
    }
}

impl<M, T> Column<M, T> {
    fn agg(self, func: AggFunc) -> Agg<M> {
        Agg::wrap(Aggregate::new(func, Some(self.name())))
    }

    /// `COUNT(column)`: rows where the column is not NULL.
    pub fn count(self) -> Agg<M> {
        self.agg(AggFunc::Count)
    }

    /// `COUNT(DISTINCT column)`.
    pub fn count_distinct(self) -> Agg<M> {
        let mut a = self.agg(AggFunc::Count);
        a.agg.distinct = true;
        a.agg.alias = Cow::Owned(format!("{}__count_distinct", self.name()));
        a
    }

    /// `MIN(column)`.
    pub fn min(self) -> Agg<M> {
        self.agg(AggFunc::Min)
    }

    /// `MAX(column)`.
    pub fn max(self) -> Agg<M> {
        self.agg(AggFunc::Max)
    }
}

impl<M, T: Numeric> Column<M, T> {
    /// `SUM(column)` (NULL over no rows).
    pub fn sum(self) -> Agg<M> {
        self.agg(AggFunc::Sum)
    }

    /// `AVG(column)`, as a float (NULL over no rows).
    pub fn avg(self) -> Agg<M> {
        self.agg(AggFunc::Avg)
    }
}
