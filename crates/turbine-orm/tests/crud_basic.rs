//! CRUD on SQLite and Postgres: defaults and keys filled on insert, bulk insert, save with
//! `auto_now`, saving only changed fields, delete, get, refresh, validation, unique
//! violations, and the untyped `Record` for runtime models.

mod common;

use chrono::Utc;
use common::*;
use turbine_orm::crud::Record;
use turbine_orm::{Error, ForeignKey, Model, ModelExt, Value};

#[tokio::test]
async fn insert_fills_keys_defaults_and_timestamps() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        assert!(alice.id > 0, "{}", db.name());
        let before = Utc::now() - chrono::Duration::seconds(5);
        let p = post(&db, &alice, "hello", 3).await;
        assert!(
            p.created_at > before && p.updated_at > before,
            "timestamps written back"
        );
        let stored = Post::get(&db, p.id).await.unwrap();
        assert_eq!(
            stored.created_at,
            p.created_at,
            "{}: microsecond precision",
            db.name()
        );
        assert_eq!((stored.title.as_str(), stored.views), ("hello", 3));
        // UUID v7 keys from the ORM; NULL fields with a database default get it, read back.
        let mut d = Doc::new("spec");
        d.insert(&db).await.unwrap();
        assert_eq!(d.id.get_version_num(), 7);
        assert_eq!(d.size, Some(42));
        let mut sized = Doc::new("sized");
        sized.size = Some(7);
        sized.insert(&db).await.unwrap();
        assert_eq!(Doc::get(&db, sized.id).await.unwrap().size, Some(7));
        assert_eq!(Doc::get(&db, d.id).await.unwrap(), d);
        // An explicit key is kept.
        let mut fixed = User::new("Fixed");
        fixed.id = 1000;
        fixed.insert(&db).await.unwrap();
        assert_eq!(User::get(&db, 1000).await.unwrap().name, "Fixed");
        db.close().await;
    }
}

#[tokio::test]
async fn insert_many_is_one_statement_per_chunk() {
    for db in dbs().await {
        let (users, n) = queries(&db, async {
            User::insert_many(
                &db,
                (0..10_000).map(|i| User::new(&format!("u{i}"))).collect(),
            )
            .await
            .unwrap()
        })
        .await;
        // SQLite: 4 columns → 8191 rows per statement: 2 statements in one transaction
        // (BEGIN, INSERT, INSERT, COMMIT); Postgres: one statement.
        let expected = match db.dialect() {
            turbine_orm::backend::Dialect::Postgres => 1,
            _ => 4,
        };
        assert_eq!(n, expected, "{}", db.name());
        assert_eq!(users.len(), 10_000);
        let mut ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "keys come back in order"
        );
        ids.dedup();
        assert_eq!(ids.len(), 10_000);
        assert_eq!(User::objects().count(&db).await.unwrap(), 10_000);
        let u = User::get(&db, users[9_999].id).await.unwrap();
        assert_eq!(u.name, "u9999");
        db.close().await;
    }
}

#[tokio::test]
async fn insert_many_is_all_or_nothing_across_statements() {
    for db in dbs().await {
        // The duplicate is in the second statement on SQLite: the first must not stay.
        let mut users: Vec<User> = (0..9_000).map(|i| User::new(&format!("u{i}"))).collect();
        users.push(User::new("u0"));
        let err = User::insert_many(&db, users).await.unwrap_err();
        assert!(
            matches!(err, turbine_orm::Error::UniqueViolation { .. }),
            "{}: {err:?}",
            db.name()
        );
        assert_eq!(
            User::objects().count(&db).await.unwrap(),
            0,
            "{}",
            db.name()
        );
        db.close().await;
    }
}

#[tokio::test]
async fn save_refreshes_auto_now_and_edit_saves_only_changed_fields() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        let mut p = post(&db, &alice, "draft", 0).await;
        let (created, updated) = (p.created_at, p.updated_at);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        p.title = "first".into();
        p.save(&db).await.unwrap();
        assert!(p.updated_at > updated, "{}", db.name());
        assert_eq!(p.created_at, created);
        let stored = Post::get(&db, p.id).await.unwrap();
        assert_eq!(
            (stored.title.as_str(), stored.updated_at),
            ("first", p.updated_at)
        );

        // Someone else bumps the views meanwhile.
        Post::objects()
            .filter(Post::ID.eq(p.id))
            .update()
            .set(Post::VIEWS, 42)
            .execute(&db)
            .await
            .unwrap();
        let mut edit = p.edit();
        edit.title = "second".into();
        assert_eq!(edit.changed(), ["title"]);
        let ((), n) = queries(&db, async { edit.save(&db).await.unwrap() }).await;
        assert_eq!(n, 1);
        let stored = Post::get(&db, p.id).await.unwrap();
        assert_eq!(stored.title, "second");
        assert_eq!(
            stored.views, 42,
            "the concurrent change to another column survives"
        );
        assert_eq!(
            stored.updated_at, p.updated_at,
            "auto_now refreshed and written back"
        );
        // Nothing changed: no query.
        let ((), n) = queries(&db, async { p.edit().save(&db).await.unwrap() }).await;
        assert_eq!(n, 0);
        // save_only names the columns.
        p.body = "body".into();
        p.views = 1;
        p.save_only(&db, [Post::BODY.into()]).await.unwrap();
        let stored = Post::get(&db, p.id).await.unwrap();
        assert_eq!((stored.body.as_str(), stored.views), ("body", 42));
        // refresh reads the row again.
        p.refresh(&db).await.unwrap();
        assert_eq!(p.views, 42);
        db.close().await;
    }
}

