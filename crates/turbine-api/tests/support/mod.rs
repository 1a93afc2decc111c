//! A small blog for the API battery's tests: authors (one per user), posts with an owner,
//! comments nested under posts, and tags defined at runtime (no Rust type), on a fresh
//! database per backend.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use serde_json::Value;
use turbine::auth::password::PasswordHasher;
use turbine::auth::service::ClientInfo;
use turbine::auth::{Action, Auth, AuthService, CurrentUser};
use turbine::orm::battery::{Migrations, Orm};
use turbine::orm::meta::{Choice, FieldMeta, FieldType, ModelMeta};
use turbine::orm::query::{Filter, Query};
use turbine::orm::testing::TestDb;
use turbine::orm::{Db, ForeignKey, Value as DbValue};
use turbine::prelude::*;
use turbine::testing::{self, TestClient};
use turbine_api::{Api, Pagination, Resource, Rule, count_of};

/// A writer: the public face of a user.
#[derive(turbine::Model, Debug, Clone)]
#[model(app = "blog", ordering = ["name"])]
pub(crate) struct Author {
    /// Key.
    pub(crate) id: i64,
    /// Name.
    #[field(max_length = 50)]
    pub(crate) name: String,
    /// The user it belongs to (a plain column: the tests' models need no auth migration).
    #[field(unique)]
    pub(crate) user_id: i64,
}

/// Where a post is.
#[derive(turbine::Choices, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Not shown yet.
    Draft,
    /// Out.
    Published,
}

/// A post.
#[derive(turbine::Model, Debug, Clone)]
#[model(app = "blog", ordering = ["-created_at", "-id"])]
pub(crate) struct Post {
    /// Key.
    pub(crate) id: i64,
    /// Who wrote it.
    #[field(on_delete = "cascade", related_name = "posts")]
    pub(crate) author: ForeignKey<Author>,
    /// Title.
    #[field(max_length = 100)]
    pub(crate) title: String,
    /// Text.
    #[field(default = "")]
    pub(crate) body: String,
    /// `draft` or `published`.
    #[field(default = "draft")]
    pub(crate) status: Status,
    /// Views (kept by the server).
    #[field(default = 0, read_only)]
    pub(crate) views: i64,
    /// Anything.
    pub(crate) data: Option<serde_json::Value>,
    /// When.
    #[field(auto_now_add)]
    pub(crate) created_at: DateTime<Utc>,
}

/// A comment on a post.
#[derive(turbine::Model, Debug, Clone)]
#[model(app = "blog", ordering = ["id"])]
pub(crate) struct Comment {
    /// Key.
    pub(crate) id: i64,
    /// The post.
    #[field(on_delete = "cascade", related_name = "comments")]
    pub(crate) post: ForeignKey<Post>,
    /// Who wrote it.
    #[field(on_delete = "cascade", related_name = "comments")]
    pub(crate) author: ForeignKey<Author>,
    /// Text.
    #[field(max_length = 200)]
    pub(crate) body: String,
}

/// Tags: a model known only by its metadata.
pub(crate) fn tag_meta() -> ModelMeta {
    ModelMeta::new("blog", "Tag")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("name", FieldType::String { max_length: 20 }).unique())
        .field(
            FieldMeta::new("color", FieldType::String { max_length: 10 })
                .choices([Choice::new("red", "Red"), Choice::new("blue", "Blue")])
                .nullable(),
        )
        .field(FieldMeta::new("weight", FieldType::I16).default_value(1))
}

/// The signed-in user's author row (403 without one).
pub(crate) async fn my_author(user: CurrentUser, db: Db) -> turbine::Result<DbValue> {
    let meta = <Author as turbine::orm::Model>::meta();
    let row = Query::new(meta)
        .filter(Filter::eq("user_id", user.id))
        .fetch_first(&db)
        .await?
        .ok_or_else(|| {
            Problem::new(http::StatusCode::FORBIDDEN).detail("Create your author first.")
        })?;
    Ok(row.values()[0].clone())
}

pub(crate) fn posts() -> Resource {
    Resource::of::<Post>()
        .public_read()
        .owner("author", my_author)
        .filter_fields([
            "status",
            "author",
            "author__name",
            "created_at",
            "views",
            "data",
        ])
        .search_fields(["title", "body"])
        .ordering_fields(["created_at", "id", "title", "views"])
        .expand(["author", "comments", "comments.author"])
        .page_size(5, 50)
        .list_view(
            "mine",
            Rule::SignedIn,
            "The signed-in user's posts",
            |user, db| async move {
                let user = user.ok_or(turbine::auth::Error::Unauthenticated)?;
                Ok(Filter::eq("author", my_author(user, db).await?))
            },
        )
}

