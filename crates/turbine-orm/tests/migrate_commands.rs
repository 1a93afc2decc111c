//! `migrate` and friends against real databases: destructive operations need the flag, `--fake`
//! records without running, a failed migration changes nothing, `showmigrations` and
//! `sqlmigrate` print what they should, and the clap commands are wired to all of it.

mod migrate_models;
mod migrate_support;

use migrate_support::{Project, assert_schema, count, migrate_all, migrate_to, registry};
use turbine_core::config::Config;
use turbine_core::context::ContextBuilder;
use turbine_orm::Db;
use turbine_orm::backend::Dialect;
use turbine_orm::meta::{FieldMeta, FieldType, IndexKind, ModelMeta};
use turbine_orm::migrate::{
    self, MigrateOptions, MigrationConfig, MigrationSet, Operation, Progress, Renames,
};
use turbine_orm::query::{Filter, Lookup, Query};
use turbine_orm::testing::TestDb;

fn note(extra: Option<FieldMeta>) -> ModelMeta {
    let m = ModelMeta::new("notes", "Note")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("body", FieldType::Text));
    match extra {
        Some(f) => m.field(f),
        None => m,
    }
}

fn stars() -> FieldMeta {
    FieldMeta::new("stars", FieldType::I32).nullable()
}

/// 0001 creates notes, 0002 adds `stars`, 0003 removes it (destructive).
fn project() -> Project {
    let mut p = Project::default();
    p.make(&[note(None)], Renames::new());
    p.make(&[note(Some(stars()))], Renames::new());
    p.make(&[note(None)], Renames::new());
    p
}

async fn names(db: &Db) -> Vec<String> {
    migrate::applied(db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect()
}

#[tokio::test]
async fn destructive_operations_are_refused_without_the_flag() {
    let set = project().set();
    for db in TestDb::all().await.unwrap() {
        let err = migrate::migrate(&db, &set, &MigrateOptions::new(), &Progress::quiet())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("--allow-destructive"), "{err}");
        assert!(
            err.contains("0003_remove_note_stars: Remove field stars from notes.Note"),
            "{err}"
        );
        // Refused before anything ran.
        assert!(names(&db).await.is_empty());
        migrate_all(&db, &set, true).await;
        assert_eq!(names(&db).await.len(), 3);
        // Rolling back the creation of a table drops it: refused too.
        let back = MigrateOptions::new().target(Some("0001".into()));
        migrate::migrate(
            &db,
            &set,
            &back.clone().allow_destructive(true),
            &Progress::quiet(),
        )
        .await
        .unwrap();
        let err = migrate::rollback(&db, &set, 1, &MigrateOptions::new(), &Progress::quiet())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("Delete model notes.Note"), "{err}");
        assert_eq!(names(&db).await, ["0001_initial"]);
        db.close().await;
    }
}

#[tokio::test]
async fn fake_records_without_running_and_unrecords_without_running() {
    let set = project().set();
    for db in TestDb::all().await.unwrap() {
        let fake = MigrateOptions::new().fake(true);
        let report = migrate::migrate(&db, &set, &fake, &Progress::quiet())
            .await
            .unwrap();
        assert_eq!(
            report.applied.len(),
            3,
            "faking needs no --allow-destructive"
        );
        assert_eq!(names(&db).await.len(), 3);
        let tables = db
            .raw("SELECT COUNT(*) AS n FROM turbine_migrations", [])
            .fetch_all()
            .await
            .unwrap();
        assert_eq!(tables[0].decode::<i64>("n").unwrap(), 3);
        assert!(
            db.raw("SELECT * FROM notes_note", [])
                .fetch_all()
                .await
                .is_err(),
            "no table made"
        );
        let report = migrate::rollback(&db, &set, 2, &fake, &Progress::quiet())
            .await
            .unwrap();
        assert_eq!(
            report.unapplied,
            ["0003_remove_note_stars", "0002_note_stars"]
        );
        assert_eq!(names(&db).await, ["0001_initial"]);
        db.close().await;
    }
}

