//! UUID-keyed docs with a database default; notes with hooks, implementing `Model` by hand
//! (without `set_field`, so the ORM rebuilds them after a write: the trait's contract as a
//! hand-written impl sees it).

use std::sync::{LazyLock, Mutex};

use chrono::{DateTime, Utc};
use turbine::Model;
use turbine_orm::hooks::ChangeKind;
use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
use turbine_orm::value::Fields;
use turbine_orm::{Column, Db, Error, FieldValue, Result, Value};
use uuid::Uuid;

// ---------------------------------------------------------------------------------- Doc

/// A UUID-keyed model with a database default.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "blog")]
pub struct Doc {
    pub id: Uuid,
    #[field(max_length = 100)]
    pub title: String,
    #[field(db_default = "42")]
    pub size: Option<i32>,
}

impl Doc {
    pub fn new(title: &str) -> Self {
        Self {
            id: Uuid::nil(),
            title: title.into(),
            size: None,
        }
    }
}

// ---------------------------------------------------------------------------------- Note

/// What the hooks of notes saw, as `"<hook> <title>"` lines (tests filter by their titles).
pub static HOOK_LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn hook_log(title: &str) -> Vec<String> {
    HOOK_LOG
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.ends_with(&format!(" {title}")))
        .cloned()
        .collect()
}

fn log(line: String) {
    HOOK_LOG.lock().unwrap().push(line);
}

/// A model with hooks; it does not implement `set_field` (the ORM rebuilds it instead).
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub stamp: DateTime<Utc>,
}

impl Note {
    pub const TITLE: Column<Note, String> = Column::new("title");

    pub fn new(title: &str) -> Self {
        Self {
            id: 0,
            title: title.into(),
            slug: String::new(),
            stamp: DateTime::<Utc>::MIN_UTC,
        }
    }
}

impl turbine_orm::Model for Note {
    type Key = i64;
    const LABEL: &'static str = "blog.Note";
    fn meta() -> &'static ModelMeta {
        static META: LazyLock<ModelMeta> = LazyLock::new(|| {
            ModelMeta::new("blog", "Note")
                .field(FieldMeta::auto_id())
                .field(FieldMeta::new(
                    "title",
                    FieldType::String { max_length: 100 },
                ))
                .field(FieldMeta::new("slug", FieldType::String { max_length: 100 }).unique())
                .field(FieldMeta::new("stamp", FieldType::DateTime).auto_now())
        });
        &META
    }
    fn from_fields(f: &mut Fields) -> Result<Self> {
        Ok(Self {
            id: f.next()?,
            title: f.next()?,
            slug: f.next()?,
            stamp: f.next()?,
        })
    }
    fn to_values(&self) -> Vec<Value> {
        vec![
            self.id.to_value(),
            self.title.to_value(),
            self.slug.to_value(),
            self.stamp.to_value(),
        ]
    }
    fn key(&self) -> i64 {
        self.id
    }
    fn set_key(&mut self, key: i64) {
        self.id = key;
    }
    async fn before_save(&mut self, _db: &Db, kind: ChangeKind) -> Result<()> {
        if self.title == "forbidden" {
            return Err(Error::Validation {
                field: "title".into(),
                message: "not this one".into(),
            });
        }
        self.slug = self.title.to_lowercase().replace(' ', "-");
        log(format!("before_save:{kind:?} {}", self.title));
        Ok(())
    }
    async fn after_save(&self, _db: &Db, kind: ChangeKind) -> Result<()> {
        log(format!("after_save:{kind:?}:{} {}", self.id, self.title));
        Ok(())
    }
    async fn before_delete(&self, _db: &Db) -> Result<()> {
        log(format!("before_delete {}", self.title));
        Ok(())
    }
    async fn after_delete(&self, _db: &Db) -> Result<()> {
        log(format!("after_delete {}", self.title));
        Ok(())
    }
}
