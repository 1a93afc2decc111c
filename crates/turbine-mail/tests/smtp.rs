//! End to end through a real SMTP server: aiosmtpd (from `scripts/setup-test-tools`), run in a
//! subprocess with its Maildir handler, receives what the SMTP transport sends.

#[path = "support/smtp_server.rs"]
mod smtp_server;

use std::net::{Ipv4Addr, TcpListener};

use mail_parser::MessageParser;
use smtp_server::{SmtpServer, tools_python};
use turbine_mail::{Error, Mailer, Message};

#[tokio::test]
async fn sends_through_a_real_smtp_server() {
    let Some(python) = tools_python() else { return };
    let server = SmtpServer::start(&python);
    let url = format!("smtp+insecure://127.0.0.1:{}", server.port);
    let mailer = Mailer::smtp(&url)
        .unwrap()
        .default_from("Chirp <noreply@chirp.example>");
    assert!(mailer.outbox().is_none());

    for n in 1..=2 {
        let message = Message::template(
            "Welcome #{{ n }}, {{ name }}",
            "Hi {{ name }}, your code is {{ code }}.",
            Some("<p>Hi {{ name }}, your code is <b>{{ code }}</b>.</p>"),
            &serde_json::json!({ "n": n, "name": "Zoë <z>", "code": "A1B2" }),
        )
        .unwrap()
        .to("zoe@example.com")
        .bcc("audit@example.com");
        mailer.send(message).await.unwrap();
    }

    let received = server.received();
    assert_eq!(
        received.len(),
        2,
        "both messages arrived (the pool reuses the connection)"
    );
    let mut subjects = Vec::new();
    for raw in &received {
        let parsed = MessageParser::default().parse(raw).unwrap();
        subjects.push(parsed.subject().unwrap().to_owned());
        assert_eq!(
            parsed.from().unwrap().first().unwrap().address(),
            Some("noreply@chirp.example")
        );
        assert_eq!(
            parsed.to().unwrap().first().unwrap().address(),
            Some("zoe@example.com")
        );
        assert_eq!(
            parsed.body_text(0).as_deref(),
            Some("Hi Zoë <z>, your code is A1B2.")
        );
        assert_eq!(
            parsed.body_html(0).as_deref(),
            Some("<p>Hi Zoë &lt;z&gt;, your code is <b>A1B2</b>.</p>")
        );
        // The Mailbox handler records the envelope it was given: the Bcc recipient is in it,
        // not in the message.
        let header = |name| parsed.header_raw(name).map(str::trim);
        assert_eq!(header("X-MailFrom"), Some("noreply@chirp.example"));
        assert_eq!(
            header("X-RcptTo"),
            Some("zoe@example.com, audit@example.com")
        );
        assert!(
            parsed.header_raw("Bcc").is_none(),
            "Bcc is not in the delivered message"
        );
    }
    subjects.sort();
    assert_eq!(subjects, ["Welcome #1, Zoë <z>", "Welcome #2, Zoë <z>"]);
}

#[tokio::test]
async fn smtp_requires_starttls_and_refuses_a_server_without_it() {
    let Some(python) = tools_python() else { return };
    let server = SmtpServer::start(&python);
    // aiosmtpd without a certificate does not offer STARTTLS: `smtp://` must not fall back.
    let mailer = Mailer::smtp(&format!("smtp://user:pass@127.0.0.1:{}", server.port))
        .unwrap()
        .default_from("a@example.com");
    let err = mailer
        .send(Message::new().to("b@example.com").text("secret"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Smtp(_)), "{err:?}");
    eprintln!("refused as expected: {err}");
    assert!(!err.to_string().contains("pass"), "{err}");
    assert!(
        server.received().is_empty(),
        "nothing was sent in clear text"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_an_error() {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mailer = Mailer::smtp(&format!("smtp+insecure://127.0.0.1:{port}"))
        .unwrap()
        .default_from("a@example.com");
    let err = mailer
        .send(Message::new().to("b@example.com").text("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Smtp(_)), "{err:?}");
    assert!(err.to_string().starts_with("SMTP: "), "{err}");
}