#[tokio::test]
async fn a_failing_migration_changes_nothing() {
    let mut p = Project::default();
    p.make(&[note(Some(stars()))], Renames::new());
    // Forbid NULL without a default while rows hold NULL: the database refuses.
    p.add(vec![
        Operation::AddField {
            model: "notes.Note".into(),
            field: FieldMeta::new("title", FieldType::Text).nullable(),
        },
        Operation::AlterField {
            model: "notes.Note".into(),
            field: FieldMeta::new("stars", FieldType::I32),
        },
    ]);
    let set = p.set();
    for db in TestDb::all().await.unwrap() {
        migrate_to(&db, &set, "0001").await;
        db.batch("INSERT INTO notes_note (body) VALUES ('a'); INSERT INTO notes_note (body, stars) VALUES ('b', 5)")
            .await
            .unwrap();
        let err = migrate::migrate(
            &db,
            &set,
            &MigrateOptions::new().allow_destructive(true),
            &Progress::quiet(),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("0002"), "{err}");
        assert_eq!(names(&db).await, ["0001_initial"]);
        assert_schema(&db, set.state_before(1)).await;
        assert_eq!(count(&db, "notes_note").await, 2);
        // Foreign keys are enforced again after the failed attempt (SQLite switched them off).
        if db.dialect() == Dialect::Sqlite {
            let on = db.raw("PRAGMA foreign_keys", []).fetch_all().await.unwrap();
            assert_eq!(on[0].decode::<i64>("foreign_keys").unwrap(), 1);
        }
        db.close().await;
    }
}

#[tokio::test]
async fn showmigrations_and_sqlmigrate_print_the_state_and_the_sql() {
    let set = project().set();
    for db in TestDb::all().await.unwrap() {
        migrate::ensure_table(&db).await.unwrap();
        let shown = migrate::showmigrations(&set, &migrate::applied(&db).await.unwrap());
        assert_eq!(
            shown,
            "[ ] 0001_initial\n[ ] 0002_note_stars\n[ ] 0003_remove_note_stars\n"
        );
        migrate_to(&db, &set, "0002_note_stars").await;
        let shown = migrate::showmigrations(&set, &migrate::applied(&db).await.unwrap());
        assert_eq!(
            shown,
            "[X] 0001_initial\n[X] 0002_note_stars\n[ ] 0003_remove_note_stars\n"
        );
        let sql = migrate::sqlmigrate(&set, "0002", db.dialect(), false).unwrap();
        assert_eq!(
            sql,
            format!(
                "-- 0002_note_stars ({})\n-- Add field stars to notes.Note\nALTER TABLE \"notes_note\" ADD COLUMN \"stars\" integer NULL;\n",
                db.name()
            )
        );
        let back = migrate::sqlmigrate(&set, "0002", db.dialect(), true).unwrap();
        assert!(
            back.contains("-- Remove field stars from notes.Note"),
            "{back}"
        );
        // A migration the database records but no file has is listed, not hidden.
        let fewer = MigrationSet::new(set.migrations()[..1].to_vec()).unwrap();
        let shown = migrate::showmigrations(&fewer, &migrate::applied(&db).await.unwrap());
        assert!(
            shown.contains("[X] 0002_note_stars (recorded in the database, no such migration)")
        );
        assert!(migrate::sqlmigrate(&set, "0009", db.dialect(), false).is_err());
        db.close().await;
    }
}

