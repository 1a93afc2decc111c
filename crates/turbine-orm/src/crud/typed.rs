//! CRUD of typed models: the model's own hooks around the shared writes of [`write`](super::write),
//! and what the ORM or the database filled in written back into the model.

use std::any::TypeId;
use std::ops::{Deref, DerefMut};

use super::prepare::column_fields;
use super::{bulk, write};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::hooks::ChangeKind;
use crate::model::Model;
use crate::query::{Q, QuerySet};
use crate::value::{FieldValue, Row, Value};

/// Writes the values at `positions` back into the model: the key with `set_key`, others with
/// `set_field`, or by rebuilding the model from `values` when it does not implement
/// `set_field`.
pub(crate) fn write_back<M: Model>(
    model: &mut M,
    values: Vec<Value>,
    positions: &[usize],
) -> Result<()> {
    if positions.is_empty() {
        return Ok(());
    }
    let fields: Vec<_> = column_fields(M::meta()).collect();
    for &i in positions {
        let (Some(f), Some(value)) = (fields.get(i).copied(), values.get(i).cloned()) else {
            continue;
        };
        if f.primary_key {
            let key = M::Key::from_value(value).map_err(|message| Error::Decode {
                field: format!("{}.{}", M::LABEL, f.name),
                message,
            })?;
            model.set_key(key);
        } else if model.set_field(&f.name, value).is_err() {
            let names = fields.iter().map(|f| f.column.clone()).collect();
            *model = M::from_fields(&mut Row::new(names, values).into_fields())?;
            return Ok(());
        }
    }
    Ok(())
}

fn model_id<M: Model>() -> Option<TypeId> {
    Some(TypeId::of::<M>())
}

pub(crate) async fn insert<M: Model>(model: &mut M, db: &Db) -> Result<()> {
    model.before_save(db, ChangeKind::Created).await?;
    let mut values = model.to_values();
    let set = write::insert(db, M::meta(), model_id::<M>(), &mut values).await?;
    write_back(model, values, &set)?;
    model.after_save(db, ChangeKind::Created).await
}

pub(crate) async fn insert_many<M: Model>(db: &Db, mut models: Vec<M>) -> Result<Vec<M>> {
    for m in &mut models {
        m.before_save(db, ChangeKind::Created).await?;
    }
    let mut rows: Vec<Vec<Value>> = models.iter().map(Model::to_values).collect();
    let set = write::insert_many(db, M::meta(), &mut rows).await?;
    for ((m, values), set) in models.iter_mut().zip(rows).zip(set) {
        write_back(m, values, &set)?;
    }
    for m in &models {
        m.after_save(db, ChangeKind::Created).await?;
    }
    Ok(models)
}

/// Saves by key: every column, or the positions `only` (plus `auto_now` fields).
pub(crate) async fn save<M: Model>(model: &mut M, db: &Db, only: Option<&[usize]>) -> Result<()> {
    model.before_save(db, ChangeKind::Updated).await?;
    let mut values = model.to_values();
    let set = write::update(db, M::meta(), model_id::<M>(), &mut values, only).await?;
    write_back(model, values, &set)?;
    model.after_save(db, ChangeKind::Updated).await
}

/// Updates `names` of every model by key in one statement per batch; `auto_now` values are
/// written back. No hooks (see [`ModelExt::bulk_update`](super::ModelExt::bulk_update)).
pub(crate) async fn bulk_update<M: Model>(
    db: &Db,
    models: &mut [M],
    names: &[&str],
) -> Result<u64> {
    let plan = bulk::Plan::new(M::meta(), names)?;
    let mut rows: Vec<Vec<Value>> = models.iter().map(Model::to_values).collect();
    let updated = bulk::bulk_update(db, M::meta(), model_id::<M>(), &plan, &mut rows).await?;
    for (m, values) in models.iter_mut().zip(rows) {
        write_back(m, values, &plan.auto_now)?;
    }
    Ok(updated)
}

pub(crate) async fn delete<M: Model>(model: &M, db: &Db) -> Result<()> {
    let key = model.key().to_value();
    write::check_delete(db, M::meta(), &key).await?;
    model.before_delete(db).await?;
    write::delete(db, M::meta(), model_id::<M>(), key).await?;
    model.after_delete(db).await
}

