//! Chirp's JSON API: REST resources over the models (the API battery), a personal feed, and
//! one hand-written action, documented at `/openapi.json` and browsable at `/docs`.
//!
//! - `/profiles`, `/profiles/{handle}`: one profile per account (create it after sign-up),
//!   with counts of posts, followers and follows;
//! - `/posts` (newest first, searchable, `?expand=author,comments,comments.author`),
//!   `/posts/{id}`, `/posts/feed` (posts of the profiles you follow), `/posts/{id}/comments`,
//!   and `POST /posts/{id}/like`;
//! - `/comments`, `/likes`, `/follows`.
//!
//! Reads are public. Writes need a signed-in user (the auth battery's [`CurrentUser`]: a bearer
//! access token, an API token, or a session cookie with its CSRF token) and act as that user's
//! profile: posts, comments, likes and follows are the profile's, never named in the body.
//! Without credentials a write is a 401 problem with `WWW-Authenticate: Bearer`; a user
//! without a profile gets a 403 problem saying to create it first. Only the author of a post,
//! comment, like or follow may change or delete it (the resources' owner rule).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use serde_json::{Value, json};
//! use turbine::auth::password::PasswordHasher;
//!
//! let auth = chirp::auth().password_hasher(PasswordHasher::for_tests());
//! let config = turbine::testing::config("[database]\nurl = 'sqlite::memory:'");
//! let client = turbine::testing::TestClient::new(chirp::app_with(auth).config(config))
//!     .await
//!     .unwrap();
//! let ada = json!({"email": "ada@example.com", "password": "analytical engine notes"});
//! client.post("/auth/signup").json(&ada).send().await.assert_status(202);
//! let login: Value = client.post("/auth/login").json(&ada).send().await.json();
//! let token = login["access_token"].as_str().unwrap();
//!
//! let new = json!({"body": "hello"});
//! client.post("/posts").json(&new).send().await.assert_status(401);
//! client.post("/posts").bearer(token).json(&new).send().await.assert_status(403); // no profile yet
//! client
//!     .post("/profiles")
//!     .bearer(token)
//!     .json(&json!({"handle": "ada", "display_name": "Ada Lovelace"}))
//!     .send()
//!     .await
//!     .assert_status(201);
//! client.post("/posts").bearer(token).json(&new).send().await.assert_status(201);
//! let page: Value = client.get("/posts?expand=author").send().await.json();
//! assert_eq!(page["items"][0]["author"]["handle"], "ada");
//! # }
//! ```

use serde::Serialize;
use turbine::api::{Api, Op, Resource, Rule, count_of};
use turbine::auth::CurrentUser;
use turbine::orm::query::Filter;
use turbine::orm::{Error as OrmError, ModelExt, Value};
use turbine::prelude::*;
use turbine::reexports::axum::http::StatusCode;

use crate::models::{Comment, Follow, Like, Post, Profile};

/// Posts per page unless the client asks (`?limit=`, at most 100).
pub const PAGE_SIZE: u64 = 20;

/// What handlers answer: the value, or a problem (ORM errors, auth errors and [`Problem`]s all
/// convert with `?`; database failures stay server errors, logged with the request).
type ApiResult<T> = turbine::Result<T>;

/// The profile the signed-in user acts as; a 403 problem ("create your profile first") when
/// they have none yet.
pub async fn acting_profile(db: &Db, user: &CurrentUser) -> ApiResult<Profile> {
    Profile::objects()
        .filter(Profile::USER.eq(user.id))
        .first(db)
        .await?
        .ok_or_else(|| {
            Problem::new(StatusCode::FORBIDDEN)
                .detail(
                    "create your profile first: POST /profiles with a handle and a display_name",
                )
                .into()
        })
}

/// The owner value of what the signed-in user writes: their profile's key.
async fn my_profile(user: CurrentUser, db: Db) -> ApiResult<Value> {
    Ok(Value::BigInt(Some(acting_profile(&db, &user).await?.id)))
}

/// Handles are letters, digits and `_`.
fn check_handle(value: &serde_json::Value) -> Result<(), String> {
    match value.as_str() {
        Some(h) if !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            Ok(())
        }
        _ => Err("use letters, digits and _ only".into()),
    }
}

fn count_schema(what: &str) -> serde_json::Value {
    serde_json::json!({"type": "integer", "minimum": 0, "description": what})
}

/// `/profiles/{handle}`: public; created by a signed-in user for their account (once: a second
/// one is a 409), changed or deleted by its owner. The account link is not shown.
pub fn profiles() -> Resource {
    Resource::of::<Profile>()
        .lookup("handle")
        .public_read()
        .owned_by_user("user")
        .hidden(["user"])
        .validate("handle", check_handle)
        .search_fields(["handle", "display_name"])
        .filter_fields(["handle"])
        .ordering_fields(["handle", "joined_at", "id"])
        .computed(
            "posts",
            count_schema("Posts written."),
            count_of::<Post>("author"),
        )
        .computed(
            "followers",
            count_schema("Profiles following it."),
            count_of::<Follow>("followee"),
        )
        .computed(
            "following",
            count_schema("Profiles it follows."),
            count_of::<Follow>("follower"),
        )
}

