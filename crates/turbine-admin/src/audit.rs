//! The admin's log: every create, change and delete made in the admin — who, when, which
//! object, and for changes a field-by-field diff — written in the same transaction as the
//! change itself, shown per object ("History") and for the whole site.
//!
//! ```
//! use serde_json::json;
//! use turbine_admin::audit::diff;
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
//! use turbine_orm::Value;
//!
//! let post = ModelMeta::new("blog", "Post")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("title", FieldType::String { max_length: 80 }));
//! let before = [Value::BigInt(Some(1)), Value::String(Some("old".into()))];
//! let after = [Value::BigInt(Some(1)), Value::String(Some("new".into()))];
//! assert_eq!(diff(&post, Some(&before), &after), json!({"title": ["old", "new"]}));
//! ```

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value as J};
use turbine_macros::Model;
use turbine_orm::meta::ModelMeta;
use turbine_orm::migrate::MigrationSet;
use turbine_orm::query::convert::value_to_json;
use turbine_orm::{Db, ModelExt, Value};

/// The app name of the battery's model and migrations.
pub const APP: &str = "admin";

/// One change made through the admin.
#[derive(Model, Debug, Clone, Serialize)]
#[model(
    app = "admin",
    crate = "turbine_orm",
    ordering = ["-id"],
    index(fields = ["model", "object_id"])
)]
pub struct LogEntry {
    /// Identity key.
    pub id: i64,
    /// When.
    #[field(auto_now_add)]
    pub action_time: DateTime<Utc>,
    /// Who (the account's key; kept when the account is deleted).
    pub user_id: Option<i64>,
    /// Who, readable: the account's email at the time.
    #[field(max_length = 254, default = "")]
    pub user_email: String,
    /// The model, `app.Model`.
    #[field(max_length = 100)]
    pub model: String,
    /// The object's key, as text.
    #[field(max_length = 100)]
    pub object_id: String,
    /// The object's title at the time.
    #[field(max_length = 200, default = "")]
    pub object_repr: String,
    /// `add`, `change` or `delete`.
    #[field(max_length = 10)]
    pub action: String,
    /// `{field: [before, after]}` for the fields that changed (a delete keeps the last values
    /// as `[value, null]`).
    pub changes: serde_json::Value,
}

/// The battery's migrations, named `admin.0001_initial`…
pub fn migrations() -> turbine_orm::Result<MigrationSet> {
    turbine_orm::migrations!("migrations")?.qualified(APP)
}

/// `{field: [before, after]}` for every column field whose value differs (`before` is `None`
/// for a new row: every field is listed).
pub fn diff(meta: &ModelMeta, before: Option<&[Value]>, after: &[Value]) -> J {
    let mut out = Map::new();
    for (i, f) in meta.fields.iter().filter(|f| f.has_column()).enumerate() {
        let new = after.get(i).map(value_to_json).unwrap_or(J::Null);
        let old = before
            .and_then(|b| b.get(i))
            .map(value_to_json)
            .unwrap_or(J::Null);
        if before.is_none() || old != new {
            out.insert(f.name.clone(), J::Array(vec![old, new]));
        }
    }
    J::Object(out)
}

/// `{field: [value, null]}` for every column of a deleted row.
pub fn removed(meta: &ModelMeta, values: &[Value]) -> J {
    let mut changes = diff(meta, None, values);
    if let J::Object(map) = &mut changes {
        for pair in map.values_mut() {
            if let J::Array(p) = pair {
                p.swap(0, 1);
            }
        }
    }
    changes
}

/// Who did it, for the log.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    pub(crate) id: i64,
    pub(crate) email: String,
}

/// Writes one entry (on `db`: the change's transaction).
pub(crate) async fn record(
    db: &Db,
    actor: &Actor,
    meta: &ModelMeta,
    object_id: String,
    object_repr: String,
    action: &str,
    changes: J,
) -> turbine_orm::Result<()> {
    let mut entry = LogEntry {
        id: 0,
        action_time: Utc::now(),
        user_id: Some(actor.id),
        user_email: actor.email.clone(),
        model: meta.label(),
        object_id: truncate(object_id, 100),
        object_repr: truncate(object_repr, 200),
        action: action.to_string(),
        changes,
    };
    entry.insert(db).await
}

fn truncate(mut s: String, max: usize) -> String {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
    s
}
