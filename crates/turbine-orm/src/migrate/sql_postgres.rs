//! Postgres: every operation is an `ALTER` in place. Constraint and index names follow the
//! table and column, so renames rename them too (a later operation finds them by name).

use sea_query::{Alias, Expr, ExprTrait, Query, Table};

use super::sql::{Alter, Change, Step, fill_value, is_fk, quote};
use super::state::State;
use crate::backend::Dialect;
use crate::error::{Error, Result};
use crate::meta::{FieldMeta, ModelMeta};
use crate::schema;

const PG: Dialect = Dialect::Postgres;

/// Postgres.
pub(crate) struct Postgres;

impl Alter for Postgres {
    fn rename_table(c: &Change<'_>) -> Vec<Step> {
        rename_table(c.old, c.new)
    }

    fn add_field(c: &Change<'_>, field: &FieldMeta) -> Result<Vec<Step>> {
        add_field(c.new, field, c.after)
    }

    fn remove_field(c: &Change<'_>, field: &FieldMeta) -> Result<Vec<Step>> {
        Ok(vec![Step::Sql(
            PG.build_schema(
                Table::alter()
                    .table(Alias::new(c.old.table.as_str()))
                    .drop_column(Alias::new(field.column.as_str())),
            ),
        )])
    }

    fn alter_field(c: &Change<'_>, old: &FieldMeta, new: &FieldMeta) -> Result<Vec<Step>> {
        alter_field(c.old, old, c.new, new, c.before, c.after)
    }

    fn add_check(c: &Change<'_>, name: &str, sql: &str) -> Result<Vec<Step>> {
        Ok(vec![Step::Sql(format!(
            "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({sql})",
            quote(&c.new.table),
            quote(name)
        ))])
    }

    fn remove_check(c: &Change<'_>, name: &str) -> Result<Vec<Step>> {
        Ok(vec![Step::Sql(
            PG.build_schema(
                Table::alter()
                    .table(Alias::new(c.old.table.as_str()))
                    .drop_constraint(Alias::new(name)),
            ),
        )])
    }
}

/// The name Postgres gives a constraint it names itself (`makeObjectName`): `table_column_label`,
/// the longer part shortened until it fits in 63 bytes.
pub(crate) fn object_name(table: &str, column: Option<&str>, label: &str) -> String {
    let avail = 63 - label.len() - 1 - usize::from(column.is_some());
    let (mut a, mut b) = (table.len(), column.map_or(0, str::len));
    while a + b > avail {
        if a > b { a -= 1 } else { b -= 1 }
    }
    let cut = |s: &str, mut n: usize| {
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_owned()
    };
    match column {
        Some(c) => format!("{}_{}_{label}", cut(table, a), cut(c, b)),
        None => format!("{}_{label}", cut(table, a)),
    }
}

/// The names of what hangs on a column: its index, its unique constraint, its foreign key (with
/// what it points at, to tell a changed key from a renamed one).
#[derive(Default)]
struct Derived {
    index: Option<String>,
    key: Option<String>,
    fk: Option<(String, (String, String))>,
}

fn derived(model: &ModelMeta, field: &FieldMeta, state: &State) -> Derived {
    let fk = is_fk(field).then(|| {
        let rel = field.relation.as_ref().expect("is_fk");
        let target = state
            .get(&rel.to)
            .map_or(rel.to.clone(), |m| m.table.clone());
        (
            schema::foreign_key_name(&model.table, &field.column),
            (
                target,
                format!("{:?}", rel.on_delete).replace("Protect", "Restrict"),
            ),
        )
    });
    Derived {
        index: schema::field_index(model, field).map(|i| i.name),
        key: (field.unique && !field.primary_key)
            .then(|| object_name(&model.table, Some(&field.column), "key")),
        fk,
    }
}

fn rename_constraint(table: &str, from: &str, to: &str) -> Step {
    Step::Sql(format!(
        "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
        quote(table),
        quote(from),
        quote(to)
    ))
}

fn rename_index(from: &str, to: &str) -> Step {
    Step::Sql(format!(
        "ALTER INDEX {} RENAME TO {}",
        quote(from),
        quote(to)
    ))
}

fn rename_table(old: &ModelMeta, new: &ModelMeta) -> Vec<Step> {
    if old.table == new.table {
        return Vec::new();
    }
    let mut steps = vec![Step::Sql(PG.build_schema(Table::rename().table(
        Alias::new(old.table.as_str()),
        Alias::new(new.table.as_str()),
    )))];
    let (pk_old, pk_new) = (
        object_name(&old.table, None, "pkey"),
        object_name(&new.table, None, "pkey"),
    );
    steps.push(rename_constraint(&new.table, &pk_old, &pk_new));
    let empty = State::new();
    for (fo, fnew) in old.fields.iter().zip(&new.fields) {
        let (a, b) = (derived(old, fo, &empty), derived(new, fnew, &empty));
        if let (Some(x), Some(y)) = (&a.index, &b.index) {
            steps.push(rename_index(x, y));
        }
        if let (Some(x), Some(y)) = (&a.key, &b.key) {
            steps.push(rename_constraint(&new.table, x, y));
        }
        if let (Some((x, _)), Some((y, _))) = (&a.fk, &b.fk) {
            steps.push(rename_constraint(&new.table, x, y));
        }
    }
    steps
}

fn alter_table(table: &str, what: String) -> Step {
    Step::Sql(format!("ALTER TABLE {} {what}", quote(table)))
}

