//! Rendered SQL of the typed models' hot statements (get by key, insert, update, delete by
//! key, bulk updates of a few rows), kept per model type and dialect so that they are rendered once per process. Keyed by
//! `TypeId`, so models defined at runtime (no Rust type) never share an entry.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

use crate::backend::{Dialect, Params, Statement};
use crate::error::Result;
use crate::value::Value;

/// Which statement of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Get,
    Insert,
    Update,
    Delete,
    /// A bulk update of this many rows.
    BulkUpdate {
        rows: u32,
    },
}

/// A cache entry's key: the model type, the dialect, the statement, and a variant (e.g. which
/// columns an insert leaves to the database).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) model: TypeId,
    pub(crate) dialect: Dialect,
    pub(crate) kind: Kind,
    pub(crate) variant: u64,
}

/// The keys are the ORM's own (type ids, enums, counts): a fast hash, not SipHash (~300
/// instructions a lookup on this hot path).
type KeyHash = foldhash::fast::RandomState;

/// Entries live as long as the process (one per model, statement and variant, a bounded set), so
/// their SQL is leaked into `&'static str` and statements borrow it instead of copying it.
static CACHE: LazyLock<RwLock<HashMap<Key, &'static str, KeyHash>>> =
    LazyLock::new(Default::default);

/// The statement for `key` with `values` bound: from the cache, or built by `build` (which must
/// bind exactly `values`, in order) and remembered.
pub(crate) fn statement(
    key: Option<Key>,
    values: Params,
    build: impl FnOnce(&[Value]) -> Result<Statement>,
) -> Result<Statement> {
    let Some(key) = key else {
        return build(&values);
    };
    if let Some(sql) = CACHE.read().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(Statement::new(*sql, values));
    }
    let stmt = build(&values)?;
    // Only remember SQL whose placeholders bind the given values in the given order.
    if stmt.values == values {
        // Filled under the write lock, so two threads racing to fill it leak one copy. This
        // statement borrows the cached text too, as every later one will.
        let sql: &'static str = CACHE
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_insert_with(|| Box::leak(stmt.sql.into_owned().into_boxed_str()));
        return Ok(Statement::new(sql, stmt.values));
    }
    Ok(stmt)
}
