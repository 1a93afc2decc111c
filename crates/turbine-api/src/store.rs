//! How a resource (and the admin) writes rows and asks object policies: through the untyped
//! ORM for models known by metadata only, through the typed model (its hooks, its policy) for
//! derived ones.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use turbine_api::store::{Store, Untyped};
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
//! use turbine_orm::{Db, Value};
//!
//! let tag = ModelMeta::new("blog", "Tag")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("name", FieldType::String { max_length: 20 }));
//! let db = Db::connect("sqlite::memory:").await.unwrap();
//! db.batch("CREATE TABLE blog_tag (id INTEGER PRIMARY KEY, name TEXT NOT NULL)").await.unwrap();
//! let stored = Untyped
//!     .insert(&db, &tag, vec![Value::BigInt(None), Value::String(Some("rust".into()))])
//!     .await
//!     .unwrap();
//! assert_eq!(stored[0], Value::BigInt(Some(1)));
//! # }
//! ```

use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use turbine_auth::{Action, CurrentUser};
use turbine_orm::meta::ModelMeta;
use turbine_orm::{Db, Model, ModelExt, Record, Row, Value};

/// Writes and object policies for one model.
pub trait Store: Send + Sync + 'static {
    /// Inserts the row; returns its values as stored (key and defaults filled).
    fn insert<'a>(
        &'a self,
        db: &'a Db,
        meta: &'a ModelMeta,
        values: Vec<Value>,
    ) -> BoxFuture<'a, turbine_orm::Result<Vec<Value>>>;

    /// Updates `fields` of the row (every column when `None`); returns its values as stored.
    fn update<'a>(
        &'a self,
        db: &'a Db,
        meta: &'a ModelMeta,
        values: Vec<Value>,
        fields: Option<Vec<String>>,
    ) -> BoxFuture<'a, turbine_orm::Result<Vec<Value>>>;

    /// Deletes the row.
    fn delete<'a>(
        &'a self,
        db: &'a Db,
        meta: &'a ModelMeta,
        values: Vec<Value>,
    ) -> BoxFuture<'a, turbine_orm::Result<()>>;

    /// The model's policy answer for this row, `None` without a policy.
    fn policy(
        &self,
        user: &CurrentUser,
        action: Action,
        meta: &ModelMeta,
        values: &[Value],
    ) -> Option<bool>;
}

/// Models known by their metadata: [`Record`].
pub struct Untyped;

impl Store for Untyped {
    fn insert<'a>(
        &'a self,
        db: &'a Db,
        meta: &'a ModelMeta,
        values: Vec<Value>,
    ) -> BoxFuture<'a, turbine_orm::Result<Vec<Value>>> {
        Box::pin(async move {
            let mut record = Record::from_values(meta, values)?;
            record.insert(db).await?;
            Ok(record.into_values())
        })
    }

    fn update<'a>(
        &'a self,
        db: &'a Db,
        meta: &'a ModelMeta,
        values: Vec<Value>,
        fields: Option<Vec<String>>,
    ) -> BoxFuture<'a, turbine_orm::Result<Vec<Value>>> {
        Box::pin(async move {
            let mut record = Record::from_values(meta, values)?;
            match fields {
                Some(fields) => {
                    let names: Vec<&str> = fields.iter().map(String::as_str).collect();
                    record.save_fields(db, &names).await?;
                }
                None => record.save(db).await?,
            }
            Ok(record.into_values())
        })
    }

    fn delete<'a>(
        &'a self,
        db: &'a Db,
        meta: &'a ModelMeta,
        values: Vec<Value>,
    ) -> BoxFuture<'a, turbine_orm::Result<()>> {
        Box::pin(async move { Record::from_values(meta, values)?.delete(db).await })
    }

    fn policy(&self, _: &CurrentUser, _: Action, _: &ModelMeta, _: &[Value]) -> Option<bool> {
        None
    }
}

/// Derived models: the typed ORM, so `before_save`/`after_save`… and policies for `M` run.
pub struct Typed<M>(PhantomData<fn() -> M>);

impl<M> Default for Typed<M> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

/// The model `M` from values in column order.
fn decode<M: Model>(meta: &ModelMeta, values: Vec<Value>) -> turbine_orm::Result<M> {
    let columns: Arc<[String]> = meta
        .fields
        .iter()
        .filter(|f| f.has_column())
        .map(|f| f.column.clone())
        .collect();
    M::from_fields(&mut Row::new(columns, values).into_fields())
}

impl<M: Model> Store for Typed<M> {
    fn insert<'a>(
        &'a self,
        db: &'a Db,
        meta: &'a ModelMeta,
        values: Vec<Value>,
    ) -> BoxFuture<'a, turbine_orm::Result<Vec<Value>>> {
        Box::pin(async move {
            let mut values = values;
            turbine_orm::crud::fill_defaults(meta, &mut values)?;
            let mut model: M = decode(meta, values)?;
            model.insert(db).await?;
            Ok(model.to_values())
        })
    }

    fn update<'a>(
        &'a self,
        db: &'a Db,
        meta: &'a ModelMeta,
        values: Vec<Value>,
        fields: Option<Vec<String>>,
    ) -> BoxFuture<'a, turbine_orm::Result<Vec<Value>>> {
        Box::pin(async move {
            let mut model: M = decode(meta, values)?;
            match fields {
                Some(fields) => {
                    let names: Vec<&str> = fields.iter().map(String::as_str).collect();
                    model.save_fields(db, &names).await?;
                }
                None => model.save(db).await?,
            }
            Ok(model.to_values())
        })
    }

    fn delete<'a>(
        &'a self,
        db: &'a Db,
        meta: &'a ModelMeta,
        values: Vec<Value>,
    ) -> BoxFuture<'a, turbine_orm::Result<()>> {
        Box::pin(async move { decode::<M>(meta, values)?.delete(db).await })
    }

    fn policy(
        &self,
        user: &CurrentUser,
        action: Action,
        meta: &ModelMeta,
        values: &[Value],
    ) -> Option<bool> {
        let policies = user.auth().policies();
        if !policies.has::<M>() {
            return None;
        }
        match decode::<M>(meta, values.to_vec()) {
            Ok(model) => policies.check(user, action, &model),
            Err(e) => {
                tracing::error!(error = %e, model = M::LABEL, "cannot decode a row for its policy");
                Some(false)
            }
        }
    }
}
