//! Turbine's API battery under `bench/api` (issue 5): two models and their REST resources, as
//! an application declares them, measured against a hand-written axum + tokio-postgres server
//! doing the same work (`bench/servers/api-axum`).
//!
//! - `bench.Author {id, name}` and `bench.Post {id, author → Author (related_name posts),
//!   title (200), body (text), created_at (auto_now_add)}`, newest first (`ordering = ["-id"]`);
//! - resources: `/authors` (public read) and `/posts` (public read, `?expand=author`, pages of
//!   20 by default, cursor pagination). Creating a post needs the model permission
//!   `bench.post.add` (the resource's default rule, [`Rule::Permission`]): the benchmark sends
//!   the bearer access token of a user who has it. `BENCH_API_CREATE=anyone` opens creates to
//!   everyone instead (`.access(Op::Create, Rule::Anyone)`: no token, no permission lookup);
//! - migrations generated from the models (`Migrations::generated`), applied at start-up
//!   (`auto_migrate(true)`); at start-up, an empty database is seeded with 50 authors × 20
//!   posts, and the bench user (`bench@example.com`, no usable password) is created with
//!   `bench.post.add`;
//! - `POST /bench-token` (this bench server only): a fresh access token for the bench user,
//!   `{"access_token": "…"}`, for the load generator.
//!
//! Everything else (CLI, config, the production middleware stack) is Turbine's default, with the
//! ORM, auth and API batteries. `bench/api/run` starts it as `TURBINE_ENV=prod
//! TURBINE_SECRET_KEY=<64 chars> TURBINE_SERVER__ALLOWED_HOSTS='["*"]'
//! TURBINE_DATABASE__URL='postgres://…/turbine_bench_api_…?pool_size=16'
//! TURBINE_AUTH__ACCESS_TTL=24h bench-api serve --host 127.0.0.1 --port 8096`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use turbine::api::{Api, Op, Resource, Rule};
use turbine::auth::{Auth, AuthService, ClientInfo};
use turbine::battery::{Battery, Setup};
use turbine::orm::battery::Migrations;
use turbine::prelude::*;

const EMAIL: &str = "bench@example.com";
const PERMISSION: &str = "bench.post.add";
const AUTHORS: usize = 50;
const POSTS_PER_AUTHOR: usize = 20;

/// Someone who writes posts.
#[derive(Model, Debug, Clone, Serialize)]
#[model(app = "bench")]
struct Author {
    id: i64,
    #[field(max_length = 80)]
    name: String,
}

/// A post, newest first.
#[derive(Model, Debug, Clone, Serialize)]
#[model(app = "bench", ordering = ["-id"])]
struct Post {
    id: i64,
    #[field(on_delete = "cascade", related_name = "posts")]
    author: ForeignKey<Author>,
    #[field(max_length = 200)]
    title: String,
    body: String,
    #[field(auto_now_add)]
    created_at: DateTime<Utc>,
}

fn orm_error(e: turbine::auth::Error) -> Error {
    Error::other("bench set-up", e)
}

/// Seeds an empty database and makes sure the bench user exists with `bench.post.add`.
async fn set_up(db: Db, auth: AuthService) -> Result<()> {
    if Author::objects().count(&db).await? == 0 {
        db.transaction(|tx| async move {
            let mut authors = Vec::with_capacity(AUTHORS);
            for a in 1..=AUTHORS {
                let mut author = Author {
                    id: 0,
                    name: format!("Author {a}"),
                };
                author.insert(&tx).await?;
                authors.push(author);
            }
            for p in 0..AUTHORS * POSTS_PER_AUTHOR {
                let mut post = Post {
                    id: 0,
                    author: (&authors[p % AUTHORS]).into(),
                    title: format!("Post number {p}: notes on the analytical engine"),
                    body: format!(
                        "Post {p}. The engine might compose elaborate and scientific pieces of \
                         music of any degree of complexity or extent. It weaves algebraic \
                         patterns just as the Jacquard loom weaves flowers and leaves."
                    ),
                    created_at: Utc::now(),
                };
                post.insert(&tx).await?;
            }
            Ok::<_, turbine::orm::Error>(())
        })
        .await?;
        turbine::reexports::tracing::info!(
            "bench: seeded {AUTHORS} authors x {POSTS_PER_AUTHOR} posts"
        );
    }
    let user = match auth.find_by_email(EMAIL).await.map_err(orm_error)? {
        Some(u) => u,
        None => auth
            .create_user(EMAIL, None, |_| {})
            .await
            .map_err(orm_error)?,
    };
    if !auth
        .permissions_of(user.id)
        .await
        .map_err(orm_error)?
        .contains(PERMISSION)
    {
        auth.grant(&user, PERMISSION).await.map_err(orm_error)?;
    }
    Ok(())
}

/// Runs [`set_up`] at start-up, after the ORM (migrations) and auth (permissions) batteries.
struct BenchSetup;

impl Battery for BenchSetup {
    fn name(&self) -> &'static str {
        "bench-setup"
    }

    fn install(self, setup: &mut Setup) -> Result<()> {
        setup.on_startup(|cx| async move {
            let (Some(db), Some(auth)) = (cx.get::<Db>(), cx.get::<AuthService>()) else {
                return Ok(()); // a command that needs no database
            };
            set_up(db, auth).await
        });
        Ok(())
    }
}

#[derive(Serialize)]
struct BenchToken {
    access_token: String,
}

/// `POST /bench-token`: an access token for the bench user (a new device each time).
async fn bench_token(auth: AuthService) -> turbine::auth::Result<Json<BenchToken>> {
    let user = auth
        .find_by_email(EMAIL)
        .await?
        .ok_or(turbine::auth::Error::Unauthenticated)?;
    let tokens = auth
        .issue_tokens(&user, "bench", &ClientInfo::default())
        .await?;
    Ok(Json(BenchToken {
        access_token: tokens.access_token,
    }))
}

fn api() -> Api {
    let posts = Resource::of::<Post>()
        .public_read()
        .expand(["author"])
        .page_size(20, 100);
    let posts = match std::env::var("BENCH_API_CREATE").as_deref() {
        Ok("anyone") => posts.access(Op::Create, Rule::Anyone),
        Ok("permission") | Ok("") | Err(_) => posts,
        Ok(other) => {
            eprintln!("BENCH_API_CREATE: unknown value {other:?} (permission or anyone)");
            std::process::exit(2);
        }
    };
    Api::new()
        .info("bench-api", env!("CARGO_PKG_VERSION"))
        .resource(Resource::of::<Author>().public_read())
        .resource(posts)
}

#[tokio::main]
async fn main() -> Result<()> {
    let models = [Author::meta().clone(), Post::meta().clone()];
    App::new()
        .battery(
            Orm::new()
                .model::<Author>()
                .model::<Post>()
                .migrations(Migrations::generated(models))
                .auto_migrate(true),
        )
        .battery(Auth::new())
        .battery(api())
        .battery(BenchSetup)
        .route("/bench-token", post(bench_token))
        .run()
        .await
}
