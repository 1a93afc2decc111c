//! Posts (every lookup's field type, a self-reference, many-to-many incl. a self-referencing
//! one, JSON, timestamps), tags, comments protecting posts.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use turbine_orm::meta::{Choice, FieldMeta, FieldType, ModelMeta, OnDelete, Ordering};
use turbine_orm::value::Fields;
use turbine_orm::{Column, FieldValue, ForeignKey, ManyToMany, Model, Result, Value};

use super::{User, conv, unknown};

// ---------------------------------------------------------------------------------- Tag

#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    pub id: i64,
    pub name: String,
}

impl Tag {
    pub const ID: Column<Tag, i64> = Column::new("id");
    pub const NAME: Column<Tag, String> = Column::new("name");

    pub fn new(name: &str) -> Self {
        Self {
            id: 0,
            name: name.into(),
        }
    }
}

impl Model for Tag {
    type Key = i64;
    const LABEL: &'static str = "blog.Tag";
    fn meta() -> &'static ModelMeta {
        static META: LazyLock<ModelMeta> = LazyLock::new(|| {
            ModelMeta::new("blog", "Tag")
                .field(FieldMeta::auto_id())
                .field(FieldMeta::new("name", FieldType::String { max_length: 50 }).unique())
                .ordering([Ordering::asc("name")])
        });
        &META
    }
    fn from_fields(f: &mut Fields) -> Result<Self> {
        Ok(Self {
            id: f.next()?,
            name: f.next()?,
        })
    }
    fn to_values(&self) -> Vec<Value> {
        vec![self.id.to_value(), self.name.to_value()]
    }
    fn key(&self) -> i64 {
        self.id
    }
    fn set_key(&mut self, key: i64) {
        self.id = key;
    }
    fn set_field(&mut self, field: &str, value: Value) -> Result<()> {
        match field {
            "name" => self.name = conv(field, value)?,
            _ => return Err(unknown(Self::LABEL, field)),
        }
        Ok(())
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

#[derive(Debug, Clone)]
pub struct Post {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub status: Status,
    pub views: i64,
    pub rating: Option<f64>,
    pub author: ForeignKey<User>,
    pub editor: Option<ForeignKey<User>>,
    pub reply_to: Option<ForeignKey<Post>>,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub tags: ManyToMany<Tag>,
    pub related: ManyToMany<Post>,
}

impl Post {
    pub const ID: Column<Post, i64> = Column::new("id");
    pub const TITLE: Column<Post, String> = Column::new("title");
    pub const BODY: Column<Post, String> = Column::new("body");
    pub const STATUS: Column<Post, Status> = Column::new("status");
    pub const VIEWS: Column<Post, i64> = Column::new("views");
    pub const RATING: Column<Post, Option<f64>> = Column::new("rating");
    pub const AUTHOR: Column<Post, ForeignKey<User>> = Column::new("author");
    pub const EDITOR: Column<Post, Option<ForeignKey<User>>> = Column::new("editor");
    pub const REPLY_TO: Column<Post, Option<ForeignKey<Post>>> = Column::new("reply_to");
    pub const DATA: Column<Post, serde_json::Value> = Column::new("data");
    pub const CREATED_AT: Column<Post, DateTime<Utc>> = Column::new("created_at");
    pub const UPDATED_AT: Column<Post, DateTime<Utc>> = Column::new("updated_at");
    pub const TAGS: Column<Post, ManyToMany<Tag>> = Column::new("tags");
    pub const RELATED: Column<Post, ManyToMany<Post>> = Column::new("related");

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

impl Model for Post {
    type Key = i64;
    const LABEL: &'static str = "blog.Post";
    fn meta() -> &'static ModelMeta {
        static META: LazyLock<ModelMeta> = LazyLock::new(|| {
            ModelMeta::new("blog", "Post")
                .field(FieldMeta::auto_id())
                .field(FieldMeta::new(
                    "title",
                    FieldType::String { max_length: 200 },
                ))
                .field(FieldMeta::new("body", FieldType::Text))
                .field(
                    FieldMeta::new("status", Status::field_type())
                        .choices(Status::choices())
                        .default_value("draft"),
                )
                .field(FieldMeta::new("views", FieldType::I64))
                .field(FieldMeta::new("rating", FieldType::F64).nullable())
                .field(
                    FieldMeta::foreign_key("author", "auth.User", OnDelete::Cascade)
                        .related_name("posts"),
                )
                .field(
                    FieldMeta::foreign_key("editor", "auth.User", OnDelete::SetNull)
                        .nullable()
                        .related_name("edited"),
                )
                .field(
                    FieldMeta::foreign_key("reply_to", "blog.Post", OnDelete::SetNull).nullable(),
                )
                .field(FieldMeta::new("data", FieldType::Json))
                .field(FieldMeta::new("created_at", FieldType::DateTime).auto_now_add())
                .field(FieldMeta::new("updated_at", FieldType::DateTime).auto_now())
                .field(FieldMeta::many_to_many("tags", "blog.Tag"))
                .field(FieldMeta::many_to_many("related", "blog.Post"))
                .ordering([Ordering::desc("created_at"), Ordering::desc("id")])
        });
        &META
    }
    fn from_fields(f: &mut Fields) -> Result<Self> {
        Ok(Self {
            id: f.next()?,
            title: f.next()?,
            body: f.next()?,
            status: f.next()?,
            views: f.next()?,
            rating: f.next()?,
            author: f.next()?,
            editor: f.next()?,
            reply_to: f.next()?,
            data: f.next()?,
            created_at: f.next()?,
            updated_at: f.next()?,
            tags: ManyToMany::default(),
            related: ManyToMany::default(),
        })
    }
    fn to_values(&self) -> Vec<Value> {
        vec![
            self.id.to_value(),
            self.title.to_value(),
            self.body.to_value(),
            self.status.to_value(),
            self.views.to_value(),
            self.rating.to_value(),
            self.author.to_value(),
            self.editor.to_value(),
            self.reply_to.to_value(),
            self.data.to_value(),
            self.created_at.to_value(),
            self.updated_at.to_value(),
        ]
    }
    fn key(&self) -> i64 {
        self.id
    }
    fn set_key(&mut self, key: i64) {
        self.id = key;
    }
    fn set_field(&mut self, field: &str, value: Value) -> Result<()> {
        match field {
            "title" => self.title = conv(field, value)?,
            "body" => self.body = conv(field, value)?,
            "status" => self.status = conv(field, value)?,
            "views" => self.views = conv(field, value)?,
            "rating" => self.rating = conv(field, value)?,
            "author" => self.author = conv(field, value)?,
            "editor" => self.editor = conv(field, value)?,
            "reply_to" => self.reply_to = conv(field, value)?,
            "data" => self.data = conv(field, value)?,
            "created_at" => self.created_at = conv(field, value)?,
            "updated_at" => self.updated_at = conv(field, value)?,
            _ => return Err(unknown(Self::LABEL, field)),
        }
        Ok(())
    }
    fn relation_mut(&mut self, field: &str) -> Option<&mut dyn std::any::Any> {
        match field {
            "author" => Some(&mut self.author),
            "editor" => Some(&mut self.editor),
            "reply_to" => Some(&mut self.reply_to),
            "tags" => Some(&mut self.tags),
            "related" => Some(&mut self.related),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------- Comment

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: i64,
    pub post: ForeignKey<Post>,
    pub body: String,
}

impl Comment {
    pub const POST: Column<Comment, ForeignKey<Post>> = Column::new("post");
    pub const BODY: Column<Comment, String> = Column::new("body");

    pub fn new(post: &Post, body: &str) -> Self {
        Self {
            id: 0,
            post: ForeignKey::from(post),
            body: body.into(),
        }
    }
}

impl Model for Comment {
    type Key = i64;
    const LABEL: &'static str = "blog.Comment";
    fn meta() -> &'static ModelMeta {
        static META: LazyLock<ModelMeta> = LazyLock::new(|| {
            ModelMeta::new("blog", "Comment")
                .field(FieldMeta::auto_id())
                .field(FieldMeta::foreign_key(
                    "post",
                    "blog.Post",
                    OnDelete::Protect,
                ))
                .field(FieldMeta::new("body", FieldType::Text))
        });
        &META
    }
    fn from_fields(f: &mut Fields) -> Result<Self> {
        Ok(Self {
            id: f.next()?,
            post: f.next()?,
            body: f.next()?,
        })
    }
    fn to_values(&self) -> Vec<Value> {
        vec![
            self.id.to_value(),
            self.post.to_value(),
            self.body.to_value(),
        ]
    }
    fn key(&self) -> i64 {
        self.id
    }
    fn set_key(&mut self, key: i64) {
        self.id = key;
    }
    fn relation_mut(&mut self, field: &str) -> Option<&mut dyn std::any::Any> {
        match field {
            "post" => Some(&mut self.post),
            _ => None,
        }
    }
}