#[tokio::test]
async fn the_clap_commands_run_against_the_context_s_database() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    for db in TestDb::all().await.unwrap() {
        let config = Config::builder()
            .no_file()
            .env_vars::<String, String>([])
            .load()
            .unwrap();
        let run = |name: &str, args: &[&str], models: &[ModelMeta]| {
            let commands = migrate::commands(MigrationConfig::new(&dir, registry(models)));
            let command = commands
                .into_iter()
                .find(|c| c.definition().get_name() == name)
                .unwrap();
            let mut argv = vec![name];
            argv.extend(args);
            let matches = command
                .definition()
                .clone()
                .try_get_matches_from(argv)
                .unwrap();
            let builder = ContextBuilder::new(config.clone());
            builder.insert(db.db().clone());
            command.run(builder.build(), matches)
        };
        let _ = std::fs::remove_dir_all(&dir);
        run("makemigrations", &[], &[note(None)]).await.unwrap();
        run(
            "makemigrations",
            &["--name", "stars"],
            &[note(Some(stars()))],
        )
        .await
        .unwrap();
        assert!(dir.join("0002_stars.json").exists());
        run("migrate", &[], &[]).await.unwrap();
        assert_eq!(names(&db).await, ["0001_initial", "0002_stars"]);
        run("showmigrations", &[], &[]).await.unwrap();
        run("sqlmigrate", &["0002"], &[]).await.unwrap();
        let err = run(
            "makemigrations",
            &["--rename", "nothing=here"],
            &[note(Some(stars()))],
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("--rename nothing=here matched no likely rename"),
            "{err}"
        );
        let err = run("rollback", &[], &[]).await.unwrap_err();
        assert!(err.to_string().contains("--allow-destructive"), "{err}");
        run("rollback", &["2", "--allow-destructive"], &[])
            .await
            .unwrap();
        assert!(names(&db).await.is_empty());
        assert_schema(&db, &migrate::State::new()).await;
        db.close().await;
    }
}

#[tokio::test]
async fn renaming_related_models_keeps_links_and_foreign_keys() {
    use turbine_orm::meta::OnDelete;
    let user = |table: &str| {
        ModelMeta::new("auth", "User")
            .table(table)
            .field(FieldMeta::auto_id())
            .field(FieldMeta::new("email", FieldType::Text))
    };
    let tag = ModelMeta::new("blog", "Tag").field(FieldMeta::auto_id());
    let post = |name: &str| {
        ModelMeta::new("blog", name)
            .field(FieldMeta::auto_id())
            .field(FieldMeta::foreign_key(
                "author",
                "auth.User",
                OnDelete::Cascade,
            ))
            .field(FieldMeta::many_to_many("tags", "blog.Tag"))
    };
    let mut p = Project::default();
    p.make(
        &[user("auth_user"), tag.clone(), post("Post")],
        Renames::new(),
    );
    p.make(
        &[user("auth_user"), tag.clone(), post("Article")],
        Renames::new().yes_to_all(),
    );
    p.make(
        &[user("members"), tag.clone(), post("Article")],
        Renames::new(),
    );
    let set = p.set();
    for db in TestDb::all().await.unwrap() {
        migrate_to(&db, &set, "0001").await;
        db.batch(
            "INSERT INTO auth_user (email) VALUES ('a@x.org');
             INSERT INTO blog_tag DEFAULT VALUES;
             INSERT INTO blog_post (author_id) VALUES (1);
             INSERT INTO blog_post_tags (post_id, tag_id) VALUES (1, 1);",
        )
        .await
        .unwrap();
        migrate_all(&db, &set, false).await;
        assert_schema(&db, set.state()).await;
        assert_eq!(count(&db, "blog_article").await, 1);
        assert_eq!(count(&db, "blog_article_tags").await, 1);
        assert_eq!(count(&db, "members").await, 1);
        // The foreign keys follow the renamed tables and columns, and are enforced.
        db.batch("INSERT INTO blog_article_tags (article_id, tag_id) VALUES (1, 1)")
            .await
            .expect_err("unique together after the rename");
        db.batch("INSERT INTO blog_article (author_id) VALUES (999)")
            .await
            .expect_err("the author must exist");
        db.batch("DELETE FROM members").await.unwrap();
        assert_eq!(
            count(&db, "blog_article").await,
            0,
            "cascade follows the rename"
        );
        assert_eq!(count(&db, "blog_article_tags").await, 0);
        db.close().await;
    }
}

