//! Chirp's API on a fresh database per test: SQLite always, Postgres when
//! `TURBINE_TEST_POSTGRES_URL` is set (required in CI). Migrations are applied at start-up.

use serde_json::{Value, json};
use turbine::orm::Db;
use turbine::orm::testing::TestDb;
use turbine::testing::{self, TestClient};

/// A client on each backend, with the databases to close afterwards.
async fn clients() -> Vec<(TestClient, TestDb)> {
    let mut out = Vec::new();
    for db in TestDb::all().await.unwrap() {
        let config = testing::config(&format!("[database]\nurl = '{}'", db.url()));
        let client = TestClient::new(chirp::app().config(config)).await.unwrap();
        out.push((client, db));
    }
    out
}

fn queries(client: &TestClient) -> u64 {
    client.context().get::<Db>().unwrap().query_count()
}

async fn profile(client: &TestClient, handle: &str) -> Value {
    client
        .post("/profiles")
        .json(&json!({"handle": handle, "display_name": handle.to_uppercase()}))
        .send()
        .await
        .assert_status(201)
        .json()
}

async fn chirp(client: &TestClient, author: &str, body: &str) -> Value {
    client
        .post("/posts")
        .json(&json!({"author": author, "body": body}))
        .send()
        .await
        .assert_status(201)
        .json()
}

#[tokio::test]
async fn profiles_are_created_once_and_validated() {
    for (client, db) in clients().await {
        let ada = profile(&client, "ada").await;
        assert_eq!(ada["handle"], "ada");
        assert_eq!(ada["bio"], "", "the model's default");
        assert!(ada["joined_at"].is_string(), "auto_now_add");
        let dup = client
            .post("/profiles")
            .json(&json!({"handle": "ada", "display_name": "Imposter"}))
            .send()
            .await
            .assert_status(409)
            .problem();
        assert_eq!(
            dup.extensions["errors"][0]["field"],
            "handle",
            "{}",
            db.name()
        );
        let long = client
            .post("/profiles")
            .json(&json!({"handle": "x".repeat(31), "display_name": "Long"}))
            .send()
            .await
            .assert_status(422)
            .problem();
        assert_eq!(long.extensions["errors"][0]["field"], "handle");
        client
            .get("/profiles/nobody")
            .send()
            .await
            .assert_status(404);
        db.close().await;
    }
}

#[tokio::test]
async fn the_timeline_pages_with_authors_in_one_query_per_page() {
    for (client, db) in clients().await {
        profile(&client, "ada").await;
        for i in 0..25 {
            chirp(&client, "ada", &format!("post {i}")).await;
        }
        let before = queries(&client);
        let first: Value = client.get("/posts").send().await.assert_status(200).json();
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
        chirp(&client, "ada", "late").await;
        let cursor = first["next"].as_str().unwrap();
        let second: Value = client
            .get(&format!("/posts?cursor={cursor}"))
            .send()
            .await
            .assert_status(200)
            .json();
        let bodies: Vec<&str> = second["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["body"].as_str().unwrap())
            .collect();
        assert_eq!(bodies, ["post 4", "post 3", "post 2", "post 1", "post 0"]);
        assert!(second.get("next").is_none());
        // A tampered cursor is a 4xx problem, not a 500.
        let bad = client.get("/posts?cursor=garbage").send().await;
        assert!(bad.status().is_client_error(), "{}", bad.status());
        db.close().await;
    }
}

#[tokio::test]
async fn follows_feed_comments_and_likes() {
    for (client, db) in clients().await {
        for h in ["ada", "grace", "linus"] {
            profile(&client, h).await;
        }
        let follow = |who: &'static str, whom: &'static str| {
            client
                .post(&format!("/profiles/{whom}/follow"))
                .json(&json!({"follower": who}))
                .send()
        };
        follow("ada", "grace").await.assert_status(204);
        follow("ada", "grace").await.assert_status(409);
        follow("ada", "ada").await.assert_status(422);
        chirp(&client, "grace", "from grace").await;
        let post = chirp(&client, "linus", "from linus").await;
        let feed: Value = client.get("/profiles/ada/feed").send().await.json();
        let bodies: Vec<&str> = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["body"].as_str().unwrap())
            .collect();
        assert_eq!(bodies, ["from grace"], "{}", db.name());
        let ada: Value = client.get("/profiles/ada").send().await.json();
        assert_eq!(
            (ada["following"].as_u64(), ada["followers"].as_u64()),
            (Some(1), Some(0))
        );

        let id = post["id"].as_i64().unwrap();
        let like = |who: &'static str| {
            client
                .post(&format!("/posts/{id}/like"))
                .json(&json!({"profile": who}))
                .send()
        };
        let first: Value = like("ada").await.assert_status(200).json();
        assert_eq!(first, json!({"like_count": 1, "created": true}));
        let again: Value = like("ada").await.assert_status(200).json();
        assert_eq!(
            again,
            json!({"like_count": 1, "created": false}),
            "{}",
            db.name()
        );
        like("grace").await.assert_status(200);

        client
            .post(&format!("/posts/{id}/comments"))
            .json(&json!({"author": "ada", "body": "nice"}))
            .send()
            .await
            .assert_status(201);
        let too_long = client
            .post(&format!("/posts/{id}/comments"))
            .json(&json!({"author": "ada", "body": "x".repeat(281)}))
            .send()
            .await
            .assert_status(422)
            .problem();
        assert_eq!(too_long.extensions["errors"][0]["field"], "body");
        let detail: Value = client.get(&format!("/posts/{id}")).send().await.json();
        assert_eq!(detail["like_count"], 2);
        assert_eq!(detail["author"]["handle"], "linus");
        assert_eq!(detail["comments"][0]["author"]["handle"], "ada");
        assert_eq!(detail["comments"].as_array().unwrap().len(), 1);
        client.get("/posts/999999").send().await.assert_status(404);
        db.close().await;
    }
}

#[tokio::test]
async fn the_seed_command_fills_an_empty_database() {
    let db = TestDb::sqlite().await.unwrap();
    let config = testing::config(&format!("[database]\nurl = '{}'", db.url()));
    let client = TestClient::new(chirp::app().config(config)).await.unwrap();
    let handle = client.context().get::<Db>().unwrap().clone();
    handle.transaction(chirp::seed::seed).await.unwrap();
    let page: Value = client.get("/posts").send().await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 6);
    assert_eq!(page["items"][0]["like_count"], 1);
    db.close().await;
}
