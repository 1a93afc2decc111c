//! The admin's pages on SQLite and Postgres: logging in, permissions on every view, the list
//! (search, filters, sorting, keyset pages both ways, counts, bulk actions), forms (validation
//! errors inline, nothing written; saves with their log entry), deletes with their cascade,
//! history with diffs, and the picker.

use chrono::{DateTime, Utc};
use turbine::auth::password::PasswordHasher;
use turbine::auth::{Auth, AuthService};
use turbine::orm::battery::{Migrations, Orm};
use turbine::orm::meta::{Choice, FieldMeta, FieldType, ModelMeta};
use turbine::orm::query::Query;
use turbine::orm::testing::TestDb;
use turbine::orm::{Db, ForeignKey, Model, ModelExt};
use turbine::prelude::*;
use turbine::testing::{self, TestClient, TestResponse};
use turbine_admin::audit::LogEntry;
use turbine_admin::{Admin, ModelAdmin};

/// A writer.
#[derive(turbine::Model, Debug, Clone)]
#[model(app = "blog", ordering = ["name"])]
struct Author {
    id: i64,
    #[field(max_length = 50, unique)]
    name: String,
}

/// Where a post is.
#[derive(turbine::Choices, Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Draft,
    Published,
}

/// A post.
#[derive(turbine::Model, Debug, Clone)]
#[model(app = "blog", ordering = ["-id"])]
struct Post {
    id: i64,
    #[field(on_delete = "cascade", related_name = "posts")]
    author: ForeignKey<Author>,
    #[field(max_length = 20)]
    title: String,
    #[field(default = "")]
    body: String,
    #[field(default = "draft")]
    status: Status,
    #[field(default = false)]
    featured: bool,
    #[field(default = 0, read_only)]
    views: i64,
    data: Option<serde_json::Value>,
    #[field(auto_now_add)]
    created_at: DateTime<Utc>,
}

/// A comment (deleted with its post).
#[derive(turbine::Model, Debug, Clone)]
#[model(app = "blog", ordering = ["id"])]
struct Comment {
    id: i64,
    #[field(on_delete = "cascade", related_name = "comments")]
    post: ForeignKey<Post>,
    #[field(max_length = 200)]
    body: String,
}

/// Tags: known only by metadata.
fn tag_meta() -> ModelMeta {
    ModelMeta::new("blog", "Tag")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("name", FieldType::String { max_length: 20 }).unique())
        .field(
            FieldMeta::new("color", FieldType::String { max_length: 10 })
                .choices([Choice::new("red", "Red"), Choice::new("blue", "Blue")])
                .nullable(),
        )
}

const PASSWORD: &str = "correct horse battery staple";

fn admin() -> Admin {
    Admin::new()
        .title("Blog admin")
        .model(
            ModelAdmin::of::<Author>()
                .search(["name"])
                .inline("blog.Post"),
        )
        .model(
            ModelAdmin::of::<Post>()
                .list_display(["title", "author", "status", "featured", "views"])
                .search(["title", "body", "author__name"])
                .filters(["status", "featured", "author", "created_at"])
                .per_page(2)
                .section("Extra", ["data"])
                .inline("blog.Comment")
                .action(
                    "feature",
                    "Feature the selected posts",
                    |db, ids| async move {
                        let n = Post::objects()
                            .filter(Post::ID.is_in(ids.iter().filter_map(|v| match v {
                                turbine::orm::Value::BigInt(Some(i)) => Some(*i),
                                _ => None,
                            })))
                            .update()
                            .set(Post::FEATURED, true)
                            .execute(&db)
                            .await
                            .map_err(|e| e.to_string())?;
                        Ok(format!("Featured {n} posts."))
                    },
                ),
        )
        .model(ModelAdmin::of::<Comment>())
        .model(ModelAdmin::new(tag_meta()).filters(["color"]))
}

fn app(db_url: &str, admin: Admin) -> App {
    app_with(db_url, admin, Vec::new())
}

/// [`app`] with more models, known only by metadata.
fn app_with(db_url: &str, admin: Admin, extra: Vec<ModelMeta>) -> App {
    let mut models = vec![
        Author::meta().clone(),
        Post::meta().clone(),
        Comment::meta().clone(),
        tag_meta(),
    ];
    models.extend(extra.iter().cloned());
    let orm = extra.into_iter().fold(
        Orm::new()
            .model::<Author>()
            .model::<Post>()
            .model::<Comment>()
            .meta(tag_meta()),
        Orm::meta,
    );
    App::new()
        .battery(
            orm.migrations(Migrations::generated(models))
                .auto_migrate(true),
        )
        .battery(Auth::new().password_hasher(PasswordHasher::for_tests()))
        .battery(admin)
        .config(testing::config(&format!("[database]\nurl = '{db_url}'")))
}

async fn clients() -> Vec<(TestClient, TestDb)> {
    let mut out = Vec::new();
    for db in TestDb::all().await.unwrap() {
        let client = TestClient::new(app(db.url(), admin())).await.unwrap();
        out.push((client, db));
    }
    out
}

fn auth(client: &TestClient) -> AuthService {
    client.context().get::<AuthService>().unwrap().clone()
}

fn db(client: &TestClient) -> Db {
    client.context().get::<Db>().unwrap().clone()
}

