//! Chirp's API on a fresh database per test: SQLite always, Postgres when
//! `TURBINE_TEST_POSTGRES_URL` is set (required in CI). Migrations (the auth battery's, then
//! Chirp's) are applied at start-up.
//!
//! Users sign up and log in through `/auth` like the mobile app does (`mode: token`), then send
//! `Authorization: Bearer <access token>` on writes; one test logs in like a browser (a session
//! cookie and its CSRF token). Passwords are hashed with the cheap test parameters.

use serde_json::{Value, json};
use turbine::auth::AuthService;
use turbine::auth::models::User;
use turbine::auth::password::PasswordHasher;
use turbine::orm::testing::TestDb;
use turbine::orm::{Db, ModelExt};
use turbine::testing::{self, TestClient, TestResponse};

const PASSWORD: &str = "correct horse battery staple";

fn app(db_url: &str) -> turbine::App {
    let auth = chirp::auth().password_hasher(PasswordHasher::for_tests());
    chirp::app_with(auth).config(testing::config(&format!("[database]\nurl = '{db_url}'")))
}

/// A client on each backend, with the databases to close afterwards.
async fn clients() -> Vec<(TestClient, TestDb)> {
    let mut out = Vec::new();
    for db in TestDb::all().await.unwrap() {
        let client = TestClient::new(app(db.url())).await.unwrap();
        out.push((client, db));
    }
    out
}

fn queries(client: &TestClient) -> u64 {
    client.context().get::<Db>().unwrap().query_count()
}

fn auth(client: &TestClient) -> AuthService {
    client.context().get::<AuthService>().unwrap().clone()
}

/// Signs `name@example.com` up and logs in for tokens: the access token.
async fn sign_in(client: &TestClient, name: &str) -> String {
    let email = format!("{name}@example.com");
    client
        .post("/auth/signup")
        .json(&json!({"email": email, "password": PASSWORD, "name": name}))
        .send()
        .await
        .assert_status(202);
    login(client, &email).await
}

async fn login(client: &TestClient, email: &str) -> String {
    let login: Value = client
        .post("/auth/login")
        .json(&json!({"email": email, "password": PASSWORD, "mode": "token"}))
        .send()
        .await
        .assert_status(200)
        .json();
    assert_eq!(login["token_type"], "Bearer");
    login["access_token"].as_str().unwrap().to_string()
}

async fn create_profile(client: &TestClient, token: &str, handle: &str) -> TestResponse {
    client
        .post("/profiles")
        .bearer(token)
        .json(&json!({"handle": handle, "display_name": handle.to_uppercase()}))
        .send()
        .await
}

/// A signed-in user with the profile `@handle`: their access token.
async fn member(client: &TestClient, handle: &str) -> String {
    let token = sign_in(client, handle).await;
    create_profile(client, &token, handle)
        .await
        .assert_status(201);
    token
}

async fn chirp(client: &TestClient, token: &str, body: &str) -> Value {
    client
        .post("/posts")
        .bearer(token)
        .json(&json!({"body": body}))
        .send()
        .await
        .assert_status(201)
        .json()
}

/// A 401 problem asking for credentials, the way the auth battery answers.
fn assert_unauthenticated(res: TestResponse) {
    let res = res.assert_status(401);
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    let challenge = res.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert_eq!(
        res.problem().detail.as_deref(),
        Some("authentication required")
    );
}

#[tokio::test]
async fn profiles_belong_to_a_user_and_are_created_once() {
    for (client, db) in clients().await {
        assert_unauthenticated(
            client
                .post("/profiles")
                .json(&json!({"handle": "ada", "display_name": "Ada"}))
                .send()
                .await,
        );
        let ada_token = sign_in(&client, "ada").await;
        let ada: Value = create_profile(&client, &ada_token, "ada")
            .await
            .assert_status(201)
            .json();
        assert_eq!(ada["handle"], "ada");
        assert_eq!(ada["bio"], "", "the model's default");
        assert!(ada["joined_at"].is_string(), "auto_now_add");
        assert!(ada.get("user").is_none(), "the account is not shown");

        // One profile per account (the account link is unique).
        let second = create_profile(&client, &ada_token, "ada_again")
            .await
            .assert_status(409)
            .problem();
        assert_eq!(
            second.extensions["errors"][0]["field"],
            "user",
            "{}",
            db.name()
        );
        // A handle is someone's once.
        let grace_token = sign_in(&client, "grace").await;
        let dup = create_profile(&client, &grace_token, "ada")
            .await
            .assert_status(409)
            .problem();
        assert_eq!(
            dup.extensions["errors"][0]["field"],
            "handle",
            "{}",
            db.name()
        );
        let long = create_profile(&client, &grace_token, &"x".repeat(31))
            .await
            .assert_status(422)
            .problem();
        assert_eq!(long.extensions["errors"][0]["field"], "handle");
        let bad = create_profile(&client, &grace_token, "grace hopper")
            .await
            .assert_status(422)
            .problem();
        assert_eq!(bad.extensions["errors"][0]["field"], "handle");
        create_profile(&client, &grace_token, "grace")
            .await
            .assert_status(201);
        client
            .get("/profiles/nobody")
            .send()
            .await
            .assert_status(404);

        // The profile goes with its account (`on_delete = "cascade"`).
        let handle = client.context().get::<Db>().unwrap().clone();
        User::objects()
            .filter(User::EMAIL.eq("ada@example.com"))
            .delete(&handle)
            .await
            .unwrap();
        client.get("/profiles/ada").send().await.assert_status(404);
        client
            .get("/profiles/grace")
            .send()
            .await
            .assert_status(200);
        db.close().await;
    }
}

