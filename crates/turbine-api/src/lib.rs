//! Turbine's API battery: REST resources generated from model metadata — list, retrieve,
//! create, update and delete, with filters, search, ordering, sparse fields, expansion of
//! related objects, cursor pagination, validation with per-field errors, permissions from the
//! auth battery, `ETag`s and conditional requests.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use serde_json::{Value, json};
//! use turbine::auth::Auth;
//! use turbine::auth::password::PasswordHasher;
//! use turbine::orm::battery::{Migrations, Orm};
//! use turbine::orm::meta::{FieldMeta, FieldType, ModelMeta};
//! use turbine_api::{Api, Resource};
//!
//! let note = ModelMeta::new("notes", "Note")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("title", FieldType::String { max_length: 80 }))
//!     .field(FieldMeta::new("done", FieldType::Bool).default_value(false));
//! let app = turbine::App::new()
//!     .battery(Orm::new().meta(note.clone()).migrations(Migrations::generated([note.clone()])).auto_migrate(true))
//!     .battery(Auth::new().password_hasher(PasswordHasher::for_tests()))
//!     .battery(Api::new().resource(Resource::new(note).public_read().filter_fields(["done"])))
//!     .config(turbine::testing::config("[database]\nurl = 'sqlite::memory:'"));
//! let client = turbine::testing::TestClient::new(app).await.unwrap();
//!
//! let page: Value = client.get("/notes?done=false").send().await.json();
//! assert_eq!(page["items"], json!([]));
//! // Writes need the model permission (`notes.note.add`): anonymous is 401.
//! client.post("/notes").json(&json!({"title": "hi"})).send().await.assert_status(401);
//! // Filters are checked against the resource's list.
//! client.get("/notes?title=hi").send().await.assert_status(400);
//! # }
//! ```

mod access;
mod api;
pub mod body;
mod cursor;
mod docs;
mod http;
pub mod idempotency;
mod item;
mod list;
mod openapi;
mod render;
pub mod resource;
pub mod store;

pub use api::Api;
pub use resource::{
    ComputeFn, Op, OwnerFn, Pagination, Resource, Rule, ScopeFn, Validator, count_of,
};
