//! The test models: users, posts (every lookup's field type, foreign keys incl. a
//! self-reference, automatic many-to-many incl. a self-referencing one, JSON, timestamps),
//! tags, comments (protecting posts), groups with an explicit `through` model, UUID-keyed
//! docs with a database default — all `#[derive(Model)]` — and notes with hooks, whose
//! `Model` impl is written by hand (without `set_field`).

mod auth;
mod blog;
mod extra;

pub use auth::*;
pub use blog::*;
pub use extra::*;
