//! Values and rows: what travels between Rust fields and the database.
//!
//! [`Value`] is sea-query's value type, so every statement binds parameters. A [`Row`] is one
//! result row as values, readable by position or column name, which works whether or not a Rust
//! type exists for the model. [`FieldValue`] converts a Rust field type to and from a value, and
//! says which [`FieldType`] it stores as.
//!
//! ```
//! use turbine_orm::value::{FieldValue, Value};
//! use turbine_orm::meta::FieldType;
//!
//! assert_eq!(<Option<i64>>::field_type(), FieldType::I64);
//! assert!(<Option<i64>>::NULLABLE);
//! assert_eq!(i64::from_value(Value::Int(Some(7))).unwrap(), 7);
//! assert_eq!(<Option<String>>::from_value(Value::String(None)).unwrap(), None);
//! // SQLite hands back booleans as integers and timestamps as text: conversions accept both.
//! assert!(bool::from_value(Value::BigInt(Some(1))).unwrap());
//! ```

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::meta::{Choice, FieldType};

pub use sea_query::Value;

/// `true` when the value is SQL NULL (of any type).
pub fn is_null(value: &Value) -> bool {
    match value {
        Value::Bool(v) => v.is_none(),
        Value::TinyInt(v) => v.is_none(),
        Value::SmallInt(v) => v.is_none(),
        Value::Int(v) => v.is_none(),
        Value::BigInt(v) => v.is_none(),
        Value::TinyUnsigned(v) => v.is_none(),
        Value::SmallUnsigned(v) => v.is_none(),
        Value::Unsigned(v) => v.is_none(),
        Value::BigUnsigned(v) => v.is_none(),
        Value::Float(v) => v.is_none(),
        Value::Double(v) => v.is_none(),
        Value::String(v) => v.is_none(),
        Value::Char(v) => v.is_none(),
        Value::Bytes(v) => v.is_none(),
        Value::Json(v) => v.is_none(),
        Value::ChronoDate(v) => v.is_none(),
        Value::ChronoTime(v) => v.is_none(),
        Value::ChronoDateTime(v) => v.is_none(),
        Value::ChronoDateTimeUtc(v) => v.is_none(),
        Value::ChronoDateTimeLocal(v) => v.is_none(),
        Value::ChronoDateTimeWithTimeZone(v) => v.is_none(),
        Value::Uuid(v) => v.is_none(),
        Value::Decimal(v) => v.is_none(),
        _ => false,
    }
}

/// The NULL of a field type, typed so that Postgres accepts it as a parameter.
pub fn null_of(ty: &FieldType) -> Value {
    match ty {
        FieldType::Bool => Value::Bool(None),
        FieldType::I16 => Value::SmallInt(None),
        FieldType::I32 => Value::Int(None),
        FieldType::I64 => Value::BigInt(None),
        FieldType::F32 => Value::Float(None),
        FieldType::F64 => Value::Double(None),
        FieldType::Decimal { .. } => Value::Decimal(None),
        FieldType::String { .. } | FieldType::Text => Value::String(None),
        FieldType::Bytes => Value::Bytes(None),
        FieldType::Uuid => Value::Uuid(None),
        FieldType::Date => Value::ChronoDate(None),
        FieldType::Time => Value::ChronoTime(None),
        FieldType::DateTime => Value::ChronoDateTimeUtc(None),
        FieldType::Json => Value::Json(None),
    }
}

/// The values of a row: up to 4 inline, so decoding a result does not allocate per row.
pub(crate) type Values = smallvec::SmallVec<[Value; 4]>;

/// One result row: values by position, with the column names shared by every row of a result.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Arc<[String]>,
    values: Values,
}

impl Row {
    /// A row of `values` under `columns` (same length).
    pub fn new(columns: Arc<[String]>, values: Vec<Value>) -> Self {
        Self::from_values(columns, Values::from_vec(values))
    }

    /// A row from values decoded in place (the backends' path).
    pub(crate) fn from_values(columns: Arc<[String]>, values: Values) -> Self {
        debug_assert_eq!(columns.len(), values.len());
        Self { columns, values }
    }

    /// The column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The values, in column order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// `true` for a row without columns.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The value of a column by name.
    pub fn get(&self, column: &str) -> Option<&Value> {
        let i = self.columns.iter().position(|c| c == column)?;
        self.values.get(i)
    }

