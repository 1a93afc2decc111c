//! The registry of an app's models, checked as a whole.

use std::collections::BTreeSet;

use super::{
    AutoKey, FieldDefault, FieldMeta, FieldType, IndexKind, ModelMeta, OnDelete, RelationKind,
};

/// Why models cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// Two models with one label.
    #[error("model `{0}` is registered twice")]
    DuplicateModel(String),
    /// Models whose metadata contradicts itself or the other models; one line per problem, each
    /// naming `app.Model.field`.
    #[error("invalid models:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<String>),
}

/// Collects an app's models; [`finish`](Self::finish) checks them and resolves relations.
#[derive(Debug, Default)]
pub struct ModelRegistry {
    models: Vec<ModelMeta>,
}

/// A checked set of models with resolved relations.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    models: Vec<ModelMeta>,
}

impl ModelRegistry {
    /// No models.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a model; the same label twice is an error.
    pub fn register(&mut self, model: ModelMeta) -> Result<(), MetaError> {
        let label = model.label();
        if self.models.iter().any(|m| m.label() == label) {
            return Err(MetaError::DuplicateModel(label));
        }
        self.models.push(model);
        Ok(())
    }

    /// Checks every model and every relation, and gives foreign keys the type of their target's
    /// primary key. Reports all problems at once.
    pub fn finish(mut self) -> Result<Registry, MetaError> {
        let mut problems = Vec::new();
        self.add_join_models();
        let mut tables = BTreeSet::new();
        for model in &self.models {
            if !tables.insert(model.table.clone()) {
                problems.push(format!(
                    "{}: table `{}` is used by another model",
                    model.label(),
                    model.table
                ));
            }
            check_model(model, &mut problems);
        }
        // Resolve relations against the registered models.
        let keys: Vec<(String, Option<FieldType>)> = self
            .models
            .iter()
            .map(|m| (m.label(), m.primary_key().map(|pk| pk.ty.clone())))
            .collect();
        let key_of = |label: &str| {
            keys.iter()
                .find(|(l, _)| l == label)
                .map(|(_, ty)| ty.clone())
        };
        for model in &mut self.models {
            let label = model.label();
            for field in &mut model.fields {
                let Some(rel) = &field.relation else { continue };
                match key_of(&rel.to) {
                    None => problems.push(format!(
                        "{label}.{}: relation to `{}`, which is not a registered model (labels are `app.Model`)",
                        field.name, rel.to
                    )),
                    Some(Some(ty)) if rel.kind != RelationKind::ManyToMany => field.ty = ty,
                    Some(_) => {}
                }
                if let Some(through) = &rel.through
                    && key_of(through).is_none()
                {
                    problems.push(format!(
                        "{label}.{}: `through` model `{through}` is not registered",
                        field.name
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(Registry {
                models: self.models,
            })
        } else {
            Err(MetaError::Invalid(problems))
        }
    }
}

fn check_model(model: &ModelMeta, problems: &mut Vec<String>) {
    let label = model.label();
    let mut bad = |what: String| problems.push(format!("{label}{what}"));
    let keys: Vec<_> = model.fields.iter().filter(|f| f.primary_key).collect();
    if keys.len() != 1 {
        bad(format!(
            ": needs exactly one primary key, has {}",
            keys.len()
        ));
    }
    let mut names = BTreeSet::new();
    let mut columns = BTreeSet::new();
    for f in &model.fields {
        let at = format!(".{}", f.name);
        if f.name.is_empty()
            || !f
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            bad(format!("{at}: a field name is letters, digits and `_`"));
        }
        if !names.insert(f.name.as_str()) {
            bad(format!("{at}: two fields have this name"));
        }
        if f.has_column() && !columns.insert(f.column.as_str()) {
            bad(format!(
                "{at}: column `{}` is used by another field",
                f.column
            ));
        }
        if f.primary_key && f.nullable {
            bad(format!("{at}: a primary key cannot be nullable"));
        }
        match (&f.ty, f.auto) {
            (FieldType::String { max_length: 0 }, _) => {
                bad(format!("{at}: max_length must be at least 1"))
            }
            (FieldType::Decimal { precision, scale }, _)
                if *precision == 0 || scale > precision =>
            {
                bad(format!(
                    "{at}: decimal needs 1 ≤ precision and scale ≤ precision"
                ))
            }
            (ty, Some(AutoKey::Identity)) if !matches!(ty, FieldType::I32 | FieldType::I64) => {
                bad(format!("{at}: an identity key must be i32 or i64"))
            }
            (ty, Some(AutoKey::UuidV7)) if *ty != FieldType::Uuid => {
                bad(format!("{at}: a UUID v7 key must be a uuid"))
            }
            _ => {}
        }
        if !f.choices.is_empty() {
            let mut values = BTreeSet::new();
            if f.choices.iter().any(|c| !values.insert(c.value.as_str())) {
                bad(format!("{at}: choices repeat a value"));
            }
            if let Some(FieldDefault::Value(serde_json::Value::String(d))) = &f.default
                && !values.contains(d.as_str())
            {
                bad(format!("{at}: default `{d}` is not one of the choices"));
            }
        }
        if matches!(
            f.default,
            Some(FieldDefault::NowOnInsert | FieldDefault::NowOnSave)
        ) && !matches!(f.ty, FieldType::DateTime | FieldType::Date)
        {
            bad(format!(
                "{at}: auto_now / auto_now_add need a date or datetime field"
            ));
        }
        if let Some(rel) = &f.relation {
            if rel.on_delete == OnDelete::SetNull
                && !f.nullable
                && rel.kind != RelationKind::ManyToMany
            {
                bad(format!("{at}: on_delete = set_null needs a nullable field"));
            }
            if rel.kind == RelationKind::ManyToMany && f.primary_key {
                bad(format!(
                    "{at}: a many-to-many field cannot be the primary key"
                ));
            }
        }
    }
    for index in &model.indexes {
        for field in &index.fields {
            match model.field_named(field) {
                Some(f) if f.has_column() => {
                    let text = matches!(f.ty, FieldType::String { .. } | FieldType::Text);
                    if index.kind == IndexKind::Trigram && !text {
                        bad(format!(
                            ": trigram index `{}` names `{field}`, which is not a text field",
                            index.name
                        ));
                    }
                }
                _ => bad(format!(
                    ": index `{}` names `{field}`, which is not a column field",
                    index.name
                )),
            }
        }
        if index.kind == IndexKind::Trigram && index.unique {
            bad(format!(
                ": index `{}` is a trigram index, which cannot be unique",
                index.name
            ));
        }
    }
    for o in &model.ordering {
        if model.field_named(&o.field).is_none_or(|f| !f.has_column()) {
            bad(format!(
                ": ordering names `{}`, which is not a column field",
                o.field
            ));
        }
    }
}

impl ModelRegistry {
    /// For each many-to-many field without an explicit `through` model, adds the join model
    /// `app.<Model>_<field>` (table `<table>_<field>`: `id`, a foreign key to each side, unique
    /// together) and points the field at it, so queries and migrations treat it like any model.
    fn add_join_models(&mut self) {
        let mut joins = Vec::new();
        for model in &mut self.models {
            let (app, name, table, label) = (
                model.app.clone(),
                model.name.clone(),
                model.table.clone(),
                model.label(),
            );
            for field in &mut model.fields {
                let Some(rel) = &mut field.relation else {
                    continue;
                };
                if rel.kind != RelationKind::ManyToMany || rel.through.is_some() {
                    continue;
                }
                let join = join_model(&app, &name, &table, &label, &field.name, &rel.to);
                rel.through = Some(join.label());
                joins.push(join);
            }
        }
        self.models.extend(joins);
    }
}

/// The automatic join model of a many-to-many field.
pub(crate) fn join_model(
    app: &str,
    model: &str,
    table: &str,
    label: &str,
    field: &str,
    to: &str,
) -> ModelMeta {
    let target = to.rsplit('.').next().unwrap_or(to).to_lowercase();
    let source = model.to_lowercase();
    // A self-referencing many-to-many names its sides from_/to_.
    let (from_name, to_name) = if source == target {
        (format!("from_{source}"), format!("to_{target}"))
    } else {
        (source, target)
    };
    ModelMeta::new(app, format!("{model}_{field}"))
        .table(format!("{table}_{field}"))
        .field(FieldMeta::auto_id())
        .field(FieldMeta::foreign_key(
            from_name.as_str(),
            label,
            OnDelete::Cascade,
        ))
        .field(FieldMeta::foreign_key(
            to_name.as_str(),
            to,
            OnDelete::Cascade,
        ))
        .unique_together(&[from_name.as_str(), to_name.as_str()])
        .verbose_names(
            format!("{model}-{field} link"),
            format!("{model}-{field} links"),
        )
}

impl Registry {
    /// A model by label (`app.Model`).
    pub fn get(&self, label: &str) -> Option<&ModelMeta> {
        self.models.iter().find(|m| m.label() == label)
    }

    /// Every model, in registration order.
    pub fn models(&self) -> &[ModelMeta] {
        &self.models
    }

    /// The relations pointing at `label`: `(model holding the field, field)`, for reverse
    /// accessors and delete cascades.
    pub fn related(&self, label: &str) -> Vec<(&ModelMeta, &super::FieldMeta)> {
        self.models
            .iter()
            .flat_map(|m| m.fields.iter().map(move |f| (m, f)))
            .filter(|(_, f)| f.relation.as_ref().is_some_and(|r| r.to == label))
            .collect()
    }
}
