//! Replaying operations on a [`State`]: what each one changes in the models, checked (a
//! missing model or field, a name already taken, an index still using a removed field are
//! errors naming them).

use super::State;
use super::operation::Operation;
use crate::error::{Error, Result};
use crate::meta::{CheckMeta, IndexKind, IndexMeta};

impl Operation {
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
                kind,
            } => add_index(state, model, name, fields, false, *kind),
            AddUnique {
                model,
                name,
                fields,
            } => add_index(state, model, name, fields, true, IndexKind::BTree),
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
    kind: IndexKind,
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
        kind,
    });
    Ok(())
}

pub(crate) fn find_index<'a>(state: &'a State, model: &str, name: &str) -> Result<&'a IndexMeta> {
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