pub(crate) fn api() -> Api {
    api_with(posts())
}

/// The test API with this resource for posts.
pub(crate) fn api_with(posts: Resource) -> Api {
    Api::new()
        .resource(
            Resource::of::<Author>()
                .public_read()
                .owned_by_user("user_id")
                .hidden(["user_id"])
                .computed(
                    "post_count",
                    serde_json::json!({"type": "integer"}),
                    count_of::<Post>("author"),
                ),
        )
        .resource(posts)
        .resource(
            Resource::of::<Comment>()
                .public_read()
                .owner("author", my_author)
                .create_only(["post"]),
        )
        .resource(
            Resource::of::<Comment>()
                .public_read()
                .owner("author", my_author)
                .under("/posts", "post"),
        )
        .resource(
            Resource::new(tag_meta())
                .pagination(Pagination::PageNumber)
                .filter_fields(["color"])
                .ordering_fields(["name", "id"])
                .lookup("name")
                .validate("name", |v| match v.as_str() {
                    Some(s) if s.chars().all(|c| c.is_ascii_lowercase()) => Ok(()),
                    _ => Err("Use lowercase letters only.".into()),
                }),
        )
}

pub(crate) fn app(db_url: &str, api: Api, auth: Auth) -> App {
    let models = [
        <Author as turbine::orm::Model>::meta().clone(),
        <Post as turbine::orm::Model>::meta().clone(),
        <Comment as turbine::orm::Model>::meta().clone(),
        tag_meta(),
    ];
    App::new()
        .battery(
            Orm::new()
                .model::<Author>()
                .model::<Post>()
                .model::<Comment>()
                .meta(tag_meta())
                .migrations(Migrations::generated(models))
                .auto_migrate(true),
        )
        .battery(auth.password_hasher(PasswordHasher::for_tests()))
        .battery(api)
        .config(testing::config(&format!("[database]\nurl = '{db_url}'")))
}

/// A client per backend, with its database (close it at the end).
pub(crate) async fn clients() -> Vec<(TestClient, TestDb)> {
    clients_with(api, Auth::new).await
}

/// [`clients`] with this API and auth battery.
pub(crate) async fn clients_with(
    api: impl Fn() -> Api,
    auth: impl Fn() -> Auth,
) -> Vec<(TestClient, TestDb)> {
    let mut out = Vec::new();
    for db in TestDb::all().await.unwrap() {
        let client = TestClient::new(app(db.url(), api(), auth())).await.unwrap();
        out.push((client, db));
    }
    out
}

pub(crate) fn auth(client: &TestClient) -> AuthService {
    client.context().get::<AuthService>().unwrap().clone()
}

pub(crate) fn db(client: &TestClient) -> Db {
    client.context().get::<Db>().unwrap().clone()
}

/// A user with an access token and (when `author` is given) an author row; with `perms`.
pub(crate) async fn user(
    client: &TestClient,
    email: &str,
    author: Option<&str>,
    perms: &[&str],
) -> (i64, String) {
    let auth = auth(client);
    let user = auth.create_user(email, None, |_| {}).await.unwrap();
    for p in perms {
        auth.grant(&user, p).await.unwrap();
    }
    if let Some(name) = author {
        let mut a = Author {
            id: 0,
            name: name.into(),
            user_id: user.id,
        };
        turbine::orm::ModelExt::insert(&mut a, &db(client))
            .await
            .unwrap();
    }
    let tokens = auth
        .issue_tokens(&user, "test", &ClientInfo::default())
        .await
        .unwrap();
    (user.id, tokens.access_token)
}

/// A policy for posts: published posts are visible to all and frozen; drafts are hidden and
/// anyone signed in may edit them.
pub(crate) fn post_policy(_user: &CurrentUser, action: Action, post: &Post) -> bool {
    match action {
        Action::View => post.status == Status::Published,
        _ => post.status == Status::Draft,
    }
}

/// The `errors` of a problem, as `field: message` lines.
pub(crate) fn field_errors(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        e["field"].as_str().unwrap(),
                        e["message"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
