//! `#[derive(Model)]` at run time: the metadata equals a hand-built `ModelMeta`, values
//! round-trip through `from_fields(to_values())`, self-references and mutual references build
//! their metadata without deadlock, and the models register and `finish()` in a registry.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use turbine::orm::meta::{
    Choice, FieldMeta, FieldType, IndexKind, ModelMeta, ModelRegistry, OnDelete, Ordering,
    RelationKind,
};
use turbine::orm::value::{Fields, Row};
use turbine::orm::{Column, FieldValue, ForeignKey, Json, ManyToMany, Value};
use turbine::{Choices, Model};
use uuid::Uuid;

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "auth")]
struct User {
    id: Uuid,
    #[field(max_length = 254, unique)]
    email: String,
}

#[derive(Model, Debug, Clone)]
#[model(app = "blog")]
struct Tag {
    id: i32,
    #[field(max_length = 50)]
    name: String,
}

#[derive(Choices, Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    #[choice(label = "Draft")]
    Draft,
    #[choice(value = "live", label = "Published")]
    Live,
    InReview,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Extra {
    pinned: bool,
}

#[derive(Model, Debug, Clone)]
#[model(app = "blog", table = "blog_posts", ordering = ["-created_at", "id"],
        verbose_name = "post", verbose_name_plural = "posts")]
#[model(index(fields = ["author", "created_at"]), unique_together(fields = ["author", "slug"]),
        index(fields = ["slug"], name = "post_slug"),
        index(fields = ["title"], kind = "trigram"),
        index(fields = ["slug", "title"], name = "post_search", kind = "trigram"),
        check(name = "post_views_nonneg", sql = "views >= 0"))]
struct Post {
    id: i64,
    #[field(max_length = 200, label = "Title", help_text = "Shown in feeds")]
    title: String,
    slug: String,
    #[field(default = "draft")]
    status: Status,
    previous_status: Option<Status>,
    #[field(on_delete = "cascade", related_name = "posts")]
    author: ForeignKey<User>,
    #[field(on_delete = "set_null")]
    editor: Option<ForeignKey<User>>,
    #[field(through = "blog.PostTag", related_name = "posts")]
    tags: ManyToMany<Tag>,
    also_tags: ManyToMany<Tag>,
    #[field(auto_now_add)]
    created_at: DateTime<Utc>,
    #[field(auto_now)]
    updated_at: DateTime<Utc>,
    #[field(default = 0, db_default = "0")]
    views: i64,
    #[field(default = -1)]
    rank: i32,
    #[field(unique, index, column = "ext_ref", read_only)]
    external: Option<String>,
    #[field(decimal(precision = 10, scale = 2))]
    price: Decimal,
    data: Json<Extra>,
    raw: serde_json::Value,
    bytes: Vec<u8>,
    day: NaiveDate,
    score: f64,
    flag: bool,
    #[field(skip)]
    transient: Vec<String>,
}

