//! Messages: the builder handlers use, and the built, validated [`SentMessage`] transports
//! deliver.
//!
//! ```
//! use turbine_mail::Message;
//!
//! let sent = Message::new()
//!     .from("Chirp <noreply@chirp.example>")
//!     .to("ann@example.com")
//!     .subject("Welcome")
//!     .text("Hello Ann")
//!     .html("<p>Hello Ann</p>")
//!     .build()?;
//! assert_eq!(sent.to, ["ann@example.com"]);
//! let raw = String::from_utf8(sent.raw.clone()).unwrap();
//! assert!(raw.contains("multipart/alternative"));
//!
//! let err = Message::new().from("me@x.example").to("not an address").text("hi").build().unwrap_err();
//! assert!(err.to_string().contains("invalid address in `to`"));
//! # Ok::<(), turbine_mail::Error>(())
//! ```

use lettre::Address;
use lettre::address::Envelope;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::template;

/// An email being written: addresses are checked when it is built or sent.
///
/// Addresses are `user@example.com` or `Name <user@example.com>`; `to`, `cc`, `bcc` and
/// `reply_to` may be called several times to add more. A text and an HTML body together become a
/// `multipart/alternative` message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    from: Option<String>,
    to: Vec<String>,
    cc: Vec<String>,
    bcc: Vec<String>,
    reply_to: Vec<String>,
    subject: String,
    text: Option<String>,
    html: Option<String>,
}

/// A built message: what a transport delivers and the memory outbox records.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentMessage {
    /// The sender, as written in the `From` header (`Name <user@example.com>` or the address).
    pub from: String,
    /// The `To` recipients, as written in the header.
    pub to: Vec<String>,
    /// The `Cc` recipients.
    pub cc: Vec<String>,
    /// The `Bcc` recipients (in the envelope only, never in [`raw`](Self::raw)).
    pub bcc: Vec<String>,
    /// The `Reply-To` addresses.
    pub reply_to: Vec<String>,
    /// The subject.
    pub subject: String,
    /// The plain-text body.
    pub text: Option<String>,
    /// The HTML body.
    pub html: Option<String>,
    /// The whole message in RFC 5322 form (headers and MIME body), as sent over SMTP.
    pub raw: Vec<u8>,
    envelope: Envelope,
}

impl SentMessage {
    /// The envelope sender address (`MAIL FROM`).
    pub fn envelope_from(&self) -> Option<&str> {
        self.envelope.from().map(Address::as_ref)
    }

    /// Every envelope recipient address (`RCPT TO`): to, cc and bcc.
    pub fn envelope_to(&self) -> Vec<&str> {
        self.envelope.to().iter().map(Address::as_ref).collect()
    }

    /// The lettre envelope, for transports built on lettre.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }
}

impl Message {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// A message from templates: `{{ name }}` placeholders are filled from `vars` (a JSON
    /// object), HTML-escaped in the HTML part and as they are in the subject and text. See
    /// [`template`](crate::template).
    ///
    /// ```
    /// use turbine_mail::Message;
    ///
    /// let vars = serde_json::json!({ "name": "Ann & Bob", "link": "https://x.example/r?a=1&b=2" });
    /// let msg = Message::template(
    ///     "Welcome, {{ name }}",
    ///     "Hi {{ name }}, confirm: {{ link }}",
    ///     Some("<p>Hi {{ name }}, <a href=\"{{ link }}\">confirm</a></p>"),
    ///     &vars,
    /// )?
    /// .from("noreply@x.example")
    /// .to("ann@x.example");
    /// let sent = msg.build()?;
    /// assert_eq!(sent.subject, "Welcome, Ann & Bob");
    /// assert_eq!(sent.text.as_deref(), Some("Hi Ann & Bob, confirm: https://x.example/r?a=1&b=2"));
    /// assert!(sent.html.unwrap().contains("Ann &amp; Bob"));
    /// # Ok::<(), turbine_mail::Error>(())
    /// ```
    pub fn template(subject: &str, text: &str, html: Option<&str>, vars: &Value) -> Result<Self> {
        let mut msg = Self::new()
            .subject(template::render_text(subject, vars)?)
            .text(template::render_text(text, vars)?);
        if let Some(html) = html {
            msg = msg.html(template::render_html(html, vars)?);
        }
        Ok(msg)
    }

    /// Sets the sender (overrides the mailer's default).
    pub fn from(mut self, address: impl Into<String>) -> Self {
        self.from = Some(address.into());
        self
    }

    /// Adds a `To` recipient.
    pub fn to(mut self, address: impl Into<String>) -> Self {
        self.to.push(address.into());
        self
    }

    /// Adds a `Cc` recipient.
    pub fn cc(mut self, address: impl Into<String>) -> Self {
        self.cc.push(address.into());
        self
    }

