//! Turbine's ORM. This release holds its spine: model metadata as a runtime value and the registry
//! of an app's models, which the query builder, migrations, admin and REST resources will read.
//! The derive, queries, backends and migrations arrive next (issue 3).
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

pub mod meta;
