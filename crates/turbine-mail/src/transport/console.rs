//! The console transport: logs messages for development.

use futures_util::future::BoxFuture;

use crate::error::Result;
use crate::mailer::Transport;
use crate::message::SentMessage;

/// Logs each message through `tracing` at `info`; delivers nothing.
pub(crate) struct Console;

impl Transport for Console {
    fn name(&self) -> &'static str {
        "console"
    }

    fn send<'a>(&'a self, message: &'a SentMessage) -> BoxFuture<'a, Result<()>> {
        let mut recipients = message.to.clone();
        recipients.extend(message.cc.iter().cloned());
        recipients.extend(message.bcc.iter().map(|b| format!("{b} (bcc)")));
        let body = message
            .text
            .as_deref()
            .or(message.html.as_deref())
            .unwrap_or_default();
        tracing::info!(
            from = %message.from,
            to = %recipients.join(", "),
            subject = %message.subject,
            html = message.html.is_some(),
            "mail (console transport, not delivered):\n{body}"
        );
        Box::pin(async { Ok(()) })
    }
}
