//! Migration operations: backend-neutral changes to the models, each able to update the
//! [`State`], render its SQL for a backend, and say how to undo itself.

use serde::{Deserialize, Serialize};

use super::State;
use super::compact;
use super::sql::{self, Step};
use crate::backend::Dialect;
use crate::error::{Error, Result};
use crate::meta::{CheckMeta, FieldDefault, FieldMeta, FieldType, IndexMeta, ModelMeta};

/// One change to the schema. Models are named by label (`app.Model`), fields by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Operation {
    /// Creates a model's table, its foreign keys and indexes.
    CreateModel {
        /// The model, as the database will hold it.
        #[serde(with = "compact::model")]
        model: ModelMeta,
    },
    /// Drops a model's table (destructive).
    DeleteModel {
        /// The model's label.
        model: String,
    },
    /// Renames a model (and its table); relations to it follow.
    RenameModel {
        /// The old label.
        from: String,
        /// The new label (same app).
        to: String,
        /// The table after the rename.
        table: String,
    },
    /// Renames a model's table, the model keeping its name.
    AlterModelTable {
        /// The model's label.
        model: String,
        /// The new table name.
        table: String,
    },
    /// Adds a field (a column, unless it is a many-to-many); existing rows get the field's
    /// default (or `db_default`).
    AddField {
        /// The model's label.
        model: String,
        /// The new field.
        #[serde(with = "compact::field")]
        field: FieldMeta,
    },
    /// Removes a field and its column (destructive).
    RemoveField {
        /// The model's label.
        model: String,
        /// The field's name.
        field: String,
    },
    /// Changes a field's definition (type, nullability, default, unique, index, relation,
    /// column name); destructive when it narrows the type or forbids NULL without a default.
    AlterField {
        /// The model's label.
        model: String,
        /// The field as it becomes; its `name` says which field.
        #[serde(with = "compact::field")]
        field: FieldMeta,
    },
    /// Renames a field (and its column).
    RenameField {
        /// The model's label.
        model: String,
        /// The old name.
        from: String,
        /// The new name.
        to: String,
        /// The column after the rename.
        column: String,
    },
    /// Creates an index over fields.
    AddIndex {
        /// The model's label.
        model: String,
        /// The index name.
        name: String,
        /// The fields, in order.
        fields: Vec<String>,
    },
    /// Drops an index.
    RemoveIndex {
        /// The model's label.
        model: String,
        /// The index name.
        name: String,
    },
    /// Adds a unique constraint over fields together (a unique index).
    AddUnique {
        /// The model's label.
        model: String,
        /// The constraint's name.
        name: String,
        /// The fields, in order.
        fields: Vec<String>,
    },
    /// Drops a unique constraint over fields together.
    RemoveUnique {
        /// The model's label.
        model: String,
        /// The constraint's name.
        name: String,
    },
    /// Adds a check constraint.
    AddCheck {
        /// The model's label.
        model: String,
        /// The constraint's name.
        name: String,
        /// The SQL boolean expression.
        sql: String,
    },
    /// Drops a check constraint.
    RemoveCheck {
        /// The model's label.
        model: String,
        /// The constraint's name.
        name: String,
    },
    /// Raw SQL per backend, for data migrations. A backend without SQL runs nothing.
    RunSql(RunSql),
}

/// Raw SQL for [`Operation::RunSql`]: text per backend, and how to undo it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RunSql {
    /// What runs on SQLite (several statements allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqlite: Option<String>,
    /// What runs on Postgres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<String>,
    /// What undoes it on SQLite (`""`: nothing to undo). Without it the operation cannot be
    /// rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse_sqlite: Option<String>,
    /// What undoes it on Postgres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse_postgres: Option<String>,
    /// Loses data: `migrate` then needs `--allow-destructive`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub destructive: bool,
}

impl RunSql {
    /// SQL for both backends (the same text), without a reverse.
    pub fn new(sql: impl Into<String>) -> Self {
        let sql = sql.into();
        Self {
            sqlite: Some(sql.clone()),
            postgres: Some(sql),
            ..Self::default()
        }
    }

    /// SQL per backend.
    pub fn per_backend(sqlite: impl Into<String>, postgres: impl Into<String>) -> Self {
        Self {
            sqlite: Some(sqlite.into()),
            postgres: Some(postgres.into()),
            ..Self::default()
        }
    }

    /// The same reverse SQL on both backends.
    pub fn reverse(mut self, sql: impl Into<String>) -> Self {
        let sql = sql.into();
        self.reverse_sqlite = Some(sql.clone());
        self.reverse_postgres = Some(sql);
        self
    }

    /// The SQL for a backend.
    pub fn sql_for(&self, dialect: Dialect) -> Option<&str> {
        match dialect {
            Dialect::Sqlite => self.sqlite.as_deref(),
            Dialect::Postgres => self.postgres.as_deref(),
        }
    }
}

