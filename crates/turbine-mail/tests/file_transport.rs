//! The file transport writes RFC 5322 `.eml` files that a mail parser reads back.

use mail_parser::{MessageParser, MimeHeaders};
use turbine_mail::{Mailer, Message};

fn eml_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn writes_a_parseable_eml_with_both_parts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("outbox/nested");
    let mailer = Mailer::file(&dir).default_from("Chirp <noreply@chirp.example>");
    assert!(mailer.outbox().is_none());
    let message = Message::new()
        .to("Ann <ann@example.com>")
        .cc("cc@example.com")
        .bcc("secret@example.com")
        .subject("Grüße, Ann")
        .text("Hello Ann — plain")
        .html("<p>Hello <b>Ann</b> — rich</p>");
    mailer.send(message).await.unwrap();

    let files = eml_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    assert!(name.ends_with(".eml"), "{name}");
    assert!(
        name.as_bytes()[..8].iter().all(u8::is_ascii_digit),
        "starts with the date: {name}"
    );
    let raw = std::fs::read(&files[0]).unwrap();
    let parsed = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(parsed.subject(), Some("Grüße, Ann"));
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some("noreply@chirp.example"));
    assert_eq!(from.name(), Some("Chirp"));
    assert_eq!(
        parsed.to().unwrap().first().unwrap().address(),
        Some("ann@example.com")
    );
    assert_eq!(
        parsed.cc().unwrap().first().unwrap().address(),
        Some("cc@example.com")
    );
    assert!(
        parsed.bcc().is_none(),
        "Bcc is not written into the message"
    );
    assert!(parsed.message_id().is_some());
    assert!(parsed.date().is_some());
    assert_eq!(parsed.body_text(0).as_deref(), Some("Hello Ann — plain"));
    assert_eq!(
        parsed.body_html(0).as_deref(),
        Some("<p>Hello <b>Ann</b> — rich</p>")
    );
    let content_type = parsed.content_type().unwrap();
    assert_eq!(
        (content_type.ctype(), content_type.subtype()),
        ("multipart", Some("alternative"))
    );
}

#[tokio::test]
async fn one_file_per_message_in_time_order() {
    let tmp = tempfile::tempdir().unwrap();
    let mailer = Mailer::file(tmp.path()).default_from("a@example.com");
    for n in 0..3 {
        let msg = Message::new()
            .to("b@example.com")
            .subject(format!("n{n}"))
            .text("x");
        mailer.send(msg).await.unwrap();
    }
    let subjects: Vec<String> = eml_files(tmp.path())
        .iter()
        .map(|p| {
            let raw = std::fs::read(p).unwrap();
            let parsed = MessageParser::default().parse(&raw).unwrap();
            parsed.subject().unwrap().to_owned()
        })
        .collect();
    assert_eq!(subjects, ["n0", "n1", "n2"]);
}

#[tokio::test]
async fn an_unwritable_folder_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let mailer = Mailer::file(blocker.join("mail")).default_from("a@example.com");
    let err = mailer
        .send(Message::new().to("b@example.com").text("x"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("writing the message file"), "{text}");
    assert!(text.contains(&blocker.display().to_string()), "{text}");
}
