//! Config loading: profiles, sources, and errors that name the key and its source.

use std::collections::BTreeSet;

use turbine_core::config::{Config, ConfigError, LogFormat};

fn builder() -> turbine_core::config::ConfigBuilder {
    Config::builder().no_file().env_vars::<String, String>([])
}

#[test]
fn dev_is_the_default_profile_with_a_generated_secret() {
    let config = builder().load().unwrap();
    assert_eq!(config.profile().name(), "dev");
    assert!(config.settings().debug);
    assert!(config.secret_key_generated());
    assert!(config.secret_key().expose().len() >= 32);
    assert_eq!(config.settings().log.format, LogFormat::Pretty);
}

#[test]
fn prod_requires_a_secret_key() {
    let err = builder().profile("prod").load().unwrap_err();
    assert!(matches!(err, ConfigError::MissingSecretKey { .. }), "{err}");
    assert!(err.to_string().contains("TURBINE_SECRET_KEY"));
}

#[test]
fn prod_defaults_turn_debug_off_and_hsts_on() {
    let config = builder()
        .profile("prod")
        .env_vars([("TURBINE_SECRET_KEY", "x".repeat(40))])
        .load()
        .unwrap();
    assert!(!config.settings().debug);
    assert!(config.settings().security.hsts);
    assert_eq!(config.settings().log.format, LogFormat::Json);
    assert!(!config.secret_key_generated());
}

#[test]
fn profile_section_overrides_top_level_and_env_overrides_both() {
    let toml = "[server]\nport = 1\nhost = 'a'\n[profiles.test.server]\nport = 2\n";
    let config = builder().toml(toml).profile("test").load().unwrap();
    assert_eq!(config.settings().server.port, 2);
    assert_eq!(config.settings().server.host, "a");
    let config = builder()
        .toml(toml)
        .env_vars([("TURBINE_ENV", "test"), ("TURBINE_SERVER__PORT", "3")])
        .load()
        .unwrap();
    assert_eq!(config.profile().name(), "test");
    assert_eq!(config.settings().server.port, 3);
    let config = builder().toml(toml).set("server.port", 4).load().unwrap();
    assert_eq!(config.settings().server.port, 4);
}

#[test]
fn wrong_type_in_file_names_key_file_and_expectation() {
    let err = builder()
        .toml("[server]\nport = 'eighty'\n")
        .load()
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`server.port`"), "{msg}");
    assert!(msg.contains("inline TOML"), "{msg}");
    assert!(msg.contains("u16"), "{msg}");
}

#[test]
fn wrong_type_in_profile_section_names_the_section() {
    let err = builder()
        .toml("[profiles.prod]\ndebug = 'yes please'\n")
        .profile("prod")
        .load()
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`debug`"), "{msg}");
    assert!(msg.contains("[profiles.prod]"), "{msg}");
    assert!(msg.contains("bool"), "{msg}");
}

#[test]
fn wrong_type_in_env_names_the_variable() {
    let err = builder()
        .env_vars([("TURBINE_HTTP__COMPRESSION", "sometimes")])
        .load()
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`http.compression`"), "{msg}");
    assert!(
        msg.contains("environment variable TURBINE_HTTP__COMPRESSION"),
        "{msg}"
    );
}

#[test]
fn unknown_nested_key_is_an_error_naming_its_source() {
    let err = builder()
        .toml("[server]\nprot = 8000\n")
        .load()
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`server.prot`"), "{msg}");
    assert!(msg.contains("inline TOML"), "{msg}");
    assert!(msg.contains("port"), "expected keys are listed: {msg}");
}

#[test]
fn unknown_top_level_key_is_reported_unless_a_battery_claims_it() {
    let config = builder()
        .env_vars([("TURBINE_DATABSE__URL", "sqlite://x")])
        .load()
        .unwrap();
    let err = config.check_unknown_keys(&BTreeSet::new()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`databse`"), "{msg}");
    assert!(msg.contains("TURBINE_DATABSE__URL"), "{msg}");
    let claimed = BTreeSet::from(["databse".to_string()]);
    config.check_unknown_keys(&claimed).unwrap();
}

#[test]
fn reserved_env_vars_are_not_config_keys() {
    let config = builder()
        .env_vars([
            ("TURBINE_TEST_POSTGRES_URL", "postgres://x"),
            ("TURBINE_REQUIRE_SERVICES", "1"),
            ("TURBINE_SUPERUSER_PASSWORD", "a long passphrase"),
        ])
        .load()
        .unwrap();
    config.check_unknown_keys(&BTreeSet::new()).unwrap();
}

#[test]
fn unknown_profile_is_an_error() {
    let err = builder()
        .env_vars([("TURBINE_ENV", "staging")])
        .load()
        .unwrap_err();
    assert!(err.to_string().contains("staging"), "{err}");
    let config = builder()
        .toml("[profiles.staging]\ndebug = false\n")
        .env_vars([("TURBINE_ENV", "staging")])
        .load()
        .unwrap();
    assert!(!config.settings().debug);
}

#[test]
fn toml_syntax_error_names_the_file() {
    let err = builder().toml("[server\n").load().unwrap_err();
    assert!(matches!(err, ConfigError::File { .. }), "{err}");
}

#[test]
fn validation_errors_name_the_key() {
    let err = builder()
        .toml("[http]\ntimeout_status = 500\n")
        .load()
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("`http.timeout_status`") && msg.contains("408 or 503"),
        "{msg}"
    );
    let err = builder()
        .toml("[cors]\nallowed_origins = ['*']\nallow_credentials = true\n")
        .load()
        .unwrap_err();
    assert!(err.to_string().contains("cors.allow_credentials"), "{err}");
}