    /// Adds a `Bcc` recipient: it receives the message without appearing in it.
    pub fn bcc(mut self, address: impl Into<String>) -> Self {
        self.bcc.push(address.into());
        self
    }

    /// Adds a `Reply-To` address.
    pub fn reply_to(mut self, address: impl Into<String>) -> Self {
        self.reply_to.push(address.into());
        self
    }

    /// Sets the subject. Line breaks become spaces (a header is one line).
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = subject.into();
        self
    }

    /// Sets the plain-text body.
    pub fn text(mut self, body: impl Into<String>) -> Self {
        self.text = Some(body.into());
        self
    }

    /// Sets the HTML body.
    pub fn html(mut self, body: impl Into<String>) -> Self {
        self.html = Some(body.into());
        self
    }

    /// `true` when the message names its sender.
    pub fn has_from(&self) -> bool {
        self.from.is_some()
    }

    /// Checks every address and renders the message (what [`Mailer::send`](crate::Mailer::send)
    /// does before handing it to the transport).
    pub fn build(self) -> Result<SentMessage> {
        let from_text = self.from.ok_or(Error::MissingFrom)?;
        let from = parse("from", &from_text)?;
        let to = parse_all("to", &self.to)?;
        let cc = parse_all("cc", &self.cc)?;
        let bcc = parse_all("bcc", &self.bcc)?;
        let reply_to = parse_all("reply_to", &self.reply_to)?;
        if to.is_empty() && cc.is_empty() && bcc.is_empty() {
            return Err(Error::NoRecipients);
        }
        let subject = self.subject.replace(['\r', '\n'], " ");
        let mut builder = lettre::Message::builder()
            .message_id(Some(format!(
                "<{}@{}>",
                uuid::Uuid::new_v4(),
                from.email.domain()
            )))
            .from(from.clone())
            .subject(subject.clone());
        for mailbox in &to {
            builder = builder.to(mailbox.clone());
        }
        for mailbox in &cc {
            builder = builder.cc(mailbox.clone());
        }
        for mailbox in &bcc {
            builder = builder.bcc(mailbox.clone());
        }
        for mailbox in &reply_to {
            builder = builder.reply_to(mailbox.clone());
        }
        let message = match (&self.text, &self.html) {
            (Some(text), Some(html)) => builder.multipart(MultiPart::alternative_plain_html(
                text.clone(),
                html.clone(),
            )),
            (Some(text), None) => builder.singlepart(SinglePart::plain(text.clone())),
            (None, Some(html)) => builder.singlepart(SinglePart::html(html.clone())),
            (None, None) => return Err(Error::EmptyBody),
        }?;
        let strings = |list: Vec<Mailbox>| list.iter().map(ToString::to_string).collect();
        Ok(SentMessage {
            from: from.to_string(),
            to: strings(to),
            cc: strings(cc),
            bcc: strings(bcc),
            reply_to: strings(reply_to),
            subject,
            text: self.text,
            html: self.html,
            raw: message.formatted(),
            envelope: message.envelope().clone(),
        })
    }
}

/// Parses one address (`user@example.com` or `Name <user@example.com>`), naming the field in
/// the error.
pub(crate) fn parse(field: &'static str, address: &str) -> Result<Mailbox> {
    address
        .trim()
        .parse::<Mailbox>()
        .map_err(|e| Error::Address {
            field,
            address: address.to_string(),
            reason: e.to_string(),
        })
}

