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
        // Found by its lookup field, validated by the resource's own check.
        let r = client
            .post("/tags")
            .bearer(&carol)
            .json(&json!({"name": "Rust2"}))
            .send()
            .await
            .assert_status(422);
        assert_eq!(
            field_errors(&r.json()),
            ["name: Use lowercase letters only."],
            "{name}"
        );
        client
            .get("/tags/nope")
            .bearer(&carol)
            .send()
            .await
            .assert_status(404);
        client
            .get("/tags/rust")
            .bearer(&carol)
            .send()
            .await
            .assert_status(200);
        client
            .patch("/tags/rust")
            .bearer(&carol)
            .json(&json!({"weight": 3}))
            .send()
            .await
            .assert_status(403);
        client
            .delete("/tags/rust")
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

#[tokio::test]
async fn bodies_are_validated_with_every_fields_error() {
    for (client, db) in clients().await {
        let name = db.name().to_owned();
        let (_, ada) = user(&client, "ada@example.com", Some("Ada"), &[]).await;
        let send = |body: Value| {
            let client = &client;
            let ada = ada.clone();
            async move { client.post("/posts").bearer(&ada).json(&body).send().await }
        };
        // Every invalid field at once, as 422 problem+json.
        let r = send(json!({"title": "x".repeat(101), "status": "gone", "data": {"k": "a\u{0}"}}))
            .await;
        assert_eq!(r.status(), 422, "{name}");
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{name}"
        );
        let errors = field_errors(&r.json());
        assert_eq!(errors.len(), 3, "{name}: {errors:?}");
        assert!(
            errors[0].starts_with("title: Ensure this value has at most 100 characters"),
            "{name}: {errors:?}"
        );
        assert!(
            errors[1]
                .starts_with("status: `gone` is not a valid choice; choices are: draft, published"),
            "{name}: {errors:?}"
        );
        assert!(
            errors[2].starts_with("data: Text may not contain NUL"),
            "{name}: {errors:?}"
        );
        // Types are strict: no numbers for text, no text for numbers.
        let r = send(json!({"title": 5})).await.assert_status(422);
        assert_eq!(
            field_errors(&r.json()),
            ["title: Expected a string."],
            "{name}"
        );
        let r = send(json!({"title": null})).await.assert_status(422);
        assert_eq!(
            field_errors(&r.json()),
            ["title: This field may not be null."],
            "{name}"
        );
        let r = send(json!({})).await.assert_status(422);
        assert_eq!(
            field_errors(&r.json()),
            ["title: This field is required."],
            "{name}"
        );
        // Unknown fields: 400 naming them and what may be sent; the body must be a JSON object.
        let r = send(json!({"title": "ok", "titel": "typo"}))
            .await
            .assert_status(400);
        let p: Value = r.json();
        assert_eq!(p["unknown_fields"], json!(["titel"]), "{name}");
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("title, body, status, data"),
            "{name}: {p}"
        );
        send(json!(["title"])).await.assert_status(400);
        client
            .post("/posts")
            .bearer(&ada)
            .body("{not json")
            .send()
            .await
            .assert_status(400);
        client
            .post("/posts")
            .bearer(&ada)
            .send()
            .await
            .assert_status(400);
        // Nothing was written by any of those.
        let page: Value = client.get("/posts").send().await.json();
        assert_eq!(page["items"], json!([]), "{name}");
        // Runtime models get the same checks: a 16-bit integer's range, choices.
        let (_, carol) = user(&client, "carol@example.com", None, &["blog.tag.add"]).await;
        let r = client
            .post("/tags")
            .bearer(&carol)
            .json(&json!({"name": "t", "weight": 70000, "color": "green"}))
            .send()
            .await
            .assert_status(422);
        let errors = field_errors(&r.json());
        assert_eq!(errors.len(), 2, "{name}: {errors:?}");
        assert!(
            errors[0].starts_with("color: `green` is not a valid choice"),
            "{name}: {errors:?}"
        );
        assert_eq!(
            errors[1], "weight: Ensure this value is between -32768 and 32767.",
            "{name}"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn filters_search_ordering_fields_and_expansion() {
    for (client, db) in clients().await {
        let name = db.name().to_owned();
        let (_, ada) = user(&client, "ada@example.com", Some("Ada"), &[]).await;
        let (_, bob) = user(&client, "bob@example.com", Some("Bob"), &[]).await;
        let rust = post(&client, &ada, "Rust tips").await;
        let go = post(&client, &bob, "Go notes").await;
        let draft: Value = client
            .post("/posts")
            .bearer(&ada)
            .json(&json!({"title": "Secret rust draft", "data": {"lang": "en", "n": 2}}))
            .send()
            .await
            .assert_status(201)
            .json();
        let ids = |page: &Value| -> Vec<i64> {
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_i64().unwrap())
                .collect()
        };
        let get = |path: String| {
            let client = &client;
            async move { client.get(&path).send().await }
        };
        let (rid, gid, did) = (
            rust["id"].as_i64().unwrap(),
            go["id"].as_i64().unwrap(),
            draft["id"].as_i64().unwrap(),
        );
        // Default ordering: newest first.
        assert_eq!(
            ids(&get("/posts".into()).await.json()),
            [did, gid, rid],
            "{name}"
        );
        assert_eq!(
            ids(&get("/posts?status=published".into()).await.json()),
            [gid, rid],
            "{name}"
        );
        assert_eq!(
            ids(&get("/posts?status=published&author__name=Ada".into())
                .await
                .json()),
            [rid],
            "{name}"
        );
        assert_eq!(
            ids(&get("/posts?author__name__icontains=bo".into()).await.json()),
            [gid],
            "{name}"
        );
        assert_eq!(
            ids(&get(format!("/posts?author={}", rust["author"]))
                .await
                .json()),
            [did, rid],
            "{name}"
        );
        assert_eq!(
            ids(&get("/posts?data__lang=en".into()).await.json()),
            [did],
            "{name}"
        );
        assert_eq!(
            ids(&get("/posts?data__isnull=true&ordering=id".into())
                .await
                .json()),
            [rid, gid],
            "{name}"
        );
        assert_eq!(
            ids(
                &get("/posts?created_at__gte=2000-01-01T00:00:00Z&views=0&ordering=title".into())
                    .await
                    .json()
            ),
            [gid, rid, did],
            "{name}"
        );
        // Search: every word in one of the search fields, any case.
        assert_eq!(
            ids(&get("/posts?search=RUST".into()).await.json()),
            [did, rid],
            "{name}"
        );
        assert_eq!(
            ids(&get("/posts?search=rust%20draft".into()).await.json()),
            [did],
            "{name}"
        );
        assert_eq!(
            ids(&get("/posts?search=about%20go".into()).await.json()),
            [gid],
            "{name}: body and title"
        );
        // Ordering on allowed fields, descending with `-`, ties broken by the key.
        assert_eq!(
            ids(&get("/posts?ordering=-title".into()).await.json()),
            [did, rid, gid],
            "{name}"
        );
        // Bad parameters: 400 naming what is allowed; nothing reaches SQL unbound.
        let p: Value = get("/posts?body=x".into()).await.assert_status(400).json();
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("status, author, author__name, created_at, views, data"),
            "{name}: {p}"
        );
        let p: Value = get("/posts?ordering=body".into())
            .await
            .assert_status(400)
            .json();
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("created_at, id, title, views"),
            "{name}: {p}"
        );
        get("/posts?views=lots".into()).await.assert_status(400);
        get("/posts?views__near=1".into()).await.assert_status(400);
        get("/posts?created_at__gte=yesterday".into())
            .await
            .assert_status(400);
        get("/posts?limit=0".into()).await.assert_status(400);
        get("/posts?limit=51".into()).await.assert_status(400);
        let p: Value = get("/posts?author__name=x'%20OR%20'1'='1".into())
            .await
            .assert_status(200)
            .json();
        assert_eq!(
            p["items"],
            json!([]),
            "{name}: injection is just an odd name"
        );
        // Sparse fields.
        let p: Value = get("/posts?fields=id,title&ordering=id".into())
            .await
            .json();
        assert_eq!(
            p["items"][0],
            json!({"id": rid, "title": "Rust tips"}),
            "{name}"
        );
        get("/posts?fields=id,secret".into())
            .await
            .assert_status(400);
        // The key always comes back; an empty list means every field.
        let p: Value = get("/posts?fields=title&ordering=id".into()).await.json();
        assert_eq!(
            p["items"][0],
            json!({"id": rid, "title": "Rust tips"}),
            "{name}"
        );
        let p: Value = get(format!("/posts/{rid}?fields="))
            .await
            .assert_status(200)
            .json();
        assert_eq!(p["body"], "about Rust tips", "{name}");
        // Expansion: the author as its resource shows it (no user_id: hidden there).
        let p: Value = get(format!("/posts/{rid}?expand=author"))
            .await
            .assert_status(200)
            .json();
        assert_eq!(
            p["author"],
            json!({"id": rust["author"], "name": "Ada"}),
            "{name}"
        );
        client
            .post(&format!("/posts/{rid}/comments"))
            .bearer(&bob)
            .json(&json!({"body": "nice"}))
            .send()
            .await
            .assert_status(201);
        let p: Value = get("/posts?ordering=id&expand=comments.author,author&fields=id".into())
            .await
            .json();
        assert_eq!(
            p["items"][0]["comments"][0]["author"]["name"], "Bob",
            "{name}: {p}"
        );
        assert_eq!(p["items"][0]["author"]["name"], "Ada", "{name}");
        assert_eq!(p["items"][1]["comments"], json!([]), "{name}");
        let p: Value = get("/posts?expand=views".into())
            .await
            .assert_status(400)
            .json();
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("author, comments, comments.author"),
            "{name}: {p}"
        );
        get(format!("/posts/{rid}?bogus=1"))
            .await
            .assert_status(400);
        db.close().await;
    }
}