    /// Decodes a column by name.
    pub fn decode<T: FieldValue>(&self, column: &str) -> Result<T> {
        let value = self.get(column).cloned().ok_or_else(|| Error::Decode {
            field: column.into(),
            message: "no such column in the result".into(),
        })?;
        T::from_value(value).map_err(|message| Error::Decode {
            field: column.into(),
            message,
        })
    }

    /// The values, consumed in order by a model's `from_row`.
    pub fn into_fields(self) -> Fields<'static> {
        Fields {
            source: Source::Values {
                columns: self.columns,
                values: self.values.into_iter(),
            },
            at: 0,
        }
    }

    /// The values, owned.
    pub fn into_values(self) -> Vec<Value> {
        self.values.into_vec()
    }
}

/// A driver's result row, read column by column: what a backend hands to [`Fields`] so that
/// typed models decode straight from it, without a [`Row`] of values in between (see
/// [`Backend::fetch_each`](crate::backend::Backend::fetch_each)).
pub trait Columns: Send + Sync {
    /// Number of columns.
    fn len(&self) -> usize;

    /// `true` for a row without columns.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name of column `i` (`i < len()`), for error messages.
    fn name(&self, i: usize) -> &str;

    /// Decodes column `i` (`i < len()`); the error is a message for [`Error::Decode`].
    fn value(&self, i: usize) -> std::result::Result<Value, String>;

    /// `true` when column `i` is SQL NULL (a failed decode counts as not NULL: reading the
    /// column then reports the error).
    fn is_null(&self, i: usize) -> bool {
        self.value(i).is_ok_and(|v| is_null(&v))
    }

    /// Column `i` as a `bool`, NULL as `None`. This and the other typed getters let a backend
    /// read a column without building a [`Value`]; the defaults go through
    /// [`value`](Self::value) and [`FieldValue::from_value`], and an override must agree with
    /// them.
    fn bool(&self, i: usize) -> std::result::Result<Option<bool>, String> {
        <Option<bool>>::from_value(self.value(i)?)
    }

    /// Column `i` as an `i16` (see [`bool`](Self::bool)).
    fn i16(&self, i: usize) -> std::result::Result<Option<i16>, String> {
        <Option<i16>>::from_value(self.value(i)?)
    }

    /// Column `i` as an `i32` (see [`bool`](Self::bool)).
    fn i32(&self, i: usize) -> std::result::Result<Option<i32>, String> {
        <Option<i32>>::from_value(self.value(i)?)
    }

    /// Column `i` as an `i64` (see [`bool`](Self::bool)).
    fn i64(&self, i: usize) -> std::result::Result<Option<i64>, String> {
        <Option<i64>>::from_value(self.value(i)?)
    }

    /// Column `i` as an `f32` (see [`bool`](Self::bool)).
    fn f32(&self, i: usize) -> std::result::Result<Option<f32>, String> {
        <Option<f32>>::from_value(self.value(i)?)
    }

    /// Column `i` as an `f64` (see [`bool`](Self::bool)).
    fn f64(&self, i: usize) -> std::result::Result<Option<f64>, String> {
        <Option<f64>>::from_value(self.value(i)?)
    }

    /// Column `i` as a `String` (see [`bool`](Self::bool)).
    fn string(&self, i: usize) -> std::result::Result<Option<String>, String> {
        <Option<String>>::from_value(self.value(i)?)
    }
}

/// A row being read field by field, in column order (what `#[derive(Model)]`'s `from_row` uses;
/// `select_related` reads the joined model from the values that follow). It reads either a
/// [`Row`]'s values or, on the typed read path, the driver's row itself ([`Columns`]).
pub struct Fields<'r> {
    source: Source<'r>,
    at: usize,
}

enum Source<'r> {
    Values {
        columns: Arc<[String]>,
        values: smallvec::IntoIter<[Value; 4]>,
    },
    Columns {
        row: &'r dyn Columns,
        len: usize,
    },
    /// A tokio-postgres row: the Postgres typed read path, decoded with static calls.
    #[cfg(feature = "postgres")]
    Pg(&'r tokio_postgres::Row),
}

impl<'r> Source<'r> {
    /// A driver's row and its number of columns.
    fn driver(&self) -> Option<(&'r dyn Columns, usize)> {
        match self {
            Source::Values { .. } => None,
            Source::Columns { row, len } => Some((*row, *len)),
            #[cfg(feature = "postgres")]
            Source::Pg(row) => Some((*row as &dyn Columns, row.len())),
        }
    }
}

impl std::fmt::Debug for Fields<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fields")
            .field("at", &self.at)
            .field("remaining", &self.remaining())
            .finish_non_exhaustive()
    }
}

