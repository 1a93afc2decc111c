//! The memory transport: records messages in an outbox for tests.

use futures_util::future::BoxFuture;

use crate::error::Result;
use crate::mailer::{Outbox, Transport};
use crate::message::SentMessage;

/// Keeps every message in an [`Outbox`].
pub(crate) struct Memory(pub(crate) Outbox);

impl Transport for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn send<'a>(&'a self, message: &'a SentMessage) -> BoxFuture<'a, Result<()>> {
        self.0.push(message.clone());
        Box::pin(async { Ok(()) })
    }
}
