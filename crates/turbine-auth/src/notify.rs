//! The account emails (text + HTML): verify your address, reset your password, someone tried
//! to sign up with your address.

use turbine_mail::Message;

use crate::models::User;
use crate::service::AuthService;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn greeting(user: &User) -> String {
    if user.name.is_empty() {
        "Hello,".to_string()
    } else {
        format!("Hello {},", user.name)
    }
}

fn message(user: &User, subject: &str, lines: &[&str], link: Option<(&str, &str)>) -> Message {
    let mut text = format!("{}\n\n", greeting(user));
    let mut html = format!("<p>{}</p>\n", escape(&greeting(user)));
    for line in lines {
        text.push_str(line);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>\n", escape(line)));
    }
    if let Some((label, url)) = link {
        text.push_str(&format!("{label}: {url}\n"));
        html.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>\n",
            escape(url),
            escape(label)
        ));
    }
    Message::new()
        .to(user.email.as_str())
        .subject(subject)
        .text(text)
        .html(html)
}

fn link(template: &str, token: &str) -> String {
    template.replace("{token}", token)
}

/// "Confirm your email address".
pub(crate) fn verify_email(auth: &AuthService, user: &User, token: &str) -> Message {
    let url = link(&auth.settings().verify_email_url, token);
    message(
        user,
        "Confirm your email address",
        &["Please confirm that this is your email address."],
        Some(("Confirm my address", &url)),
    )
}

/// "Reset your password".
pub(crate) fn reset_password(auth: &AuthService, user: &User, token: &str) -> Message {
    let url = link(&auth.settings().reset_password_url, token);
    let ttl = humantime::format_duration(auth.settings().reset_password_ttl).to_string();
    let expiry = format!(
        "The link works once, for {ttl}. If you did not ask for it, ignore this email: your password stays as it is."
    );
    message(
        user,
        "Reset your password",
        &[
            "Someone (hopefully you) asked to reset the password of your account.",
            &expiry,
        ],
        Some(("Choose a new password", &url)),
    )
}

/// "You already have an account" (sent when someone signs up with a registered address).
pub(crate) fn already_registered(_auth: &AuthService, user: &User) -> Message {
    message(
        user,
        "You already have an account",
        &[
            "Someone tried to sign up with your email address, but you already have an account.",
            "If it was you, log in, or reset your password if you forgot it. If not, you can ignore this email.",
        ],
        None,
    )
}
