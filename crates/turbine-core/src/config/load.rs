//! Building a [`Config`] from defaults, `turbine.toml`, the environment and code overrides.

use std::path::PathBuf;
use std::sync::Arc;

use figment::providers::Serialized;
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile as FigmentProfile, Provider};
use serde::Serialize;

use super::{Config, ConfigError, Inner, KeyError, Profile, Secret, Settings};

const ENV_PREFIX: &str = "TURBINE_";
/// Variables with the prefix that are not config keys.
/// (`SUPERUSER_PASSWORD` is read by the auth battery's `createsuperuser --no-input`.)
const ENV_RESERVED: &[&str] = &["ENV", "CONFIG", "REQUIRE_SERVICES", "SUPERUSER_PASSWORD"];
const ENV_RESERVED_PREFIXES: &[&str] = &["TEST_"];
const BUILTIN_PROFILES: &[&str] = &["dev", "test", "prod"];

/// Where the TOML comes from.
#[derive(Debug, Clone, Default)]
enum FileSource {
    /// `$TURBINE_CONFIG` if set (must exist), else `turbine.toml` if it exists.
    #[default]
    Default,
    /// This file, which must exist.
    Path(PathBuf),
    /// This text.
    Text(String),
    /// No file.
    None,
}

/// Builds a [`Config`]; see the [module docs](super) for the order of sources.
#[derive(Debug, Default)]
pub struct ConfigBuilder {
    profile: Option<String>,
    file: FileSource,
    env: Option<Vec<(String, String)>>,
    overrides: Vec<(String, Value)>,
}

impl ConfigBuilder {
    /// Selects the profile instead of reading `TURBINE_ENV`.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// Reads this file (it must exist) instead of `turbine.toml`.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = FileSource::Path(path.into());
        self
    }

    /// Uses this TOML text instead of a file (handy in tests).
    pub fn toml(mut self, text: impl Into<String>) -> Self {
        self.file = FileSource::Text(text.into());
        self
    }

    /// Reads no file at all.
    pub fn no_file(mut self) -> Self {
        self.file = FileSource::None;
        self
    }

    /// Uses these variables instead of the process environment (`TURBINE_ENV` among them too).
    pub fn env_vars<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.env = Some(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// Sets a dotted key in code, above every other source.
    ///
    /// # Panics
    /// If `value` cannot be serialized (a map with non-string keys, for instance).
    pub fn set(mut self, key: &str, value: impl Serialize) -> Self {
        let value = Value::serialize(value).expect("config override must serialize to a value");
        self.overrides.push((key.to_string(), value));
        self
    }

    /// Reads and validates everything.
    pub fn load(self) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = match self.env {
            Some(vars) => vars,
            None => std::env::vars().collect(),
        };
        let env_get = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());

        let (file_name, file_path, text) = read_file(&self.file, env_get("TURBINE_CONFIG"))?;
        let mut base: Dict = match &text {
            Some(text) => toml::from_str(text).map_err(|e| ConfigError::File {
                path: file_name.clone(),
                message: e.to_string(),
            })?,
            None => Dict::new(),
        };
        let profiles = match base.remove("profiles") {
            None => Dict::new(),
            Some(Value::Dict(_, d)) => d,
            Some(_) => {
                return Err(ConfigError::Invalid(vec![KeyError {
                    key: "profiles".into(),
                    origin: file_name,
                    message: "expected a table of profiles, e.g. [profiles.prod]".into(),
                }]));
            }
        };

        let name = self
            .profile
            .or_else(|| env_get("TURBINE_ENV"))
            .unwrap_or_else(|| "dev".into());
        if !BUILTIN_PROFILES.contains(&name.as_str()) && !profiles.contains_key(&name) {
            let mut known: Vec<String> = BUILTIN_PROFILES.iter().map(|s| s.to_string()).collect();
            known.extend(
                profiles
                    .keys()
                    .filter(|k| !known.contains(k))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
            return Err(ConfigError::UnknownProfile { name, known });
        }
        let profile = Profile::new(name);

        let mut figment = Figment::new().merge(named(
            Serialized::defaults(Settings::defaults(&profile)),
            "defaults",
        ));
        if text.is_some() {
            figment = figment.merge(Section::new(&file_name, file_path.clone(), base));
        }
        match profiles.get(profile.name()) {
            Some(Value::Dict(_, d)) => {
                let section = format!("{file_name} [profiles.{profile}]");
                figment = figment.merge(Section::new(&section, file_path.clone(), d.clone()));
            }
            Some(_) => {
                return Err(ConfigError::Invalid(vec![KeyError {
                    key: format!("profiles.{profile}"),
                    origin: file_name,
                    message: "expected a table".into(),
                }]));
            }
            None => {}
        }
        let mut vars: Vec<&(String, String)> =
            env.iter().filter(|(k, _)| is_config_var(k)).collect();
        vars.sort();
        for (var, raw) in vars {
            let key = var[ENV_PREFIX.len()..]
                .to_ascii_lowercase()
                .replace("__", ".");
            let value: Value = raw.parse().expect("parsing an env value is infallible");
            figment = figment.merge(Section::at(
                &format!("environment variable {var}"),
                &key,
                value,
            ));
        }
        for (key, value) in self.overrides {
            figment = figment.merge(Section::at(
                &format!("code override of `{key}`"),
                &key,
                value,
            ));
        }

        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::from_figment(&figment, e))?;
        validate(&settings, &figment)?;
        let (secret_key, secret_generated) = match &settings.secret_key {
            Some(key) => (key.clone(), false),
            None if profile.is_prod() => {
                return Err(ConfigError::MissingSecretKey {
                    profile: profile.to_string(),
                });
            }
            None => (Secret::new(generate_secret()), true),
        };
        Ok(Config(Arc::new(Inner {
            profile,
            figment,
            settings,
            secret_key,
            secret_generated,
            file: file_path,
        })))
    }
}

