//! `#[derive(Model)]` models stored and read back on SQLite and (when configured) Postgres,
//! through statements built by hand (sea-query) and the derive's `to_values` / `from_fields`.
//!
//! This crate dev-depends on `turbine` (feature `orm`) for the derive: the helpers below are
//! generic over this crate's `turbine_orm::Model`, which proves the derived impls are of this
//! very trait.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use sea_query::{Alias, Order, Query};
use turbine::{Choices, Model};
use turbine_orm::meta::ModelRegistry;
use turbine_orm::testing::TestDb;
use turbine_orm::{Db, ForeignKey, Json, ManyToMany};
use uuid::Uuid;

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "people")]
struct Person {
    id: Uuid,
    #[field(max_length = 100, unique)]
    name: String,
}

#[derive(Choices, Debug, Clone, Copy, PartialEq, Eq)]
enum Mood {
    Happy,
    #[choice(value = "meh", label = "So-so")]
    SoSo,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Meta {
    words: u32,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "journal", ordering = ["-written_at"])]
struct Entry {
    id: i64,
    #[field(max_length = 200)]
    title: String,
    body: Option<String>,
    mood: Mood,
    previous_mood: Option<Mood>,
    #[field(on_delete = "cascade", related_name = "entries")]
    author: ForeignKey<Person>,
    #[field(on_delete = "set_null")]
    reply_to: Option<ForeignKey<Entry>>,
    #[field(decimal(precision = 10, scale = 2))]
    cost: Decimal,
    meta: Json<Meta>,
    extra: serde_json::Value,
    blob: Vec<u8>,
    day: NaiveDate,
    #[field(auto_now_add)]
    written_at: DateTime<Utc>,
    public: bool,
    score: f64,
    #[field(skip)]
    rendered: Option<String>,
}

#[derive(Model, Debug)]
#[model(app = "journal")]
struct Shelf {
    id: i32,
    entries: ManyToMany<Entry>,
}

/// The model's columns, in the order of `to_values` / `from_fields`.
fn columns<M: turbine_orm::Model>() -> impl Iterator<Item = Alias> {
    M::meta()
        .fields
        .iter()
        .filter(|f| f.has_column())
        .map(|f| Alias::new(f.column.as_str()))
}

async fn insert<M: turbine_orm::Model>(db: &Db, object: &M) -> turbine_orm::Result<u64> {
    let meta = M::meta();
    let stmt = Query::insert()
        .into_table(Alias::new(meta.table.as_str()))
        .columns(columns::<M>())
        .values_panic(object.to_values().into_iter().map(Into::into))
        .to_owned();
    db.execute(&db.dialect().build(&stmt)).await
}

async fn all<M: turbine_orm::Model>(db: &Db) -> turbine_orm::Result<Vec<M>> {
    let meta = M::meta();
    let pk = meta.primary_key().expect("a primary key");
    let stmt = Query::select()
        .columns(columns::<M>())
        .from(Alias::new(meta.table.as_str()))
        .order_by(Alias::new(pk.column.as_str()), Order::Asc)
        .to_owned();
    let rows = db.fetch(&db.dialect().build(&stmt)).await?;
    rows.into_iter()
        .map(|row| M::from_fields(&mut row.into_fields()))
        .collect()
}

fn entry(id: i64, author: &Person, reply_to: Option<i64>) -> Entry {
    Entry {
        id,
        title: format!("entry {id}"),
        body: (id == 1).then(|| "dear diary".to_string()),
        mood: Mood::SoSo,
        previous_mood: (id == 2).then_some(Mood::Happy),
        author: ForeignKey::from(author),
        reply_to: reply_to.map(ForeignKey::new),
        cost: Decimal::new(12_345, 2),
        meta: Json(Meta { words: 3 }),
        extra: serde_json::json!({"k": [1, "two"]}),
        blob: vec![0, 1, 254, 255],
        day: NaiveDate::from_ymd_opt(2026, 2, 28).unwrap(),
        written_at: Utc.timestamp_opt(1_767_225_600, 123_456_000).unwrap(),
        public: id % 2 == 0,
        score: 2.5,
        rendered: None,
    }
}

#[tokio::test]
async fn derived_models_are_stored_and_read_back() -> turbine_orm::Result<()> {
    let mut registry = ModelRegistry::new();
    for meta in [Person::meta(), Entry::meta(), Shelf::meta()] {
        registry.register(meta.clone()).expect("registers");
    }
    let registry = registry.finish().expect("valid models");
    let person = Person {
        id: Uuid::now_v7(),
        name: "Ada".into(),
    };
    let entries = vec![entry(1, &person, None), entry(2, &person, Some(1))];
    for db in TestDb::all_with(registry.models()).await? {
        assert_eq!(insert(&db, &person).await?, 1, "{}", db.name());
        for e in &entries {
            assert_eq!(insert(&db, e).await?, 1, "{}", db.name());
        }
        assert_eq!(
            all::<Person>(&db).await?,
            vec![person.clone()],
            "{}",
            db.name()
        );
        let mut read = all::<Entry>(&db).await?;
        assert_eq!(read, entries, "{}", db.name());
        assert_eq!(read[1].reply_to.as_ref().map(|r| *r.id()), Some(1));
        // A value that is none of the choices is refused when read.
        let bad = Query::update()
            .table(Alias::new("journal_entry"))
            .value(Alias::new("mood"), "sad")
            .to_owned();
        db.execute(&db.dialect().build(&bad)).await?;
        let err = all::<Entry>(&db).await.unwrap_err().to_string();
        assert!(err.contains("`sad` is not a Mood"), "{}: {err}", db.name());
        let shelf = Shelf {
            id: 1,
            entries: ManyToMany::default(),
        };
        insert(&db, &shelf).await?;
        let shelves = all::<Shelf>(&db).await?;
        assert_eq!(shelves[0].id, 1);
        assert!(shelves[0].entries.get().is_none(), "not loaded");
        read.clear();
        db.close().await;
    }
    Ok(())
}