#[tokio::test]
async fn expansion_costs_a_fixed_number_of_queries() {
    for (client, db) in clients().await {
        let name = db.name().to_owned();
        let (_, ada) = user(&client, "ada@example.com", Some("Ada"), &[]).await;
        let (_, bob) = user(&client, "bob@example.com", Some("Bob"), &[]).await;
        let count = |n: usize| {
            let client = &client;
            async move {
                let before = support::db(client).query_count();
                let p: Value = client
                    .get("/posts?limit=50&expand=author,comments,comments.author")
                    .send()
                    .await
                    .assert_status(200)
                    .json();
                assert_eq!(p["items"].as_array().unwrap().len(), n);
                support::db(client).query_count() - before
            }
        };
        let mut queries = Vec::new();
        for round in 0..3 {
            for i in 0..5 {
                let p = post(&client, &ada, &format!("post {round}.{i}")).await;
                client
                    .post(&format!("/posts/{}/comments", p["id"]))
                    .bearer(&bob)
                    .json(&json!({"body": "first"}))
                    .send()
                    .await
                    .assert_status(201);
            }
            queries.push(count(5 * (round + 1)).await);
        }
        // One query for the page (authors joined), one for the comments (their authors
        // joined), whatever the number of rows.
        assert_eq!(queries, [2, 2, 2], "{name}");
        db.close().await;
    }
}

