//! The generated OpenAPI 3.1 document and the docs UI.

mod support;

use serde_json::{Value, json};
use support::*;
use turbine::orm::testing::TestDb;
use turbine::testing::TestClient;

async fn client() -> (TestClient, TestDb) {
    let db = TestDb::sqlite().await.unwrap();
    let api = || {
        api().info("Blog", "1.2.3").document(json!({
            "paths": {"/hello": {"get": {"operationId": "hello", "responses": {"200": {"description": "hi"}}}}},
            "components": {"schemas": {"Greeting": {"type": "string"}}},
        }))
    };
    let client = TestClient::new(app(db.url(), api(), turbine::auth::Auth::new()))
        .await
        .unwrap();
    (client, db)
}

#[tokio::test]
async fn the_document_describes_every_operation_from_the_metadata() {
    let (client, db) = client().await;
    let r = client.get("/openapi.json").send().await.assert_status(200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let doc: Value = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"], json!({"title": "Blog", "version": "1.2.3"}));
    let ops = |path: &str| -> Vec<String> {
        let mut v: Vec<String> = doc["paths"][path]
            .as_object()
            .unwrap_or_else(|| panic!("no {path}"))
            .keys()
            .cloned()
            .collect();
        v.sort();
        v
    };
    assert_eq!(ops("/posts"), ["get", "post"]);
    assert_eq!(ops("/posts/{id}"), ["delete", "get", "patch", "put"]);
    assert_eq!(ops("/posts/{parent}/comments"), ["get", "post"]);
    assert_eq!(ops("/tags/{id}"), ["delete", "get", "patch", "put"]);
    assert_eq!(ops("/hello"), ["get"], "the app's own document is merged");
    assert_eq!(ops("/posts/mine"), ["get"]);
    assert_eq!(
        doc["paths"]["/posts/mine"]["get"]["summary"],
        "The signed-in user's posts"
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Greeting"], json!({"type": "string"}));
    // What clients read: every readable field, read-only ones marked, nullable as 3.1 types,
    // choices as enums, the expandable author as key or object; hidden fields absent.
    let post = &schemas["Post"];
    assert_eq!(post["properties"]["views"]["readOnly"], true);
    assert_eq!(post["properties"]["title"]["maxLength"], 100);
    assert_eq!(
        post["properties"]["status"]["enum"],
        json!(["draft", "published"])
    );
    assert_eq!(post["properties"]["data"], json!({"title": "Data"}));
    assert_eq!(post["properties"]["created_at"]["format"], "date-time");
    assert_eq!(
        post["properties"]["author"]["anyOf"][1],
        json!({"$ref": "#/components/schemas/Author"})
    );
    assert_eq!(post["properties"]["comments"]["type"], "array");
    assert!(
        schemas["Author"]["properties"].get("user_id").is_none(),
        "hidden"
    );
    // What clients write: writable fields only, required ones required, strict.
    let create = &schemas["PostCreate"];
    let mut writable: Vec<&String> = create["properties"].as_object().unwrap().keys().collect();
    writable.sort();
    assert_eq!(writable, ["body", "data", "status", "title"]);
    assert_eq!(create["required"], json!(["title"]));
    assert_eq!(create["additionalProperties"], false);
    assert!(schemas["PostPatch"].get("required").is_none());
    // Create-only fields: written on create, not on update.
    assert!(schemas["CommentCreate"]["properties"].get("post").is_some());
    assert!(schemas["CommentPatch"]["properties"].get("post").is_none());
    assert!(schemas["CommentUpdate"]["properties"].get("post").is_none());
    assert_eq!(
        schemas["Tag"]["properties"]["color"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(
        schemas["Tag"]["properties"]["color"]["enum"],
        json!(["red", "blue", null])
    );
    assert_eq!(
        schemas["TagPage"]["required"],
        json!(["items", "count", "next", "previous"])
    );
    // Parameters: the filters (with lookups), search, ordering, limit, cursor, fields, expand.
    let list = &doc["paths"]["/posts"]["get"];
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for expected in [
        "status",
        "author__name",
        "author__name__icontains",
        "views__gte",
        "created_at__lt",
        "search",
        "ordering",
        "limit",
        "cursor",
        "fields",
        "expand",
        "If-None-Match",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let limit = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(limit["schema"]["maximum"], 50);
    // Security: public reads allow anonymous; writes need a bearer token or the cookie.
    assert_eq!(
        list["security"],
        json!([{}, {"bearer": []}, {"cookie": []}])
    );
    let create_op = &doc["paths"]["/posts"]["post"];
    assert_eq!(
        create_op["security"],
        json!([{"bearer": []}, {"cookie": []}])
    );
    for status in ["201", "400", "401", "403", "409", "422"] {
        assert!(create_op["responses"].get(status).is_some(), "{status}");
    }
    assert_eq!(
        create_op["responses"]["201"]["links"]["get"]["operationId"],
        "get_posts"
    );
    assert_eq!(
        doc["paths"]["/posts/{id}"]["patch"]["responses"]["412"]["content"]["application/problem+json"]
            ["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["cookie"]["name"],
        "turbine_session"
    );
    // Every $ref resolves.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        assert!(schemas.get(name).is_some(), "{r} does not resolve");
    }
    db.close().await;
}

#[tokio::test]
async fn the_docs_ui_is_served_from_the_binary() {
    let (client, db) = client().await;
    let page = client.get("/docs").send().await.assert_status(200);
    let html = page.text();
    assert!(html.contains(r#"data-openapi="/openapi.json""#), "{html}");
    assert!(html.contains("/docs/swagger-ui-bundle.js"));
    let js = client
        .get("/docs/swagger-ui-bundle.js")
        .send()
        .await
        .assert_status(200);
    assert!(js.bytes().len() > 1_000_000, "the vendored bundle");
    assert!(
        js.header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    client
        .get("/docs/swagger-ui.css")
        .send()
        .await
        .assert_status(200);
    assert!(
        client
            .get("/docs/init.js")
            .send()
            .await
            .assert_status(200)
            .text()
            .contains("SwaggerUIBundle")
    );
    db.close().await;
}
