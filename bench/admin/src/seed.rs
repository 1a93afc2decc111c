//! A fresh database per run (Postgres: `turbine_bench_<random>`, dropped at the end; SQLite: a
//! file in a temporary folder) and the seed: owners, then `--rows` events in one
//! `INSERT … SELECT` (Postgres `generate_series`, SQLite a recursive CTE), then `ANALYZE`.
//! Every value comes from the formulas in [`crate::model`], written here in SQL.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use turbine::orm::backend::Dialect;
use turbine::orm::{Db, Model};

use crate::AnyError;
use crate::model::{
    CATEGORIES, EPOCH, Event, OWNERS, Owner, RARE_AT, RARE_EVERY, RARE_WORD, SLOTS, STEP,
    WORD_WIDTH, WORDS,
};

/// A database made for this run.
pub(crate) enum Fresh {
    /// `CREATE DATABASE` on the server the admin URL names.
    Postgres {
        /// The admin connection (to drop it).
        admin: Db,
        /// `turbine_bench_<random>`.
        name: String,
        /// Its URL.
        url: String,
    },
    /// A file in a folder removed at the end.
    Sqlite {
        /// The folder.
        dir: std::path::PathBuf,
        /// `sqlite://…/bench.db`.
        url: String,
    },
}

fn random_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}{:x}", std::process::id(), nanos & 0xffff_ffff)
}

impl Fresh {
    /// Creates the database.
    pub(crate) async fn create(backend: &str, pg_admin_url: &str) -> Result<Self, AnyError> {
        let suffix = random_suffix();
        match backend {
            "postgres" => {
                let admin = Db::connect(pg_admin_url).await?;
                let name = format!("turbine_bench_{suffix}");
                admin.batch(&format!("CREATE DATABASE {name}")).await?;
                let base = pg_admin_url.split('?').next().unwrap_or(pg_admin_url);
                let base = base.rsplit_once('/').map_or(base, |(head, _)| head);
                let url = format!("{base}/{name}");
                Ok(Self::Postgres { admin, name, url })
            }
            "sqlite" => {
                let dir = std::env::temp_dir().join(format!("turbine-bench-admin.{suffix}"));
                std::fs::create_dir_all(&dir)?;
                let url = format!("sqlite://{}", dir.join("bench.db").display());
                Ok(Self::Sqlite { dir, url })
            }
            other => Err(format!("unknown backend {other:?} (postgres, sqlite)").into()),
        }
    }

    /// The database's URL.
    pub(crate) fn url(&self) -> &str {
        match self {
            Self::Postgres { url, .. } | Self::Sqlite { url, .. } => url,
        }
    }

    /// A short description for the report (never a password).
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Postgres { name, .. } => format!("Postgres database {name}"),
            Self::Sqlite { dir, .. } => format!("SQLite file {}/bench.db", dir.display()),
        }
    }

    /// Drops the database (the app's pool must be closed first).
    pub(crate) async fn drop_it(self) -> Result<(), AnyError> {
        match self {
            Self::Postgres { admin, name, .. } => {
                admin
                    .batch(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                admin.close().await;
            }
            Self::Sqlite { dir, .. } => std::fs::remove_dir_all(dir)?,
        }
        Ok(())
    }
}

/// `(id × m + o) % n` as the word at that index, from a string of padded words.
fn word_sql(words: &str, (m, o, n): (i64, i64, i64)) -> String {
    let w = WORD_WIDTH;
    format!("rtrim(substr('{words}', CAST(1 + ((i * {m} + {o}) % {n}) * {w} AS INTEGER), {w}))")
}

/// The `INSERT … SELECT` of `rows` events for a dialect (the formulas of [`crate::model`]).
pub(crate) fn events_sql(dialect: Dialect, rows: i64) -> String {
    let meta = Event::meta();
    let col = |name: &str| {
        meta.field_named(name)
            .map_or_else(|| name.to_string(), |f| f.column.clone())
    };
    let words: String = WORDS.iter().map(|w| format!("{w:<WORD_WIDTH$}")).collect();
    let categories: String = CATEGORIES
        .iter()
        .map(|c| format!("{c:<WORD_WIDTH$}"))
        .collect();
    let title = format!(
        "{} || ' ' || {} || ' ' || {} || CASE WHEN i % {RARE_EVERY} = {RARE_AT} THEN ' {RARE_WORD}' ELSE '' END || ' #' || i",
        word_sql(&words, SLOTS[0]),
        word_sql(&words, SLOTS[1]),
        word_sql(&words, SLOTS[2]),
    );
    let category = word_sql(&categories, (1, 0, 5));
    let (source, flag, created) = match dialect {
        Dialect::Postgres => (
            format!("generate_series(1::bigint, {rows}::bigint) AS s(i)"),
            "(i % 3 = 0)".to_string(),
            format!("to_timestamp({EPOCH} + i * {STEP})"),
        ),
        _ => (
            "seq".to_string(),
            "(i % 3 = 0)".to_string(),
            format!("strftime('%Y-%m-%dT%H:%M:%S.000000Z', {EPOCH} + i * {STEP}, 'unixepoch')"),
        ),
    };
    let with = match dialect {
        Dialect::Postgres => String::new(),
        _ => format!(
            "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {rows}) "
        ),
    };
    format!(
        "INSERT INTO {table} ({id}, {title_c}, {category_c}, {flag_c}, {amount_c}, {owner_c}, {created_c}) \
         {with}SELECT i, {title}, {category}, {flag}, (i * 7919) % 100000, 1 + (i * 37) % {OWNERS}, {created} FROM {source}",
        table = meta.table,
        id = col("id"),
        title_c = col("title"),
        category_c = col("category"),
        flag_c = col("flag"),
        amount_c = col("amount"),
        owner_c = col("owner"),
        created_c = col("created_at"),
    )
}

/// Seeds owners and `rows` events, then `ANALYZE`; returns the seconds it took.
pub(crate) async fn seed(db: &Db, rows: i64) -> Result<f64, AnyError> {
    let started = Instant::now();
    let dialect = db.dialect();
    let owner = Owner::meta();
    let owners_sql = match dialect {
        Dialect::Postgres => format!(
            "INSERT INTO {t} (id, name) SELECT i, 'owner ' || i FROM generate_series(1, {OWNERS}) AS s(i)",
            t = owner.table
        ),
        _ => format!(
            "INSERT INTO {t} (id, name) WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {OWNERS}) SELECT i, 'owner ' || i FROM seq",
            t = owner.table
        ),
    };
    db.batch(&owners_sql).await?;
    db.batch(&events_sql(dialect, rows)).await?;
    if dialect == Dialect::Postgres {
        // Later inserts (none here) would take keys after the seeded ones.
        for t in [&owner.table, &Event::meta().table] {
            db.batch(&format!(
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))"
            ))
            .await?;
        }
        // What an app with a searchable list on a big table adds (a `RunSql` migration): a
        // trigram index, so `ILIKE '%word%'` does not read every row.
        db.batch("CREATE EXTENSION IF NOT EXISTS pg_trgm").await?;
        db.batch(&format!(
            "CREATE INDEX {t}_title_trgm ON {t} USING gin (title gin_trgm_ops)",
            t = Event::meta().table
        ))
        .await?;
        db.batch("VACUUM ANALYZE").await?;
    } else {
        db.batch("ANALYZE").await?;
    }
    Ok(started.elapsed().as_secs_f64())
}