#[tokio::test]
async fn delete_get_and_missing_rows() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        let p = post(&db, &alice, "gone", 0).await;
        p.delete(&db).await.unwrap();
        assert!(
            matches!(Post::get(&db, p.id).await, Err(Error::NotFound { model }) if model == "blog.Post")
        );
        assert!(
            matches!(p.delete(&db).await, Err(Error::NotFound { .. })),
            "{}",
            db.name()
        );
        let mut ghost = p.clone();
        assert!(matches!(ghost.save(&db).await, Err(Error::NotFound { .. })));
        // Protect, one row at a time.
        let kept = post(&db, &alice, "kept", 0).await;
        Comment::new(&kept, "c").insert(&db).await.unwrap();
        match kept.delete(&db).await {
            Err(Error::Protected { model, by }) => {
                assert_eq!(
                    (model.as_str(), by),
                    ("blog.Post", vec!["blog.Comment.post".to_string()])
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(Post::get(&db, kept.id).await.is_ok());
        db.close().await;
    }
}

#[tokio::test]
async fn validation_and_unique_violations() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        // max_length counts characters, not bytes.
        let mut p = Post::new(&alice, &"é".repeat(200));
        p.insert(&db).await.unwrap();
        p.title.push('é');
        match p.save(&db).await {
            Err(Error::Validation { field, message }) => {
                assert_eq!(field, "title");
                assert!(
                    message.contains("at most 200 characters (it has 201)"),
                    "{message}"
                );
            }
            other => panic!("{}: {other:?}", db.name()),
        }
        // Choices and not-null, through an untyped record.
        let meta = Post::meta();
        let mut r = Record::from_values(meta, p.to_values()).unwrap();
        r.set("status", "bogus").unwrap();
        r.set("title", "ok").unwrap();
        assert!(
            matches!(r.save(&db).await, Err(Error::Validation { field, .. }) if field == "status")
        );
        r.set("status", "live").unwrap();
        r.set("title", Value::String(None)).unwrap();
        assert!(
            matches!(r.save(&db).await, Err(Error::Validation { field, .. }) if field == "title")
        );
        // A unique violation names the field.
        let mut twin = User::new("Alice");
        match twin.insert(&db).await {
            Err(Error::UniqueViolation { fields, .. }) => {
                assert_eq!(fields, ["email"], "{}", db.name())
            }
            other => panic!("{}: {other:?}", db.name()),
        }
        assert_eq!(twin.id, 0, "no key was assigned");
        // Constraint errors name fields, not columns (`group`, not `group_id`).
        let mut g = Group::new("g");
        g.insert(&db).await.unwrap();
        let membership = || Membership {
            id: 0,
            group: ForeignKey::from(&g),
            user: ForeignKey::from(&alice),
            role: "admin".into(),
        };
        membership().insert(&db).await.unwrap();
        match membership().insert(&db).await {
            Err(Error::UniqueViolation { fields, .. }) => {
                assert_eq!(fields, ["group", "user"], "{}", db.name())
            }
            other => panic!("{}: {other:?}", db.name()),
        }
        db.close().await;
    }
}

#[tokio::test]
async fn records_do_crud_for_models_without_a_rust_type() {
    for db in dbs().await {
        let meta = Doc::meta();
        let mut r = Record::from_json(
            meta,
            serde_json::json!({"title": "runtime"}).as_object().unwrap(),
        )
        .unwrap();
        r.insert(&db).await.unwrap();
        let key = r.key().unwrap().clone();
        assert!(
            matches!(key, Value::Uuid(Some(u)) if u.get_version_num() == 7),
            "{key:?}"
        );
        assert_eq!(r.get("size"), Some(&Value::Int(Some(42))), "{}", db.name());
        r.set("title", "renamed").unwrap();
        r.set("size", 9).unwrap();
        r.save_fields(&db, &["title"]).await.unwrap();
        let fetched = Record::fetch(&db, meta, key.clone()).await.unwrap();
        assert_eq!(fetched.get("title"), Some(&Value::from("renamed")));
        assert_eq!(
            fetched.get("size"),
            Some(&Value::Int(Some(42))),
            "size was not saved"
        );
        r.save(&db).await.unwrap();
        r.refresh(&db).await.unwrap();
        assert_eq!(r.to_json()["size"], 9);
        let mut many = vec![Record::new(meta), Record::new(meta)];
        for (i, m) in many.iter_mut().enumerate() {
            m.set("title", format!("m{i}")).unwrap();
        }
        Record::insert_many(&db, &mut many).await.unwrap();
        assert!(
            many.iter()
                .all(|m| matches!(m.key(), Ok(Value::Uuid(Some(_)))))
        );
        r.delete(&db).await.unwrap();
        assert!(matches!(
            Record::fetch(&db, meta, key).await,
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            Record::from_json(meta, serde_json::json!({"nope": 1}).as_object().unwrap()),
            Err(Error::Validation { field, .. }) if field == "nope"
        ));
        db.close().await;
    }
}
