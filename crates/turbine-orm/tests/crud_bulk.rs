//! `bulk_update` on SQLite and Postgres: each row's own values in one statement for every
//! column type (bigint, integer, text, varchar, float, JSON, timestamptz, nullable foreign
//! keys, NULLs), `auto_now` refreshed and written back, batches beyond the parameter limit in
//! one transaction, no statement for no rows, no hooks, and the fields it refuses.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, Utc};
use common::*;
use turbine_orm::backend::Dialect;
use turbine_orm::crud::Record;
use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
use turbine_orm::testing::TestDb;
use turbine_orm::{Error, ForeignKey, Model, ModelExt, Value};

#[tokio::test]
async fn each_row_gets_its_own_values_in_one_statement() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        let bob = user(&db, "Bob").await;
        let mut posts = Vec::new();
        for (title, views) in [("a", 1), ("b", 2), ("c", 3)] {
            posts.push(post(&db, &alice, title, views).await);
        }
        let untouched = post(&db, &alice, "d", 4).await;
        let old_stamp = posts[0].updated_at;
        let when = DateTime::parse_from_rfc3339("2020-02-29T12:34:56.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        for (i, p) in posts.iter_mut().enumerate() {
            let i = i as i64;
            p.views = 100 + i;
            p.title = format!("title {i}");
            p.body = format!("body ünïcode {i}");
            p.rating = (i != 1).then_some(i as f64 + 0.5);
            p.editor = (i == 2).then(|| ForeignKey::from(&bob));
            p.data = serde_json::json!({ "i": i });
            p.created_at = when + Duration::days(i);
        }
        let fields = [
            Post::VIEWS.into(),
            Post::TITLE.into(),
            Post::BODY.into(),
            Post::RATING.into(),
            Post::EDITOR.into(),
            Post::DATA.into(),
            Post::CREATED_AT.into(),
        ];
        let (updated, n) = queries(&db, Post::bulk_update(&db, &mut posts, fields)).await;
        assert_eq!(updated.unwrap(), 3, "{}", db.name());
        assert_eq!(n, 1, "{}: one statement", db.name());
        // auto_now: one timestamp for every row, written back into the models.
        assert!(posts[0].updated_at > old_stamp, "{}", db.name());
        assert!(posts.iter().all(|p| p.updated_at == posts[0].updated_at));
        for (i, p) in posts.iter().enumerate() {
            let stored = Post::get(&db, p.id).await.unwrap();
            let i = i as i64;
            assert_eq!(stored.views, 100 + i, "{}", db.name());
            assert_eq!(stored.title, format!("title {i}"));
            assert_eq!(stored.body, format!("body ünïcode {i}"));
            assert_eq!(stored.rating, p.rating, "{}: NULL where None", db.name());
            assert_eq!(stored.editor, p.editor, "{}", db.name());
            assert_eq!(stored.data, serde_json::json!({ "i": i }));
            assert_eq!(stored.created_at, when + Duration::days(i), "{}", db.name());
            assert_eq!(stored.updated_at, p.updated_at, "{}", db.name());
        }
        assert_eq!(stored_views(&db, untouched.id).await, 4, "other rows stay");
        // And back: a nullable foreign key and a float set to NULL on every row.
        for p in &mut posts {
            p.editor = None;
            p.rating = None;
        }
        let fields = [Post::EDITOR.into(), Post::RATING.into()];
        Post::bulk_update(&db, &mut posts, fields).await.unwrap();
        let nulls = Post::objects()
            .filter(Post::EDITOR.is_null() & Post::RATING.is_null())
            .count(&db)
            .await
            .unwrap();
        assert_eq!(nulls, 4, "{}", db.name());
        db.close().await;
    }
}

async fn stored_views(db: &turbine_orm::Db, id: i64) -> i64 {
    Post::get(db, id).await.unwrap().views
}

#[tokio::test]
async fn integer_columns_and_uuid_keys() {
    for db in dbs().await {
        let mut docs = Vec::new();
        for title in ["x", "y", "z"] {
            let mut d = Doc::new(title);
            d.insert(&db).await.unwrap();
            docs.push(d);
        }
        docs[0].size = Some(7);
        docs[1].size = None;
        docs[2].size = Some(i32::MAX);
        let (updated, n) = queries(
            &db,
            Doc::bulk_update(&db, &mut docs, [Doc::SIZE.into(), Doc::TITLE.into()]),
        )
        .await;
        assert_eq!((updated.unwrap(), n), (3, 1), "{}", db.name());
        for d in &docs {
            assert_eq!(&Doc::get(&db, d.id).await.unwrap(), d, "{}", db.name());
        }
        db.close().await;
    }
}

