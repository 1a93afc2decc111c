//! Updating many rows, each with its own values, in one statement (Django's `bulk_update`):
//!
//! ```sql
//! UPDATE t SET a = CAST((CASE WHEN (id = $1) THEN $2 WHEN (id = $3) THEN $4 END) AS integer),
//!              updated_at = $5
//!        WHERE id IN ($6, $7)
//! ```
//!
//! Every value is bound. On Postgres each `CASE` is cast to its column's type, so the statement
//! is right whatever types a driver gives its parameters. `auto_now` fields take one timestamp
//! for every row (a plain `SET`). Large inputs are split into batches of at most 1,000 rows and
//! within the backend's parameter limit, run in one transaction. Like Django's `bulk_update` and like
//! [`Update`](crate::query::Update), it runs neither the models' hooks nor the database's
//! observers: it is a query over many rows, not many saves.

use sea_query::{Alias, CaseStatement, Expr as SqExpr, ExprTrait, Func};

use std::any::TypeId;

use super::cache::{self, Kind};
use super::prepare::{column_fields, now_value, validate};
use super::write::{check_width, execute, key_of, param_limit, pk_index, table};
use crate::backend::{Dialect, Statement};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::meta::{FieldDefault, FieldMeta, ModelMeta};
use crate::query::convert::coerce;
use crate::schema::sql_type;
use crate::value::{Value, is_null};

/// The most rows one statement updates. Each row's `CASE` tries the `WHEN`s in order, so a
/// statement's cost grows with the square of its rows: on Postgres 15 here, ~20 µs a row up to
/// 1,000 rows a statement, 33 µs at 3,000 and 330 µs at 10,000.
const MAX_ROWS: usize = 1_000;

/// Typed models keep the SQL of bulk updates of up to this many rows (per set of fields), like
/// their other hot statements: rendering a 20-row statement costs more than running it.
const CACHED_ROWS: usize = 100;

/// What a bulk update writes: the positions of the fields set per row (`CASE`), and of the
/// `auto_now` fields set to one timestamp.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Per-row fields, in column order (so that the set of fields names the statement).
    pub(crate) per_row: Vec<usize>,
    /// `auto_now` fields: refreshed whether asked for or not, as `save` does.
    pub(crate) auto_now: Vec<usize>,
}

impl Plan {
    /// The plan for setting `names` on rows of `meta`: refuses no field, an unknown field, a
    /// field without a column (many-to-many) and the primary key.
    pub(crate) fn new(meta: &ModelMeta, names: &[&str]) -> Result<Self> {
        if names.is_empty() {
            return Err(Error::Query(format!(
                "bulk_update of {} needs at least one field to set",
                meta.label()
            )));
        }
        let fields: Vec<&FieldMeta> = column_fields(meta).collect();
        let is_auto_now = |f: &FieldMeta| matches!(f.default, Some(FieldDefault::NowOnSave));
        let mut per_row = Vec::with_capacity(names.len());
        for &name in names {
            let Some(i) = fields.iter().position(|f| f.name == name) else {
                let why = if meta.fields.iter().any(|f| f.name == name) {
                    "has no column to set"
                } else {
                    "does not exist"
                };
                return Err(Error::Query(format!(
                    "bulk_update: {}.{name} {why}",
                    meta.label()
                )));
            };
            if fields[i].primary_key {
                return Err(Error::Query(format!(
                    "bulk_update: {}.{name} is the primary key, which bulk_update does not change",
                    meta.label()
                )));
            }
            if !per_row.contains(&i) && !is_auto_now(fields[i]) {
                per_row.push(i);
            }
        }
        per_row.sort_unstable();
        let auto_now = (0..fields.len())
            .filter(|&i| is_auto_now(fields[i]))
            .collect();
        Ok(Self { per_row, auto_now })
    }

    /// The per-row fields as a bit mask (for the statement cache), if they fit in one.
    fn mask(&self) -> Option<u64> {
        self.per_row
            .iter()
            .try_fold(0u64, |m, &i| (i < 64).then(|| m | (1 << i)))
    }

    fn writes(&self, i: usize) -> bool {
        self.per_row.contains(&i) || self.auto_now.contains(&i)
    }

    /// Rows per statement: at most [`MAX_ROWS`], and within the backend's parameter limit:
    /// each row binds its key and a value per per-row field (`WHEN key THEN value`) and its
    /// key once more in `IN (…)`; the `auto_now` timestamps are bound once per statement.
    fn rows_per_statement(&self, dialect: Dialect) -> usize {
        let per_row = 1 + 2 * self.per_row.len();
        let fit = param_limit(dialect).saturating_sub(self.auto_now.len()) / per_row;
        fit.clamp(1, MAX_ROWS)
    }
}

