//! Shared helpers for the migration tests: a project that accumulates migrations in memory, and
//! a check that a database's tables, columns and indexes are exactly what a state describes.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;

use turbine_orm::Db;
use turbine_orm::backend::Dialect;
use turbine_orm::meta::{IndexKind, ModelMeta, ModelRegistry, Registry};
use turbine_orm::migrate::{
    self, MigrateOptions, Migration, MigrationSet, Operation, Progress, Renames, State, TABLE,
};
use turbine_orm::schema;

/// The models, registered and checked.
pub fn registry(models: &[ModelMeta]) -> Registry {
    let mut r = ModelRegistry::new();
    for m in models {
        r.register(m.clone()).unwrap();
    }
    r.finish().unwrap()
}

/// Migrations made one after the other, kept in memory.
#[derive(Default)]
pub struct Project {
    pub migrations: Vec<Migration>,
}

impl Project {
    pub fn set(&self) -> MigrationSet {
        MigrationSet::new(self.migrations.clone()).unwrap()
    }

    /// `makemigrations` for these models; panics when nothing changed.
    pub fn make(&mut self, models: &[ModelMeta], renames: Renames) -> Migration {
        self.try_make(models, renames)
            .unwrap()
            .expect("the models changed")
    }

    pub fn try_make(
        &mut self,
        models: &[ModelMeta],
        mut renames: Renames,
    ) -> turbine_orm::Result<Option<Migration>> {
        let set = self.set();
        let ops = migrate::detect(set.state(), &registry(models), &mut renames)?;
        if ops.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.add(ops)))
    }

    /// A hand-written migration.
    pub fn add(&mut self, ops: Vec<Operation>) -> Migration {
        let m = migrate::next_migration(&self.set(), ops, None).unwrap();
        self.migrations.push(m.clone());
        m
    }

    /// `true` when the models need no new migration.
    pub fn up_to_date(&self, models: &[ModelMeta]) -> bool {
        migrate::detect(self.set().state(), &registry(models), &mut Renames::new())
            .unwrap()
            .is_empty()
    }
}

pub async fn migrate_all(db: &Db, set: &MigrationSet, allow_destructive: bool) -> migrate::Report {
    migrate::migrate(
        db,
        set,
        &MigrateOptions::new().allow_destructive(allow_destructive),
        &Progress::quiet(),
    )
    .await
    .unwrap()
}

/// `migrate TARGET`.
pub async fn migrate_to(db: &Db, set: &MigrationSet, target: &str) -> migrate::Report {
    migrate::migrate(
        db,
        set,
        &MigrateOptions::new().target(Some(target.into())),
        &Progress::quiet(),
    )
    .await
    .unwrap()
}

pub async fn strings(db: &Db, sql: &str, values: Vec<turbine_orm::Value>) -> BTreeSet<String> {
    db.raw(sql, values)
        .fetch_all()
        .await
        .unwrap()
        .iter()
        .map(|r| r.decode::<String>(&r.columns()[0]).unwrap())
        .collect()
}

pub async fn count(db: &Db, table: &str) -> i64 {
    let rows = db
        .raw(format!("SELECT COUNT(*) AS n FROM \"{table}\""), [])
        .fetch_all()
        .await
        .unwrap();
    rows[0].decode("n").unwrap()
}

async fn tables(db: &Db) -> BTreeSet<String> {
    match db.dialect() {
        Dialect::Sqlite => {
            strings(
                db,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                vec![],
            )
            .await
        }
        _ => strings(
            db,
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            vec![],
        )
        .await,
    }
}

async fn columns(db: &Db, table: &str) -> BTreeSet<String> {
    match db.dialect() {
        Dialect::Sqlite => {
            strings(
                db,
                "SELECT name FROM pragma_table_info(?)",
                vec![table.into()],
            )
            .await
        }
        _ => {
            strings(
                db,
                "SELECT column_name::text FROM information_schema.columns WHERE table_name = $1",
                vec![table.into()],
            )
            .await
        }
    }
}

async fn indexes(db: &Db, table: &str) -> BTreeSet<String> {
    match db.dialect() {
        Dialect::Sqlite => strings(
            db,
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name NOT LIKE 'sqlite_autoindex%'",
            vec![table.into()],
        )
        .await,
        // Indexes behind primary keys and unique constraints are the constraints' own.
        _ => strings(
            db,
            "SELECT i.indexname::text FROM pg_indexes i WHERE i.tablename = $1 \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.contype IN ('p', 'u'))",
            vec![table.into()],
        )
        .await,
    }
}

/// The database holds exactly the tables, columns and indexes of `state` (plus the record).
pub async fn assert_schema(db: &Db, state: &State) {
    let mut expected: BTreeSet<String> = state.models().iter().map(|m| m.table.clone()).collect();
    expected.insert(TABLE.into());
    assert_eq!(tables(db).await, expected, "{:?}: tables", db.dialect());
    for model in state.models() {
        let want: BTreeSet<String> = model
            .fields
            .iter()
            .filter(|f| f.has_column())
            .map(|f| f.column.clone())
            .collect();
        assert_eq!(
            columns(db, &model.table).await,
            want,
            "{:?}: columns of {}",
            db.dialect(),
            model.table
        );
        // A trigram index exists on Postgres only.
        let want: BTreeSet<String> = schema::indexes(model)
            .into_iter()
            .filter(|i| i.kind == IndexKind::BTree || db.dialect() == Dialect::Postgres)
            .map(|i| i.name)
            .collect();
        assert_eq!(
            indexes(db, &model.table).await,
            want,
            "{:?}: indexes of {}",
            db.dialect(),
            model.table
        );
    }
}