#[tokio::test]
async fn cursor_pages_are_stable_while_rows_are_inserted() {
    for (client, db) in clients().await {
        let name = db.name().to_owned();
        let (_, ada) = user(&client, "ada@example.com", Some("Ada"), &[]).await;
        let mut all = Vec::new();
        for i in 0..12 {
            all.push(
                post(&client, &ada, &format!("p{i:02}")).await["id"]
                    .as_i64()
                    .unwrap(),
            );
        }
        all.reverse(); // newest first
        let mut seen = Vec::new();
        let mut path = "/posts?status=published".to_owned();
        let mut pages = 0;
        loop {
            let r = client.get(&path).send().await.assert_status(200);
            let p: Value = r.json();
            seen.extend(
                p["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["id"].as_i64().unwrap()),
            );
            pages += 1;
            // New posts arrive between pages: they sort before the cursor, never into a page.
            post(&client, &ada, &format!("new{pages}")).await;
            match p["next"].as_str() {
                Some(next) => {
                    assert_eq!(
                        r.header("link"),
                        Some(format!("<{next}>; rel=\"next\"").as_str()),
                        "{name}"
                    );
                    assert!(
                        next.starts_with("/posts?status=published&cursor="),
                        "{name}: {next}"
                    );
                    path = next.to_owned();
                }
                None => break,
            }
        }
        assert_eq!((pages, seen), (3, all), "{name}");
        // A tampered or foreign cursor is a 400, never a different page.
        let first: Value = client.get("/posts").send().await.json();
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        let (body, tag) = cursor.rsplit_once('.').unwrap();
        let mut forged = body.as_bytes().to_vec();
        forged[2] ^= 1;
        let forged = format!("{}.{tag}", String::from_utf8_lossy(&forged));
        let p: Value = client
            .get(&format!("/posts?cursor={forged}"))
            .send()
            .await
            .assert_status(400)
            .json();
        assert_eq!(
            p["detail"], "The cursor is not valid for this list.",
            "{name}"
        );
        client
            .get("/posts?cursor=garbage")
            .send()
            .await
            .assert_status(400);
        client
            .get(&format!("/posts?ordering=title&cursor={cursor}"))
            .send()
            .await
            .assert_status(400);
        client
            .get(&format!("/posts?cursor={cursor}"))
            .send()
            .await
            .assert_status(200);
        // Page numbers where a resource asks for them, with a count.
        let (_, carol) = user(
            &client,
            "carol@example.com",
            None,
            &["blog.tag.add", "blog.tag.view"],
        )
        .await;
        for t in ["a", "b", "c"] {
            client
                .post("/tags")
                .bearer(&carol)
                .json(&json!({"name": t}))
                .send()
                .await
                .assert_status(201);
        }
        let p: Value = client
            .get("/tags?limit=2&ordering=name")
            .bearer(&carol)
            .send()
            .await
            .json();
        assert_eq!(
            (
                p["count"].as_i64(),
                p["next"].as_str(),
                p["previous"].as_str()
            ),
            (Some(3), Some("/tags?limit=2&ordering=name&page=2"), None),
            "{name}"
        );
        let p: Value = client
            .get("/tags?limit=2&ordering=name&page=2")
            .bearer(&carol)
            .send()
            .await
            .json();
        assert_eq!(p["items"][0]["name"], "c", "{name}");
        assert!(p["next"].is_null(), "{name}");
        client
            .get("/tags?cursor=x")
            .bearer(&carol)
            .send()
            .await
            .assert_status(400);
        db.close().await;
    }
}

#[tokio::test]
async fn etags_make_reads_conditional_and_writes_optimistic() {
    for (client, db) in clients().await {
        let name = db.name().to_owned();
        let (_, ada) = user(&client, "ada@example.com", Some("Ada"), &[]).await;
        let p = post(&client, &ada, "Tagged").await;
        let path = format!("/posts/{}", p["id"]);
        let r = client.get(&path).send().await.assert_status(200);
        let etag = r.header("etag").unwrap().to_owned();
        // Unchanged: 304 without a body, for the exact tag or a weak one or a list.
        let r = client
            .get(&path)
            .header("if-none-match", &etag)
            .send()
            .await
            .assert_status(304);
        assert!(r.bytes().is_empty(), "{name}");
        client
            .get(&path)
            .header("if-none-match", &format!("\"x\", W/{etag}"))
            .send()
            .await
            .assert_status(304);
        client
            .get(&path)
            .header("if-none-match", "\"other\"")
            .send()
            .await
            .assert_status(200);
        let list_tag = client
            .get("/posts")
            .send()
            .await
            .header("etag")
            .unwrap()
            .to_owned();
        client
            .get("/posts")
            .header("if-none-match", &list_tag)
            .send()
            .await
            .assert_status(304);
        // A write with a stale If-Match is refused (412) and changes nothing.
        let r = client
            .patch(&path)
            .bearer(&ada)
            .header("if-match", "\"stale\"")
            .json(&json!({"title": "Lost update"}))
            .send()
            .await
            .assert_status(412);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{name}"
        );
        let r = client
            .patch(&path)
            .bearer(&ada)
            .header("if-match", &etag)
            .json(&json!({"title": "Saved"}))
            .send()
            .await
            .assert_status(200);
        let new_tag = r.header("etag").unwrap().to_owned();
        assert_ne!(new_tag, etag, "{name}");
        // The old tag is stale now: for writes (412) and for reads (200 with the new body).
        client
            .patch(&path)
            .bearer(&ada)
            .header("if-match", &etag)
            .json(&json!({"title": "x"}))
            .send()
            .await
            .assert_status(412);
        client
            .delete(&path)
            .bearer(&ada)
            .header("if-match", &etag)
            .send()
            .await
            .assert_status(412);
        let r = client
            .get(&path)
            .header("if-none-match", &etag)
            .send()
            .await
            .assert_status(200);
        assert_eq!(r.header("etag"), Some(new_tag.as_str()), "{name}");
        assert_eq!(r.json::<Value>()["title"], "Saved", "{name}");
        client
            .delete(&path)
            .bearer(&ada)
            .header("if-match", &new_tag)
            .send()
            .await
            .assert_status(204);
        db.close().await;
    }
}

