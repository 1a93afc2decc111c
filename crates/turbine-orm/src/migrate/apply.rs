//! Applying and rolling back migrations: each in its own transaction, recorded in
//! `turbine_migrations`, under a lock so that two nodes never migrate at once.
//!
//! The lock: on Postgres every migration's transaction first takes
//! `pg_advisory_xact_lock(<key>)`, then checks the record again, so of two concurrent `migrate`
//! runs one applies a migration and the other sees it applied and skips it. On SQLite the
//! transaction's `BEGIN IMMEDIATE` holds the write lock from the start, with the same re-check.
//!
//! On SQLite, foreign-key enforcement is switched off on the writer connection around each
//! migration (it cannot change inside a transaction) so that a copy-table rebuild never cascades,
//! and `PRAGMA foreign_key_check` runs before the commit.

use chrono::{DateTime, Utc};
use sea_query::{Alias, ColumnDef, ColumnType, Expr, ExprTrait, Func, Order, Query, Table};

use super::file::MigrationSet;
use super::operation::Operation;
use super::progress::Progress;
use super::sql::Step;
use super::state::State;
use crate::Value;
use crate::backend::Dialect;
use crate::db::Db;
use crate::error::{Error, Result};

/// The table that records applied migrations.
pub const TABLE: &str = "turbine_migrations";

/// The Postgres advisory lock key `migrate` holds (`"turbine"` in ASCII).
pub const LOCK_KEY: i64 = 0x0074_7572_6269_6e65;

/// A migration recorded as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppliedMigration {
    /// Its name.
    pub name: String,
    /// When it was applied.
    pub applied_at: DateTime<Utc>,
}

/// What `migrate` and `rollback` may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrateOptions {
    /// Record (or unrecord) without running any SQL.
    pub fake: bool,
    /// Allow operations that lose data.
    pub allow_destructive: bool,
    /// `migrate`: stop after this migration (rolling back the ones after it if applied).
    pub target: Option<String>,
}

impl MigrateOptions {
    /// Nothing special: apply everything pending, refusing destructive operations.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record without running.
    pub fn fake(mut self, fake: bool) -> Self {
        self.fake = fake;
        self
    }

    /// Allow destructive operations.
    pub fn allow_destructive(mut self, allow: bool) -> Self {
        self.allow_destructive = allow;
        self
    }