/// A user with a password; staff/superuser and permissions as asked.
async fn user(client: &TestClient, email: &str, staff: bool, superuser: bool, perms: &[&str]) {
    let auth = auth(client);
    let user = auth
        .create_user(email, Some(PASSWORD), |u| {
            u.is_staff = staff;
            u.is_superuser = superuser;
        })
        .await
        .unwrap();
    for p in perms {
        auth.grant(&user, p).await.unwrap();
    }
}

/// The value of `name="csrf_token"` in a page.
fn csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .expect("the page has a CSRF field");
    let rest = &html[at + "name=\"csrf_token\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Posts a form with the page's CSRF token.
async fn submit(
    client: &TestClient,
    path: &str,
    token: &str,
    pairs: &[(&str, &str)],
) -> TestResponse {
    let mut all = vec![("csrf_token", token)];
    all.extend_from_slice(pairs);
    client
        .post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&all))
        .send()
        .await
}

/// Logs in through the login page; returns the session's CSRF token.
async fn login(client: &TestClient, email: &str) -> String {
    let page = client
        .get("/admin/login")
        .send()
        .await
        .assert_status(200)
        .html();
    let token = csrf(&page);
    let res = submit(
        client,
        "/admin/login",
        &token,
        &[("email", email), ("password", PASSWORD), ("next", "/admin")],
    )
    .await;
    assert_eq!(res.status(), 303, "login of {email}: {}", res.text());
    let dash = client.get("/admin").send().await.assert_status(200).html();
    csrf(&dash)
}

async fn logout(client: &TestClient, token: &str) {
    submit(client, "/admin/logout", token, &[])
        .await
        .assert_status(303);
}

async fn seed(client: &TestClient) -> (i64, i64) {
    let db = db(client);
    let mut ada = Author {
        id: 0,
        name: "Ada".into(),
    };
    ada.insert(&db).await.unwrap();
    let mut bob = Author {
        id: 0,
        name: "Bob".into(),
    };
    bob.insert(&db).await.unwrap();
    for (i, (author, status)) in [
        (ada.id, Status::Published),
        (ada.id, Status::Draft),
        (bob.id, Status::Published),
        (bob.id, Status::Draft),
        (ada.id, Status::Published),
    ]
    .into_iter()
    .enumerate()
    {
        let mut p = Post {
            id: 0,
            author: ForeignKey::new(author),
            title: format!("post {i}"),
            body: if i == 2 {
                "about rust".into()
            } else {
                String::new()
            },
            status,
            featured: false,
            views: 0,
            data: None,
            created_at: Utc::now(),
        };
        p.insert(&db).await.unwrap();
    }
    (ada.id, bob.id)
}

/// A log entry of a change to `model`'s row `object_id`, as the admin writes one.
fn change_entry(model: &str, object_id: &str, changes: serde_json::Value) -> LogEntry {
    LogEntry {
        id: 0,
        action_time: Utc::now(),
        user_id: None,
        user_email: "root@example.com".into(),
        model: model.into(),
        object_id: object_id.into(),
        object_repr: object_id.into(),
        action: "change".into(),
        changes,
    }
}

/// A page's HTML with the escapes of `/` and `&` undone, to look for URLs in it.
trait Html {
    fn html(&self) -> String;
}

impl Html for TestResponse {
    fn html(&self) -> String {
        self.text().replace("&#x2f;", "/").replace("&amp;", "&")
    }
}