impl<'r> Fields<'r> {
    /// Fields read straight from a driver's row (a backend's typed read path).
    pub fn from_columns(columns: &'r dyn Columns) -> Self {
        Self {
            source: Source::Columns {
                row: columns,
                len: columns.len(),
            },
            at: 0,
        }
    }

    /// Fields read straight from a tokio-postgres row.
    #[cfg(feature = "postgres")]
    pub(crate) fn from_pg(row: &'r tokio_postgres::Row) -> Self {
        Self {
            source: Source::Pg(row),
            at: 0,
        }
    }

    fn column(&self, at: usize) -> String {
        match (&self.source, self.source.driver()) {
            (Source::Values { columns, .. }, _) => columns.get(at).cloned(),
            (_, Some((row, len))) => (at < len).then(|| row.name(at).to_string()),
            (_, None) => None,
        }
        .unwrap_or_else(|| at.to_string())
    }

    /// Decodes the next value as `T`.
    #[allow(clippy::should_implement_trait)] // typed per call, so not an Iterator
    #[inline]
    pub fn next<T: FieldValue>(&mut self) -> Result<T> {
        let at = self.at;
        self.at += 1;
        let decoded = match &mut self.source {
            #[cfg(feature = "postgres")]
            Source::Pg(row) if at < row.len() => T::from_column(*row, at),
            Source::Columns { row, len } if at < *len => T::from_column(*row, at),
            Source::Values { values, .. } => match values.next() {
                Some(value) => T::from_value(value),
                None => Err("the row has fewer columns than the model".to_string()),
            },
            _ => Err("the row has fewer columns than the model".to_string()),
        };
        match decoded {
            Ok(v) => Ok(v),
            Err(message) => Err(self.decode_error(at, message)),
        }
    }

    #[cold]
    fn decode_error(&self, at: usize, message: String) -> Error {
        Error::Decode {
            field: self.column(at),
            message,
        }
    }

    /// Skips `n` values.
    pub fn skip(&mut self, n: usize) {
        for _ in 0..n {
            self.at += 1;
            if let Source::Values { values, .. } = &mut self.source {
                values.next();
            }
        }
    }

    /// The next value, undecoded (`None` past the end, or when a driver's row fails to decode
    /// it).
    pub fn next_value(&mut self) -> Option<Value> {
        let at = self.at;
        self.at += 1;
        if let Source::Values { values, .. } = &mut self.source {
            return values.next();
        }
        let (row, len) = self.source.driver()?;
        (at < len).then(|| row.value(at).ok()).flatten()
    }

    /// The value `offset` places ahead, without consuming anything. Only a [`Row`]'s fields
    /// hold values to look at: on a driver's row this is `None`; use
    /// [`null_ahead`](Self::null_ahead) there.
    pub fn peek(&self, offset: usize) -> Option<&Value> {
        match &self.source {
            Source::Values { values, .. } => values.as_slice().get(offset),
            _ => None,
        }
    }

    /// `true` when the value `offset` places ahead is NULL or missing, without consuming
    /// anything (`select_related` looks at a joined key to tell a missing row from a present
    /// one).
    pub fn null_ahead(&self, offset: usize) -> bool {
        match (&self.source, self.source.driver()) {
            (Source::Values { values, .. }, _) => values.as_slice().get(offset).is_none_or(is_null),
            (_, Some((row, len))) => {
                let i = self.at + offset;
                i >= len || row.is_null(i)
            }
            (_, None) => true,
        }
    }

    /// How many values are left.
    pub fn remaining(&self) -> usize {
        match (&self.source, self.source.driver()) {
            (Source::Values { values, .. }, _) => values.len(),
            (_, Some((_, len))) => len.saturating_sub(self.at),
            (_, None) => 0,
        }
    }
}