fn is_config_var(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
        return false;
    };
    !rest.is_empty()
        && !ENV_RESERVED.contains(&rest)
        && !ENV_RESERVED_PREFIXES.iter().any(|p| rest.starts_with(p))
}

/// Checks that serde cannot express.
fn validate(settings: &Settings, figment: &Figment) -> Result<(), ConfigError> {
    let mut errors = Vec::new();
    let mut bad = |key: &str, message: String| {
        errors.push(KeyError {
            key: key.into(),
            origin: origin(figment, key),
            message,
        })
    };
    if ![408, 503].contains(&settings.http.timeout_status) {
        bad("http.timeout_status", "expected 408 or 503".into());
    }
    if http::HeaderName::from_bytes(settings.http.request_id_header.as_bytes()).is_err() {
        bad(
            "http.request_id_header",
            "expected a valid HTTP header name".into(),
        );
    }
    if http::HeaderValue::from_str(&settings.http.server_header).is_err() {
        bad("http.server_header", "expected a valid header value".into());
    }
    if !settings.observability.metrics_path.starts_with('/') {
        bad(
            "observability.metrics_path",
            "expected a path starting with `/`".into(),
        );
    }
    for (i, origin_str) in settings.cors.allowed_origins.iter().enumerate() {
        if origin_str != "*" && http::HeaderValue::from_str(origin_str).is_err() {
            bad(
                &format!("cors.allowed_origins.{i}"),
                "expected an origin like https://app.example.com".into(),
            );
        }
    }
    if settings.cors.allow_credentials && settings.cors.allowed_origins.iter().any(|o| o == "*") {
        bad(
            "cors.allow_credentials",
            "cannot be true while cors.allowed_origins contains \"*\"; list the origins".into(),
        );
    }
    for (i, m) in settings.cors.allowed_methods.iter().enumerate() {
        if http::Method::from_bytes(m.as_bytes()).is_err() {
            bad(
                &format!("cors.allowed_methods.{i}"),
                "expected an HTTP method".into(),
            );
        }
    }
    for (i, h) in settings.cors.allowed_headers.iter().enumerate() {
        if http::HeaderName::from_bytes(h.as_bytes()).is_err() {
            bad(
                &format!("cors.allowed_headers.{i}"),
                "expected a header name".into(),
            );
        }
    }
    for (i, h) in settings.server.allowed_hosts.iter().enumerate() {
        let h = h.trim();
        let problem = if h.is_empty() {
            Some("is empty")
        } else if h.starts_with("*.") {
            Some("wildcards are written `.example.com` (the domain and its subdomains)")
        } else if h != "*" && !h.starts_with('[') && h.contains(':') {
            Some("is a host name without a port")
        } else {
            None
        };
        if let Some(problem) = problem {
            bad(
                &format!("server.allowed_hosts.{i}"),
                format!("`{h}`: expected a host name like api.example.com; this {problem}"),
            );
        }
    }
    for (key, value) in [
        (
            "security.referrer_policy",
            &settings.security.referrer_policy,
        ),
        ("security.frame_options", &settings.security.frame_options),
    ] {
        if http::HeaderValue::from_str(value).is_err() {
            bad(key, "expected a valid header value".into());
        }
    }
    if settings.cors.allow_credentials {
        for (key, list) in [
            ("cors.allowed_headers", &settings.cors.allowed_headers),
            ("cors.allowed_methods", &settings.cors.allowed_methods),
        ] {
            if list.iter().any(|v| v == "*") {
                bad(
                    key,
                    "cannot contain \"*\" while cors.allow_credentials is true; list them".into(),
                );
            }
        }
    }
    if settings.server.workers == Some(0) {
        bad("server.workers", "expected at least 1".into());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ConfigError::Invalid(errors))
    }
}

