//! Filters: conditions on fields combined with and / or / not.
//!
//! [`Filter`] is untyped — it names fields by name, so it works for models defined at runtime and
//! is what REST query strings parse into ([`Filter::parse_lookup`]). [`Q`] is the same filter
//! tied to a Rust model type, built by the typed lookups on columns (`Post::TITLE.icontains(…)`)
//! and combined with `&`, `|` and `!`.
//!
//! ```
//! use turbine_orm::query::{Filter, Lookup};
//!
//! let f = Filter::field("title", Lookup::IContains("rust".into()))
//!     & !Filter::field("status", Lookup::Eq("draft".into()));
//! assert!(matches!(f, Filter::And(ref parts) if parts.len() == 2));
//! ```

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

use super::aggregate::Aggregate;
use super::expr::Expr;
use crate::meta::ModelMeta;
use crate::value::Value;

/// What a condition looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A field of the model, by name.
    Field(Cow<'static, str>),
    /// A key path inside a JSON field (`data -> 'lang'`).
    Json {
        /// The JSON field.
        field: Cow<'static, str>,
        /// The keys, outermost first.
        path: Vec<String>,
    },
    /// An aggregate, in `HAVING`.
    Aggregate(Aggregate),
}

/// A lookup: the comparison applied to a [`Target`], with its operand(s).
///
/// Text patterns are plain text: `%`, `_` and `\` in them match themselves.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Lookup {
    /// `= value` (`IS NULL` when the value is NULL).
    Eq(Expr),
    /// `<> value`; NULLs count as different (`IS NOT NULL` when the value is NULL).
    Ne(Expr),
    /// `< value`.
    Lt(Expr),
    /// `<= value`.
    Lte(Expr),
    /// `> value`.
    Gt(Expr),
    /// `>= value`.
    Gte(Expr),
    /// `IN (values…)`; an empty list matches nothing.
    In(Vec<Expr>),
    /// `BETWEEN low AND high` (inclusive).
    Between(Expr, Expr),
    /// Contains the text (case-sensitive).
    Contains(String),
    /// Contains the text, ignoring case.
    IContains(String),
    /// Starts with the text (case-sensitive).
    StartsWith(String),
    /// Starts with the text, ignoring case.
    IStartsWith(String),
    /// Ends with the text (case-sensitive).
    EndsWith(String),
    /// Ends with the text, ignoring case.
    IEndsWith(String),
    /// Equal to the text, ignoring case.
    IExact(String),
    /// `IS NULL` (`true`) or `IS NOT NULL` (`false`).
    IsNull(bool),
    /// `IN (SELECT …)`: in the result of a sub-select (built with sea-query, values bound).
    InSelect(Box<sea_query::SelectStatement>),
}

impl Lookup {
    /// The lookup names [`Filter::parse_lookup`] accepts, Django's spelling.
    pub const NAMES: &'static [&'static str] = &[
        "exact",
        "ne",
        "lt",
        "lte",
        "gt",
        "gte",
        "in",
        "range",
        "contains",
        "icontains",
        "startswith",
        "istartswith",
        "endswith",
        "iendswith",
        "iexact",
        "isnull",
    ];

    /// `true` for lookups that match text patterns.
    pub fn is_text(&self) -> bool {
        matches!(
            self,
            Lookup::Contains(_)
                | Lookup::IContains(_)
                | Lookup::StartsWith(_)
                | Lookup::IStartsWith(_)
                | Lookup::EndsWith(_)
                | Lookup::IEndsWith(_)
                | Lookup::IExact(_)
        )
    }
}

/// One condition: a lookup on a target.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// What is compared.
    pub target: Target,
    /// How.
    pub lookup: Lookup,
}

/// An untyped filter over a model's fields.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Filter {
    /// Matches every row.
    #[default]
    All,
    /// Matches no row.
    Nothing,
    /// One condition.
    Cond(Condition),
    /// Every part matches.
    And(Vec<Filter>),
    /// At least one part matches.
    Or(Vec<Filter>),
    /// The filter does not match (two-valued: a NULL comparison counts as not matching, so its
    /// negation matches, as in Django's `exclude`).
    Not(Box<Filter>),
    /// The row the foreign key `field` points at matches `filter` (Django's `author__name=…`):
    /// `field IN (SELECT key FROM target WHERE …)`.
    Related {
        /// The foreign key field.
        field: Cow<'static, str>,
        /// The model it points at.
        target: RelatedModel,
        /// The filter on that model.
        filter: Box<Filter>,
    },
}

/// The metadata of a model a [`Filter::Related`] looks into.
#[derive(Debug, Clone, PartialEq)]
pub enum RelatedModel {
    /// A typed model's metadata.
    Static(&'static ModelMeta),
    /// A model from a registry (models defined at runtime).
    Shared(Arc<ModelMeta>),
}

impl RelatedModel {
    /// The metadata.
    pub fn meta(&self) -> &ModelMeta {
        match self {
            RelatedModel::Static(m) => m,
            RelatedModel::Shared(m) => m,
        }
    }
}

impl Filter {
    /// A condition on a target.
    pub fn new(target: Target, lookup: Lookup) -> Self {
        Filter::Cond(Condition { target, lookup })
    }

