//! `#[derive(Model)]` models through the query and CRUD layer on SQLite and Postgres, counting
//! statements: `select_related` fills foreign keys in one query, `prefetch` fills many-to-many
//! fields through the automatic join model, reverse foreign keys load in one query, and inserts
//! and saves (whole, or through an edit guard) write back what they filled in without losing
//! loaded relations — the derived `set_field` and `relation_mut` at work.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use turbine::{Choices, Model};
use turbine_orm::meta::{ModelRegistry, Registry};
use turbine_orm::testing::TestDb;
use turbine_orm::{Db, ForeignKey, ManyToMany, ModelExt};

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "library", ordering = ["name"])]
struct Writer {
    id: i64,
    #[field(max_length = 100)]
    name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "library", ordering = ["name"])]
struct Topic {
    id: i32,
    #[field(max_length = 50, unique)]
    name: String,
}

#[derive(Choices, Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Paper,
    Ebook,
}

#[derive(Model, Debug, Clone)]
#[model(app = "library", ordering = ["id"])]
struct Book {
    id: i64,
    #[field(max_length = 200)]
    title: String,
    format: Format,
    #[field(on_delete = "cascade", related_name = "books")]
    writer: ForeignKey<Writer>,
    #[field(on_delete = "set_null", related_name = "edited_books")]
    editor: Option<ForeignKey<Writer>>,
    #[field(on_delete = "set_null")]
    sequel_of: Option<ForeignKey<Self>>,
    topics: ManyToMany<Topic>,
    #[field(default = 3)]
    copies: Option<i32>,
    #[field(max_length = 20, db_default = "'unshelved'")]
    shelf: Option<String>,
    views: i64,
    #[field(auto_now_add)]
    added_at: DateTime<Utc>,
    #[field(auto_now)]
    changed_at: DateTime<Utc>,
    #[field(skip)]
    note: String,
}

impl Book {
    fn new(writer: &Writer, title: &str) -> Self {
        Self {
            id: 0,
            title: title.into(),
            format: Format::Paper,
            writer: ForeignKey::from(writer),
            editor: None,
            sequel_of: None,
            topics: ManyToMany::default(),
            copies: None,
            shelf: None,
            views: 0,
            added_at: DateTime::<Utc>::MIN_UTC,
            changed_at: DateTime::<Utc>::MIN_UTC,
            note: "not stored".into(),
        }
    }
}

/// The registry of the models here, with the automatic join model of `Book.topics`.
fn registry() -> Arc<Registry> {
    static REGISTRY: LazyLock<Arc<Registry>> = LazyLock::new(|| {
        let mut r = ModelRegistry::new();
        for meta in [Writer::meta(), Topic::meta(), Book::meta()] {
            r.register(meta.clone()).expect("registers");
        }
        Arc::new(r.finish().expect("valid models"))
    });
    REGISTRY.clone()
}

/// Every backend, each a fresh database with the tables of the registry and the registry set.
async fn dbs() -> Vec<TestDb> {
    let registry = registry();
    let dbs = TestDb::all_with(registry.models())
        .await
        .expect("test databases");
    for db in &dbs {
        db.set_registry(registry.clone())
            .expect("registry set once");
    }
    dbs
}

/// Counts the statements `f` runs.
async fn queries<T>(db: &Db, f: impl Future<Output = T>) -> (T, u64) {
    let before = db.query_count();
    let out = f.await;
    (out, db.query_count() - before)
}

async fn writer(db: &Db, name: &str) -> Writer {
    let mut w = Writer {
        id: 0,
        name: name.into(),
    };
    w.insert(db).await.expect("writer inserted");
    w
}

async fn topic(db: &Db, name: &str) -> Topic {
    let mut t = Topic {
        id: 0,
        name: name.into(),
    };
    t.insert(db).await.expect("topic inserted");
    t
}

async fn book(db: &Db, by: &Writer, title: &str, edit: impl FnOnce(&mut Book)) -> Book {
    let mut b = Book::new(by, title);
    edit(&mut b);
    b.insert(db).await.expect("book inserted");
    b
}

