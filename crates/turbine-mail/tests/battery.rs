//! The `Mail` battery: defaults per profile, config errors, the context, the extractor, the
//! `sendtestemail` command and the deploy checks.

use axum::extract::FromRequestParts;
use turbine_core::battery::{Setup, SetupParts};
use turbine_core::check::CheckScope;
use turbine_core::config::Config;
use turbine_core::context::{Context, ContextBuilder};
use turbine_mail::{Mail, Mailer, TransportKind};

fn config(profile: &str, toml: &str) -> Config {
    Config::builder()
        .no_file()
        .profile(profile)
        .toml(format!(
            "secret_key = 'an-example-secret-that-is-long-enough-123'\n{toml}"
        ))
        .env_vars::<String, String>([])
        .load()
        .unwrap()
}

fn install(config: Config, mail: Mail) -> turbine_core::Result<SetupParts> {
    let mut setup = Setup::new(config);
    setup.install(mail)?;
    setup.finish()
}

async fn start(parts: &mut SetupParts) -> Context {
    let builder = ContextBuilder::new(parts.config.clone());
    for (_, hook) in std::mem::take(&mut parts.startup) {
        hook(builder.clone()).await.unwrap();
    }
    builder.build()
}

async fn mailer_for(profile: &str, toml: &str) -> Mailer {
    let mut parts = install(config(profile, toml), Mail::new()).unwrap();
    start(&mut parts).await.get::<Mailer>().unwrap().clone()
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
        .collect()
}

#[tokio::test]
async fn default_transport_per_profile() {
    assert_eq!(mailer_for("test", "").await.transport_name(), "memory");
    assert_eq!(mailer_for("dev", "").await.transport_name(), "console");
    assert_eq!(mailer_for("prod", "").await.transport_name(), "console");
    let url = "[mail]\nurl = 'smtp+insecure://127.0.0.1:2525'";
    for profile in ["test", "dev", "prod"] {
        assert_eq!(mailer_for(profile, url).await.transport_name(), "smtp");
    }
    let explicit = "[mail]\ntransport = 'memory'\nurl = 'smtp://mail.example.com'";
    assert_eq!(
        mailer_for("prod", explicit).await.transport_name(),
        "memory"
    );
    let tmp = tempfile::tempdir().unwrap();
    let file = format!(
        "[mail]\ntransport = 'file'\ndir = '{}'",
        tmp.path().display()
    );
    assert_eq!(mailer_for("dev", &file).await.transport_name(), "file");
}

#[test]
fn settings_come_from_env_vars_too() {
    let config = Config::builder()
        .no_file()
        .profile("dev")
        .env_vars([
            ("TURBINE_MAIL__TRANSPORT", "memory"),
            ("TURBINE_MAIL__FROM", "env@example.com"),
        ])
        .load()
        .unwrap();
    let settings: turbine_mail::MailSettings = config.section("mail").unwrap();
    assert_eq!(
        settings.transport_for(config.profile()),
        TransportKind::Memory
    );
    assert_eq!(settings.from.as_deref(), Some("env@example.com"));
}

#[tokio::test]
async fn from_becomes_the_default_sender() {
    let mailer = mailer_for("test", "[mail]\nfrom = 'Chirp <noreply@chirp.example>'").await;
    assert_eq!(
        mailer.default_from_address(),
        Some("Chirp <noreply@chirp.example>")
    );
    let mailer = mailer_for("test", "").await;
    assert_eq!(mailer.default_from_address(), None);
}

