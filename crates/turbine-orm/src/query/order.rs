//! Sort keys: a field, a direction and where NULLs go.
//!
//! ```
//! use turbine_orm::query::{Nulls, OrderBy};
//!
//! let key = OrderBy::parse("-created_at");
//! assert_eq!(key, OrderBy::desc("created_at"));
//! assert_eq!(OrderBy::asc("editor").nulls(Nulls::Last).nulls, Some(Nulls::Last));
//!
//! let note = turbine_orm::meta::ModelMeta::new("app", "Note")
//!     .field(turbine_orm::meta::FieldMeta::auto_id());
//! assert!(OrderBy::parse_for(&note, "-id").is_ok());
//! assert!(OrderBy::parse_for(&note, "-title").is_err());
//! ```

use std::borrow::Cow;
use std::marker::PhantomData;

use crate::model::Column;

/// Where NULLs sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nulls {
    /// Before every value.
    First,
    /// After every value.
    Last,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// The field, by name.
    pub field: Cow<'static, str>,
    /// Descending.
    pub descending: bool,
    /// Where NULLs go; `None` is the database's default (Postgres: NULLs are largest, SQLite:
    /// smallest).
    pub nulls: Option<Nulls>,
}

impl OrderBy {
    /// Ascending by `field`.
    pub fn asc(field: impl Into<Cow<'static, str>>) -> Self {
        Self {
            field: field.into(),
            descending: false,
            nulls: None,
        }
    }

    /// Descending by `field`.
    pub fn desc(field: impl Into<Cow<'static, str>>) -> Self {
        Self {
            descending: true,
            ..Self::asc(field)
        }
    }

    /// `field` ascending, `-field` descending (Django's and DRF's `ordering=` spelling).
    pub fn parse(key: &str) -> Self {
        match key.strip_prefix('-') {
            Some(field) => Self::desc(field.to_owned()),
            None => Self::asc(key.trim_start_matches('+').to_owned()),
        }
    }

    /// [`parse`](Self::parse), checked against a model: an unknown field is an
    /// [`Error::Validation`](crate::Error::Validation) naming the key and listing the fields.
    pub fn parse_for(meta: &crate::meta::ModelMeta, key: &str) -> crate::Result<Self> {
        let order = Self::parse(key);
        if meta
            .fields
            .iter()
            .any(|f| f.has_column() && f.name == order.field)
        {
            Ok(order)
        } else {
            Err(crate::Error::Validation {
                field: key.to_owned(),
                message: super::compile::unknown_field(meta, &order.field),
            })
        }
    }

    /// Sets where NULLs go.
    pub fn nulls(mut self, nulls: Nulls) -> Self {
        self.nulls = Some(nulls);
        self
    }
}

impl From<&crate::meta::Ordering> for OrderBy {
    fn from(o: &crate::meta::Ordering) -> Self {
        Self {
            field: Cow::Owned(o.field.clone()),
            descending: o.descending,
            nulls: None,
        }
    }
}

/// A sort key on a column of model `M` (`Post::CREATED_AT.desc().nulls_last()`).
pub struct Order<M> {
    key: OrderBy,
    _model: PhantomData<fn() -> M>,
}

impl<M> Order<M> {
    /// NULLs first.
    pub fn nulls_first(mut self) -> Self {
        self.key.nulls = Some(Nulls::First);
        self
    }

    /// NULLs last.
    pub fn nulls_last(mut self) -> Self {
        self.key.nulls = Some(Nulls::Last);
        self
    }

    /// The untyped sort key.
    pub fn into_order_by(self) -> OrderBy {
        self.key
    }
}

impl<M> Clone for Order<M> {
    fn clone(&self) -> Self {
        Self {
            key: self.key.clone(),
            _model: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for Order<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.key.fmt(f)
    }
}

impl<M, T> Column<M, T> {
    /// Ascending by this column.
    pub fn asc(self) -> Order<M> {
        Order {
            key: OrderBy::asc(self.name()),
            _model: PhantomData,
        }
    }

    /// Descending by this column.
    pub fn desc(self) -> Order<M> {
        Order {
            key: OrderBy::desc(self.name()),
            _model: PhantomData,
        }
    }
}

/// A column of model `M` with its type erased, for lists of columns of different types
/// (`values([Post::TITLE.into(), Post::VIEWS.into()])`, `group_by`).
pub struct Field<M> {
    name: &'static str,
    _model: PhantomData<fn() -> M>,
}

impl<M> Field<M> {
    /// The field's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl<M> Clone for Field<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for Field<M> {}

impl<M> std::fmt::Debug for Field<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Field").field(&self.name).finish()
    }
}

impl<M, T> From<Column<M, T>> for Field<M> {
    fn from(c: Column<M, T>) -> Self {
        Field {
            name: c.name(),
            _model: PhantomData,
        }
    }
}
