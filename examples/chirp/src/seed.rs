//! `cargo run -p chirp -- seed`: a few accounts with their profiles, follows, posts, comments
//! and likes to explore the API with.
//!
//! The accounts are `ada@example.com`, `grace@example.com` (staff), `linus@example.com` and
//! `margaret@example.com`, all with the password [`DEMO_PASSWORD`] and a verified address. The
//! password is public: demo data for a development database, never for one people use.

use chrono::Utc;
use turbine::auth::AuthService;
use turbine::orm::{Db, Error, ModelExt, Result};

use crate::models::{Comment, Follow, Like, Post, Profile};

/// The password of every demo account (development only: it is in the source).
pub const DEMO_PASSWORD: &str = "chirp demo password";

/// The demo account that is staff (may use the admin).
const STAFF: &str = "grace";

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

/// An auth error in the seed's terms (the ORM's seed hook returns ORM errors).
fn seed_error(e: turbine::auth::Error) -> Error {
    match e {
        turbine::auth::Error::Orm(e) => e,
        e => Error::database(e),
    }
}

/// Fills an empty database with demo data (the `seed` command runs it in one transaction):
/// the accounts, one profile each, follows, posts, comments and likes.
pub async fn seed(db: Db) -> Result<()> {
    // The seed gets the transaction's handle, not the app's AuthService: a service on that
    // handle creates the accounts like sign-up does (the password checked against the policy,
    // hashed with argon2id at the OWASP parameters).
    let auth = AuthService::builder(db.clone()).build();
    let mut profiles = Vec::new();
    for (handle, name, bio) in PEOPLE {
        let user = auth
            .create_user(&format!("{handle}@example.com"), Some(DEMO_PASSWORD), |u| {
                u.name = name.to_string();
                u.is_staff = *handle == STAFF;
                u.email_verified_at = Some(Utc::now());
            })
            .await
            .map_err(seed_error)?;
        profiles.push(Profile {
            id: 0,
            user: (&user).into(),
            handle: handle.to_string(),
            display_name: name.to_string(),
            bio: bio.to_string(),
            joined_at: Utc::now(),
        });
    }
    let profiles = Profile::insert_many(&db, profiles).await?;
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
        // The like's hook bumps the post's like_count.
        Like {
            id: 0,
            post: post.into(),
            profile: fan.into(),
            created_at: Utc::now(),
        }
        .insert(&db)
        .await?;
    }
    println!(
        "Demo accounts (development only): {} — password \"{DEMO_PASSWORD}\"; {STAFF}@example.com is staff.",
        PEOPLE
            .iter()
            .map(|(handle, ..)| format!("{handle}@example.com"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