/// Updates the plan's fields of every row (values in column order) by key: refreshes the
/// `auto_now` fields in `rows`, validates what is written, and runs one UPDATE per batch of
/// rows (several in one transaction). Returns the number of rows the database updated; no
/// statement without rows.
pub(crate) async fn bulk_update(
    db: &Db,
    meta: &ModelMeta,
    model: Option<TypeId>,
    plan: &Plan,
    rows: &mut [Vec<Value>],
) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let pk = pk_index(meta)?;
    let fields: Vec<&FieldMeta> = column_fields(meta).collect();
    let stamps: Vec<Value> = plan
        .auto_now
        .iter()
        .map(|&i| now_value(&fields[i].ty))
        .collect();
    for row in rows.iter_mut() {
        check_width(meta, row)?;
        if is_null(&row[pk]) {
            return Err(Error::Query(format!(
                "bulk_update: a {} without a primary key: insert it first",
                meta.label()
            )));
        }
        row[pk] = coerce(
            std::mem::replace(&mut row[pk], Value::Bool(None)),
            &fields[pk].ty,
        );
        for (&i, stamp) in plan.auto_now.iter().zip(&stamps) {
            row[i] = stamp.clone();
        }
        validate(meta, row, |i| plan.writes(i))?;
    }
    let dialect = db.dialect();
    let size = plan.rows_per_statement(dialect);
    let run = |db: Db, rows: &[Vec<Value>]| {
        let statements: Vec<Result<Statement>> = rows
            .chunks(size)
            .map(|chunk| statement(meta, model, dialect, plan, &stamps, chunk))
            .collect();
        async move {
            let mut updated = 0;
            for stmt in statements {
                updated += execute(&db, meta, &stmt?).await?;
            }
            Ok::<u64, Error>(updated)
        }
    };
    if rows.len() > size && !db.in_transaction() {
        // All or nothing: the batches share one transaction.
        db.transaction(|tx| run(tx, rows)).await
    } else {
        run(db.clone(), rows).await
    }
}

/// The UPDATE of one batch of rows: its values in the order [`render`] binds them, and its SQL
/// from the cache when a typed model already rendered it for as many rows.
fn statement(
    meta: &ModelMeta,
    model: Option<TypeId>,
    dialect: Dialect,
    plan: &Plan,
    stamps: &[Value],
    rows: &[Vec<Value>],
) -> Result<Statement> {
    let values = bound(pk_index(meta)?, plan, stamps, rows);
    let key = match (rows.len() <= CACHED_ROWS, plan.mask()) {
        (true, Some(mask)) => {
            let rows = Kind::BulkUpdate {
                rows: rows.len() as u32,
            };
            key_of(model, dialect, rows, mask)
        }
        _ => None,
    };
    cache::statement(key, values.into(), |_| {
        render(meta, dialect, plan, stamps, rows)
    })
}

/// The values [`render`] binds, in its order: per field, each row's key and value; the
/// timestamps; the keys.
fn bound(pk: usize, plan: &Plan, stamps: &[Value], rows: &[Vec<Value>]) -> Vec<Value> {
    let mut values = Vec::with_capacity(rows.len() * (1 + 2 * plan.per_row.len()) + stamps.len());
    for &i in &plan.per_row {
        for row in rows {
            values.push(row[pk].clone());
            values.push(row[i].clone());
        }
    }
    values.extend_from_slice(stamps);
    values.extend(rows.iter().map(|row| row[pk].clone()));
    values
}

