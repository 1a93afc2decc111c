//! The request id on every log line written while a request is being handled.
//!
//! The base layer marks the thread with the request's id around each poll of the request (a
//! thread-local swap, a few dozen instructions); the event formatter adds it to each line:
//! `request_id=…` before pretty lines, a `"request_id"` member in JSON lines. This costs nothing for
//! requests that log nothing, unlike a `tracing` span per request, which formats its fields on
//! every request (turn those on with `http.trace` for span-aware subscribers).

use std::cell::RefCell;
use std::fmt;

use http::HeaderValue;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use super::json_fields::write_json_str;

thread_local! {
    static REQUEST_ID: RefCell<Option<HeaderValue>> = const { RefCell::new(None) };
}

/// Marks this thread as working on a request until dropped (restoring what was there before).
pub(crate) struct RequestScope(Option<HeaderValue>);

impl RequestScope {
    pub(crate) fn enter(id: &HeaderValue) -> Self {
        Self(REQUEST_ID.with(|c| c.replace(Some(id.clone()))))
    }
}

impl Drop for RequestScope {
    fn drop(&mut self) {
        let previous = self.0.take();
        REQUEST_ID.with(|c| *c.borrow_mut() = previous);
    }
}

/// The id of the request this thread is handling right now, if any.
pub(crate) fn current_request_id() -> Option<HeaderValue> {
    REQUEST_ID.with(|c| c.borrow().clone())
}

/// Wraps an event format to add the current request id.
pub(crate) struct RequestIdFormat<F> {
    inner: F,
    json: bool,
}

impl<F> RequestIdFormat<F> {
    pub(crate) fn pretty(inner: F) -> Self {
        Self { inner, json: false }
    }

    pub(crate) fn json(inner: F) -> Self {
        Self { inner, json: true }
    }
}

impl<S, N, F> FormatEvent<S, N> for RequestIdFormat<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some(id) = current_request_id() else {
            return self.inner.format_event(ctx, writer, event);
        };
        let id = id.to_str().unwrap_or("(invalid)");
        if !self.json {
            write!(writer, "request_id={id} ")?;
            return self.inner.format_event(ctx, writer, event);
        }
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        match line.strip_prefix('{') {
            Some(rest) => {
                writer.write_str("{\"request_id\":")?;
                write_json_str(&mut writer, id)?;
                writer.write_char(',')?;
                writer.write_str(rest)
            }
            None => writer.write_str(&line),
        }
    }
}