fn read_file(
    source: &FileSource,
    env_path: Option<String>,
) -> Result<(String, Option<PathBuf>, Option<String>), ConfigError> {
    let read = |path: PathBuf, must_exist: bool| {
        let name = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((name, Some(path), Some(text))),
            Err(e) if !must_exist && e.kind() == std::io::ErrorKind::NotFound => {
                Ok((name, None, None))
            }
            Err(e) => Err(ConfigError::File {
                path: name,
                message: e.to_string(),
            }),
        }
    };
    match source {
        FileSource::Default => match env_path {
            Some(p) => read(PathBuf::from(p), true),
            None => read(PathBuf::from("turbine.toml"), false),
        },
        FileSource::Path(p) => read(p.clone(), true),
        FileSource::Text(t) => Ok(("inline TOML".into(), None, Some(t.clone()))),
        FileSource::None => Ok(("no file".into(), None, None)),
    }
}

fn generate_secret() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..50)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// A provider with a name that says where its values came from.
pub(super) struct Section {
    name: String,
    file: Option<PathBuf>,
    data: Dict,
}

impl Section {
    fn new(name: &str, file: Option<PathBuf>, data: Dict) -> Self {
        Self {
            name: name.to_string(),
            file,
            data,
        }
    }

    /// A source setting one dotted key.
    fn at(name: &str, key: &str, value: Value) -> Self {
        let data = match figment::util::nest(key, value) {
            Value::Dict(_, d) => d,
            _ => unreachable!("nest always returns a dict"),
        };
        Self::new(name, None, data)
    }
}

impl Provider for Section {
    fn metadata(&self) -> Metadata {
        let meta = Metadata::named(self.name.clone());
        match &self.file {
            Some(path) => meta.source(figment::Source::File(path.clone())),
            None => meta,
        }
    }

    fn data(&self) -> Result<Map<FigmentProfile, Dict>, figment::Error> {
        Ok(FigmentProfile::Default.collect(self.data.clone()))
    }
}

/// Wraps a provider to give it a name used in error messages.
pub(super) fn named<P: Provider>(provider: P, name: &str) -> Section {
    let data = provider
        .data()
        .ok()
        .and_then(|mut m| m.remove(&FigmentProfile::Default))
        .unwrap_or_default();
    Section::new(name, None, data)
}

