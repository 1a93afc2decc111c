// The public design: every kind of field and every attribute, with only `turbine` (and the
// field types' own crates) in scope.
use chrono::{DateTime, NaiveDate, Utc};
use turbine::orm::meta::{FieldType, OnDelete, RelationKind};
use turbine::orm::{ForeignKey, Json, ManyToMany};
use turbine::{Choices, Model};

#[derive(Model, Debug, Clone)]
#[model(app = "auth")]
pub struct User {
    pub id: uuid::Uuid,
    #[field(max_length = 254, unique)]
    pub email: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "blog")]
pub struct Tag {
    pub id: i64,
    pub name: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "blog")]
pub struct PostTag {
    pub id: i64,
    #[field(on_delete = "cascade")]
    pub post: ForeignKey<Post>,
    #[field(on_delete = "cascade")]
    pub tag: ForeignKey<Tag>,
}

#[derive(Choices, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    #[choice(label = "Draft")]
    Draft,
    #[choice(value = "live", label = "Published")]
    Live,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Extra {
    pub pinned: bool,
}

#[derive(Model, Debug, Clone)]
#[model(app = "blog", table = "blog_post", ordering = ["-created_at", "id"],
        verbose_name = "post", verbose_name_plural = "posts")]
#[model(index(fields = ["author", "created_at"]), unique_together(fields = ["author", "slug"]),
        check(name = "post_views_nonneg", sql = "views >= 0"))]
pub struct Post {
    pub id: i64,
    #[field(max_length = 200, label = "Title", help_text = "Shown in feeds")]
    pub title: String,
    pub slug: String,
    #[field(default = "draft")]
    pub status: Status,
    #[field(on_delete = "cascade", related_name = "posts")]
    pub author: ForeignKey<User>,
    #[field(on_delete = "set_null")]
    pub editor: Option<ForeignKey<User>>,
    #[field(one_to_one, on_delete = "set_null")]
    pub translation_of: Option<ForeignKey<Post>>,
    #[field(through = "blog.PostTag")]
    pub tags: ManyToMany<Tag>,
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
    #[field(auto_now)]
    pub updated_at: DateTime<Utc>,
    #[field(default = 0, db_default = "0")]
    pub views: i64,
    #[field(unique, index, column = "ext", read_only)]
    pub external_id: Option<String>,
    #[field(decimal(precision = 10, scale = 2))]
    pub price: rust_decimal::Decimal,
    pub data: Json<Extra>,
    pub raw: serde_json::Value,
    pub bytes: Vec<u8>,
    pub day: NaiveDate,
    #[field(skip)]
    pub transient: Vec<String>,
}

fn main() {
    use turbine::orm::Model as _;
    let meta = Post::meta();
    assert_eq!(Post::LABEL, "blog.Post");
    assert_eq!(meta.fields.len(), 17, "every field but the skipped one");
    let author = meta.field_named("author").unwrap();
    assert_eq!(author.column, "author_id");
    assert_eq!(author.ty, FieldType::Uuid);
    assert_eq!(author.relation.as_ref().unwrap().on_delete, OnDelete::Cascade);
    let translation = meta.field_named("translation_of").unwrap();
    assert_eq!(translation.relation.as_ref().unwrap().kind, RelationKind::OneToOne);
    assert_eq!(meta.field_named("status").unwrap().choices.len(), 2);
    assert_eq!(meta.field_named("external_id").unwrap().column, "ext");
    assert_eq!(Post::TITLE.name(), "title");
    let _ = (Post::TAGS, PostTag::POST, Tag::NAME, User::EMAIL);
}
