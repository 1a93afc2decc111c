//! Lifecycle observers: code that runs before and after every save and delete, for any model.
//!
//! Batteries use them for realtime model events and the audit log; a model's own hooks are the
//! `before_save`… methods of [`Model`](crate::Model). Observers are registered when the app
//! starts and see runtime-defined models too, since they receive metadata and values.
//!
//! ```
//! use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
//! use turbine_orm::hooks::{Change, Hooks};
//!
//! let hooks = Hooks::default();
//! let seen = Arc::new(AtomicUsize::new(0));
//! let counter = seen.clone();
//! hooks.after_save(move |_change| { counter.fetch_add(1, Ordering::Relaxed); });
//! assert_eq!(hooks.len(), 1);
//! ```

use std::sync::{Arc, RwLock};

use crate::error::Result;
use crate::meta::ModelMeta;
use crate::value::Value;

/// What happened to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Inserted.
    Created,
    /// Updated.
    Updated,
    /// Deleted.
    Deleted,
}

/// A change to one row, as observers see it.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// The model.
    pub model: &'a ModelMeta,
    /// What happened.
    pub kind: ChangeKind,
    /// The row's primary key.
    pub pk: &'a Value,
    /// The columns written (all of them on insert, the changed ones on update; empty on delete),
    /// as `(column, value)`.
    pub values: &'a [(String, Value)],
}

type Before = Arc<dyn Fn(&Change<'_>) -> Result<()> + Send + Sync>;
type After = Arc<dyn Fn(&Change<'_>) + Send + Sync>;

/// The observers of one database.
#[derive(Default)]
pub struct Hooks {
    before_save: RwLock<Vec<Before>>,
    after_save: RwLock<Vec<After>>,
    before_delete: RwLock<Vec<Before>>,
    after_delete: RwLock<Vec<After>>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks").field("len", &self.len()).finish()
    }
}

fn read<T: Clone>(lock: &RwLock<Vec<T>>) -> Vec<T> {
    lock.read().unwrap_or_else(|p| p.into_inner()).clone()
}

fn push<T>(lock: &RwLock<Vec<T>>, value: T) {
    lock.write().unwrap_or_else(|p| p.into_inner()).push(value);
}

impl Hooks {
    /// Runs before every insert and update; an error stops the save.
    pub fn before_save(&self, f: impl Fn(&Change<'_>) -> Result<()> + Send + Sync + 'static) {
        push(&self.before_save, Arc::new(f));
    }

    /// Runs after every insert and update (inside the transaction, if any).
    pub fn after_save(&self, f: impl Fn(&Change<'_>) + Send + Sync + 'static) {
        push(&self.after_save, Arc::new(f));
    }

    /// Runs before every delete of one object; an error stops the delete.
    pub fn before_delete(&self, f: impl Fn(&Change<'_>) -> Result<()> + Send + Sync + 'static) {
        push(&self.before_delete, Arc::new(f));
    }

    /// Runs after every delete of one object.
    pub fn after_delete(&self, f: impl Fn(&Change<'_>) + Send + Sync + 'static) {
        push(&self.after_delete, Arc::new(f));
    }

    /// Number of observers.
    pub fn len(&self) -> usize {
        [&self.before_save, &self.before_delete]
            .iter()
            .map(|l| l.read().unwrap_or_else(|p| p.into_inner()).len())
            .sum::<usize>()
            + [&self.after_save, &self.after_delete]
                .iter()
                .map(|l| l.read().unwrap_or_else(|p| p.into_inner()).len())
                .sum::<usize>()
    }

    /// `true` without observers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls the before-observers for this change (save or delete by its kind).
    pub fn run_before(&self, change: &Change<'_>) -> Result<()> {
        let list = match change.kind {
            ChangeKind::Deleted => &self.before_delete,
            ChangeKind::Created | ChangeKind::Updated => &self.before_save,
        };
        read(list).iter().try_for_each(|f| f(change))
    }

    /// Calls the after-observers for this change.
    pub fn run_after(&self, change: &Change<'_>) {
        let list = match change.kind {
            ChangeKind::Deleted => &self.after_delete,
            ChangeKind::Created | ChangeKind::Updated => &self.after_save,
        };
        read(list).iter().for_each(|f| f(change));
    }
}