#[tokio::test]
async fn no_models_no_statement() {
    for db in dbs().await {
        let (updated, n) =
            queries(&db, Post::bulk_update(&db, &mut [], [Post::VIEWS.into()])).await;
        assert_eq!((updated.unwrap(), n), (0, 0), "{}", db.name());
        db.close().await;
    }
}

#[tokio::test]
async fn refuses_the_primary_key_unknown_fields_and_no_fields() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        let mut posts = vec![post(&db, &alice, "a", 1).await];
        let refused = |r: turbine_orm::Result<u64>| match r {
            Err(Error::Query(message)) => message,
            other => panic!("{}: {other:?}", db.name()),
        };
        let (r, n) = queries(&db, Post::bulk_update(&db, &mut posts, [Post::ID.into()])).await;
        assert!(refused(r).contains("blog.Post.id is the primary key"));
        assert_eq!(n, 0);
        let r = Post::bulk_update(&db, &mut posts, [Post::TAGS.into()]).await;
        assert!(refused(r).contains("blog.Post.tags has no column"));
        let r = Post::bulk_update(&db, &mut posts, []).await;
        assert!(refused(r).contains("at least one field"));
        // The fields are checked even without rows.
        let r = Post::bulk_update(&db, &mut [], [Post::ID.into()]).await;
        assert!(refused(r).contains("primary key"));
        // Untyped: a field that does not exist.
        let mut records = vec![Record::from_values(Post::meta(), posts[0].to_values()).unwrap()];
        let r = Record::bulk_update(&db, &mut records, &["nope"]).await;
        assert!(refused(r).contains("blog.Post.nope does not exist"));
        // Values are validated as save validates them, before any statement.
        posts[0].title = "x".repeat(201);
        let (r, n) = queries(
            &db,
            Post::bulk_update(&db, &mut posts, [Post::TITLE.into()]),
        )
        .await;
        assert!(matches!(r, Err(Error::Validation { field, .. }) if field == "title"));
        assert_eq!(n, 0);
        db.close().await;
    }
}

#[tokio::test]
async fn batches_stay_under_the_parameter_limits() -> turbine_orm::Result<()> {
    // 40 fields: 81 parameters a row, so 809 rows a statement on Postgres (65,535 parameters)
    // and 404 on SQLite (32,766); 2,000 rows take 3 and 5 statements, between BEGIN and COMMIT.
    let names: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
    let wide = names.iter().fold(
        ModelMeta::new("app", "Wide").field(FieldMeta::auto_id()),
        |m, name| m.field(FieldMeta::new(name.as_str(), FieldType::I32)),
    );
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let rows = 2_000;
    for db in TestDb::all_with(std::slice::from_ref(&wide)).await? {
        let mut records: Vec<Record<'_>> = (0..rows)
            .map(|_| {
                let mut r = Record::new(&wide);
                for name in &names {
                    r.set(name, 0)?;
                }
                Ok(r)
            })
            .collect::<turbine_orm::Result<_>>()?;
        Record::insert_many(&db, &mut records).await?;
        for (i, r) in records.iter_mut().enumerate() {
            for (f, name) in names.iter().enumerate() {
                r.set(name, (i * 100 + f) as i32)?;
            }
        }
        let (updated, n) = queries(&db, Record::bulk_update(&db, &mut records, &names)).await;
        assert_eq!(updated?, rows as u64, "{}", db.name());
        let statements = match db.dialect() {
            Dialect::Postgres => 3,
            _ => 5,
        };
        assert_eq!(n, statements + 2, "{}", db.name());
        for i in [0, 403, 404, 808, 809, rows - 1] {
            let stored = Record::fetch(&db, &wide, records[i].key()?.clone()).await?;
            assert_eq!(stored, records[i], "{}: row {i}", db.name());
        }
        db.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn batches_of_1000_rows_share_a_transaction() {
    for db in dbs().await {
        let rows = 2_500;
        let mut users = User::insert_many(
            &db,
            (0..rows).map(|i| User::new(&format!("u{i}"))).collect(),
        )
        .await
        .unwrap();
        for (i, u) in users.iter_mut().enumerate() {
            u.name = format!("renamed {i}");
            u.active = i % 2 == 0;
        }
        let (updated, n) = queries(
            &db,
            User::bulk_update(&db, &mut users, [User::NAME.into(), User::ACTIVE.into()]),
        )
        .await;
        assert_eq!(updated.unwrap(), rows as u64, "{}", db.name());
        assert_eq!(n, 3 + 2, "{}: BEGIN, 3 batches, COMMIT", db.name());
        let last = User::get(&db, users[rows - 1].id).await.unwrap();
        assert_eq!((last.name.as_str(), last.active), ("renamed 2499", false));
        let active = User::objects()
            .filter(User::ACTIVE.eq(true))
            .count(&db)
            .await
            .unwrap();
        assert_eq!(active, rows as u64 / 2);

        // All or nothing: the last batch takes the email the first batch gave the first row;
        // its unique violation undoes the first batch.
        for (i, u) in users.iter_mut().enumerate() {
            u.email = format!("new{i}@example.com");
        }
        users[rows - 1].email = "new0@example.com".into();
        let err = User::bulk_update(&db, &mut users, [User::EMAIL.into()])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::UniqueViolation { fields, .. } if fields.is_empty() || fields == &["email"]),
            "{}: {err:?}",
            db.name()
        );
        assert_eq!(
            User::get(&db, users[1].id).await.unwrap().email,
            "u1@example.com",
            "{}: the first batch was rolled back",
            db.name()
        );
        // Inside a transaction, the batches run in it (no BEGIN of their own).
        let (updated, n) = queries(
            &db,
            db.transaction(|tx| async move {
                User::bulk_update(&tx, &mut users[..1_500], [User::NAME.into()]).await
            }),
        )
        .await;
        assert_eq!((updated.unwrap(), n), (1_500, 4), "{}", db.name());
        db.close().await;
    }
}

