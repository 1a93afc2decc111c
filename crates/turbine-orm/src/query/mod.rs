//! Queries over models: filters, ordering, eager loading, aggregates, pagination and bulk writes.
//!
//! Two layers share one implementation. [`Query`] is untyped: it works on a model's
//! [`ModelMeta`](crate::meta::ModelMeta) and returns [`Row`](crate::Row)s, so models defined at
//! runtime use it. [`QuerySet<M>`] is typed: columns are constants of the model
//! (`Post::TITLE`), lookups are checked by the compiler, and rows come back as `M`.
//!
//! ```
//! use turbine_orm::backend::Dialect;
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
//! use turbine_orm::query::{Filter, Query};
//!
//! let post = ModelMeta::new("blog", "Post")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("views", FieldType::I64));
//! let q = Query::new(&post).filter(Filter::parse_lookup(&post, "views__gte", "10").unwrap());
//! let stmt = q.to_statement(Dialect::Sqlite).unwrap();
//! assert_eq!(stmt.sql, r#"SELECT "id", "views" FROM "blog_post" WHERE "views" >= ?"#);
//! assert_eq!(stmt.values.as_slice(), [turbine_orm::Value::BigInt(Some(10))]);
//! ```

mod aggregate;
mod bulk;
mod column;
mod compile;
pub mod convert;
mod eager;
mod expr;
mod filter;
mod grouped;
mod m2m;
mod order;
mod paginate;
mod parse;
mod pattern;
mod queryset;
pub mod raw;
mod select;

pub use aggregate::{Agg, AggFunc, Aggregate};
pub use bulk::Update;
pub(crate) use bulk::check_protected;
pub use column::{JsonColumn, JsonKey, TextColumn};
pub use eager::{Children, ForeignKeyField, Prefetch, PrefetchField};
pub use expr::{ArithOp, Expr, IntoExpr, Numeric, TypedExpr};
pub use filter::{Condition, Filter, Lookup, Q, RelatedModel, Target};
pub use grouped::Grouped;
pub use m2m::{M2mLink, ManyToManyManager};
pub use order::{Field, Nulls, Order, OrderBy};
pub use paginate::{Cursor, Page};
pub use queryset::{GroupBy, QuerySet, UpdateSet};
pub use select::Query;
