//! Chirp's models: profiles (one per user account of the auth battery), who follows whom,
//! posts, comments and likes.
//!
//! The migrations in `migrations/` are generated from these by `cargo run -p chirp --
//! makemigrations`; the binary embeds them and `migrate` applies them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use turbine::Model;
use turbine::auth::models::User;
use turbine::orm::hooks::ChangeKind;
use turbine::orm::{Db, ForeignKey, ModelExt, ModelHooks};

/// A person on Chirp: the public face of a user account (`auth.User`), one per account.
#[derive(Model, Debug, Clone, Serialize)]
#[model(app = "chirp", ordering = ["handle"])]
pub struct Profile {
    /// Identity key.
    pub id: i64,
    /// The account it belongs to (unique: one profile per user; deleted with the user). Not
    /// shown to clients.
    #[serde(skip)]
    #[field(one_to_one, on_delete = "cascade", related_name = "profile")]
    pub user: ForeignKey<User>,
    /// `@handle`, unique.
    #[field(
        max_length = 30,
        unique,
        help_text = "Letters, digits and _; shown as @handle"
    )]
    pub handle: String,
    /// The name people see.
    #[field(max_length = 80)]
    pub display_name: String,
    /// A few words about them.
    #[field(max_length = 160, default = "")]
    pub bio: String,
    /// When they joined.
    #[field(auto_now_add)]
    pub joined_at: DateTime<Utc>,
}

/// `follower` follows `followee`.
#[derive(Model, Debug, Clone, Serialize)]
#[model(
    app = "chirp",
    unique_together(fields = ["follower", "followee"]),
    check(name = "chirp_follow_not_self", sql = "follower_id <> followee_id")
)]
pub struct Follow {
    /// Identity key.
    pub id: i64,
    /// Who follows.
    #[field(on_delete = "cascade", related_name = "following")]
    pub follower: ForeignKey<Profile>,
    /// Who is followed.
    #[field(on_delete = "cascade", related_name = "followers")]
    pub followee: ForeignKey<Profile>,
    /// Since when.
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
}

/// A short post.
#[derive(Model, Debug, Clone, Serialize)]
#[model(
    app = "chirp",
    ordering = ["-created_at", "-id"],
    index(fields = ["author", "created_at"]),
    // `?search=` and the admin's search are `ILIKE '%word%'` on the body: on Postgres this index
    // answers them without reading every post (SQLite has no such index and scans).
    index(fields = ["body"], kind = "trigram")
)]
pub struct Post {
    /// Identity key.
    pub id: i64,
    /// Who wrote it.
    #[field(on_delete = "cascade", related_name = "posts")]
    pub author: ForeignKey<Profile>,
    /// The text.
    #[field(max_length = 280)]
    pub body: String,
    /// How many likes (kept by `like`, with `like_count = like_count + 1`).
    #[field(default = 0, db_default = "0", read_only)]
    pub like_count: i64,
    /// When it was posted.
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
}

/// A reply to a post.
#[derive(Model, Debug, Clone, Serialize)]
#[model(app = "chirp", ordering = ["created_at", "id"])]
pub struct Comment {
    /// Identity key.
    pub id: i64,
    /// The post.
    #[field(on_delete = "cascade", related_name = "comments")]
    pub post: ForeignKey<Post>,
    /// Who wrote it.
    #[field(on_delete = "cascade", related_name = "comments")]
    pub author: ForeignKey<Profile>,
    /// The text.
    #[field(max_length = 280)]
    pub body: String,
    /// When.
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
}

/// `profile` likes `post` (once). Inserting or deleting a like moves the post's `like_count`
/// ([`ModelHooks`], in the same transaction when there is one).
#[derive(Model, Debug, Clone, Serialize)]
#[model(app = "chirp", unique_together(fields = ["post", "profile"]), hooks)]
pub struct Like {
    /// Identity key.
    pub id: i64,
    /// The post.
    #[field(on_delete = "cascade", related_name = "likes")]
    pub post: ForeignKey<Post>,
    /// Who likes it.
    #[field(on_delete = "cascade", related_name = "likes")]
    pub profile: ForeignKey<Profile>,
    /// When.
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
}

/// `like_count = like_count + delta` on one post: one statement, so concurrent likes never
/// lose one.
async fn bump_likes(db: &Db, post: i64, delta: i64) -> turbine::orm::Result<()> {
    Post::objects()
        .filter(Post::ID.eq(post))
        .update()
        .set(Post::LIKE_COUNT, Post::LIKE_COUNT + delta)
        .execute(db)
        .await
        .map(drop)
}

impl ModelHooks for Like {
    async fn after_save(&self, db: &Db, kind: ChangeKind) -> turbine::orm::Result<()> {
        if kind == ChangeKind::Created {
            bump_likes(db, *self.post.id(), 1).await?;
        }
        Ok(())
    }

    async fn after_delete(&self, db: &Db) -> turbine::orm::Result<()> {
        bump_likes(db, *self.post.id(), -1).await
    }
}