#[tokio::test]
async fn select_related_fills_foreign_keys_in_one_query() {
    for db in dbs().await {
        let ada = writer(&db, "Ada").await;
        let bob = writer(&db, "Bob").await;
        let first = book(&db, &ada, "First", |b| {
            b.editor = Some(ForeignKey::from(&bob));
        })
        .await;
        book(&db, &bob, "Second", |b| {
            b.sequel_of = Some(ForeignKey::from(&first));
            b.format = Format::Ebook;
        })
        .await;
        book(&db, &ada, "Third", |_| {}).await;
        let (books, n) = queries(&db, async {
            Book::objects()
                .select_related(Book::WRITER)
                .select_related(Book::EDITOR)
                .select_related(Book::SEQUEL_OF)
                .all(&db)
                .await
                .unwrap()
        })
        .await;
        assert_eq!(n, 1, "{}: books, writers, editors, prequels", db.name());
        let (seen, n) = queries(&db, async {
            books
                .iter()
                .map(|b| {
                    (
                        b.title.as_str(),
                        b.writer.get().expect("writer loaded").name.as_str(),
                        b.editor.as_ref().and_then(|e| e.get()).map(|w| &*w.name),
                        b.sequel_of
                            .as_ref()
                            .and_then(|s| s.get())
                            .map(|p| &*p.title),
                    )
                })
                .collect::<Vec<_>>()
        })
        .await;
        assert_eq!(n, 0);
        assert_eq!(
            seen,
            [
                ("First", "Ada", Some("Bob"), None),
                ("Second", "Bob", None, Some("First")),
                ("Third", "Ada", None, None),
            ],
            "{}",
            db.name()
        );
        assert_eq!(books[1].format, Format::Ebook);
        assert!(
            books
                .iter()
                .all(|b| b.note.is_empty() && b.topics.get().is_none()),
            "skipped fields are Default, many-to-many fields not loaded"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn prefetch_fills_many_to_many_through_the_automatic_join_model() {
    assert!(
        registry().get("library.Book_topics").is_some(),
        "the registry added the join model"
    );
    for db in dbs().await {
        let ada = writer(&db, "Ada").await;
        let bob = writer(&db, "Bob").await;
        let (rust, sql, web) = (
            topic(&db, "rust").await,
            topic(&db, "sql").await,
            topic(&db, "web").await,
        );
        for (i, topics) in [vec![&web, &rust], vec![], vec![&sql, &web, &rust]]
            .into_iter()
            .enumerate()
        {
            let by = if i == 1 { &bob } else { &ada };
            let b = book(&db, by, &format!("b{i}"), |_| {}).await;
            b.m2m(Book::TOPICS).add(&db, &topics).await.unwrap();
        }
        let (books, n) = queries(&db, async {
            Book::objects()
                .prefetch(Book::TOPICS)
                .prefetch(Book::WRITER)
                .select_related(Book::EDITOR)
                .all(&db)
                .await
                .unwrap()
        })
        .await;
        assert_eq!(n, 3, "{}: books, their topics, their writers", db.name());
        let topics: Vec<Vec<&str>> = books
            .iter()
            .map(|b| {
                b.topics
                    .get()
                    .expect("topics loaded")
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect()
            })
            .collect();
        // In the target's default ordering (by name).
        assert_eq!(
            topics,
            [vec!["rust", "web"], vec![], vec!["rust", "sql", "web"]],
            "{}",
            db.name()
        );
        let writers: Vec<&str> = books
            .iter()
            .map(|b| b.writer.get().unwrap().name.as_str())
            .collect();
        assert_eq!(writers, ["Ada", "Bob", "Ada"]);
        // The manager reads the same join table.
        let of_first = books[0].m2m(Book::TOPICS).all(&db).await.unwrap();
        assert_eq!(of_first, [rust.clone(), web.clone()]);
        db.close().await;
    }
}

#[tokio::test]
async fn reverse_foreign_keys_load_in_one_query() {
    for db in dbs().await {
        let ada = writer(&db, "Ada").await;
        let bob = writer(&db, "Bob").await;
        let cy = writer(&db, "Cy").await;
        for (by, title) in [(&ada, "a1"), (&bob, "b1"), (&ada, "a2")] {
            book(&db, by, title, |b| b.editor = Some(ForeignKey::from(&cy))).await;
        }
        assert_eq!(
            ada.related(Book::WRITER).count(&db).await.unwrap(),
            2,
            "{}",
            db.name()
        );
        assert_eq!(cy.related(Book::WRITER).count(&db).await.unwrap(), 0);
        assert_eq!(cy.related(Book::EDITOR).count(&db).await.unwrap(), 3);
        let writers = Writer::objects().all(&db).await.unwrap();
        let (children, n) = queries(&db, async {
            Book::objects()
                .children_of(&db, Book::WRITER, &writers)
                .await
                .unwrap()
        })
        .await;
        assert_eq!(n, 1, "{}: every writer's books at once", db.name());
        let titles: Vec<(&str, Vec<&str>)> = writers
            .iter()
            .map(|w| {
                let books = children.of(w).iter().map(|b| b.title.as_str()).collect();
                (w.name.as_str(), books)
            })
            .collect();
        assert_eq!(
            titles,
            [
                ("Ada", vec!["a1", "a2"]),
                ("Bob", vec!["b1"]),
                ("Cy", vec![])
            ]
        );
        db.close().await;
    }
}

#[tokio::test]
async fn insert_and_save_write_back_what_they_filled_and_keep_loaded_relations() {
    for db in dbs().await {
        let ada = writer(&db, "Ada").await;
        let rust = topic(&db, "rust").await;
        let mut b = Book::new(&ada, "Loaded");
        b.writer.set_loaded(ada.clone());
        b.topics.set_loaded(vec![rust.clone()]);
        let ((), n) = queries(&db, async { b.insert(&db).await.unwrap() }).await;
        assert_eq!(n, 1, "{}: one INSERT … RETURNING", db.name());
        assert!(b.id > 0);
        assert_eq!(b.copies, Some(3), "the ORM's default");
        assert_eq!(
            b.shelf.as_deref(),
            Some("unshelved"),
            "the database default"
        );
        assert!(b.added_at > DateTime::<Utc>::MIN_UTC && b.changed_at > DateTime::<Utc>::MIN_UTC);
        assert_eq!(b.writer.get(), Some(&ada), "{}: still loaded", db.name());
        assert_eq!(b.topics.get(), Some(std::slice::from_ref(&rust)));
        assert_eq!(b.note, "not stored", "a skipped field is left alone");
        let stored = Book::get(&db, b.id).await.unwrap();
        assert_eq!(
            (
                stored.copies,
                &stored.shelf,
                stored.added_at,
                stored.changed_at
            ),
            (b.copies, &b.shelf, b.added_at, b.changed_at),
            "{}: the written-back values are the stored ones",
            db.name()
        );

        // A whole save writes back `auto_now`, keeping what select_related loaded.
        let mut loaded = Book::objects()
            .select_related(Book::WRITER)
            .get(&db)
            .await
            .unwrap();
        let before = loaded.changed_at;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        loaded.copies = Some(1);
        let ((), n) = queries(&db, async { loaded.save(&db).await.unwrap() }).await;
        assert_eq!(n, 1);
        assert!(loaded.changed_at > before, "{}", db.name());
        assert_eq!(loaded.added_at, b.added_at, "auto_now_add is kept on save");
        assert_eq!(loaded.writer.get(), Some(&ada));
        assert_eq!(
            Book::get(&db, b.id).await.unwrap().changed_at,
            loaded.changed_at
        );
        db.close().await;
    }
}

#[tokio::test]
async fn an_edit_saves_only_what_changed_and_keeps_loaded_relations() {
    for db in dbs().await {
        let ada = writer(&db, "Ada").await;
        let b = book(&db, &ada, "Draft", |_| {}).await;
        let mut loaded = Book::objects()
            .select_related(Book::WRITER)
            .get(&db)
            .await
            .unwrap();
        // Someone else changes another column meanwhile.
        Book::objects()
            .filter(Book::ID.eq(b.id))
            .update()
            .set(Book::VIEWS, 42)
            .execute(&db)
            .await
            .unwrap();
        let before = loaded.changed_at;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let mut edit = loaded.edit();
        assert!(edit.changed().is_empty());
        edit.title = "Final".into();
        assert_eq!(edit.changed(), ["title"]);
        let ((), n) = queries(&db, async { edit.save(&db).await.unwrap() }).await;
        assert_eq!(n, 1, "{}: one UPDATE", db.name());
        assert_eq!(loaded.title, "Final");
        assert!(loaded.changed_at > before, "auto_now written back");
        assert_eq!(
            loaded.writer.get(),
            Some(&ada),
            "{}: still loaded",
            db.name()
        );
        assert_eq!(loaded.views, 0, "the edit did not read the row again");
        let stored = Book::get(&db, b.id).await.unwrap();
        assert_eq!(stored.title, "Final");
        assert_eq!(stored.views, 42, "{}: the other change survived", db.name());
        assert_eq!(stored.changed_at, loaded.changed_at);
        // Nothing changed: nothing to write.
        let ((), n) = queries(&db, async { loaded.edit().save(&db).await.unwrap() }).await;
        assert_eq!(n, 0);
        db.close().await;
    }
}
