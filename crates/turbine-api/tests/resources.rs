//! Resources end to end, on SQLite and (when configured) Postgres: every operation and its
//! permission denial, validation, filters, search, ordering, fields, expansion, pagination,
//! conditional requests.

mod support;

use serde_json::{Value, json};
use support::*;
use turbine::testing::TestClient;

async fn post(client: &TestClient, token: &str, title: &str) -> Value {
    client
        .post("/posts")
        .bearer(token)
        .json(&json!({"title": title, "body": format!("about {title}"), "status": "published"}))
        .send()
        .await
        .assert_status(201)
        .json()
}

#[tokio::test]
async fn every_operation_and_its_denials() {
    for (client, db) in clients().await {
        let name = db.name().to_owned();
        let (_, ada) = user(&client, "ada@example.com", Some("Ada"), &[]).await;
        let (_, bob) = user(&client, "bob@example.com", Some("Bob"), &[]).await;
        let (_, nobody) = user(&client, "nobody@example.com", None, &[]).await;

        // Create: anonymous 401, a user without an author 403 (the owner resolver says why),
        // an author 201 with Location and ETag; the owner is set from the user, not the body.
        let new = json!({"title": "First", "body": "hello"});
        let r = client
            .post("/posts")
            .json(&new)
            .send()
            .await
            .assert_status(401);
        assert!(r.header("www-authenticate").is_some(), "{name}");
        let r = client
            .post("/posts")
            .bearer(&nobody)
            .json(&new)
            .send()
            .await
            .assert_status(403);
        assert!(
            r.text().contains("Create your author first"),
            "{name}: {}",
            r.text()
        );
        let r = client
            .post("/posts")
            .bearer(&ada)
            .json(&new)
            .send()
            .await
            .assert_status(201);
        let created: Value = r.json();
        let id = created["id"].as_i64().unwrap();
        assert_eq!(
            r.header("location"),
            Some(format!("/posts/{id}").as_str()),
            "{name}"
        );
        assert!(
            r.header("etag").is_some_and(|e| e.starts_with('"')),
            "{name}"
        );
        assert_eq!(created["status"], "draft", "{name}: the default");
        assert_eq!(created["views"], 0, "{name}");
        assert!(
            created["author"].is_i64(),
            "{name}: related objects are keys"
        );

        // Read: public.
        let got: Value = client
            .get(&format!("/posts/{id}"))
            .send()
            .await
            .assert_status(200)
            .json();
        assert_eq!(got, created, "{name}");
        let page: Value = client.get("/posts").send().await.assert_status(200).json();
        assert_eq!(page["items"].as_array().unwrap().len(), 1, "{name}");
        client.get("/posts/999999").send().await.assert_status(404);
        client
            .get("/posts/not-a-key")
            .send()
            .await
            .assert_status(404);

        // Update and delete: the owner only (no model permission granted).
        let patch = json!({"title": "Edited"});
        client
            .patch(&format!("/posts/{id}"))
            .json(&patch)
            .send()
            .await
            .assert_status(401);
        client
            .patch(&format!("/posts/{id}"))
            .bearer(&bob)
            .json(&patch)
            .send()
            .await
            .assert_status(403);
        client
            .delete(&format!("/posts/{id}"))
            .bearer(&bob)
            .send()
            .await
            .assert_status(403);
        let edited: Value = client
            .patch(&format!("/posts/{id}"))
            .bearer(&ada)
            .json(&patch)
            .send()
            .await
            .assert_status(200)
            .json();
        assert_eq!(edited["title"], "Edited", "{name}");
        assert_eq!(
            edited["body"], "hello",
            "{name}: PATCH keeps what it does not send"
        );
        // PUT needs every required field; what it omits and may omit keeps its value.
        let r = client
            .put(&format!("/posts/{id}"))
            .bearer(&ada)
            .json(&json!({"body": "x"}))
            .send()
            .await
            .assert_status(422);
        assert_eq!(
            field_errors(&r.json()),
            ["title: This field is required."],
            "{name}"
        );
        let replaced: Value = client
            .put(&format!("/posts/{id}"))
            .bearer(&ada)
            .json(&json!({"title": "Replaced", "status": "published"}))
            .send()
            .await
            .assert_status(200)
            .json();
        assert_eq!(
            (replaced["title"].as_str(), replaced["body"].as_str()),
            (Some("Replaced"), Some("hello")),
            "{name}"
        );
        // Read-only fields sent back are ignored; the owner cannot be moved.
        let other_author = replaced["author"].as_i64().unwrap() + 1;
        let same: Value = client
            .patch(&format!("/posts/{id}"))
            .bearer(&ada)
            .json(&json!({"views": 1000, "author": other_author, "id": 77}))
            .send()
            .await
            .assert_status(200)
            .json();
        assert_eq!(
            (
                same["views"].as_i64(),
                same["author"].as_i64(),
                same["id"].as_i64()
            ),
            (Some(0), replaced["author"].as_i64(), Some(id)),
            "{name}"
        );
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

        // Model permissions (the default rule): tags need `blog.tag.*`.
        let (_, carol) = user(
            &client,
            "carol@example.com",
            None,
            &["blog.tag.view", "blog.tag.add"],
        )
        .await;
        client.get("/tags").send().await.assert_status(401);
        client
            .get("/tags")
            .bearer(&bob)
            .send()
            .await
            .assert_status(403);
        client
            .post("/tags")
            .bearer(&bob)
            .json(&json!({"name": "rust"}))
            .send()
            .await
            .assert_status(403);
        let tag: Value = client
            .post("/tags")
            .bearer(&carol)
            .json(&json!({"name": "rust", "color": "red"}))
            .send()
            .await
            .assert_status(201)
            .json();
        assert_eq!(tag["weight"], 1, "{name}: a runtime model's default");
        let tag_id = tag["id"].as_i64().unwrap();
        client
            .get(&format!("/tags/{tag_id}"))
            .bearer(&carol)
            .send()
            .await
            .assert_status(200);
        client
            .patch(&format!("/tags/{tag_id}"))
            .bearer(&carol)
            .json(&json!({"weight": 3}))
            .send()
            .await
            .assert_status(403);
        client
            .delete(&format!("/tags/{tag_id}"))
            .bearer(&carol)
            .send()
            .await
            .assert_status(403);
        // A unique violation is a 409 naming the field.
        let r = client
            .post("/tags")
            .bearer(&carol)
            .json(&json!({"name": "rust"}))
            .send()
            .await
            .assert_status(409);
        assert_eq!(
            field_errors(&r.json()),
            ["name: is already taken"],
            "{name}"
        );

        // Methods a resource does not serve: 405 (a nested collection lists and creates only).
        client
            .put("/posts/1/comments")
            .bearer(&ada)
            .json(&json!({}))
            .send()
            .await
            .assert_status(405);
        db.close().await;
    }
}
