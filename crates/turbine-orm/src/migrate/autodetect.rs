//! The autodetector: the operations that take the state the migrations replay to to the models
//! the app registers, in an order the database accepts (targets of foreign keys first, removals
//! of what points at a model before the model).
//!
//! Only what the database sees counts: labels, help text, choices, ORM-side defaults, ordering
//! and verbose names make no migration.

use std::collections::BTreeSet;

use super::operation::Operation;
use super::rename::{Questioner, RenameCandidate};
use super::sql::{fill_value, is_fk};
use super::state::State;
use crate::error::{Error, Result};
use crate::meta::{FieldMeta, ModelMeta, Registry};

/// The model as migrations record it: what the database needs, nothing for people.
pub fn normalize(model: &ModelMeta) -> ModelMeta {
    let mut m = ModelMeta::new(model.app.clone(), model.name.clone());
    m.table.clone_from(&model.table);
    m.fields = model.fields.iter().map(normalize_field).collect();
    m.indexes.clone_from(&model.indexes);
    m.checks.clone_from(&model.checks);
    m
}

fn normalize_field(field: &FieldMeta) -> FieldMeta {
    let mut f = field.clone();
    f.label = FieldMeta::new(f.name.clone(), f.ty.clone()).label;
    f.help_text = None;
    f.choices.clear();
    f.read_only = false;
    if let Some(rel) = &mut f.relation {
        rel.related_name = None;
    }
    f
}

/// Same definition in the database (the ORM-side default aside).
fn same_field(a: &FieldMeta, b: &FieldMeta) -> bool {
    let (mut a, mut b) = (normalize_field(a), normalize_field(b));
    a.default = None;
    b.default = None;
    a == b
}

/// Same definition under another name (and column).
fn same_shape(a: &FieldMeta, b: &FieldMeta, ignore_through: bool) -> bool {
    let strip = |f: &FieldMeta| {
        let mut f = normalize_field(f);
        f.name.clear();
        f.column.clear();
        f.label.clear();
        f.default = None;
        if let (true, Some(rel)) = (ignore_through, &mut f.relation) {
            rel.through = None;
        }
        f
    };
    strip(a) == strip(b)
}

fn same_model_shape(old: &ModelMeta, new: &ModelMeta) -> bool {
    old.app == new.app
        && old.fields.len() == new.fields.len()
        && old
            .fields
            .iter()
            .zip(&new.fields)
            .all(|(a, b)| same_shape(a, b, true))
}

/// Diffs `state` against `registry` and returns the operations that bring the state to it;
/// likely renames go to `questioner`. A new non-null field without a default on an existing
/// table is an error naming the field.
pub fn detect(
    state: &State,
    registry: &Registry,
    questioner: &mut dyn Questioner,
) -> Result<Vec<Operation>> {
    let target: Vec<ModelMeta> = registry.models().iter().map(normalize).collect();
    let mut diff = Diff {
        work: state.clone(),
        ops: Vec::new(),
        created: BTreeSet::new(),
    };
    diff.rename_models(&target, questioner)?;
    diff.alter_tables(&target)?;
    diff.rename_fields(&target, questioner)?;
    diff.remove_constraints(&target)?;
    diff.create_models(&target)?;
    diff.add_fields(&target)?;
    diff.alter_fields(&target)?;
    diff.remove_fields(&target)?;
    diff.delete_models(&target)?;
    diff.add_constraints(&target)?;
    Ok(diff.ops)
}

struct Diff {
    work: State,
    ops: Vec<Operation>,
    created: BTreeSet<String>,
}

impl Diff {
    fn push(&mut self, op: Operation) -> Result<()> {
        op.apply_to_state(&mut self.work)?;
        self.ops.push(op);
        Ok(())
    }