#[tokio::test]
async fn a_trigram_index_is_a_gin_index_on_postgres_and_nothing_on_sqlite() {
    let mut p = Project::default();
    p.make(&[note(None)], Renames::new());
    let indexed = note(None).trigram_index(&["body"]);
    let m = p.make(std::slice::from_ref(&indexed), Renames::new());
    assert_eq!(
        m.operations,
        [Operation::AddIndex {
            model: "notes.Note".into(),
            name: "notes_note_body_trgm".into(),
            fields: vec!["body".into()],
            kind: IndexKind::Trigram,
        }]
    );
    assert!(p.up_to_date(std::slice::from_ref(&indexed)));
    let set = p.set();
    let pg = migrate::sqlmigrate(&set, "0002", Dialect::Postgres, false).unwrap();
    assert_eq!(
        pg,
        "-- 0002_notes_note_body_trgm (postgres)\n\
         -- Create trigram index notes_note_body_trgm on notes.Note (body)\n\
         CREATE EXTENSION IF NOT EXISTS pg_trgm;\n\
         CREATE INDEX \"notes_note_body_trgm\" ON \"notes_note\" USING gin (\"body\" gin_trgm_ops);\n"
    );
    let lite = migrate::sqlmigrate(&set, "0002", Dialect::Sqlite, false).unwrap();
    assert!(
        lite.ends_with("(body)\n-- (nothing to run on this backend)\n"),
        "{lite}"
    );
    // Rolling it back drops it on Postgres, and again runs nothing on SQLite.
    let back = migrate::sqlmigrate(&set, "0002", Dialect::Postgres, true).unwrap();
    assert!(
        back.contains("DROP INDEX \"notes_note_body_trgm\""),
        "{back}"
    );
    let back = migrate::sqlmigrate(&set, "0002", Dialect::Sqlite, true).unwrap();
    assert!(back.contains("(nothing to run on this backend)"), "{back}");
    for db in TestDb::all().await.unwrap() {
        migrate_all(&db, &set, false).await;
        assert_schema(&db, set.state()).await;
        db.batch("INSERT INTO notes_note (body) VALUES ('one'), ('two'), ('three')")
            .await
            .unwrap();
        let found = Query::new(&indexed)
            .filter(Filter::field("body", Lookup::IContains("WO".into())))
            .fetch(&db)
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        if db.dialect() == Dialect::Postgres {
            // The planner answers `ILIKE '%…%'` from the index (sequential scans off: the
            // table is tiny). A table whose rows were updated before the index was built may
            // not use it until older transactions end (Postgres' `indcheckxmin`).
            let plan: Vec<String> = db
                .transaction(|tx| async move {
                    tx.batch("SET LOCAL enable_seqscan = off").await?;
                    let rows = tx
                        .raw(
                            "EXPLAIN SELECT id FROM notes_note WHERE body ILIKE '%wo%'",
                            [],
                        )
                        .fetch_all()
                        .await?;
                    Ok::<_, turbine_orm::Error>(
                        rows.iter()
                            .map(|r| r.decode::<String>("QUERY PLAN").unwrap())
                            .collect(),
                    )
                })
                .await
                .unwrap();
            let plan = plan.join("\n");
            assert!(
                plan.contains("Bitmap Index Scan on notes_note_body_trgm"),
                "{plan}"
            );
        }
        // Rolled back: gone on Postgres, and nothing to undo on SQLite.
        migrate::rollback(&db, &set, 1, &MigrateOptions::new(), &Progress::quiet())
            .await
            .unwrap();
        let first = MigrationSet::new(set.migrations()[..1].to_vec()).unwrap();
        assert_schema(&db, first.state()).await;
        db.close().await;
    }
}
