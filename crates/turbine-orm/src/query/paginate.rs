//! Keyset pagination: pages that follow the query's ordering (plus the primary key as the
//! tie-breaker) and continue after the last row seen, so rows inserted meanwhile never shift a
//! page the way `OFFSET` does.
//!
//! A [`Cursor`] holds the sort-key values of the last row of a page; [`Cursor::encode`] makes it
//! an opaque URL-safe string for clients and [`Query::decode_cursor`] reads it back, checking
//! its values against the sort keys' types.
//!
//! ```
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta, Ordering};
//! use turbine_orm::query::{Cursor, Query};
//! use turbine_orm::Value;
//!
//! let post = ModelMeta::new("blog", "Post")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("views", FieldType::I64))
//!     .ordering([Ordering::desc("views")]);
//! let q = Query::new(&post);
//! let cursor = Cursor::new(vec![Value::BigInt(Some(10)), Value::BigInt(Some(7))]);
//! let text = cursor.encode();
//! assert_eq!(q.decode_cursor(&text).unwrap(), cursor);
//! assert!(q.decode_cursor("not a cursor").is_err());
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::convert::{json_to_value, value_to_json};
use super::expr::Expr;
use super::filter::{Filter, Lookup};
use super::order::{Nulls, OrderBy};
use super::select::{Query, columns, primary_key};
use crate::backend::Dialect;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::value::{Row, Value, is_null};

/// Where a page ends: the sort-key values of its last row.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor(Vec<Value>);

impl Cursor {
    /// A cursor from sort-key values (in the order of the keyset's keys).
    pub fn new(values: Vec<Value>) -> Self {
        Self(values)
    }

    /// The values.
    pub fn values(&self) -> &[Value] {
        &self.0
    }

    /// An opaque, URL-safe text form.
    pub fn encode(&self) -> String {
        let json = serde_json::Value::Array(self.0.iter().map(value_to_json).collect());
        URL_SAFE_NO_PAD.encode(json.to_string())
    }
}

/// One page of results and the cursor of the next page (`None` on the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Where the next page starts, if there is one.
    pub next_cursor: Option<Cursor>,
}

fn bad_cursor(message: impl Into<String>) -> Error {
    Error::Validation {
        field: "cursor".into(),
        message: message.into(),
    }
}

impl Query<'_> {
    /// The keys pages follow: the ordering, then the primary key unless it is already there.
    pub fn keyset(&self) -> Result<Vec<OrderBy>> {
        let mut keys = self.ordering();
        let pk = primary_key(self.meta)?;
        if !keys.iter().any(|k| k.field == pk.name) {
            keys.push(OrderBy::asc(pk.name.clone()));
        }
        Ok(keys)
    }

    /// The positions of the keyset's fields among the model's columns.
    pub(crate) fn keyset_positions(&self, keys: &[OrderBy]) -> Result<Vec<usize>> {
        keys.iter()
            .map(|k| {
                columns(self.meta)
                    .position(|f| f.name == k.field)
                    .ok_or_else(|| Error::Query(super::compile::unknown_field(self.meta, &k.field)))
            })
            .collect()
    }

    /// Reads a cursor made by [`Cursor::encode`] for this query's keyset.
    pub fn decode_cursor(&self, text: &str) -> Result<Cursor> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| bad_cursor("not a valid cursor"))?;
        let json: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|_| bad_cursor("not a valid cursor"))?;
        let items = json
            .as_array()
            .ok_or_else(|| bad_cursor("not a valid cursor"))?;
        let keys = self.keyset()?;
        if items.len() != keys.len() {
            return Err(bad_cursor("the cursor does not belong to this ordering"));
        }
        let scope = self.scope(Dialect::Sqlite);
        keys.iter()
            .zip(items)
            .map(|(k, j)| {
                let f = scope.field(&k.field)?;
                json_to_value(j, &f.ty).map_err(bad_cursor)
            })
            .collect::<Result<Vec<_>>>()
            .map(Cursor)
    }

    /// The rows after `cursor` in keyset order (keyset order is used even without a cursor).
    pub fn after(mut self, cursor: &Cursor) -> Self {
        self.after = Some(cursor.0.clone());
        self.keyset_order = true;
        self
    }

    /// The keyset condition for `self.after` on a dialect: rows strictly after the cursor.
    pub(crate) fn keyset_filter(&self, dialect: Dialect) -> Result<Filter> {
        let Some(values) = &self.after else {
            return Ok(Filter::All);
        };
        let keys = self.keyset()?;
        if values.len() != keys.len() {
            return Err(bad_cursor("the cursor does not belong to this ordering"));
        }
        let scope = self.scope(dialect);
        let mut alternatives = Vec::with_capacity(keys.len());
        for i in 0..keys.len() {
            let mut parts = Vec::with_capacity(i + 1);
            for (k, v) in keys[..i].iter().zip(values) {
                parts.push(if is_null(v) {
                    Filter::field(k.field.clone(), Lookup::IsNull(true))
                } else {
                    Filter::field(k.field.clone(), Lookup::Eq(Expr::Value(v.clone())))
                });
            }
            let (k, v) = (&keys[i], &values[i]);
            let nullable = scope.field(&k.field)?.nullable;
            // Where NULLs sort when the key does not say: Postgres treats them as largest,
            // SQLite as smallest.
            let nulls_last = match k.nulls {
                Some(Nulls::Last) => true,
                Some(Nulls::First) => false,
                None => (dialect == Dialect::Postgres) != k.descending,
            };
            let is_null_key = |b| Filter::field(k.field.clone(), Lookup::IsNull(b));
            let after = if is_null(v) {
                if nulls_last {
                    Filter::Nothing
                } else {
                    is_null_key(false)
                }
            } else {
                let value = Expr::Value(v.clone());
                let cmp = Filter::field(
                    k.field.clone(),
                    if k.descending {
                        Lookup::Lt(value)
                    } else {
                        Lookup::Gt(value)
                    },
                );
                if nulls_last && nullable {
                    cmp.or(is_null_key(true))
                } else {
                    cmp
                }
            };
            parts.push(after);
            alternatives.push(Filter::all_of(parts));
        }
        Ok(Filter::any_of(alternatives))
    }

    /// The query for one page: keyset order, after the cursor, one row more than the page.
    pub(crate) fn page_query(&self, size: u64, cursor: Option<&Cursor>) -> Self {
        let mut q = self.clone();
        q.keyset_order = true;
        if let Some(c) = cursor {
            q = q.after(c);
        }
        q.limit(size + 1)
    }

    /// One page of `size` rows after `cursor` (the first page without one).
    pub async fn page(&self, db: &Db, size: u64, cursor: Option<&Cursor>) -> Result<Page<Row>> {
        let keys = self.keyset()?;
        let positions = self.keyset_positions(&keys)?;
        let mut rows = self.page_query(size, cursor).fetch(db).await?;
        let next_cursor = split_page(&mut rows, size, &positions, |row| row.values().to_vec())?;
        Ok(Page {
            items: rows,
            next_cursor,
        })
    }
}

