//! The raw SQL escape hatch: SQL text written by hand, values still bound, rows mapped to a
//! model by column name.
//!
//! Placeholders are `?` on every backend: on Postgres they become `$1`, `$2`… (outside string
//! literals, quoted identifiers and comments). SQL that already uses `$n` is left alone.
//!
//! ```
//! use turbine_orm::backend::Dialect;
//! use turbine_orm::query::raw::placeholders;
//!
//! assert_eq!(
//!     placeholders("SELECT * FROM t WHERE a = ? AND b = '?' AND c = ?", Dialect::Postgres),
//!     "SELECT * FROM t WHERE a = $1 AND b = '?' AND c = $2"
//! );
//! assert_eq!(placeholders("SELECT ?", Dialect::Sqlite), "SELECT ?");
//! ```

use std::borrow::Cow;

use crate::backend::Dialect;
use crate::error::{Error, Result};
use crate::meta::ModelMeta;
use crate::value::Row;

/// `sql` with `?` placeholders turned into the dialect's (`$n` on Postgres).
pub fn placeholders(sql: &str, dialect: Dialect) -> Cow<'_, str> {
    if dialect != Dialect::Postgres || !sql.contains('?') || has_dollar_params(sql) {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn has_dollar_params(sql: &str) -> bool {
    let b = sql.as_bytes();
    b.windows(2).any(|w| w[0] == b'$' && w[1].is_ascii_digit())
}

/// For rows whose columns may come in any order: where each of the model's columns is in them.
pub(crate) fn column_order(meta: &ModelMeta, row: &Row) -> Result<Option<Vec<usize>>> {
    let cols = row.columns();
    let mut order = Vec::new();
    let mut identity = true;
    for (i, f) in super::select::columns(meta).enumerate() {
        let at = cols.iter().position(|c| *c == f.column).ok_or_else(|| {
            Error::Query(format!(
                "the raw query's rows have no column `{}` for {}.{}",
                f.column,
                meta.label(),
                f.name
            ))
        })?;
        identity &= at == i;
        order.push(at);
    }
    Ok((!identity || cols.len() != order.len()).then_some(order))
}

/// The model's column names, shared by reordered rows.
pub(crate) fn column_names(meta: &ModelMeta) -> std::sync::Arc<[String]> {
    super::select::columns(meta)
        .map(|f| f.column.clone())
        .collect()
}

/// A row rearranged into the model's column order.
pub(crate) fn reorder(row: Row, order: &[usize], columns: &std::sync::Arc<[String]>) -> Row {
    let columns = columns.clone();
    let mut values = row.into_values();
    let picked = order
        .iter()
        .map(|&i| std::mem::replace(&mut values[i], sea_query::Value::Bool(None)))
        .collect();
    Row::new(columns, picked)
}
