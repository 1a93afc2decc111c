//! Typed lookups on columns: `Post::VIEWS.gte(10)`, `Post::TITLE.icontains("rust")`,
//! `Post::EDITOR.is_null()`, `Post::DATA.key("lang").eq("en")`.
//!
//! The column's Rust type decides which lookups exist: text lookups only on text columns,
//! `is_null` only on `Option` columns, `key` only on JSON columns — misuse does not compile.
//!
//! ```
//! use turbine_orm::model::Column;
//! use turbine_orm::query::{Filter, Lookup, Q};
//!
//! struct Post;
//! const TITLE: Column<Post, String> = Column::new("title");
//! const EDITOR: Column<Post, Option<i64>> = Column::new("editor");
//!
//! let q: Q<Post> = TITLE.icontains("rust") & !EDITOR.is_null();
//! assert_eq!(
//!     q.into_filter(),
//!     Filter::field("title", Lookup::IContains("rust".into()))
//!         & !Filter::field("editor", Lookup::IsNull(true)),
//! );
//! ```
//!
//! ```compile_fail
//! use turbine_orm::model::Column;
//! struct Post;
//! const VIEWS: Column<Post, i64> = Column::new("views");
//! let _ = VIEWS.is_null(); // not an Option column
//! ```
//!
//! ```compile_fail
//! use turbine_orm::model::Column;
//! struct Post;
//! const VIEWS: Column<Post, i64> = Column::new("views");
//! let _ = VIEWS.contains("1"); // not a text column
//! ```

use std::borrow::Cow;
use std::marker::PhantomData;

use super::expr::{Expr, IntoExpr};
use super::filter::{Filter, Lookup, Q, Target};
use crate::model::Column;
use crate::value::{FieldValue, Json, Value};

/// Column types that take text lookups (`contains`, `icontains`…).
pub trait TextColumn {}
impl TextColumn for String {}
impl TextColumn for Option<String> {}

/// Column types that hold JSON and take key lookups.
pub trait JsonColumn {}
impl JsonColumn for serde_json::Value {}
impl JsonColumn for Option<serde_json::Value> {}
impl<T> JsonColumn for Json<T> {}
impl<T> JsonColumn for Option<Json<T>> {}

impl<M, T> Column<M, T> {
    fn cond(self, lookup: Lookup) -> Q<M> {
        Q::from_filter(Filter::field(self.name(), lookup))
    }
}

impl<M, T: FieldValue> Column<M, T> {
    /// `column = value` (`IS NULL` for `None`).
    pub fn eq(self, value: impl IntoExpr<M, T>) -> Q<M> {
        self.cond(Lookup::Eq(value.into_expr()))
    }

    /// `column <> value`; a NULL column counts as different.
    pub fn ne(self, value: impl IntoExpr<M, T>) -> Q<M> {
        self.cond(Lookup::Ne(value.into_expr()))
    }

    /// `column < value`.
    pub fn lt(self, value: impl IntoExpr<M, T>) -> Q<M> {
        self.cond(Lookup::Lt(value.into_expr()))
    }

    /// `column <= value`.
    pub fn lte(self, value: impl IntoExpr<M, T>) -> Q<M> {
        self.cond(Lookup::Lte(value.into_expr()))
    }

    /// `column > value`.
    pub fn gt(self, value: impl IntoExpr<M, T>) -> Q<M> {
        self.cond(Lookup::Gt(value.into_expr()))
    }

    /// `column >= value`.
    pub fn gte(self, value: impl IntoExpr<M, T>) -> Q<M> {
        self.cond(Lookup::Gte(value.into_expr()))
    }

    /// `column IN (values…)`; an empty list matches nothing.
    pub fn is_in<V: IntoExpr<M, T>>(self, values: impl IntoIterator<Item = V>) -> Q<M> {
        self.cond(Lookup::In(
            values.into_iter().map(IntoExpr::into_expr).collect(),
        ))
    }

    /// Same as [`is_in`](Self::is_in).
    pub fn in_<V: IntoExpr<M, T>>(self, values: impl IntoIterator<Item = V>) -> Q<M> {
        self.is_in(values)
    }

    /// `column BETWEEN low AND high` (inclusive).
    pub fn between(self, low: impl IntoExpr<M, T>, high: impl IntoExpr<M, T>) -> Q<M> {
        self.cond(Lookup::Between(low.into_expr(), high.into_expr()))
    }
}

impl<M, T: TextColumn> Column<M, T> {
    /// Contains `text` (case-sensitive; `%` and `_` match themselves).
    pub fn contains(self, text: impl Into<String>) -> Q<M> {
        self.cond(Lookup::Contains(text.into()))
    }

    /// Contains `text`, ignoring case (non-ASCII letters too).
    pub fn icontains(self, text: impl Into<String>) -> Q<M> {
        self.cond(Lookup::IContains(text.into()))
    }

    /// Starts with `text`.
    pub fn startswith(self, text: impl Into<String>) -> Q<M> {
        self.cond(Lookup::StartsWith(text.into()))
    }

    /// Starts with `text`, ignoring case.
    pub fn istartswith(self, text: impl Into<String>) -> Q<M> {
        self.cond(Lookup::IStartsWith(text.into()))
    }

