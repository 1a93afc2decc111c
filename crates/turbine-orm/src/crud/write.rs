//! The writes themselves, over a model's metadata and its values in column order: one
//! implementation for typed models and runtime [`Record`](super::Record)s. Each runs the
//! database's observers (`db.hooks()`) around the statement; model hooks wrap these in the
//! typed layer.

use std::any::TypeId;

use sea_query::{Alias, Expr as SqExpr, ExprTrait, ReturningClause};

use super::cache::{self, Key, Kind};
use super::prepare::{column_fields, fill_insert, fill_update, validate};
use crate::backend::{Dialect, Params, Statement};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::hooks::{Change, ChangeKind};
use crate::meta::ModelMeta;
use crate::query::convert::coerce;
use crate::value::{Row, Value, is_null};

pub(super) fn key_of(
    model: Option<TypeId>,
    dialect: Dialect,
    kind: Kind,
    variant: u64,
) -> Option<Key> {
    model.map(|model| Key {
        model,
        dialect,
        kind,
        variant,
    })
}

pub(super) fn pk_index(meta: &ModelMeta) -> Result<usize> {
    column_fields(meta)
        .position(|f| f.primary_key)
        .ok_or_else(|| Error::Query(format!("{} has no primary key", meta.label())))
}

/// Refuses values that do not match the model's columns (a `to_values` out of step with
/// `meta`), instead of indexing past them.
pub(super) fn check_width(meta: &ModelMeta, values: &[Value]) -> Result<()> {
    let n = column_fields(meta).count();
    if values.len() == n {
        Ok(())
    } else {
        Err(Error::Query(format!(
            "{} has {n} columns but {} values were given",
            meta.label(),
            values.len()
        )))
    }
}

/// The most parameters one statement may bind on a backend.
pub(super) fn param_limit(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Postgres => 65_535,
        _ => 32_766,
    }
}

pub(super) fn table(meta: &ModelMeta) -> Alias {
    Alias::new(meta.table.as_str())
}

/// Constraint errors name columns; clients know fields (`author`, not `author_id`).
fn by_field(meta: &ModelMeta, err: Error) -> Error {
    let name = |column: String| {
        column_fields(meta)
            .find(|f| f.column == column)
            .map_or(column, |f| f.name.clone())
    };
    match err {
        Error::UniqueViolation {
            table,
            fields,
            constraint,
        } => Error::UniqueViolation {
            table,
            fields: fields.into_iter().map(name).collect(),
            constraint,
        },
        Error::NotNullViolation { table, field } => Error::NotNullViolation {
            table,
            field: name(field),
        },
        Error::ForeignKeyViolation {
            table,
            field,
            constraint,
        } => Error::ForeignKeyViolation {
            table,
            field: field.map(name),
            constraint,
        },
        other => other,
    }
}

/// Runs a writing statement that returns rows (`… RETURNING`).
async fn fetch_write(db: &Db, meta: &ModelMeta, stmt: Statement) -> Result<Vec<Row>> {
    db.fetch_write(&stmt).await.map_err(|e| by_field(meta, e))
}

/// Runs a writing statement; returns the number of rows changed.
pub(super) async fn execute(db: &Db, meta: &ModelMeta, stmt: &Statement) -> Result<u64> {
    db.execute(stmt).await.map_err(|e| by_field(meta, e))
}

/// `(column, value)` pairs for observers, built only when there are observers.
fn pairs(
    db: &Db,
    meta: &ModelMeta,
    values: &[Value],
    write: impl Fn(usize) -> bool,
) -> Vec<(String, Value)> {
    if db.hooks().is_empty() {
        return Vec::new();
    }
    column_fields(meta)
        .enumerate()
        .filter(|(i, _)| write(*i))
        .map(|(i, f)| (f.column.clone(), values[i].clone()))
        .collect()
}

fn observe(
    db: &Db,
    meta: &ModelMeta,
    kind: ChangeKind,
    pk: &Value,
    values: &[(String, Value)],
    before: bool,
) -> Result<()> {
    if db.hooks().is_empty() {
        return Ok(());
    }
    let change = Change {
        model: meta,
        kind,
        pk,
        values,
    };
    if before {
        db.hooks().run_before(&change)
    } else {
        db.hooks().run_after(&change);
        Ok(())
    }
}

