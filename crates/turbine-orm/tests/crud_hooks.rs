//! Lifecycle hooks (the model's, outermost, and the database's observers) in order on every
//! write, errors from hooks stopping the write, and get_or_create / update_or_create, on
//! SQLite and Postgres.

mod common;

use std::sync::Arc;

use common::*;
use turbine_orm::hooks::{Change, ChangeKind};
use turbine_orm::{Db, Error, ModelExt, Value};

/// Logs every observer call into the notes' hook log as `"<what>:<kind> <title>"`.
fn observe(db: &Db) {
    fn title(change: &Change<'_>) -> String {
        change
            .values
            .iter()
            .find(|(c, _)| c == "title")
            .and_then(|(_, v)| match v {
                Value::String(Some(s)) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }
    let notes = |c: &Change<'_>| c.model.name == "Note";
    db.hooks().before_save(move |c| {
        if notes(c) {
            if title(c) == "vetoed" {
                return Err(Error::Validation {
                    field: "title".into(),
                    message: "observer says no".into(),
                });
            }
            HOOK_LOG
                .lock()
                .unwrap()
                .push(format!("observer_before:{:?} {}", c.kind, title(c)));
        }
        Ok(())
    });
    db.hooks().after_save(move |c| {
        if notes(c) {
            let pk = matches!(c.pk, Value::BigInt(Some(n)) if *n > 0);
            HOOK_LOG.lock().unwrap().push(format!(
                "observer_after:{:?}:pk={pk} {}",
                c.kind,
                title(c)
            ));
        }
    });
    db.hooks().before_delete(move |c| {
        if notes(c) {
            assert_eq!(c.kind, ChangeKind::Deleted);
            HOOK_LOG
                .lock()
                .unwrap()
                .push(format!("observer_before_delete {:?}", c.pk));
        }
        Ok(())
    });
}

#[tokio::test]
async fn hooks_run_in_order_around_every_write() {
    for db in dbs().await {
        observe(&db);
        let title = format!("Hooks {}", db.name());
        let mut note = Note::new(&title);
        note.insert(&db).await.unwrap();
        assert_eq!(
            note.slug,
            title.to_lowercase().replace(' ', "-"),
            "before_save ran first"
        );
        assert!(
            note.stamp > chrono::DateTime::<chrono::Utc>::MIN_UTC,
            "auto_now written back"
        );
        let id = note.id;
        note.save(&db).await.unwrap();
        note.delete(&db).await.unwrap();
        assert_eq!(
            hook_log(&title),
            [
                format!("before_save:Created {title}"),
                format!("observer_before:Created {title}"),
                format!("observer_after:Created:pk=true {title}"),
                format!("after_save:Created:{id} {title}"),
                format!("before_save:Updated {title}"),
                format!("observer_before:Updated {title}"),
                format!("observer_after:Updated:pk=true {title}"),
                format!("after_save:Updated:{id} {title}"),
                format!("before_delete {title}"),
                format!("after_delete {title}"),
            ]
        );
        let deletes: Vec<String> = HOOK_LOG
            .lock()
            .unwrap()
            .iter()
            .filter(|l| *l == &format!("observer_before_delete BigInt(Some({id}))"))
            .cloned()
            .collect();
        assert!(!deletes.is_empty(), "{}", db.name());
        db.close().await;
    }
}

#[tokio::test]
async fn a_failing_hook_stops_the_write() {
    for db in dbs().await {
        observe(&db);
        let mut forbidden = Note::new("forbidden");
        assert!(matches!(
            forbidden.insert(&db).await,
            Err(Error::Validation { .. })
        ));
        let mut vetoed = Note::new("vetoed");
        match vetoed.insert(&db).await {
            Err(Error::Validation { message, .. }) => assert_eq!(message, "observer says no"),
            other => panic!("{}: {other:?}", db.name()),
        }
        assert_eq!(Note::objects().count(&db).await.unwrap(), 0);
        assert!(
            hook_log("vetoed")
                .iter()
                .all(|l| !l.starts_with("after_save"))
        );
        db.close().await;
    }
}

#[tokio::test]
async fn get_or_create_creates_once_even_under_concurrency() {
    for db in dbs().await {
        let db = Arc::new(db);
        let (u, created) = User::get_or_create(&db, User::EMAIL.eq("x@example.com"), || {
            let mut u = User::new("X");
            u.email = "x@example.com".into();
            u
        })
        .await
        .unwrap();
        assert!(created, "{}", db.name());
        let (again, created) =
            User::get_or_create(&db, User::EMAIL.eq("x@example.com"), || unreachable!())
                .await
                .unwrap();
        assert!(!created);
        assert_eq!(again, u);
        // Racing creators of one email: one row, every caller gets it.
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    User::get_or_create(&db, User::EMAIL.eq("race@example.com"), move || {
                        let mut u = User::new(&format!("racer{i}"));
                        u.email = "race@example.com".into();
                        u
                    })
                    .await
                })
            })
            .collect();
        let mut winners = 0;
        let mut ids = Vec::new();
        for t in tasks {
            let (u, created) = t.await.unwrap().unwrap();
            winners += usize::from(created);
            ids.push(u.id);
        }
        assert_eq!(winners, 1, "{}", db.name());
        ids.dedup();
        assert_eq!(ids.len(), 1);
        assert_eq!(
            User::objects()
                .filter(User::EMAIL.eq("race@example.com"))
                .count(&db)
                .await
                .unwrap(),
            1
        );
        Arc::into_inner(db).unwrap().close().await;
    }
}

#[tokio::test]
async fn update_or_create_updates_only_what_changed() {
    for db in dbs().await {
        let (u, created) = User::update_or_create(
            &db,
            User::EMAIL.eq("y@example.com"),
            |u| u.name = "never".into(),
            || {
                let mut u = User::new("Y");
                u.email = "y@example.com".into();
                u
            },
        )
        .await
        .unwrap();
        assert!(created, "{}", db.name());
        assert_eq!(u.name, "Y");
        // A concurrent change to another column survives the update.
        User::objects()
            .filter(User::ID.eq(u.id))
            .update()
            .set(User::ACTIVE, false)
            .execute(&db)
            .await
            .unwrap();
        let (u2, created) = User::update_or_create(
            &db,
            User::EMAIL.eq("y@example.com"),
            |u| u.name = "Why".into(),
            || unreachable!(),
        )
        .await
        .unwrap();
        assert!(!created);
        assert_eq!((u2.id, u2.name.as_str()), (u.id, "Why"));
        let stored = User::get(&db, u.id).await.unwrap();
        assert_eq!((stored.name.as_str(), stored.active), ("Why", false));
        db.close().await;
    }
}
