//! The admin's static files, embedded in the binary: Pico CSS and htmx (vendored from npm by
//! `scripts/vendor-admin-assets`, see `assets/vendor/VERSION`) and the admin's own CSS and JS.

use axum::response::IntoResponse;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use turbine_core::battery::Setup;
use turbine_core::routing::get;

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "pico.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/vendor/pico.min.css"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/htmx.min.js"),
    ),
    (
        "admin.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/admin.css"),
    ),
    (
        "admin.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/admin.js"),
    ),
];

pub(super) fn mount(setup: &mut Setup, base: &str) {
    for &(name, content_type, body) in FILES {
        setup.route(
            &format!("{base}/static/{name}"),
            get(move || async move {
                (
                    [
                        (CONTENT_TYPE, content_type),
                        (CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    body,
                )
                    .into_response()
            }),
        );
    }
}
