//! The backends: types round-trip, transactions, savepoints, typed constraint errors — each on
//! SQLite and (when configured) Postgres, each test with its own database.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use turbine_orm::backend::{Dialect, Isolation, TxOptions};
use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta, OnDelete};
use turbine_orm::testing::TestDb;
use turbine_orm::{Db, Error, FieldValue, Value};
use uuid::Uuid;

fn kinds() -> ModelMeta {
    ModelMeta::new("t", "Kinds")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("b", FieldType::Bool))
        .field(FieldMeta::new("i16", FieldType::I16))
        .field(FieldMeta::new("i32", FieldType::I32))
        .field(FieldMeta::new("i64", FieldType::I64))
        .field(FieldMeta::new("f32", FieldType::F32))
        .field(FieldMeta::new("f64", FieldType::F64))
        .field(FieldMeta::new(
            "dec",
            FieldType::Decimal {
                precision: 12,
                scale: 4,
            },
        ))
        .field(FieldMeta::new("s", FieldType::String { max_length: 20 }))
        .field(FieldMeta::new("txt", FieldType::Text))
        .field(FieldMeta::new("bytes", FieldType::Bytes))
        .field(FieldMeta::new("u", FieldType::Uuid))
        .field(FieldMeta::new("d", FieldType::Date))
        .field(FieldMeta::new("tm", FieldType::Time))
        .field(FieldMeta::new("dt", FieldType::DateTime))
        .field(FieldMeta::new("j", FieldType::Json))
        .field(FieldMeta::new("maybe", FieldType::Text).nullable())
}

