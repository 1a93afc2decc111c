//! The file transport: one `.eml` file per message.

use std::path::PathBuf;

use futures_util::future::BoxFuture;

use crate::error::{Error, Result};
use crate::mailer::Transport;
use crate::message::SentMessage;

/// Writes each message to a folder as `<UTC time>-<uuid>.eml`.
pub(crate) struct File {
    dir: PathBuf,
}

impl File {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
}

impl Transport for File {
    fn name(&self) -> &'static str {
        "file"
    }

    fn send<'a>(&'a self, message: &'a SentMessage) -> BoxFuture<'a, Result<()>> {
        let dir = self.dir.clone();
        let raw = message.raw.clone();
        Box::pin(async move {
            let path = tokio::task::spawn_blocking(move || write(&dir, &raw))
                .await
                .map_err(|e| Error::Io(std::io::Error::other(e)))??;
            tracing::debug!(path = %path.display(), "mail written to a file");
            Ok(())
        })
    }
}

/// Writes next to the target and renames, so a reader never sees half a message.
fn write(dir: &std::path::Path, raw: &[u8]) -> std::io::Result<PathBuf> {
    let in_dir =
        |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(in_dir)?;
    let name = format!(
        "{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
        uuid::Uuid::new_v4()
    );
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(format!("{name}.eml"));
    std::fs::write(&tmp, raw).map_err(in_dir)?;
    std::fs::rename(&tmp, &path).map_err(in_dir)?;
    Ok(path)
}
