//! SQLite: `ALTER TABLE` adds a plain nullable column, drops a plain column and renames; every
//! other change (a column's type, NULL, default, unique or foreign key; a check constraint; a
//! column with constraints) rebuilds the table the way SQLite documents
//! (<https://www.sqlite.org/lang_altertable.html#otheralter>): create `<table>__new` from the new
//! state, copy the rows, drop the old table, rename the new one, recreate the indexes. The runner
//! turns foreign-key enforcement off around the migration and runs `PRAGMA foreign_key_check`
//! before committing.

use sea_query::{Alias, Expr, ExprTrait, Func, Query, SimpleExpr, Table};

use super::sql::{Alter, Change, Step, field_index_sql, fill_value, is_fk, same_column};
use super::state::State;
use crate::backend::Dialect;
use crate::error::{Error, Result};
use crate::meta::{AutoKey, FieldMeta, ModelMeta};
use crate::schema;

const LITE: Dialect = Dialect::Sqlite;

/// SQLite.
pub(crate) struct Sqlite;

impl Alter for Sqlite {
    fn rename_table(c: &Change<'_>) -> Vec<Step> {
        rename_table(c.old, c.new)
    }

    fn add_field(c: &Change<'_>, field: &FieldMeta) -> Result<Vec<Step>> {
        add_field(c.old, c.new, field, c.after)
    }

    fn remove_field(c: &Change<'_>, f: &FieldMeta) -> Result<Vec<Step>> {
        let plain = schema::field_index(c.old, f).is_none()
            && !f.unique
            && !f.primary_key
            && !is_fk(f)
            && c.old.checks.is_empty();
        if plain {
            return Ok(vec![Step::Sql(
                LITE.build_schema(
                    Table::alter()
                        .table(Alias::new(c.old.table.as_str()))
                        .drop_column(Alias::new(f.column.as_str())),
                ),
            )]);
        }
        rebuild(c.old, c.new, c.after, Vec::new())
    }

    fn alter_field(c: &Change<'_>, old: &FieldMeta, new: &FieldMeta) -> Result<Vec<Step>> {
        alter_field(c.old, old, c.new, new, c.before, c.after)
    }

    fn add_check(c: &Change<'_>, _name: &str, _sql: &str) -> Result<Vec<Step>> {
        rebuild(c.old, c.new, c.after, Vec::new())
    }

    fn remove_check(c: &Change<'_>, _name: &str) -> Result<Vec<Step>> {
        rebuild(c.old, c.new, c.after, Vec::new())
    }
}

/// Where a column of the rebuilt table takes its values from.
pub(crate) enum Source {
    /// The old table's column.
    Column(String),
    /// One value for every row (bound).
    Value(sea_query::Value),
    /// The old column, or this where it is NULL.
    Coalesce(String, SimpleExpr),
    /// Nothing: the column's database default (or NULL).
    Omit,
}

fn rename_table(old: &ModelMeta, new: &ModelMeta) -> Vec<Step> {
    if old.table == new.table {
        return Vec::new();
    }
    let mut steps = vec![Step::Sql(LITE.build_schema(Table::rename().table(
        Alias::new(old.table.as_str()),
        Alias::new(new.table.as_str()),
    )))];
    // Indexes stay with the table under their old names; those named after the table follow.
    for (fo, fnew) in old.fields.iter().zip(&new.fields) {
        let (a, b) = (schema::field_index(old, fo), schema::field_index(new, fnew));
        if let (Some(a), Some(b)) = (a, b)
            && a.name != b.name
        {
            steps.push(Step::Sql(super::sql::drop_index(&a.name, LITE)));
            steps.extend(field_index_sql(new, fnew, LITE, true));
        }
    }
    steps
}

fn add_field(
    mb: &ModelMeta,
    ma: &ModelMeta,
    field: &FieldMeta,
    after: &State,
) -> Result<Vec<Step>> {
    let plain = field.nullable
        && field.db_default.is_none()
        && !field.unique
        && !field.primary_key
        && !is_fk(field);
    if plain {
        let mut steps = vec![Step::Sql(
            LITE.build_schema(
                Table::alter()
                    .table(Alias::new(ma.table.as_str()))
                    .add_column(schema::column_def(field, LITE)),
            ),
        )];
        steps.extend(field_index_sql(ma, field, LITE, true));
        return Ok(steps);
    }
    let source = match (&field.db_default, fill_value(ma, field)?) {
        (None, Some(value)) => Source::Value(value),
        _ => Source::Omit,
    };
    rebuild(mb, ma, after, vec![(field.name.clone(), source)])
}