fn hand_built_post() -> ModelMeta {
    let mut author =
        FieldMeta::foreign_key("author", "auth.User", OnDelete::Cascade).related_name("posts");
    author.ty = FieldType::Uuid;
    let mut editor = FieldMeta::foreign_key("editor", "auth.User", OnDelete::SetNull).nullable();
    editor.ty = FieldType::Uuid;
    let status = vec![
        Choice::new("draft", "Draft"),
        Choice::new("live", "Published"),
        Choice::new("in_review", "In review"),
    ];
    let mut m = ModelMeta::new("blog", "Post")
        .table("blog_posts")
        .field(FieldMeta::auto_id())
        .field(
            FieldMeta::new("title", FieldType::String { max_length: 200 })
                .label("Title")
                .help_text("Shown in feeds"),
        )
        .field(FieldMeta::new("slug", FieldType::Text))
        .field(
            FieldMeta::new("status", FieldType::String { max_length: 9 })
                .choices(status.clone())
                .default_value("draft"),
        )
        .field(
            FieldMeta::new("previous_status", FieldType::String { max_length: 9 })
                .choices(status)
                .nullable(),
        )
        .field(author)
        .field(editor)
        .field(
            FieldMeta::many_to_many("tags", "blog.Tag")
                .through("blog.PostTag")
                .related_name("posts"),
        )
        .field(FieldMeta::many_to_many("also_tags", "blog.Tag"))
        .field(FieldMeta::new("created_at", FieldType::DateTime).auto_now_add())
        .field(FieldMeta::new("updated_at", FieldType::DateTime).auto_now())
        .field(
            FieldMeta::new("views", FieldType::I64)
                .default_value(0)
                .db_default("0"),
        )
        .field(FieldMeta::new("rank", FieldType::I32).default_value(-1))
        .field(
            FieldMeta::new("external", FieldType::Text)
                .nullable()
                .unique()
                .index()
                .column("ext_ref")
                .read_only(),
        )
        .field(FieldMeta::new(
            "price",
            FieldType::Decimal {
                precision: 10,
                scale: 2,
            },
        ))
        .field(FieldMeta::new("data", FieldType::Json))
        .field(FieldMeta::new("raw", FieldType::Json))
        .field(FieldMeta::new("bytes", FieldType::Bytes))
        .field(FieldMeta::new("day", FieldType::Date))
        .field(FieldMeta::new("score", FieldType::F64))
        .field(FieldMeta::new("flag", FieldType::Bool))
        .index(&["author", "created_at"])
        .unique_together(&["author", "slug"]);
    m.indexes.push(turbine::orm::meta::IndexMeta {
        name: "post_slug".into(),
        fields: vec!["slug".into()],
        unique: false,
        kind: IndexKind::BTree,
    });
    let mut m = m.trigram_index(&["title"]);
    m.indexes.push(turbine::orm::meta::IndexMeta {
        name: "post_search".into(),
        fields: vec!["slug".into(), "title".into()],
        unique: false,
        kind: IndexKind::Trigram,
    });
    m.check("post_views_nonneg", "views >= 0")
        .ordering([Ordering::desc("created_at"), Ordering::asc("id")])
        .verbose_names("post", "posts")
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).unwrap()
}

fn sample_post() -> Post {
    Post {
        id: 7,
        title: "Rust".into(),
        slug: "rust".into(),
        status: Status::Live,
        previous_status: None,
        author: ForeignKey::new(Uuid::from_u128(1)),
        editor: Some(ForeignKey::new(Uuid::from_u128(2))),
        tags: ManyToMany::default(),
        also_tags: ManyToMany::default(),
        created_at: at(1_700_000_000),
        updated_at: at(1_700_000_100),
        views: 3,
        rank: -2,
        external: Some("x-1".into()),
        price: Decimal::new(1999, 2),
        data: Json(Extra { pinned: true }),
        raw: serde_json::json!({"a": [1, 2]}),
        bytes: vec![0, 255],
        day: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
        score: 0.5,
        flag: true,
        transient: vec!["dropped".into()],
    }
}

/// The values as the database would hand them back: a row under the column names.
fn fields_of(meta: &ModelMeta, values: Vec<Value>) -> Fields<'static> {
    let columns: Arc<[String]> = meta
        .fields
        .iter()
        .filter(|f| f.has_column())
        .map(|f| f.column.clone())
        .collect();
    Row::new(columns, values).into_fields()
}

#[test]
fn derived_metadata_equals_the_hand_built_one() {
    assert_eq!(Post::meta(), &hand_built_post());
    assert!(std::ptr::eq(Post::meta(), Post::meta()), "built once");
    assert_eq!(Post::LABEL, "blog.Post");
    assert_eq!(User::LABEL, "auth.User");
    let user = ModelMeta::new("auth", "User")
        .field(FieldMeta::uuid_id())
        .field(FieldMeta::new("email", FieldType::String { max_length: 254 }).unique());
    assert_eq!(User::meta(), &user);
    let mut id = FieldMeta::auto_id();
    id.ty = FieldType::I32;
    let tag = ModelMeta::new("blog", "Tag")
        .field(id)
        .field(FieldMeta::new("name", FieldType::String { max_length: 50 }));
    assert_eq!(Tag::meta(), &tag);
}

