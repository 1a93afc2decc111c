//! Mail as a battery: one call on the app builder reads `[mail]`, puts a [`Mailer`] in the app
//! context (handlers take it as an extractor), adds the `sendtestemail` command and a deploy
//! check.
//!
//! ```
//! use turbine_core::battery::Setup;
//! use turbine_core::config::Config;
//! use turbine_mail::{Mail, TransportKind};
//!
//! let config = Config::builder()
//!     .no_file()
//!     .profile("test")
//!     .toml("[mail]\nfrom = 'Chirp <noreply@chirp.example>'")
//!     .env_vars::<String, String>([])
//!     .load()
//!     .unwrap();
//! let settings: turbine_mail::MailSettings = config.section("mail").unwrap();
//! assert_eq!(settings.transport_for(config.profile()), TransportKind::Memory);
//! let mut setup = Setup::new(config);
//! setup.install(Mail::new()).unwrap();
//! let parts = setup.finish().unwrap();
//! assert!(parts.commands.iter().any(|c| c.definition().get_name() == "sendtestemail"));
//! ```
//!
//! Settings (`[mail]` in `turbine.toml`, or `TURBINE_MAIL__*`):
//! - `transport`: `smtp`, `console`, `file` or `memory`; by default `smtp` when `url` is set,
//!   else `memory` in the `test` profile and `console` in the others;
//! - `url`: the SMTP server, a secret (`smtp://user:pass@host:587` with STARTTLS,
//!   `smtps://…:465`, `smtp+insecure://host:port` for local servers);
//! - `from`: the default sender;
//! - `dir`: the folder of the `file` transport.

use std::path::PathBuf;

use axum::extract::{FromRef, FromRequestParts};
use http::request::Parts;
use serde::{Deserialize, Serialize};
use turbine_core::battery::{Battery, Command, Setup};
use turbine_core::check::Finding;
use turbine_core::config::{Profile, Secret};
use turbine_core::context::Context;
use turbine_core::problem::Problem;

use crate::error::{Error, Result};
use crate::mailer::Mailer;
use crate::message::{self, Message};

/// The built-in transports `mail.transport` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TransportKind {
    /// An SMTP server (`mail.url`).
    Smtp,
    /// Log messages; deliver nothing.
    Console,
    /// One `.eml` file per message in `mail.dir`.
    File,
    /// Keep messages in memory for tests.
    Memory,
}

/// `[mail]` settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MailSettings {
    /// The transport; `None` picks one from `url` and the profile
    /// ([`MailSettings::transport_for`]).
    pub transport: Option<TransportKind>,
    /// The SMTP URL.
    pub url: Option<Secret>,
    /// The default sender.
    pub from: Option<String>,
    /// The folder of the file transport.
    pub dir: Option<PathBuf>,
}

impl MailSettings {
    /// The transport these settings select in a profile: the configured one, else `smtp` when
    /// a URL is set, `memory` in `test`, `console` otherwise.
    pub fn transport_for(&self, profile: &Profile) -> TransportKind {
        match (self.transport, &self.url) {
            (Some(kind), _) => kind,
            (None, Some(_)) => TransportKind::Smtp,
            (None, None) if profile.is_test() => TransportKind::Memory,
            (None, None) => TransportKind::Console,
        }
    }

    /// The mailer these settings describe in a profile; errors name the missing or bad key.
    pub fn mailer(&self, profile: &Profile) -> Result<Mailer> {
        let mailer = match self.transport_for(profile) {
            TransportKind::Smtp => {
                let url = self.url.as_ref().ok_or_else(|| {
                    Error::Config("mail.transport is \"smtp\" but mail.url is not set".into())
                })?;
                Mailer::smtp(url.expose()).map_err(|e| Error::Config(format!("mail.url: {e}")))?
            }
            TransportKind::Console => Mailer::console(),
            TransportKind::Memory => Mailer::memory(),
            TransportKind::File => {
                let dir = self.dir.as_ref().ok_or_else(|| {
                    Error::Config("mail.transport is \"file\" but mail.dir is not set".into())
                })?;
                Mailer::file(dir)
            }
        };
        match &self.from {
            Some(from) => {
                message::parse("mail.from", from)?;
                Ok(mailer.default_from(from))
            }
            None => Ok(mailer),
        }
    }
}