#[tokio::test]
async fn runs_no_hooks_and_no_observers_and_the_first_duplicate_wins() {
    for db in dbs().await {
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        db.hooks().before_save(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
            Ok(())
        });
        let title = format!("bulk {}", db.name());
        let mut note = Note::new(&title);
        note.insert(&db).await.unwrap();
        let (slug, stamp) = (note.slug.clone(), note.stamp);
        let before = (seen.load(Ordering::Relaxed), hook_log(&title).len());
        let mut second = note.clone();
        note.title = format!("{title} first");
        second.title = format!("{title} second");
        let mut notes = vec![note, second];
        let updated = Note::bulk_update(&db, &mut notes, [Note::TITLE.into()])
            .await
            .unwrap();
        assert_eq!(updated, 1, "{}: one row", db.name());
        assert_eq!(
            (seen.load(Ordering::Relaxed), hook_log(&title).len()),
            before,
            "{}: no observer, no model hook",
            db.name()
        );
        let stored = Note::get(&db, notes[0].id).await.unwrap();
        assert_eq!(stored.title, format!("{title} first"), "{}", db.name());
        assert_eq!(stored.slug, slug, "before_save did not run");
        // auto_now written back into a model without `set_field` (rebuilt from its values).
        assert!(notes[0].stamp > stamp && stored.stamp == notes[0].stamp);
        db.close().await;
    }
}

#[tokio::test]
async fn records_of_a_runtime_model() -> turbine_orm::Result<()> {
    let item = ModelMeta::new("app", "Item")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("n", FieldType::I32))
        .field(FieldMeta::new("note", FieldType::Text).nullable());
    for db in TestDb::all_with(std::slice::from_ref(&item)).await.unwrap() {
        let mut records = Vec::new();
        for n in 0..3 {
            let mut r = Record::new(&item);
            r.set("n", n)?;
            r.set("note", "x")?;
            r.insert(&db).await.unwrap();
            records.push(r);
        }
        for (i, r) in records.iter_mut().enumerate() {
            r.set("n", i as i32 * 10)?;
            r.set("note", Value::String(None))?;
        }
        let (updated, n) =
            queries(&db, Record::bulk_update(&db, &mut records, &["n", "note"])).await;
        assert_eq!((updated.unwrap(), n), (3, 1), "{}", db.name());
        for (i, r) in records.iter().enumerate() {
            let stored = Record::fetch(&db, &item, r.key()?.clone()).await.unwrap();
            assert_eq!(stored.get("n"), Some(&Value::Int(Some(i as i32 * 10))));
            assert_eq!(stored.get("note"), Some(&Value::String(None)));
        }
        db.close().await;
    }
    Ok(())
}