/// A Rust type a model field can have: its storage type and its conversions.
///
/// Conversions from values are lenient about representation (SQLite returns booleans as
/// integers, timestamps, UUIDs and decimals as text) and strict about meaning.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a model field",
    label = "not a stored field type",
    note = "stored types: bool, i16, i32, i64, f32, f64, Decimal, String, Vec<u8>, Uuid, NaiveDate, NaiveTime, DateTime<Utc>, serde_json::Value, Json<T>, a `#[derive(Choices)]` enum, Option<…> of these, ForeignKey<M>",
    note = "a field that is not stored takes `#[field(skip)]`"
)]
pub trait FieldValue: Sized + Send + Sync + 'static {
    /// `Option<T>` is nullable; nothing else is.
    const NULLABLE: bool = false;

    /// The storage type (a `String` is `Text` unless the field gives a `max_length`).
    fn field_type() -> FieldType;

    /// The only allowed values, for string-backed enums (`#[derive(Choices)]`); empty otherwise.
    fn choices() -> Vec<Choice> {
        Vec::new()
    }

    /// The value to bind.
    fn to_value(&self) -> Value;

    /// Reads a value from the database; the error is a message for [`Error::Decode`].
    fn from_value(value: Value) -> std::result::Result<Self, String>;

    /// Reads column `i` of a driver's row (the typed read path, see [`Columns`]). The default
    /// goes through [`from_value`](Self::from_value); the scalar types use a typed getter.
    fn from_column<C: Columns + ?Sized>(row: &C, i: usize) -> std::result::Result<Self, String> {
        Self::from_value(row.value(i)?)
    }

    /// Reads column `i` of a driver's row, NULL as `None` (what `Option<Self>` reads with).
    fn from_column_opt<C: Columns + ?Sized>(
        row: &C,
        i: usize,
    ) -> std::result::Result<Option<Self>, String> {
        <Option<Self>>::from_value(row.value(i)?)
    }
}

/// `from_column` and `from_column_opt` through a typed getter of [`Columns`]; a NULL in a
/// non-null field goes through `from_value` for the same error as the value path.
macro_rules! typed_column {
    ($getter:ident) => {
        #[inline]
        fn from_column<C: Columns + ?Sized>(
            row: &C,
            i: usize,
        ) -> std::result::Result<Self, String> {
            match row.$getter(i)? {
                Some(v) => Ok(v),
                None => Self::from_value(row.value(i)?),
            }
        }
        #[inline]
        fn from_column_opt<C: Columns + ?Sized>(
            row: &C,
            i: usize,
        ) -> std::result::Result<Option<Self>, String> {
            row.$getter(i)
        }
    };
}

fn mismatch<T>(expected: &str, got: &Value) -> std::result::Result<T, String> {
    Err(format!("expected {expected}, found {got:?}"))
}

fn not_null<T>(value: &Value, expected: &str) -> std::result::Result<T, String> {
    if is_null(value) {
        Err(format!("expected {expected}, found NULL"))
    } else {
        mismatch(expected, value)
    }
}

impl FieldValue for bool {
    fn field_type() -> FieldType {
        FieldType::Bool
    }
    fn to_value(&self) -> Value {
        Value::Bool(Some(*self))
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Bool(Some(b)) => Ok(b),
            Value::BigInt(Some(i)) => Ok(i != 0),
            Value::Int(Some(i)) => Ok(i != 0),
            Value::SmallInt(Some(i)) => Ok(i != 0),
            other => not_null(&other, "a boolean"),
        }
    }
    typed_column!(bool);
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::TinyInt(Some(i)) => Some(i64::from(*i)),
        Value::SmallInt(Some(i)) => Some(i64::from(*i)),
        Value::Int(Some(i)) => Some(i64::from(*i)),
        Value::BigInt(Some(i)) => Some(*i),
        Value::TinyUnsigned(Some(i)) => Some(i64::from(*i)),
        Value::SmallUnsigned(Some(i)) => Some(i64::from(*i)),
        Value::Unsigned(Some(i)) => Some(i64::from(*i)),
        Value::BigUnsigned(Some(i)) => i64::try_from(*i).ok(),
        Value::Bool(Some(b)) => Some(i64::from(*b)),
        _ => None,
    }
}

macro_rules! int_field {
    ($t:ty, $ft:ident, $variant:ident, $getter:ident) => {
        impl FieldValue for $t {
            fn field_type() -> FieldType {
                FieldType::$ft
            }
            fn to_value(&self) -> Value {
                Value::$variant(Some(*self))
            }
            fn from_value(value: Value) -> std::result::Result<Self, String> {
                match integer(&value) {
                    Some(i) => <$t>::try_from(i).map_err(|_| format!("{i} is out of range")),
                    None => not_null(&value, "an integer"),
                }
            }
            typed_column!($getter);
        }
    };
}
int_field!(i16, I16, SmallInt, i16);
int_field!(i32, I32, Int, i32);
int_field!(i64, I64, BigInt, i64);

fn float(value: &Value) -> Option<f64> {
    match value {
        Value::Float(Some(f)) => Some(f64::from(*f)),
        Value::Double(Some(f)) => Some(*f),
        Value::Decimal(Some(d)) => rust_decimal::prelude::ToPrimitive::to_f64(d),
        other => integer(other).map(|i| i as f64),
    }
}

