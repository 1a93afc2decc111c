//! The derived `set_field` and `relation_mut` at run time: one column field set from a value
//! (decode errors naming `app.Model.field`, the key and unknown fields refused), and the
//! relation fields handed out as `&mut dyn Any` of their own type.

use chrono::{DateTime, TimeZone, Utc};
use turbine::orm::{Error, ForeignKey, ManyToMany, Value};
use turbine::{Choices, Model};

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "auth")]
struct User {
    id: i64,
    #[field(max_length = 50)]
    name: String,
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
    Draft,
    Live,
}

#[derive(Model, Debug, Clone)]
#[model(app = "blog")]
struct Post {
    id: i64,
    #[field(max_length = 200)]
    label: String,
    status: Status,
    rating: Option<f64>,
    #[field(on_delete = "cascade")]
    author: ForeignKey<User>,
    #[field(on_delete = "set_null")]
    reply_to: Option<ForeignKey<Post>>,
    tags: ManyToMany<Tag>,
    #[field(auto_now_add)]
    created_at: DateTime<Utc>,
    r#type: String,
    #[field(skip)]
    cache: Vec<String>,
}

/// A model without an `app`: its label starts with the crate's name.
#[derive(Model, Debug)]
struct Only {
    id: i64,
}

fn post() -> Post {
    Post {
        id: 7,
        label: "hello".into(),
        status: Status::Draft,
        rating: None,
        author: ForeignKey::new(1),
        reply_to: None,
        tags: ManyToMany::default(),
        created_at: DateTime::<Utc>::MIN_UTC,
        r#type: "note".into(),
        cache: vec!["kept".into()],
    }
}

#[test]
fn set_field_sets_one_column_field_from_a_value() -> turbine::orm::Result<()> {
    let mut p = post();
    let at = Utc.timestamp_opt(1_767_225_600, 0).unwrap();
    p.set_field("label", Value::from("bye"))?;
    p.set_field("status", Value::from("live"))?;
    p.set_field("rating", Value::Double(Some(4.5)))?;
    p.set_field("created_at", Value::ChronoDateTimeUtc(Some(at)))?;
    p.set_field("type", Value::from("page"))?;
    p.set_field("reply_to", Value::BigInt(Some(3)))?;
    p.set_field("author", Value::BigInt(Some(2)))?;
    assert_eq!(
        (p.label.as_str(), p.status, p.rating, p.created_at),
        ("bye", Status::Live, Some(4.5), at)
    );
    assert_eq!(p.r#type, "page", "raw identifiers go by their name");
    assert_eq!(p.reply_to.as_ref().map(|r| *r.id()), Some(3));
    assert_eq!(*p.author.id(), 2);
    p.set_field("rating", Value::Double(None))?;
    p.set_field("reply_to", Value::BigInt(None))?;
    assert_eq!((p.rating, p.reply_to.is_none()), (None, true));
    assert_eq!((p.id, p.cache.len()), (7, 1), "nothing else changed");
    Ok(())
}

#[test]
fn set_field_errors_name_the_model_and_the_field() {
    let mut p = post();
    match p.set_field("status", Value::from("archived")) {
        Err(Error::Decode { field, message }) => {
            assert_eq!(field, "blog.Post.status");
            assert!(message.contains("`archived` is not a Status"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match p.set_field("label", Value::BigInt(Some(1))) {
        Err(Error::Decode { field, .. }) => assert_eq!(field, "blog.Post.label"),
        other => panic!("{other:?}"),
    }
    assert_eq!(p.label, "hello", "a failed set leaves the field as it was");
    for field in ["id", "tags", "cache", "nope"] {
        match p.set_field(field, Value::BigInt(Some(1))) {
            Err(Error::Query(message)) => assert_eq!(
                message,
                format!(
                    "blog.Post has no field `{field}` to set (the primary key is set with set_key)"
                )
            ),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert_eq!(p.id, 7);
    let mut only = Only { id: 1 };
    match only.set_field("id", Value::BigInt(Some(2))) {
        Err(Error::Query(message)) => assert_eq!(
            message,
            format!(
                "{}.Only has no field `id` to set (the primary key is set with set_key)",
                env!("CARGO_CRATE_NAME")
            )
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn relation_mut_hands_out_foreign_keys_and_many_to_many_fields() {
    let mut p = post();
    let author = p.relation_mut("author").expect("a relation");
    let fk = author
        .downcast_mut::<ForeignKey<User>>()
        .expect("a ForeignKey<User>");
    fk.set_loaded(User {
        id: 1,
        name: "Ada".into(),
    });
    assert_eq!(p.author.get().map(|u| u.name.as_str()), Some("Ada"));

    let reply_to = p.relation_mut("reply_to").expect("a relation");
    assert!(reply_to.downcast_mut::<ForeignKey<Post>>().is_none());
    *reply_to
        .downcast_mut::<Option<ForeignKey<Post>>>()
        .expect("an Option<ForeignKey<Post>>") = Some(ForeignKey::new(5));
    assert_eq!(p.reply_to.as_ref().map(|r| *r.id()), Some(5));

    let tags = p.relation_mut("tags").expect("a relation");
    tags.downcast_mut::<ManyToMany<Tag>>()
        .expect("a ManyToMany<Tag>")
        .set_loaded(vec![Tag {
            id: 1,
            name: "rust".into(),
        }]);
    assert_eq!(p.tags.get().map(<[Tag]>::len), Some(1));

    for plain in ["id", "label", "status", "cache", "nope"] {
        assert!(p.relation_mut(plain).is_none(), "{plain}");
    }
    // Setting another column keeps what was loaded.
    p.set_field("label", Value::from("x")).unwrap();
    assert!(p.author.get().is_some() && p.tags.get().is_some());
}