fn placeholders(db: &TestDb, n: usize) -> String {
    (1..=n)
        .map(|i| match db.dialect() {
            Dialect::Postgres => format!("${i}"),
            _ => "?".to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::test]
async fn every_field_type_round_trips() -> turbine_orm::Result<()> {
    let dt: DateTime<Utc> = "2026-12-01T06:12:00.123456Z".parse().unwrap();
    let uuid = Uuid::now_v7();
    let json = serde_json::json!({"tags": ["a", "b"], "n": 1});
    let dec: Decimal = "12345.6789".parse().unwrap();
    let date = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
    let time = NaiveTime::from_hms_micro_opt(23, 59, 58, 250_000).unwrap();
    for db in TestDb::all_with(&[kinds()]).await? {
        let values: Vec<Value> = vec![
            true.to_value(),
            (-7i16).to_value(),
            70_000i32.to_value(),
            (1i64 << 40).to_value(),
            1.5f32.to_value(),
            2.25f64.to_value(),
            dec.to_value(),
            "héllo ünïcode".to_string().to_value(),
            "long text".to_string().to_value(),
            vec![0u8, 1, 255].to_value(),
            uuid.to_value(),
            date.to_value(),
            time.to_value(),
            dt.to_value(),
            json.to_value(),
            Option::<String>::None.to_value(),
        ];
        let sql = format!(
            "INSERT INTO t_kinds (b, i16, i32, i64, f32, f64, dec, s, txt, bytes, u, d, tm, dt, j, maybe) VALUES ({})",
            placeholders(&db, values.len())
        );
        assert_eq!(db.raw(sql, values).execute().await?, 1, "{}", db.name());
        let row = db
            .raw("SELECT * FROM t_kinds", [])
            .fetch_optional()
            .await?
            .expect("one row");
        assert!(row.decode::<bool>("b")?);
        assert_eq!(row.decode::<i16>("i16")?, -7);
        assert_eq!(row.decode::<i32>("i32")?, 70_000);
        assert_eq!(row.decode::<i64>("i64")?, 1 << 40);
        assert_eq!(row.decode::<f32>("f32")?, 1.5);
        assert_eq!(row.decode::<f64>("f64")?, 2.25);
        assert_eq!(row.decode::<Decimal>("dec")?, dec, "{}", db.name());
        assert_eq!(row.decode::<String>("s")?, "héllo ünïcode");
        assert_eq!(row.decode::<Vec<u8>>("bytes")?, vec![0, 1, 255]);
        assert_eq!(row.decode::<Uuid>("u")?, uuid);
        assert_eq!(row.decode::<NaiveDate>("d")?, date);
        assert_eq!(row.decode::<NaiveTime>("tm")?, time);
        assert_eq!(row.decode::<DateTime<Utc>>("dt")?, dt, "{}", db.name());
        assert_eq!(row.decode::<serde_json::Value>("j")?, json);
        assert_eq!(row.decode::<Option<String>>("maybe")?, None);
        assert!(matches!(
            row.decode::<String>("maybe"),
            Err(Error::Decode { .. })
        ));
        // Timestamps compare correctly in SQL on both backends.
        let later = row_count(
            &db,
            "SELECT id FROM t_kinds WHERE dt > ",
            dt - chrono::Duration::microseconds(1),
        )
        .await?;
        assert_eq!(later, 1, "{}", db.name());
        db.close().await;
    }
    Ok(())
}

async fn row_count(
    db: &TestDb,
    prefix: &str,
    value: impl FieldValue,
) -> turbine_orm::Result<usize> {
    let sql = format!("{prefix}{}", placeholders(db, 1));
    Ok(db.raw(sql, [value.to_value()]).fetch_all().await?.len())
}

fn counter() -> ModelMeta {
    ModelMeta::new("t", "Counter")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("n", FieldType::I64))
}

async fn insert_n(db: &turbine_orm::Db, n: i64) -> turbine_orm::Result<u64> {
    let sql = match db.dialect() {
        Dialect::Postgres => "INSERT INTO t_counter (n) VALUES ($1)",
        _ => "INSERT INTO t_counter (n) VALUES (?)",
    };
    db.raw(sql, [n.into()]).execute().await
}

async fn ns(db: &turbine_orm::Db) -> turbine_orm::Result<Vec<i64>> {
    db.raw("SELECT n FROM t_counter ORDER BY n", [])
        .fetch_all()
        .await?
        .iter()
        .map(|r| r.decode::<i64>("n"))
        .collect()
}

#[tokio::test]
async fn transactions_commit_roll_back_and_nest_with_savepoints() -> turbine_orm::Result<()> {
    for db in TestDb::all_with(&[counter()]).await? {
        // Commit on Ok.
        db.transaction(|tx| async move { insert_n(&tx, 1).await })
            .await?;
        // Roll back on Err.
        let err: Result<(), Error> = db
            .transaction(|tx| async move {
                insert_n(&tx, 2).await?;
                Err(Error::Query("no".into()))
            })
            .await;
        assert!(err.is_err());
        // Nested: the inner rollback keeps the outer work.
        db.transaction(|tx| async move {
            insert_n(&tx, 3).await?;
            let inner: Result<(), Error> = tx
                .transaction(|tx2| async move {
                    insert_n(&tx2, 4).await?;
                    Err(Error::Query("inner fails".into()))
                })
                .await;
            assert!(inner.is_err());
            tx.transaction(|tx2| async move { insert_n(&tx2, 5).await })
                .await?;
            assert!(tx.in_transaction());
            Ok::<_, Error>(())
        })
        .await?;
        assert_eq!(ns(&db).await?, vec![1, 3, 5], "{}", db.name());
        // Roll back on panic, and the panic goes on.
        let handle = db.db().clone();
        let panicked = tokio::spawn(async move {
            handle
                .transaction(|tx| async move {
                    insert_n(&tx, 6).await?;
                    panic!("boom");
                    #[allow(unreachable_code)]
                    Ok::<_, Error>(())
                })
                .await
        })
        .await;
        assert!(panicked.unwrap_err().is_panic());
        assert_eq!(ns(&db).await?, vec![1, 3, 5], "{}", db.name());
        // The connection is usable afterwards (no half-open transaction came back to the pool).
        db.transaction(|tx| async move { insert_n(&tx, 7).await })
            .await?;
        assert_eq!(ns(&db).await?, vec![1, 3, 5, 7]);
        db.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_cancelled_transaction_is_rolled_back() -> turbine_orm::Result<()> {
    for db in TestDb::all_with(&[counter()]).await? {
        let handle = db.db().clone();
        let started = std::sync::Arc::new(tokio::sync::Notify::new());
        let notify = started.clone();
        let task = tokio::spawn(async move {
            handle
                .transaction(|tx| async move {
                    insert_n(&tx, 1).await?;
                    notify.notify_one();
                    std::future::pending::<()>().await;
                    Ok::<_, Error>(())
                })
                .await
        });
        started.notified().await;
        task.abort();
        let _ = task.await;
        // The writer is free again and the row is gone.
        db.transaction(|tx| async move { insert_n(&tx, 2).await })
            .await?;
        assert_eq!(ns(&db).await?, vec![2], "{}", db.name());
        db.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn concurrent_write_transactions_queue_instead_of_failing() -> turbine_orm::Result<()> {
    for db in TestDb::all_with(&[counter()]).await? {
        let mut tasks = Vec::new();
        for i in 0..8 {
            let db = db.db().clone();
            tasks.push(tokio::spawn(async move {
                db.transaction(|tx| async move {
                    // Read-modify-write: only safe if transactions are serialised.
                    insert_n(&tx, i).await?;
                    tokio::task::yield_now().await;
                    Ok::<_, Error>(())
                })
                .await
            }));
        }
        for t in tasks {
            t.await.unwrap()?;
        }
        assert_eq!(ns(&db).await?.len(), 8, "{}", db.name());
        db.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn isolation_levels_are_applied_on_postgres() -> turbine_orm::Result<()> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    let mut options = TxOptions::default();
    options.isolation = Some(Isolation::Serializable);
    let level = db
        .transaction_with(options, |tx| async move {
            let rows = tx.raw("SHOW transaction_isolation", []).fetch_all().await?;
            rows[0].decode::<String>("transaction_isolation")
        })
        .await?;
    assert_eq!(level, "serializable");
    db.close().await;
    Ok(())
}

#[tokio::test]
async fn postgres_caches_statements_per_connection_within_a_bound() -> turbine_orm::Result<()> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    // One connection (a transaction's) runs 1,100 different statements, each twice. The cache
    // keeps 1,024 texts, then starts again (closing the statements it drops on the server).
    let prepared = db
        .transaction(|tx| async move {
            for i in 0..1100i64 {
                let sql = format!("SELECT {i}::int8 + $1 AS n");
                for _ in 0..2 {
                    let rows = tx.raw(sql.clone(), [1i64.into()]).fetch_all().await?;
                    assert_eq!(rows[0].decode::<i64>("n")?, i + 1);
                }
            }
            let rows = tx
                .raw("SELECT count(*) AS n FROM pg_prepared_statements", [])
                .fetch_all()
                .await?;
            rows[0].decode::<i64>("n")
        })
        .await?;
    // The 76 texts since the cache started again, and the count's own statement.
    assert_eq!(prepared, 1100 - 1024 + 1);
    db.close().await;
    Ok(())
}

fn author_book() -> Vec<ModelMeta> {
    let author = ModelMeta::new("t", "Author")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("email", FieldType::String { max_length: 100 }).unique());
    let book = ModelMeta::new("t", "Book")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::foreign_key(
            "author",
            "t.Author",
            OnDelete::Restrict,
        ))
        .field(FieldMeta::new("title", FieldType::Text))
        .field(FieldMeta::new("pages", FieldType::I32))
        .check("t_book_pages_positive", "pages > 0");
    let mut registry = turbine_orm::meta::ModelRegistry::new();
    registry.register(author).unwrap();
    registry.register(book).unwrap();
    registry.finish().unwrap().models().to_vec()
}

#[tokio::test]
async fn constraint_failures_are_typed_errors_naming_the_field() -> turbine_orm::Result<()> {
    for db in TestDb::all_with(&author_book()).await? {
        let p = |n| placeholders(&db, n);
        db.raw(
            format!("INSERT INTO t_author (email) VALUES ({})", p(1)),
            ["a@x.org".into()],
        )
        .execute()
        .await?;
        let err = db
            .raw(
                format!("INSERT INTO t_author (email) VALUES ({})", p(1)),
                ["a@x.org".into()],
            )
            .execute()
            .await
            .unwrap_err();
        match &err {
            Error::UniqueViolation { table, fields, .. } => {
                assert_eq!(table, "t_author", "{}", db.name());
                assert_eq!(fields, &["email"], "{}", db.name());
            }
            other => panic!("{}: expected a unique violation, got {other:?}", db.name()),
        }
        assert!(
            !err.to_string().contains("a@x.org"),
            "no values in messages: {err}"
        );
        let problem = err.to_problem();
        assert_eq!(problem.status, 409);
        assert_eq!(
            serde_json::to_value(&problem).unwrap()["errors"][0]["field"],
            "email"
        );

        let sql = format!(
            "INSERT INTO t_book (author_id, title, pages) VALUES ({})",
            p(3)
        );
        let err = db
            .raw(sql.clone(), [999i64.into(), "x".into(), 10i32.into()])
            .execute()
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::ForeignKeyViolation { .. }),
            "{}: {err:?}",
            db.name()
        );
        assert_eq!(err.status(), 422);

        let err = db
            .raw(
                sql.clone(),
                [1i64.into(), Value::String(None), 10i32.into()],
            )
            .execute()
            .await
            .unwrap_err();
        match &err {
            Error::NotNullViolation { field, .. } => assert_eq!(field, "title", "{}", db.name()),
            other => panic!("{}: expected not-null, got {other:?}", db.name()),
        }

        let err = db
            .raw(sql, [1i64.into(), "x".into(), 0i32.into()])
            .execute()
            .await
            .unwrap_err();
        match &err {
            Error::CheckViolation { constraint, .. } => {
                assert!(
                    constraint.contains("t_book_pages_positive"),
                    "{}: {constraint}",
                    db.name()
                )
            }
            other => panic!("{}: expected check, got {other:?}", db.name()),
        }
        // Raw database text never reaches a client.
        let err = db
            .raw("SELECT * FROM no_such_table", [])
            .fetch_all()
            .await
            .unwrap_err();
        assert_eq!(err.status(), 500);
        assert_eq!(err.to_problem().detail, None);
        db.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn sqlite_is_set_up_for_an_embedded_server() -> turbine_orm::Result<()> {
    let db = TestDb::sqlite().await?;
    let pragma = |name: &'static str| {
        let db = db.db().clone();
        async move {
            let rows = db.raw(format!("PRAGMA {name}"), []).fetch_all().await?;
            rows[0]
                .decode::<String>(name)
                .or_else(|_| rows[0].decode::<i64>(name).map(|n| n.to_string()))
        }
    };
    assert_eq!(pragma("journal_mode").await?, "wal");
    // Readers are separate connections; check the writer's settings through a transaction.
    let (fk, sync) = db
        .transaction(|tx| async move {
            let fk = tx.raw("PRAGMA foreign_keys", []).fetch_all().await?[0]
                .decode::<i64>("foreign_keys")?;
            let sync = tx.raw("PRAGMA synchronous", []).fetch_all().await?[0]
                .decode::<i64>("synchronous")?;
            Ok::<_, Error>((fk, sync))
        })
        .await?;
    assert_eq!(fk, 1);
    assert_eq!(sync, 1, "NORMAL");
    db.close().await;
    Ok(())
}

#[tokio::test]
async fn a_bad_url_is_a_clear_error() {
    let err = turbine_orm::Db::connect("mysql://root@localhost/x")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("unsupported database URL"),
        "{err}"
    );
    let err = turbine_orm::Db::connect("postgres://postgres@127.0.0.1:5432/db?pool_size=x")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("pool_size"), "{err}");
}

