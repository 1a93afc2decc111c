//! Conversions between values, text and JSON by a field's type: what untyped callers (REST query
//! strings, JSON bodies, pagination cursors) need to produce the right [`Value`] for a field.
//!
//! ```
//! use turbine_orm::meta::FieldType;
//! use turbine_orm::query::convert::{coerce, parse_text};
//! use turbine_orm::Value;
//!
//! assert_eq!(parse_text("42", &FieldType::I64).unwrap(), Value::BigInt(Some(42)));
//! assert!(parse_text("forty", &FieldType::I64).is_err());
//! // Postgres is strict about parameter types: an i32 bound to a bigint column is widened.
//! assert_eq!(coerce(Value::Int(Some(7)), &FieldType::I64), Value::BigInt(Some(7)));
//! ```

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::meta::FieldType;
use crate::value::{FieldValue, Value, is_null, null_of};

/// Converts a value to the variant a field of type `ty` binds as (integers widened or narrowed,
/// text parsed into UUIDs, dates, timestamps and decimals, NULLs typed). Values that cannot be
/// converted are returned unchanged, for the database to refuse.
pub fn coerce(value: Value, ty: &FieldType) -> Value {
    if is_null(&value) {
        return null_of(ty);
    }
    fn conv<T: FieldValue>(value: Value) -> Value {
        match T::from_value(value.clone()) {
            Ok(v) => v.to_value(),
            Err(_) => value,
        }
    }
    match (ty, &value) {
        (FieldType::Bool, Value::Bool(_))
        | (FieldType::I16, Value::SmallInt(_))
        | (FieldType::I32, Value::Int(_))
        | (FieldType::I64, Value::BigInt(_))
        | (FieldType::F64, Value::Double(_))
        | (FieldType::String { .. } | FieldType::Text, Value::String(_))
        | (FieldType::Uuid, Value::Uuid(_))
        | (FieldType::DateTime, Value::ChronoDateTimeUtc(_))
        | (FieldType::Json, Value::Json(_)) => value,
        (FieldType::Bool, _) => conv::<bool>(value),
        (FieldType::I16, _) => conv::<i16>(value),
        (FieldType::I32, _) => conv::<i32>(value),
        (FieldType::I64, _) => conv::<i64>(value),
        (FieldType::F32, _) => conv::<f32>(value),
        (FieldType::F64, _) => conv::<f64>(value),
        (FieldType::Decimal { .. }, _) => conv::<Decimal>(value),
        (FieldType::String { .. } | FieldType::Text, _) => conv::<String>(value),
        (FieldType::Bytes, _) => conv::<Vec<u8>>(value),
        (FieldType::Uuid, _) => conv::<Uuid>(value),
        (FieldType::Date, _) => conv::<NaiveDate>(value),
        (FieldType::Time, _) => conv::<NaiveTime>(value),
        (FieldType::DateTime, _) => conv::<DateTime<Utc>>(value),
        (FieldType::Json, _) => conv::<serde_json::Value>(value),
    }
}

/// Parses text (a query-string value) as a value of a field of type `ty`. The error says what
/// was expected, for the client.
pub fn parse_text(text: &str, ty: &FieldType) -> Result<Value, String> {
    fn parsed<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
        text.trim()
            .parse()
            .map_err(|_| format!("`{text}` is not {what}"))
    }
    // No column type holds a NUL (Postgres refuses it in text): refused here, for every
    // caller (filters, keys in paths).
    if text.contains('\0') {
        return Err("text may not contain NUL characters".into());
    }
    Ok(match ty {
        FieldType::Bool => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Value::Bool(Some(true)),
            "false" | "0" | "no" | "off" => Value::Bool(Some(false)),
            _ => return Err(format!("`{text}` is not a boolean (true or false)")),
        },
        FieldType::I16 => Value::SmallInt(Some(parsed(text, "an integer")?)),
        FieldType::I32 => Value::Int(Some(parsed(text, "an integer")?)),
        FieldType::I64 => Value::BigInt(Some(parsed(text, "an integer")?)),
        FieldType::F32 => Value::Float(Some(parsed(text, "a number")?)),
        FieldType::F64 => Value::Double(Some(parsed(text, "a number")?)),
        FieldType::Decimal { .. } => Value::Decimal(Some(parsed(text, "a decimal number")?)),
        FieldType::String { .. } | FieldType::Text => Value::String(Some(text.to_owned())),
        FieldType::Bytes => Value::Bytes(Some(text.as_bytes().to_vec())),
        FieldType::Uuid => Value::Uuid(Some(parsed(text, "a UUID")?)),
        FieldType::Date => Value::ChronoDate(Some(parsed(text, "a date (YYYY-MM-DD)")?)),
        FieldType::Time => Value::ChronoTime(Some(parsed(text, "a time (HH:MM:SS)")?)),
        FieldType::DateTime => Value::ChronoDateTimeUtc(Some(
            DateTime::parse_from_rfc3339(text.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| format!("`{text}` is not an RFC 3339 timestamp"))?,
        )),
        FieldType::Json => Value::Json(Some(Box::new(
            serde_json::from_str(text)
                .unwrap_or_else(|_| serde_json::Value::String(text.to_owned())),
        ))),
    })
}