#[tokio::test]
async fn writes_need_a_signed_in_user_with_a_profile() {
    for (client, db) in clients().await {
        let ada = member(&client, "ada").await;
        let post = chirp(&client, &ada, "hello").await;
        let id = post["id"].as_i64().unwrap();

        // No credentials: 401 with a Bearer challenge, on every write.
        let body = json!({"body": "anonymous"});
        assert_unauthenticated(client.post("/posts").json(&body).send().await);
        assert_unauthenticated(
            client
                .post(&format!("/posts/{id}/comments"))
                .json(&body)
                .send()
                .await,
        );
        assert_unauthenticated(client.post(&format!("/posts/{id}/like")).send().await);
        assert_unauthenticated(
            client
                .post("/follows")
                .json(&json!({"followee": 1}))
                .send()
                .await,
        );
        assert_unauthenticated(client.delete(&format!("/posts/{id}")).send().await);
        // A bad token says so, so that clients know to refresh.
        let bad = client
            .post("/posts")
            .bearer("not-a-token")
            .json(&body)
            .send()
            .await
            .assert_status(401);
        assert!(
            bad.header("www-authenticate")
                .unwrap()
                .contains("invalid_token")
        );

        // Signed in, but no profile yet: a clear 403.
        let grace = sign_in(&client, "grace").await;
        for res in [
            client
                .post("/posts")
                .bearer(&grace)
                .json(&body)
                .send()
                .await,
            client
                .post(&format!("/posts/{id}/comments"))
                .bearer(&grace)
                .json(&body)
                .send()
                .await,
            client
                .post(&format!("/posts/{id}/like"))
                .bearer(&grace)
                .send()
                .await,
            client
                .post("/follows")
                .bearer(&grace)
                .json(&json!({"followee": post["author"]}))
                .send()
                .await,
        ] {
            let p = res.assert_status(403).problem();
            assert!(
                p.detail
                    .as_deref()
                    .unwrap()
                    .starts_with("create your profile first"),
                "{}: {:?}",
                db.name(),
                p.detail
            );
        }

        // The acting profile is the signed-in user's; a body naming another is not obeyed
        // (the author is read-only, set from the signed-in user).
        let spoofed: Value = client
            .post("/posts")
            .bearer(&ada)
            .json(&json!({"author": 999, "body": "spoofed"}))
            .send()
            .await
            .assert_status(201)
            .json();
        assert_eq!(spoofed["author"], post["author"], "{}", db.name());
        // Unknown fields are refused, with what may be sent.
        let unknown = client
            .post("/posts")
            .bearer(&ada)
            .json(&json!({"text": "typo"}))
            .send()
            .await
            .assert_status(400)
            .problem();
        assert_eq!(unknown.extensions["unknown_fields"], json!(["text"]));
        db.close().await;
    }
}

