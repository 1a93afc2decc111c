//! What happens to a row's values before they are written: defaults filled in (values,
//! timestamps, UUID v7 keys), the identity key and database defaults left to the database, and
//! validation (`max_length` in characters, choices, not-null).

use chrono::{DateTime, SubsecRound, Utc};

use crate::error::{Error, Result};
use crate::meta::{AutoKey, FieldDefault, FieldMeta, FieldType, ModelMeta};
use crate::query::convert::{coerce, json_to_value};
use crate::value::{Value, is_null};

/// The column fields of a model, in value order.
pub(crate) fn column_fields(meta: &ModelMeta) -> impl Iterator<Item = &FieldMeta> {
    meta.fields.iter().filter(|f| f.has_column())
}

/// The current time as stored: UTC, whole microseconds (what both backends keep).
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The current time for a field of type `ty` (a date or a timestamp).
pub(crate) fn now_value(ty: &FieldType) -> Value {
    match ty {
        FieldType::Date => Value::ChronoDate(Some(now().date_naive())),
        _ => Value::ChronoDateTimeUtc(Some(now())),
    }
}

/// An insert's plan: which columns the database fills (left out of the INSERT and read back
/// with RETURNING), and which values the ORM filled in.
#[derive(Debug, Default)]
pub(crate) struct InsertPlan {
    /// Per column: left to the database.
    pub(crate) omit: Vec<bool>,
    /// Columns whose value the ORM set.
    pub(crate) filled: Vec<usize>,
}

impl InsertPlan {
    /// The omitted columns as a bit mask (for the statement cache), if they fit in one.
    pub(crate) fn mask(&self) -> Option<u64> {
        (self.omit.len() <= 64).then(|| {
            self.omit
                .iter()
                .enumerate()
                .fold(0u64, |m, (i, &o)| if o { m | (1 << i) } else { m })
        })
    }
}

fn unset_key(value: &Value) -> bool {
    is_null(value)
        || matches!(value, Value::BigInt(Some(0)) | Value::Int(Some(0)))
        || matches!(value, Value::Uuid(Some(u)) if u.is_nil())
}

/// Fills what an insert fills: defaults of NULL fields, `auto_now` / `auto_now_add` always, a
/// UUID v7 for an unset UUID key; leaves an unset identity key (NULL or 0) and NULL fields with a
/// database default to the database.
pub(crate) fn fill_insert(meta: &ModelMeta, values: &mut [Value]) -> Result<InsertPlan> {
    let mut plan = InsertPlan {
        omit: vec![false; values.len()],
        filled: Vec::new(),
    };
    for (i, f) in column_fields(meta).enumerate() {
        let value = &mut values[i];
        if f.primary_key && f.auto == Some(AutoKey::Identity) && unset_key(value) {
            plan.omit[i] = true;
            continue;
        }
        match &f.default {
            Some(FieldDefault::NowOnInsert | FieldDefault::NowOnSave) => {
                *value = now_value(&f.ty);
                plan.filled.push(i);
            }
            Some(FieldDefault::UuidV7) if unset_key(value) => {
                *value = Value::Uuid(Some(uuid::Uuid::now_v7()));
                plan.filled.push(i);
            }
            Some(FieldDefault::Value(json)) if is_null(value) => {
                *value = json_to_value(json, &f.ty).map_err(|m| {
                    Error::Query(format!("{}.{}: bad default: {m}", meta.label(), f.name))
                })?;
                plan.filled.push(i);
            }
            _ if is_null(value) && f.db_default.is_some() => plan.omit[i] = true,
            _ => {}
        }
    }
    Ok(plan)
}

/// Fills a new row's defaults as an insert would (default values, timestamps, UUID v7 keys)
/// and sets an unset identity key to 0, so that a typed model can be read from the values of a
/// row that is not in the database yet (what the API battery creates from a request body).
pub fn fill_defaults(meta: &ModelMeta, values: &mut [Value]) -> Result<()> {
    fill_insert(meta, values)?;
    for (i, f) in column_fields(meta).enumerate() {
        if f.primary_key && f.auto == Some(AutoKey::Identity) && is_null(&values[i]) {
            values[i] = coerce(Value::BigInt(Some(0)), &f.ty);
        }
    }
    Ok(())
}

/// Refreshes `auto_now` fields for an update; returns their positions.
pub(crate) fn fill_update(meta: &ModelMeta, values: &mut [Value]) -> Vec<usize> {
    let mut filled = Vec::new();
    for (i, f) in column_fields(meta).enumerate() {
        if matches!(f.default, Some(FieldDefault::NowOnSave)) {
            values[i] = now_value(&f.ty);
            filled.push(i);
        }
    }
    filled
}