#[test]
fn durations_and_sizes_parse_from_strings() {
    let config = builder()
        .toml("[http]\nrequest_timeout = '250ms'\nbody_limit = '1MiB'\n")
        .load()
        .unwrap();
    assert_eq!(
        config.settings().http.request_timeout,
        Some(std::time::Duration::from_millis(250))
    );
    assert_eq!(config.settings().http.body_limit, 1 << 20);
    let err = builder()
        .toml("[http]\nbody_limit = 'huge'\n")
        .load()
        .unwrap_err();
    assert!(err.to_string().contains("http.body_limit"), "{err}");
}

#[test]
fn battery_sections_get_defaults_and_errors() {
    #[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Db {
        url: String,
        pool: u32,
    }
    let config = builder()
        .env_vars([("TURBINE_DB__POOL", "8")])
        .load()
        .unwrap();
    let db: Db = config.section("db").unwrap();
    assert_eq!(db.pool, 8);
    assert_eq!(db.url, "");
    let config = builder()
        .env_vars([("TURBINE_DB__POOL", "many")])
        .load()
        .unwrap();
    let err = config.section::<Db>("db").unwrap_err().to_string();
    assert!(
        err.contains("db.pool") && err.contains("TURBINE_DB__POOL"),
        "{err}"
    );
}

#[test]
fn render_redacts_secrets_and_names_sources() {
    let config = builder()
        .toml("secret_key = 'supersecretsupersecretsupersecret'\n[server]\nport = 9000\n")
        .env_vars([("TURBINE_DB__URL", "postgres://u:hunter2@db/app")])
        .load()
        .unwrap();
    let out = config.render();
    assert!(!out.contains("supersecret"), "{out}");
    assert!(!out.contains("hunter2"), "{out}");
    assert!(out.contains("postgres://u:***@db/app"), "{out}");
    assert!(out.contains("port = 9000"), "{out}");
    assert!(out.contains("inline TOML"), "{out}");
}

#[test]
fn secrets_are_redacted_at_any_depth() {
    let config = builder()
        .toml(
            "[auth]\nsigning_keys = ['k1-very-secret', 'k2-very-secret']\n[auth.secrets]\ngithub = 'gh-very-secret'\n\
             [db]\nreplicas = ['postgres://u:p@ss-very-secret@h/db']\n",
        )
        .load()
        .unwrap();
    let out = config.render();
    assert!(!out.contains("very-secret"), "{out}");
    assert!(out.contains("postgres://u:***@h/db"), "{out}");
}

#[test]
fn an_all_digit_secret_key_is_accepted_and_never_echoed() {
    let config = builder()
        .profile("prod")
        .env_vars([("TURBINE_SECRET_KEY", "12345678901234567890123456789012345")])
        .load()
        .unwrap();
    assert_eq!(
        config.secret_key().expose(),
        "12345678901234567890123456789012345"
    );
    let err = builder()
        .env_vars([("TURBINE_SECRET_KEY", "[1, 2]")])
        .load()
        .unwrap_err()
        .to_string();
    assert!(err.contains("secret_key") && !err.contains("1, 2"), "{err}");
}

#[test]
fn allowed_hosts_that_could_never_match_are_errors() {
    for bad in ["'api.example.com:443'", "'*.example.com'", "''"] {
        let err = builder()
            .toml(format!("[server]\nallowed_hosts = [{bad}]\n"))
            .load()
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.allowed_hosts.0"), "{bad}: {err}");
    }
    builder()
        .toml("[server]\nallowed_hosts = ['api.example.com', '.example.org', '*']\n")
        .load()
        .unwrap();
}

#[test]
fn cors_wildcards_with_credentials_are_errors() {
    let err = builder()
        .toml("[cors]\nallowed_origins = ['https://a.example']\nallowed_headers = ['*']\nallow_credentials = true\n")
        .load()
        .unwrap_err()
        .to_string();
    assert!(err.contains("cors.allowed_headers"), "{err}");
}
