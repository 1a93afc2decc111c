//! A real SMTP server for tests: aiosmtpd (installed by `scripts/setup-test-tools`) in a
//! subprocess with its Maildir handler. Shared by turbine-mail's and turbine-auth's SMTP tests
//! (`#[path = "…/turbine-mail/tests/support/smtp_server.rs"] mod smtp_server;`).
#![allow(dead_code)]

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The venv's Python, or `None` (after saying so loudly) when the tools are not installed.
pub(crate) fn tools_python() -> Option<PathBuf> {
    let dir = std::env::var_os("TURBINE_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/turbine/tools")
        });
    let python = dir.join("venv/bin/python");
    let has_aiosmtpd = Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has_aiosmtpd {
        return Some(python);
    }
    let why = format!("{} with aiosmtpd not found", python.display());
    if std::env::var("TURBINE_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("{why} (TURBINE_REQUIRE_SERVICES=1): run scripts/setup-test-tools");
    }
    // Straight to stderr, past the test harness's capture, so the skip is seen.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("\n*** SKIPPED: run scripts/setup-test-tools ({why}) ***\n\n").as_bytes(),
    );
    None
}

/// An aiosmtpd server on a free loopback port, storing messages as a Maildir; killed on drop.
pub(crate) struct SmtpServer {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub(crate) port: u16,
    maildir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts it and waits until it listens (15 s at most).
    pub(crate) fn start(python: &Path) -> Self {
        let maildir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // A path that does not exist yet: Maildir creates it with its cur/new/tmp folders.
            .arg(maildir.path().join("maildir"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting aiosmtpd");
        let mut server = Self {
            child,
            port,
            maildir,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("aiosmtpd exited early: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// The raw messages received so far (Maildir moves each into `new/` whole).
    pub(crate) fn received(&self) -> Vec<Vec<u8>> {
        let new = self.maildir.path().join("maildir/new");
        let Ok(entries) = std::fs::read_dir(new) else {
            return Vec::new();
        };
        entries
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