/// The mail battery: `App::new().battery(Mail::new())`.
#[derive(Debug, Default)]
pub struct Mail {
    mailer: Option<Mailer>,
}

impl Mail {
    /// The battery configured from `[mail]`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses this mailer (a custom [`Transport`](crate::Transport), say) instead of the
    /// configured transport; `mail.from` still fills in its default sender if it has none.
    pub fn mailer(mut self, mailer: Mailer) -> Self {
        self.mailer = Some(mailer);
        self
    }
}

impl Battery for Mail {
    fn name(&self) -> &'static str {
        "mail"
    }

    fn install(self, setup: &mut Setup) -> turbine_core::Result<()> {
        let settings: MailSettings = setup.section("mail")?;
        let profile = setup.config().profile().clone();
        let configuring = |e: Error| turbine_core::Error::other("configuring mail", e);
        let mailer = match self.mailer {
            Some(mailer) => match (&settings.from, mailer.default_from_address()) {
                (Some(from), None) => {
                    message::parse("mail.from", from).map_err(configuring)?;
                    mailer.default_from(from)
                }
                _ => mailer,
            },
            None => settings.mailer(&profile).map_err(configuring)?,
        };
        let transport = mailer.transport_name();
        setup.on_startup(move |cx| async move {
            cx.insert(mailer);
            Ok(())
        });
        setup.command(send_test_email());
        setup.system_check(move |scope| {
            let production = scope.deploy || scope.config.profile().is_prod();
            let mut out = Vec::new();
            if production && transport == "console" {
                out.push(
                    Finding::warning(
                        "mail.W001",
                        "mail goes to the console transport: messages are logged, never delivered",
                    )
                    .hint("set mail.url to your SMTP server (smtp://user:pass@host:587)"),
                );
            }
            if production && transport == "memory" {
                out.push(
                    Finding::warning(
                        "mail.W002",
                        "mail goes to the memory transport: messages are kept in memory, never delivered",
                    )
                    .hint("set mail.url to your SMTP server, or mail.transport = \"smtp\""),
                );
            }
            out
        });
        Ok(())
    }
}

/// `sendtestemail <to>…`: sends a short message through the configured transport.
fn send_test_email() -> Command {
    let definition = clap::Command::new("sendtestemail")
        .about("Send a test email through the configured mail transport")
        .arg(
            clap::Arg::new("to")
                .required(true)
                .num_args(1..)
                .help("Recipient address(es)"),
        );
    Command::new(definition, |ctx, args| async move {
        let mailer = ctx.require::<Mailer>()?.clone();
        let to: Vec<String> = args
            .get_many::<String>("to")
            .map(|v| v.cloned().collect())
            .unwrap_or_default();
        let mut message = Message::new()
            .subject("Test email from Turbine")
            .text(format!(
                "This is a test email sent by `sendtestemail` through the {} transport.\n\nIf you can read it, mail works.",
                mailer.transport_name()
            ));
        for address in &to {
            message = message.to(address.clone());
        }
        mailer.send(message).await.map_err(|e| {
            turbine_core::Error::other(
                format!(
                    "sending the test email through the {} transport",
                    mailer.transport_name()
                ),
                e,
            )
        })?;
        let note = match mailer.transport_name() {
            "console" => " (logged, not delivered)",
            "memory" => " (kept in memory, not delivered)",
            _ => "",
        };
        println!(
            "Sent a test email to {} through the {} transport{note}.",
            to.join(", "),
            mailer.transport_name()
        );
        Ok(())
    })
}

/// Why a handler could not get a [`Mailer`]: the mail battery is not installed.
#[derive(Debug, Clone, Copy)]
pub struct MailerRejection;

impl axum::response::IntoResponse for MailerRejection {
    fn into_response(self) -> axum::response::Response {
        tracing::error!("a handler asked for Mailer but the mail battery is not installed");
        Problem::new(http::StatusCode::INTERNAL_SERVER_ERROR).into_response()
    }
}

impl<S> FromRequestParts<S> for Mailer
where
    S: Send + Sync,
    Context: FromRef<S>,
{
    type Rejection = MailerRejection;

    async fn from_request_parts(
        _parts: &mut Parts,
        state: &S,
    ) -> std::result::Result<Self, Self::Rejection> {
        Context::from_ref(state)
            .get::<Mailer>()
            .cloned()
            .ok_or(MailerRejection)
    }
}