fn add_field(model: &ModelMeta, field: &FieldMeta, after: &State) -> Result<Vec<Step>> {
    let table = model.table.as_str();
    // A non-null column without a database default is added nullable, filled, then tightened.
    let fill = match (field.nullable, &field.db_default) {
        (false, None) => fill_value(model, field)?,
        _ => None,
    };
    let mut column = field.clone();
    column.nullable |= fill.is_some();
    let mut steps = vec![Step::Sql(
        PG.build_schema(
            Table::alter()
                .table(Alias::new(table))
                .add_column(schema::column_def(&column, PG)),
        ),
    )];
    if let Some(value) = fill {
        steps.push(Step::Bound(
            PG.build(
                Query::update()
                    .table(Alias::new(table))
                    .value(Alias::new(field.column.as_str()), value),
            ),
        ));
        steps.push(alter_table(
            table,
            format!("ALTER COLUMN {} SET NOT NULL", quote(&field.column)),
        ));
    }
    if let Some(fk) = schema::foreign_key(model, field, after.models())? {
        steps.push(Step::Sql(PG.build_schema(&fk)));
    }
    if let Some(index) = schema::field_index(model, field) {
        steps.push(Step::Sql(
            PG.build_schema(&schema::create_index(model, &index)),
        ));
    }
    Ok(steps)
}

fn alter_field(
    mb: &ModelMeta,
    old: &FieldMeta,
    ma: &ModelMeta,
    new: &FieldMeta,
    before: &State,
    after: &State,
) -> Result<Vec<Step>> {
    let label = ma.label();
    if old.primary_key != new.primary_key || old.auto != new.auto {
        return Err(Error::Migration(format!(
            "{label}.{}: changing the primary key is not supported; write a run_sql migration",
            new.name
        )));
    }
    let (table, col) = (ma.table.as_str(), quote(&new.column));
    let (a, b) = (derived(mb, old, before), derived(ma, new, after));
    let mut steps = Vec::new();
    // Drop what goes away or changes, before the column changes under it.
    let fk_kept = matches!((&a.fk, &b.fk), (Some((_, x)), Some((_, y))) if x == y);
    if let (Some((name, _)), false) = (&a.fk, fk_kept) {
        steps.push(alter_table(
            table,
            format!("DROP CONSTRAINT {}", quote(name)),
        ));
    }
    if let (Some(name), None) = (&a.key, &b.key) {
        steps.push(alter_table(
            table,
            format!("DROP CONSTRAINT {}", quote(name)),
        ));
    }
    if let (Some(name), None) = (&a.index, &b.index) {
        steps.push(Step::Sql(super::sql::drop_index(name, PG)));
    }
    if old.column != new.column {
        steps.push(Step::Sql(PG.build_schema(
            Table::alter().table(Alias::new(table)).rename_column(
                Alias::new(old.column.as_str()),
                Alias::new(new.column.as_str()),
            ),
        )));
    }
    if let (Some(x), Some(y)) = (&a.index, &b.index)
        && x != y
    {
        steps.push(rename_index(x, y));
    }
    if let (Some(x), Some(y)) = (&a.key, &b.key)
        && x != y
    {
        steps.push(rename_constraint(table, x, y));
    }
    if let (Some((x, _)), Some((y, _)), true) = (&a.fk, &b.fk, fk_kept)
        && x != y
    {
        steps.push(rename_constraint(table, x, y));
    }
    let (ty_old, ty_new) = (schema::sql_type(old, PG), schema::sql_type(new, PG));
    if ty_old != ty_new {
        steps.push(alter_table(
            table,
            format!("ALTER COLUMN {col} TYPE {ty_new} USING {col}::{ty_new}"),
        ));
    }
    if old.db_default != new.db_default {
        steps.push(alter_table(
            table,
            match &new.db_default {
                Some(sql) => format!("ALTER COLUMN {col} SET DEFAULT {sql}"),
                None => format!("ALTER COLUMN {col} DROP DEFAULT"),
            },
        ));
    }
    if old.nullable && !new.nullable {
        // Existing NULLs take the database default, else the field's default.
        let fill = match &new.db_default {
            Some(sql) => Some(Expr::cust(sql.clone())),
            None => fill_value(ma, new)?.map(Expr::val),
        };
        if let Some(fill) = fill {
            steps.push(Step::Bound(
                PG.build(
                    Query::update()
                        .table(Alias::new(table))
                        .value(Alias::new(new.column.as_str()), fill)
                        .and_where(Expr::col(Alias::new(new.column.as_str())).is_null()),
                ),
            ));
        }
        steps.push(alter_table(
            table,
            format!("ALTER COLUMN {col} SET NOT NULL"),
        ));
    } else if !old.nullable && new.nullable {
        steps.push(alter_table(
            table,
            format!("ALTER COLUMN {col} DROP NOT NULL"),
        ));
    }
    if let (None, Some(name)) = (&a.key, &b.key) {
        steps.push(alter_table(
            table,
            format!("ADD CONSTRAINT {} UNIQUE ({col})", quote(name)),
        ));
    }
    if b.fk.is_some()
        && !fk_kept
        && let Some(fk) = schema::foreign_key(ma, new, after.models())?
    {
        steps.push(Step::Sql(PG.build_schema(&fk)));
    }
    if let (None, Some(_)) = (&a.index, &b.index)
        && let Some(step) = super::sql::field_index_sql(ma, new, PG, true)
    {
        steps.push(step);
    }
    Ok(steps)
}
