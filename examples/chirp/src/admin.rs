//! Chirp's admin at `/admin`: every model, with the columns, searches and filters a moderator
//! needs, plus the auth battery's users and groups. `cargo run -p chirp -- createsuperuser`,
//! then log in at <http://127.0.0.1:8000/admin>.
//!
//! ```
//! let admin = chirp::admin::admin();
//! # let _ = admin;
//! ```

use turbine::admin::{Admin, ModelAdmin};
use turbine::orm::{ModelExt, Value};

use crate::models::{Comment, Follow, Like, Post, Profile};

/// The admin battery as Chirp configures it.
pub fn admin() -> Admin {
    Admin::new()
        .title("Chirp admin")
        .model(
            ModelAdmin::of::<Profile>()
                .list_display(["handle", "display_name", "user", "joined_at"])
                .search(["handle", "display_name", "bio", "user__email"])
                .filters(["joined_at"])
                .inline("chirp.Post"),
        )
        .model(
            ModelAdmin::of::<Post>()
                .list_display(["body", "author", "like_count", "created_at"])
                .search(["body", "author__handle"])
                .filters(["author", "created_at"])
                .inline("chirp.Comment")
                .inline("chirp.Like")
                .action(
                    "clear_likes",
                    "Remove the likes of the selected posts",
                    |db, ids| async move {
                        let ids: Vec<i64> = ids
                            .iter()
                            .filter_map(|v| match v {
                                Value::BigInt(Some(i)) => Some(*i),
                                _ => None,
                            })
                            .collect();
                        // One by one, so each like's hook keeps its post's count right.
                        let likes = Like::objects()
                            .filter(Like::POST.is_in(ids))
                            .all(&db)
                            .await
                            .map_err(|e| e.to_string())?;
                        let n = likes.len();
                        for like in likes {
                            like.delete(&db).await.map_err(|e| e.to_string())?;
                        }
                        Ok(format!("Removed {n} likes."))
                    },
                ),
        )
        .model(
            ModelAdmin::of::<Comment>()
                .list_display(["body", "post", "author", "created_at"])
                .search(["body", "author__handle"])
                .filters(["author", "created_at"]),
        )
        .model(
            ModelAdmin::of::<Like>()
                .list_display(["post", "profile", "created_at"])
                .filters(["profile", "created_at"]),
        )
        .model(
            ModelAdmin::of::<Follow>()
                .list_display(["follower", "followee", "created_at"])
                .filters(["follower", "followee"]),
        )
}