/// The merged data of every source.
pub(super) fn merged(figment: &Figment) -> Result<Dict, ConfigError> {
    let mut data = figment
        .data()
        .map_err(|e| ConfigError::from_figment(figment, e))?;
    Ok(data.remove(&FigmentProfile::Default).unwrap_or_default())
}

/// Names the source of the value at `key`, or the nearest parent that has one.
pub(super) fn origin(figment: &Figment, key: &str) -> String {
    let mut key = key;
    loop {
        if let Some(meta) = figment.find_metadata(key) {
            return meta.name.to_string();
        }
        match key.rfind('.') {
            Some(i) => key = &key[..i],
            None => return "defaults".into(),
        }
    }
}

/// Key names whose values are never printed.
/// `true` when any segment of a dotted key names a secret (`secret_key`, `auth.secrets.github`,
/// `signing_keys`, `db.password`…).
pub(super) fn is_secret_key(key: &str) -> bool {
    key.split('.').any(|segment| {
        let s = segment.to_ascii_lowercase();
        [
            "secret",
            "password",
            "passwd",
            "token",
            "private",
            "credential",
        ]
        .iter()
        .any(|w| s.contains(w))
            || s.ends_with("key")
            || s.ends_with("keys")
    })
}

/// Replaces a password in a URL's user info (`postgres://u:pw@host`) with `***`.
fn redact_url(s: &str) -> Option<String> {
    let scheme_end = s.find("://")? + 3;
    let authority_end = s[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(s.len(), |i| i + scheme_end);
    // The last `@` of the authority ends the user info, even if the password contains `@`.
    let at = s[scheme_end..authority_end].rfind('@')? + scheme_end;
    let colon = s[scheme_end..at].find(':')? + scheme_end;
    Some(format!("{}***{}", &s[..=colon], &s[at..]))
}

/// A copy of `value` with URL passwords hidden, in strings at any depth.
fn redact_urls(value: &Value) -> Value {
    match value {
        Value::String(_, s) => redact_url(s).map_or_else(|| value.clone(), Value::from),
        Value::Array(tag, items) => Value::Array(*tag, items.iter().map(redact_urls).collect()),
        Value::Dict(tag, dict) => Value::Dict(
            *tag,
            dict.iter()
                .map(|(k, v)| (k.clone(), redact_urls(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

pub(super) fn render(figment: &Figment, profile: &Profile) -> String {
    let mut out = format!("# profile: {profile}\n");
    let data = match merged(figment) {
        Ok(d) => d,
        Err(e) => return format!("{out}# {e}\n"),
    };
    let (tables, scalars): (Vec<_>, Vec<_>) =
        data.iter().partition(|(_, v)| matches!(v, Value::Dict(..)));
    for (k, v) in scalars {
        render_value(figment, &mut out, k, k, v);
    }
    for (k, v) in tables {
        render_table(figment, &mut out, k, v);
    }
    out
}

fn render_table(figment: &Figment, out: &mut String, path: &str, value: &Value) {
    let Value::Dict(_, dict) = value else { return };
    out.push_str(&format!("\n[{path}]\n"));
    let mut nested = Vec::new();
    for (k, v) in dict {
        let full = format!("{path}.{k}");
        if matches!(v, Value::Dict(..)) {
            nested.push((full, v));
        } else {
            render_value(figment, out, k, &full, v);
        }
    }
    for (full, v) in nested {
        render_table(figment, out, &full, v);
    }
}

fn render_value(figment: &Figment, out: &mut String, name: &str, full: &str, value: &Value) {
    if matches!(value, Value::Empty(..)) {
        out.push_str(&format!("# {name}: not set\n"));
        return;
    }
    let shown = if is_secret_key(full) {
        "\"***\"".to_string()
    } else {
        toml::Value::try_from(redact_urls(value))
            .map(|t| t.to_string())
            .unwrap_or_else(|_| "# (no value)".into())
    };
    let line = format!("{name} = {shown}");
    out.push_str(&format!("{line:<48} # {}\n", origin(figment, full)));
}