fn invalid(f: &FieldMeta, message: String) -> Error {
    Error::Validation {
        field: f.name.clone(),
        message,
    }
}

/// Checks a non-NULL value of a field against its metadata: text within `max_length`
/// characters, one of the choices. The error is a message for the client. Writes run it on
/// every value; the API battery runs it to report every field's error at once.
pub fn check_value(f: &FieldMeta, value: &Value) -> std::result::Result<(), String> {
    if let (FieldType::String { max_length }, Value::String(Some(s))) = (&f.ty, value) {
        let n = s.chars().count();
        if n > *max_length as usize {
            return Err(format!(
                "Ensure this value has at most {max_length} characters (it has {n})."
            ));
        }
    }
    if !f.choices.is_empty()
        && let Value::String(Some(s)) = value
        && !f.choices.iter().any(|c| c.value == *s)
    {
        let allowed: Vec<&str> = f.choices.iter().map(|c| c.value.as_str()).collect();
        return Err(format!(
            "`{s}` is not a valid choice; choices are: {}",
            allowed.join(", ")
        ));
    }
    Ok(())
}

/// Checks the values of the columns `write` selects: not NULL unless nullable, text within
/// `max_length` characters, one of the choices. Values are coerced to their field's type.
pub(crate) fn validate(
    meta: &ModelMeta,
    values: &mut [Value],
    write: impl Fn(usize) -> bool,
) -> Result<()> {
    for (i, f) in column_fields(meta).enumerate() {
        if !write(i) {
            continue;
        }
        let value = &mut values[i];
        if is_null(value) {
            if !f.nullable {
                return Err(invalid(f, "This field cannot be null.".into()));
            }
            *value = coerce(std::mem::replace(value, Value::Bool(None)), &f.ty);
            continue;
        }
        *value = coerce(std::mem::replace(value, Value::Bool(None)), &f.ty);
        check_value(f, value).map_err(|message| invalid(f, message))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::Choice;

    fn meta() -> ModelMeta {
        ModelMeta::new("t", "M")
            .field(FieldMeta::auto_id())
            .field(FieldMeta::new("name", FieldType::String { max_length: 3 }))
            .field(
                FieldMeta::new("state", FieldType::String { max_length: 8 })
                    .choices([Choice::new("on", "On"), Choice::new("off", "Off")])
                    .default_value("off"),
            )
            .field(FieldMeta::new("at", FieldType::DateTime).auto_now_add())
            .field(
                FieldMeta::new("n", FieldType::I64)
                    .nullable()
                    .db_default("7"),
            )
    }

    #[test]
    fn insert_fills_defaults_and_leaves_identity_and_db_defaults_out() {
        let m = meta();
        let mut values = vec![
            Value::BigInt(Some(0)),
            "abc".into(),
            Value::String(None),
            Value::ChronoDateTimeUtc(None),
            Value::BigInt(None),
        ];
        let plan = fill_insert(&m, &mut values).unwrap();
        assert_eq!(plan.omit, [true, false, false, false, true]);
        assert_eq!(plan.filled, [2, 3]);
        assert_eq!(values[2], Value::from("off"));
        assert!(matches!(values[3], Value::ChronoDateTimeUtc(Some(_))));
        assert_eq!(plan.mask(), Some(0b10001));
    }

    #[test]
    fn validation_counts_characters_checks_choices_and_nulls() {
        let m = meta();
        let ok = |name: &str, state: &str| {
            let mut v = vec![
                Value::BigInt(Some(1)),
                name.into(),
                state.into(),
                Value::ChronoDateTimeUtc(Some(now())),
                Value::BigInt(None),
            ];
            validate(&m, &mut v, |_| true)
        };
        assert!(
            ok(
                "żółw"[..].chars().take(3).collect::<String>().as_str(),
                "on"
            )
            .is_ok()
        );
        let Err(Error::Validation { field, message }) = ok("abcd", "on") else {
            panic!()
        };
        assert_eq!(
            (field.as_str(), message.contains("at most 3")),
            ("name", true)
        );
        let Err(Error::Validation { field, .. }) = ok("ab", "maybe") else {
            panic!()
        };
        assert_eq!(field, "state");
        let mut v = vec![Value::BigInt(Some(1)), Value::String(None)];
        let Err(Error::Validation { field, .. }) = validate(&m, &mut v, |i| i == 1) else {
            panic!()
        };
        assert_eq!(field, "name");
    }
}