/// The INSERT of one or more rows with the same omitted columns, returning those columns. A row
/// whose every column is left to the database is inserted alone (`DEFAULT VALUES`).
fn insert_statement(
    meta: &ModelMeta,
    dialect: Dialect,
    omit: &[bool],
    rows: &[&[Value]],
) -> Result<Statement> {
    let mut insert = sea_query::Query::insert();
    insert.into_table(table(meta)).columns(
        column_fields(meta)
            .enumerate()
            .filter(|(i, _)| !omit[*i])
            .map(|(_, f)| Alias::new(f.column.as_str())),
    );
    if omit.iter().all(|o| *o) {
        if rows.len() != 1 {
            return Err(Error::Query("one row at a time with DEFAULT VALUES".into()));
        }
        insert.or_default_values();
    } else {
        for row in rows {
            insert
                .values(
                    row.iter()
                        .enumerate()
                        .filter(|(i, _)| !omit[*i])
                        .map(|(_, v)| SqExpr::val(v.clone())),
                )
                .map_err(|e| Error::Query(e.to_string()))?;
        }
    }
    if omit.iter().any(|o| *o) {
        insert.returning(ReturningClause::Columns(
            column_fields(meta)
                .enumerate()
                .filter(|(i, _)| omit[*i])
                .map(|(_, f)| Alias::new(f.column.as_str()).into())
                .collect(),
        ));
    }
    Ok(dialect.build(&insert))
}

/// Stores the columns an insert left to the database, as it returned them, into `values`.
fn store_returned(
    meta: &ModelMeta,
    omit: &[bool],
    values: &mut [Value],
    returned: Row,
    set: &mut Vec<usize>,
) {
    let omitted = column_fields(meta).enumerate().filter(|(i, _)| omit[*i]);
    for ((i, f), v) in omitted.zip(returned.into_values()) {
        values[i] = coerce(v, &f.ty);
        set.push(i);
    }
}

/// Inserts one row: fills defaults, validates, runs observers around the INSERT, and stores
/// what the database assigned (the identity key, database defaults) back into `values`.
/// Returns the positions of the values the ORM or the database set.
pub(crate) async fn insert(
    db: &Db,
    meta: &ModelMeta,
    model: Option<TypeId>,
    values: &mut [Value],
) -> Result<Vec<usize>> {
    check_width(meta, values)?;
    let plan = fill_insert(meta, values)?;
    validate(meta, values, |i| !plan.omit[i])?;
    let pk = pk_index(meta)?;
    let written = pairs(db, meta, values, |i| !plan.omit[i]);
    observe(db, meta, ChangeKind::Created, &values[pk], &written, true)?;
    let dialect = db.dialect();
    let bound: Params = values
        .iter()
        .enumerate()
        .filter(|(i, _)| !plan.omit[*i])
        .map(|(_, v)| v.clone())
        .collect();
    let cache_key = plan
        .mask()
        .and_then(|mask| key_of(model, dialect, Kind::Insert, mask));
    let stmt = cache::statement(cache_key, bound, |_| {
        insert_statement(meta, dialect, &plan.omit, &[values])
    })?;
    let mut set = plan.filled.clone();
    if plan.omit.iter().any(|o| *o) {
        let row = fetch_write(db, meta, stmt)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                Error::Query(format!("the insert into {} returned no row", meta.table))
            })?;
        store_returned(meta, &plan.omit, values, row, &mut set);
    } else {
        execute(db, meta, &stmt).await?;
    }
    let written = pairs(db, meta, values, |_| true);
    observe(db, meta, ChangeKind::Created, &values[pk], &written, false)?;
    Ok(set)
}

