//! `cargo run -p chirp -- seed`: a few profiles, follows, posts, comments and likes to explore
//! the API with.

use chrono::Utc;
use turbine::orm::{Db, ModelExt, Result};

use crate::models::{Comment, Follow, Like, Post, Profile};

const PEOPLE: &[(&str, &str, &str)] = &[
    ("ada", "Ada Lovelace", "Notes on the Analytical Engine."),
    ("grace", "Grace Hopper", "It's easier to ask forgiveness."),
    ("linus", "Linus", "Talk is cheap."),
    (
        "margaret",
        "Margaret Hamilton",
        "Software engineering, before it had a name.",
    ),
];

const POSTS: &[(usize, &str)] = &[
    (0, "The engine might compose elaborate pieces of music."),
    (
        1,
        "A ship in port is safe, but that's not what ships are built for.",
    ),
    (2, "Given enough eyeballs, all bugs are shallow."),
    (3, "Looking forward to the next landing."),
    (0, "Imagination is the discovering faculty."),
    (
        1,
        "The most dangerous phrase: we've always done it this way.",
    ),
];

/// Fills an empty database with demo data (the `seed` command runs it in one transaction).
pub async fn seed(db: Db) -> Result<()> {
    let profiles = Profile::insert_many(
        &db,
        PEOPLE
            .iter()
            .map(|(handle, name, bio)| Profile {
                id: 0,
                handle: handle.to_string(),
                display_name: name.to_string(),
                bio: bio.to_string(),
                joined_at: Utc::now(),
            })
            .collect(),
    )
    .await?;
    let mut follows = Vec::new();
    for (i, a) in profiles.iter().enumerate() {
        for (j, b) in profiles.iter().enumerate() {
            if i != j && (i + j) % 2 == 1 {
                follows.push(Follow {
                    id: 0,
                    follower: a.into(),
                    followee: b.into(),
                    created_at: Utc::now(),
                });
            }
        }
    }
    Follow::insert_many(&db, follows).await?;
    let posts = Post::insert_many(
        &db,
        POSTS
            .iter()
            .map(|(author, body)| Post {
                id: 0,
                author: (&profiles[*author]).into(),
                body: body.to_string(),
                like_count: 0,
                created_at: Utc::now(),
            })
            .collect(),
    )
    .await?;
    for (i, post) in posts.iter().enumerate() {
        let fan = &profiles[(i + 1) % profiles.len()];
        Comment {
            id: 0,
            post: post.into(),
            author: fan.into(),
            body: "Well said.".into(),
            created_at: Utc::now(),
        }
        .insert(&db)
        .await?;
        Like {
            id: 0,
            post: post.into(),
            profile: fan.into(),
            created_at: Utc::now(),
        }
        .insert(&db)
        .await?;
    }
    Post::objects()
        .update()
        .set(Post::LIKE_COUNT, Post::LIKE_COUNT + 1)
        .execute(&db)
        .await?;
    Ok(())
}