#[test]
fn config_errors_are_clear() {
    let err = |profile: &str, toml: &str| match install(config(profile, toml), Mail::new()) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("{toml} should fail"),
    };
    let e = err("dev", "[mail]\ntransport = 'smtp'");
    assert!(e.contains("mail.url is not set"), "{e}");
    let e = err("dev", "[mail]\ntransport = 'file'");
    assert!(e.contains("mail.dir is not set"), "{e}");
    let e = err("dev", "[mail]\nfrom = 'nope'");
    assert!(e.contains("invalid address in `mail.from`"), "{e}");
    let e = err("dev", "[mail]\nurl = 'smtp://user:hunter2@/'");
    assert!(e.contains("mail.url"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");
    let e = err("dev", "[mail]\ntransport = 'pigeon'");
    assert!(e.contains("transport"), "{e}");
    let e = err("dev", "[mail]\nhost = 'x'");
    assert!(e.contains("host"), "{e}");
}

#[test]
fn console_or_memory_in_production_is_a_warning() {
    let parts = install(config("prod", ""), Mail::new()).unwrap();
    assert_eq!(warnings(&parts, false), ["mail.W001"]);
    let parts = install(config("dev", ""), Mail::new()).unwrap();
    assert!(warnings(&parts, false).is_empty(), "console is fine in dev");
    assert_eq!(warnings(&parts, true), ["mail.W001"], "check --deploy");
    let parts = install(config("prod", "[mail]\ntransport = 'memory'"), Mail::new()).unwrap();
    assert_eq!(warnings(&parts, false), ["mail.W002"]);
    let smtp = "[mail]\nurl = 'smtps://u:p@mail.example.com'";
    let parts = install(config("prod", smtp), Mail::new()).unwrap();
    assert!(warnings(&parts, true).is_empty());
}

#[tokio::test]
async fn a_given_mailer_wins_and_takes_the_configured_sender() {
    let mine = Mailer::memory();
    let outbox = mine.outbox().unwrap();
    let toml = "[mail]\nfrom = 'cfg@example.com'\ntransport = 'console'";
    let mut parts = install(config("dev", toml), Mail::new().mailer(mine)).unwrap();
    let ctx = start(&mut parts).await;
    let mailer = ctx.get::<Mailer>().unwrap();
    assert_eq!(mailer.transport_name(), "memory");
    assert_eq!(mailer.default_from_address(), Some("cfg@example.com"));
    mailer
        .send(turbine_mail::Message::new().to("a@example.com").text("x"))
        .await
        .unwrap();
    assert_eq!(outbox.len(), 1, "the given mailer's outbox");
}

#[tokio::test]
async fn handlers_extract_the_mailer() {
    let mut parts = install(config("test", ""), Mail::new()).unwrap();
    let ctx = start(&mut parts).await;
    let (mut req, ()) = http::Request::new(()).into_parts();
    let mailer = Mailer::from_request_parts(&mut req, &ctx).await.unwrap();
    assert_eq!(mailer.transport_name(), "memory");

    let empty = ContextBuilder::new(config("test", "")).build();
    let rejection = Mailer::from_request_parts(&mut req, &empty)
        .await
        .unwrap_err();
    let response = axum::response::IntoResponse::into_response(rejection);
    assert_eq!(response.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
}

async fn run_sendtestemail(
    ctx: &Context,
    parts: &mut SetupParts,
    args: &[&str],
) -> turbine_core::Result<()> {
    let index = parts
        .commands
        .iter()
        .position(|c| c.definition().get_name() == "sendtestemail")
        .expect("the sendtestemail command");
    let command = parts.commands.remove(index);
    let matches = command
        .definition()
        .clone()
        .try_get_matches_from(std::iter::once("sendtestemail").chain(args.iter().copied()))
        .map_err(|e| turbine_core::Error::Usage(e.to_string()))?;
    command.run(ctx.clone(), matches).await
}

#[tokio::test]
async fn sendtestemail_sends_or_explains() {
    let mut parts = install(
        config("test", "[mail]\nfrom = 'app@example.com'"),
        Mail::new(),
    )
    .unwrap();
    let ctx = start(&mut parts).await;
    run_sendtestemail(&ctx, &mut parts, &["ann@example.com", "bob@example.com"])
        .await
        .unwrap();
    let sent = ctx
        .get::<Mailer>()
        .unwrap()
        .outbox()
        .unwrap()
        .last()
        .unwrap();
    assert_eq!(sent.to, ["ann@example.com", "bob@example.com"]);
    assert_eq!(sent.subject, "Test email from Turbine");
    assert!(sent.text.unwrap().contains("memory transport"));

    // No sender configured: the error says what to set.
    let mut parts = install(config("test", ""), Mail::new()).unwrap();
    let ctx = start(&mut parts).await;
    let err = run_sendtestemail(&ctx, &mut parts, &["ann@example.com"])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sending the test email through the memory transport"),
        "{err}"
    );
    assert!(err.contains("mail.from"), "{err}");

    let mut parts = install(
        config("test", "[mail]\nfrom = 'a@example.com'"),
        Mail::new(),
    )
    .unwrap();
    let ctx = start(&mut parts).await;
    let err = run_sendtestemail(&ctx, &mut parts, &["not an address"])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invalid address in `to`"), "{err}");
    let mut parts = install(config("test", ""), Mail::new()).unwrap();
    let ctx = start(&mut parts).await;
    assert!(
        run_sendtestemail(&ctx, &mut parts, &[]).await.is_err(),
        "a recipient is required"
    );
}
