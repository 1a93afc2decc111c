//! [`QuerySet<M>`]: the typed query — columns checked by the compiler, rows decoded as `M` in
//! column order (no lookups by name per row), related models loaded eagerly.
//!
//! ```
//! use turbine_orm::backend::Dialect;
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
//! use turbine_orm::model::{Column, Model};
//! use turbine_orm::query::QuerySet;
//! use turbine_orm::value::{Fields, Value};
//!
//! struct Note { id: i64, views: i64 }
//! impl Note {
//!     const ID: Column<Note, i64> = Column::new("id");
//!     const VIEWS: Column<Note, i64> = Column::new("views");
//! }
//! impl Model for Note {
//!     type Key = i64;
//!     const LABEL: &'static str = "app.Note";
//!     fn meta() -> &'static ModelMeta {
//!         static META: std::sync::LazyLock<ModelMeta> = std::sync::LazyLock::new(|| {
//!             ModelMeta::new("app", "Note")
//!                 .field(FieldMeta::auto_id())
//!                 .field(FieldMeta::new("views", FieldType::I64))
//!         });
//!         &META
//!     }
//!     fn from_fields(f: &mut Fields) -> turbine_orm::Result<Self> {
//!         Ok(Note { id: f.next()?, views: f.next()? })
//!     }
//!     fn to_values(&self) -> Vec<Value> { vec![self.id.into(), self.views.into()] }
//!     fn key(&self) -> i64 { self.id }
//!     fn set_key(&mut self, key: i64) { self.id = key }
//! }
//!
//! let qs = QuerySet::<Note>::new()
//!     .filter(Note::VIEWS.gte(10) | Note::ID.is_in([1, 2]))
//!     .order_by([Note::VIEWS.desc()])
//!     .limit(5);
//! let stmt = qs.to_statement(Dialect::Postgres).unwrap();
//! assert_eq!(
//!     stmt.sql,
//!     r#"SELECT "id", "views" FROM "app_note" WHERE "views" >= $1 OR "id" IN ($2, $3) ORDER BY "views" DESC LIMIT $4"#
//! );
//! ```

use std::sync::Arc;

use super::aggregate::Agg;
use super::bulk::Update;
use super::eager::{ForeignKeyField, Prefetch, PrefetchField, RelatedFn, related_loader};
use super::expr::IntoExpr;
use super::filter::{Filter, Q};
use super::grouped::Grouped;
use super::order::{Field, Order, OrderBy};
use super::paginate::{Cursor, Page, split_page};
use super::select::Query;
use crate::backend::{Dialect, Params, Statement};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::model::{Column, Model};
use crate::value::{FieldValue, Fields, Row, Value};

/// A typed query over model `M`. Cheap to clone; builder methods consume and return it.
#[must_use = "a query set does nothing until a terminal (all, get, count…) runs it"]
pub struct QuerySet<M: Model> {
    query: Query<'static>,
    related: Vec<Arc<RelatedFn<M>>>,
    prefetch: Vec<Arc<dyn Prefetch<M>>>,
    /// A builder error, reported by the terminal (builders do not fail).
    error: Option<String>,
}

impl<M: Model> Clone for QuerySet<M> {
    fn clone(&self) -> Self {
        Self {
            query: self.query.clone(),
            related: self.related.clone(),
            prefetch: self.prefetch.clone(),
            error: self.error.clone(),
        }
    }
}