    /// A condition on the field `name`.
    pub fn field(name: impl Into<Cow<'static, str>>, lookup: Lookup) -> Self {
        Self::new(Target::Field(name.into()), lookup)
    }

    /// `field = value`.
    pub fn eq(name: impl Into<Cow<'static, str>>, value: impl Into<Value>) -> Self {
        Self::field(name, Lookup::Eq(Expr::Value(value.into())))
    }

    /// Both filters.
    pub fn and(self, other: Filter) -> Self {
        match (self, other) {
            (Filter::All, f) | (f, Filter::All) => f,
            (Filter::Nothing, _) | (_, Filter::Nothing) => Filter::Nothing,
            (Filter::And(mut a), Filter::And(b)) => {
                a.extend(b);
                Filter::And(a)
            }
            (Filter::And(mut a), f) => {
                a.push(f);
                Filter::And(a)
            }
            (f, Filter::And(mut b)) => {
                b.insert(0, f);
                Filter::And(b)
            }
            (a, b) => Filter::And(vec![a, b]),
        }
    }

    /// Either filter.
    pub fn or(self, other: Filter) -> Self {
        match (self, other) {
            (Filter::Nothing, f) | (f, Filter::Nothing) => f,
            (Filter::All, _) | (_, Filter::All) => Filter::All,
            (Filter::Or(mut a), Filter::Or(b)) => {
                a.extend(b);
                Filter::Or(a)
            }
            (Filter::Or(mut a), f) => {
                a.push(f);
                Filter::Or(a)
            }
            (f, Filter::Or(mut b)) => {
                b.insert(0, f);
                Filter::Or(b)
            }
            (a, b) => Filter::Or(vec![a, b]),
        }
    }

    /// The negation.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        match self {
            Filter::All => Filter::Nothing,
            Filter::Nothing => Filter::All,
            Filter::Not(inner) => *inner,
            f => Filter::Not(Box::new(f)),
        }
    }

    /// Every filter of `parts` (an empty list matches every row).
    pub fn all_of(parts: impl IntoIterator<Item = Filter>) -> Self {
        parts.into_iter().fold(Filter::All, Filter::and)
    }

    /// Any filter of `parts` (an empty list matches nothing).
    pub fn any_of(parts: impl IntoIterator<Item = Filter>) -> Self {
        parts.into_iter().fold(Filter::Nothing, Filter::or)
    }
}

impl std::ops::BitAnd for Filter {
    type Output = Filter;
    fn bitand(self, rhs: Filter) -> Filter {
        self.and(rhs)
    }
}

impl std::ops::BitOr for Filter {
    type Output = Filter;
    fn bitor(self, rhs: Filter) -> Filter {
        self.or(rhs)
    }
}

impl std::ops::Not for Filter {
    type Output = Filter;
    fn not(self) -> Filter {
        Filter::not(self)
    }
}

/// A filter on model `M`, built by typed lookups (`Post::VIEWS.gte(10)`); combine with `&`, `|`,
/// `!`, [`Q::and`] and [`Q::or`].
pub struct Q<M> {
    filter: Filter,
    _model: PhantomData<fn() -> M>,
}

impl<M> Q<M> {
    /// Wraps an untyped filter (checked against the model's fields when the query runs).
    pub fn from_filter(filter: Filter) -> Self {
        Self {
            filter,
            _model: PhantomData,
        }
    }

    /// Matches every row.
    pub fn all() -> Self {
        Self::from_filter(Filter::All)
    }

    /// Matches no row.
    pub fn nothing() -> Self {
        Self::from_filter(Filter::Nothing)
    }

    /// Both filters.
    pub fn and(self, other: Q<M>) -> Self {
        Self::from_filter(self.filter.and(other.filter))
    }

    /// Either filter.
    pub fn or(self, other: Q<M>) -> Self {
        Self::from_filter(self.filter.or(other.filter))
    }

    /// The untyped filter.
    pub fn into_filter(self) -> Filter {
        self.filter
    }

    /// The untyped filter, borrowed.
    pub fn filter(&self) -> &Filter {
        &self.filter
    }
}

impl<M> Clone for Q<M> {
    fn clone(&self) -> Self {
        Self::from_filter(self.filter.clone())
    }
}

impl<M> std::fmt::Debug for Q<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.filter.fmt(f)
    }
}

impl<M> std::ops::BitAnd for Q<M> {
    type Output = Q<M>;
    fn bitand(self, rhs: Q<M>) -> Q<M> {
        self.and(rhs)
    }
}

impl<M> std::ops::BitOr for Q<M> {
    type Output = Q<M>;
    fn bitor(self, rhs: Q<M>) -> Q<M> {
        self.or(rhs)
    }
}

impl<M> std::ops::Not for Q<M> {
    type Output = Q<M>;
    fn not(self) -> Q<M> {
        Q::from_filter(self.filter.not())
    }
}
