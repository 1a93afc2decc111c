//! Model metadata and the registry's checks.

use turbine_orm::meta::{
    Choice, FieldMeta, FieldType, MetaError, ModelMeta, ModelRegistry, OnDelete, Ordering,
    RelationKind,
};

fn user() -> ModelMeta {
    ModelMeta::new("auth", "User")
        .field(FieldMeta::uuid_id())
        .field(FieldMeta::new("email", FieldType::String { max_length: 254 }).unique())
}

fn problems(models: Vec<ModelMeta>) -> Vec<String> {
    let mut r = ModelRegistry::new();
    for m in models {
        r.register(m).unwrap();
    }
    match r.finish() {
        Err(MetaError::Invalid(p)) => p,
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn defaults_follow_django_conventions() {
    let m = ModelMeta::new("blog", "BlogPost").field(FieldMeta::auto_id());
    assert_eq!(m.table, "blog_blog_post");
    assert_eq!(m.verbose_name, "blog post");
    assert_eq!(m.verbose_name_plural, "blog posts");
    let f = FieldMeta::new("published_at", FieldType::DateTime);
    assert_eq!(f.label, "Published at");
    assert_eq!(f.column, "published_at");
}

#[test]
fn foreign_keys_take_the_type_of_the_target_key_and_self_references_work() {
    let post = ModelMeta::new("blog", "Post")
        .field(FieldMeta::auto_id())
        .field(
            FieldMeta::foreign_key("author", "auth.User", OnDelete::Cascade).related_name("posts"),
        )
        .field(FieldMeta::foreign_key("reply_to", "blog.Post", OnDelete::SetNull).nullable())
        .field(FieldMeta::many_to_many("tags", "blog.Tag"));
    let tag = ModelMeta::new("blog", "Tag")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("name", FieldType::String { max_length: 50 }));
    let mut r = ModelRegistry::new();
    for m in [user(), post, tag] {
        r.register(m).unwrap();
    }
    let r = r.finish().unwrap();
    let post = r.get("blog.Post").unwrap();
    assert_eq!(post.field_named("author").unwrap().ty, FieldType::Uuid);
    assert_eq!(post.field_named("author").unwrap().column, "author_id");
    assert_eq!(post.field_named("reply_to").unwrap().ty, FieldType::I64);
    let tags = post.field_named("tags").unwrap();
    assert!(!tags.has_column());
    assert_eq!(
        tags.relation.as_ref().unwrap().kind,
        RelationKind::ManyToMany
    );
    let related: Vec<_> = r
        .related("auth.User")
        .iter()
        .map(|(m, f)| (m.label(), f.name.clone()))
        .collect();
    assert_eq!(related, [("blog.Post".to_string(), "author".to_string())]);
}

#[test]
fn metadata_is_a_serializable_value() {
    let m = user().ordering([Ordering::asc("email")]);
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["fields"][1]["ty"]["type"], "string");
    let back: ModelMeta = serde_json::from_value(json).unwrap();
    assert_eq!(back, m);
}

#[test]
fn registering_a_model_twice_is_an_error() {
    let mut r = ModelRegistry::new();
    r.register(user()).unwrap();
    assert_eq!(
        r.register(user()),
        Err(MetaError::DuplicateModel("auth.User".into()))
    );
}

#[test]
fn every_problem_is_reported_naming_model_and_field() {
    let broken = ModelMeta::new("shop", "Item")
        .field(FieldMeta::new("name", FieldType::String { max_length: 0 }))
        .field(FieldMeta::new("name", FieldType::Text))
        .field(FieldMeta::new(
            "price",
            FieldType::Decimal {
                precision: 4,
                scale: 6,
            },
        ))
        .field(FieldMeta::foreign_key(
            "owner",
            "auth.Nobody",
            OnDelete::SetNull,
        ))
        .field(
            FieldMeta::new("state", FieldType::String { max_length: 8 })
                .choices([Choice::new("a", "A"), Choice::new("a", "Again")])
                .default_value("z"),
        )
        .field(FieldMeta::new("stamp", FieldType::Bool).auto_now())
        .ordering([Ordering::desc("missing")])
        .index(&["nope"]);
    let p = problems(vec![broken]).join("\n");
    for expected in [
        "shop.Item: needs exactly one primary key, has 0",
        "shop.Item.name: max_length must be at least 1",
        "shop.Item.name: two fields have this name",
        "shop.Item.price: decimal needs",
        "shop.Item.owner: on_delete = set_null needs a nullable field",
        "shop.Item.owner: relation to `auth.Nobody`",
        "shop.Item.state: choices repeat a value",
        "shop.Item.state: default `z` is not one of the choices",
        "shop.Item.stamp: auto_now / auto_now_add need a date or datetime field",
        "ordering names `missing`",
        "names `nope`",
    ] {
        assert!(p.contains(expected), "missing `{expected}` in:\n{p}");
    }
}

#[test]
fn tables_are_unique_across_models() {
    let a = ModelMeta::new("a", "Thing")
        .field(FieldMeta::auto_id())
        .table("things");
    let b = ModelMeta::new("b", "Thing")
        .field(FieldMeta::auto_id())
        .table("things");
    let p = problems(vec![a, b]).join("\n");
    assert!(p.contains("table `things` is used by another model"), "{p}");
}

#[test]
fn a_trigram_index_covers_text_fields_and_is_never_unique() {
    let mut unique = ModelMeta::new("blog", "Note")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("body", FieldType::Text))
        .trigram_index(&["body"]);
    unique.indexes[0].unique = true;
    let found = problems(vec![user().trigram_index(&["email", "id"]), unique]);
    assert_eq!(
        found,
        [
            "auth.User: trigram index `auth_user_email_id_trgm` names `id`, which is not a text field",
            "blog.Note: index `blog_note_body_trgm` is a trigram index, which cannot be unique",
        ]
    );
    // Text and bounded strings are fine.
    let mut r = ModelRegistry::new();
    r.register(user().trigram_index(&["email"])).unwrap();
    assert!(r.finish().is_ok());
}