fn alter_field(
    mb: &ModelMeta,
    old: &FieldMeta,
    ma: &ModelMeta,
    new: &FieldMeta,
    before: &State,
    after: &State,
) -> Result<Vec<Step>> {
    if same_column(old, new, before, after) {
        // Only the name or the index changes: ALTER TABLE can do that.
        let mut steps = Vec::new();
        let (a, b) = (schema::field_index(mb, old), schema::field_index(ma, new));
        let same_index = matches!((&a, &b), (Some(a), Some(b)) if a.name == b.name);
        if a.is_some() && !same_index {
            steps.extend(field_index_sql(mb, old, LITE, false));
        }
        if old.column != new.column {
            steps.push(Step::Sql(
                LITE.build_schema(
                    Table::alter()
                        .table(Alias::new(ma.table.as_str()))
                        .rename_column(
                            Alias::new(old.column.as_str()),
                            Alias::new(new.column.as_str()),
                        ),
                ),
            ));
        }
        if b.is_some() && !same_index {
            steps.extend(field_index_sql(ma, new, LITE, true));
        }
        return Ok(steps);
    }
    let source = if old.nullable && !new.nullable {
        let fill = match &new.db_default {
            Some(sql) => Some(Expr::cust(sql.clone())),
            None => fill_value(ma, new)?.map(Expr::val),
        };
        match fill {
            Some(fill) => Source::Coalesce(old.column.clone(), fill),
            None => Source::Column(old.column.clone()),
        }
    } else {
        Source::Column(old.column.clone())
    };
    rebuild(mb, ma, after, vec![(new.name.clone(), source)])
}

/// Rebuilds `mb`'s table as `ma` says (same table name), copying every row. Columns take their
/// values from the old column of the same field name unless `sources` says otherwise.
pub(crate) fn rebuild(
    mb: &ModelMeta,
    ma: &ModelMeta,
    after: &State,
    mut sources: Vec<(String, Source)>,
) -> Result<Vec<Step>> {
    let (old, table) = (mb.table.as_str(), ma.table.as_str());
    let new = format!("{table}__new");
    let mut steps = Vec::new();
    let label = ma.label();
    let referenced = after.models().iter().any(|m| {
        m.fields
            .iter()
            .any(|f| is_fk(f) && f.relation.as_ref().is_some_and(|r| r.to == label))
    });
    if referenced {
        steps.push(Step::ForeignKeysOff {
            table: table.into(),
        });
    }
    steps.push(Step::Sql(schema::create_table_as(
        ma,
        &new,
        after.models(),
        LITE,
    )?));
    let mut columns = Vec::new();
    let mut exprs: Vec<SimpleExpr> = Vec::new();
    for f in ma.fields.iter().filter(|f| f.has_column()) {
        let source = match sources.iter().position(|(name, _)| name == &f.name) {
            Some(at) => sources.swap_remove(at).1,
            None => match mb.field_named(&f.name).filter(|o| o.has_column()) {
                Some(o) => Source::Column(o.column.clone()),
                None => Source::Omit,
            },
        };
        let expr = match source {
            Source::Column(c) => Expr::col(Alias::new(c)),
            Source::Value(v) => Expr::val(v),
            Source::Coalesce(c, fill) => Func::coalesce([Expr::col(Alias::new(c)), fill]).into(),
            Source::Omit => continue,
        };
        columns.push(Alias::new(f.column.as_str()));
        exprs.push(expr);
    }
    if !columns.is_empty() {
        let mut select = Query::select();
        select.exprs(exprs).from(Alias::new(old));
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(new.as_str()))
            .columns(columns)
            .select_from(select)
            .map_err(|e| Error::Migration(format!("rebuilding {table}: {e}")))?;
        steps.push(Step::Bound(LITE.build(&insert)));
    }
    let identity = |m: &ModelMeta| {
        m.primary_key()
            .is_some_and(|k| k.auto == Some(AutoKey::Identity))
    };
    if identity(mb) && identity(ma) {
        // Keep AUTOINCREMENT's high-water mark, so ids of deleted rows are never reused.
        steps.push(Step::Bound(LITE.build(
            Query::update()
                .table(Alias::new("sqlite_sequence"))
                .value(
                    Alias::new("seq"),
                    Expr::cust_with_values(
                        "MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0))",
                        [old],
                    ),
                )
                .and_where(Expr::col(Alias::new("name")).eq(new.as_str())),
        )));
    }
    steps.push(Step::Sql(schema::drop_model(mb, LITE)));
    steps.push(Step::Sql(LITE.build_schema(
        Table::rename().table(Alias::new(new.as_str()), Alias::new(table)),
    )));
    steps.extend(
        schema::indexes(ma)
            .iter()
            .flat_map(|i| schema::create_index_sql(ma, i, LITE))
            .map(Step::Sql),
    );
    Ok(steps)
}
