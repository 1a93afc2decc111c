//! Migration operations: backend-neutral changes to the models, each able to update the
//! [`State`], render its SQL for a backend, and say how to undo itself.

use serde::{Deserialize, Serialize};

use super::State;
use super::compact;
use super::sql::{self, Step};
use crate::backend::Dialect;
use crate::error::Result;
use crate::meta::{FieldMeta, IndexKind, ModelMeta};

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
        /// How it is built (left out of the file for a B-tree).
        #[serde(default, skip_serializing_if = "IndexKind::is_btree")]
        kind: IndexKind,
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
                kind,
            } => {
                let kind = if kind.is_btree() {
                    "index"
                } else {
                    "trigram index"
                };
                format!("Create {kind} {name} on {model} ({})", fields.join(", "))
            }
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
