//! Factories: models for tests and seed data, built from a sequence number so each one is
//! distinct (unique emails, handles…), then saved one by one or in bulk.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> turbine_orm::Result<()> {
//! use turbine_orm::factory::Factory;
//! use turbine_orm::testing::TestDb;
//! # use turbine_orm::{Model, Column, value::Fields, Value, FieldValue, meta::*};
//! # #[derive(Debug, Clone)] struct User { id: i64, email: String }
//! # impl Model for User {
//! #     type Key = i64;
//! #     const LABEL: &'static str = "doc.User";
//! #     fn meta() -> &'static ModelMeta {
//! #         static M: std::sync::OnceLock<ModelMeta> = std::sync::OnceLock::new();
//! #         M.get_or_init(|| ModelMeta::new("doc", "User").field(FieldMeta::auto_id())
//! #             .field(FieldMeta::new("email", FieldType::String { max_length: 100 }).unique()))
//! #     }
//! #     fn from_fields(f: &mut Fields) -> turbine_orm::Result<Self> { Ok(Self { id: f.next()?, email: f.next()? }) }
//! #     fn to_values(&self) -> Vec<Value> { vec![self.id.to_value(), self.email.to_value()] }
//! #     fn key(&self) -> i64 { self.id }
//! #     fn set_key(&mut self, k: i64) { self.id = k }
//! # }
//! let users = Factory::new(|n| User { id: 0, email: format!("user{n}@example.com") });
//! let db = TestDb::sqlite().await?;
//! db.create_tables(&[User::meta().clone()]).await?;
//! let ada = users.create_with(&db, |u| u.email = "ada@example.com".into()).await?;
//! let crowd = users.create_many(&db, 3).await?;
//! assert_eq!(ada.id, 1);
//! assert_eq!(crowd[2].email, "user3@example.com");
//! # db.close().await; Ok(()) }
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::crud::ModelExt;
use crate::db::Db;
use crate::error::Result;
use crate::model::Model;

/// Makes models of type `M` from a sequence number (0, 1, 2… per factory).
pub struct Factory<M> {
    make: Arc<dyn Fn(u64) -> M + Send + Sync>,
    next: Arc<AtomicU64>,
}

impl<M> Clone for Factory<M> {
    fn clone(&self) -> Self {
        Self {
            make: self.make.clone(),
            next: self.next.clone(),
        }
    }
}

impl<M> std::fmt::Debug for Factory<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Factory")
            .field("next", &self.next.load(Ordering::Relaxed))
            .finish()
    }
}

impl<M: Model> Factory<M> {
    /// A factory calling `make` with 0, 1, 2…
    pub fn new(make: impl Fn(u64) -> M + Send + Sync + 'static) -> Self {
        Self {
            make: Arc::new(make),
            next: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The next model, not saved.
    pub fn build(&self) -> M {
        (self.make)(self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// The next model, changed by `edit`, not saved.
    pub fn build_with(&self, edit: impl FnOnce(&mut M)) -> M {
        let mut model = self.build();
        edit(&mut model);
        model
    }

    /// The next model, inserted.
    pub async fn create(&self, db: &Db) -> Result<M> {
        self.create_with(db, |_| {}).await
    }

    /// The next model, changed by `edit`, inserted.
    pub async fn create_with(&self, db: &Db, edit: impl FnOnce(&mut M)) -> Result<M> {
        let mut model = self.build_with(edit);
        model.insert(db).await?;
        Ok(model)
    }

    /// `n` models inserted in bulk.
    pub async fn create_many(&self, db: &Db, n: usize) -> Result<Vec<M>> {
        M::insert_many(db, (0..n).map(|_| self.build()).collect()).await
    }
}