/// Inserts many rows with as few statements as the parameter limits allow (rows leaving the
/// same columns to the database share a statement). Returns, per row, the positions set.
pub(crate) async fn insert_many(
    db: &Db,
    meta: &ModelMeta,
    rows: &mut [Vec<Value>],
) -> Result<Vec<Vec<usize>>> {
    let pk = pk_index(meta)?;
    let mut plans = Vec::with_capacity(rows.len());
    for values in rows.iter_mut() {
        check_width(meta, values)?;
        let plan = fill_insert(meta, values)?;
        validate(meta, values, |i| !plan.omit[i])?;
        let written = pairs(db, meta, values, |i| !plan.omit[i]);
        observe(db, meta, ChangeKind::Created, &values[pk], &written, true)?;
        plans.push(plan);
    }
    let dialect = db.dialect();
    let width = column_fields(meta).count().max(1);
    let per_statement = (param_limit(dialect) / width).max(1);
    let all_default = |omit: &[bool]| omit.iter().all(|o| *o);
    let mut set: Vec<Vec<usize>> = plans.iter().map(|p| p.filled.clone()).collect();
    // Groups of rows with the same omitted columns, in order.
    let mut groups: Vec<(Vec<bool>, Vec<usize>)> = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        match groups.iter_mut().find(|(omit, _)| *omit == plan.omit) {
            Some((_, members)) => members.push(i),
            None => groups.push((plan.omit.clone(), vec![i])),
        }
    }
    let size = |omit: &[bool]| if all_default(omit) { 1 } else { per_statement };
    let statements: usize = groups
        .iter()
        .map(|(omit, members)| members.len().div_ceil(size(omit)))
        .sum();
    // All or nothing: several statements share one transaction.
    if statements > 1 && !db.in_transaction() {
        let (rows, set) = (&mut *rows, &mut set);
        db.transaction(
            |tx| async move { insert_groups(&tx, meta, &groups, size, rows, set).await },
        )
        .await?;
    } else {
        insert_groups(db, meta, &groups, size, rows, &mut set).await?;
    }
    for values in rows.iter() {
        let written = pairs(db, meta, values, |_| true);
        observe(db, meta, ChangeKind::Created, &values[pk], &written, false)?;
    }
    Ok(set)
}

/// The INSERT statements of [`insert_many`], group by group, chunk by chunk.
async fn insert_groups(
    db: &Db,
    meta: &ModelMeta,
    groups: &[(Vec<bool>, Vec<usize>)],
    size: impl Fn(&[bool]) -> usize,
    rows: &mut [Vec<Value>],
    set: &mut [Vec<usize>],
) -> Result<()> {
    for (omit, members) in groups {
        for chunk in members.chunks(size(omit)) {
            let chunk_rows: Vec<&[Value]> = chunk.iter().map(|&i| rows[i].as_slice()).collect();
            let stmt = insert_statement(meta, db.dialect(), omit, &chunk_rows)?;
            if omit.iter().any(|o| *o) {
                let returned = fetch_write(db, meta, stmt).await?;
                if returned.len() != chunk.len() {
                    return Err(Error::Query(format!(
                        "the insert into {} returned {} rows for {}",
                        meta.table,
                        returned.len(),
                        chunk.len()
                    )));
                }
                for (&r, row) in chunk.iter().zip(returned) {
                    store_returned(meta, omit, &mut rows[r], row, &mut set[r]);
                }
            } else {
                execute(db, meta, &stmt).await?;
            }
        }
    }
    Ok(())
}

/// Updates one row by its key: every column (`only = None`) or the given positions, plus the
/// `auto_now` fields. [`Error::NotFound`] when no row has the key. Returns the positions the ORM
/// set (`auto_now`).
pub(crate) async fn update(
    db: &Db,
    meta: &ModelMeta,
    model: Option<TypeId>,
    values: &mut [Value],
    only: Option<&[usize]>,
) -> Result<Vec<usize>> {
    check_width(meta, values)?;
    let pk = pk_index(meta)?;
    if is_null(&values[pk]) {
        return Err(Error::Query(format!(
            "cannot save a {} without a primary key: insert it first",
            meta.label()
        )));
    }
    let filled = fill_update(meta, values);
    let write = |i: usize| i != pk && only.is_none_or(|o| o.contains(&i) || filled.contains(&i));
    validate(meta, values, write)?;
    let written = pairs(db, meta, values, write);
    observe(db, meta, ChangeKind::Updated, &values[pk], &written, true)?;
    let dialect = db.dialect();
    let fields: Vec<_> = column_fields(meta).collect();
    let positions: Vec<usize> = (0..values.len()).filter(|&i| write(i)).collect();
    if positions.is_empty() {
        return Ok(filled);
    }
    let mut bound: Params = positions.iter().map(|&i| values[i].clone()).collect();
    bound.push(values[pk].clone());
    let cache_key = if only.is_none() {
        key_of(model, dialect, Kind::Update, 0)
    } else {
        None
    };
    let stmt = cache::statement(cache_key, bound, |bound| {
        let mut upd = sea_query::Query::update();
        upd.table(table(meta));
        for (&i, v) in positions.iter().zip(bound) {
            upd.value(
                Alias::new(fields[i].column.as_str()),
                SqExpr::val(v.clone()),
            );
        }
        upd.and_where(
            SqExpr::col(Alias::new(fields[pk].column.as_str()))
                .eq(bound.last().cloned().unwrap_or(Value::Bool(None))),
        );
        Ok(dialect.build(&upd))
    })?;
    if execute(db, meta, &stmt).await? == 0 {
        return Err(Error::NotFound {
            model: meta.label(),
        });
    }
    observe(db, meta, ChangeKind::Updated, &values[pk], &written, false)?;
    Ok(filled)
}