/// A value as JSON (timestamps as RFC 3339 text, UUIDs and decimals as text, bytes as an array
/// of numbers).
pub fn value_to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    if is_null(value) {
        return J::Null;
    }
    match value {
        Value::Bool(Some(b)) => J::Bool(*b),
        Value::TinyInt(Some(i)) => J::from(*i),
        Value::SmallInt(Some(i)) => J::from(*i),
        Value::Int(Some(i)) => J::from(*i),
        Value::BigInt(Some(i)) => J::from(*i),
        Value::TinyUnsigned(Some(i)) => J::from(*i),
        Value::SmallUnsigned(Some(i)) => J::from(*i),
        Value::Unsigned(Some(i)) => J::from(*i),
        Value::BigUnsigned(Some(i)) => J::from(*i),
        Value::Float(Some(f)) => J::from(*f),
        Value::Double(Some(f)) => J::from(*f),
        Value::String(Some(s)) => J::String(s.clone()),
        Value::Char(Some(c)) => J::String(c.to_string()),
        Value::Bytes(Some(b)) => J::from(b.clone()),
        Value::Json(Some(j)) => (**j).clone(),
        Value::ChronoDate(Some(d)) => J::String(d.to_string()),
        Value::ChronoTime(Some(t)) => J::String(t.to_string()),
        Value::ChronoDateTime(Some(t)) => J::String(t.and_utc().to_rfc3339()),
        Value::ChronoDateTimeUtc(Some(t)) => J::String(t.to_rfc3339()),
        Value::ChronoDateTimeLocal(Some(t)) => J::String(t.to_rfc3339()),
        Value::ChronoDateTimeWithTimeZone(Some(t)) => J::String(t.to_rfc3339()),
        Value::Uuid(Some(u)) => J::String(u.to_string()),
        Value::Decimal(Some(d)) => J::String(d.to_string()),
        _ => J::Null,
    }
}

/// JSON as a value of a field of type `ty` (the inverse of [`value_to_json`]; also what a JSON
/// request body becomes). JSON `null` is the field's NULL.
pub fn json_to_value(json: &serde_json::Value, ty: &FieldType) -> Result<Value, String> {
    use serde_json::Value as J;
    let value = match (json, ty) {
        (J::Null, _) => return Ok(null_of(ty)),
        (_, FieldType::Json) => Value::Json(Some(Box::new(json.clone()))),
        (J::Bool(b), _) => Value::Bool(Some(*b)),
        (J::Number(n), _) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::BigInt(Some(i)),
            (None, Some(f)) => Value::Double(Some(f)),
            _ => return Err(format!("{n} is out of range")),
        },
        (J::String(s), _) => return parse_text(s, ty),
        (J::Array(items), FieldType::Bytes) => Value::Bytes(Some(
            items
                .iter()
                .map(|i| i.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect::<Option<Vec<u8>>>()
                .ok_or("expected an array of bytes")?,
        )),
        (other, _) => return Err(format!("unexpected JSON {other}")),
    };
    let coerced = coerce(value.clone(), ty);
    if matches!(ty, FieldType::Bool) && !matches!(coerced, Value::Bool(_)) {
        return Err("expected a boolean".into());
    }
    Ok(coerced)
}