#[tokio::test]
async fn the_timeline_pages_with_authors_in_one_query_per_page() {
    for (client, db) in clients().await {
        let ada = member(&client, "ada").await;
        for i in 0..25 {
            chirp(&client, &ada, &format!("post {i}")).await;
        }
        let before = queries(&client);
        let first: Value = client
            .get("/posts?expand=author")
            .send()
            .await
            .assert_status(200)
            .json();
        assert_eq!(
            queries(&client) - before,
            1,
            "{}: authors come with the page",
            db.name()
        );
        let items = first["items"].as_array().unwrap();
        assert_eq!(items.len(), 20);
        assert_eq!(items[0]["body"], "post 24", "newest first");
        assert_eq!(items[0]["author"]["handle"], "ada");
        // A post written between pages neither repeats nor hides a row.
        chirp(&client, &ada, "late").await;
        let next = first["next"].as_str().unwrap();
        assert!(next.starts_with("/posts?expand=author&cursor="), "{next}");
        let second: Value = client.get(next).send().await.assert_status(200).json();
        let bodies: Vec<&str> = second["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["body"].as_str().unwrap())
            .collect();
        assert_eq!(bodies, ["post 4", "post 3", "post 2", "post 1", "post 0"]);
        assert!(second["next"].is_null());
        // A tampered cursor is a 400 problem, not a 500.
        client
            .get("/posts?cursor=garbage")
            .send()
            .await
            .assert_status(400);
        db.close().await;
    }
}

#[tokio::test]
async fn follows_feed_comments_and_likes_act_as_the_signed_in_user() {
    for (client, db) in clients().await {
        let ada = member(&client, "ada").await;
        let grace = member(&client, "grace").await;
        let linus = member(&client, "linus").await;
        let profile_id = |handle: &'static str| {
            let client = &client;
            async move {
                client
                    .get(&format!("/profiles/{handle}"))
                    .send()
                    .await
                    .json::<Value>()["id"]
                    .as_i64()
                    .unwrap()
            }
        };
        let (ada_id, grace_id) = (profile_id("ada").await, profile_id("grace").await);
        let follow = |token: &str, whom: i64| {
            client
                .post("/follows")
                .bearer(token)
                .json(&json!({"followee": whom}))
                .send()
        };
        let f: Value = follow(&ada, grace_id).await.assert_status(201).json();
        assert_eq!(
            (f["follower"].as_i64(), f["followee"].as_i64()),
            (Some(ada_id), Some(grace_id))
        );
        follow(&ada, grace_id).await.assert_status(409);
        follow(&ada, ada_id).await.assert_status(422);
        follow(&ada, 999_999).await.assert_status(422);
        chirp(&client, &grace, "from grace").await;
        let post = chirp(&client, &linus, "from linus").await;
        assert_unauthenticated(client.get("/posts/feed").send().await);
        let feed: Value = client
            .get("/posts/feed")
            .bearer(&ada)
            .send()
            .await
            .assert_status(200)
            .json();
        let bodies: Vec<&str> = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["body"].as_str().unwrap())
            .collect();
        assert_eq!(bodies, ["from grace"], "{}", db.name());
        let ada_view: Value = client.get("/profiles/ada").send().await.json();
        assert_eq!(
            (
                ada_view["following"].as_u64(),
                ada_view["followers"].as_u64()
            ),
            (Some(1), Some(0))
        );

        let id = post["id"].as_i64().unwrap();
        let like = |token: &str| {
            client
                .post(&format!("/posts/{id}/like"))
                .bearer(token)
                .send()
        };
        let first: Value = like(&ada).await.assert_status(200).json();
        assert_eq!(first, json!({"like_count": 1, "created": true}));
        let again: Value = like(&ada).await.assert_status(200).json();
        assert_eq!(
            again,
            json!({"like_count": 1, "created": false}),
            "{}",
            db.name()
        );
        like(&grace).await.assert_status(200);
        client
            .post("/posts/999999/like")
            .bearer(&ada)
            .send()
            .await
            .assert_status(404);

        let comment: Value = client
            .post(&format!("/posts/{id}/comments"))
            .bearer(&ada)
            .json(&json!({"body": "nice"}))
            .send()
            .await
            .assert_status(201)
            .json();
        assert_eq!(comment["author"].as_i64(), Some(ada_id));
        assert_eq!(comment["post"].as_i64(), Some(id));
        let too_long = client
            .post(&format!("/posts/{id}/comments"))
            .bearer(&ada)
            .json(&json!({"body": "x".repeat(281)}))
            .send()
            .await
            .assert_status(422)
            .problem();
        assert_eq!(too_long.extensions["errors"][0]["field"], "body");
        let detail: Value = client
            .get(&format!("/posts/{id}?expand=author,comments.author"))
            .send()
            .await
            .json();
        assert_eq!(detail["like_count"], 2);
        assert_eq!(detail["author"]["handle"], "linus");
        assert_eq!(detail["comments"][0]["author"]["handle"], "ada");
        assert_eq!(detail["comments"].as_array().unwrap().len(), 1);
        client.get("/posts/999999").send().await.assert_status(404);
        db.close().await;
    }
}