impl<M: Model> std::fmt::Debug for QuerySet<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuerySet")
            .field("model", &M::LABEL)
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl<M: Model> Default for QuerySet<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Model> QuerySet<M> {
    /// Every row of `M`, in its default ordering.
    pub fn new() -> Self {
        Self {
            query: Query::new(M::meta()),
            related: Vec::new(),
            prefetch: Vec::new(),
            error: None,
        }
    }

    /// The underlying untyped query.
    pub fn query(&self) -> &Query<'static> {
        &self.query
    }

    fn map_query(mut self, f: impl FnOnce(Query<'static>) -> Query<'static>) -> Self {
        self.query = f(self.query);
        self
    }

    /// Keeps the rows matching `q`.
    pub fn filter(self, q: Q<M>) -> Self {
        self.map_query(|query| query.filter(q.into_filter()))
    }

    /// Drops the rows matching `q`.
    pub fn exclude(self, q: Q<M>) -> Self {
        self.map_query(|query| query.filter(!q.into_filter()))
    }

    /// Keeps the rows matching an untyped filter (fields checked when the query runs), e.g.
    /// one parsed from a query string.
    pub fn filter_by(self, filter: Filter) -> Self {
        self.map_query(|query| query.filter(filter))
    }

    /// Sorts by these keys (replacing the model's default ordering).
    pub fn order_by(self, keys: impl IntoIterator<Item = Order<M>>) -> Self {
        self.map_query(|query| query.order_by(keys.into_iter().map(Order::into_order_by)))
    }

    /// Sorts by untyped keys (fields checked when the query runs), e.g. from `?ordering=`.
    pub fn order_by_keys(self, keys: impl IntoIterator<Item = OrderBy>) -> Self {
        self.map_query(|query| query.order_by(keys))
    }

    /// At most `n` rows.
    pub fn limit(self, n: u64) -> Self {
        self.map_query(|query| query.limit(n))
    }

    /// Skips the first `n` rows.
    pub fn offset(self, n: u64) -> Self {
        self.map_query(|query| query.offset(n))
    }

    /// Drops duplicate rows.
    pub fn distinct(self) -> Self {
        self.map_query(Query::distinct)
    }

    /// Locks the rows until the transaction ends (`FOR UPDATE` on Postgres).
    pub fn for_update(self) -> Self {
        self.map_query(Query::for_update)
    }

    /// Continues after a keyset cursor (see [`page`](Self::page)).
    pub fn after(self, cursor: &Cursor) -> Self {
        self.map_query(|query| query.after(cursor))
    }

    /// Loads the model a foreign key points at in the same query (a join), so
    /// `ForeignKey::get()` returns it: one query whatever the number of rows.
    pub fn select_related<F: ForeignKeyField>(mut self, fk: Column<M, F>) -> Self {
        match self
            .query
            .clone()
            .select_related(fk.name(), F::Target::meta())
        {
            Ok(query) => {
                self.query = query;
                self.related.push(related_loader::<M, F::Target>(fk.name()));
            }
            Err(e) => self.error = Some(e.to_string()),
        }
        self
    }

    /// Loads related models with one more query after the main one: a many-to-many field
    /// fills `ManyToMany::get()` (through its join model), a foreign key fills
    /// `ForeignKey::get()` (targets must be `Clone`, since several rows may share one).
    pub fn prefetch<F: PrefetchField<M>>(mut self, field: Column<M, F>) -> Self {
        self.prefetch.push(F::prefetcher(field.name()));
        self
    }

    fn check(&self) -> Result<()> {
        match &self.error {
            Some(e) => Err(Error::Query(e.clone())),
            None => Ok(()),
        }
    }

    /// The SQL and values of the main query.
    pub fn to_statement(&self, dialect: Dialect) -> Result<Statement> {
        self.check()?;
        self.query.to_statement(dialect)
    }

    fn decode(&self, fields: &mut Fields<'_>) -> Result<M> {
        let mut model = M::from_fields(fields)?;
        for load in &self.related {
            load(&mut model, fields)?;
        }
        Ok(model)
    }

    /// Runs `stmt` and decodes each row as it comes, from the driver's row where the backend
    /// can.
    async fn fetch_models(&self, db: &Db, stmt: &Statement) -> Result<Vec<M>> {
        let mut out = Vec::new();
        db.fetch_each(stmt, &mut |fields| {
            out.push(self.decode(fields)?);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    async fn run(&self, db: &Db, query: &Query<'static>) -> Result<Vec<M>> {
        self.check()?;
        let mut items = self
            .fetch_models(db, &query.to_statement(db.dialect())?)
            .await?;
        self.load_prefetched(db, &mut items).await?;
        Ok(items)
    }

    async fn load_prefetched(&self, db: &Db, items: &mut [M]) -> Result<()> {
        for p in &self.prefetch {
            p.load(db, items).await?;
        }
        Ok(())
    }

    /// Every matching row.
    pub async fn all(&self, db: &Db) -> Result<Vec<M>> {
        self.run(db, &self.query).await
    }

    /// The first matching row, if any.
    pub async fn first(&self, db: &Db) -> Result<Option<M>> {
        let query = self.query.clone().limit(1);
        Ok(self.run(db, &query).await?.into_iter().next())
    }

    /// The one matching row: [`Error::NotFound`] without one, [`Error::MultipleFound`] with
    /// more.
    pub async fn get(&self, db: &Db) -> Result<M> {
        let query = match self.query.limit {
            Some(n) if n < 2 => self.query.clone(),
            _ => self.query.clone().limit(2),
        };
        let mut items = self.run(db, &query).await?;
        match items.len() {
            0 => Err(Error::NotFound {
                model: M::LABEL.into(),
            }),
            1 => Ok(items.remove(0)),
            _ => Err(Error::MultipleFound {
                model: M::LABEL.into(),
            }),
        }
    }

    /// How many rows match.
    pub async fn count(&self, db: &Db) -> Result<u64> {
        self.check()?;
        self.query.count(db).await
    }

    /// `true` when a row matches.
    pub async fn exists(&self, db: &Db) -> Result<bool> {
        self.check()?;
        self.query.exists(db).await
    }

    /// Only these columns of the matching rows, as rows named by field.
    pub async fn values(
        &self,
        db: &Db,
        fields: impl IntoIterator<Item = Field<M>>,
    ) -> Result<Vec<Row>> {
        self.check()?;
        let names: Vec<&str> = fields.into_iter().map(|f| f.name()).collect();
        self.query.values(db, &names).await
    }

    /// One column of the matching rows, decoded (Django's `values_list(flat=True)`).
    pub async fn values_of<T: FieldValue>(&self, db: &Db, column: Column<M, T>) -> Result<Vec<T>> {
        let rows = self.values(db, [column.into()]).await?;
        rows.into_iter()
            .map(|row| row.into_fields().next::<T>())
            .collect()
    }

    /// Aggregates over the matching rows, in one row named by the aggregates' aliases.
    pub async fn aggregate(
        &self,
        db: &Db,
        aggregates: impl IntoIterator<Item = Agg<M>>,
    ) -> Result<Row> {
        self.check()?;
        let aggregates: Vec<_> = aggregates.into_iter().map(Agg::into_aggregate).collect();
        self.query.aggregate(db, &aggregates).await
    }

    /// Groups the matching rows by these columns (`group_by([Post::AUTHOR.into()])`).
    pub fn group_by(self, fields: impl IntoIterator<Item = Field<M>>) -> GroupBy<M> {
        GroupBy {
            inner: self.query.group_by(fields.into_iter().map(|f| f.name())),
            _model: std::marker::PhantomData,
        }
    }

    /// One page of `size` rows after `cursor` (the first page without one), in keyset order:
    /// the ordering plus the primary key. Stable while rows are inserted between pages.
    pub async fn page(&self, db: &Db, size: u64, cursor: Option<&Cursor>) -> Result<Page<M>> {
        self.check()?;
        let keys = self.query.keyset()?;
        let positions = self.query.keyset_positions(&keys)?;
        let query = self.query.page_query(size, cursor);
        let mut items = self
            .fetch_models(db, &query.to_statement(db.dialect())?)
            .await?;
        let next_cursor = split_page(&mut items, size, &positions, M::to_values)?;
        self.load_prefetched(db, &mut items).await?;
        Ok(Page { items, next_cursor })
    }

    /// A bulk update of the matching rows: `.update().set(Post::VIEWS, Post::VIEWS + 1)`.
    pub fn update(self) -> UpdateSet<M> {
        UpdateSet {
            inner: self.query.update(),
            _model: std::marker::PhantomData,
        }
    }

    /// Deletes the matching rows (one statement; model hooks do not run) and returns how many;
    /// [`Error::Protected`] when protected rows point at any of them.
    pub async fn delete(&self, db: &Db) -> Result<u64> {
        self.check()?;
        self.query.delete(db).await
    }

    /// Rows of `M` from hand-written SQL with bound values (`?` placeholders on every
    /// backend), mapped to `M` by column name.
    pub async fn raw(
        db: &Db,
        sql: &str,
        values: impl IntoIterator<Item = Value>,
    ) -> Result<Vec<M>> {
        let sql = super::raw::placeholders(sql, db.dialect());
        let stmt = Statement::new(sql.into_owned(), values.into_iter().collect::<Params>());
        let rows = db.fetch(&stmt).await?;
        let Some(first) = rows.first() else {
            return Ok(Vec::new());
        };
        let meta = M::meta();
        let order = super::raw::column_order(meta, first)?;
        let names = super::raw::column_names(meta);
        rows.into_iter()
            .map(|row| {
                let row = match &order {
                    Some(order) => super::raw::reorder(row, order, &names),
                    None => row,
                };
                M::from_fields(&mut row.into_fields())
            })
            .collect()
    }

    /// The rows of `M` whose foreign key `fk` points at `parent` (the reverse accessor:
    /// `QuerySet::<Post>::related_to(&user, Post::AUTHOR)`).
    pub fn related_to<F: ForeignKeyField>(parent: &F::Target, fk: Column<M, F>) -> Self {
        Self::new().filter_by(Filter::eq(fk.name(), parent.key().to_value()))
    }
}

/// A typed grouped query (see [`QuerySet::group_by`]).
#[derive(Debug, Clone)]
#[must_use = "a grouped query does nothing until fetched"]
pub struct GroupBy<M> {
    inner: Grouped<'static>,
    _model: std::marker::PhantomData<fn() -> M>,
}

impl<M> GroupBy<M> {
    /// Aggregates per group, named by their aliases.
    pub fn annotate(mut self, aggregates: impl IntoIterator<Item = Agg<M>>) -> Self {
        self.inner = self.inner.annotate(aggregates);
        self
    }

    /// Keeps the groups matching `q` (e.g. `Post::VIEWS.sum().gt(100)`).
    pub fn having(mut self, q: Q<M>) -> Self {
        self.inner = self.inner.having(q);
        self
    }

    /// Sorts groups by group fields or annotation aliases.
    pub fn order_by(mut self, keys: impl IntoIterator<Item = OrderBy>) -> Self {
        self.inner = self.inner.order_by(keys);
        self
    }

    /// The statement.
    pub fn to_statement(&self, dialect: Dialect) -> Result<Statement> {
        self.inner.to_statement(dialect)
    }

    /// The groups, one row each: the group fields by name, then the aggregates by alias.
    pub async fn fetch(&self, db: &Db) -> Result<Vec<Row>> {
        self.inner.fetch(db).await
    }
}

/// A typed bulk update (see [`QuerySet::update`]).
#[derive(Debug, Clone)]
#[must_use = "an update does nothing until executed"]
pub struct UpdateSet<M> {
    inner: Update<'static>,
    _model: std::marker::PhantomData<fn() -> M>,
}

impl<M> UpdateSet<M> {
    /// Sets a column to a value, another column, or arithmetic on columns.
    pub fn set<T>(mut self, column: Column<M, T>, value: impl IntoExpr<M, T>) -> Self {
        self.inner = self.inner.set(column.name(), value.into_expr());
        self
    }

    /// The statement.
    pub fn to_statement(&self, dialect: Dialect) -> Result<Statement> {
        self.inner.to_statement(dialect)
    }

    /// Runs it; returns how many rows changed.
    pub async fn execute(&self, db: &Db) -> Result<u64> {
        self.inner.execute(db).await
    }
}
