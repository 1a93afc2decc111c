//! The SMTP transport: lettre's async client with its connection pool, TLS by rustls.

use std::sync::OnceLock;

use futures_util::future::BoxFuture;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use percent_encoding::percent_decode_str;

use crate::error::{Error, Result};
use crate::mailer::Transport;
use crate::message::SentMessage;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// `smtp://`: plain connection upgraded with STARTTLS, which the server must offer.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Tls,
    /// `smtp+insecure://`: no TLS at all.
    Insecure,
}

/// Sends through an SMTP server; the pool is built on the first send (it needs a runtime).
pub(crate) struct Smtp {
    host: String,
    port: u16,
    tls: Tls,
    credentials: Option<Credentials>,
    transport: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
}

impl Smtp {
    /// Parses `smtp://`, `smtps://` or `smtp+insecure://` URLs.
    pub(crate) fn from_url(url: &str) -> Result<Self> {
        // Never echo the URL itself: it may hold a password.
        let bad = |why: String| Error::Config(format!("invalid SMTP URL: {why}"));
        let parsed = url::Url::parse(url).map_err(|e| bad(e.to_string()))?;
        let (security, default_port) = match parsed.scheme() {
            "smtp" => (Security::StartTls, 587),
            "smtps" => (Security::Tls, 465),
            "smtp+insecure" => (Security::Insecure, 25),
            other => {
                return Err(bad(format!(
                    "unknown scheme `{other}`; expected smtp://, smtps:// or smtp+insecure://"
                )));
            }
        };
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(bad("no host".into())),
        };
        if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() {
            return Err(bad(
                "a path or query is not supported (only scheme://user:password@host:port)".into(),
            ));
        }
        let decode = |part: &str, what: &str| {
            percent_decode_str(part)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| {
                    bad(format!(
                        "the {what} is not valid UTF-8 once percent-decoded"
                    ))
                })
        };
        let credentials = match (parsed.username(), parsed.password()) {
            ("", None) => None,
            ("", Some(_)) => return Err(bad("a password without a user name".into())),
            (user, password) => Some(Credentials::new(
                decode(user, "user name")?,
                decode(password.unwrap_or_default(), "password")?,
            )),
        };
        let tls_params = || {
            TlsParameters::new(host.clone())
                .map_err(|e| Error::Config(format!("TLS settings for {host}: {e}")))
        };
        let tls = match security {
            Security::StartTls => Tls::Required(tls_params()?),
            Security::Tls => Tls::Wrapper(tls_params()?),
            Security::Insecure => Tls::None,
        };
        Ok(Self {
            port: parsed.port().unwrap_or(default_port),
            host,
            tls,
            credentials,
            transport: OnceLock::new(),
        })
    }

    fn transport(&self) -> &AsyncSmtpTransport<Tokio1Executor> {
        self.transport.get_or_init(|| {
            let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
                .port(self.port)
                .tls(self.tls.clone());
            if let Some(credentials) = &self.credentials {
                builder = builder.credentials(credentials.clone());
            }
            builder.build()
        })
    }
}

impl Transport for Smtp {
    fn name(&self) -> &'static str {
        "smtp"
    }

    fn send<'a>(&'a self, message: &'a SentMessage) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.transport()
                .send_raw(message.envelope(), &message.raw)
                .await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn security(s: &Smtp) -> Security {
        match s.tls {
            Tls::Required(_) => Security::StartTls,
            Tls::Wrapper(_) => Security::Tls,
            Tls::None => Security::Insecure,
            Tls::Opportunistic(_) => panic!("never opportunistic"),
        }
    }

    #[test]
    fn schemes_ports_and_tls() {
        let s = Smtp::from_url("smtp://mail.example.com").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, security(&s)),
            ("mail.example.com", 587, Security::StartTls)
        );
        let s = Smtp::from_url("smtps://mail.example.com").unwrap();
        assert_eq!((s.port, security(&s)), (465, Security::Tls));
        let s = Smtp::from_url("smtp+insecure://127.0.0.1:1025").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, security(&s)),
            ("127.0.0.1", 1025, Security::Insecure)
        );
        assert!(s.credentials.is_none());
        let s = Smtp::from_url("smtp+insecure://[::1]").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("::1", 25));
    }

    #[test]
    fn credentials_are_percent_decoded() {
        let s = Smtp::from_url("smtp://us%40er:p%40ss%3Aw%2Fd@mail.example.com:2525").unwrap();
        let expected = Credentials::new("us@er".into(), "p@ss:w/d".into());
        assert_eq!(s.credentials, Some(expected));
        assert_eq!(s.port, 2525);
        let s = Smtp::from_url("smtps://apikey@mail.example.com").unwrap();
        assert_eq!(
            s.credentials,
            Some(Credentials::new("apikey".into(), String::new()))
        );
    }

    #[test]
    fn bad_urls_are_clear_and_never_show_the_password() {
        for (url, expected) in [
            ("http://mail.example.com", "unknown scheme `http`"),
            ("smtp://", "no host"),
            ("smtp://user:hunter2@mail.example.com/x", "a path or query"),
            (
                "smtp://user:hunter2@mail.example.com?tls=opportunistic",
                "a path or query",
            ),
            (
                "smtp://:hunter2@mail.example.com",
                "a password without a user name",
            ),
            ("not a url", "invalid SMTP URL"),
            ("smtp://u:%FF@mail.example.com", "not valid UTF-8"),
        ] {
            let err = match Smtp::from_url(url) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{url} should fail"),
            };
            assert!(err.contains(expected), "{url}: {err}");
            assert!(!err.contains("hunter2"), "{url}: {err}");
        }
    }
}
