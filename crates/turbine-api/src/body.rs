//! Request bodies: a JSON object by field name, checked strictly against the field metadata,
//! with every field's error reported at once (422), and unknown fields refused (400).
//!
//! [`to_value`] is the one check of a field's value that every writer shares (the admin's
//! forms convert their text to JSON and go through it too):
//!
//! ```
//! use serde_json::json;
//! use turbine_api::body::to_value;
//! use turbine_orm::meta::{FieldMeta, FieldType};
//!
//! let title = FieldMeta::new("title", FieldType::String { max_length: 5 });
//! assert!(to_value(&json!("hello"), &title).is_ok());
//! assert_eq!(
//!     to_value(&json!("hello!"), &title).unwrap_err(),
//!     "Ensure this value has at most 5 characters (it has 6)."
//! );
//! assert_eq!(to_value(&json!(5), &title).unwrap_err(), "Expected a string.");
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value as J};
use turbine_core::problem::Problem;
use turbine_orm::Value;
use turbine_orm::meta::{FieldMeta, FieldType};
use turbine_orm::query::convert::parse_text;
use turbine_orm::value::null_of;

use crate::resource::Resource;

/// What a write sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Every required writable field must be present.
    Create,
    /// Full update: every required writable field must be present.
    Replace,
    /// Partial update: only the fields sent.
    Patch,
}

/// Parses a request body as a JSON object.
pub(crate) fn object(bytes: &[u8]) -> turbine_core::Result<Map<String, J>> {
    if bytes.is_empty() {
        return Err(Problem::bad_request("The request body is empty; send a JSON object.").into());
    }
    match serde_json::from_slice::<J>(bytes) {
        Ok(J::Object(map)) => Ok(map),
        Ok(_) => Err(Problem::bad_request("The request body must be a JSON object.").into()),
        Err(e) => {
            Err(Problem::bad_request(format!("The request body is not valid JSON: {e}")).into())
        }
    }
}

/// Applies `body` to `values` (the row in column order: NULLs for a new one, the stored row
/// for an update). Returns the names of the fields written. Unknown fields are a 400 (when the
/// resource is strict), invalid values a 422 listing every field's error.
pub(crate) fn apply(
    resource: &Resource,
    body: &Map<String, J>,
    values: &mut [Value],
    mode: Mode,
) -> turbine_core::Result<Vec<String>> {
    if resource.strict {
        let unknown: Vec<&str> = body
            .keys()
            .filter(|k| {
                !resource
                    .meta
                    .fields
                    .iter()
                    .any(|f| f.has_column() && f.name == **k && !resource.hidden_read_only(f))
            })
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            let allowed: Vec<&str> = resource
                .writable(mode == Mode::Create)
                .map(|(_, f)| f.name.as_str())
                .collect();
            return Err(Problem::bad_request(format!(
                "Unknown field{} {}; the fields you may send are: {}.",
                if unknown.len() == 1 { "" } else { "s" },
                unknown
                    .iter()
                    .map(|u| format!("`{u}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                allowed.join(", ")
            ))
            .extension("unknown_fields", unknown)
            .into());
        }
    }
    let mut problem: Option<Problem> = None;
    let mut error = |field: &str, message: String| {
        let p = problem.take().unwrap_or_else(|| {
            Problem::new(http::StatusCode::UNPROCESSABLE_ENTITY)
                .detail("The data sent is not valid.")
        });
        problem = Some(p.field_error(field, message));
    };
    let mut written = Vec::new();
    for (i, f) in resource.writable(mode == Mode::Create) {
        match body.get(&f.name) {
            Some(json) => match to_value(json, f).and_then(|v| {
                for (_, check) in resource.validators.iter().filter(|(n, _)| *n == f.name) {
                    check(json)?;
                }
                Ok(v)
            }) {
                Ok(v) => {
                    values[i] = v;
                    written.push(f.name.clone());
                }
                Err(message) => error(&f.name, message),
            },
            None if mode != Mode::Patch && Resource::required(f) => {
                error(&f.name, "This field is required.".into());
            }
            None if mode == Mode::Replace => written.push(f.name.clone()),
            None => {}
        }
    }
    match problem {
        Some(p) => Err(p.into()),
        None => Ok(written),
    }
}

fn type_error(f: &FieldMeta) -> String {
    format!("Expected {}.", describe(&f.ty))
}

/// What a field's JSON looks like, for messages.
pub fn describe(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::Bool => "a boolean",
        FieldType::I16 | FieldType::I32 | FieldType::I64 => "an integer",
        FieldType::F32 | FieldType::F64 => "a number",
        FieldType::Decimal { .. } => "a decimal number as a string",
        FieldType::String { .. } | FieldType::Text => "a string",
        FieldType::Bytes => "base64 text",
        FieldType::Uuid => "a UUID string",
        FieldType::Date => "a date string (YYYY-MM-DD)",
        FieldType::Time => "a time string (HH:MM:SS)",
        FieldType::DateTime => "an RFC 3339 timestamp string",
        FieldType::Json => "any JSON value",
        _ => "a value",
    }
}

