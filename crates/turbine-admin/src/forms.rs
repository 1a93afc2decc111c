//! Form submissions: each field's text becomes the JSON the API would accept and goes through
//! the same check ([`turbine_api::body::to_value`]), so the admin and the API validate alike;
//! every field's error is reported at once.

use std::collections::BTreeMap;

use serde_json::Value as J;
use turbine_orm::Value;
use turbine_orm::meta::{FieldDefault, FieldMeta, FieldType, Registry, RelationKind};
use turbine_orm::query::convert::parse_text;

use crate::model_admin::ModelAdmin;

/// A url-encoded form body.
#[derive(Debug, Default, Clone)]
pub(crate) struct FormInput(Vec<(String, String)>);

impl FormInput {
    /// Parses a body (or a query string).
    pub(crate) fn parse(bytes: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The fields named `prefix…`, with the prefix taken off (one row of an inline).
    pub(crate) fn with_prefix(&self, prefix: &str) -> Self {
        Self(
            self.0
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone())))
                .collect(),
        )
    }

    /// The pairs.
    pub(crate) fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// What a valid form changes.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// Column fields whose value the form set.
    pub(crate) written: Vec<String>,
    /// Many-to-many fields and the keys selected.
    pub(crate) links: Vec<(String, Vec<Value>)>,
}

/// Field name → message.
pub(crate) type Errors = BTreeMap<String, String>;

/// A field set by the ORM, never by a form.
pub(crate) fn automatic(f: &FieldMeta) -> bool {
    matches!(
        f.default,
        Some(FieldDefault::NowOnInsert | FieldDefault::NowOnSave)
    ) || f.auto.is_some()
}

/// Many-to-many.
pub(crate) fn is_m2m(f: &FieldMeta) -> bool {
    matches!(
        f.relation.as_ref().map(|r| r.kind),
        Some(RelationKind::ManyToMany)
    )
}

/// Applies the form to `values` (the row in column order). On error, every field's message.
pub(crate) fn apply(
    admin: &ModelAdmin,
    registry: &Registry,
    form: &FormInput,
    values: &mut [Value],
) -> Result<Applied, Errors> {
    let mut errors = Errors::new();
    let mut applied = Applied::default();
    let mut column = 0usize;
    for f in &admin.meta.fields {
        let position = f.has_column().then(|| {
            column += 1;
            column - 1
        });
        if !admin.editable(f) || automatic(f) {
            continue;
        }
        if is_m2m(f) {
            let target = f
                .relation
                .as_ref()
                .and_then(|r| registry.get(&r.to))
                .and_then(|m| m.primary_key());
            let Some(pk) = target else { continue };
            let mut keys = Vec::new();
            for text in form.all(&f.name).into_iter().filter(|t| !t.is_empty()) {
                match parse_text(text, &pk.ty) {
                    Ok(v) => keys.push(v),
                    Err(_) => {
                        errors.insert(f.name.clone(), format!("`{text}` is not a valid choice."));
                    }
                }
            }
            applied.links.push((f.name.clone(), keys));
            continue;
        }
        let Some(i) = position else { continue };
        match field_json(f, form.get(&f.name))
            .and_then(|json| turbine_api::body::to_value(&json, f))
        {
            Ok(v) => {
                values[i] = v;
                applied.written.push(f.name.clone());
            }
            Err(message) => {
                errors.insert(f.name.clone(), message);
            }
        }
    }
    if errors.is_empty() {
        Ok(applied)
    } else {
        Err(errors)
    }
}

/// The JSON the API would be sent for a field whose input holds `raw` (`None`: an unticked
/// checkbox or a missing input).
pub(crate) fn field_json(f: &FieldMeta, raw: Option<&str>) -> Result<J, String> {
    if f.ty == FieldType::Bool {
        return Ok(J::Bool(raw.is_some_and(|v| v != "false" && v != "0")));
    }
    let text = raw.unwrap_or("");
    let is_text = matches!(f.ty, FieldType::String { .. } | FieldType::Text);
    let trimmed = if is_text { text } else { text.trim() };
    if trimmed.is_empty() {
        if f.nullable {
            return Ok(J::Null);
        }
        let blank_ok = is_text
            && matches!(&f.default, Some(FieldDefault::Value(J::String(s))) if s.is_empty());
        if blank_ok {
            return Ok(J::String(String::new()));
        }
        return Err("This field is required.".into());
    }
    Ok(match &f.ty {
        FieldType::I16 | FieldType::I32 | FieldType::I64 => match trimmed.parse::<i64>() {
            Ok(n) => J::from(n),
            Err(_) => return Err("Enter a whole number.".into()),
        },
        FieldType::F32 | FieldType::F64 => match trimmed.parse::<f64>() {
            Ok(n) if n.is_finite() => J::from(n),
            _ => return Err("Enter a number.".into()),
        },
        FieldType::DateTime => {
            // `datetime-local` inputs send `YYYY-MM-DDTHH:MM[:SS]`, read as UTC.
            let mut t = trimmed.replace(' ', "T");
            if t.len() == 16 {
                t.push_str(":00");
            }
            let has_zone = t.ends_with('Z') || t[t.len().saturating_sub(6)..].contains(['+', '-']);
            if !has_zone {
                t.push('Z');
            }
            J::String(t)
        }
        FieldType::Time if trimmed.len() == 5 => J::String(format!("{trimmed}:00")),
        FieldType::Json => match serde_json::from_str::<J>(trimmed) {
            Ok(j) => j,
            Err(e) => return Err(format!("Enter valid JSON: {e}.")),
        },
        _ => J::String(if is_text {
            text.to_string()
        } else {
            trimmed.to_string()
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_become_the_json_the_api_takes() {
        let n = FieldMeta::new("n", FieldType::I32);
        assert_eq!(field_json(&n, Some(" 42 ")).unwrap(), J::from(42));
        assert_eq!(
            field_json(&n, Some("4x")).unwrap_err(),
            "Enter a whole number."
        );
        assert_eq!(
            field_json(&n, Some("")).unwrap_err(),
            "This field is required."
        );
        assert_eq!(
            field_json(&n.clone().nullable(), Some("")).unwrap(),
            J::Null
        );
        let b = FieldMeta::new("b", FieldType::Bool);
        assert_eq!(field_json(&b, None).unwrap(), J::Bool(false));
        assert_eq!(field_json(&b, Some("on")).unwrap(), J::Bool(true));
        let t = FieldMeta::new("t", FieldType::DateTime);
        assert_eq!(
            field_json(&t, Some("2026-12-07T10:30")).unwrap(),
            J::from("2026-12-07T10:30:00Z")
        );
        let bio = FieldMeta::new("bio", FieldType::Text).default_value("");
        assert_eq!(field_json(&bio, Some("")).unwrap(), J::from(""));
        let j = FieldMeta::new("j", FieldType::Json);
        assert!(
            field_json(&j, Some("{"))
                .unwrap_err()
                .starts_with("Enter valid JSON")
        );
        // The API's own checks then apply: range, length, choices.
        let small = FieldMeta::new("s", FieldType::I16);
        let json = field_json(&small, Some("70000")).unwrap();
        assert!(turbine_api::body::to_value(&json, &small).is_err());
    }
}
