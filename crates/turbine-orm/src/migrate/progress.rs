//! What `migrate` and `rollback` print as they go: a line per migration, and on a terminal a
//! progress bar over the operations (indicatif, on stderr).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where progress goes.
pub struct Progress {
    out: Mutex<Box<dyn Write + Send>>,
    bar_enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("bar", &self.bar_enabled)
            .finish_non_exhaustive()
    }
}

impl Progress {
    /// Lines to `out`; a bar on stderr when `bar` is true.
    pub fn new(out: Box<dyn Write + Send>, bar: bool) -> Self {
        Self {
            out: Mutex::new(out),
            bar_enabled: bar,
            bar: Mutex::new(None),
        }
    }

    /// Lines to stdout, and a bar when stderr is a terminal.
    pub fn stdout() -> Self {
        Self::new(Box::new(std::io::stdout()), std::io::stderr().is_terminal())
    }

    /// Nothing at all (tests, start-up migrations).
    pub fn quiet() -> Self {
        Self::new(Box::new(std::io::sink()), false)
    }

    /// Prints a line (above the bar, if one is drawn).
    pub fn line(&self, text: &str) {
        let write = || {
            if let Ok(mut out) = self.out.lock() {
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }
        };
        match self.bar.lock().ok().and_then(|b| b.clone()) {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    pub(crate) fn start(&self, total: u64) {
        if !self.bar_enabled || total == 0 {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} operations  {msg}") {
            bar.set_style(style);
        }
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    pub(crate) fn message(&self, text: &str) {
        if let Some(bar) = self.bar.lock().ok().and_then(|b| b.clone()) {
            bar.set_message(text.to_owned());
        }
    }

    pub(crate) fn inc(&self) {
        if let Some(bar) = self.bar.lock().ok().and_then(|b| b.clone()) {
            bar.inc(1);
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = self.bar.lock().ok().and_then(|mut b| b.take()) {
            bar.finish_and_clear();
        }
    }
}
