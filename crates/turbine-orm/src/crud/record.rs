//! [`Record`]: one row of a model known only by its metadata (a model defined at runtime), with
//! the same CRUD as typed models — defaults, validation, observers — since both run the same
//! code.

use std::collections::HashSet;

use super::prepare::column_fields;
use super::{bulk, write};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::meta::ModelMeta;
use crate::query::convert::{coerce, json_to_value, value_to_json};
use crate::value::{Row, Value, null_of};

/// One row of a model, untyped: its metadata and its values in column order.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'m> {
    meta: &'m ModelMeta,
    values: Vec<Value>,
}

impl<'m> Record<'m> {
    /// A new row: every field NULL, for [`set`](Self::set) to fill and
    /// [`insert`](Self::insert) to complete with defaults.
    pub fn new(meta: &'m ModelMeta) -> Self {
        let values = column_fields(meta).map(|f| null_of(&f.ty)).collect();
        Self { meta, values }
    }

    /// A row from values in column order.
    pub fn from_values(meta: &'m ModelMeta, values: Vec<Value>) -> Result<Self> {
        let n = column_fields(meta).count();
        if values.len() != n {
            return Err(Error::Query(format!(
                "{} has {n} columns, got {} values",
                meta.label(),
                values.len()
            )));
        }
        let values = column_fields(meta)
            .zip(values)
            .map(|(f, v)| coerce(v, &f.ty))
            .collect();
        Ok(Self { meta, values })
    }

    /// A row from a query result, matching columns by name.
    pub fn from_row(meta: &'m ModelMeta, row: &Row) -> Result<Self> {
        let values = column_fields(meta)
            .map(|f| {
                row.get(&f.column)
                    .cloned()
                    .map(|v| coerce(v, &f.ty))
                    .ok_or_else(|| Error::Decode {
                        field: format!("{}.{}", meta.table, f.column),
                        message: "no such column in the result".into(),
                    })
            })
            .collect::<Result<_>>()?;
        Ok(Self { meta, values })
    }

    /// A row from a JSON object by field name (a request body): missing fields stay NULL (for
    /// defaults), unknown fields and values of the wrong type are [`Error::Validation`].
    pub fn from_json(
        meta: &'m ModelMeta,
        json: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self> {
        let mut record = Self::new(meta);
        let names: HashSet<&str> = column_fields(meta).map(|f| f.name.as_str()).collect();
        for (name, value) in json {
            if !names.contains(name.as_str()) {
                return Err(Error::Validation {
                    field: name.clone(),
                    message: format!("{} has no field `{name}`", meta.label()),
                });
            }
            let i = record.position(name)?;
            let f = column_fields(meta).nth(i).expect("position is in range");
            record.values[i] =
                json_to_value(value, &f.ty).map_err(|message| Error::Validation {
                    field: name.clone(),
                    message,
                })?;
        }
        Ok(record)
    }

    /// The row as a JSON object by field name.
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        column_fields(self.meta)
            .zip(&self.values)
            .map(|(f, v)| (f.name.clone(), value_to_json(v)))
            .collect()
    }

