//! Two `migrate` runs at once (two nodes starting together), each with its own pool on the same
//! database: every migration is applied exactly once, neither run fails.

mod migrate_models;
mod migrate_support;

use std::collections::BTreeSet;

use migrate_support::assert_schema;
use turbine_orm::Db;
use turbine_orm::migrate::{self, MigrateOptions, MigrationSet, Progress};
use turbine_orm::testing::TestDb;

async fn race(test_db: &TestDb, set: &MigrationSet) {
    let nodes = [
        Db::connect(test_db.url()).await.unwrap(),
        Db::connect(test_db.url()).await.unwrap(),
    ];
    let runs = nodes.iter().map(|db| {
        let (db, set) = (db.clone(), set.clone());
        tokio::spawn(async move {
            migrate::migrate(
                &db,
                &set,
                &MigrateOptions::new().allow_destructive(true),
                &Progress::quiet(),
            )
            .await
        })
    });
    let reports: Vec<_> = futures_util::future::join_all(runs)
        .await
        .into_iter()
        .map(|r| {
            r.unwrap()
                .unwrap_or_else(|e| panic!("{}: a run failed: {e}", test_db.name()))
        })
        .collect();
    let all: Vec<String> = set.migrations().iter().map(|m| m.name.clone()).collect();
    let (a, b) = (&reports[0], &reports[1]);
    let applied_a: BTreeSet<_> = a.applied.iter().cloned().collect();
    let applied_b: BTreeSet<_> = b.applied.iter().cloned().collect();
    assert!(
        applied_a.is_disjoint(&applied_b),
        "applied twice: {a:?} {b:?}"
    );
    let union: BTreeSet<_> = applied_a.union(&applied_b).cloned().collect();
    assert_eq!(
        union,
        all.iter().cloned().collect(),
        "every migration applied"
    );
    // What one run did not apply, it saw applied (skipped it or found it done).
    for (mine, other) in [(a, b), (b, a)] {
        for name in &mine.skipped {
            assert!(other.applied.contains(name));
        }
    }
    let recorded: Vec<String> = migrate::applied(test_db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(recorded, all, "one record per migration");
    assert_schema(test_db, set.state()).await;
    for db in nodes {
        db.close().await;
    }
}

#[tokio::test]
async fn two_concurrent_migrate_runs_on_postgres_apply_each_migration_once() {
    let set = migrate_models::project().set();
    // Several rounds, each on a fresh database, so the runs interleave differently.
    for _ in 0..4 {
        let Some(db) = TestDb::postgres().await.unwrap() else {
            return;
        };
        race(&db, &set).await;
        db.close().await;
    }
}

#[tokio::test]
async fn two_concurrent_migrate_runs_on_sqlite_apply_each_migration_once() {
    let set = migrate_models::project().set();
    for _ in 0..2 {
        let db = TestDb::sqlite().await.unwrap();
        race(&db, &set).await;
        db.close().await;
    }
}
