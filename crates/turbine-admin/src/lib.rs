//! Turbine's admin battery: an admin panel generated from model metadata — a dashboard, lists
//! with search, filters, sorting and keyset pages (as fast on page 10,000 of a million rows
//! as on page 1), forms validated like the API, delete pages that list what cascades, bulk
//! actions, and a log of every change with its field-level diff. Staff log in with the auth
//! battery's sessions (CSRF-checked); each page checks the model's `view`/`add`/`change`/
//! `delete` permission. Server-rendered with minijinja (templates overridable), htmx and Pico
//! CSS, embedded in the binary.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use turbine::auth::Auth;
//! use turbine::auth::password::PasswordHasher;
//! use turbine::orm::battery::{Migrations, Orm};
//! use turbine::orm::meta::{FieldMeta, FieldType, ModelMeta};
//! use turbine_admin::{Admin, ModelAdmin};
//!
//! let note = ModelMeta::new("notes", "Note")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("title", FieldType::String { max_length: 80 }));
//! let app = turbine::App::new()
//!     .battery(Orm::new().meta(note.clone()).migrations(Migrations::generated([note.clone()])).auto_migrate(true))
//!     .battery(Auth::new().password_hasher(PasswordHasher::for_tests()))
//!     .battery(Admin::new().model(ModelAdmin::new(note).search(["title"])))
//!     .config(turbine::testing::config("[database]\nurl = 'sqlite::memory:'"));
//! let client = turbine::testing::TestClient::new(app).await.unwrap();
//!
//! // Not signed in: the login page.
//! let res = client.get("/admin/notes/note").send().await.assert_status(303);
//! assert_eq!(res.header("location").unwrap(), "/admin/login?next=%2Fadmin%2Fnotes%2Fnote");
//! client.get("/admin/login").send().await.assert_status(200);
//! # }
//! ```

pub mod audit;
mod display;
mod forms;
pub mod model_admin;
mod site;
mod templates;
mod views;

pub use model_admin::{BulkAction, ModelAdmin};
pub use site::Admin;