#[tokio::test]
async fn login_needs_a_staff_account_and_the_csrf_token() {
    for (client, test_db) in clients().await {
        user(&client, "staff@example.com", true, false, &[]).await;
        user(&client, "plain@example.com", false, false, &[]).await;
        // Anonymous: every page sends to the login page, remembering where to come back.
        client
            .get("/admin/blog/post?q=x")
            .send()
            .await
            .assert_status(303)
            .assert_header(
                "location",
                "/admin/login?next=%2Fadmin%2Fblog%2Fpost%3Fq%3Dx",
            );
        // Without the session cookie the form has nothing to check its token against.
        let bare = client
            .post("/admin/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("email", "staff@example.com"),
                ("password", PASSWORD),
            ]))
            .send()
            .await;
        assert_eq!(bare.status(), 403);
        let page = client
            .get("/admin/login")
            .send()
            .await
            .assert_status(200)
            .html();
        let token = csrf(&page);
        // A wrong token is refused by the auth battery's CSRF check.
        let forged = submit(
            &client,
            "/admin/login",
            "forged",
            &[("email", "staff@example.com"), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(forged.status(), 403);
        let wrong = submit(
            &client,
            "/admin/login",
            &token,
            &[("email", "staff@example.com"), ("password", "nope")],
        )
        .await;
        assert_eq!(wrong.status(), 401);
        assert!(
            wrong
                .html()
                .contains("Enter the email and password of a staff account")
        );
        let plain = submit(
            &client,
            "/admin/login",
            &token,
            &[("email", "plain@example.com"), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(plain.status(), 403, "a non-staff account may not log in");
        // `next` outside the admin is ignored.
        let ok = submit(
            &client,
            "/admin/login",
            &token,
            &[
                ("email", "staff@example.com"),
                ("password", PASSWORD),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
        ok.assert_status(303).assert_header("location", "/admin");
        let dash = client.get("/admin").send().await.assert_status(200).html();
        assert!(dash.contains("Blog admin"));
        assert!(dash.contains("staff@example.com"));
        // No permissions: no models listed, and each model page is a 403.
        assert!(dash.contains("You may not view any model yet"));
        client
            .get("/admin/blog/post")
            .send()
            .await
            .assert_status(403);
        client
            .get("/admin/blog/post/add")
            .send()
            .await
            .assert_status(403);
        let token = csrf(&dash);
        logout(&client, &token).await;
        let res = client.get("/admin").send().await.assert_status(303);
        assert!(res.header("location").unwrap().starts_with("/admin/login"));
        let after = client
            .get("/admin/login")
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(after.contains("You are logged out."));
        test_db.close().await;
    }
}

#[tokio::test]
async fn each_view_checks_its_permission() {
    for (client, test_db) in clients().await {
        let (ada, _) = seed(&client).await;
        user(
            &client,
            "viewer@example.com",
            true,
            false,
            &["blog.post.view", "blog.author.view"],
        )
        .await;
        let token = login(&client, "viewer@example.com").await;
        let dash = client.get("/admin").send().await.assert_status(200).html();
        assert!(dash.contains("/admin/blog/post"), "{dash}");
        assert!(
            !dash.contains("/admin/blog/comment"),
            "models the user cannot view are not listed"
        );
        assert!(!dash.contains("/admin/blog/post/add"));
        let list = client
            .get("/admin/blog/post")
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(
            !list.contains("Delete selected"),
            "no delete permission, no delete action"
        );
        let post = Post::objects().first(&db(&client)).await.unwrap().unwrap();
        let page = client
            .get(&format!("/admin/blog/post/{}", post.id))
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(
            !page.contains("name=\"_save\""),
            "read-only without the change permission"
        );
        let res = submit(
            &client,
            &format!("/admin/blog/post/{}", post.id),
            &token,
            &[
                ("title", "changed"),
                ("author", &ada.to_string()),
                ("status", "draft"),
            ],
        )
        .await;
        assert_eq!(res.status(), 403);
        submit(&client, "/admin/blog/post/add", &token, &[("title", "x")])
            .await
            .assert_status(403);
        client
            .get(&format!("/admin/blog/post/{}/delete", post.id))
            .send()
            .await
            .assert_status(403);
        submit(
            &client,
            &format!("/admin/blog/post/{}/delete", post.id),
            &token,
            &[],
        )
        .await
        .assert_status(403);
        let bulk = submit(
            &client,
            "/admin/blog/post",
            &token,
            &[("action", "delete"), ("ids", &post.id.to_string())],
        )
        .await;
        assert_eq!(bulk.status(), 403);
        let custom = submit(
            &client,
            "/admin/blog/post",
            &token,
            &[("action", "feature"), ("ids", &post.id.to_string())],
        )
        .await;
        assert_eq!(custom.status(), 403);
        client
            .get("/admin/blog/comment")
            .send()
            .await
            .assert_status(403);
        client
            .get("/admin/blog/comment/autocomplete?_ac_q=x")
            .send()
            .await
            .assert_status(403);
        assert_eq!(
            Post::objects().count(&db(&client)).await.unwrap(),
            5,
            "nothing changed"
        );
        assert_eq!(LogEntry::objects().count(&db(&client)).await.unwrap(), 0);
        test_db.close().await;
    }
}

#[tokio::test]
async fn a_form_reports_every_error_inline_and_saves_with_its_log_entry() {
    for (client, test_db) in clients().await {
        let (ada, _) = seed(&client).await;
        user(&client, "root@example.com", true, true, &[]).await;
        let token = login(&client, "root@example.com").await;
        let page = client
            .get(&format!("/admin/blog/post/add?author={ada}"))
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(
            page.contains(&format!("name=\"author\" value=\"{ada}\"")),
            "the query string pre-fills"
        );
        assert!(page.contains("Ada"), "the chosen author is named");
        assert!(
            !page.contains("name=\"views\""),
            "read-only fields are not inputs"
        );
        // Missing title, a title too long for… no: a missing title, a bad status, bad JSON.
        let bad = submit(
            &client,
            "/admin/blog/post/add",
            &token,
            &[
                ("author", &ada.to_string()),
                ("title", ""),
                ("status", "gone"),
                ("data", "{oops"),
            ],
        )
        .await;
        assert_eq!(bad.status(), 422);
        let html = bad.html();
        assert!(html.contains("Please correct the errors below."));
        assert!(html.contains("This field is required."), "{html}");
        assert!(html.contains("is not a valid choice"), "{html}");
        assert!(html.contains("Enter valid JSON"), "{html}");
        assert!(html.contains("{oops"), "what was typed is kept");
        let long = submit(
            &client,
            "/admin/blog/post/add",
            &token,
            &[
                ("author", &ada.to_string()),
                ("title", "a title that is far too long"),
                ("status", "draft"),
            ],
        )
        .await;
        assert_eq!(long.status(), 422);
        assert!(long.html().contains("at most 20 characters"));
        assert_eq!(
            Post::objects().count(&db(&client)).await.unwrap(),
            5,
            "nothing written"
        );
        // Fixed: saved, logged, and the list says so.
        let ok = submit(
            &client,
            "/admin/blog/post/add",
            &token,
            &[
                ("author", &ada.to_string()),
                ("title", "fresh"),
                ("status", "published"),
                ("featured", "on"),
                ("data", "{\"a\": 1}"),
                ("_continue", "1"),
            ],
        )
        .await;
        assert_eq!(ok.status(), 303, "{}", ok.text());
        let post = Post::objects()
            .filter(Post::TITLE.eq("fresh"))
            .get(&db(&client))
            .await
            .unwrap();
        assert!(post.featured);
        assert_eq!(post.data, Some(serde_json::json!({"a": 1})));
        assert_eq!(
            ok.header("location").unwrap(),
            format!("/admin/blog/post/{}", post.id)
        );
        let edit = client
            .get(&format!("/admin/blog/post/{}", post.id))
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(edit.contains("was added"), "the message shows once");
        let entry = LogEntry::objects()
            .first(&db(&client))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (entry.action.as_str(), entry.object_repr.as_str()),
            ("add", "fresh")
        );
        assert_eq!(entry.changes["title"], serde_json::json!([null, "fresh"]));
        // An edit logs only what changed.
        let res = submit(
            &client,
            &format!("/admin/blog/post/{}", post.id),
            &token,
            &[
                ("author", &ada.to_string()),
                ("title", "renamed"),
                ("status", "published"),
                ("featured", "on"),
                ("data", "{\"a\": 1}"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        let entry = LogEntry::objects()
            .first(&db(&client))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.action, "change");
        assert_eq!(
            entry.changes,
            serde_json::json!({"title": ["fresh", "renamed"]})
        );
        // Saving without changes writes nothing.
        let before = LogEntry::objects().count(&db(&client)).await.unwrap();
        submit(
            &client,
            &format!("/admin/blog/post/{}", post.id),
            &token,
            &[
                ("author", &ada.to_string()),
                ("title", "renamed"),
                ("status", "published"),
                ("featured", "on"),
                ("data", "{\"a\": 1}"),
            ],
        )
        .await
        .assert_status(303);
        assert_eq!(
            LogEntry::objects().count(&db(&client)).await.unwrap(),
            before
        );
        // A duplicate is an inline error naming the field.
        let dup = submit(
            &client,
            "/admin/blog/author/add",
            &token,
            &[("name", "Ada")],
        )
        .await;
        assert_eq!(dup.status(), 422);
        assert!(
            dup.html()
                .contains("A author with this name already exists."),
            "{}",
            dup.html()
        );
        // A runtime model: untyped writes.
        submit(
            &client,
            "/admin/blog/tag/add",
            &token,
            &[("name", "rust"), ("color", "red")],
        )
        .await
        .assert_status(303);
        let tags = Query::new(&tag_meta()).fetch(&db(&client)).await.unwrap();
        assert_eq!(tags.len(), 1);
        // The history page shows the diff.
        let history = client
            .get(&format!("/admin/blog/post/{}/history", post.id))
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(history.contains("renamed") && history.contains("fresh"));
        let site = client
            .get("/admin/history")
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(site.contains("rust") && site.contains("renamed"));
        test_db.close().await;
    }
}

#[tokio::test]
async fn lists_search_filter_sort_and_page_both_ways() {
    for (client, test_db) in clients().await {
        let (ada, bob) = seed(&client).await;
        user(&client, "root@example.com", true, true, &[]).await;
        login(&client, "root@example.com").await;
        let titles = |html: &str| -> Vec<String> {
            (0..5)
                .map(|i| format!("post {i}"))
                .filter(|t| html.contains(&format!(">{t}<")))
                .collect()
        };
        // Newest first, two per page.
        let p1 = client
            .get("/admin/blog/post")
            .send()
            .await
            .assert_status(200)
            .html();
        assert_eq!(titles(&p1), ["post 3", "post 4"]);
        assert!(p1.contains("5 posts"));
        let next = |html: &str| -> String {
            let at = html.find("rel=\"next\"").expect("a next link");
            let start = html[..at].rfind("href=\"").unwrap() + 6;
            html[start..]
                .split('"')
                .next()
                .unwrap()
                .replace("&amp;", "&")
        };
        let prev = |html: &str| -> String {
            let at = html.find("rel=\"prev\"").expect("a previous link");
            let start = html[..at].rfind("href=\"").unwrap() + 6;
            html[start..]
                .split('"')
                .next()
                .unwrap()
                .replace("&amp;", "&")
        };
        let p2 = client
            .get(&format!("/admin/blog/post{}", next(&p1)))
            .send()
            .await
            .assert_status(200)
            .html();
        assert_eq!(titles(&p2), ["post 1", "post 2"]);
        let p3 = client
            .get(&format!("/admin/blog/post{}", next(&p2)))
            .send()
            .await
            .assert_status(200)
            .html();
        assert_eq!(titles(&p3), ["post 0"]);
        assert!(!p3.contains("rel=\"next\""));
        let back2 = client
            .get(&format!("/admin/blog/post{}", prev(&p3)))
            .send()
            .await
            .assert_status(200)
            .html();
        assert_eq!(titles(&back2), ["post 1", "post 2"]);
        let back1 = client
            .get(&format!("/admin/blog/post{}", prev(&back2)))
            .send()
            .await
            .assert_status(200)
            .html();
        assert_eq!(titles(&back1), ["post 3", "post 4"]);
        assert!(
            !back1.contains("rel=\"prev\""),
            "the first page has no previous page"
        );
        // Every page costs the same number of queries, wherever it is.
        let d = db(&client);
        let q0 = d.query_count();
        client
            .get("/admin/blog/post")
            .send()
            .await
            .assert_status(200);
        let first = d.query_count() - q0;
        let q0 = d.query_count();
        client
            .get(&format!("/admin/blog/post{}", next(&p2)))
            .send()
            .await
            .assert_status(200);
        assert_eq!(d.query_count() - q0, first);
        // Search: every word, any field, through the author.
        let s = client
            .get("/admin/blog/post?q=RUST")
            .send()
            .await
            .assert_status(200)
            .html();
        assert_eq!(titles(&s), ["post 2"]);
        let s = client
            .get("/admin/blog/post?q=bob")
            .send()
            .await
            .assert_status(200)
            .html();
        assert_eq!(titles(&s), ["post 2", "post 3"]);
        // Filters: choices, booleans, foreign keys, dates.
        let f = client
            .get("/admin/blog/post?status=draft")
            .send()
            .await
            .assert_status(200)
            .html();
        assert_eq!(titles(&f), ["post 1", "post 3"]);
        assert!(f.contains("2 posts"));
        let f = client
            .get(&format!("/admin/blog/post?author={bob}&status=published"))
            .send()
            .await
            .assert_status(200)
            .html();
        assert_eq!(titles(&f), ["post 2"]);
        let f = client
            .get("/admin/blog/post?featured=1")
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(titles(&f).is_empty());
        let today = Utc::now().date_naive().to_string();
        let f = client
            .get(&format!(
                "/admin/blog/post?created_at__gte={today}&created_at__lte={today}&author={ada}"
            ))
            .send()
            .await
            .assert_status(200)
            .html();
        assert_eq!(titles(&f), ["post 1", "post 4"]);
        let f = client
            .get("/admin/blog/post?created_at__lte=2000-01-01")
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(titles(&f).is_empty());
        // Sorting by a column, both ways.
        let s = client
            .get("/admin/blog/post?o=title")
            .send()
            .await
            .assert_status(200)
            .html();
        assert_eq!(titles(&s), ["post 0", "post 1"]);
        let s = client
            .get("/admin/blog/post?o=-title")
            .send()
            .await
            .assert_status(200)
            .html();
        assert_eq!(titles(&s), ["post 3", "post 4"]);
        // Bad parameters are a clear 400.
        let bad = client.get("/admin/blog/post?nope=1").send().await;
        assert_eq!(bad.status(), 400);
        assert!(bad.html().contains("`nope` is not a filter of this list"));
        assert_eq!(
            client
                .get("/admin/blog/post?o=password")
                .send()
                .await
                .status(),
            400
        );
        assert_eq!(
            client
                .get("/admin/blog/post?created_at__gte=soon")
                .send()
                .await
                .status(),
            400
        );
        assert_eq!(
            client
                .get("/admin/blog/post?after=garbage")
                .send()
                .await
                .status(),
            400
        );
        // The picker.
        let ac = client
            .get("/admin/blog/author/autocomplete?_ac_q=bo")
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(ac.contains(&format!("data-ac-value=\"{bob}\"")) && !ac.contains("Ada"));
        test_db.close().await;
    }
}

#[tokio::test]
async fn deletes_list_the_cascade_and_bulk_actions_run() {
    for (client, test_db) in clients().await {
        let (ada, _) = seed(&client).await;
        user(&client, "root@example.com", true, true, &[]).await;
        let token = login(&client, "root@example.com").await;
        let d = db(&client);
        let post = Post::objects()
            .filter(Post::AUTHOR.eq(ada))
            .first(&d)
            .await
            .unwrap()
            .unwrap();
        for body in ["first!", "second"] {
            let mut c = Comment {
                id: 0,
                post: ForeignKey::new(post.id),
                body: body.into(),
            };
            c.insert(&d).await.unwrap();
        }
        // The author's page lists their posts inline.
        let author = client
            .get(&format!("/admin/blog/author/{ada}"))
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(
            author.contains("Posts") && author.contains(&post.title),
            "{author}"
        );
        // Deleting the author takes their posts and those posts' comments.
        let confirm = client
            .get(&format!("/admin/blog/author/{ada}/delete"))
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(confirm.contains("Are you sure?"));
        assert!(confirm.contains("Posts: 3"), "{confirm}");
        assert!(confirm.contains("Comments: 2"), "{confirm}");
        submit(
            &client,
            &format!("/admin/blog/author/{ada}/delete"),
            &token,
            &[],
        )
        .await
        .assert_status(303);
        assert_eq!(Post::objects().count(&d).await.unwrap(), 2);
        assert_eq!(Comment::objects().count(&d).await.unwrap(), 0);
        let entry = LogEntry::objects().first(&d).await.unwrap().unwrap();
        assert_eq!(
            (entry.action.as_str(), entry.object_repr.as_str()),
            ("delete", "Ada")
        );
        // Bulk delete asks first, then deletes and logs each row.
        let ids: Vec<String> = Post::objects()
            .all(&d)
            .await
            .unwrap()
            .iter()
            .map(|p| p.id.to_string())
            .collect();
        let ask = submit(
            &client,
            "/admin/blog/post",
            &token,
            &[
                ("action", "delete"),
                ("ids", &ids[0]),
                ("ids", &ids[1]),
                ("back", "?status=draft"),
            ],
        )
        .await;
        assert_eq!(ask.status(), 200);
        assert!(ask.html().contains("You are about to delete 2 posts"));
        assert_eq!(
            Post::objects().count(&d).await.unwrap(),
            2,
            "asking deletes nothing"
        );
        let done = submit(
            &client,
            "/admin/blog/post",
            &token,
            &[
                ("action", "delete"),
                ("confirm", "yes"),
                ("ids", &ids[0]),
                ("ids", &ids[1]),
                ("back", "?status=draft"),
            ],
        )
        .await;
        done.assert_status(303)
            .assert_header("location", "/admin/blog/post?status=draft");
        assert_eq!(Post::objects().count(&d).await.unwrap(), 0);
        assert_eq!(
            LogEntry::objects()
                .filter(LogEntry::ACTION.eq("delete"))
                .count(&d)
                .await
                .unwrap(),
            3
        );
        // A custom action.
        let bob = Author::objects().get(&d).await.unwrap();
        for title in ["again 1", "again 2", "again 3"] {
            let mut p = Post {
                id: 0,
                author: ForeignKey::new(bob.id),
                title: title.into(),
                body: String::new(),
                status: Status::Draft,
                featured: false,
                views: 0,
                data: None,
                created_at: Utc::now(),
            };
            p.insert(&d).await.unwrap();
        }
        let ids: Vec<String> = Post::objects()
            .all(&d)
            .await
            .unwrap()
            .iter()
            .map(|p| p.id.to_string())
            .collect();
        let res = submit(
            &client,
            "/admin/blog/post",
            &token,
            &[("action", "feature"), ("ids", &ids[0]), ("ids", &ids[1])],
        )
        .await;
        res.assert_status(303);
        assert_eq!(
            Post::objects()
                .filter(Post::FEATURED.eq(true))
                .count(&d)
                .await
                .unwrap(),
            2
        );
        let list = client.get("/admin/blog/post").send().await.html();
        assert!(list.contains("Featured 2 posts."));
        // Nothing selected: the list says so.
        let none = submit(
            &client,
            "/admin/blog/post",
            &token,
            &[("action", "feature")],
        )
        .await;
        assert_eq!(none.status(), 200);
        assert!(none.html().contains("Select at least one row"));
        test_db.close().await;
    }
}

#[tokio::test]
async fn editing_groups_in_the_admin_takes_effect_at_once() {
    for (client, test_db) in clients().await {
        user(&client, "root@example.com", true, true, &[]).await;
        user(&client, "ed@example.com", true, false, &[]).await;
        let token = login(&client, "root@example.com").await;
        let auth = auth(&client);
        let perm = auth.permission("blog.post.view").await.unwrap();
        submit(
            &client,
            "/admin/auth/group/add",
            &token,
            &[("name", "editors"), ("permissions", &perm.id.to_string())],
        )
        .await
        .assert_status(303);
        let group = turbine::auth::models::Group::objects()
            .first(&db(&client))
            .await
            .unwrap()
            .unwrap();
        let ed = auth.find_by_email("ed@example.com").await.unwrap().unwrap();
        // Ed has no permission yet (and the answer is cached).
        assert!(
            !auth
                .cached_permissions(ed.id)
                .await
                .unwrap()
                .contains("blog.post.view")
        );
        // The user form: the password hash is never shown.
        let page = client
            .get(&format!("/admin/auth/user/{}", ed.id))
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(!page.contains(&ed.password) || ed.password.is_empty());
        assert!(!page.contains("name=\"password\""));
        let res = submit(
            &client,
            &format!("/admin/auth/user/{}", ed.id),
            &token,
            &[
                ("email", "ed@example.com"),
                ("name", ""),
                ("is_active", "on"),
                ("is_staff", "on"),
                ("groups", &group.id.to_string()),
            ],
        )
        .await;
        assert_eq!(res.status(), 303, "{}", res.text());
        assert!(
            auth.cached_permissions(ed.id)
                .await
                .unwrap()
                .contains("blog.post.view")
        );
        let entry = LogEntry::objects()
            .first(&db(&client))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            entry.changes["groups"],
            serde_json::json!([[], [group.id.to_string()]])
        );
        test_db.close().await;
    }
}

#[tokio::test]
async fn registering_a_model_twice_or_a_missing_field_is_refused() {
    let db = TestDb::sqlite().await.unwrap();
    let twice = Admin::new()
        .model(ModelAdmin::of::<Post>())
        .model(ModelAdmin::of::<Post>());
    let err = TestClient::new(app(db.url(), twice))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("registers blog.Post twice"), "{err}");
    let missing = Admin::new().model(ModelAdmin::of::<Post>().search(["nope"]));
    let err = TestClient::new(app(db.url(), missing))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`nope`"), "{err}");
    db.close().await;
}

#[tokio::test]
async fn inline_rows_are_edited_added_and_deleted_with_their_parent() {
    for (client, test_db) in clients().await {
        let (ada, _) = seed(&client).await;
        user(&client, "root@example.com", true, true, &[]).await;
        let token = login(&client, "root@example.com").await;
        let d = db(&client);
        let post = Post::objects()
            .filter(Post::AUTHOR.eq(ada))
            .first(&d)
            .await
            .unwrap()
            .unwrap();
        let mut ids = Vec::new();
        for body in ["keep me", "drop me"] {
            let mut c = Comment {
                id: 0,
                post: ForeignKey::new(post.id),
                body: body.into(),
            };
            c.insert(&d).await.unwrap();
            ids.push(c.id.to_string());
        }
        let url = format!("/admin/blog/post/{}", post.id);
        let page = client.get(&url).send().await.assert_status(200).html();
        assert!(
            page.contains("name=\"blog_comment-count\" value=\"3\""),
            "two rows and a blank one"
        );
        assert!(page.contains("name=\"blog_comment-0-body\""));
        assert!(
            !page.contains("name=\"blog_comment-0-post\""),
            "the key to the parent is implied"
        );
        let parent = [
            ("author", ada.to_string()),
            ("title", post.title.clone()),
            ("status", "published".to_string()),
        ];
        let send = |rows: Vec<(&'static str, String)>| {
            let mut pairs: Vec<(String, String)> = parent
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            pairs.push(("blog_comment-count".into(), "3".into()));
            pairs.extend(rows.into_iter().map(|(k, v)| (k.to_string(), v)));
            pairs
        };
        let too_long = "x".repeat(201);
        let rows = |new_body: &str| {
            vec![
                ("blog_comment-0-key", ids[0].clone()),
                ("blog_comment-0-body", "kept, edited".to_string()),
                ("blog_comment-1-key", ids[1].clone()),
                ("blog_comment-1-body", "drop me".to_string()),
                ("blog_comment-1-DELETE", "on".to_string()),
                ("blog_comment-2-body", new_body.to_string()),
            ]
        };
        let body = send(rows(&too_long));
        let refs: Vec<(&str, &str)> = body.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let bad = submit(&client, &url, &token, &refs).await;
        assert_eq!(bad.status(), 422);
        assert!(bad.html().contains("at most 200 characters"));
        let bodies = |d: Db| async move {
            let mut b: Vec<String> = Comment::objects()
                .all(&d)
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.body)
                .collect();
            b.sort();
            b
        };
        assert_eq!(
            bodies(d.clone()).await,
            ["drop me", "keep me"],
            "nothing changed"
        );
        let body = send(rows("brand new"));
        let refs: Vec<(&str, &str)> = body.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let ok = submit(&client, &url, &token, &refs).await;
        assert_eq!(ok.status(), 303, "{}", ok.html());
        assert_eq!(bodies(d.clone()).await, ["brand new", "kept, edited"]);
        let new = Comment::objects()
            .filter(Comment::BODY.eq("brand new"))
            .get(&d)
            .await
            .unwrap();
        assert_eq!(*new.post.id(), post.id, "a new row points at the parent");
        let actions: Vec<String> = LogEntry::objects()
            .filter(LogEntry::MODEL.eq("blog.Comment"))
            .all(&d)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions.len(), 3, "{actions:?}");
        // A blank row left blank adds nothing; a row of another post is refused.
        let body = send(vec![
            ("blog_comment-0-key", "999999".to_string()),
            ("blog_comment-0-body", "hijack".to_string()),
        ]);
        let refs: Vec<(&str, &str)> = body.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let res = submit(&client, &url, &token, &refs).await;
        assert_eq!(res.status(), 422);
        assert!(res.html().contains("no longer belongs here"));
        test_db.close().await;
    }
}

#[tokio::test]
async fn redirect_targets_from_requests_never_break_the_response() {
    let test_db = TestDb::sqlite().await.unwrap();
    let client = TestClient::new(app(test_db.url(), admin())).await.unwrap();
    user(&client, "root@example.com", true, true, &[]).await;
    let page = client
        .get("/admin/login")
        .send()
        .await
        .assert_status(200)
        .html();
    let token = csrf(&page);
    // A `next` with a line break (a header injection attempt) goes to the dashboard.
    let res = submit(
        &client,
        "/admin/login",
        &token,
        &[
            ("email", "root@example.com"),
            ("password", PASSWORD),
            ("next", "/admin/x\r\nSet-Cookie: a=b"),
        ],
    )
    .await;
    res.assert_status(303).assert_header("location", "/admin");
    let token = csrf(&client.get("/admin").send().await.assert_status(200).html());
    seed(&client).await;
    let id = Post::objects()
        .first(&db(&client))
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let res = submit(
        &client,
        "/admin/blog/post",
        &token,
        &[
            ("action", "feature"),
            ("ids", &id),
            ("back", "?q=a\r\nX-Evil: 1"),
        ],
    )
    .await;
    res.assert_status(303)
        .assert_header("location", "/admin/blog/post");
    test_db.close().await;
}

#[tokio::test]
async fn history_names_the_rows_foreign_keys_point_at_without_a_query_per_entry() {
    for (client, test_db) in clients().await {
        let (ada, bob) = seed(&client).await;
        user(&client, "root@example.com", true, true, &[]).await;
        let token = login(&client, "root@example.com").await;
        let db = db(&client);
        let post = Post::objects()
            .filter(Post::TITLE.eq("post 0"))
            .get(&db)
            .await
            .unwrap();
        let history_url = format!("/admin/blog/post/{}/history", post.id);
        let move_to = |author: i64| {
            let (client, token, path) = (&client, &token, format!("/admin/blog/post/{}", post.id));
            async move {
                submit(
                    client,
                    &path,
                    token,
                    &[
                        ("author", &author.to_string()),
                        ("title", "post 0"),
                        ("status", "published"),
                    ],
                )
                .await
                .assert_status(303);
            }
        };
        move_to(bob).await;
        // The log keeps the keys…
        let entry = LogEntry::objects().first(&db).await.unwrap().unwrap();
        assert_eq!(entry.changes["author"], serde_json::json!([ada, bob]));
        // …and the history shows the rows' titles, linked to them.
        let queries = db.query_count();
        let page = client
            .get(&history_url)
            .send()
            .await
            .assert_status(200)
            .html();
        let one_entry = db.query_count() - queries;
        for (id, name) in [(ada, "Ada"), (bob, "Bob")] {
            let link = format!("<a href=\"/admin/blog/author/{id}\">{name}</a>");
            assert!(page.contains(&link), "{link} in {page}");
        }
        // More entries naming authors: the same number of queries (one per model named).
        move_to(ada).await;
        move_to(bob).await;
        move_to(ada).await;
        let queries = db.query_count();
        client.get(&history_url).send().await.assert_status(200);
        assert_eq!(db.query_count() - queries, one_entry, "a query per entry");
        // A row that is gone shows its key, unlinked; the site's log resolves titles too.
        let mut gone = change_entry(
            "blog.Post",
            &post.id.to_string(),
            serde_json::json!({"author": [ada, 9_999_999]}),
        );
        gone.insert(&db).await.unwrap();
        let page = client
            .get(&history_url)
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(page.contains("9999999") && !page.contains("/admin/blog/author/9999999"));
        let site = client
            .get("/admin/history")
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(site.contains(&format!("<a href=\"/admin/blog/author/{bob}\">Bob</a>")));
        test_db.close().await;
    }
}

#[tokio::test]
async fn history_lists_the_titles_of_many_to_many_keys() {
    // A reading list of authors: known only by metadata, with a many-to-many field.
    let shelf = ModelMeta::new("blog", "Shelf")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("name", FieldType::String { max_length: 20 }))
        .field(FieldMeta::many_to_many("authors", "blog.Author"));
    for test_db in TestDb::all().await.unwrap() {
        let admin = admin().model(ModelAdmin::new(shelf.clone()));
        let client = TestClient::new(app_with(test_db.url(), admin, vec![shelf.clone()]))
            .await
            .unwrap();
        let (ada, bob) = seed(&client).await;
        user(&client, "root@example.com", true, true, &[]).await;
        login(&client, "root@example.com").await;
        // The admin stores a many-to-many side as the keys' texts.
        let mut entry = change_entry(
            "blog.Shelf",
            "1",
            serde_json::json!({"authors": [[ada.to_string()], [ada.to_string(), bob.to_string(), "9999999"]]}),
        );
        entry.insert(&db(&client)).await.unwrap();
        let site = client
            .get("/admin/history")
            .send()
            .await
            .assert_status(200)
            .html();
        assert!(
            site.contains(">Ada<") && site.contains("Ada, Bob, 9999999"),
            "{site}"
        );
        test_db.close().await;
    }
}