    /// The model.
    pub fn meta(&self) -> &'m ModelMeta {
        self.meta
    }

    /// The values, in column order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The values, owned.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    fn position(&self, field: &str) -> Result<usize> {
        column_fields(self.meta)
            .position(|f| f.name == field)
            .ok_or_else(|| Error::Query(format!("{} has no field `{field}`", self.meta.label())))
    }

    /// A field's value.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.position(field).ok().map(|i| &self.values[i])
    }

    /// Sets a field (the value is converted to the field's type where it can be).
    pub fn set(&mut self, field: &str, value: impl Into<Value>) -> Result<()> {
        let i = self.position(field)?;
        let f = column_fields(self.meta)
            .nth(i)
            .expect("position is in range");
        self.values[i] = coerce(value.into(), &f.ty);
        Ok(())
    }

    /// The primary key's value.
    pub fn key(&self) -> Result<&Value> {
        let i = column_fields(self.meta)
            .position(|f| f.primary_key)
            .ok_or_else(|| Error::Query(format!("{} has no primary key", self.meta.label())))?;
        Ok(&self.values[i])
    }

    /// Inserts the row (defaults filled, validated, observers run); the key and database
    /// defaults are read back into it.
    pub async fn insert(&mut self, db: &Db) -> Result<()> {
        write::insert(db, self.meta, None, &mut self.values)
            .await
            .map(drop)
    }

    /// Updates every column of the row by its key (`auto_now` fields refreshed).
    pub async fn save(&mut self, db: &Db) -> Result<()> {
        write::update(db, self.meta, None, &mut self.values, None)
            .await
            .map(drop)
    }

    /// Updates only these fields (and `auto_now` ones) by the row's key.
    pub async fn save_fields(&mut self, db: &Db, fields: &[&str]) -> Result<()> {
        let only = fields
            .iter()
            .map(|f| self.position(f))
            .collect::<Result<Vec<_>>>()?;
        write::update(db, self.meta, None, &mut self.values, Some(&only))
            .await
            .map(drop)
    }

    /// Deletes the row by its key ([`Error::Protected`] when protected rows point at it).
    pub async fn delete(&self, db: &Db) -> Result<()> {
        let key = self.key()?.clone();
        write::check_delete(db, self.meta, &key).await?;
        write::delete(db, self.meta, None, key).await
    }

    /// The row of `meta` with this key ([`Error::NotFound`] without one).
    pub async fn fetch(db: &Db, meta: &'m ModelMeta, key: impl Into<Value>) -> Result<Self> {
        let row = write::get(db, meta, None, key.into()).await?;
        Self::from_values(meta, row.into_values())
    }

    /// Reloads the row from the database.
    pub async fn refresh(&mut self, db: &Db) -> Result<()> {
        *self = Self::fetch(db, self.meta, self.key()?.clone()).await?;
        Ok(())
    }

    /// Updates `fields` of every row by key, each with its own values, in one statement per
    /// parameter-limit batch (as [`ModelExt::bulk_update`](super::ModelExt::bulk_update): no
    /// observers, `auto_now` refreshed); returns how many rows were updated.
    pub async fn bulk_update(db: &Db, records: &mut [Record<'m>], fields: &[&str]) -> Result<u64> {
        let Some(meta) = records.first().map(|r| r.meta) else {
            return Ok(0);
        };
        same_model(meta, records, "bulk_update")?;
        let plan = bulk::Plan::new(meta, fields)?;
        let mut rows: Vec<Vec<Value>> = records
            .iter_mut()
            .map(|r| std::mem::take(&mut r.values))
            .collect();
        let result = bulk::bulk_update(db, meta, None, &plan, &mut rows).await;
        for (r, values) in records.iter_mut().zip(rows) {
            r.values = values;
        }
        result
    }

    /// Inserts many rows with as few statements as possible; keys are read back into each.
    pub async fn insert_many(db: &Db, records: &mut [Record<'m>]) -> Result<()> {
        let Some(meta) = records.first().map(|r| r.meta) else {
            return Ok(());
        };
        same_model(meta, records, "insert_many")?;
        let mut rows: Vec<Vec<Value>> = records
            .iter_mut()
            .map(|r| std::mem::take(&mut r.values))
            .collect();
        let result = write::insert_many(db, meta, &mut rows).await;
        for (r, values) in records.iter_mut().zip(rows) {
            r.values = values;
        }
        result.map(drop)
    }
}

/// Refuses rows of more than one model in one call of `what`.
fn same_model(meta: &ModelMeta, records: &[Record<'_>], what: &str) -> Result<()> {
    if records
        .iter()
        .all(|r| std::ptr::eq(r.meta, meta) || r.meta == meta)
    {
        Ok(())
    } else {
        Err(Error::Query(format!("{what} takes rows of one model")))
    }
}
