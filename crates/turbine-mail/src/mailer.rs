//! The [`Mailer`] handlers send with, and the [`Transport`] trait behind it.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> turbine_mail::Result<()> {
//! use turbine_mail::{Mailer, Message};
//!
//! let mailer = Mailer::memory().default_from("Chirp <noreply@chirp.example>");
//! mailer.send(Message::new().to("ann@example.com").subject("Hi").text("Hello")).await?;
//! let outbox = mailer.outbox().expect("the memory transport keeps an outbox");
//! assert_eq!(outbox.len(), 1);
//! assert_eq!(outbox.last().unwrap().from, "Chirp <noreply@chirp.example>");
//! # Ok(()) }
//! ```

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;

use crate::error::Result;
use crate::message::{Message, SentMessage};
use crate::transport::{Console, File, Memory, Smtp};

/// Where messages go: SMTP, the console, files, memory, or your own.
///
/// ```
/// use futures_util::future::BoxFuture;
/// use turbine_mail::{Mailer, SentMessage, Transport};
///
/// /// Counts messages instead of sending them.
/// #[derive(Default)]
/// struct Counter(std::sync::atomic::AtomicUsize);
///
/// impl Transport for Counter {
///     fn name(&self) -> &'static str { "counter" }
///     fn send<'a>(&'a self, _message: &'a SentMessage) -> BoxFuture<'a, turbine_mail::Result<()>> {
///         self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///         Box::pin(async { Ok(()) })
///     }
/// }
///
/// let mailer = Mailer::new(Counter::default());
/// assert_eq!(mailer.transport_name(), "counter");
/// ```
pub trait Transport: Send + Sync + 'static {
    /// A short name for logs and the `sendtestemail` report (`smtp`, `console`…).
    fn name(&self) -> &'static str;

    /// Delivers one built message, or says why it could not (never `Ok` without delivering).
    fn send<'a>(&'a self, message: &'a SentMessage) -> BoxFuture<'a, Result<()>>;
}

/// Sends mail: cheap to clone (handles inside), shared through the app context.
#[derive(Clone)]
pub struct Mailer {
    transport: Arc<dyn Transport>,
    default_from: Option<Arc<str>>,
    outbox: Option<Outbox>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("transport", &self.transport.name())
            .field("default_from", &self.default_from)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer over a transport of your own.
    pub fn new(transport: impl Transport) -> Self {
        Self {
            transport: Arc::new(transport),
            default_from: None,
            outbox: None,
        }
    }

    /// Keeps messages in memory, in an [`Outbox`] tests read ([`Mailer::outbox`]); the default in
    /// the `test` profile.
    pub fn memory() -> Self {
        let outbox = Outbox::default();
        Self {
            outbox: Some(outbox.clone()),
            ..Self::new(Memory(outbox))
        }
    }

    /// Logs each message (sender, recipients, subject, body) through `tracing` at `info`; the
    /// default in development. Nothing is delivered.
    pub fn console() -> Self {
        Self::new(Console)
    }

    /// Writes each message to `dir` as an RFC 5322 `.eml` file named by time and a UUID
    /// (`20260102T030405.123456Z-<uuid>.eml`); the folder is created when needed.
    pub fn file(dir: impl Into<PathBuf>) -> Self {
        Self::new(File::new(dir.into()))
    }

    /// Sends through an SMTP server, with a connection pool:
    /// - `smtp://user:pass@host:587`: STARTTLS, required (the default port is 587);
    /// - `smtps://user:pass@host:465`: TLS from the first byte (default port 465);
    /// - `smtp+insecure://host:1025`: plain text, for local development and test servers only
    ///   (default port 25).
    ///
    /// Credentials are percent-decoded (`p%40ss` is `p@ss`). The URL is checked now; connections
    /// are opened on the first send, so this may be called outside a tokio runtime.
    ///
    /// ```
    /// use turbine_mail::Mailer;
    ///
    /// assert!(Mailer::smtp("smtp://user:p%40ss@smtp.example.com").is_ok());
    /// let err = Mailer::smtp("http://smtp.example.com").unwrap_err();
    /// assert!(err.to_string().contains("smtp://, smtps:// or smtp+insecure://"));
    /// ```
    pub fn smtp(url: &str) -> Result<Self> {
        Ok(Self::new(Smtp::from_url(url)?))
    }

