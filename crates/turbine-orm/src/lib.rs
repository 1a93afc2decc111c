//! Turbine's ORM: model metadata as a runtime value, typed queries built with sea-query, CRUD with
//! lifecycle hooks, transactions, SQLite and PostgreSQL backends, and migrations generated from
//! the models.
//!
//! ```
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta, ModelRegistry, OnDelete};
//!
//! let user = ModelMeta::new("auth", "User")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("email", FieldType::String { max_length: 254 }).unique());
//! let post = ModelMeta::new("blog", "Post")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("title", FieldType::String { max_length: 200 }).label("Title"))
//!     .field(FieldMeta::foreign_key("author", "auth.User", OnDelete::Cascade));
//!
//! let mut registry = ModelRegistry::new();
//! registry.register(user).unwrap();
//! registry.register(post).unwrap();
//! let registry = registry.finish().unwrap();
//! assert_eq!(registry.get("blog.Post").unwrap().table, "blog_post");
//! assert_eq!(registry.get("blog.Post").unwrap().field_named("author").unwrap().column, "author_id");
//! assert_eq!(registry.related("auth.User").len(), 1, "the reverse side of the foreign key");
//! ```

pub mod backend;
pub mod battery;
pub mod crud;
pub mod db;
pub mod error;
pub mod factory;
pub mod hooks;
pub mod meta;
pub mod migrate;
pub mod model;
pub mod query;
pub mod schema;
pub mod testing;
pub mod value;

pub use crud::{ModelExt, Record};
pub use db::Db;
pub use error::{Error, Result};
pub use model::{Column, ForeignKey, ManyToMany, Model, ModelHooks};
pub use value::{FieldValue, Json, Row, Value};

/// What generated code (`#[derive(Model)]`) names; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use chrono;
    pub use rust_decimal;
    pub use sea_query;
    pub use serde_json;
    pub use uuid;
}