#[tokio::test]
async fn history_shows_keys_that_no_longer_fit_their_target_instead_of_failing() {
    // A UUID-keyed model and a model pointing at it, known only by metadata.
    let label = ModelMeta::new("blog", "Label")
        .field(FieldMeta::uuid_id())
        .field(FieldMeta::new("name", FieldType::String { max_length: 20 }));
    let sticker = ModelMeta::new("blog", "Sticker")
        .field(FieldMeta::auto_id())
        .field(
            FieldMeta::foreign_key("label", "blog.Label", turbine::orm::meta::OnDelete::Cascade)
                .nullable(),
        );
    for test_db in TestDb::all().await.unwrap() {
        let admin = admin()
            .model(ModelAdmin::new(label.clone()))
            .model(ModelAdmin::new(sticker.clone()));
        let client = TestClient::new(app_with(
            test_db.url(),
            admin,
            vec![label.clone(), sticker.clone()],
        ))
        .await
        .unwrap();
        user(&client, "root@example.com", true, true, &[]).await;
        login(&client, "root@example.com").await;
        let db = db(&client);
        let id = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        let key = turbine::orm::query::convert::parse_text(id, &FieldType::Uuid).unwrap();
        db.raw(
            "INSERT INTO blog_label (id, name) VALUES ($1, 'urgent')".replace(
                "$1",
                if db.dialect() == turbine::orm::backend::Dialect::Sqlite {
                    "?"
                } else {
                    "$1"
                },
            ),
            [key],
        )
        .execute()
        .await
        .unwrap();
        // An entry written when the key was a number (the schema changed since), and one with
        // the key as it is now.
        for changes in [
            serde_json::json!({"label": [5, null]}),
            serde_json::json!({"label": [null, id]}),
        ] {
            change_entry("blog.Sticker", "1", changes)
                .insert(&db)
                .await
                .unwrap();
        }
        for path in ["/admin/history", "/admin/blog/sticker/1/history"] {
            let page = client.get(path).send().await.assert_status(200).html();
            assert!(
                page.contains(">5<"),
                "{path}: the stale key, as stored: {page}"
            );
            assert!(
                page.contains(&format!(
                    "<a href=\"/admin/blog/label/{}\">urgent</a>",
                    id.replace('-', "%2D")
                )),
                "{path}: {page}"
            );
        }
        test_db.close().await;
    }
}