impl Operation {
    /// The model this operation changes (`None` for raw SQL).
    pub fn model_label(&self) -> Option<&str> {
        use Operation::*;
        match self {
            CreateModel { .. } | RunSql(_) => None,
            RenameModel { from, .. } => Some(from),
            DeleteModel { model }
            | AlterModelTable { model, .. }
            | AddField { model, .. }
            | RemoveField { model, .. }
            | AlterField { model, .. }
            | RenameField { model, .. }
            | AddIndex { model, .. }
            | RemoveIndex { model, .. }
            | AddUnique { model, .. }
            | RemoveUnique { model, .. }
            | AddCheck { model, .. }
            | RemoveCheck { model, .. } => Some(model),
        }
    }

    /// One line for output: `Add field slug to blog.Post`.
    pub fn describe(&self) -> String {
        use Operation::*;
        match self {
            CreateModel { model } => format!("Create model {}", model.label()),
            DeleteModel { model } => format!("Delete model {model}"),
            RenameModel { from, to, .. } => format!("Rename model {from} to {to}"),
            AlterModelTable { model, table } => format!("Rename the table of {model} to {table}"),
            AddField { model, field } => format!("Add field {} to {model}", field.name),
            RemoveField { model, field } => format!("Remove field {field} from {model}"),
            AlterField { model, field } => format!("Alter field {} on {model}", field.name),
            RenameField {
                model, from, to, ..
            } => format!("Rename field {from} on {model} to {to}"),
            AddIndex {
                model,
                name,
                fields,
            } => format!("Create index {name} on {model} ({})", fields.join(", ")),
            RemoveIndex { model, name } => format!("Remove index {name} from {model}"),
            AddUnique {
                model,
                name,
                fields,
            } => format!(
                "Create unique constraint {name} on {model} ({})",
                fields.join(", ")
            ),
            RemoveUnique { model, name } => {
                format!("Remove unique constraint {name} from {model}")
            }
            AddCheck { model, name, .. } => format!("Create check constraint {name} on {model}"),
            RemoveCheck { model, name } => format!("Remove check constraint {name} from {model}"),
            RunSql(run) => {
                let sql = run.sqlite.as_deref().or(run.postgres.as_deref());
                let first = sql
                    .and_then(|s| s.lines().map(str::trim).find(|l| !l.is_empty()))
                    .unwrap_or("(nothing)");
                let cut: String = first.chars().take(60).collect();
                let more = if cut.len() < first.len() { "…" } else { "" };
                format!("Raw SQL: {cut}{more}")
            }
        }
    }