/// Renders the UPDATE of one batch of rows with sea-query.
fn render(
    meta: &ModelMeta,
    dialect: Dialect,
    plan: &Plan,
    stamps: &[Value],
    rows: &[Vec<Value>],
) -> Result<Statement> {
    let fields: Vec<&FieldMeta> = column_fields(meta).collect();
    let pk = pk_index(meta)?;
    let key = || SqExpr::col(Alias::new(fields[pk].column.as_str()));
    let mut upd = sea_query::Query::update();
    upd.table(table(meta));
    for &i in &plan.per_row {
        let f = fields[i];
        let case = rows.iter().fold(CaseStatement::new(), |case, row| {
            case.case(key().eq(row[pk].clone()), SqExpr::val(row[i].clone()))
        });
        let value: SqExpr = match dialect {
            // The CASE's type comes from its parameters; cast it to the column's.
            Dialect::Postgres => Func::cast_as(case, Alias::new(sql_type(f, dialect))).into(),
            _ => case.into(),
        };
        upd.value(Alias::new(f.column.as_str()), value);
    }
    for (&i, stamp) in plan.auto_now.iter().zip(stamps) {
        upd.value(
            Alias::new(fields[i].column.as_str()),
            SqExpr::val(stamp.clone()),
        );
    }
    upd.and_where(key().is_in(rows.iter().map(|row| row[pk].clone())));
    Ok(dialect.build(&upd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::FieldType;

    fn meta() -> ModelMeta {
        ModelMeta::new("app", "Item")
            .field(FieldMeta::auto_id())
            .field(FieldMeta::new("n", FieldType::I32))
            .field(FieldMeta::new("note", FieldType::Text).nullable())
            .field(FieldMeta::new("at", FieldType::DateTime).auto_now())
    }

    fn rows() -> Vec<Vec<Value>> {
        let row = |id: i64, n: i32| {
            vec![
                Value::BigInt(Some(id)),
                Value::Int(Some(n)),
                Value::String(None),
                Value::ChronoDateTimeUtc(None),
            ]
        };
        vec![row(1, 10), row(2, 20)]
    }

    #[test]
    fn one_case_per_field_cast_on_postgres_and_auto_now_set_once() {
        let m = meta();
        let plan = Plan::new(&m, &["note", "n", "n"]).unwrap();
        assert_eq!(
            (plan.per_row.as_slice(), plan.auto_now.as_slice()),
            (&[1, 2][..], &[3][..])
        );
        let stamp = [Value::ChronoDateTimeUtc(Some(super::super::prepare::now()))];
        let stmt = statement(&m, None, Dialect::Postgres, &plan, &stamp, &rows()).unwrap();
        assert_eq!(
            stmt.sql,
            r#"UPDATE "app_item" SET "n" = CAST((CASE WHEN ("id" = $1) THEN $2 WHEN ("id" = $3) THEN $4 END) AS integer), "note" = CAST((CASE WHEN ("id" = $5) THEN $6 WHEN ("id" = $7) THEN $8 END) AS text), "at" = $9 WHERE "id" IN ($10, $11)"#
        );
        assert_eq!(stmt.values.len(), 11);
        assert_eq!(stmt.values[1], Value::Int(Some(10)));
        let stmt = statement(&m, None, Dialect::Sqlite, &plan, &stamp, &rows()).unwrap();
        assert!(
            stmt.sql.starts_with(
                r#"UPDATE "app_item" SET "n" = (CASE WHEN ("id" = ?) THEN ? WHEN ("id" = ?) THEN ? END), "#
            ),
            "{}",
            stmt.sql
        );
    }

    #[test]
    fn the_cached_statement_binds_what_sea_query_binds() {
        struct Item;
        let m = meta();
        let plan = Plan::new(&m, &["note", "n"]).unwrap();
        let stamp = [Value::ChronoDateTimeUtc(Some(super::super::prepare::now()))];
        let model = Some(TypeId::of::<Item>());
        let rendered = render(&m, Dialect::Postgres, &plan, &stamp, &rows()).unwrap();
        assert_eq!(bound(0, &plan, &stamp, &rows()), rendered.values.as_slice());
        let rendered_sqlite = render(&m, Dialect::Sqlite, &plan, &stamp, &rows()).unwrap();
        assert_eq!(
            bound(0, &plan, &stamp, &rows()),
            rendered_sqlite.values.as_slice()
        );
        for _ in 0..2 {
            let stmt = statement(&m, model, Dialect::Postgres, &plan, &stamp, &rows()).unwrap();
            assert_eq!(stmt, rendered);
        }
        let mut other = rows();
        other[1][1] = Value::Int(Some(99));
        let stmt = statement(&m, model, Dialect::Postgres, &plan, &stamp, &other).unwrap();
        assert_eq!(
            stmt.values[3],
            Value::Int(Some(99)),
            "from the cache, new values"
        );
        assert_eq!(
            stmt,
            render(&m, Dialect::Postgres, &plan, &stamp, &other).unwrap()
        );
        // Fewer rows: another statement.
        let stmt = statement(&m, model, Dialect::Postgres, &plan, &stamp, &rows()[..1]).unwrap();
        assert_eq!(stmt.values.len(), 6);
    }

    #[test]
    fn batches_stay_under_the_parameter_limits() {
        let m = meta();
        let plan = Plan::new(&m, &["n"]).unwrap();
        assert_eq!(plan.rows_per_statement(Dialect::Postgres), MAX_ROWS);
        // 81 parameters a row (40 fields), one timestamp a statement.
        let names: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
        let m = names.iter().fold(meta(), |m, name| {
            m.field(FieldMeta::new(name.as_str(), FieldType::I32))
        });
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let plan = Plan::new(&m, &names).unwrap();
        assert_eq!(plan.rows_per_statement(Dialect::Postgres), 65_534 / 81);
        assert_eq!(plan.rows_per_statement(Dialect::Sqlite), 32_765 / 81);
    }

    #[test]
    fn fields_are_checked() {
        let m = meta().field(FieldMeta::many_to_many("tags", "app.Tag"));
        let err = |names: &[&str]| Plan::new(&m, names).unwrap_err().to_string();
        assert!(err(&[]).contains("at least one field"), "{}", err(&[]));
        assert!(err(&["nope"]).contains("app.Item.nope does not exist"));
        assert!(err(&["tags"]).contains("app.Item.tags has no column"));
        assert!(err(&["id"]).contains("primary key"));
    }
}
