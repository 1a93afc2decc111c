//! The test models: users, posts (every lookup's field type, foreign keys incl. a
//! self-reference, automatic many-to-many incl. a self-referencing one, JSON, timestamps),
//! tags, comments (protecting posts), groups with an explicit `through` model, UUID-keyed
//! docs with a database default, and notes with hooks (and no `set_field`).

use std::sync::{LazyLock, Mutex};

use chrono::{DateTime, Utc};
use turbine_orm::hooks::ChangeKind;
use turbine_orm::meta::{Choice, FieldMeta, FieldType, ModelMeta, OnDelete, Ordering};
use turbine_orm::value::Fields;
use turbine_orm::{Column, Db, Error, FieldValue, ForeignKey, ManyToMany, Model, Result, Value};
use uuid::Uuid;

fn conv<T: FieldValue>(field: &str, value: Value) -> Result<T> {
    T::from_value(value).map_err(|message| Error::Decode {
        field: field.into(),
        message,
    })
}

fn unknown(model: &str, field: &str) -> Error {
    Error::Query(format!("{model} has no field {field}"))
}

// ---------------------------------------------------------------------------------- User

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub active: bool,
}

impl User {
    pub const ID: Column<User, i64> = Column::new("id");
    pub const EMAIL: Column<User, String> = Column::new("email");
    pub const NAME: Column<User, String> = Column::new("name");
    pub const ACTIVE: Column<User, bool> = Column::new("active");

    pub fn new(name: &str) -> Self {
        Self {
            id: 0,
            email: format!("{}@example.com", name.to_lowercase()),
            name: name.into(),
            active: true,
        }
    }
}

impl Model for User {
    type Key = i64;
    const LABEL: &'static str = "auth.User";
    fn meta() -> &'static ModelMeta {
        static META: LazyLock<ModelMeta> = LazyLock::new(|| {
            ModelMeta::new("auth", "User")
                .field(FieldMeta::auto_id())
                .field(FieldMeta::new("email", FieldType::String { max_length: 254 }).unique())
                .field(FieldMeta::new(
                    "name",
                    FieldType::String { max_length: 100 },
                ))
                .field(FieldMeta::new("active", FieldType::Bool).default_value(true))
                .ordering([Ordering::asc("name")])
        });
        &META
    }
    fn from_fields(f: &mut Fields) -> Result<Self> {
        Ok(Self {
            id: f.next()?,
            email: f.next()?,
            name: f.next()?,
            active: f.next()?,
        })
    }
    fn to_values(&self) -> Vec<Value> {
        vec![
            self.id.to_value(),
            self.email.to_value(),
            self.name.to_value(),
            self.active.to_value(),
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
            "email" => self.email = conv(field, value)?,
            "name" => self.name = conv(field, value)?,
            "active" => self.active = conv(field, value)?,
            _ => return Err(unknown(Self::LABEL, field)),
        }
        Ok(())
    }
}

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

// ---------------------------------------------------------------------------------- Group

#[derive(Debug, Clone)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub members: ManyToMany<User>,
}

impl Group {
    pub const NAME: Column<Group, String> = Column::new("name");
    pub const MEMBERS: Column<Group, ManyToMany<User>> = Column::new("members");

    pub fn new(name: &str) -> Self {
        Self {
            id: 0,
            name: name.into(),
            members: ManyToMany::default(),
        }
    }
}

impl Model for Group {
    type Key = i64;
    const LABEL: &'static str = "blog.Group";
    fn meta() -> &'static ModelMeta {
        static META: LazyLock<ModelMeta> = LazyLock::new(|| {
            ModelMeta::new("blog", "Group")
                .field(FieldMeta::auto_id())
                .field(FieldMeta::new("name", FieldType::String { max_length: 50 }))
                .field(FieldMeta::many_to_many("members", "auth.User").through("blog.Membership"))
        });
        &META
    }
    fn from_fields(f: &mut Fields) -> Result<Self> {
        Ok(Self {
            id: f.next()?,
            name: f.next()?,
            members: ManyToMany::default(),
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
    fn relation_mut(&mut self, field: &str) -> Option<&mut dyn std::any::Any> {
        match field {
            "members" => Some(&mut self.members),
            _ => None,
        }
    }
}

/// The explicit `through` model of `Group.members`, with a field of its own.
#[derive(Debug, Clone)]
pub struct Membership {
    pub id: i64,
    pub group: ForeignKey<Group>,
    pub user: ForeignKey<User>,
    pub role: String,
}

impl Membership {
    pub const ROLE: Column<Membership, String> = Column::new("role");
}

impl Model for Membership {
    type Key = i64;
    const LABEL: &'static str = "blog.Membership";
    fn meta() -> &'static ModelMeta {
        static META: LazyLock<ModelMeta> = LazyLock::new(|| {
            ModelMeta::new("blog", "Membership")
                .field(FieldMeta::auto_id())
                .field(FieldMeta::foreign_key(
                    "group",
                    "blog.Group",
                    OnDelete::Cascade,
                ))
                .field(FieldMeta::foreign_key(
                    "user",
                    "auth.User",
                    OnDelete::Cascade,
                ))
                .field(
                    FieldMeta::new("role", FieldType::String { max_length: 20 })
                        .db_default("'member'"),
                )
                .unique_together(&["group", "user"])
        });
        &META
    }
    fn from_fields(f: &mut Fields) -> Result<Self> {
        Ok(Self {
            id: f.next()?,
            group: f.next()?,
            user: f.next()?,
            role: f.next()?,
        })
    }
    fn to_values(&self) -> Vec<Value> {
        vec![
            self.id.to_value(),
            self.group.to_value(),
            self.user.to_value(),
            self.role.to_value(),
        ]
    }
    fn key(&self) -> i64 {
        self.id
    }
    fn set_key(&mut self, key: i64) {
        self.id = key;
    }
}

// ---------------------------------------------------------------------------------- Doc

/// A UUID-keyed model with a database default.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub id: Uuid,
    pub title: String,
    pub size: Option<i32>,
}

impl Doc {
    pub const TITLE: Column<Doc, String> = Column::new("title");

    pub fn new(title: &str) -> Self {
        Self {
            id: Uuid::nil(),
            title: title.into(),
            size: None,
        }
    }
}

impl Model for Doc {
    type Key = Uuid;
    const LABEL: &'static str = "blog.Doc";
    fn meta() -> &'static ModelMeta {
        static META: LazyLock<ModelMeta> = LazyLock::new(|| {
            ModelMeta::new("blog", "Doc")
                .field(FieldMeta::uuid_id())
                .field(FieldMeta::new(
                    "title",
                    FieldType::String { max_length: 100 },
                ))
                .field(
                    FieldMeta::new("size", FieldType::I32)
                        .nullable()
                        .db_default("42"),
                )
        });
        &META
    }
    fn from_fields(f: &mut Fields) -> Result<Self> {
        Ok(Self {
            id: f.next()?,
            title: f.next()?,
            size: f.next()?,
        })
    }
    fn to_values(&self) -> Vec<Value> {
        vec![
            self.id.to_value(),
            self.title.to_value(),
            self.size.to_value(),
        ]
    }
    fn key(&self) -> Uuid {
        self.id
    }
    fn set_key(&mut self, key: Uuid) {
        self.id = key;
    }
    fn set_field(&mut self, field: &str, value: Value) -> Result<()> {
        match field {
            "title" => self.title = conv(field, value)?,
            "size" => self.size = conv(field, value)?,
            _ => return Err(unknown(Self::LABEL, field)),
        }
        Ok(())
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

impl Model for Note {
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
