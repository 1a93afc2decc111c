//! Posts (every lookup's field type, a self-reference, many-to-many incl. a self-referencing
//! one, JSON, timestamps), tags, comments protecting posts.

use chrono::{DateTime, Utc};
use turbine::Model;
use turbine_orm::meta::{Choice, FieldType};
use turbine_orm::{FieldValue, ForeignKey, ManyToMany, Value};

use super::User;

// ---------------------------------------------------------------------------------- Tag

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "blog", ordering = ["name"])]
pub struct Tag {
    pub id: i64,
    #[field(max_length = 50, unique)]
    pub name: String,
}

impl Tag {
    pub fn new(name: &str) -> Self {
        Self {
            id: 0,
            name: name.into(),
        }
    }
}

// ---------------------------------------------------------------------------------- Post

/// A string-backed enum (what `#[derive(Choices)]` produces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Draft,
    Live,
}

impl FieldValue for Status {
    fn field_type() -> FieldType {
        FieldType::String { max_length: 16 }
    }
    fn choices() -> Vec<Choice> {
        vec![Choice::new("draft", "Draft"), Choice::new("live", "Live")]
    }
    fn to_value(&self) -> Value {
        match self {
            Status::Draft => "draft",
            Status::Live => "live",
        }
        .into()
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match String::from_value(value)?.as_str() {
            "draft" => Ok(Status::Draft),
            "live" => Ok(Status::Live),
            other => Err(format!("`{other}` is not a status")),
        }
    }
}

#[derive(Model, Debug, Clone)]
#[model(app = "blog", ordering = ["-created_at", "-id"])]
pub struct Post {
    pub id: i64,
    #[field(max_length = 200)]
    pub title: String,
    pub body: String,
    #[field(default = "draft")]
    pub status: Status,
    pub views: i64,
    pub rating: Option<f64>,
    #[field(on_delete = "cascade", related_name = "posts")]
    pub author: ForeignKey<User>,
    #[field(on_delete = "set_null", related_name = "edited")]
    pub editor: Option<ForeignKey<User>>,
    #[field(on_delete = "set_null")]
    pub reply_to: Option<ForeignKey<Post>>,
    pub data: serde_json::Value,
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
    #[field(auto_now)]
    pub updated_at: DateTime<Utc>,
    pub tags: ManyToMany<Tag>,
    pub related: ManyToMany<Post>,
}

impl Post {
    pub fn new(author: &User, title: &str) -> Self {
        Self {
            id: 0,
            title: title.into(),
            body: String::new(),
            status: Status::Draft,
            views: 0,
            rating: None,
            author: ForeignKey::from(author),
            editor: None,
            reply_to: None,
            data: serde_json::json!({}),
            created_at: DateTime::<Utc>::MIN_UTC,
            updated_at: DateTime::<Utc>::MIN_UTC,
            tags: ManyToMany::default(),
            related: ManyToMany::default(),
        }
    }
}

// ---------------------------------------------------------------------------------- Comment

#[derive(Model, Debug, Clone)]
#[model(app = "blog")]
pub struct Comment {
    pub id: i64,
    #[field(on_delete = "protect")]
    pub post: ForeignKey<Post>,
    pub body: String,
}

impl Comment {
    pub fn new(post: &Post, body: &str) -> Self {
        Self {
            id: 0,
            post: ForeignKey::from(post),
            body: body.into(),
        }
    }
}
