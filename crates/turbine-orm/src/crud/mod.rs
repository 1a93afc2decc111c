//! Creating, reading, updating and deleting single rows, with defaults, validation and
//! lifecycle hooks.
//!
//! Typed models get the methods of [`ModelExt`] (`post.insert(&db)`, `Post::get(&db, 3)`,
//! `post.edit()` …); models defined at runtime use [`Record`]. Both run the same writes: fill
//! defaults (`auto_now`, `auto_now_add`, UUID v7 keys, default values), validate
//! (`max_length` in characters, choices, not-null → [`Error::Validation`](crate::Error::Validation)),
//! run the database's observers ([`Db::hooks`]) around the statement, and read back what the
//! database assigned (identity keys, database defaults) with `RETURNING`. Typed models also run
//! their own `before_save` / `after_save` / `before_delete` / `after_delete` hooks, outermost.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> turbine_orm::Result<()> {
//! use turbine_orm::crud::Record;
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
//! use turbine_orm::testing::TestDb;
//! use turbine_orm::{Error, Value};
//!
//! let note = ModelMeta::new("app", "Note")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("title", FieldType::String { max_length: 5 }))
//!     .field(FieldMeta::new("created_at", FieldType::DateTime).auto_now_add());
//! let db = TestDb::sqlite().await?;
//! db.create_tables(std::slice::from_ref(&note)).await?;
//!
//! let mut row = Record::new(&note);
//! row.set("title", "hello")?;
//! row.insert(&db).await?;
//! assert_eq!(row.key()?, &Value::BigInt(Some(1)));
//! assert!(!turbine_orm::value::is_null(row.get("created_at").unwrap()));
//!
//! row.set("title", "too long")?;
//! assert!(matches!(row.save(&db).await, Err(Error::Validation { field, .. }) if field == "title"));
//! db.close().await;
//! # Ok(()) }
//! ```

mod bulk;
mod cache;
mod prepare;
mod record;
mod typed;
mod write;

use std::future::Future;

pub use prepare::{check_value, fill_defaults};
pub use record::Record;
pub use typed::Edit;

use crate::db::Db;
use crate::error::Result;
use crate::model::{Column, ManyToMany, Model};
use crate::query::{Field, ForeignKeyField, ManyToManyManager, Q, QuerySet};
use crate::value::{FieldValue, Value};

/// CRUD and queries on every [`Model`]: import it (or the prelude) and call
/// `Post::objects()`, `post.insert(&db)`…
pub trait ModelExt: Model {
    /// A query over every row (`Post::objects().filter(…)`).
    fn objects() -> QuerySet<Self> {
        QuerySet::new()
    }

    /// The row with this primary key, or [`Error::NotFound`](crate::Error::NotFound).
    fn get(db: &Db, key: Self::Key) -> impl Future<Output = Result<Self>> + Send {
        typed::get::<Self>(db, key.to_value())
    }

    /// Inserts the model: `before_save`, defaults, validation, observers, `INSERT … RETURNING`
    /// (the key and database defaults are written back into the model), `after_save`. An
    /// identity key that is 0 lets the database assign it.
    fn insert(&mut self, db: &Db) -> impl Future<Output = Result<()>> + Send {
        typed::insert(self, db)
    }

    /// Inserts many models in as few statements as the parameter limits allow, running each
    /// one's hooks; returns them with their keys.
    fn insert_many(db: &Db, models: Vec<Self>) -> impl Future<Output = Result<Vec<Self>>> + Send {
        typed::insert_many(db, models)
    }

    /// Updates every column by the primary key (`auto_now` fields refreshed);
    /// [`Error::NotFound`](crate::Error::NotFound) when the row is gone.
    fn save(&mut self, db: &Db) -> impl Future<Output = Result<()>> + Send {
        typed::save(self, db, None)
    }

    /// Updates only these columns (and `auto_now` ones).
    fn save_only(
        &mut self,
        db: &Db,
        fields: impl IntoIterator<Item = Field<Self>>,
    ) -> impl Future<Output = Result<()>> + Send {
        let names: Vec<&'static str> = fields.into_iter().map(|f| f.name()).collect();
        async move {
            let positions = prepare::column_fields(Self::meta())
                .enumerate()
                .filter(|(_, f)| names.contains(&f.name.as_str()))
                .map(|(i, _)| i)
                .collect::<Vec<_>>();
            typed::save(self, db, Some(&positions)).await
        }
    }

