//! Mail for Turbine: build a [`Message`], send it with a [`Mailer`] through SMTP (lettre,
//! rustls), the console, `.eml` files or memory, and read what was sent from the [`Outbox`] in
//! tests. The [`Mail`] battery configures the mailer from `[mail]` and gives handlers a
//! `Mailer` extractor.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> turbine_mail::Result<()> {
//! use turbine_mail::{Mailer, Message};
//!
//! let mailer = Mailer::memory().default_from("Chirp <noreply@chirp.example>");
//! let vars = serde_json::json!({ "name": "Ann", "link": "https://chirp.example/confirm?t=1&u=2" });
//! let message = Message::template(
//!     "Welcome to Chirp, {{ name }}",
//!     "Hi {{ name }}, confirm your address: {{ link }}",
//!     Some("<p>Hi {{ name }}, <a href=\"{{ link }}\">confirm your address</a>.</p>"),
//!     &vars,
//! )?
//! .to("ann@example.com");
//! mailer.send(message).await?;
//!
//! let sent = mailer.outbox().unwrap().last().unwrap();
//! assert_eq!(sent.subject, "Welcome to Chirp, Ann");
//! assert!(sent.html.unwrap().contains("t=1&amp;u=2"));
//! # Ok(()) }
//! ```
//!
//! In an app: `App::new().battery(Mail::new())`, then `async fn handler(mailer: Mailer)`.
//! See `docs/mail.md` for the settings, transports and the `sendtestemail` command.

mod battery;
mod error;
mod mailer;
mod message;
pub mod template;
mod transport;

pub use battery::{Mail, MailSettings, MailerRejection, TransportKind};
pub use error::{Error, Result};
pub use mailer::{Mailer, Outbox, Transport};
pub use message::{Message, SentMessage};
