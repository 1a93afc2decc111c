//! Helpers shared by the auth battery's HTTP tests: an app with the auth, mail and ORM
//! batteries on a fresh database per backend.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::{Value, json};
use turbine::orm::battery::{Migrations, Orm};
pub(crate) use turbine::orm::testing::TestDb;
use turbine::prelude::*;
use turbine::testing::{self, TestClient, TestResponse};
use turbine_auth::password::PasswordHasher;
use turbine_auth::{
    Action, Auth, AuthService, CurrentUser, MaybeUser, require_perm, require_staff,
};
use turbine_mail::{Mail, Mailer, SentMessage};

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// A model for the policy tests (metadata only; no table needed).
#[derive(turbine::Model, Debug, Clone)]
#[model(app = "notes")]
pub(crate) struct Note {
    /// Key.
    pub(crate) id: i64,
    /// The owner's user id.
    pub(crate) owner: i64,
}

pub(crate) async fn whoami(MaybeUser(user): MaybeUser) -> String {
    user.map_or("anonymous".into(), |u| format!("user {}", u.id))
}

pub(crate) async fn write(user: CurrentUser) -> String {
    format!("written by {}", user.id)
}

pub(crate) async fn scoped(user: CurrentUser) -> turbine_auth::Result<&'static str> {
    user.require_scope("notes:write")?;
    Ok("scoped ok")
}

pub(crate) async fn edit_note(
    user: CurrentUser,
    Path(owner): Path<i64>,
) -> turbine_auth::Result<&'static str> {
    user.authorize(Action::Change, &Note { id: 1, owner })
        .await?;
    Ok("edited")
}

pub(crate) fn app(extra: &str, db_url: &str) -> App {
    app_toml(&format!("[database]\nurl = '{db_url}'\n{extra}"))
}

/// [`app`] with its whole configuration given (top-level keys such as `secret_key` too).
pub(crate) fn app_toml(toml: &str) -> App {
    let config = testing::config(toml);
    App::new()
        .battery(
            Orm::new()
                .auto_migrate(true)
                // The app has no migrations of its own (this crate's `migrations/` are auth's).
                .migrations(Migrations::none()),
        )
        .battery(Mail::new())
        .battery(
            Auth::new()
                .password_hasher(PasswordHasher::for_tests())
                .policy::<Note>(|user: &CurrentUser, action, note: &Note| match action {
                    Action::View => true,
                    _ => note.owner == user.id,
                }),
        )
        .route("/whoami", get(whoami))
        .route("/write", post(write))
        .route("/scoped", get(scoped))
        .route("/notes/{owner}", post(edit_note))
        .route(
            "/purge",
            post(|| async { "purged" }).layer(require_perm("notes.note.delete")),
        )
        .route(
            "/staff",
            get(|| async { "staff ok" }).layer(require_staff()),
        )
        .config(config)
}

/// A client per backend, with its database (closed at the end).
pub(crate) async fn clients(extra: &str) -> Vec<(TestClient, TestDb)> {
    let mut out = Vec::new();
    for db in TestDb::all().await.unwrap() {
        let client = TestClient::new(app(extra, db.url())).await.unwrap();
        out.push((client, db));
    }
    out
}

pub(crate) fn auth(client: &TestClient) -> AuthService {
    client.context().get::<AuthService>().unwrap().clone()
}

/// The messages sent so far (mail goes out in the background: wait for `n`).
pub(crate) async fn outbox(client: &TestClient, n: usize) -> Vec<SentMessage> {
    let outbox = client.context().get::<Mailer>().unwrap().outbox().unwrap();
    for _ in 0..200 {
        if outbox.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    outbox.messages()
}

/// The token in a mailed link (`…?token=XYZ`).
pub(crate) fn link_token(message: &SentMessage) -> String {
    let text = message.text.clone().unwrap();
    let start = text.find("token=").unwrap() + "token=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

pub(crate) async fn signup(client: &TestClient, email: &str) -> TestResponse {
    client
        .post("/auth/signup")
        .json(&json!({"email": email, "password": PASSWORD, "name": "Ana"}))
        .send()
        .await
}

pub(crate) async fn login_tokens(client: &TestClient, email: &str, password: &str) -> TestResponse {
    client
        .post("/auth/login")
        .json(&json!({"email": email, "password": password, "device_name": "phone"}))
        .send()
        .await
}

pub(crate) async fn user_with_tokens(client: &TestClient, email: &str) -> Value {
    signup(client, email).await.assert_status(202);
    login_tokens(client, email, PASSWORD)
        .await
        .assert_status(200)
        .json()
}

/// A problem body without its per-request `instance`.
pub(crate) fn problem(res: &TestResponse) -> Value {
    let mut v = res.json::<Value>();
    v.as_object_mut().unwrap().remove("instance");
    v
}

pub(crate) fn s(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no `{key}` in {v}"))
        .to_string()
}
