//! Chirp's JSON API on the ORM: profiles, follows, posts, comments, likes, the timeline and a
//! personal feed, cursor-paginated.
//!
//! Reads are public. Writes need a signed-in user (the auth battery's [`CurrentUser`]: a bearer
//! access token, an API token, or a session cookie with its CSRF token), and act as that user's
//! profile: `POST /profiles` creates it (one per account), then posts, comments, likes and
//! follows are the profile's, never named in the body. Without credentials a write is a 401
//! problem with `WWW-Authenticate: Bearer`; a user without a profile gets a 403 problem saying
//! to create it first. Only a post's author (or a superuser) may delete it: [`post_policy`],
//! registered with the auth battery, decides.
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
//! let page: Value = client.get("/posts").send().await.json();
//! assert_eq!(page["items"][0]["author"]["handle"], "ada");
//! # }
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use turbine::auth::{Action, CurrentUser};
use turbine::orm::query::{Cursor, QuerySet};
use turbine::orm::{Error as OrmError, ModelExt};
use turbine::prelude::*;
use turbine::reexports::axum::http::StatusCode;

use crate::models::{Comment, Follow, Like, Post, Profile};

/// Posts per page.
pub const PAGE_SIZE: u64 = 20;

/// What handlers answer: the value, or a problem (ORM errors, auth errors and [`Problem`]s all
/// convert with `?`; database failures stay server errors, logged with the request).
type ApiResult<T> = turbine::Result<T>;

/// A profile with its counts.
#[derive(Debug, Serialize)]
pub struct ProfileView {
    /// The profile.
    #[serde(flatten)]
    pub profile: Profile,
    /// Number of posts.
    pub posts: u64,
    /// Number of followers.
    pub followers: u64,
    /// Number of profiles followed.
    pub following: u64,
}

/// Who wrote something, as embedded in posts and comments.
#[derive(Debug, Serialize)]
pub struct AuthorView {
    /// `@handle`.
    pub handle: String,
    /// Display name.
    pub display_name: String,
}

impl From<&Profile> for AuthorView {
    fn from(p: &Profile) -> Self {
        Self {
            handle: p.handle.clone(),
            display_name: p.display_name.clone(),
        }
    }
}

/// A post as clients see it.
#[derive(Debug, Serialize)]
pub struct PostView {
    /// Id.
    pub id: i64,
    /// Author (loaded with the post: one query per page).
    pub author: Option<AuthorView>,
    /// Text.
    pub body: String,
    /// Likes.
    pub like_count: i64,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<&Post> for PostView {
    fn from(p: &Post) -> Self {
        Self {
            id: p.id,
            author: p.author.get().map(AuthorView::from),
            body: p.body.clone(),
            like_count: p.like_count,
            created_at: p.created_at,
        }
    }
}

/// A comment as clients see it.
#[derive(Debug, Serialize)]
pub struct CommentView {
    /// Id.
    pub id: i64,
    /// Author.
    pub author: Option<AuthorView>,
    /// Text.
    pub body: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A post with its comments.
#[derive(Debug, Serialize)]
pub struct PostDetail {
    /// The post.
    #[serde(flatten)]
    pub post: PostView,
    /// Its comments, oldest first.
    pub comments: Vec<CommentView>,
}

/// One page of posts.
#[derive(Debug, Serialize)]
pub struct PostPage {
    /// The posts, newest first.
    pub items: Vec<PostView>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `?cursor=`.
#[derive(Debug, Deserialize)]
pub struct PageParams {
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// `POST /profiles`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProfile {
    /// `@handle`.
    pub handle: String,
    /// Display name.
    pub display_name: String,
    /// Bio.
    #[serde(default)]
    pub bio: String,
}

/// `POST /posts` (the author is the signed-in user's profile).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    /// Text.
    pub body: String,
}

/// `POST /posts/{id}/comments` (the author is the signed-in user's profile).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// Text.
    pub body: String,
}

/// The like count after a like.
#[derive(Debug, Serialize)]
pub struct LikeCount {
    /// Likes of the post.
    pub like_count: i64,
    /// `false` when the profile had already liked it.
    pub created: bool,
}

async fn profile_by_handle(db: &Db, handle: &str) -> ApiResult<Profile> {
    Ok(Profile::objects()
        .filter(Profile::HANDLE.eq(handle))
        .get(db)
        .await?)
}

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

fn validate_handle(handle: &str) -> ApiResult<()> {
    if handle.is_empty()
        || !handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(OrmError::Validation {
            field: "handle".into(),
            message: "use letters, digits and _ only".into(),
        }
        .into());
    }
    Ok(())
}