#[tokio::test]
async fn nested_collections_and_policies() {
    let with_policy = || turbine::auth::Auth::new().policy::<Post>(post_policy);
    let private_posts =
        || api_with(posts().access(turbine_api::Op::Retrieve, turbine_api::Rule::Permission));
    for (client, db) in clients_with(private_posts, with_policy).await {
        let name = db.name().to_owned();
        let (_, ada) = user(&client, "ada@example.com", Some("Ada"), &[]).await;
        let (_, bob) = user(&client, "bob@example.com", Some("Bob"), &[]).await;
        let p = post(&client, &ada, "Policy").await;
        let id = p["id"].as_i64().unwrap();
        // Nested: the parent's comments; creating one sets the parent; a missing parent is 404.
        let c: Value = client
            .post(&format!("/posts/{id}/comments"))
            .bearer(&bob)
            .json(&json!({"body": "hi"}))
            .send()
            .await
            .assert_status(201)
            .json();
        assert_eq!(c["post"], id, "{name}");
        // The post is create-only: a PATCH naming another leaves it.
        let other = post(&client, &ada, "Other").await;
        let moved: Value = client
            .patch(&format!("/comments/{}", c["id"]))
            .bearer(&bob)
            .json(&json!({"post": other["id"], "body": "edited"}))
            .send()
            .await
            .assert_status(200)
            .json();
        assert_eq!(
            (moved["post"].as_i64(), moved["body"].as_str()),
            (Some(id), Some("edited")),
            "{name}"
        );
        let r = client
            .get(&format!("/comments/{}", c["id"]))
            .send()
            .await
            .assert_status(200);
        assert_eq!(r.json::<Value>()["body"], "edited", "{name}");
        let list: Value = client
            .get(&format!("/posts/{id}/comments"))
            .send()
            .await
            .json();
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{name}");
        client
            .get("/posts/999/comments")
            .send()
            .await
            .assert_status(404);
        client
            .post("/posts/999/comments")
            .bearer(&bob)
            .json(&json!({"body": "x"}))
            .send()
            .await
            .assert_status(404);
        // The policy decides on objects, over ownership and model permissions: the published
        // post is frozen even for its owner; anyone signed in edits a draft.
        client
            .patch(&format!("/posts/{id}"))
            .bearer(&ada)
            .json(&json!({"title": "t"}))
            .send()
            .await
            .assert_status(403);
        let d: Value = client
            .post("/posts")
            .bearer(&bob)
            .json(&json!({"title": "draft"}))
            .send()
            .await
            .assert_status(201)
            .json();
        let draft = format!("/posts/{}", d["id"]);
        client
            .patch(&draft)
            .bearer(&ada)
            .json(&json!({"title": "edited by ada"}))
            .send()
            .await
            .assert_status(200);
        // Reads go through the policy when the rule asks for permissions (not public here):
        // drafts are hidden, published posts visible, to users without `blog.post.view`.
        client
            .get(&draft)
            .bearer(&bob)
            .send()
            .await
            .assert_status(403);
        client
            .get(&format!("/posts/{id}"))
            .bearer(&bob)
            .send()
            .await
            .assert_status(200);
        client
            .get(&format!("/posts/{id}"))
            .send()
            .await
            .assert_status(401);
        db.close().await;
    }
}

