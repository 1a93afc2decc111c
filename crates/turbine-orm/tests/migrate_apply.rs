//! Every migration operation applied to tables holding rows, on SQLite (where most changes go
//! through the copy-table rebuild) and Postgres: the rows survive, the schema is exactly the
//! state's, and rolling back restores each earlier schema.

mod migrate_models;
mod migrate_support;

use migrate_models::{STEPS, destructive, label_table, models, project};
use migrate_support::{assert_schema, count, migrate_all, migrate_to};
use turbine_orm::migrate::{self, MigrateOptions, Progress};
use turbine_orm::query::{Filter, Lookup, Query};
use turbine_orm::testing::TestDb;
use turbine_orm::{Db, Error};

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

async fn one<T: turbine_orm::FieldValue>(db: &Db, sql: &str) -> T {
    let sql = format!("{sql} -- {}", rand_suffix());
    let rows = db.raw(sql, []).fetch_all().await.unwrap();
    rows[0].decode(&rows[0].columns()[0].clone()).unwrap()
}

async fn all_equal(db: &Db, sql: &str) -> Vec<String> {
    // A new text each time: the Postgres backend caches prepared statements by text, and a
    // cached plan fails once a migration changed the column types it returns.
    let sql = format!("{sql} -- {}", rand_suffix());
    db.raw(sql, [])
        .fetch_all()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let c = r.columns()[0].clone();
            r.decode::<Option<String>>(&c)
                .unwrap()
                .unwrap_or_else(|| "NULL".into())
        })
        .collect()
}

/// What must hold right after migration `step` ran on a database seeded after step 1.
async fn check(db: &Db, step: usize) {
    let posts = count(db, "blog_post").await;
    assert_eq!(posts, 3, "step {step}: posts kept");
    assert_eq!(count(db, "auth_user").await, 2, "step {step}: users kept");
    if step < 17 {
        assert_eq!(
            count(db, label_table(step)).await,
            2,
            "step {step}: labels kept"
        );
    }
    let title = if step >= 7 { "headline" } else { "title" };
    assert_eq!(
        all_equal(db, &format!("SELECT {title} FROM blog_post ORDER BY id")).await,
        ["One", "Two", "Three"],
        "step {step}"
    );
    let err = |r: turbine_orm::Result<u64>| r.expect_err("the constraint refuses it");
    match step {
        2 => assert_eq!(
            one::<i64>(db, "SELECT COUNT(*) FROM blog_post WHERE subtitle IS NULL").await,
            3
        ),
        3 => assert_eq!(
            all_equal(db, "SELECT CAST(views AS TEXT) FROM blog_post").await,
            ["7", "7", "7"]
        ),
        4 => assert_eq!(
            all_equal(db, "SELECT status FROM blog_post").await,
            ["draft", "draft", "draft"]
        ),
        5 => assert_eq!(
            all_equal(db, "SELECT body FROM blog_post ORDER BY id").await,
            ["", "body", ""],
            "NULL bodies take the default"
        ),
        6 => {
            db.raw("UPDATE blog_post SET subtitle = 'x' WHERE id = 1", [])
                .execute()
                .await
                .unwrap();
            let e = err(db
                .raw("UPDATE blog_post SET subtitle = 'x' WHERE id = 2", [])
                .execute()
                .await);
            assert!(matches!(e, Error::UniqueViolation { .. }), "{e:?}");
            db.raw("UPDATE blog_post SET subtitle = NULL", [])
                .execute()
                .await
                .unwrap();
        }
        9 => {
            let e = err(db
                .raw(
                    "INSERT INTO blog_post (headline, body, author_id, views) VALUES ('One', '', 1, 7)",
                    [],
                )
                .execute()
                .await);
            assert!(matches!(e, Error::UniqueViolation { .. }), "{e:?}");
        }
        10 => {
            let e = err(db
                .raw(
                    "INSERT INTO blog_post (headline, body, author_id, views) VALUES ('New', '', 1, -1)",
                    [],
                )
                .execute()
                .await);
            assert!(matches!(e, Error::CheckViolation { .. }), "{e:?}");
        }
        11 => {
            assert_eq!(
                one::<i64>(db, "SELECT COUNT(*) FROM blog_post WHERE editor_id IS NULL").await,
                3
            );
            // The new foreign key is enforced (and enforcement is back on after the rebuild).
            let e = err(db
                .raw(
                    "INSERT INTO blog_post (headline, body, author_id, views, editor_id) VALUES ('New', '', 1, 1, 999)",
                    [],
                )
                .execute()
                .await);
            assert!(matches!(e, Error::ForeignKeyViolation { .. }), "{e:?}");
        }
        12 => assert_eq!(
            all_equal(db, "SELECT email FROM auth_user ORDER BY id").await,
            ["a@x.org", "b@x.org"],
            "rebuilding a referenced table neither cascades nor loses rows"
        ),
        16 => assert_eq!(
            all_equal(db, "SELECT CAST(views AS TEXT) FROM blog_post").await,
            ["8", "8", "8"]
        ),
        18 => {
            // A trigram index: searches find the same rows on both backends.
            let post = models(18).into_iter().find(|m| m.name == "Post").unwrap();
            let found = Query::new(&post)
                .filter(Filter::field("headline", Lookup::IContains("WO".into())))
                .fetch(db)
                .await
                .unwrap();
            assert_eq!(found.len(), 1, "step {step}: `Two`");
            // (That Postgres answers them from the index is checked in migrate_commands, on a
            // table without updated rows: here the index may not be usable by every snapshot yet.)
        }
        _ => {}
    }
}