/// `POST /profiles`: creates the signed-in user's profile; 201 with it. 409 when the handle is
/// taken (a field error on `handle`) or the user already has a profile, 422 when invalid.
pub async fn create_profile(
    user: CurrentUser,
    db: Db,
    Json(new): Json<NewProfile>,
) -> ApiResult<(StatusCode, Json<Profile>)> {
    validate_handle(&new.handle)?;
    let mut profile = Profile {
        id: 0,
        user: ForeignKey::new(user.id),
        handle: new.handle,
        display_name: new.display_name,
        bio: new.bio,
        joined_at: Utc::now(),
    };
    match profile.insert(&db).await {
        Ok(()) => Ok((StatusCode::CREATED, Json(profile))),
        Err(OrmError::UniqueViolation { fields, .. }) if fields.iter().any(|f| f == "user") => {
            Err(Problem::new(StatusCode::CONFLICT)
                .detail("this account already has a profile")
                .into())
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /profiles/{handle}`: the profile and its counts.
pub async fn show_profile(db: Db, Path(handle): Path<String>) -> ApiResult<Json<ProfileView>> {
    let profile = profile_by_handle(&db, &handle).await?;
    let posts = Post::objects().filter(Post::AUTHOR.eq(&profile));
    let followers = Follow::objects().filter(Follow::FOLLOWEE.eq(&profile));
    let following = Follow::objects().filter(Follow::FOLLOWER.eq(&profile));
    let (posts, followers, following) =
        tokio::try_join!(posts.count(&db), followers.count(&db), following.count(&db))?;
    Ok(Json(ProfileView {
        profile,
        posts,
        followers,
        following,
    }))
}

/// `POST /profiles/{handle}/follow`: the signed-in user's profile follows `handle`; 204.
/// Following twice is a 409, following oneself a 422.
pub async fn follow(
    user: CurrentUser,
    db: Db,
    Path(handle): Path<String>,
) -> ApiResult<StatusCode> {
    let follower = acting_profile(&db, &user).await?;
    let followee = profile_by_handle(&db, &handle).await?;
    if follower.id == followee.id {
        return Err(OrmError::Validation {
            field: "handle".into(),
            message: "a profile cannot follow itself".into(),
        }
        .into());
    }
    Follow {
        id: 0,
        follower: (&follower).into(),
        followee: (&followee).into(),
        created_at: Utc::now(),
    }
    .insert(&db)
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn post_page(db: &Db, posts: QuerySet<Post>, cursor: Option<String>) -> ApiResult<PostPage> {
    let posts = posts.select_related(Post::AUTHOR);
    let cursor: Option<Cursor> = match cursor {
        Some(text) => Some(posts.query().decode_cursor(&text)?),
        None => None,
    };
    let page = posts.page(db, PAGE_SIZE, cursor.as_ref()).await?;
    Ok(PostPage {
        items: page.items.iter().map(PostView::from).collect(),
        next: page.next_cursor.map(|c| c.encode()),
    })
}

/// `GET /posts?cursor=`: everyone's posts, newest first, 20 a page, authors included.
pub async fn timeline(db: Db, Query(params): Query<PageParams>) -> ApiResult<Json<PostPage>> {
    Ok(Json(post_page(&db, Post::objects(), params.cursor).await?))
}

/// `GET /profiles/{handle}/feed?cursor=`: posts of the profiles `handle` follows.
pub async fn feed(
    db: Db,
    Path(handle): Path<String>,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<PostPage>> {
    let me = profile_by_handle(&db, &handle).await?;
    let followed = Follow::objects()
        .filter(Follow::FOLLOWER.eq(&me))
        .values_of(&db, Follow::FOLLOWEE)
        .await?;
    let posts = Post::objects().filter(Post::AUTHOR.is_in(followed));
    Ok(Json(post_page(&db, posts, params.cursor).await?))
}

/// `POST /posts`: the signed-in user's profile posts; 201 with the post, 422 when the body is
/// over 280 characters.
pub async fn create_post(
    user: CurrentUser,
    db: Db,
    Json(new): Json<NewPost>,
) -> ApiResult<(StatusCode, Json<PostView>)> {
    let author = acting_profile(&db, &user).await?;
    let mut post = Post {
        id: 0,
        author: (&author).into(),
        body: new.body,
        like_count: 0,
        created_at: Utc::now(),
    };
    post.insert(&db).await?;
    post.author.set_loaded(author);
    Ok((StatusCode::CREATED, Json(PostView::from(&post))))
}

/// `GET /posts/{id}`: the post with its comments and every author, in two queries.
pub async fn show_post(db: Db, Path(id): Path<i64>) -> ApiResult<Json<PostDetail>> {
    let post = Post::objects()
        .filter(Post::ID.eq(id))
        .select_related(Post::AUTHOR)
        .get(&db)
        .await?;
    let comments = post
        .related(Comment::POST)
        .select_related(Comment::AUTHOR)
        .all(&db)
        .await?;
    Ok(Json(PostDetail {
        post: PostView::from(&post),
        comments: comments
            .iter()
            .map(|c| CommentView {
                id: c.id,
                author: c.author.get().map(AuthorView::from),
                body: c.body.clone(),
                created_at: c.created_at,
            })
            .collect(),
    }))
}

/// `DELETE /posts/{id}`: 204; only its author (or a superuser) may ([`post_policy`]): 403 for
/// others. Its comments and likes go with it.
pub async fn delete_post(user: CurrentUser, db: Db, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    let post = Post::objects()
        .filter(Post::ID.eq(id))
        .select_related(Post::AUTHOR)
        .get(&db)
        .await?;
    user.authorize(Action::Delete, &post).await?;
    post.delete(&db).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The object policy of [`Post`], registered by [`crate::auth`]: anyone may view a post; only
/// the user whose profile wrote it may change or delete it. It needs the post's author loaded
/// (`select_related(Post::AUTHOR)`); without it, it refuses. Superusers pass before any policy.
pub fn post_policy(user: &CurrentUser, action: Action, post: &Post) -> bool {
    match action {
        Action::View => true,
        _ => post
            .author
            .get()
            .is_some_and(|author| *author.user.id() == user.id),
    }
}

/// `POST /posts/{id}/comments`: the signed-in user's profile comments; 201.
pub async fn create_comment(
    user: CurrentUser,
    db: Db,
    Path(id): Path<i64>,
    Json(new): Json<NewComment>,
) -> ApiResult<(StatusCode, Json<CommentView>)> {
    let author = acting_profile(&db, &user).await?;
    let post = Post::get(&db, id).await?;
    let mut comment = Comment {
        id: 0,
        post: (&post).into(),
        author: (&author).into(),
        body: new.body,
        created_at: Utc::now(),
    };
    comment.insert(&db).await?;
    Ok((
        StatusCode::CREATED,
        Json(CommentView {
            id: comment.id,
            author: Some(AuthorView::from(&author)),
            body: comment.body,
            created_at: comment.created_at,
        }),
    ))
}

/// `POST /posts/{id}/like`: the signed-in user's profile likes the post; records the like and
/// bumps the count in one transaction (`like_count = like_count + 1`, so concurrent likes never
/// lose one). Liking again changes nothing (`created: false`).
pub async fn like(user: CurrentUser, db: Db, Path(id): Path<i64>) -> ApiResult<Json<LikeCount>> {
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
                    created_at: Utc::now(),
                },
            )
            .await?;
            if created {
                Post::objects()
                    .filter(Post::ID.eq(id))
                    .update()
                    .set(Post::LIKE_COUNT, Post::LIKE_COUNT + 1)
                    .execute(&tx)
                    .await?;
            }
            let like_count = Post::get(&tx, id).await?.like_count;
            Ok::<_, OrmError>(LikeCount {
                like_count,
                created,
            })
        })
        .await?;
    Ok(Json(count))
}