fn has_nul(json: &J) -> bool {
    match json {
        J::String(s) => s.contains('\0'),
        J::Array(items) => items.iter().any(has_nul),
        J::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// A JSON value as the field's value: the JSON type must match the field's (no numbers as
/// strings or the reverse), within the type's range, NUL-free, and pass the metadata checks
/// (length, choices).
pub fn to_value(json: &J, f: &FieldMeta) -> Result<Value, String> {
    if json.is_null() {
        return if f.nullable {
            Ok(null_of(&f.ty))
        } else {
            Err("This field may not be null.".into())
        };
    }
    if has_nul(json) {
        return Err("Text may not contain NUL characters.".into());
    }
    let int = |min: i64, max: i64| -> Result<i64, String> {
        match json.as_i64() {
            Some(n) if (min..=max).contains(&n) => Ok(n),
            Some(_) => Err(format!("Ensure this value is between {min} and {max}.")),
            None => Err(type_error(f)),
        }
    };
    let text = || json.as_str().ok_or_else(|| type_error(f));
    let value = match &f.ty {
        FieldType::Bool => Value::Bool(Some(json.as_bool().ok_or_else(|| type_error(f))?)),
        FieldType::I16 => Value::SmallInt(Some(int(i16::MIN.into(), i16::MAX.into())? as i16)),
        FieldType::I32 => Value::Int(Some(int(i32::MIN.into(), i32::MAX.into())? as i32)),
        FieldType::I64 => Value::BigInt(Some(int(i64::MIN, i64::MAX)?)),
        FieldType::F32 => {
            let n = json.as_f64().ok_or_else(|| type_error(f))?;
            let n32 = n as f32;
            if !n32.is_finite() {
                return Err("Ensure this value fits a 32-bit float.".into());
            }
            Value::Float(Some(n32))
        }
        FieldType::F64 => Value::Double(Some(json.as_f64().ok_or_else(|| type_error(f))?)),
        FieldType::Decimal { precision, scale } => {
            let text = match json {
                J::String(s) => s.clone(),
                J::Number(n) => n.to_string(),
                _ => return Err(type_error(f)),
            };
            let v = parse_text(&text, &f.ty)?;
            if let Value::Decimal(Some(d)) = &v {
                check_decimal(d, u32::from(*precision), u32::from(*scale))?;
            }
            v
        }
        FieldType::String { .. } | FieldType::Text => Value::String(Some(text()?.to_owned())),
        FieldType::Bytes => Value::Bytes(Some(
            STANDARD
                .decode(text()?)
                .map_err(|_| "Expected base64 text.".to_string())?,
        )),
        FieldType::Uuid | FieldType::Date | FieldType::Time | FieldType::DateTime => {
            parse_text(text()?, &f.ty)?
        }
        FieldType::Json => Value::Json(Some(Box::new(json.clone()))),
        _ => return Err(format!("{} cannot be written through the API.", f.name)),
    };
    turbine_orm::crud::check_value(f, &value)?;
    Ok(value)
}

fn check_decimal(d: &impl std::fmt::Display, precision: u32, scale: u32) -> Result<(), String> {
    let text = d.to_string();
    let digits = text.trim_start_matches('-');
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int_digits = int.trim_start_matches('0').len() as u32;
    let frac_digits = frac.trim_end_matches('0').len() as u32;
    if frac_digits > scale {
        return Err(format!("Ensure there are at most {scale} decimal places."));
    }
    if int_digits > precision.saturating_sub(scale) {
        return Err(format!(
            "Ensure there are at most {} digits before the decimal point.",
            precision.saturating_sub(scale)
        ));
    }
    Ok(())
}

impl Resource {
    /// A field the body may name without effect: read-only but shown to clients (clients
    /// often send back what they read).
    pub(crate) fn hidden_read_only(&self, f: &FieldMeta) -> bool {
        self.hidden.contains(&f.name) && self.read_only.contains(&f.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use turbine_orm::meta::Choice;

    fn field(ty: FieldType) -> FieldMeta {
        FieldMeta::new("f", ty)
    }

    #[test]
    fn values_must_have_the_fields_json_type_and_range() {
        let i16f = field(FieldType::I16);
        assert_eq!(to_value(&J::from(7), &i16f), Ok(Value::SmallInt(Some(7))));
        assert!(
            to_value(&J::from(70_000), &i16f)
                .unwrap_err()
                .contains("between")
        );
        assert!(to_value(&J::from("7"), &i16f).is_err());
        assert!(to_value(&J::from(1.5), &i16f).is_err());
        let s = field(FieldType::String { max_length: 3 });
        assert!(to_value(&J::from(3), &s).is_err());
        assert!(
            to_value(&J::from("abcd"), &s)
                .unwrap_err()
                .contains("at most 3")
        );
        assert!(to_value(&J::from("a\0"), &s).unwrap_err().contains("NUL"));
        assert!(to_value(&J::Null, &s).unwrap_err().contains("null"));
        assert!(to_value(&J::Null, &s.clone().nullable()).is_ok());
        let c = field(FieldType::String { max_length: 8 }).choices([Choice::new("on", "On")]);
        assert!(
            to_value(&J::from("off"), &c)
                .unwrap_err()
                .contains("choice")
        );
        let d = field(FieldType::Decimal {
            precision: 5,
            scale: 2,
        });
        assert!(to_value(&J::from("123.45"), &d).is_ok());
        assert!(
            to_value(&J::from("1234.5"), &d)
                .unwrap_err()
                .contains("before")
        );
        assert!(
            to_value(&J::from("1.234"), &d)
                .unwrap_err()
                .contains("decimal places")
        );
        let b = field(FieldType::Bytes);
        assert_eq!(
            to_value(&J::from("aGk="), &b),
            Ok(Value::Bytes(Some(b"hi".to_vec())))
        );
        let j = field(FieldType::Json);
        assert!(to_value(&serde_json::json!({"a": ["x\0"]}), &j).is_err());
        let t = field(FieldType::DateTime);
        assert!(to_value(&J::from("2026-01-02T03:04:05Z"), &t).is_ok());
        assert!(to_value(&J::from("yesterday"), &t).is_err());
    }
}
