//! The state migrations replay to: the models as the database holds them (Django's
//! `ProjectState`), built only from migration operations, never from Rust types.

use crate::error::{Error, Result};
use crate::meta::{FieldMeta, ModelMeta, Registry, RelationKind};

/// The models a sequence of migrations produces, in the order they were created.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    models: Vec<ModelMeta>,
}

impl State {
    /// No models: the state before the first migration.
    pub fn new() -> Self {
        Self::default()
    }

    /// The state a registry describes (every model, as registered). Useful to compare a replayed
    /// state with the models in tests.
    pub fn from_registry(registry: &Registry) -> Self {
        Self {
            models: registry.models().to_vec(),
        }
    }

    /// Every model.
    pub fn models(&self) -> &[ModelMeta] {
        &self.models
    }

    /// A model by label (`app.Model`).
    pub fn get(&self, label: &str) -> Option<&ModelMeta> {
        self.models.iter().find(|m| m.label() == label)
    }

    /// A model by label, or an error naming it.
    pub fn model(&self, label: &str) -> Result<&ModelMeta> {
        self.get(label).ok_or_else(|| {
            Error::Migration(format!("model `{label}` does not exist at this point"))
        })
    }

    /// A field of a model, or an error naming it.
    pub fn field(&self, label: &str, field: &str) -> Result<&FieldMeta> {
        self.model(label)?.field_named(field).ok_or_else(|| {
            Error::Migration(format!(
                "field `{label}.{field}` does not exist at this point"
            ))
        })
    }

    pub(crate) fn model_mut(&mut self, label: &str) -> Result<&mut ModelMeta> {
        self.models
            .iter_mut()
            .find(|m| m.label() == label)
            .ok_or_else(|| {
                Error::Migration(format!("model `{label}` does not exist at this point"))
            })
    }

    pub(crate) fn field_mut(&mut self, label: &str, field: &str) -> Result<&mut FieldMeta> {
        self.model_mut(label)?
            .fields
            .iter_mut()
            .find(|f| f.name == field)
            .ok_or_else(|| {
                Error::Migration(format!(
                    "field `{label}.{field}` does not exist at this point"
                ))
            })
    }

    pub(crate) fn insert(&mut self, model: ModelMeta) -> Result<()> {
        if self.get(&model.label()).is_some() {
            return Err(Error::Migration(format!(
                "model `{}` already exists",
                model.label()
            )));
        }
        if let Some(other) = self.models.iter().find(|m| m.table == model.table) {
            return Err(Error::Migration(format!(
                "table `{}` of `{}` is already used by `{}`",
                model.table,
                model.label(),
                other.label()
            )));
        }
        self.models.push(model);
        Ok(())
    }

    pub(crate) fn remove(&mut self, label: &str) -> Result<ModelMeta> {
        let at = self
            .models
            .iter()
            .position(|m| m.label() == label)
            .ok_or_else(|| Error::Migration(format!("model `{label}` does not exist")))?;
        Ok(self.models.remove(at))
    }

    /// The foreign keys (and one-to-ones) of other models that point at `label`:
    /// `(model, field)`. A table cannot be dropped while they exist.
    pub fn referencing(&self, label: &str) -> Vec<(&ModelMeta, &FieldMeta)> {
        self.models
            .iter()
            .filter(|m| m.label() != label)
            .flat_map(|m| m.fields.iter().map(move |f| (m, f)))
            .filter(|(_, f)| {
                f.relation
                    .as_ref()
                    .is_some_and(|r| r.kind != RelationKind::ManyToMany && r.to == label)
            })
            .collect()
    }
}
