//! How values look in the admin: in lists and the log (text for people), and in form inputs
//! (what each input type expects).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use turbine_orm::Value;
use turbine_orm::meta::FieldMeta;
use turbine_orm::query::convert::{coerce, value_to_json};
use turbine_orm::value::is_null;

/// At most `max` characters of `text`, with an ellipsis when cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// A value as people read it (`None` for NULL).
pub(crate) fn show(value: &Value, f: &FieldMeta) -> Option<String> {
    if is_null(value) {
        return None;
    }
    let value = &coerce(value.clone(), &f.ty);
    if let Value::String(Some(s)) = value
        && let Some(c) = f.choices.iter().find(|c| c.value == *s)
    {
        return Some(c.label.clone());
    }
    Some(match value {
        Value::Bool(Some(b)) => if *b { "Yes" } else { "No" }.to_string(),
        Value::ChronoDateTimeUtc(Some(t)) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        Value::Bytes(Some(b)) => format!("{} bytes", b.len()),
        Value::String(Some(s)) => s.clone(),
        Value::Json(Some(j)) => j.to_string(),
        other => key_text(other),
    })
}

/// A value as its form input holds it ("" for NULL).
pub(crate) fn input_text(value: &Value, f: &FieldMeta) -> String {
    if is_null(value) {
        return String::new();
    }
    match &coerce(value.clone(), &f.ty) {
        Value::ChronoDateTimeUtc(Some(t)) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
        Value::ChronoTime(Some(t)) => t.format("%H:%M:%S").to_string(),
        Value::Json(Some(j)) => serde_json::to_string_pretty(j).unwrap_or_default(),
        Value::Bytes(Some(b)) => STANDARD.encode(b),
        Value::String(Some(s)) => s.clone(),
        other => key_text(other),
    }
}

/// Values as text (keys in URLs, the log and checkboxes; numbers, dates, UUIDs in inputs).
pub(crate) fn key_text(value: &Value) -> String {
    match value_to_json(value) {
        serde_json::Value::String(s) => s,
        j => j.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use turbine_orm::meta::{Choice, FieldType};

    #[test]
    fn values_read_like_people_write_them() {
        let f = FieldMeta::new("state", FieldType::String { max_length: 10 })
            .choices([Choice::new("draft", "Draft")]);
        assert_eq!(
            show(&Value::String(Some("draft".into())), &f).unwrap(),
            "Draft"
        );
        assert_eq!(show(&Value::String(None), &f), None);
        let b = FieldMeta::new("ok", FieldType::Bool);
        assert_eq!(show(&Value::Bool(Some(true)), &b).unwrap(), "Yes");
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(clip("abc", 3), "abc");
    }

    #[test]
    fn timestamps_fill_datetime_local_inputs() {
        let f = FieldMeta::new("at", FieldType::DateTime);
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:30:05Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            input_text(&Value::ChronoDateTimeUtc(Some(t)), &f),
            "2026-12-07T10:30:05"
        );
    }
}