async fn seed(db: &Db) {
    db.batch(
        "INSERT INTO auth_user (email) VALUES ('a@x.org'), ('b@x.org');
         INSERT INTO blog_post (title, body, author_id) VALUES ('One', NULL, 1), ('Two', 'body', 2), ('Three', NULL, 1);
         INSERT INTO blog_tag (name) VALUES ('rust'), ('db');",
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn every_operation_keeps_the_rows_of_a_table_on_both_backends() {
    let project = project();
    let set = project.set();
    for db in TestDb::all().await.unwrap() {
        for (i, m) in set.migrations().iter().enumerate() {
            let step = i + 1;
            let options = MigrateOptions::new()
                .target(Some(m.name.clone()))
                .allow_destructive(destructive(step));
            let report = migrate::migrate(&db, &set, &options, &Progress::quiet())
                .await
                .unwrap_or_else(|e| panic!("{}: step {step} ({}): {e}", db.name(), m.name));
            assert_eq!(report.applied, std::slice::from_ref(&m.name));
            assert_schema(&db, set.state_before(step)).await;
            if step == 1 {
                seed(&db).await;
            }
            check(&db, step).await;
        }
        db.close().await;
    }
}

#[tokio::test]
async fn rollback_restores_each_previous_schema_and_keeps_the_rows() {
    let set = project().set();
    for db in TestDb::all().await.unwrap() {
        migrate_to(&db, &set, &set.migrations()[0].name).await;
        seed(&db).await;
        migrate_all(&db, &set, true).await;
        for step in (1..=STEPS).rev() {
            let report = migrate::rollback(
                &db,
                &set,
                1,
                &MigrateOptions::new().allow_destructive(true),
                &Progress::quiet(),
            )
            .await
            .unwrap_or_else(|e| panic!("{}: rolling back step {step}: {e}", db.name()));
            assert_eq!(report.unapplied, [set.migrations()[step - 1].name.clone()]);
            assert_schema(&db, set.state_before(step - 1)).await;
            if step > 1 {
                assert_eq!(
                    count(&db, "blog_post").await,
                    3,
                    "rolled back to {}",
                    step - 1
                );
                assert_eq!(count(&db, "auth_user").await, 2);
            }
        }
        assert!(migrate::applied(&db).await.unwrap().is_empty());
        db.close().await;
    }
}

#[tokio::test]
async fn migrate_to_an_earlier_target_rolls_back_the_later_migrations() {
    let set = project().set();
    for db in TestDb::all().await.unwrap() {
        migrate_all(&db, &set, true).await;
        let report = migrate::migrate(
            &db,
            &set,
            &MigrateOptions::new()
                .target(Some("0003".into()))
                .allow_destructive(true),
            &Progress::quiet(),
        )
        .await
        .unwrap();
        assert_eq!(report.unapplied.len(), STEPS - 3);
        assert_schema(&db, set.state_before(3)).await;
        assert_eq!(models(3).len(), 3);
        db.close().await;
    }
}
