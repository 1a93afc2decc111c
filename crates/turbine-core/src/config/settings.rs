//! The typed settings every Turbine app has, with defaults per profile.

use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize};

use super::Profile;

/// The core settings of an app: the top-level keys of `turbine.toml` that Turbine itself owns.
///
/// Batteries own further top-level sections (for example `[database]`) and read them with
/// [`Config::section`](super::Config::section).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Settings {
    /// Development mode: flagged by `check --deploy`; batteries read it for development
    /// conveniences. Off in `prod`.
    pub debug: bool,
    /// The key that signs sessions and tokens. Required in `prod`; generated in `dev`/`test`.
    pub secret_key: Option<Secret>,
    /// Listening socket, hosts, proxies and shutdown.
    pub server: ServerSettings,
    /// The default HTTP middleware stack.
    pub http: HttpSettings,
    /// Cross-origin resource sharing.
    pub cors: CorsSettings,
    /// Security response headers.
    pub security: SecuritySettings,
    /// Logging.
    pub log: LogSettings,
    /// `/health/live`, `/health/ready` and `/metrics`.
    pub observability: ObservabilitySettings,
}

/// `[server]`: where and how the app listens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerSettings {
    /// Interface to bind, e.g. `127.0.0.1` or `0.0.0.0`.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Tokio worker threads; `None` means one per CPU core.
    pub workers: Option<usize>,
    /// Host names the app answers to (`Host` header). Empty means any host; `"*"` also means any.
    /// A leading dot (`.example.com`) matches the domain and its subdomains.
    pub allowed_hosts: Vec<String>,
    /// Peers whose `X-Forwarded-For` and `X-Request-Id` headers are believed (addresses or CIDRs).
    pub trusted_proxies: Vec<IpNet>,
    /// How long in-flight requests may take to finish after a shutdown signal.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// How long a client may take to send a request's headers (also bounds idle keep-alive
    /// connections waiting for the next request), against slow-header attacks.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
}

/// `[http]`: the pieces of the default middleware stack, each one adjustable or removable.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct HttpSettings {
    /// Longest a request may take before it is answered with a problem response; `None` disables.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Option<Duration>,
    /// Status of the timeout response: 503 (default) or 408.
    pub timeout_status: u16,
    /// Largest accepted request body in bytes (`"2MiB"` style strings are accepted too); `0` disables.
    #[serde(deserialize_with = "byte_size")]
    pub body_limit: u64,
    /// Compress responses (gzip, brotli) when the client accepts it.
    pub compression: bool,
    /// Header carrying the request id, accepted from trusted proxies and echoed on responses.
    pub request_id_header: String,
    /// Value of the `Server` response header; empty to omit it.
    pub server_header: String,
    /// Also open a `tracing` span per request (request id, method, path) for span-aware
    /// subscribers such as OpenTelemetry. Log lines carry the request id either way; the span
    /// costs about a third of a bare axum request, so it is off by default.
    pub trace: bool,
}

/// `[cors]`: cross-origin resource sharing. Disabled while `allowed_origins` is empty.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CorsSettings {
    /// Origins allowed to call the API from a browser (`"*"` for any, not with credentials).
    pub allowed_origins: Vec<String>,
    /// Allowed methods for preflighted requests.
    pub allowed_methods: Vec<String>,
    /// Allowed request headers for preflighted requests.
    pub allowed_headers: Vec<String>,
    /// Allow cookies and `Authorization` on cross-origin requests.
    pub allow_credentials: bool,
    /// How long browsers may cache a preflight answer.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
}

/// `[security]`: headers set on every response unless a handler already set them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SecuritySettings {
    /// Send the security headers at all.
    pub headers: bool,
    /// `X-Content-Type-Options: nosniff`.
    pub content_type_nosniff: bool,
    /// `Referrer-Policy` value; empty to omit.
    pub referrer_policy: String,
    /// `X-Frame-Options` value (`DENY` or `SAMEORIGIN`), mirrored as CSP `frame-ancestors`; empty to omit.
    pub frame_options: String,
    /// `Strict-Transport-Security` (on by default in `prod`). Only enable behind HTTPS.
    pub hsts: bool,
    /// HSTS `max-age` in seconds (as the header states it).
    pub hsts_seconds: u64,
    /// HSTS `includeSubDomains`.
    pub hsts_include_subdomains: bool,
}

