//! The `Auth` battery at set-up: configuration errors and the deploy checks.

use turbine::orm::battery::{Migrations, Orm};
use turbine_auth::Auth;
use turbine_core::battery::{Setup, SetupParts};
use turbine_core::check::CheckScope;
use turbine_core::config::Config;

fn config(profile: &str, toml: &str) -> Config {
    Config::builder()
        .no_file()
        .profile(profile)
        .toml(format!(
            "secret_key = 'an-example-secret-that-is-long-enough-123'\n\
             [database]\nurl = 'sqlite::memory:'\n{toml}"
        ))
        .env_vars::<String, String>([])
        .load()
        .unwrap()
}

fn install(profile: &str, toml: &str) -> turbine_core::Result<SetupParts> {
    let mut setup = Setup::new(config(profile, toml));
    setup.install(Orm::new().migrations(Migrations::none()))?;
    setup.install(Auth::new())?;
    setup.finish()
}

fn warnings(parts: &SetupParts, deploy: bool) -> Vec<String> {
    let scope = CheckScope {
        config: &parts.config,
        deploy,
    };
    parts
        .system_checks
        .iter()
        .flat_map(|check| check(scope))
        .map(|f| f.id)
        .filter(|id| id.starts_with("auth."))
        .collect()
}

#[test]
fn config_errors_are_clear() {
    let err = |toml: &str| match install("dev", toml) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("{toml} should fail"),
    };
    let e = err("[auth]\nsession_store = 'memcached'");
    assert!(e.contains("auth.session_store"), "{e}");
    let e = err("[auth]\nthrottle_store = 'redis'");
    assert!(e.contains("needs auth.redis_url"), "{e}");
    let e = err("[auth]\nreset_password_url = 'https://app.example/reset'");
    assert!(
        e.contains("auth.reset_password_url") && e.contains("{token}"),
        "{e}"
    );
    let e = err("[auth]\nprefix = 'auth'");
    assert!(e.contains("prefix"), "{e}");
}

#[test]
fn deploy_checks_name_plain_http_cookies_and_local_links() {
    let parts = install("dev", "").unwrap();
    assert!(warnings(&parts, false).is_empty(), "fine in dev");
    assert_eq!(warnings(&parts, true), ["auth.W001", "auth.W002"]);

    // Production: secure cookies by default; the links still point at localhost.
    let parts = install("prod", "").unwrap();
    assert_eq!(warnings(&parts, true), ["auth.W002"]);

    let links = "[auth]\nverify_email_url = 'https://chirp.example/verify?token={token}'\n\
                 reset_password_url = 'chirp://reset?token={token}'";
    let parts = install("prod", links).unwrap();
    assert!(warnings(&parts, true).is_empty());
}

#[tokio::test]
async fn user_fields_reach_the_apps_registry() {
    use turbine::prelude::App;
    use turbine::testing::TestClient;
    use turbine_orm::meta::{FieldMeta, FieldType};
    let app =
        App::new()
            .battery(Orm::new().migrations(Migrations::none()))
            .battery(Auth::new().user_field(
                FieldMeta::new("phone", FieldType::String { max_length: 20 }).nullable(),
            ))
            .config(config("test", ""));
    let client = TestClient::new(app).await.unwrap();
    let db = client.context().get::<turbine_orm::Db>().unwrap();
    let user = db.registry().and_then(|r| r.get("auth.User")).unwrap();
    assert!(user.fields.iter().any(|f| f.name == "phone"));

    // A field the battery could not insert stops the app, naming it.
    let bad = App::new()
        .battery(Orm::new().migrations(Migrations::none()))
        .battery(Auth::new().user_field(FieldMeta::new(
            "phone",
            FieldType::String { max_length: 20 },
        )))
        .config(config("test", ""));
    let err = TestClient::new(bad).await.unwrap_err().to_string();
    assert!(err.contains("phone"), "{err}");
}
