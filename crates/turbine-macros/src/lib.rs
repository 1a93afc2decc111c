//! Turbine's derive macros. Use them through the facade: `turbine::Model` and
//! `turbine::Choices` (feature `orm`); the expansion logic lives in `turbine-macros-core`.
//!
//! ```
//! use turbine::{Choices, Model};
//! use turbine::orm::ForeignKey;
//!
//! #[derive(Model, Debug, Clone)]
//! #[model(app = "blog")]
//! pub struct Author {
//!     pub id: i64,
//!     #[field(max_length = 100)]
//!     pub name: String,
//! }
//!
//! #[derive(Choices, Debug, Clone, Copy, PartialEq, Eq)]
//! pub enum Status {
//!     Draft,
//!     #[choice(value = "live", label = "Published")]
//!     Live,
//! }
//!
//! #[derive(Model, Debug, Clone)]
//! #[model(app = "blog", ordering = ["-id"])]
//! pub struct Post {
//!     pub id: i64,
//!     #[field(max_length = 200)]
//!     pub title: String,
//!     pub status: Status,
//!     #[field(on_delete = "cascade", related_name = "posts")]
//!     pub author: ForeignKey<Author>,
//! }
//!
//! let meta = Post::meta();
//! assert_eq!(meta.table, "blog_post");
//! assert_eq!(meta.field_named("author").unwrap().column, "author_id");
//! assert_eq!(meta.field_named("status").unwrap().choices.len(), 2);
//! assert_eq!(Post::TITLE.name(), "title");
//! assert_eq!(Status::Live.as_str(), "live");
//! ```

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `turbine::orm::Model` for a struct with named fields: its metadata
/// (`Post::meta()`), reading and writing rows, the primary key, and typed column constants
/// (`Post::TITLE`) for queries.
///
/// ```
/// use turbine::Model;
/// use turbine::orm::{ForeignKey, ManyToMany};
/// use chrono::{DateTime, Utc};
///
/// #[derive(Model, Debug, Clone)]
/// #[model(app = "blog")]
/// pub struct Tag {
///     pub id: i64,
///     #[field(max_length = 50, unique)]
///     pub name: String,
/// }
///
/// #[derive(Model, Debug, Clone)]
/// #[model(app = "blog", ordering = ["-created_at", "id"], verbose_name = "blog post")]
/// #[model(index(fields = ["title", "created_at"]), check(name = "views_nonneg", sql = "views >= 0"))]
/// pub struct Post {
///     pub id: i64, // `id: i64` (or i32) is an automatic identity key; `id: Uuid` a UUID v7 key
///     #[field(max_length = 200, label = "Title", help_text = "Shown in feeds")]
///     pub title: String, // `String` with max_length is VARCHAR(n); without, TEXT
///     pub body: Option<String>, // `Option<T>` is nullable
///     #[field(on_delete = "set_null")]
///     pub reply_to: Option<ForeignKey<Post>>, // a self-reference, column `reply_to_id`
///     pub tags: ManyToMany<Tag>, // no column; a join table
///     #[field(default = 0, db_default = "0")]
///     pub views: i64,
///     #[field(auto_now_add)]
///     pub created_at: DateTime<Utc>,
///     #[field(skip)]
///     pub cached_html: Option<String>, // not stored; `Default` when loaded
/// }
///
/// let meta = Post::meta();
/// assert_eq!(meta.label(), "blog.Post");
/// assert_eq!(meta.verbose_name_plural, "blog posts");
/// assert_eq!(meta.field_named("reply_to").unwrap().column, "reply_to_id");
/// assert!(meta.field_named("cached_html").is_none());
/// assert_eq!(Post::VIEWS.name(), "views");
/// ```
///
/// # Model attributes: `#[model(…)]` (several `#[model]` attributes add up)
///
/// | attribute | meaning | default |
/// |---|---|---|
/// | `app = "blog"` | the app owning the model; the label is `app.Name` | the crate's name |
/// | `table = "blog_post"` | the table | `<app>_<name in snake case>` |
/// | `ordering = ["-created_at", "id"]` | default ordering; `-` is descending | none |
/// | `verbose_name = "post"`, `verbose_name_plural = "posts"` | human names | from the name |
/// | `hooks` | the lifecycle hooks call your `impl ModelHooks for Post` | no hooks |
/// | `index(fields = ["a", "b"], name = "…")` | an index (name optional) | |
/// | `unique_together(fields = ["a", "b"], name = "…")` | a unique constraint over fields | |
/// | `check(name = "…", sql = "views >= 0")` | a check constraint (SQL valid on every backend) | |
/// | `crate = "turbine_orm"` | the ORM's path in generated code (for batteries, which cannot depend on the `turbine` facade) | `turbine::__private::orm` |
///
/// # Field attributes: `#[field(…)]`
///
/// | attribute | applies to | meaning |
/// |---|---|---|
/// | `primary_key` | a column field | the primary key (else the field `id`) |
/// | `max_length = 200` | `String` | `VARCHAR(200)` (else `TEXT`) |
/// | `decimal(precision = 10, scale = 2)` | `Decimal` | `NUMERIC(10, 2)` (else 19, 4) |
/// | `label = "…"`, `help_text = "…"` | any | human label (else the name in words) and help |
/// | `unique`, `index` | a column field | unique across rows; indexed |
/// | `column = "…"` | a column field | the column name (else the name; `<name>_id` for a foreign key) |
/// | `read_only` | any | not editable in the admin or the API |
/// | `default = 0` / `"draft"` / `true` | a column field | a value the ORM fills in (a literal) |
/// | `db_default = "0"` | a column field | an SQL default in the table definition |
/// | `auto_now_add`, `auto_now` | `DateTime<Utc>`, `NaiveDate` | set on insert / on every save; read-only |
/// | `on_delete = "cascade"` | `ForeignKey<T>` (required) | `"cascade"`, `"restrict"`, `"set_null"` (needs `Option`), `"protect"` |
/// | `one_to_one` | `ForeignKey<T>` | a unique foreign key |
/// | `related_name = "posts"` | `ForeignKey<T>`, `ManyToMany<T>` | the reverse accessor on the target |
/// | `through = "blog.PostTag"` | `ManyToMany<T>` | an explicit join model (else an automatic one) |
/// | `skip` | any (alone) | not stored; `Default::default()` when loaded |
///
/// Foreign keys and many-to-many fields are recognised by their type as written:
/// `ForeignKey<T>`, `Option<ForeignKey<T>>`, `ManyToMany<T>` (any path ending so). Every other
/// field type must implement `turbine::orm::FieldValue`.
///
/// # Generated code
///
/// - `impl Model for Post`: `type Key` (the primary key's type), `LABEL` (`"app.Post"`),
///   `meta()` (built once), `from_fields` / `to_values` (column fields in declaration order),
///   `key` / `set_key`, `set_field` (any column field but the key, from a `Value`: how inserts
///   and saves write back what they filled in without touching loaded relations),
///   `relation_mut` (the `ForeignKey<T>`, `Option<ForeignKey<T>>` and `ManyToMany<T>` fields,
///   which `select_related` / `prefetch` fill), and with `#[model(hooks)]` hook methods
///   forwarding to `ModelHooks`.
/// - In `impl Post`: one constant per stored field, `Post::TITLE: Column<Post, String>`
///   (the field's name in capitals, with the field's visibility). A field named `label` makes
///   `Post::LABEL` its column; the model's label is then `<Post as Model>::LABEL`.
///
/// Mistakes are compile errors at the field or attribute: unknown keys (listing the valid
/// ones), values of the wrong type, `max_length` on a non-`String`, `auto_now` on a non-date,
/// a foreign key without `on_delete`, two primary keys, no primary key, generics, tuple structs.
#[proc_macro_derive(Model, attributes(model, field))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    turbine_macros_core::expand_model(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives a string-backed enum for model fields: unit variants, each stored as a string
/// (its `value`, by default the variant's name in snake case) with a human `label` (by
/// default the name in words).
///
/// ```
/// use turbine::Choices;
/// use turbine::orm::FieldValue;
/// use turbine::orm::meta::FieldType;
///
/// #[derive(Choices, Debug, Clone, Copy, PartialEq, Eq)]
/// pub enum Status {
///     #[choice(label = "Draft")]
///     Draft,
///     InReview,
///     #[choice(value = "live", label = "Published")]
///     Live,
/// }
///
/// assert_eq!(Status::InReview.as_str(), "in_review");
/// assert_eq!(Status::InReview.label(), "In review");
/// assert_eq!(Status::Live.to_string(), "live");
/// assert_eq!("live".parse::<Status>(), Ok(Status::Live));
/// assert_eq!(Status::ALL.len(), 3);
/// // Stored as VARCHAR as long as the longest value; only these values are accepted.
/// assert_eq!(Status::field_type(), FieldType::String { max_length: 9 });
/// assert_eq!(Status::choices()[2].label, "Published");
/// let err = "gone".parse::<Status>().unwrap_err();
/// assert_eq!(err.to_string(), r#"`gone` is not a Status; expected one of "draft", "in_review", "live""#);
/// ```
///
/// It implements `FieldValue` (with `choices()`, so a model field of this type gets the
/// choices in its metadata), `Display`, `FromStr`, and adds `as_str()`, `label()` and `ALL`.
/// Reading a value that is none of the choices from the database is a decode error naming
/// the allowed values.
#[proc_macro_derive(Choices, attributes(choice))]
pub fn derive_choices(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    turbine_macros_core::expand_choices(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