    /// Target models that exist in the working state: `(target, current)`.
    fn kept<'t>(&self, target: &'t [ModelMeta]) -> Vec<(&'t ModelMeta, ModelMeta)> {
        target
            .iter()
            .filter_map(|t| self.work.get(&t.label()).map(|w| (t, w.clone())))
            .collect()
    }

    fn rename_models(&mut self, target: &[ModelMeta], q: &mut dyn Questioner) -> Result<()> {
        let labels: BTreeSet<String> = target.iter().map(ModelMeta::label).collect();
        let removed: Vec<ModelMeta> = self
            .work
            .models()
            .iter()
            .filter(|m| !labels.contains(&m.label()))
            .cloned()
            .collect();
        let mut used = BTreeSet::new();
        for old in removed {
            // Compare with relations already renamed (the join model of a renamed model).
            let old = self.work.model(&old.label())?.clone();
            for new in target {
                let to = new.label();
                if used.contains(&to)
                    || self.work.get(&to).is_some()
                    || !same_model_shape(&old, new)
                {
                    continue;
                }
                let candidate = RenameCandidate::Model {
                    from: old.label(),
                    to: to.clone(),
                };
                if q.ask_rename(&candidate)? {
                    used.insert(to.clone());
                    self.push(Operation::RenameModel {
                        from: old.label(),
                        to,
                        table: new.table.clone(),
                    })?;
                    break;
                }
            }
        }
        Ok(())
    }

    fn alter_tables(&mut self, target: &[ModelMeta]) -> Result<()> {
        for (t, w) in self.kept(target) {
            if t.table != w.table {
                self.push(Operation::AlterModelTable {
                    model: t.label(),
                    table: t.table.clone(),
                })?;
            }
        }
        Ok(())
    }

    fn rename_fields(&mut self, target: &[ModelMeta], q: &mut dyn Questioner) -> Result<()> {
        for (t, w) in self.kept(target) {
            let mut used = BTreeSet::new();
            let removed = w.fields.iter().filter(|f| t.field_named(&f.name).is_none());
            for old in removed {
                let added = t
                    .fields
                    .iter()
                    .filter(|f| w.field_named(&f.name).is_none() && !used.contains(&f.name));
                for new in added {
                    if !same_shape(old, new, false) {
                        continue;
                    }
                    let candidate = RenameCandidate::Field {
                        model: t.label(),
                        from: old.name.clone(),
                        to: new.name.clone(),
                    };
                    if q.ask_rename(&candidate)? {
                        used.insert(new.name.clone());
                        self.push(Operation::RenameField {
                            model: t.label(),
                            from: old.name.clone(),
                            to: new.name.clone(),
                            column: new.column.clone(),
                        })?;
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    fn remove_constraints(&mut self, target: &[ModelMeta]) -> Result<()> {
        for (t, w) in self.kept(target) {
            for op in constraint_ops(&t.label(), &w, t, false) {
                self.push(op)?;
            }
        }
        Ok(())
    }

    fn create_models(&mut self, target: &[ModelMeta]) -> Result<()> {
        let mut pending: Vec<ModelMeta> = target
            .iter()
            .filter(|t| self.work.get(&t.label()).is_none())
            .cloned()
            .collect();
        while !pending.is_empty() {
            let exists = |work: &State, m: &ModelMeta, f: &FieldMeta| match &f.relation {
                Some(rel) if is_fk(f) => rel.to == m.label() || work.get(&rel.to).is_some(),
                _ => true,
            };
            // The first model whose foreign keys all point at existing models; in a cycle, the
            // first one, its dangling foreign keys added once their targets exist.
            let at = pending
                .iter()
                .position(|m| m.fields.iter().all(|f| exists(&self.work, m, f)))
                .unwrap_or(0);
            let mut model = pending.remove(at);
            let deferred: Vec<String> = model
                .fields
                .iter()
                .filter(|f| !exists(&self.work, &model, f))
                .map(|f| f.name.clone())
                .collect();
            model.fields.retain(|f| !deferred.contains(&f.name));
            model
                .indexes
                .retain(|i| i.fields.iter().all(|f| !deferred.contains(f)));
            self.created.insert(model.label());
            self.push(Operation::CreateModel { model })?;
        }
        Ok(())
    }

    fn add_fields(&mut self, target: &[ModelMeta]) -> Result<()> {
        let mut problems = Vec::new();
        for (t, w) in self.kept(target) {
            for f in t.fields.iter().filter(|f| w.field_named(&f.name).is_none()) {
                let needs_value = !self.created.contains(&t.label())
                    && f.has_column()
                    && !f.nullable
                    && f.db_default.is_none()
                    && fill_value(t, f)?.is_none();
                if needs_value {
                    problems.push(format!(
                        "{}.{}: a new non-null field on a table that may hold rows needs a value for them: \
                         give it a default (`.default_value(…)`) or a database default (`.db_default(\"…\")`), \
                         or make it nullable",
                        t.label(),
                        f.name
                    ));
                    continue;
                }
                self.push(Operation::AddField {
                    model: t.label(),
                    field: f.clone(),
                })?;
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Migration(problems.join("\n")))
        }
    }

    fn alter_fields(&mut self, target: &[ModelMeta]) -> Result<()> {
        for (t, w) in self.kept(target) {
            for f in &t.fields {
                if let Some(old) = w.field_named(&f.name)
                    && !same_field(old, f)
                {
                    self.push(Operation::AlterField {
                        model: t.label(),
                        field: f.clone(),
                    })?;
                }
            }
        }
        Ok(())
    }

    fn remove_fields(&mut self, target: &[ModelMeta]) -> Result<()> {
        for (t, w) in self.kept(target) {
            for f in w.fields.iter().filter(|f| t.field_named(&f.name).is_none()) {
                self.push(Operation::RemoveField {
                    model: t.label(),
                    field: f.name.clone(),
                })?;
            }
        }
        Ok(())
    }

    fn delete_models(&mut self, target: &[ModelMeta]) -> Result<()> {
        let labels: BTreeSet<String> = target.iter().map(ModelMeta::label).collect();
        let mut pending: Vec<String> = self
            .work
            .models()
            .iter()
            .map(ModelMeta::label)
            .filter(|l| !labels.contains(l))
            .collect();
        while !pending.is_empty() {
            // Delete what points at a model before the model.
            let at = pending
                .iter()
                .position(|l| self.work.referencing(l).is_empty())
                .unwrap_or(0);
            let label = pending.remove(at);
            let refs: Vec<(String, String)> = self
                .work
                .referencing(&label)
                .iter()
                .map(|(m, f)| (m.label(), f.name.clone()))
                .collect();
            for (model, field) in refs {
                self.push(Operation::RemoveField { model, field })?;
            }
            self.push(Operation::DeleteModel { model: label })?;
        }
        Ok(())
    }

    fn add_constraints(&mut self, target: &[ModelMeta]) -> Result<()> {
        for (t, w) in self.kept(target) {
            for op in constraint_ops(&t.label(), t, &w, true) {
                self.push(op)?;
            }
        }
        Ok(())
    }
}

/// The indexes, unique-together and check constraints of `has` that `lacks` does not have (same
/// name and definition), as operations adding them (`add`) or removing them.
fn constraint_ops(model: &str, has: &ModelMeta, lacks: &ModelMeta, add: bool) -> Vec<Operation> {
    let model = model.to_owned();
    let mut ops = Vec::new();
    for index in has.indexes.iter().filter(|i| !lacks.indexes.contains(i)) {
        let (name, fields, kind) = (index.name.clone(), index.fields.clone(), index.kind);
        let model = model.clone();
        ops.push(match (add, index.unique) {
            (true, true) => Operation::AddUnique {
                model,
                name,
                fields,
            },
            (true, false) => Operation::AddIndex {
                model,
                name,
                fields,
                kind,
            },
            (false, true) => Operation::RemoveUnique { model, name },
            (false, false) => Operation::RemoveIndex { model, name },
        });
    }
    for check in has.checks.iter().filter(|c| !lacks.checks.contains(c)) {
        let (model, name) = (model.clone(), check.name.clone());
        ops.push(if add {
            Operation::AddCheck {
                model,
                name,
                sql: check.sql.clone(),
            }
        } else {
            Operation::RemoveCheck { model, name }
        });
    }
    ops
}