impl FieldValue for f64 {
    fn field_type() -> FieldType {
        FieldType::F64
    }
    fn to_value(&self) -> Value {
        Value::Double(Some(*self))
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        float(&value).map_or_else(|| not_null(&value, "a number"), Ok)
    }
    typed_column!(f64);
}

impl FieldValue for f32 {
    fn field_type() -> FieldType {
        FieldType::F32
    }
    fn to_value(&self) -> Value {
        Value::Float(Some(*self))
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        float(&value).map_or_else(|| not_null(&value, "a number"), |f| Ok(f as f32))
    }
    typed_column!(f32);
}

impl FieldValue for Decimal {
    fn field_type() -> FieldType {
        FieldType::Decimal {
            precision: 19,
            scale: 4,
        }
    }
    fn to_value(&self) -> Value {
        Value::Decimal(Some(*self))
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Decimal(Some(d)) => Ok(d),
            Value::String(Some(s)) => s
                .parse()
                .map_err(|e| format!("{s:?} is not a decimal: {e}")),
            Value::Double(Some(f)) => Decimal::try_from(f).map_err(|e| e.to_string()),
            other => match integer(&other) {
                Some(i) => Ok(Decimal::from(i)),
                None => not_null(&other, "a decimal"),
            },
        }
    }
}

impl FieldValue for String {
    fn field_type() -> FieldType {
        FieldType::Text
    }
    fn to_value(&self) -> Value {
        Value::String(Some(self.clone()))
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::String(Some(s)) => Ok(s),
            Value::Char(Some(c)) => Ok(c.to_string()),
            other => not_null(&other, "text"),
        }
    }
    typed_column!(string);
}

impl FieldValue for Vec<u8> {
    fn field_type() -> FieldType {
        FieldType::Bytes
    }
    fn to_value(&self) -> Value {
        Value::Bytes(Some(self.clone()))
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Bytes(Some(b)) => Ok(b),
            Value::String(Some(s)) => Ok(s.into_bytes()),
            other => not_null(&other, "bytes"),
        }
    }
}

impl FieldValue for Uuid {
    fn field_type() -> FieldType {
        FieldType::Uuid
    }
    fn to_value(&self) -> Value {
        Value::Uuid(Some(*self))
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Uuid(Some(u)) => Ok(u),
            Value::String(Some(s)) => Uuid::parse_str(&s).map_err(|e| format!("{s:?}: {e}")),
            Value::Bytes(Some(b)) => Uuid::from_slice(&b).map_err(|e| e.to_string()),
            other => not_null(&other, "a UUID"),
        }
    }
}

impl FieldValue for NaiveDate {
    fn field_type() -> FieldType {
        FieldType::Date
    }
    fn to_value(&self) -> Value {
        Value::ChronoDate(Some(*self))
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::ChronoDate(Some(d)) => Ok(d),
            Value::String(Some(s)) => s.parse().map_err(|e| format!("{s:?}: {e}")),
            other => not_null(&other, "a date"),
        }
    }
}

impl FieldValue for NaiveTime {
    fn field_type() -> FieldType {
        FieldType::Time
    }
    fn to_value(&self) -> Value {
        Value::ChronoTime(Some(*self))
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::ChronoTime(Some(t)) => Ok(t),
            Value::String(Some(s)) => s.parse().map_err(|e| format!("{s:?}: {e}")),
            other => not_null(&other, "a time"),
        }
    }
}

/// The text form of timestamps on backends without a timestamp type (SQLite): fixed width, so
/// text order is time order and comparisons in SQL stay correct.
pub const DATETIME_TEXT_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

impl FieldValue for DateTime<Utc> {
    fn field_type() -> FieldType {
        FieldType::DateTime
    }
    fn to_value(&self) -> Value {
        Value::ChronoDateTimeUtc(Some(*self))
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::ChronoDateTimeUtc(Some(t)) => Ok(t),
            Value::ChronoDateTime(Some(t)) => Ok(t.and_utc()),
            Value::ChronoDateTimeWithTimeZone(Some(t)) => Ok(t.with_timezone(&Utc)),
            Value::String(Some(s)) => DateTime::parse_from_rfc3339(&s)
                .map(|t| t.with_timezone(&Utc))
                .or_else(|_| {
                    NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f").map(|t| t.and_utc())
                })
                .map_err(|e| format!("{s:?} is not a timestamp: {e}")),
            other => not_null(&other, "a timestamp"),
        }
    }
}