/// Refuses with [`Error::Protected`] when protected rows point at the row with this key.
pub(crate) async fn check_delete(db: &Db, meta: &ModelMeta, key: &Value) -> Result<()> {
    if db.registry().is_none() {
        return Ok(());
    }
    let pk = column_fields(meta)
        .find(|f| f.primary_key)
        .ok_or_else(|| Error::Query(format!("{} has no primary key", meta.label())))?;
    let mut keys = sea_query::SelectStatement::new();
    keys.expr(SqExpr::col(Alias::new(pk.column.as_str())))
        .from(table(meta))
        .and_where(SqExpr::col(Alias::new(pk.column.as_str())).eq(coerce(key.clone(), &pk.ty)));
    crate::query::check_protected(db, meta, keys).await
}

/// Deletes one row by its key (after [`check_delete`]): runs the observers around the DELETE
/// and lets the database cascade / set null / restrict. [`Error::NotFound`] without a row.
pub(crate) async fn delete(
    db: &Db,
    meta: &ModelMeta,
    model: Option<TypeId>,
    key: Value,
) -> Result<()> {
    let pk = column_fields(meta)
        .find(|f| f.primary_key)
        .ok_or_else(|| Error::Query(format!("{} has no primary key", meta.label())))?;
    let key = coerce(key, &pk.ty);
    observe(db, meta, ChangeKind::Deleted, &key, &[], true)?;
    let dialect = db.dialect();
    let stmt = cache::statement(
        key_of(model, dialect, Kind::Delete, 0),
        smallvec::smallvec![key.clone()],
        |k| {
            let mut del = sea_query::Query::delete();
            del.from_table(table(meta))
                .and_where(SqExpr::col(Alias::new(pk.column.as_str())).eq(k[0].clone()));
            Ok(dialect.build(&del))
        },
    )?;
    if execute(db, meta, &stmt).await? == 0 {
        return Err(Error::NotFound {
            model: meta.label(),
        });
    }
    observe(db, meta, ChangeKind::Deleted, &key, &[], false)
}

/// The row with this key (columns in model order).
pub(crate) async fn get(
    db: &Db,
    meta: &ModelMeta,
    model: Option<TypeId>,
    key: Value,
) -> Result<Row> {
    db.fetch(&get_statement(db, meta, model, key)?)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::NotFound {
            model: meta.label(),
        })
}

/// `SELECT <columns> FROM <table> WHERE <pk> = $1`, rendered once per model and dialect.
pub(crate) fn get_statement(
    db: &Db,
    meta: &ModelMeta,
    model: Option<TypeId>,
    key: Value,
) -> Result<Statement> {
    let pk = column_fields(meta)
        .find(|f| f.primary_key)
        .ok_or_else(|| Error::Query(format!("{} has no primary key", meta.label())))?;
    let key = coerce(key, &pk.ty);
    let dialect = db.dialect();
    cache::statement(
        key_of(model, dialect, Kind::Get, 0),
        smallvec::smallvec![key],
        |k| {
            let mut sel = sea_query::SelectStatement::new();
            for f in column_fields(meta) {
                sel.expr(SqExpr::col(Alias::new(f.column.as_str())));
            }
            sel.from(table(meta))
                .and_where(SqExpr::col(Alias::new(pk.column.as_str())).eq(k[0].clone()));
            Ok(dialect.build(&sel))
        },
    )
}