impl Query<'_> {
    /// The page of `size` rows just before `cursor` (the first row of a page the reader is
    /// on), in the query's order: the keyset walked backwards. `has_more` on the answer says
    /// whether rows come before it; [`Page::next_cursor`] is the cursor of its first row,
    /// for the page before that.
    pub async fn page_before(&self, db: &Db, size: u64, cursor: &Cursor) -> Result<Page<Row>> {
        let dialect = db.dialect();
        let keys = self.keyset()?;
        let positions = self.keyset_positions(&keys)?;
        // Each key reversed, NULLs placed explicitly where the forward order has them last.
        let reversed: Vec<OrderBy> = keys
            .iter()
            .map(|k| {
                let nulls_last = match k.nulls {
                    Some(Nulls::Last) => true,
                    Some(Nulls::First) => false,
                    None => (dialect == Dialect::Postgres) != k.descending,
                };
                OrderBy {
                    field: k.field.clone(),
                    descending: !k.descending,
                    nulls: Some(if nulls_last {
                        Nulls::First
                    } else {
                        Nulls::Last
                    }),
                }
            })
            .collect();
        let backwards = self.clone().order_by(reversed).after(cursor);
        let mut rows = backwards.limit(size + 1).fetch(db).await?;
        let more = split_page(&mut rows, size, &positions, |row| row.values().to_vec())?;
        rows.reverse();
        let first = match (&more, rows.first()) {
            (Some(_), Some(row)) => Some(Cursor(
                positions.iter().map(|&i| row.values()[i].clone()).collect(),
            )),
            _ => None,
        };
        Ok(Page {
            items: rows,
            next_cursor: first,
        })
    }
}

/// Drops the extra row fetched to know whether another page follows, and makes the cursor of
/// the next page from the last row kept.
pub(crate) fn split_page<T>(
    items: &mut Vec<T>,
    size: u64,
    positions: &[usize],
    values_of: impl Fn(&T) -> Vec<Value>,
) -> Result<Option<Cursor>> {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    if items.len() <= size {
        return Ok(None);
    }
    items.truncate(size);
    let Some(last) = items.last() else {
        return Ok(None);
    };
    let values = values_of(last);
    positions
        .iter()
        .map(|&i| {
            values.get(i).cloned().ok_or_else(|| {
                Error::Query(format!("a row has {} values, expected more", values.len()))
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(|v| Some(Cursor(v)))
}