fn parse_all(field: &'static str, addresses: &[String]) -> Result<Vec<Mailbox>> {
    addresses.iter().map(|a| parse(field, a)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Message {
        Message::new()
            .from("Sender <sender@example.com>")
            .to("to@example.com")
    }

    fn raw(sent: &SentMessage) -> String {
        String::from_utf8(sent.raw.clone()).unwrap()
    }

    #[test]
    fn text_only_is_a_single_plain_part() {
        let sent = base().subject("Hi").text("Hello").build().unwrap();
        let raw = raw(&sent);
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8"),
            "{raw}"
        );
        assert!(!raw.contains("multipart"), "{raw}");
        assert!(raw.contains("Subject: Hi\r\n"), "{raw}");
        assert!(raw.contains("Message-ID: <"), "{raw}");
        assert!(raw.contains("@example.com>"), "{raw}");
        assert_eq!(sent.from, "Sender <sender@example.com>");
        assert_eq!(sent.html, None);
    }

    #[test]
    fn html_only_is_a_single_html_part() {
        let raw = raw(&base().html("<p>x</p>").build().unwrap());
        assert!(
            raw.contains("Content-Type: text/html; charset=utf-8"),
            "{raw}"
        );
        assert!(!raw.contains("multipart"), "{raw}");
    }

    #[test]
    fn text_and_html_are_alternatives() {
        let sent = base().text("plain").html("<b>rich</b>").build().unwrap();
        let raw = raw(&sent);
        assert!(raw.contains("Content-Type: multipart/alternative"), "{raw}");
        assert!(raw.contains("text/plain"), "{raw}");
        assert!(raw.contains("text/html"), "{raw}");
        assert!(
            raw.find("text/plain") < raw.find("text/html"),
            "plain first"
        );
    }

    #[test]
    fn every_header_and_the_envelope() {
        let sent = base()
            .to("Two <two@example.com>")
            .cc("cc@example.com")
            .bcc("hidden@example.com")
            .reply_to("help@example.com")
            .text("x")
            .build()
            .unwrap();
        let raw = raw(&sent);
        assert!(
            raw.contains("To: to@example.com, Two <two@example.com>"),
            "{raw}"
        );
        assert!(raw.contains("Cc: cc@example.com"), "{raw}");
        assert!(raw.contains("Reply-To: help@example.com"), "{raw}");
        assert!(
            !raw.contains("hidden@example.com"),
            "Bcc stays out of the message: {raw}"
        );
        assert_eq!(sent.to, ["to@example.com", "Two <two@example.com>"]);
        assert_eq!(sent.bcc, ["hidden@example.com"]);
        assert_eq!(sent.envelope_from(), Some("sender@example.com"));
        assert_eq!(
            sent.envelope_to(),
            [
                "to@example.com",
                "two@example.com",
                "cc@example.com",
                "hidden@example.com"
            ]
        );
    }

    #[test]
    fn address_errors_name_the_field_and_the_value() {
        for (msg, field, bad) in [
            (
                Message::new().from("nope").to("a@b.example"),
                "from",
                "nope",
            ),
            (base().to("two at example.com"), "to", "two at example.com"),
            (base().cc("a@b@c"), "cc", "a@b@c"),
            (base().bcc(""), "bcc", ""),
            (base().reply_to("<>"), "reply_to", "<>"),
        ] {
            let err = msg.text("x").build().unwrap_err();
            match &err {
                Error::Address {
                    field: f, address, ..
                } => {
                    assert_eq!((*f, address.as_str()), (field, bad));
                }
                other => panic!("expected an address error, got {other:?}"),
            }
            assert!(err.to_string().contains(&format!("`{field}`")), "{err}");
        }
    }

    #[test]
    fn header_injection_is_refused() {
        let err = base()
            .to("a@example.com\r\nBcc: victim@example.com")
            .text("x")
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Address { field: "to", .. }), "{err:?}");
        let sent = base()
            .subject("Hi\r\nBcc: victim@example.com")
            .text("x")
            .build()
            .unwrap();
        assert_eq!(sent.subject, "Hi  Bcc: victim@example.com");
        assert!(!raw(&sent).contains("\r\nBcc:"));
    }

    #[test]
    fn missing_parts_are_errors() {
        let no_from = Message::new().to("a@example.com").text("x").build();
        assert!(matches!(no_from, Err(Error::MissingFrom)));
        let no_to = Message::new().from("a@example.com").text("x").build();
        assert!(matches!(no_to, Err(Error::NoRecipients)));
        assert!(matches!(base().build(), Err(Error::EmptyBody)));
        let bcc_only = Message::new()
            .from("a@example.com")
            .bcc("b@example.com")
            .text("x");
        assert!(bcc_only.build().is_ok(), "a bcc is a recipient");
    }

    #[test]
    fn non_ascii_is_encoded() {
        let sent = base()
            .to("Zoë Ünal <zoe@example.com>")
            .subject("Grüße ✓")
            .text("naïve café")
            .build()
            .unwrap();
        let raw = raw(&sent);
        assert!(
            raw.is_ascii() || raw.contains("Content-Transfer-Encoding"),
            "{raw}"
        );
        assert!(raw.contains("Subject: =?utf-8?"), "{raw}");
        assert_eq!(sent.subject, "Grüße ✓");
    }

    #[test]
    fn template_fills_and_escapes() {
        let vars = serde_json::json!({ "name": "<Ann>", "n": 3 });
        let sent = Message::template(
            "{{ n }} new for {{ name }}",
            "Hi {{ name }}",
            Some("<p>Hi {{ name }}</p>"),
            &vars,
        )
        .unwrap()
        .from("a@example.com")
        .to("b@example.com")
        .build()
        .unwrap();
        assert_eq!(sent.subject, "3 new for <Ann>");
        assert_eq!(sent.text.as_deref(), Some("Hi <Ann>"));
        assert_eq!(sent.html.as_deref(), Some("<p>Hi &lt;Ann&gt;</p>"));
        let text_only = Message::template("s", "t {{ n }}", None, &vars).unwrap();
        assert_eq!(text_only, Message::new().subject("s").text("t 3"));
        assert!(Message::template("{{ missing }}", "", None, &vars).is_err());
    }
}
