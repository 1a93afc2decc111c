//! The SQL of an operation on a backend: [`Step`]s, rendered from the state before and after it.
//! Postgres alters in place (`sql_postgres`); SQLite alters what `ALTER TABLE` can express and
//! rebuilds the table otherwise (`sqlite_rebuild`).

use std::fmt;

use chrono::Utc;
use rust_decimal::Decimal;
use sea_query::Value;

use super::{Operation, State, replay, sql_postgres, sqlite_rebuild};
use crate::backend::{Dialect, Statement};
use crate::error::{Error, Result};
use crate::meta::{FieldDefault, FieldMeta, FieldType, ModelMeta, RelationKind};
use crate::schema;

/// One thing to run against the database.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Step {
    /// SQL without values (DDL; may hold several statements for raw SQL).
    Sql(String),
    /// A statement with bound values (filling a new column, copying rows).
    Bound(Statement),
    /// SQLite: the steps that follow rebuild `table`, which tables (possibly itself) reference.
    /// Dropping it with foreign-key enforcement on would cascade, so the runner checks that
    /// enforcement is off.
    ForeignKeysOff {
        /// The table being rebuilt.
        table: String,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Sql(sql) => write!(f, "{};", sql.trim_end().trim_end_matches(';')),
            Step::Bound(stmt) if stmt.values.is_empty() => write!(f, "{};", stmt.sql),
            Step::Bound(stmt) => {
                let values: Vec<String> = stmt.values.iter().map(show_value).collect();
                write!(f, "{}; -- values: {}", stmt.sql, values.join(", "))
            }
            Step::ForeignKeysOff { table } => write!(
                f,
                "-- rebuilding \"{table}\", which other tables reference: runs with PRAGMA foreign_keys = OFF"
            ),
        }
    }
}

fn show_value(value: &Value) -> String {
    match value {
        Value::String(Some(s)) => format!("{s:?}"),
        other if crate::value::is_null(other) => "NULL".into(),
        Value::Bool(Some(b)) => b.to_string(),
        Value::SmallInt(Some(i)) => i.to_string(),
        Value::Int(Some(i)) => i.to_string(),
        Value::BigInt(Some(i)) => i.to_string(),
        Value::Float(Some(x)) => x.to_string(),
        Value::Double(Some(x)) => x.to_string(),
        Value::Decimal(Some(d)) => d.to_string(),
        Value::Uuid(Some(u)) => u.to_string(),
        Value::ChronoDateTimeUtc(Some(t)) => t.to_rfc3339(),
        Value::ChronoDate(Some(d)) => d.to_string(),
        Value::ChronoTime(Some(t)) => t.to_string(),
        Value::Json(Some(j)) => j.to_string(),
        other => format!("{other:?}"),
    }
}

/// The steps that apply `op` on `dialect`, given the state before it.
pub(crate) fn forwards(op: &Operation, dialect: Dialect, before: &State) -> Result<Vec<Step>> {
    let mut after = before.clone();
    op.apply_to_state(&mut after)?;
    if let Operation::RunSql(run) = op {
        return Ok(run
            .sql_for(dialect)
            .filter(|s| !s.trim().is_empty())
            .map(|s| vec![Step::Sql(s.to_owned())])
            .unwrap_or_default());
    }
    if let Operation::CreateModel { model } = op {
        return Ok(schema::create_model(model, after.models(), dialect)?
            .into_iter()
            .map(Step::Sql)
            .collect());
    }
    if let Operation::DeleteModel { model } = op {
        return Ok(vec![Step::Sql(schema::drop_model(
            before.model(model)?,
            dialect,
        ))]);
    }
    match op {
        Operation::AddIndex { model, name, .. } | Operation::AddUnique { model, name, .. } => {
            let m = after.model(model)?;
            if let Some(index) = m.indexes.iter().find(|i| &i.name == name) {
                return Ok(schema::create_index_sql(m, index, dialect)
                    .into_iter()
                    .map(Step::Sql)
                    .collect());
            }
        }
        Operation::RemoveIndex { model, name } | Operation::RemoveUnique { model, name } => {
            let index = replay::find_index(before, model, name)?;
            return Ok(schema::drop_index_sql(index, dialect)
                .map(Step::Sql)
                .into_iter()
                .collect());
        }
        _ => {}
    }
    match dialect {
        Dialect::Sqlite => alter::<sqlite_rebuild::Sqlite>(op, before, &after),
        Dialect::Postgres => alter::<sql_postgres::Postgres>(op, before, &after),
    }
}