    /// Applies the change to the state (no SQL).
    pub fn apply_to_state(&self, state: &mut State) -> Result<()> {
        use Operation::*;
        match self {
            CreateModel { model } => state.insert(model.clone()),
            DeleteModel { model } => {
                if let Some((m, f)) = state.referencing(model).first() {
                    return Err(Error::Migration(format!(
                        "cannot delete model `{model}`: `{}.{}` still refers to it",
                        m.label(),
                        f.name
                    )));
                }
                state.remove(model).map(drop)
            }
            RenameModel { from, to, table } => rename_model(state, from, to, table),
            AlterModelTable { model, table } => {
                if let Some(other) = state.models().iter().find(|m| &m.table == table) {
                    return Err(Error::Migration(format!(
                        "table `{table}` is already used by `{}`",
                        other.label()
                    )));
                }
                state.model_mut(model)?.table = table.clone();
                Ok(())
            }
            AddField { model, field } => {
                let m = state.model_mut(model)?;
                if m.field_named(&field.name).is_some() {
                    return Err(Error::Migration(format!(
                        "field `{model}.{}` already exists",
                        field.name
                    )));
                }
                m.fields.push(field.clone());
                Ok(())
            }
            RemoveField { model, field } => {
                let m = state.model_mut(model)?;
                if let Some(index) = m.indexes.iter().find(|i| i.fields.contains(field)) {
                    return Err(Error::Migration(format!(
                        "cannot remove `{model}.{field}`: index `{}` uses it (remove the index first)",
                        index.name
                    )));
                }
                let before = m.fields.len();
                m.fields.retain(|f| &f.name != field);
                m.ordering.retain(|o| &o.field != field);
                if m.fields.len() == before {
                    return Err(Error::Migration(format!(
                        "field `{model}.{field}` does not exist"
                    )));
                }
                Ok(())
            }
            AlterField { model, field } => {
                *state.field_mut(model, &field.name)? = field.clone();
                Ok(())
            }
            RenameField {
                model,
                from,
                to,
                column,
            } => {
                let m = state.model_mut(model)?;
                if m.field_named(to).is_some() {
                    return Err(Error::Migration(format!(
                        "cannot rename `{model}.{from}`: `{to}` already exists"
                    )));
                }
                for index in &mut m.indexes {
                    for f in &mut index.fields {
                        if f == from {
                            f.clone_from(to);
                        }
                    }
                }
                for o in &mut m.ordering {
                    if &o.field == from {
                        o.field.clone_from(to);
                    }
                }
                let f = state.field_mut(model, from)?;
                f.name.clone_from(to);
                f.column.clone_from(column);
                Ok(())
            }
            AddIndex {
                model,
                name,
                fields,
            } => add_index(state, model, name, fields, false),
            AddUnique {
                model,
                name,
                fields,
            } => add_index(state, model, name, fields, true),
            RemoveIndex { model, name } => remove_index(state, model, name, false).map(drop),
            RemoveUnique { model, name } => remove_index(state, model, name, true).map(drop),
            AddCheck { model, name, sql } => {
                let m = state.model_mut(model)?;
                if m.checks.iter().any(|c| &c.name == name) {
                    return Err(Error::Migration(format!(
                        "check `{name}` already exists on `{model}`"
                    )));
                }
                m.checks.push(CheckMeta {
                    name: name.clone(),
                    sql: sql.clone(),
                });
                Ok(())
            }
            RemoveCheck { model, name } => {
                let m = state.model_mut(model)?;
                let before = m.checks.len();
                m.checks.retain(|c| &c.name != name);
                if m.checks.len() == before {
                    return Err(Error::Migration(format!(
                        "check `{name}` does not exist on `{model}`"
                    )));
                }
                Ok(())
            }
            RunSql(_) => Ok(()),
        }
    }

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
                RunSql(self::RunSql {
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

    /// The SQL that applies it on `dialect`, given the state before it.
    pub fn forwards(&self, dialect: Dialect, before: &State) -> Result<Vec<Step>> {
        sql::forwards(self, dialect, before)
    }

    /// The SQL that undoes it on `dialect`, given the state before it (the state it returns to).
    pub fn backwards(&self, dialect: Dialect, before: &State) -> Result<Vec<Step>> {
        let mut state = before.clone();
        self.apply_to_state(&mut state)?;
        let mut steps = Vec::new();
        for op in self.reverse(before)? {
            steps.extend(op.forwards(dialect, &state)?);
            op.apply_to_state(&mut state)?;
        }
        Ok(steps)
    }
}

fn rename_model(state: &mut State, from: &str, to: &str, table: &str) -> Result<()> {
    let (app, name) = to
        .split_once('.')
        .ok_or_else(|| Error::Migration(format!("`{to}` is not a model label (`app.Model`)")))?;
    if from != to && state.get(to).is_some() {
        return Err(Error::Migration(format!("model `{to}` already exists")));
    }
    if let Some(other) = state
        .models()
        .iter()
        .find(|m| m.table == table && m.label() != from)
    {
        return Err(Error::Migration(format!(
            "table `{table}` is already used by `{}`",
            other.label()
        )));
    }
    let m = state.model_mut(from)?;
    m.app = app.into();
    m.name = name.into();
    m.table = table.into();
    let all: Vec<String> = state.models().iter().map(|m| m.label()).collect();
    for label in all {
        for f in &mut state.model_mut(&label)?.fields {
            if let Some(rel) = &mut f.relation {
                if rel.to == from {
                    rel.to = to.into();
                }
                if rel.through.as_deref() == Some(from) {
                    rel.through = Some(to.into());
                }
            }
        }
    }
    Ok(())
}

fn add_index(
    state: &mut State,
    model: &str,
    name: &str,
    fields: &[String],
    unique: bool,
) -> Result<()> {
    let m = state.model_mut(model)?;
    if m.indexes.iter().any(|i| i.name == name) {
        return Err(Error::Migration(format!(
            "index `{name}` already exists on `{model}`"
        )));
    }
    if let Some(missing) = fields.iter().find(|f| m.field_named(f).is_none()) {
        return Err(Error::Migration(format!(
            "index `{name}` names `{model}.{missing}`, which does not exist"
        )));
    }
    m.indexes.push(IndexMeta {
        name: name.into(),
        fields: fields.to_vec(),
        unique,
    });
    Ok(())
}

fn find_index<'a>(state: &'a State, model: &str, name: &str) -> Result<&'a IndexMeta> {
    state
        .model(model)?
        .indexes
        .iter()
        .find(|i| i.name == name)
        .ok_or_else(|| Error::Migration(format!("index `{name}` does not exist on `{model}`")))
}

fn remove_index(state: &mut State, model: &str, name: &str, unique: bool) -> Result<IndexMeta> {
    let index = find_index(state, model, name)?;
    if index.unique != unique {
        let kind = if index.unique {
            "a unique constraint (use remove_unique)"
        } else {
            "a plain index (use remove_index)"
        };
        return Err(Error::Migration(format!("`{name}` on `{model}` is {kind}")));
    }
    let m = state.model_mut(model)?;
    let at = m.indexes.iter().position(|i| i.name == name).unwrap_or(0);
    Ok(m.indexes.remove(at))
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