/// `[log]`: logging.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LogSettings {
    /// Levels by target, such as `info` or `info,turbine=debug`; `RUST_LOG` wins when set.
    pub level: String,
    /// `pretty` (dev default) or `json` (prod default: one JSON object per line).
    pub format: LogFormat,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, coloured when on a terminal.
    Pretty,
    /// One JSON object per line, with the span fields (request id) of each event.
    Json,
}

/// `[observability]`: health and metrics endpoints.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ObservabilitySettings {
    /// Serve `/health/live` and `/health/ready`.
    pub health: bool,
    /// Collect request metrics and serve them in Prometheus text format.
    pub metrics: bool,
    /// Path of the metrics endpoint.
    pub metrics_path: String,
    /// Longest a readiness check may take before it counts as failed.
    #[serde(with = "humantime_serde")]
    pub health_check_timeout: Duration,
}

/// A secret string: shown as `***` in `Debug`, in logs and by the `config` command.
///
/// Accepts numbers too (an all-digit `TURBINE_SECRET_KEY` arrives as one), taking their text.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(i128),
            Float(f64),
        }
        Ok(Secret(
            match Raw::deserialize(de).map_err(|_| {
                serde::de::Error::custom("expected a string (the value is not shown)")
            })? {
                Raw::Text(s) => s,
                Raw::Int(n) => n.to_string(),
                Raw::Float(f) => f.to_string(),
            },
        ))
    }
}

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Settings {
    /// The defaults of a profile: `prod` turns debug off, logs JSON and sends HSTS.
    pub fn defaults(profile: &Profile) -> Self {
        let prod = profile.is_prod();
        Settings {
            debug: !prod,
            secret_key: None,
            server: ServerSettings {
                host: "127.0.0.1".into(),
                port: 8000,
                workers: None,
                allowed_hosts: Vec::new(),
                trusted_proxies: Vec::new(),
                shutdown_timeout: Duration::from_secs(30),
                header_read_timeout: Duration::from_secs(30),
            },
            http: HttpSettings {
                request_timeout: Some(Duration::from_secs(30)),
                timeout_status: 503,
                body_limit: 2 * 1024 * 1024,
                compression: true,
                request_id_header: "x-request-id".into(),
                server_header: "turbine".into(),
                trace: false,
            },
            cors: CorsSettings {
                allowed_origins: Vec::new(),
                allowed_methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
                    .map(String::from)
                    .into(),
                allowed_headers: [
                    "authorization",
                    "content-type",
                    "x-requested-with",
                    "x-csrf-token",
                ]
                .map(String::from)
                .into(),
                allow_credentials: false,
                max_age: Duration::from_secs(3600),
            },
            security: SecuritySettings {
                headers: true,
                content_type_nosniff: true,
                referrer_policy: "same-origin".into(),
                frame_options: "DENY".into(),
                hsts: prod,
                hsts_seconds: 31_536_000,
                hsts_include_subdomains: true,
            },
            log: LogSettings {
                level: if profile.is_test() { "warn" } else { "info" }.into(),
                format: if prod {
                    LogFormat::Json
                } else {
                    LogFormat::Pretty
                },
            },
            observability: ObservabilitySettings {
                health: true,
                metrics: true,
                metrics_path: "/metrics".into(),
                health_check_timeout: Duration::from_secs(5),
            },
        }
    }
}

/// Accepts a byte count as an integer or as a string with a unit (`"512KiB"`, `"2MB"`, `"1 GiB"`).
fn byte_size<'de, D: Deserializer<'de>>(de: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(u64),
        Text(String),
    }
    match Raw::deserialize(de)? {
        Raw::Int(n) => Ok(n),
        Raw::Text(s) => parse_byte_size(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{s}` is not a size: expected a number of bytes or a number with a unit like 512KiB, 2MB, 1GiB"
            ))
        }),
    }
}

/// Parses `"2MiB"`, `"512 kb"`, `"1024"` into bytes.
pub(crate) fn parse_byte_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "kib" | "k" => 1 << 10,
        "mb" => 1_000_000,
        "mib" | "m" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" | "g" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::parse_byte_size;

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_byte_size("1024"), Some(1024));
        assert_eq!(parse_byte_size("2MiB"), Some(2 << 20));
        assert_eq!(parse_byte_size("512 kb"), Some(512_000));
        assert_eq!(parse_byte_size("1 GiB"), Some(1 << 30));
        assert_eq!(parse_byte_size("lots"), None);
        assert_eq!(parse_byte_size("2 parsecs"), None);
    }
}
