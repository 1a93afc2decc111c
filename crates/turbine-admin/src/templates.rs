//! The admin's templates (minijinja, HTML auto-escaped): built in, each overridable by a file
//! of the same name in the app's template folder ([`Admin::templates`](crate::Admin::templates)).

use std::path::PathBuf;

use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;
use minijinja::Environment;
use minijinja::value::{Serde, Value};

/// The built-in templates, by name.
const BUILT_IN: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("login.html", include_str!("../templates/login.html")),
    (
        "dashboard.html",
        include_str!("../templates/dashboard.html"),
    ),
    ("list.html", include_str!("../templates/list.html")),
    ("form.html", include_str!("../templates/form.html")),
    ("delete.html", include_str!("../templates/delete.html")),
    ("history.html", include_str!("../templates/history.html")),
    ("error.html", include_str!("../templates/error.html")),
    (
        "autocomplete.html",
        include_str!("../templates/autocomplete.html"),
    ),
];

/// The template environment.
pub(crate) struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The built-in templates, overridden by files in `dir`.
    pub(crate) fn new(dir: Option<PathBuf>) -> Self {
        let mut env = Environment::new();
        env.set_loader(move |name| {
            if let Some(dir) = &dir {
                // Names come from this crate, never from a request; refuse anything path-like.
                if !name.contains("..") && !name.starts_with('/') {
                    match std::fs::read_to_string(dir.join(name)) {
                        Ok(text) => return Ok(Some(text)),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            return Err(minijinja::Error::new(
                                minijinja::ErrorKind::InvalidOperation,
                                "cannot read an admin template override",
                            )
                            .with_source(e));
                        }
                    }
                }
            }
            Ok(BUILT_IN
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, text)| (*text).to_string()))
        });
        Self { env }
    }

    /// Renders `name` with `context` as an HTML response with `status`.
    pub(crate) fn page(
        &self,
        status: StatusCode,
        name: &str,
        context: &serde_json::Value,
    ) -> Response {
        match self.render(name, context) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, detail = ?e, "admin: a template failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<!doctype html><title>Server error</title><h1>Server error</h1><p>The page could not be rendered; the error is in the server's log.</p>"),
                )
                    .into_response()
            }
        }
    }

    /// Renders `name` with `context`.
    pub(crate) fn render(
        &self,
        name: &str,
        context: &serde_json::Value,
    ) -> Result<String, minijinja::Error> {
        self.env
            .get_template(name)?
            .render(Value::from(Serde(context)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_template_compiles_and_escapes() {
        let t = Templates::new(None);
        for (name, _) in BUILT_IN {
            t.env
                .get_template(name)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
        let html = t
            .render(
                "error.html",
                &serde_json::json!({"site": "S", "base": "/admin", "title": "<b>x</b>", "detail": "<script>"}),
            )
            .unwrap();
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
    }

    #[test]
    fn files_in_the_folder_override_built_ins() {
        let dir = std::env::temp_dir().join(format!("turbine-admin-tpl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("error.html"), "custom {{ title }}").unwrap();
        let t = Templates::new(Some(dir.clone()));
        let html = t
            .render("error.html", &serde_json::json!({"title": "<i>"}))
            .unwrap();
        assert_eq!(html, "custom &lt;i&gt;");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