    /// The sender of messages that name none (`Name <user@example.com>` or an address).
    pub fn default_from(mut self, address: impl Into<String>) -> Self {
        self.default_from = Some(address.into().into());
        self
    }

    /// The default sender, if set.
    pub fn default_from_address(&self) -> Option<&str> {
        self.default_from.as_deref()
    }

    /// The transport's name (`memory`, `console`, `file`, `smtp` or a custom one's).
    pub fn transport_name(&self) -> &'static str {
        self.transport.name()
    }

    /// The messages sent so far, for the memory transport; `None` for the others.
    pub fn outbox(&self) -> Option<Outbox> {
        self.outbox.clone()
    }

    /// Builds the message (filling in the default sender), checks it and hands it to the
    /// transport. An error means the message was not sent.
    pub async fn send(&self, message: Message) -> Result<()> {
        let message = match (&self.default_from, message.has_from()) {
            (Some(from), false) => message.from(from.as_ref()),
            _ => message,
        };
        let built = message.build()?;
        self.transport.send(&built).await?;
        tracing::debug!(
            transport = self.transport.name(),
            recipients = built.envelope_to().len(),
            "mail sent"
        );
        Ok(())
    }
}

/// The messages a memory [`Mailer`] has sent, oldest first; clones share the same list.
#[derive(Debug, Clone, Default)]
pub struct Outbox(Arc<Mutex<Vec<SentMessage>>>);

impl Outbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SentMessage>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn push(&self, message: SentMessage) {
        self.lock().push(message);
    }

    /// A copy of every message, oldest first.
    pub fn messages(&self) -> Vec<SentMessage> {
        self.lock().clone()
    }

    /// The latest message.
    pub fn last(&self) -> Option<SentMessage> {
        self.lock().last().cloned()
    }

    /// How many messages were sent.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// `true` when nothing was sent.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Forgets every message.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[tokio::test]
    async fn outbox_records_in_order_and_clears() {
        let mailer = Mailer::memory().default_from("app@example.com");
        let outbox = mailer.outbox().unwrap();
        assert!(outbox.is_empty());
        assert_eq!(outbox.last(), None);
        for n in 1..=3 {
            let msg = Message::new()
                .to(format!("u{n}@example.com"))
                .subject(format!("#{n}"))
                .text("x");
            mailer.send(msg).await.unwrap();
        }
        let clone = mailer.clone();
        assert_eq!(clone.outbox().unwrap().len(), 3, "clones share the outbox");
        let subjects: Vec<_> = outbox.messages().into_iter().map(|m| m.subject).collect();
        assert_eq!(subjects, ["#1", "#2", "#3"]);
        assert_eq!(outbox.last().unwrap().to, ["u3@example.com"]);
        outbox.clear();
        assert_eq!(outbox.len(), 0);
    }

    #[tokio::test]
    async fn message_from_overrides_the_default() {
        let mailer = Mailer::memory().default_from("app@example.com");
        let msg = Message::new()
            .from("Boss <boss@example.com>")
            .to("a@example.com")
            .text("x");
        mailer.send(msg).await.unwrap();
        assert_eq!(
            mailer.outbox().unwrap().last().unwrap().from,
            "Boss <boss@example.com>"
        );
    }

    #[tokio::test]
    async fn failed_messages_are_not_recorded() {
        let mailer = Mailer::memory();
        let err = mailer
            .send(Message::new().to("a@example.com").text("x"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::MissingFrom), "{err:?}");
        let bad_default = Mailer::memory().default_from("not-an-address");
        let err = bad_default
            .send(Message::new().to("a@example.com").text("x"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Address { field: "from", .. }),
            "{err:?}"
        );
        assert!(mailer.outbox().unwrap().is_empty());
        assert!(bad_default.outbox().unwrap().is_empty());
    }

    #[test]
    fn only_memory_has_an_outbox() {
        assert!(Mailer::console().outbox().is_none());
        assert!(Mailer::file("/tmp/x").outbox().is_none());
        assert_eq!(Mailer::console().transport_name(), "console");
        assert_eq!(Mailer::memory().transport_name(), "memory");
    }

    #[tokio::test]
    async fn console_logs_and_succeeds() {
        let mailer = Mailer::console().default_from("a@example.com");
        let msg = Message::new().to("b@example.com").html("<p>only html</p>");
        mailer.send(msg).await.unwrap();
    }
}