    /// Migrate to this migration.
    pub fn target(mut self, target: Option<String>) -> Self {
        self.target = target;
        self
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Migrations applied (or faked), in order.
    pub applied: Vec<String>,
    /// Migrations rolled back, in order.
    pub unapplied: Vec<String>,
    /// Migrations another process applied (or rolled back) while this run waited for the lock.
    pub skipped: Vec<String>,
}

fn name_col() -> Alias {
    Alias::new("name")
}

fn at_col() -> Alias {
    Alias::new("applied_at")
}

/// Creates the record table if it is missing.
pub async fn ensure_table(db: &Db) -> Result<()> {
    let dialect = db.dialect();
    let at_type = match dialect {
        Dialect::Postgres => "timestamptz",
        Dialect::Sqlite => "text",
    };
    let sql = dialect.build_schema(
        Table::create()
            .table(Alias::new(TABLE))
            .if_not_exists()
            .col(
                ColumnDef::new_with_type(name_col(), ColumnType::custom("varchar(255)"))
                    .not_null()
                    .primary_key(),
            )
            .col(ColumnDef::new_with_type(at_col(), ColumnType::custom(at_type)).not_null()),
    );
    // Under the lock: concurrent CREATE TABLE IF NOT EXISTS can collide on Postgres. Looked up
    // first there, so an existing table does not make the server send a NOTICE (which the
    // driver logs on every `migrate`).
    db.transaction(|tx| async move {
        lock(&tx).await?;
        if dialect == Dialect::Postgres {
            let exists = tx
                .raw(
                    "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1",
                    [Value::from(TABLE.to_string())],
                )
                .fetch_optional()
                .await?
                .is_some();
            if exists {
                return Ok(());
            }
        }
        tx.batch(&sql).await
    })
    .await
}

/// The applied migrations, by name (the record table must exist).
pub async fn applied(db: &Db) -> Result<Vec<AppliedMigration>> {
    let stmt = db.dialect().build(
        Query::select()
            .columns([name_col(), at_col()])
            .from(Alias::new(TABLE))
            .order_by(name_col(), Order::Asc),
    );
    db.fetch(&stmt)
        .await?
        .iter()
        .map(|row| {
            Ok(AppliedMigration {
                name: row.decode("name")?,
                applied_at: row.decode("applied_at")?,
            })
        })
        .collect()
}

async fn lock(tx: &Db) -> Result<()> {
    if tx.dialect() == Dialect::Postgres {
        let stmt = tx.dialect().build(
            Query::select().expr(Func::cust(Alias::new("pg_advisory_xact_lock")).arg(LOCK_KEY)),
        );
        tx.execute(&stmt).await?;
    }
    Ok(())
}

async fn is_recorded(tx: &Db, name: &str) -> Result<bool> {
    let stmt = tx.dialect().build(
        Query::select()
            .column(name_col())
            .from(Alias::new(TABLE))
            .and_where(Expr::col(name_col()).eq(name)),
    );
    Ok(!tx.fetch(&stmt).await?.is_empty())
}

/// The operations of migration `index` with the state before each (forwards), or the
/// operations that undo it with the state before each of those (backwards).
fn plan(set: &MigrationSet, index: usize, backwards: bool) -> Result<Vec<(Operation, State)>> {
    let migration = &set.migrations()[index];
    let mut state = set.state_before(index).clone();
    let mut forwards = Vec::new();
    for op in &migration.operations {
        forwards.push((op.clone(), state.clone()));
        op.apply_to_state(&mut state)?;
    }
    if !backwards {
        return Ok(forwards);
    }
    let mut out = Vec::new();
    for (op, before) in forwards.iter().rev() {
        let reversed = op
            .reverse(before)
            .map_err(|e| Error::Migration(format!("{}: {e}", migration.name)))?;
        for rev in reversed {
            out.push((rev.clone(), state.clone()));
            rev.apply_to_state(&mut state)?;
        }
    }
    Ok(out)
}

/// The SQL of a migration on `dialect`, operation by operation (what `sqlmigrate` prints):
/// `(description, steps)`.
pub fn sql(
    set: &MigrationSet,
    name: &str,
    dialect: Dialect,
    backwards: bool,
) -> Result<Vec<(String, Vec<Step>)>> {
    let index = set.position(name)?;
    plan(set, index, backwards)?
        .into_iter()
        .map(|(op, before)| Ok((op.describe(), op.forwards(dialect, &before)?)))
        .collect()
}

/// Applied migrations as indexes into `set`, checked to be a prefix of it.
fn applied_indexes(
    set: &MigrationSet,
    applied: &[AppliedMigration],
    progress: &Progress,
) -> Result<Vec<usize>> {
    let mut indexes = Vec::new();
    for a in applied {
        match set.migrations().iter().position(|m| m.name == a.name) {
            Some(i) => indexes.push(i),
            None => progress.line(&format!(
                "warning: the database records migration {} which is not among the migrations",
                a.name
            )),
        }
    }
    indexes.sort_unstable();
    if let Some(gap) = (0..indexes.len()).find(|&i| indexes[i] != i) {
        let missing = &set.migrations()[gap].name;
        return Err(Error::Migration(format!(
            "inconsistent history: {} is applied but {missing}, which comes before it, is not",
            set.migrations()[indexes[gap]].name
        )));
    }
    Ok(indexes)
}

fn refuse_destructive(planned: &[(String, Vec<(Operation, State)>)], verb: &str) -> Result<()> {
    let lines: Vec<String> = planned
        .iter()
        .flat_map(|(name, ops)| {
            ops.iter()
                .filter(|(op, before)| op.is_destructive(before))
                .map(move |(op, _)| format!("  {name}: {}", op.describe()))
        })
        .collect();
    if lines.is_empty() {
        return Ok(());
    }
    Err(Error::Migration(format!(
        "refusing to {verb}: these operations can lose data:\n{}\nReview them, back up the database, and run again with --allow-destructive",
        lines.join("\n")
    )))
}

/// Applies pending migrations in order (or migrates to `options.target`, rolling back the
/// migrations after it). Refuses destructive operations unless allowed, before running any.
pub async fn migrate(
    db: &Db,
    set: &MigrationSet,
    options: &MigrateOptions,
    progress: &Progress,
) -> Result<Report> {
    ensure_table(db).await?;
    let done = applied_indexes(set, &applied(db).await?, progress)?;
    let last = match &options.target {
        Some(target) => set.position(target)?,
        None => set.migrations().len().wrapping_sub(1),
    };
    if options.target.is_some() && done.iter().any(|&i| i > last) {
        let later = done.iter().filter(|&&i| i > last).count();
        return rollback(db, set, later, options, progress).await;
    }
    let pending: Vec<usize> = (done.len()..set.migrations().len())
        .filter(|&i| i <= last)
        .collect();
    if pending.is_empty() {
        progress.line("No migrations to apply.");
        return Ok(Report::default());
    }
    run_all(db, set, &pending, true, options, progress).await
}

/// Rolls back the last `count` applied migrations, newest first.
pub async fn rollback(
    db: &Db,
    set: &MigrationSet,
    count: usize,
    options: &MigrateOptions,
    progress: &Progress,
) -> Result<Report> {
    ensure_table(db).await?;
    let done = applied_indexes(set, &applied(db).await?, progress)?;
    if done.is_empty() || count == 0 {
        progress.line("No migrations to roll back.");
        return Ok(Report::default());
    }
    let last: Vec<usize> = done.iter().rev().take(count).copied().collect();
    run_all(db, set, &last, false, options, progress).await
}

/// Applies (or rolls back) the migrations at `indexes`, in that order, after refusing
/// destructive operations unless allowed.
async fn run_all(
    db: &Db,
    set: &MigrationSet,
    indexes: &[usize],
    apply: bool,
    options: &MigrateOptions,
    progress: &Progress,
) -> Result<Report> {
    let planned = indexes
        .iter()
        .map(|&i| Ok((set.migrations()[i].name.clone(), plan(set, i, !apply)?)))
        .collect::<Result<Vec<_>>>()?;
    if !options.fake && !options.allow_destructive {
        refuse_destructive(&planned, if apply { "migrate" } else { "roll back" })?;
    }
    progress.start(planned.iter().map(|(_, ops)| ops.len() as u64).sum());
    let mut report = Report::default();
    for (name, ops) in &planned {
        let done = if apply {
            &mut report.applied
        } else {
            &mut report.unapplied
        };
        if run(db, name, ops, apply, options.fake, progress).await? {
            done.push(name.clone());
        } else {
            report.skipped.push(name.clone());
        }
    }
    progress.finish();
    Ok(report)
}

/// Runs one migration's operations in a transaction and records (`apply`) or unrecords it;
/// `false` when another process got there first.
async fn run(
    db: &Db,
    name: &str,
    ops: &[(Operation, State)],
    apply: bool,
    fake: bool,
    progress: &Progress,
) -> Result<bool> {
    let dialect = db.dialect();
    let mut steps = Vec::with_capacity(ops.len());
    for (op, before) in ops {
        steps.push(if fake {
            Vec::new()
        } else {
            op.forwards(dialect, before)
                .map_err(|e| Error::Migration(format!("{name}: {e}")))?
        });
    }
    let verb = match (apply, fake) {
        (true, false) => "Applying",
        (true, true) => "Faking",
        (false, false) => "Unapplying",
        (false, true) => "Faking the rollback of",
    };
    progress.message(name);
    let sqlite = dialect == Dialect::Sqlite;
    if sqlite {
        db.batch("PRAGMA foreign_keys = OFF").await?;
    }
    let outcome = db
        .transaction(|tx| async move {
            lock(&tx).await?;
            if is_recorded(&tx, name).await? != apply {
                for op_steps in &steps {
                    for step in op_steps {
                        run_step(&tx, step, name).await?;
                    }
                    progress.inc();
                }
                if sqlite {
                    foreign_key_check(&tx, name).await?;
                }
                record(&tx, name, apply).await?;
                Ok::<_, Error>(true)
            } else {
                Ok(false)
            }
        })
        .await;
    if sqlite {
        let on = db.batch("PRAGMA foreign_keys = ON").await;
        if outcome.is_ok() {
            on?;
        }
    }
    let done = outcome.map_err(|e| match e {
        Error::Migration(m) => Error::Migration(m),
        other => Error::Migration(format!("{name}: {other}")),
    })?;
    progress.line(&if done {
        format!("  {verb} {name}... OK")
    } else {
        format!("  {name}: already done by another process, skipped")
    });
    Ok(done)
}

async fn run_step(tx: &Db, step: &Step, name: &str) -> Result<()> {
    match step {
        Step::Sql(sql) => tx.batch(sql).await,
        Step::Bound(stmt) => tx.execute(stmt).await.map(drop),
        Step::ForeignKeysOff { table } => {
            let rows = tx.raw("PRAGMA foreign_keys", []).fetch_all().await?;
            let on = rows
                .first()
                .and_then(|r| r.decode::<i64>("foreign_keys").ok())
                == Some(1);
            if on {
                return Err(Error::Migration(format!(
                    "{name}: rebuilding {table} needs foreign-key enforcement off, and it is on \
                     (the connection did not accept PRAGMA foreign_keys = OFF)"
                )));
            }
            Ok(())
        }
    }
}

async fn foreign_key_check(tx: &Db, name: &str) -> Result<()> {
    let rows = tx.raw("PRAGMA foreign_key_check", []).fetch_all().await?;
    if rows.is_empty() {
        return Ok(());
    }
    let tables: Vec<String> = rows
        .iter()
        .filter_map(|r| r.decode::<String>("table").ok())
        .collect();
    Err(Error::Migration(format!(
        "{name}: {} row(s) would break a foreign key (in {}); nothing was changed",
        rows.len(),
        tables.join(", ")
    )))
}

async fn record(tx: &Db, name: &str, apply: bool) -> Result<()> {
    let dialect = tx.dialect();
    let stmt = if apply {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(TABLE))
            .columns([name_col(), at_col()])
            .values([name.into(), Utc::now().into()])
            .map_err(|e| Error::Migration(e.to_string()))?;
        dialect.build(&insert)
    } else {
        dialect.build(
            Query::delete()
                .from_table(Alias::new(TABLE))
                .and_where(Expr::col(name_col()).eq(name)),
        )
    };
    tx.execute(&stmt).await.map(drop)
}