#[tokio::test]
async fn statements_are_counted() -> turbine_orm::Result<()> {
    for db in TestDb::all_with(&[counter()]).await? {
        let before = db.query_count();
        insert_n(&db, 1).await?;
        ns(&db).await?;
        assert_eq!(db.query_count() - before, 2);
        db.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_statement_prepared_before_a_schema_change_still_runs_after_it() -> turbine_orm::Result<()>
{
    for db in TestDb::all_with(&[counter()]).await? {
        insert_n(&db, 1).await?;
        let select = "SELECT * FROM t_counter";
        // Every pooled connection prepares (and caches) the statement.
        let reads = |db: turbine_orm::Db| async move {
            futures_util::future::try_join_all((0..16).map(|_| {
                let db = db.clone();
                async move { db.raw(select, []).fetch_all().await }
            }))
            .await
        };
        assert!(
            reads(db.db().clone())
                .await?
                .iter()
                .all(|rows| rows[0].len() == 2)
        );
        db.batch("ALTER TABLE t_counter ADD COLUMN label text")
            .await?;
        // Postgres refuses a cached plan ("must not change result type") until re-prepared;
        // sqlx's SQLite connections cache the old column list.
        let after = reads(db.db().clone()).await?;
        assert!(after.iter().all(|rows| rows[0].len() == 3), "{}", db.name());
        db.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn raw_writes_that_return_rows_run_on_a_writing_connection() -> turbine_orm::Result<()> {
    for db in TestDb::all_with(&[counter()]).await? {
        let sql = match db.dialect() {
            Dialect::Postgres => "INSERT INTO t_counter (n) VALUES ($1) RETURNING id",
            _ => "INSERT INTO t_counter (n) VALUES (?) RETURNING id",
        };
        let rows = db.raw(sql, [5i64.into()]).fetch_all().await?;
        assert_eq!(rows[0].decode::<i64>("id")?, 1, "{}", db.name());
        assert_eq!(ns(&db).await?, vec![5]);
        db.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_test_database_left_unclosed_is_dropped_anyway() -> turbine_orm::Result<()> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    let admin_url = turbine_orm::testing::postgres_url().expect("set, since the database exists");
    let name = db.url().rsplit('/').next().unwrap_or_default().to_string();
    let admin = Db::connect(&admin_url).await?;
    let exists = |admin: Db, name: String| async move {
        admin
            .raw("SELECT 1 FROM pg_database WHERE datname = ?", [name.into()])
            .fetch_optional()
            .await
            .map(|r| r.is_some())
    };
    assert!(exists(admin.clone(), name.clone()).await?);
    // As when a test panics before `close()`: the drop still removes the database.
    drop(db);
    assert!(!exists(admin.clone(), name).await?, "the database is gone");
    admin.close().await;
    Ok(())
}
