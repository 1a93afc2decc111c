//! The docs UI: Swagger UI, vendored from the npm package `swagger-ui-dist` (see
//! `assets/swagger-ui/VERSION` and `scripts/vendor-swagger-ui`) and embedded in the binary —
//! nothing is fetched at build or run time, and the page loads no third-party origin.

use axum::response::{Html, IntoResponse};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use turbine_core::battery::Setup;
use turbine_core::routing::get;

const BUNDLE: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js");
const CSS: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css");

/// Escapes text for an HTML attribute or a JavaScript string in one.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

fn page(docs: &str, openapi: &str) -> String {
    let (docs, openapi) = (escape(docs.trim_end_matches('/')), escape(openapi));
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API docs</title>
<link rel="stylesheet" href="{docs}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="{docs}/swagger-ui-bundle.js"></script>
<script src="{docs}/init.js"></script>
</body>
</html>
"#
    )
}

const INIT: &str = r#"window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.getAttribute("data-openapi"),
    domNode: el,
    deepLinking: true,
    persistAuthorization: true,
    withCredentials: true
  });
});
"#;

fn asset(content_type: &'static str, body: &'static [u8]) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
}

/// Mounts the page at `docs` (reading the document at `openapi`) and its assets under it.
pub(crate) fn mount(setup: &mut Setup, docs: &str, openapi: &str) {
    let html = page(docs, openapi);
    let base = docs.trim_end_matches('/').to_owned();
    setup.route(docs, get(move || async move { Html(html) }));
    setup.route(
        &format!("{base}/swagger-ui-bundle.js"),
        get(|| async { asset("text/javascript; charset=utf-8", BUNDLE) }),
    );
    setup.route(
        &format!("{base}/swagger-ui.css"),
        get(|| async { asset("text/css; charset=utf-8", CSS) }),
    );
    setup.route(
        &format!("{base}/init.js"),
        get(|| async { asset("text/javascript; charset=utf-8", INIT.as_bytes()) }),
    );
}