    /// [`save_only`](Self::save_only) with fields named at runtime (what the API battery's
    /// partial updates send); an unknown name is an [`Error::Query`](crate::Error::Query).
    fn save_fields(&mut self, db: &Db, fields: &[&str]) -> impl Future<Output = Result<()>> + Send {
        let positions = fields
            .iter()
            .map(|name| {
                prepare::column_fields(Self::meta())
                    .position(|f| f.name == *name)
                    .ok_or_else(|| {
                        crate::Error::Query(format!("{} has no field `{name}`", Self::LABEL))
                    })
            })
            .collect::<Result<Vec<_>>>();
        async move { typed::save(self, db, Some(&positions?)).await }
    }

    /// Updates `fields` of every model, each row with its own values, in one statement:
    /// `UPDATE … SET f = CASE WHEN id = ? THEN ? … END WHERE id IN (…)` (Django's
    /// `bulk_update`). Returns how many rows the database updated: rows whose key no longer
    /// exists are not counted, and no statement runs for no models.
    ///
    /// `auto_now` fields are refreshed with one timestamp, written back into the models, and
    /// the values are validated as [`save`](Self::save) does; a field that does not exist,
    /// has no column (many-to-many) or is the primary key is an
    /// [`Error::Query`](crate::Error::Query). Like [`QuerySet::update`], it runs neither the
    /// models' `before_save` / `after_save` nor the database's observers. More than 1,000
    /// models, or more values than the backend binds in one statement, are split into several
    /// statements in one transaction. When a
    /// key appears twice, the first model's values are written. Concurrent bulk updates of
    /// overlapping rows should pass them sorted by key, so that they lock rows in one order.
    fn bulk_update(
        db: &Db,
        models: &mut [Self],
        fields: impl IntoIterator<Item = Field<Self>>,
    ) -> impl Future<Output = Result<u64>> + Send {
        let names: Vec<&'static str> = fields.into_iter().map(|f| f.name()).collect();
        async move { typed::bulk_update(db, models, &names).await }
    }

    /// An edit that saves only the fields changed through it:
    /// `let mut e = post.edit(); e.title = "…".into(); e.save(&db).await?`.
    fn edit(&mut self) -> Edit<'_, Self> {
        Edit::new(self)
    }

    /// Deletes the row: refuses with [`Error::Protected`](crate::Error::Protected) when
    /// protected rows point at it, then `before_delete`, observers, `DELETE` (the database
    /// cascades / sets null / restricts), `after_delete`.
    fn delete(&self, db: &Db) -> impl Future<Output = Result<()>> + Send {
        typed::delete(self, db)
    }

    /// Reloads the model from the database (loaded relations are dropped).
    fn refresh(&mut self, db: &Db) -> impl Future<Output = Result<()>> + Send {
        async move {
            *self = typed::get::<Self>(db, self.key().to_value()).await?;
            Ok(())
        }
    }

    /// The row matching `q`, or a new one from `create` inserted in a savepoint; a unique
    /// violation (a concurrent create) reads the row instead. `true` when created.
    fn get_or_create(
        db: &Db,
        q: Q<Self>,
        create: impl FnOnce() -> Self + Send,
    ) -> impl Future<Output = Result<(Self, bool)>> + Send {
        typed::get_or_create(db, q, create)
    }

    /// In a transaction: the row matching `q` (locked on Postgres) changed by `update` and
    /// saved (changed fields only), or a new one from `create`. `true` when created.
    fn update_or_create(
        db: &Db,
        q: Q<Self>,
        update: impl FnOnce(&mut Self) + Send,
        create: impl FnOnce() -> Self + Send,
    ) -> impl Future<Output = Result<(Self, bool)>> + Send {
        typed::update_or_create(db, q, update, create)
    }

    /// The rows of `C` whose foreign key `fk` points at this row (the reverse accessor,
    /// `user.related(Post::AUTHOR)`).
    fn related<C: Model, F: ForeignKeyField<Target = Self>>(
        &self,
        fk: Column<C, F>,
    ) -> QuerySet<C> {
        QuerySet::related_to(self, fk)
    }

    /// The manager of a many-to-many field of this row (`post.m2m(Post::TAGS).add(…)`).
    fn m2m<T: Model>(&self, field: Column<Self, ManyToMany<T>>) -> ManyToManyManager<Self, T> {
        ManyToManyManager::new(self, field)
    }

    /// Rows from hand-written SQL with bound values (`?` placeholders), mapped by column name.
    fn raw(
        db: &Db,
        sql: &str,
        values: impl IntoIterator<Item = Value>,
    ) -> impl Future<Output = Result<Vec<Self>>> + Send {
        let values: Vec<Value> = values.into_iter().collect();
        let sql = sql.to_owned();
        async move { QuerySet::<Self>::raw(db, &sql, values).await }
    }
}

impl<M: Model> ModelExt for M {}
