//! The test models: users, posts (every lookup's field type, foreign keys incl. a
//! self-reference, automatic many-to-many incl. a self-referencing one, JSON, timestamps),
//! tags, comments (protecting posts), groups with an explicit `through` model, UUID-keyed
//! docs with a database default, and notes with hooks (and no `set_field`).

mod auth;
mod blog;
mod extra;

pub use auth::*;
pub use blog::*;
pub use extra::*;

use turbine_orm::{Error, FieldValue, Result, Value};

pub(crate) fn conv<T: FieldValue>(field: &str, value: Value) -> Result<T> {
    T::from_value(value).map_err(|message| Error::Decode {
        field: field.into(),
        message,
    })
}

pub(crate) fn unknown(model: &str, field: &str) -> Error {
    Error::Query(format!("{model} has no field {field}"))
}
