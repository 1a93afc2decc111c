//! Undoing operations: the reverse of each (destructive ones reverse from the state before
//! them, which still holds what they removed), and which ones can lose data.

use super::State;
use super::operation::{Operation, RunSql as Raw};
use super::replay::find_index;
use crate::error::{Error, Result};
use crate::meta::{FieldDefault, FieldMeta, FieldType};

impl Operation {
    /// The operations that undo this one, given the state before it; an error when it cannot
    /// be undone (raw SQL without a reverse).
    pub fn reverse(&self, before: &State) -> Result<Vec<Operation>> {
        use Operation::*;
        let op = match self {
            CreateModel { model } => DeleteModel {
                model: model.label(),
            },
            DeleteModel { model } => CreateModel {
                model: before.model(model)?.clone(),
            },
            RenameModel { from, to, .. } => RenameModel {
                from: to.clone(),
                to: from.clone(),
                table: before.model(from)?.table.clone(),
            },
            AlterModelTable { model, .. } => AlterModelTable {
                model: model.clone(),
                table: before.model(model)?.table.clone(),
            },
            AddField { model, field } => RemoveField {
                model: model.clone(),
                field: field.name.clone(),
            },
            RemoveField { model, field } => AddField {
                model: model.clone(),
                field: before.field(model, field)?.clone(),
            },
            AlterField { model, field } => AlterField {
                model: model.clone(),
                field: before.field(model, &field.name)?.clone(),
            },
            RenameField {
                model, from, to, ..
            } => RenameField {
                model: model.clone(),
                from: to.clone(),
                to: from.clone(),
                column: before.field(model, from)?.column.clone(),
            },
            AddIndex { model, name, .. } => RemoveIndex {
                model: model.clone(),
                name: name.clone(),
            },
            AddUnique { model, name, .. } => RemoveUnique {
                model: model.clone(),
                name: name.clone(),
            },
            RemoveIndex { model, name } | RemoveUnique { model, name } => {
                let index = find_index(before, model, name)?;
                let (model, name, fields) = (model.clone(), name.clone(), index.fields.clone());
                let kind = index.kind;
                if index.unique {
                    AddUnique {
                        model,
                        name,
                        fields,
                    }
                } else {
                    AddIndex {
                        model,
                        name,
                        fields,
                        kind,
                    }
                }
            }
            AddCheck { model, name, .. } => RemoveCheck {
                model: model.clone(),
                name: name.clone(),
            },
            RemoveCheck { model, name } => {
                let check = before
                    .model(model)?
                    .checks
                    .iter()
                    .find(|c| &c.name == name)
                    .ok_or_else(|| {
                        Error::Migration(format!("check `{name}` does not exist on `{model}`"))
                    })?;
                AddCheck {
                    model: model.clone(),
                    name: name.clone(),
                    sql: check.sql.clone(),
                }
            }
            RunSql(run) => {
                let missing =
                    |fwd: &Option<String>, rev: &Option<String>| fwd.is_some() && rev.is_none();
                if missing(&run.sqlite, &run.reverse_sqlite)
                    || missing(&run.postgres, &run.reverse_postgres)
                {
                    return Err(Error::Migration(format!(
                        "`{}` cannot be undone: it has no reverse SQL",
                        self.describe()
                    )));
                }
                RunSql(Raw {
                    sqlite: run.reverse_sqlite.clone(),
                    postgres: run.reverse_postgres.clone(),
                    reverse_sqlite: run.sqlite.clone(),
                    reverse_postgres: run.postgres.clone(),
                    destructive: run.destructive,
                })
            }
        };
        Ok(vec![op])
    }

    /// `true` when applying it can lose data: deleting a model or a column, narrowing a type,
    /// forbidding NULL without a default to fill existing NULLs, raw SQL marked destructive.
    pub fn is_destructive(&self, before: &State) -> bool {
        match self {
            Operation::DeleteModel { .. } => true,
            Operation::RemoveField { model, field } => {
                before.field(model, field).map_or(true, |f| f.has_column())
            }
            Operation::AlterField { model, field } => match before.field(model, &field.name) {
                Ok(old) => alter_is_destructive(old, field),
                Err(_) => true,
            },
            Operation::RunSql(run) => run.destructive,
            _ => false,
        }
    }
}

/// `true` when `to` can hold every value of `from` unchanged.
pub(crate) fn widens(from: &FieldType, to: &FieldType) -> bool {
    use FieldType::*;
    match (from, to) {
        (a, b) if a == b => true,
        (I16, I32 | I64) | (I32, I64) | (F32, F64) => true,
        (String { max_length: a }, String { max_length: b }) => b >= a,
        (String { .. }, Text) => true,
        (
            Decimal {
                precision: p1,
                scale: s1,
            },
            Decimal {
                precision: p2,
                scale: s2,
            },
        ) => s2 >= s1 && (p2 - s2) >= (p1 - s1),
        _ => false,
    }
}

fn alter_is_destructive(old: &FieldMeta, new: &FieldMeta) -> bool {
    if old.has_column() != new.has_column() {
        return true;
    }
    let fills = matches!(new.default, Some(FieldDefault::Value(ref v)) if !v.is_null())
        || new.db_default.is_some()
        || matches!(
            new.default,
            Some(FieldDefault::NowOnInsert | FieldDefault::NowOnSave)
        );
    !widens(&old.ty, &new.ty) || (old.nullable && !new.nullable && !fills)
}
