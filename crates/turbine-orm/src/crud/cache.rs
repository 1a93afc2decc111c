//! Rendered SQL of the typed models' hot statements (get by key, insert, update, delete by
//! key, bulk updates of a few rows), kept per model type and dialect so that they are rendered once per process. Keyed by
//! `TypeId`, so models defined at runtime (no Rust type) never share an entry.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use crate::backend::{Dialect, Statement};
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

/// FxHash (rustc's hasher): the keys are the ORM's own (type ids, enums, counts), never
/// user input, so they need no DoS-resistant hashing; SipHash cost ~300 instructions a lookup.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type KeyHash = std::hash::BuildHasherDefault<KeyHasher>;

static CACHE: LazyLock<RwLock<HashMap<Key, Arc<str>, KeyHash>>> = LazyLock::new(Default::default);

/// The statement for `key` with `values` bound: from the cache, or built by `build` (which must
/// bind exactly `values`, in order) and remembered.
pub(crate) fn statement(
    key: Option<Key>,
    values: Vec<Value>,
    build: impl FnOnce(&[Value]) -> Result<Statement>,
) -> Result<Statement> {
    let Some(key) = key else {
        return build(&values);
    };
    if let Some(sql) = CACHE.read().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(Statement::new(sql.as_ref(), values));
    }
    let stmt = build(&values)?;
    // Only remember SQL whose placeholders bind the given values in the given order.
    if stmt.values == values {
        CACHE
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, Arc::from(stmt.sql.as_str()));
    }
    Ok(stmt)
}