#[tokio::test]
async fn a_retried_create_with_an_idempotency_key_creates_once() {
    for (client, db) in clients().await {
        let name = db.name().to_owned();
        let (_, ada) = user(&client, "ada@example.com", Some("Ada"), &[]).await;
        let (_, bob) = user(&client, "bob@example.com", Some("Bob"), &[]).await;
        let body = json!({"title": "Once", "status": "published"});
        let send = |token: &str, key: &str, body: &Value| {
            client
                .post("/posts")
                .bearer(token)
                .header("idempotency-key", key)
                .json(body)
                .send()
        };
        let first = send(&ada, "k-1", &body).await.assert_status(201);
        let again = send(&ada, "k-1", &body).await.assert_status(201);
        assert_eq!(again.header("idempotent-replayed"), Some("true"), "{name}");
        assert_eq!(first.json::<Value>(), again.json::<Value>(), "{name}");
        assert_eq!(first.header("location"), again.header("location"), "{name}");
        assert_eq!(first.header("etag"), again.header("etag"), "{name}");
        // The same key with another body is refused and creates nothing.
        let r = send(&ada, "k-1", &json!({"title": "Other"}))
            .await
            .assert_status(422);
        assert!(r.text().contains("different request body"), "{name}");
        // Keys belong to their user: Bob's k-1 is his own create.
        let bobs: Value = send(&bob, "k-1", &body).await.assert_status(201).json();
        assert_ne!(bobs["id"], first.json::<Value>()["id"], "{name}");
        // Racing retries: one object, every answer the same.
        let racing = json!({"title": "Race", "status": "published"});
        let answers =
            futures_util::future::join_all((0..6).map(|_| send(&ada, "k-race", &racing))).await;
        let ids: std::collections::BTreeSet<String> = answers
            .iter()
            .filter(|r| r.status() == 201)
            .map(|r| r.json::<Value>()["id"].to_string())
            .collect();
        assert_eq!(ids.len(), 1, "{name}: {ids:?}");
        assert!(
            answers
                .iter()
                .all(|r| r.status() == 201 || r.status() == 409),
            "{name}"
        );
        let page: Value = client.get("/posts?search=Race").send().await.json();
        assert_eq!(page["items"].as_array().unwrap().len(), 1, "{name}");
        let page: Value = client.get("/posts?search=Once").send().await.json();
        assert_eq!(
            page["items"].as_array().unwrap().len(),
            2,
            "{name}: Ada's and Bob's"
        );
        // Keys expire after 24 hours: then the same key creates again; old keys are purged.
        use turbine::orm::ModelExt;
        use turbine_api::idempotency::{IdempotencyKey, purge_expired};
        let handle = support::db(&client);
        let age = |key: &'static str| {
            let handle = handle.clone();
            async move {
                IdempotencyKey::objects()
                    .filter(IdempotencyKey::KEY.eq(key))
                    .update()
                    .set(
                        IdempotencyKey::CREATED_AT,
                        chrono::Utc::now() - chrono::Duration::hours(25),
                    )
                    .execute(&handle)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(age("k-1").await, 2, "{name}: Ada's and Bob's");
        let fresh = send(&ada, "k-1", &body).await.assert_status(201);
        assert!(fresh.header("idempotent-replayed").is_none(), "{name}");
        assert_ne!(
            fresh.json::<Value>()["id"],
            first.json::<Value>()["id"],
            "{name}"
        );
        assert_eq!(
            purge_expired(&handle).await.unwrap(),
            1,
            "{name}: Bob's expired key"
        );
        // Bad keys are a 400.
        send(&ada, "", &body).await.assert_status(400);
        send(&ada, &"k".repeat(300), &body).await.assert_status(400);
        db.close().await;
    }
}