#[tokio::test]
async fn only_the_author_or_a_superuser_deletes_a_post() {
    for (client, db) in clients().await {
        let ada = member(&client, "ada").await;
        let grace = member(&client, "grace").await;
        let post = chirp(&client, &ada, "mine").await;
        let id = post["id"].as_i64().unwrap();
        // Others' comments and likes do not keep it alive.
        client
            .post(&format!("/posts/{id}/comments"))
            .bearer(&grace)
            .json(&json!({"body": "hm"}))
            .send()
            .await
            .assert_status(201);
        client
            .post(&format!("/posts/{id}/like"))
            .bearer(&grace)
            .send()
            .await
            .assert_status(200);

        let refused = client
            .delete(&format!("/posts/{id}"))
            .bearer(&grace)
            .send()
            .await
            .assert_status(403)
            .problem();
        assert_eq!(
            refused.detail.as_deref(),
            Some("you may not delete posts"),
            "{}",
            db.name()
        );
        client
            .get(&format!("/posts/{id}"))
            .send()
            .await
            .assert_status(200);
        client
            .delete(&format!("/posts/{id}"))
            .bearer(&ada)
            .send()
            .await
            .assert_status(204);
        client
            .get(&format!("/posts/{id}"))
            .send()
            .await
            .assert_status(404);
        client
            .delete(&format!("/posts/{id}"))
            .bearer(&ada)
            .send()
            .await
            .assert_status(404);

        // A superuser may delete anyone's post (moderation), profile or not.
        let other = chirp(&client, &grace, "moderate me").await;
        auth(&client)
            .create_user("root@example.com", Some(PASSWORD), |u| {
                u.is_staff = true;
                u.is_superuser = true;
            })
            .await
            .unwrap();
        let root = login(&client, "root@example.com").await;
        client
            .delete(&format!("/posts/{}", other["id"]))
            .bearer(&root)
            .send()
            .await
            .assert_status(204);
        db.close().await;
    }
}

#[tokio::test]
async fn a_browser_session_writes_with_its_csrf_token() {
    for (client, db) in clients().await {
        client
            .post("/auth/signup")
            .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
            .send()
            .await
            .assert_status(202);
        let session: Value = client
            .post("/auth/login")
            .json(&json!({"email": "ada@example.com", "password": PASSWORD, "mode": "session"}))
            .send()
            .await
            .assert_status(200)
            .json();
        assert!(session.get("access_token").is_none());
        let csrf = session["csrf_token"].as_str().unwrap();
        assert!(
            client
                .cookies()
                .iter()
                .any(|(name, _)| name == "turbine_session"),
            "the client keeps the cookie"
        );

        // The cookie alone does not let a write through: the CSRF token must come with it.
        let new = json!({"handle": "ada", "display_name": "Ada Lovelace"});
        let refused = client
            .post("/profiles")
            .json(&new)
            .send()
            .await
            .assert_status(403)
            .problem();
        assert_eq!(refused.title, "CSRF check failed", "{}", db.name());
        client
            .post("/profiles")
            .header("x-csrf-token", csrf)
            .json(&new)
            .send()
            .await
            .assert_status(201);
        let post: Value = client
            .post("/posts")
            .header("x-csrf-token", csrf)
            .json(&json!({"body": "from the browser"}))
            .send()
            .await
            .assert_status(201)
            .json();
        let ada: Value = client.get("/profiles/ada").send().await.json();
        assert_eq!(post["author"], ada["id"]);
        // Reads need no token.
        client.get("/profiles/ada").send().await.assert_status(200);
        db.close().await;
    }
}

#[tokio::test]
async fn the_seed_command_fills_an_empty_database_with_accounts() {
    let db = TestDb::sqlite().await.unwrap();
    let client = TestClient::new(app(db.url())).await.unwrap();
    let handle = client.context().get::<Db>().unwrap().clone();
    handle.transaction(chirp::seed::seed).await.unwrap();
    let page: Value = client.get("/posts").send().await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 6);
    assert_eq!(page["items"][0]["like_count"], 1);

    // The demo accounts log in with the documented password and act as their profiles.
    let login: Value = client
        .post("/auth/login")
        .json(&json!({"email": "grace@example.com", "password": chirp::seed::DEMO_PASSWORD}))
        .send()
        .await
        .assert_status(200)
        .json();
    assert_eq!(login["user"]["is_staff"], true, "grace is staff");
    assert!(login["user"]["email_verified_at"].is_string());
    let token = login["access_token"].as_str().unwrap();
    let post: Value = client
        .post("/posts")
        .bearer(token)
        .json(&json!({"body": "seeded and signed in"}))
        .send()
        .await
        .assert_status(201)
        .json();
    let grace: Value = client.get("/profiles/grace").send().await.json();
    assert_eq!(post["author"], grace["id"]);
    assert_eq!(grace["posts"], 3, "two seeded, one just now");
    let ada = auth(&client)
        .find_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(!ada.is_staff);
    db.close().await;
}