pub(crate) async fn get<M: Model>(db: &Db, key: Value) -> Result<M> {
    let stmt = write::get_statement(db, M::meta(), model_id::<M>(), key)?;
    let mut found = None;
    db.fetch_each(&stmt, &mut |fields| {
        if found.is_none() {
            found = Some(M::from_fields(fields)?);
        }
        Ok(())
    })
    .await?;
    found.ok_or_else(|| Error::NotFound {
        model: M::meta().label(),
    })
}

pub(crate) async fn get_or_create<M: Model>(
    db: &Db,
    q: Q<M>,
    create: impl FnOnce() -> M + Send,
) -> Result<(M, bool)> {
    let qs = QuerySet::<M>::new().filter(q);
    match qs.get(db).await {
        Ok(m) => return Ok((m, false)),
        Err(Error::NotFound { .. }) => {}
        Err(e) => return Err(e),
    }
    match insert_in_savepoint(db, create()).await? {
        Some(m) => Ok((m, true)),
        None => Ok((qs.get(db).await?, false)),
    }
}

/// Inserts in a savepoint (a transaction outside one): a unique violation — another request
/// created the row meanwhile — leaves the surrounding transaction usable and gives `None`.
async fn insert_in_savepoint<M: Model>(db: &Db, model: M) -> Result<Option<M>> {
    let created = db
        .transaction(|tx| async move {
            let mut model = model;
            insert(&mut model, &tx).await?;
            Ok::<M, Error>(model)
        })
        .await;
    match created {
        Ok(m) => Ok(Some(m)),
        Err(Error::UniqueViolation { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) async fn update_or_create<M: Model>(
    db: &Db,
    q: Q<M>,
    update: impl FnOnce(&mut M) + Send,
    create: impl FnOnce() -> M + Send,
) -> Result<(M, bool)> {
    db.transaction(|tx| async move {
        let qs = QuerySet::<M>::new().filter(q).for_update();
        let existing = match qs.get(&tx).await {
            Ok(m) => Some(m),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let mut found = match existing {
            Some(m) => m,
            None => match insert_in_savepoint(&tx, create()).await? {
                Some(m) => return Ok((m, true)),
                None => qs.get(&tx).await?,
            },
        };
        let mut edit = Edit::new(&mut found);
        update(&mut edit);
        edit.save(&tx).await?;
        Ok((found, false))
    })
    .await
}

/// The positions whose value differs between two value lists.
fn changed_positions(before: &[Value], after: &[Value]) -> Vec<usize> {
    after
        .iter()
        .zip(before)
        .enumerate()
        .filter(|(_, (now, then))| now != then)
        .map(|(i, _)| i)
        .collect()
}

/// An edit of a model that saves only what changed: it remembers the values when it starts,
/// and [`save`](Self::save) UPDATEs only the columns whose value differs (plus `auto_now`
/// fields), so concurrent changes to other columns survive. Derefs to the model.
pub struct Edit<'a, M: Model> {
    model: &'a mut M,
    snapshot: Vec<Value>,
}

impl<M: Model> std::fmt::Debug for Edit<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Edit")
            .field("model", &M::LABEL)
            .field("changed", &self.changed())
            .finish()
    }
}

impl<'a, M: Model> Edit<'a, M> {
    /// Starts an edit of `model`.
    pub fn new(model: &'a mut M) -> Self {
        let snapshot = model.to_values();
        Self { model, snapshot }
    }

    /// The names of the fields changed so far.
    pub fn changed(&self) -> Vec<&'static str> {
        let fields: Vec<_> = column_fields(M::meta()).collect();
        changed_positions(&self.snapshot, &self.model.to_values())
            .into_iter()
            .filter_map(|i| fields.get(i).map(|f| f.name.as_str()))
            .collect()
    }

    /// Runs `before_save`, then UPDATEs the changed columns (nothing when nothing changed),
    /// then `after_save`.
    pub async fn save(self, db: &Db) -> Result<()> {
        let model = self.model;
        model.before_save(db, ChangeKind::Updated).await?;
        let mut values = model.to_values();
        let changed = changed_positions(&self.snapshot, &values);
        if changed.is_empty() {
            return Ok(());
        }
        let set = write::update(db, M::meta(), None, &mut values, Some(&changed)).await?;
        write_back(model, values, &set)?;
        model.after_save(db, ChangeKind::Updated).await
    }
}

impl<M: Model> Deref for Edit<'_, M> {
    type Target = M;
    fn deref(&self) -> &M {
        self.model
    }
}

impl<M: Model> DerefMut for Edit<'_, M> {
    fn deref_mut(&mut self) -> &mut M {
        self.model
    }
}
