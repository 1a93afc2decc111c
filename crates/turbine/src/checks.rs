//! The core's system checks, run by `check` and `check --deploy`.

use turbine_core::check::{CheckScope, Finding};

/// Secret keys that appear in tutorials and templates.
const KNOWN_WEAK: &[&str] = &[
    "secret",
    "changeme",
    "change-me",
    "django-insecure",
    "password",
    "turbine",
];

/// Findings about the core settings.
pub(crate) fn core_checks(scope: CheckScope<'_>) -> Vec<Finding> {
    let config = scope.config;
    let s = config.settings();
    let mut out = Vec::new();
    if !scope.deploy {
        return out;
    }
    if !config.profile().is_prod() {
        out.push(
            Finding::warning(
                "deploy.W001",
                format!("checking the `{}` profile, not `prod`", config.profile()),
            )
            .hint("run `TURBINE_ENV=prod <app> check --deploy` to check what production will use"),
        );
    }
    if s.debug {
        out.push(
            Finding::error("security.E001", "debug is on")
                .hint("set debug = false for production (the prod profile does by default)"),
        );
    }
    let key = config.secret_key().expose();
    let lower = key.to_ascii_lowercase();
    let distinct = key.chars().collect::<std::collections::BTreeSet<_>>().len();
    if config.secret_key_generated() {
        out.push(
            Finding::error("security.E002", "no secret_key is configured")
                .hint("set TURBINE_SECRET_KEY to at least 32 random characters, e.g. `openssl rand -hex 32`"),
        );
    } else if key.len() < 32 || distinct < 8 || KNOWN_WEAK.iter().any(|w| lower.starts_with(w)) {
        out.push(
            Finding::error(
                "security.E003",
                "secret_key is weak (short, repetitive or a known default)",
            )
            .hint("use at least 32 random characters, e.g. `openssl rand -hex 32`"),
        );
    }
    if s.server.allowed_hosts.is_empty() || s.server.allowed_hosts.iter().any(|h| h == "*") {
        out.push(
            Finding::warning(
                "security.W001",
                "server.allowed_hosts is empty or \"*\": any Host header is accepted",
            )
            .hint("list the domains the app serves, e.g. allowed_hosts = [\"api.example.com\"]"),
        );
    }
    if !s.security.hsts {
        out.push(
            Finding::warning("security.W002", "HSTS is off")
                .hint("behind HTTPS, set security.hsts = true"),
        );
    }
    if !s.security.headers {
        out.push(Finding::warning(
            "security.W003",
            "security headers are off",
        ));
    }
    if s.cors.allowed_origins.iter().any(|o| o == "*") {
        out.push(
            Finding::warning("security.W004", "CORS allows any origin")
                .hint("list the origins of your web front-ends in cors.allowed_origins"),
        );
    }
    if s.http.request_timeout.is_none_or(|d| d.is_zero()) {
        out.push(Finding::warning(
            "http.W001",
            "no request timeout (http.request_timeout)",
        ));
    }
    if s.http.body_limit == 0 {
        out.push(Finding::warning(
            "http.W002",
            "no request body limit (http.body_limit)",
        ));
    }
    if s.log.format != turbine_core::config::LogFormat::Json {
        out.push(
            Finding::warning("log.W001", "logs are not JSON lines")
                .hint("set log.format = \"json\" so log collectors can parse them"),
        );
    }
    out
}