impl FieldValue for serde_json::Value {
    fn field_type() -> FieldType {
        FieldType::Json
    }
    fn to_value(&self) -> Value {
        Value::Json(Some(Box::new(self.clone())))
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Json(Some(j)) => Ok(*j),
            Value::String(Some(s)) => serde_json::from_str(&s).map_err(|e| e.to_string()),
            other => not_null(&other, "JSON"),
        }
    }
}

/// A typed JSON field: stored as JSON, read and written as `T`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Json<T>(pub T);

impl<T> FieldValue for Json<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn field_type() -> FieldType {
        FieldType::Json
    }
    fn to_value(&self) -> Value {
        match serde_json::to_value(&self.0) {
            Ok(v) => Value::Json(Some(Box::new(v))),
            Err(_) => Value::Json(None),
        }
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        let json = serde_json::Value::from_value(value)?;
        serde_json::from_value(json)
            .map(Json)
            .map_err(|e| e.to_string())
    }
}

impl<T: FieldValue> FieldValue for Option<T> {
    const NULLABLE: bool = true;
    fn field_type() -> FieldType {
        T::field_type()
    }
    fn choices() -> Vec<Choice> {
        T::choices()
    }
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => null_of(&T::field_type()),
        }
    }
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        if is_null(&value) {
            Ok(None)
        } else {
            T::from_value(value).map(Some)
        }
    }
    #[inline]
    fn from_column<C: Columns + ?Sized>(row: &C, i: usize) -> std::result::Result<Self, String> {
        T::from_column_opt(row, i)
    }
}

/// A string that is none of the values of a string-backed enum (`#[derive(Choices)]`'s
/// `FromStr`).
///
/// ```
/// use turbine_orm::value::UnknownChoice;
///
/// let e = UnknownChoice { value: "gone".into(), type_name: "Status", allowed: &["draft", "live"] };
/// assert_eq!(e.to_string(), r#"`gone` is not a Status; expected one of "draft", "live""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownChoice {
    /// The string given.
    pub value: String,
    /// The enum's name.
    pub type_name: &'static str,
    /// The allowed values.
    pub allowed: &'static [&'static str],
}

impl std::fmt::Display for UnknownChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` is not a {}; expected one of ",
            self.value, self.type_name
        )?;
        for (i, v) in self.allowed.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{v:?}")?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownChoice {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A driver's row with only `value` implemented: every typed getter takes its default.
    struct Plain(Vec<Value>);

    impl Columns for Plain {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn name(&self, i: usize) -> &str {
            ["a", "b", "c"][i]
        }
        fn value(&self, i: usize) -> std::result::Result<Value, String> {
            Ok(self.0[i].clone())
        }
    }

    fn row(values: Vec<Value>) -> Row {
        Row::new(
            ["a", "b", "c"].map(String::from)[..values.len()].into(),
            values,
        )
    }

    #[test]
    fn a_drivers_row_decodes_as_its_values_do() {
        let values = vec![
            Value::SmallInt(Some(7)),
            Value::String(None),
            Value::BigInt(Some(1)),
        ];
        let plain = Plain(values.clone());
        let mut direct = Fields::from_columns(&plain);
        let mut via_row = row(values).into_fields();
        assert_eq!(direct.remaining(), 3);
        assert!(!direct.null_ahead(0) && direct.null_ahead(1) && direct.null_ahead(3));
        assert_eq!(direct.next::<i32>().unwrap(), 7);
        assert_eq!(via_row.next::<i32>().unwrap(), 7);
        assert_eq!(direct.next::<Option<String>>().unwrap(), None);
        assert_eq!(via_row.next::<Option<String>>().unwrap(), None);
        assert!(direct.next::<bool>().unwrap());
        assert!(via_row.next::<bool>().unwrap());
        let missing = direct.next::<i64>().unwrap_err().to_string();
        assert_eq!(missing, via_row.next::<i64>().unwrap_err().to_string());
        assert!(missing.contains("fewer columns"), "{missing}");
    }

    #[test]
    fn null_in_a_required_field_names_the_column_on_both_paths() {
        let values = vec![Value::Int(None)];
        let plain = Plain(values.clone());
        let direct = Fields::from_columns(&plain).next::<i32>().unwrap_err();
        let via_row = row(values).into_fields().next::<i32>().unwrap_err();
        assert_eq!(direct.to_string(), via_row.to_string());
        assert!(matches!(direct, Error::Decode { field, .. } if field == "a"));
    }
}
