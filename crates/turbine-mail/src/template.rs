//! A deliberately tiny templating helper for mail: `{{ name }}` placeholders, nothing else.
//!
//! Values come from a JSON object; dotted names reach into nested objects (`{{ user.name }}`).
//! In HTML the values are escaped; in text and subjects they are inserted as they are. A
//! placeholder without a value is an error, never an empty string. For loops and conditionals use
//! a real template engine and hand its output to [`Message::text`](crate::Message::text) /
//! [`Message::html`](crate::Message::html).
//!
//! ```
//! use turbine_mail::template;
//!
//! let vars = serde_json::json!({ "name": "<Ann>", "code": 1234 });
//! assert_eq!(template::render_text("Hi {{ name }}, code {{code}}", &vars)?, "Hi <Ann>, code 1234");
//! assert_eq!(template::render_html("<p>Hi {{ name }}</p>", &vars)?, "<p>Hi &lt;Ann&gt;</p>");
//! assert!(template::render_text("Hi {{ nobody }}", &vars).is_err());
//! # Ok::<(), turbine_mail::Error>(())
//! ```

use serde_json::Value;

use crate::error::{Error, Result};

/// Fills the placeholders with the values as they are (for text parts and subjects).
pub fn render_text(template: &str, vars: &Value) -> Result<String> {
    render(template, vars, false)
}

/// Fills the placeholders with HTML-escaped values (for HTML parts).
pub fn render_html(template: &str, vars: &Value) -> Result<String> {
    render(template, vars, true)
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values.
pub fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

fn render(template: &str, vars: &Value, escape: bool) -> Result<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| Error::Template(format!("`{{{{` without `}}}}` in {template:?}")))?;
        let name = after[..end].trim();
        let value = lookup(vars, name)?;
        if escape {
            out.push_str(&escape_html(&value));
        } else {
            out.push_str(&value);
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn lookup(vars: &Value, name: &str) -> Result<String> {
    if name.is_empty() {
        return Err(Error::Template("an empty placeholder `{{ }}`".into()));
    }
    let mut value = vars;
    for part in name.split('.') {
        value = match value {
            Value::Object(map) => map.get(part),
            Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        }
        .ok_or_else(|| Error::Template(format!("no value for `{{{{ {name} }}}}`")))?;
    }
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Ok(String::new()),
        Value::Array(_) | Value::Object(_) => Err(Error::Template(format!(
            "`{{{{ {name} }}}}` is a list or an object; pass a string or a number"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_nested_and_spaced_placeholders() {
        let vars = json!({ "user": { "name": "Ann" }, "items": ["a", "b"], "n": 2.5, "ok": true, "none": null });
        assert_eq!(
            render_text(
                "{{user.name}}|{{ items.1 }}|{{  n }}|{{ok}}|{{ none }}",
                &vars
            )
            .unwrap(),
            "Ann|b|2.5|true|"
        );
    }

    #[test]
    fn escapes_only_html() {
        let vars = json!({ "x": "<script>alert('x') & \"y\"</script>" });
        assert_eq!(
            render_html("{{ x }}", &vars).unwrap(),
            "&lt;script&gt;alert(&#x27;x&#x27;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(
            render_text("{{ x }}", &vars).unwrap(),
            "<script>alert('x') & \"y\"</script>"
        );
        // The template itself is trusted and left alone.
        assert_eq!(render_html("<b>&amp;</b>", &vars).unwrap(), "<b>&amp;</b>");
    }

    #[test]
    fn errors_are_clear() {
        let vars = json!({ "list": [1], "obj": {} });
        let missing = render_text("Hi {{ name }}", &vars).unwrap_err().to_string();
        assert!(missing.contains("no value for `{{ name }}`"), "{missing}");
        let open = render_text("Hi {{ name", &vars).unwrap_err().to_string();
        assert!(open.contains("without `}}`"), "{open}");
        assert!(render_text("{{ }}", &vars).is_err());
        assert!(render_text("{{ list }}", &vars).is_err());
        assert!(render_text("{{ obj }}", &vars).is_err());
        assert!(render_text("{{ list.x }}", &vars).is_err());
    }

    #[test]
    fn values_are_not_rendered_again() {
        let vars = json!({ "a": "{{ b }}", "b": "no" });
        assert_eq!(render_text("{{ a }}", &vars).unwrap(), "{{ b }}");
    }
}
