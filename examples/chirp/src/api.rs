//! Chirp's JSON API on the ORM: profiles, follows, posts, comments, likes, the timeline and a
//! personal feed, cursor-paginated.
//!
//! Until the auth battery lands, write requests name the acting profile in the body (`author`,
//! `follower`, `profile`); the auth battery will take it from the signed-in user instead.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use turbine::orm::query::{Cursor, QuerySet};
use turbine::orm::{Error, ModelExt};
use turbine::prelude::*;
use turbine::reexports::axum::http::StatusCode;

use crate::models::{Comment, Follow, Like, Post, Profile};

/// Posts per page.
pub const PAGE_SIZE: u64 = 20;

type ApiResult<T> = std::result::Result<T, Error>;

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

/// `POST /posts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    /// The author's handle.
    pub author: String,
    /// Text.
    pub body: String,
}

/// `POST /posts/{id}/comments`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// The author's handle.
    pub author: String,
    /// Text.
    pub body: String,
}

/// `POST /profiles/{handle}/follow`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowRequest {
    /// Who follows (`handle` is followed).
    pub follower: String,
}

/// `POST /posts/{id}/like`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LikeRequest {
    /// Who likes it.
    pub profile: String,
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
    Profile::objects()
        .filter(Profile::HANDLE.eq(handle))
        .get(db)
        .await
}

fn validate_handle(handle: &str) -> ApiResult<()> {
    if handle.is_empty()
        || !handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(Error::Validation {
            field: "handle".into(),
            message: "use letters, digits and _ only".into(),
        });
    }
    Ok(())
}

/// `POST /profiles`: 201 with the profile; 409 when the handle is taken, 422 when invalid.
pub async fn create_profile(
    db: Db,
    Json(new): Json<NewProfile>,
) -> ApiResult<(StatusCode, Json<Profile>)> {
    validate_handle(&new.handle)?;
    let mut profile = Profile {
        id: 0,
        handle: new.handle,
        display_name: new.display_name,
        bio: new.bio,
        joined_at: Utc::now(),
    };
    profile.insert(&db).await?;
    Ok((StatusCode::CREATED, Json(profile)))
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

/// `POST /profiles/{handle}/follow`: 204; following twice is a 409, following oneself a 422.
pub async fn follow(
    db: Db,
    Path(handle): Path<String>,
    Json(req): Json<FollowRequest>,
) -> ApiResult<StatusCode> {
    let followee = profile_by_handle(&db, &handle).await?;
    let follower = profile_by_handle(&db, &req.follower).await?;
    if follower.id == followee.id {
        return Err(Error::Validation {
            field: "follower".into(),
            message: "a profile cannot follow itself".into(),
        });
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

/// `POST /posts`: 201 with the post; 422 when the body is over 280 characters.
pub async fn create_post(
    db: Db,
    Json(new): Json<NewPost>,
) -> ApiResult<(StatusCode, Json<PostView>)> {
    let author = profile_by_handle(&db, &new.author).await?;
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

/// `POST /posts/{id}/comments`: 201.
pub async fn create_comment(
    db: Db,
    Path(id): Path<i64>,
    Json(new): Json<NewComment>,
) -> ApiResult<(StatusCode, Json<CommentView>)> {
    let post = Post::get(&db, id).await?;
    let author = profile_by_handle(&db, &new.author).await?;
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

/// `POST /posts/{id}/like`: records the like and bumps the count in one transaction
/// (`like_count = like_count + 1`, so concurrent likes never lose one).
pub async fn like(
    db: Db,
    Path(id): Path<i64>,
    Json(req): Json<LikeRequest>,
) -> ApiResult<Json<LikeCount>> {
    let profile = profile_by_handle(&db, &req.profile).await?;
    db.transaction(|tx| async move {
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
        Ok(Json(LikeCount {
            like_count,
            created,
        }))
    })
    .await
}