/// One model's change: the states and the model before and after.
pub(crate) struct Change<'a> {
    /// The state before the operation.
    pub(crate) before: &'a State,
    /// The state after it.
    pub(crate) after: &'a State,
    /// The model before.
    pub(crate) old: &'a ModelMeta,
    /// The model after.
    pub(crate) new: &'a ModelMeta,
}

/// How a backend changes a table in place; what is the same everywhere (creating and dropping
/// tables and indexes, raw SQL) is done by [`forwards`].
pub(crate) trait Alter {
    /// The model's table was renamed (its fields are the same).
    fn rename_table(c: &Change<'_>) -> Vec<Step>;
    /// `field` (with a column) was added.
    fn add_field(c: &Change<'_>, field: &FieldMeta) -> Result<Vec<Step>>;
    /// `field` (with a column) was removed.
    fn remove_field(c: &Change<'_>, field: &FieldMeta) -> Result<Vec<Step>>;
    /// A field with a column changed (its name and column included).
    fn alter_field(c: &Change<'_>, old: &FieldMeta, new: &FieldMeta) -> Result<Vec<Step>>;
    /// A check constraint was added.
    fn add_check(c: &Change<'_>, name: &str, sql: &str) -> Result<Vec<Step>>;
    /// A check constraint was removed.
    fn remove_check(c: &Change<'_>, name: &str) -> Result<Vec<Step>>;
}

fn alter<A: Alter>(op: &Operation, before: &State, after: &State) -> Result<Vec<Step>> {
    use Operation::*;
    let change = |from: &str, to: &str| -> Result<Change<'_>> {
        Ok(Change {
            before,
            after,
            old: before.model(from)?,
            new: after.model(to)?,
        })
    };
    match op {
        RenameModel { from, to, .. } => Ok(A::rename_table(&change(from, to)?)),
        AlterModelTable { model, .. } => Ok(A::rename_table(&change(model, model)?)),
        AddField { model, field } if field.has_column() => {
            A::add_field(&change(model, model)?, field)
        }
        RemoveField { model, field } => {
            let f = before.field(model, field)?;
            if !f.has_column() {
                return Ok(Vec::new());
            }
            A::remove_field(&change(model, model)?, f)
        }
        AlterField { model, field } => {
            let old = before.field(model, &field.name)?;
            alter_field::<A>(&change(model, model)?, old, field)
        }
        RenameField {
            model, from, to, ..
        } => {
            let (old, new) = (before.field(model, from)?, after.field(model, to)?);
            alter_field::<A>(&change(model, model)?, old, new)
        }
        AddCheck { model, name, sql } => A::add_check(&change(model, model)?, name, sql),
        RemoveCheck { model, name } => A::remove_check(&change(model, model)?, name),
        _ => Ok(Vec::new()),
    }
}

fn alter_field<A: Alter>(c: &Change<'_>, old: &FieldMeta, new: &FieldMeta) -> Result<Vec<Step>> {
    if old.has_column() != new.has_column() {
        return Err(Error::Migration(format!(
            "{}.{}: a many-to-many field cannot become a column (or back); remove the field and add a new one",
            c.new.label(),
            new.name
        )));
    }
    if !new.has_column() {
        return Ok(Vec::new());
    }
    A::alter_field(c, old, new)
}

pub(crate) use crate::schema::{drop_index, quote};

/// `true` for a foreign key or one-to-one (a constraint in the database).
pub(crate) fn is_fk(field: &FieldMeta) -> bool {
    field
        .relation
        .as_ref()
        .is_some_and(|r| r.kind != RelationKind::ManyToMany)
}

/// What the column looks like in the database: type, NULL, default, unique, primary key and
/// foreign-key target (not its index).
pub(crate) fn same_column(a: &FieldMeta, b: &FieldMeta, before: &State, after: &State) -> bool {
    let target = |f: &FieldMeta, s: &State| {
        f.relation.as_ref().filter(|_| is_fk(f)).map(|r| {
            let table = s.get(&r.to).map(|m| m.table.clone());
            (table, on_delete_sql(r.on_delete))
        })
    };
    a.ty == b.ty
        && a.nullable == b.nullable
        && a.db_default == b.db_default
        && a.unique == b.unique
        && a.primary_key == b.primary_key
        && a.auto == b.auto
        && target(a, before) == target(b, after)
}

fn on_delete_sql(on_delete: crate::meta::OnDelete) -> &'static str {
    use crate::meta::OnDelete::*;
    match on_delete {
        Cascade => "cascade",
        SetNull => "set null",
        Restrict | Protect => "restrict",
    }
}

/// The value existing rows get for a new (or newly non-null) field: its ORM default, the time
/// of the migration for `auto_now` fields, or `None`.
pub(crate) fn fill_value(model: &ModelMeta, field: &FieldMeta) -> Result<Option<Value>> {
    match &field.default {
        Some(FieldDefault::Value(json)) if !json.is_null() => {
            json_to_value(json, &field.ty).map(Some).map_err(|message| {
                Error::Migration(format!(
                    "{}.{}: the default {json} {message}",
                    model.label(),
                    field.name
                ))
            })
        }
        Some(FieldDefault::NowOnInsert | FieldDefault::NowOnSave) => Ok(Some(match field.ty {
            FieldType::Date => Value::ChronoDate(Some(Utc::now().date_naive())),
            _ => Value::ChronoDateTimeUtc(Some(Utc::now())),
        })),
        _ => Ok(None),
    }
}

/// A default from a model definition (JSON) as a value of the field's type.
pub(crate) fn json_to_value(
    json: &serde_json::Value,
    ty: &FieldType,
) -> std::result::Result<Value, String> {
    use serde_json::Value as J;
    let wrong = || Err(format!("is not a valid {ty:?}"));
    let text = json.as_str();
    Ok(match ty {
        FieldType::Bool => match json {
            J::Bool(b) => Value::Bool(Some(*b)),
            _ => return wrong(),
        },
        FieldType::I16 | FieldType::I32 | FieldType::I64 => {
            let Some(i) = json.as_i64() else {
                return wrong();
            };
            match ty {
                FieldType::I16 => {
                    Value::SmallInt(Some(i16::try_from(i).map_err(|e| e.to_string())?))
                }
                FieldType::I32 => Value::Int(Some(i32::try_from(i).map_err(|e| e.to_string())?)),
                _ => Value::BigInt(Some(i)),
            }
        }
        FieldType::F32 => match json.as_f64() {
            Some(x) => Value::Float(Some(x as f32)),
            None => return wrong(),
        },
        FieldType::F64 => match json.as_f64() {
            Some(x) => Value::Double(Some(x)),
            None => return wrong(),
        },
        FieldType::Decimal { .. } => {
            let parsed = match json {
                J::String(s) => s.parse::<Decimal>().ok(),
                J::Number(n) => n.to_string().parse::<Decimal>().ok(),
                _ => None,
            };
            match parsed {
                Some(d) => Value::Decimal(Some(d)),
                None => return wrong(),
            }
        }
        FieldType::String { .. } | FieldType::Text => match text {
            Some(s) => Value::String(Some(s.to_owned())),
            None => return wrong(),
        },
        FieldType::Bytes => match text {
            Some(s) => Value::Bytes(Some(s.as_bytes().to_vec())),
            None => return wrong(),
        },
        FieldType::Uuid => match text.and_then(|s| s.parse().ok()) {
            Some(u) => Value::Uuid(Some(u)),
            None => return wrong(),
        },
        FieldType::Date => match text.and_then(|s| s.parse().ok()) {
            Some(d) => Value::ChronoDate(Some(d)),
            None => return wrong(),
        },
        FieldType::Time => match text.and_then(|s| s.parse().ok()) {
            Some(t) => Value::ChronoTime(Some(t)),
            None => return wrong(),
        },
        FieldType::DateTime => match text.and_then(|s| s.parse().ok()) {
            Some(t) => Value::ChronoDateTimeUtc(Some(t)),
            None => return wrong(),
        },
        FieldType::Json => Value::Json(Some(Box::new(json.clone()))),
    })
}

/// `CREATE INDEX` / `DROP INDEX` for the single-column index of a field, when it has one.
pub(crate) fn field_index_sql(
    model: &ModelMeta,
    field: &FieldMeta,
    dialect: Dialect,
    create: bool,
) -> Option<Step> {
    let index = schema::field_index(model, field)?;
    Some(Step::Sql(if create {
        dialect.build_schema(&schema::create_index(model, &index))
    } else {
        drop_index(&index.name, dialect)
    }))
}