#[test]
fn values_round_trip_in_column_order() {
    let post = sample_post();
    let values = post.to_values();
    let columns = Post::meta()
        .fields
        .iter()
        .filter(|f| f.has_column())
        .count();
    assert_eq!(
        values.len(),
        columns,
        "one value per column, no many-to-many, no skip"
    );
    assert_eq!(values[0], Value::BigInt(Some(7)));
    assert_eq!(values[3], Value::from("live"));
    let back = Post::from_fields(&mut fields_of(Post::meta(), values)).unwrap();
    assert_eq!(back.id, 7);
    assert_eq!(back.title, post.title);
    assert_eq!(back.status, Status::Live);
    assert_eq!(back.previous_status, None);
    assert_eq!(back.author, post.author);
    assert_eq!(back.editor, post.editor);
    assert!(
        back.tags.get().is_none(),
        "many-to-many is not loaded by from_fields"
    );
    assert!(back.also_tags.get().is_none());
    assert_eq!(back.created_at, post.created_at);
    assert_eq!(back.updated_at, post.updated_at);
    assert_eq!((back.views, back.rank), (3, -2));
    assert_eq!(back.external.as_deref(), Some("x-1"));
    assert_eq!(back.price, post.price);
    assert_eq!(back.data, post.data);
    assert_eq!(back.raw, post.raw);
    assert_eq!(back.bytes, post.bytes);
    assert_eq!(back.day, post.day);
    assert_eq!((back.score, back.flag), (0.5, true));
    assert!(
        back.transient.is_empty(),
        "skipped fields are Default when loaded"
    );
}

#[test]
fn a_bad_value_is_a_decode_error_naming_the_column_and_the_choices() {
    let mut values = sample_post().to_values();
    values[3] = Value::from("archived");
    let err = Post::from_fields(&mut fields_of(Post::meta(), values))
        .unwrap_err()
        .to_string();
    assert!(err.contains("status"), "{err}");
    assert!(
        err.contains(r#"`archived` is not a Status; expected one of "draft", "live", "in_review""#),
        "{err}"
    );
    let short = Row::new(Arc::from(["id".to_string()]), vec![Value::BigInt(Some(1))]);
    let err = Post::from_fields(&mut short.into_fields()).unwrap_err();
    assert!(err.to_string().contains("fewer columns"), "{err}");
}

#[test]
fn key_and_set_key_use_the_primary_key() {
    let mut post = sample_post();
    assert_eq!(post.key(), 7);
    post.set_key(42);
    assert_eq!(post.id, 42);
    let user = User {
        id: Uuid::from_u128(9),
        email: "a@b.c".into(),
    };
    assert_eq!(user.key(), Uuid::from_u128(9));
}

#[test]
fn column_constants_are_typed_and_named_after_fields() {
    let title: Column<Post, String> = Post::TITLE;
    let author: Column<Post, ForeignKey<User>> = Post::AUTHOR;
    let tags: Column<Post, ManyToMany<Tag>> = Post::TAGS;
    let external: Column<Post, Option<String>> = Post::EXTERNAL;
    assert_eq!(title.name(), "title");
    assert_eq!(author.name(), "author");
    assert_eq!(tags.name(), "tags");
    assert_eq!(
        external.name(),
        "external",
        "the field's name, not its column"
    );
    assert_eq!(Post::ID.name(), "id");
}

#[test]
fn choices_convert_and_refuse_unknown_values() {
    assert_eq!(Status::field_type(), FieldType::String { max_length: 9 });
    assert_eq!(Status::InReview.as_str(), "in_review");
    assert_eq!(Status::InReview.label(), "In review");
    assert_eq!(
        Status::ALL,
        &[Status::Draft, Status::Live, Status::InReview]
    );
    assert_eq!(Status::from_value(Value::from("live")), Ok(Status::Live));
    assert_eq!(Status::Draft.to_value(), Value::from("draft"));
    assert_eq!(format!("{}", Status::Live), "live");
    let err = Status::from_value(Value::from("Live")).unwrap_err();
    assert_eq!(
        err,
        r#"`Live` is not a Status; expected one of "draft", "live", "in_review""#
    );
    assert!(Status::from_value(Value::String(None)).is_err());
    assert_eq!(<Option<Status>>::from_value(Value::String(None)), Ok(None));
    assert_eq!(<Option<Status>>::choices().len(), 3);
}

// Self-references and mutual references: `meta()` uses only `LABEL` and `Key` of the targets.

#[derive(Model, Debug, Clone)]
#[model(app = "tree")]
struct Node {
    id: i64,
    #[field(on_delete = "cascade", related_name = "children")]
    parent: Option<ForeignKey<Node>>,
    #[field(on_delete = "protect")]
    root: ForeignKey<Self>,
    links: ManyToMany<Node>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "tree")]
struct Husband {
    id: i64,
    #[field(one_to_one, on_delete = "set_null")]
    wife: Option<ForeignKey<Wife>>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "tree")]