    /// Ends with `text`.
    pub fn endswith(self, text: impl Into<String>) -> Q<M> {
        self.cond(Lookup::EndsWith(text.into()))
    }

    /// Ends with `text`, ignoring case.
    pub fn iendswith(self, text: impl Into<String>) -> Q<M> {
        self.cond(Lookup::IEndsWith(text.into()))
    }

    /// Equal to `text`, ignoring case.
    pub fn iexact(self, text: impl Into<String>) -> Q<M> {
        self.cond(Lookup::IExact(text.into()))
    }
}

impl<M, F: super::eager::ForeignKeyField> Column<M, F> {
    /// The row this foreign key points at matches `q` (Django's `author__name=…`):
    /// `Post::AUTHOR.has(User::NAME.eq("Alice"))`. One statement, with a sub-select.
    pub fn has(self, q: Q<F::Target>) -> Q<M> {
        Q::from_filter(Filter::Related {
            field: Cow::Borrowed(self.name()),
            target: super::filter::RelatedModel::Static(<F::Target as crate::model::Model>::meta()),
            filter: Box::new(q.into_filter()),
        })
    }
}

impl<M, T> Column<M, Option<T>> {
    /// `column IS NULL`.
    pub fn is_null(self) -> Q<M> {
        self.cond(Lookup::IsNull(true))
    }

    /// `column IS NOT NULL`.
    pub fn is_not_null(self) -> Q<M> {
        self.cond(Lookup::IsNull(false))
    }
}

impl<M, T: JsonColumn> Column<M, T> {
    /// The value under `key` in this JSON column (Postgres `->` / `->>`, SQLite `->>`).
    pub fn key(self, key: impl Into<String>) -> JsonKey<M> {
        JsonKey {
            field: self.name(),
            path: vec![key.into()],
            _model: PhantomData,
        }
    }
}

/// A key path inside a JSON column of model `M`; its lookups compare JSON values (numbers as
/// numbers, strings as strings). A missing key and a JSON `null` both count as NULL.
pub struct JsonKey<M> {
    field: &'static str,
    path: Vec<String>,
    _model: PhantomData<fn() -> M>,
}

impl<M> JsonKey<M> {
    /// A key one level deeper.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.path.push(key.into());
        self
    }

    fn cond(self, lookup: Lookup) -> Q<M> {
        Q::from_filter(Filter::new(
            Target::Json {
                field: Cow::Borrowed(self.field),
                path: self.path,
            },
            lookup,
        ))
    }

    fn json(v: impl Into<serde_json::Value>) -> Expr {
        Expr::Value(Value::Json(Some(Box::new(v.into()))))
    }

    /// Equal to the JSON value.
    pub fn eq(self, v: impl Into<serde_json::Value>) -> Q<M> {
        self.cond(Lookup::Eq(Self::json(v)))
    }
    /// Not equal (a missing key counts as different).
    pub fn ne(self, v: impl Into<serde_json::Value>) -> Q<M> {
        self.cond(Lookup::Ne(Self::json(v)))
    }
    /// Less than.
    pub fn lt(self, v: impl Into<serde_json::Value>) -> Q<M> {
        self.cond(Lookup::Lt(Self::json(v)))
    }
    /// Less than or equal.
    pub fn lte(self, v: impl Into<serde_json::Value>) -> Q<M> {
        self.cond(Lookup::Lte(Self::json(v)))
    }
    /// Greater than.
    pub fn gt(self, v: impl Into<serde_json::Value>) -> Q<M> {
        self.cond(Lookup::Gt(Self::json(v)))
    }
    /// Greater than or equal.
    pub fn gte(self, v: impl Into<serde_json::Value>) -> Q<M> {
        self.cond(Lookup::Gte(Self::json(v)))
    }
    /// One of the JSON values.
    pub fn is_in<V: Into<serde_json::Value>>(self, vs: impl IntoIterator<Item = V>) -> Q<M> {
        self.cond(Lookup::In(vs.into_iter().map(Self::json).collect()))
    }
    /// The key is missing or JSON `null`.
    pub fn is_null(self) -> Q<M> {
        self.cond(Lookup::IsNull(true))
    }
    /// The key holds a value other than `null`.
    pub fn is_not_null(self) -> Q<M> {
        self.cond(Lookup::IsNull(false))
    }
    /// The value, as text, contains `text`.
    pub fn contains(self, text: impl Into<String>) -> Q<M> {
        self.cond(Lookup::Contains(text.into()))
    }
    /// The value, as text, contains `text`, ignoring case.
    pub fn icontains(self, text: impl Into<String>) -> Q<M> {
        self.cond(Lookup::IContains(text.into()))
    }
    /// The value, as text, starts with `text`.
    pub fn startswith(self, text: impl Into<String>) -> Q<M> {
        self.cond(Lookup::StartsWith(text.into()))
    }
    /// The value, as text, ends with `text`.
    pub fn endswith(self, text: impl Into<String>) -> Q<M> {
        self.cond(Lookup::EndsWith(text.into()))
    }
}

impl<M> std::fmt::Debug for JsonKey<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonKey")
            .field("field", &self.field)
            .field("path", &self.path)
            .finish()
    }
}

impl<M> From<Q<M>> for Filter {
    fn from(q: Q<M>) -> Self {
        q.into_filter()
    }
}