/// The posts of the profiles the signed-in user follows.
async fn feed(user: Option<CurrentUser>, db: Db) -> ApiResult<Filter> {
    let user = user.ok_or(turbine::auth::Error::Unauthenticated)?;
    let me = acting_profile(&db, &user).await?;
    let followed = Follow::objects()
        .filter(Follow::FOLLOWER.eq(&me))
        .values_of(&db, Follow::FOLLOWEE)
        .await?;
    Ok(Post::AUTHOR.is_in(followed).into_filter())
}

/// `/posts`: public, newest first, written as the signed-in user's profile, changed or
/// deleted by its author; `/posts/feed` for the signed-in user's follows; `POST
/// /posts/{id}/like`.
pub fn posts() -> Resource {
    Resource::of::<Post>()
        .public_read()
        .owner("author", my_profile)
        .filter_fields(["author", "author__handle", "created_at", "like_count"])
        .search_fields(["body"])
        .ordering_fields(["created_at", "like_count", "id"])
        .expand(["author", "comments", "comments.author"])
        .page_size(PAGE_SIZE, 100)
        .list_view(
            "feed",
            Rule::SignedIn,
            "Posts of the profiles you follow, newest first",
            feed,
        )
        .item_route("like", post(like))
}

/// `/comments` (and `/posts/{id}/comments` with [`Resource::under`]).
pub fn comments() -> Resource {
    Resource::of::<Comment>()
        .public_read()
        .owner("author", my_profile)
        .create_only(["post"])
        .filter_fields(["post", "author", "author__handle"])
        .ordering_fields(["created_at", "id"])
        .expand(["author"])
}

/// `/likes`: a profile likes a post once (a second like is a 409); unliking is deleting it.
/// The post's `like_count` follows (the model's hooks, in the same transaction: `atomic`).
pub fn likes() -> Resource {
    Resource::of::<Like>()
        .atomic()
        .public_read()
        .owner("profile", my_profile)
        .only([Op::List, Op::Retrieve, Op::Create, Op::Delete])
        .filter_fields(["post", "profile", "profile__handle"])
        .ordering_fields(["created_at", "id"])
}

/// `/follows`: the signed-in user's profile follows `followee` (once; not itself: 422).
pub fn follows() -> Resource {
    Resource::of::<Follow>()
        .public_read()
        .owner("follower", my_profile)
        .only([Op::List, Op::Retrieve, Op::Create, Op::Delete])
        .filter_fields([
            "follower",
            "followee",
            "follower__handle",
            "followee__handle",
        ])
        .ordering_fields(["created_at", "id"])
}

/// The API battery with Chirp's resources.
pub fn api() -> Api {
    Api::new()
        .info("Chirp", env!("CARGO_PKG_VERSION"))
        .description("The Turbine showcase: profiles, posts, comments, likes and follows. Sign up and log in under `/auth`, then send `Authorization: Bearer <access_token>`.")
        .resource(profiles())
        .resource(posts())
        .resource(comments())
        .resource(comments().under("/posts", "post"))
        .resource(likes())
        .resource(follows())
        .document(like_document())
}

/// The like count after a like.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LikeCount {
    /// Likes of the post.
    pub like_count: i64,
    /// `false` when the profile had already liked it.
    pub created: bool,
}

/// The OpenAPI description of the hand-written handlers ([`like`]), declared with utoipa and
/// merged into the document the API battery generates.
#[derive(utoipa::OpenApi)]
#[openapi(paths(like), components(schemas(LikeCount)))]
struct HandWritten;

fn like_document() -> utoipa::openapi::OpenApi {
    <HandWritten as utoipa::OpenApi>::openapi()
}

/// `POST /posts/{id}/like`: the signed-in user's profile likes the post, once; liking again
/// changes nothing (`created: false`). The count follows through [`Like`]'s hooks, in the same
/// transaction.
#[utoipa::path(
    post,
    path = "/posts/{id}/like",
    operation_id = "like_post",
    tag = "posts",
    summary = "Like a post (again: no change)",
    params(("id" = i64, Path, description = "The post's key")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The post's like count.", body = LikeCount),
        (status = 401, description = "Not signed in.", content_type = "application/problem+json", body = serde_json::Value),
        (status = 403, description = "No profile yet.", content_type = "application/problem+json", body = serde_json::Value),
        (status = 404, description = "No such post.", content_type = "application/problem+json", body = serde_json::Value),
    )
)]
pub async fn like(user: CurrentUser, db: Db, Path(id): Path<String>) -> ApiResult<Json<LikeCount>> {
    let id: i64 = id.parse().map_err(|_| OrmError::NotFound {
        model: "chirp.Post".into(),
    })?;
    let profile = acting_profile(&db, &user).await?;
    let count = db
        .transaction(|tx| async move {
            let post = Post::get(&tx, id).await?;
            let (_, created) = Like::get_or_create(
                &tx,
                Like::POST.eq(&post) & Like::PROFILE.eq(&profile),
                || Like {
                    id: 0,
                    post: (&post).into(),
                    profile: (&profile).into(),
                    created_at: chrono::Utc::now(),
                },
            )
            .await?;
            let like_count = Post::get(&tx, id).await?.like_count;
            Ok::<_, OrmError>(LikeCount {
                like_count,
                created,
            })
        })
        .await?;
    Ok(Json(count))
}