struct Wife {
    #[field(primary_key, max_length = 20)]
    code: String,
    #[field(one_to_one, on_delete = "restrict")]
    husband: ForeignKey<Husband>,
}

/// Runs `f` on another thread and fails (instead of hanging) if it does not finish.
fn within_seconds<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(Duration::from_secs(10))
        .expect("building metadata deadlocked")
}

#[test]
fn self_and_mutual_references_build_without_deadlock() {
    let root = Node {
        id: 1,
        parent: None,
        root: ForeignKey::new(1),
        links: ManyToMany::default(),
    };
    assert!(root.links.get().is_none() && root.parent.is_none());
    assert_eq!(root.to_values().len(), 3, "id, parent_id, root_id");
    let (node, husband, wife) = within_seconds(|| {
        (
            Node::meta().clone(),
            Husband::meta().clone(),
            Wife::meta().clone(),
        )
    });
    let parent = node.field_named("parent").unwrap();
    assert_eq!(parent.relation.as_ref().unwrap().to, "tree.Node");
    assert!(parent.nullable);
    assert_eq!(parent.column, "parent_id");
    assert_eq!(
        node.field_named("root")
            .unwrap()
            .relation
            .as_ref()
            .unwrap()
            .on_delete,
        OnDelete::Protect
    );
    let wife_field = husband.field_named("wife").unwrap();
    assert_eq!(
        wife_field.relation.as_ref().unwrap().kind,
        RelationKind::OneToOne
    );
    assert!(wife_field.unique);
    // The key's Rust type (`String`); the registry gives it the key's max_length.
    assert_eq!(wife_field.ty, FieldType::Text);
    let pk = wife.primary_key().unwrap();
    assert_eq!((pk.name.as_str(), pk.auto), ("code", None));
    assert_eq!(wife.field_named("husband").unwrap().ty, FieldType::I64);
}

#[test]
fn derived_models_register_and_finish() {
    let mut registry = ModelRegistry::new();
    for meta in [
        User::meta(),
        Tag::meta(),
        Post::meta(),
        Node::meta(),
        Husband::meta(),
        Wife::meta(),
    ] {
        registry.register(meta.clone()).unwrap();
    }
    // The explicit through model `blog.PostTag`.
    #[derive(Model)]
    #[model(app = "blog")]
    struct PostTag {
        id: i64,
        #[field(on_delete = "cascade")]
        post: ForeignKey<Post>,
        #[field(on_delete = "cascade")]
        tag: ForeignKey<Tag>,
    }
    registry.register(PostTag::meta().clone()).unwrap();
    let registry = registry.finish().unwrap();
    let post = registry.get("blog.Post").unwrap();
    assert_eq!(post.field_named("author").unwrap().ty, FieldType::Uuid);
    assert!(
        registry.get("blog.Post_also_tags").is_some(),
        "automatic join model"
    );
    assert!(registry.get("tree.Node_links").is_some());
    assert_eq!(registry.related("auth.User").len(), 2);
    let husband = registry.get("tree.Husband").unwrap();
    assert_eq!(
        husband.field_named("wife").unwrap().ty,
        FieldType::String { max_length: 20 }
    );
    let _ = (PostTag::POST, PostTag::TAG);
}

#[test]
fn the_app_defaults_to_the_crate_name() {
    #[derive(Model)]
    struct Note {
        id: i64,
        body: String,
    }
    assert_eq!(Note::LABEL, concat!(env!("CARGO_CRATE_NAME"), ".Note"));
    assert_eq!(Note::LABEL, "model.Note");
    assert_eq!(Note::meta().table, "model_note");
    let note = Note {
        id: 1,
        body: "b".into(),
    };
    assert_eq!(note.to_values()[1], Value::from("b"));
    let _ = Note::BODY;
}

#[test]
fn a_field_named_label_shadows_the_label_shorthand_only() {
    #[derive(Model)]
    #[model(app = "shop")]
    struct Sticker {
        id: i64,
        label: String,
    }
    let column: Column<Sticker, String> = Sticker::LABEL;
    assert_eq!(column.name(), "label");
    assert_eq!(<Sticker as Model>::LABEL, "shop.Sticker");
    let s = Sticker {
        id: 1,
        label: "x".into(),
    };
    assert_eq!(s.to_values()[1], Value::from(s.label.as_str()));
}
