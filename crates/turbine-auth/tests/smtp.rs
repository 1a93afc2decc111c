//! Account mail through a real SMTP server: the app's `[mail]` uses the SMTP transport against
//! aiosmtpd (from `scripts/setup-test-tools`, run in a subprocess with its Maildir handler, as
//! in turbine-mail's SMTP test), and the links in what arrives verify the address and reset
//! the password. Skipped loudly without the tools, a failure with `TURBINE_REQUIRE_SERVICES=1`.

mod common;

#[path = "../../turbine-mail/tests/support/smtp_server.rs"]
mod smtp_server;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use mail_parser::MessageParser;
use serde_json::{Value, json};
use smtp_server::tools_python;
use turbine::testing::TestClient;

const NEW_PASSWORD: &str = "a brand new passphrase";

/// The shared aiosmtpd harness, with parsed messages.
struct SmtpServer(smtp_server::SmtpServer);

/// A received message, parsed.
#[derive(Debug)]
struct Received {
    from: String,
    to: String,
    subject: String,
    text: String,
    html: String,
}

impl SmtpServer {
    fn start(python: &Path) -> Self {
        Self(smtp_server::SmtpServer::start(python))
    }

    /// The messages received so far (Maildir moves each into `new/` whole).
    fn received(&self) -> Vec<Received> {
        self.0
            .received()
            .into_iter()
            .map(|raw| {
                let parsed = MessageParser::default().parse(&raw).unwrap();
                let first = |a: Option<&mail_parser::Address<'_>>| {
                    a.and_then(|a| a.first())
                        .and_then(|a| a.address())
                        .unwrap_or_default()
                        .to_string()
                };
                Received {
                    from: first(parsed.from()),
                    to: first(parsed.to()),
                    subject: parsed.subject().unwrap_or_default().to_string(),
                    text: parsed.body_text(0).unwrap_or_default().into_owned(),
                    html: parsed.body_html(0).unwrap_or_default().into_owned(),
                }
            })
            .collect()
    }

    /// Waits (up to 15 s: the battery mails from a background task) for a message to `to`
    /// with this subject.
    async fn wait_for(&self, to: &str, subject: &str) -> Received {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(m) = self
                .received()
                .into_iter()
                .find(|m| m.to == to && m.subject == subject)
            {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "no “{subject}” mail to {to} arrived; received: {:?}",
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// An app on `db` whose mail goes to `server` over SMTP, with its own link templates.
async fn smtp_client(server: &SmtpServer, db: &TestDb) -> TestClient {
    let extra = format!(
        "[mail]\ntransport = 'smtp'\nurl = 'smtp+insecure://127.0.0.1:{}'\n\
         from = 'Chirp <noreply@chirp.example>'\n\
         [auth]\nrequire_verified_email = true\n\
         verify_email_url = 'https://chirp.example/verify?token={{token}}'\n\
         reset_password_url = 'https://chirp.example/reset?token={{token}}'\n",
        server.0.port
    );
    let client = TestClient::new(app(&extra, db.url())).await.unwrap();
    let mailer = client.context().get::<turbine_mail::Mailer>().unwrap();
    assert!(mailer.outbox().is_none(), "the SMTP transport, not memory");
    client
}

/// The token of the link `{base}?token=…` in a mail, checked to be in both its parts.
fn token_in(mail: &Received, base: &str) -> String {
    let start = mail
        .text
        .find(&format!("{base}?token="))
        .unwrap_or_else(|| panic!("no {base} link in {:?}", mail.text))
        + base.len()
        + "?token=".len();
    let token: String = mail.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_eq!(token.len(), 43, "32 random bytes, base64url: {token}");
    assert!(
        mail.html
            .contains(&format!("href=\"{base}?token={token}\"")),
        "the HTML part links the same URL: {}",
        mail.html
    );
    token
}

async fn login_status(client: &TestClient, email: &str, password: &str) -> u16 {
    login_tokens(client, email, password)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn signup_mail_verifies_the_address() {
    let Some(python) = tools_python() else { return };
    let server = SmtpServer::start(&python);
    for db in TestDb::all().await.unwrap() {
        let client = smtp_client(&server, &db).await;
        let email = format!("ana.{}@example.com", db.name());
        signup(&client, &email).await.assert_status(202);
        let mail = server.wait_for(&email, "Confirm your email address").await;
        assert_eq!(mail.from, "noreply@chirp.example");
        let token = token_in(&mail, "https://chirp.example/verify");

        // Unverified: no login yet.
        login_tokens(&client, &email, PASSWORD)
            .await
            .assert_status(403);
        client
            .post("/auth/email/verify/confirm")
            .json(&json!({"token": token}))
            .send()
            .await
            .assert_status(200);
        let tokens = login_tokens(&client, &email, PASSWORD)
            .await
            .assert_status(200)
            .json::<Value>();
        let me = client
            .get("/auth/me")
            .bearer(&s(&tokens, "access_token"))
            .send()
            .await
            .assert_status(200)
            .json::<Value>();
        assert_eq!(me["email"], email.as_str());
        assert!(
            me["email_verified_at"].is_string(),
            "{}: verified: {me}",
            db.name()
        );
        // The link works once.
        client
            .post("/auth/email/verify/confirm")
            .json(&json!({"token": token}))
            .send()
            .await
            .assert_status(401);
        let to_ana = server.received().into_iter().filter(|m| m.to == email);
        assert_eq!(to_ana.count(), 1, "one mail to {email}");
        db.close().await;
    }
}

#[tokio::test]
async fn password_reset_by_mail() {
    let Some(python) = tools_python() else { return };
    let server = SmtpServer::start(&python);
    for db in TestDb::all().await.unwrap() {
        let client = smtp_client(&server, &db).await;
        let email = format!("bob.{}@example.com", db.name());
        signup(&client, &email).await.assert_status(202);
        server.wait_for(&email, "Confirm your email address").await;

        client
            .post("/auth/password/reset")
            .json(&json!({"email": email}))
            .send()
            .await
            .assert_status(202);
        let mail = server.wait_for(&email, "Reset your password").await;
        assert_eq!(mail.from, "noreply@chirp.example");
        assert!(
            mail.text.contains("The link works once, for 1h."),
            "{}",
            mail.text
        );
        let token = token_in(&mail, "https://chirp.example/reset");

        client
            .post("/auth/password/reset/confirm")
            .json(&json!({"token": token, "password": NEW_PASSWORD}))
            .send()
            .await
            .assert_status(204);
        // The new password works (the link proved the address, so the account is verified
        // too), the old one does not.
        assert_eq!(login_status(&client, &email, PASSWORD).await, 401);
        assert_eq!(login_status(&client, &email, NEW_PASSWORD).await, 200);
        // The link works once.
        client
            .post("/auth/password/reset/confirm")
            .json(&json!({"token": token, "password": "yet another passphrase"}))
            .send()
            .await
            .assert_status(401);
        assert_eq!(login_status(&client, &email, NEW_PASSWORD).await, 200);
        db.close().await;
    }
}
