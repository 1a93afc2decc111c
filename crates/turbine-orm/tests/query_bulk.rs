//! Bulk updates with column expressions and bulk deletes (protect, cascade, set null) on
//! SQLite and Postgres.

mod common;

use common::*;
use turbine_orm::testing::TestDb;
use turbine_orm::{Error, ForeignKey, ModelExt};

#[tokio::test]
async fn bulk_update_with_column_expressions() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        for (t, v) in [("a", 1), ("b", 2), ("c", 3)] {
            post(&db, &alice, t, v).await;
        }
        let n = Post::objects()
            .filter(Post::VIEWS.gte(2))
            .update()
            .set(Post::VIEWS, Post::VIEWS + 1)
            .set(Post::TITLE, "hot")
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(n, 2, "{}", db.name());
        let views = Post::objects()
            .order_by([Post::VIEWS.asc()])
            .values_of(&db, Post::VIEWS)
            .await;
        assert_eq!(views.unwrap(), [1, 3, 4]);
        assert_eq!(
            Post::objects()
                .filter(Post::TITLE.eq("hot"))
                .count(&db)
                .await
                .unwrap(),
            2
        );
        // Arithmetic on several columns, and a limit (rows picked through a sub-select).
        Post::objects()
            .order_by([Post::VIEWS.desc()])
            .limit(1)
            .update()
            .set(Post::VIEWS, Post::VIEWS * 10 - 1)
            .set(Post::RATING, 2.5)
            .execute(&db)
            .await
            .unwrap();
        let views = Post::objects()
            .order_by([Post::VIEWS.asc()])
            .values_of(&db, Post::VIEWS)
            .await;
        assert_eq!(views.unwrap(), [1, 3, 39]);
        assert_eq!(
            Post::objects()
                .filter(Post::RATING.eq(2.5))
                .count(&db)
                .await
                .unwrap(),
            1
        );
        // Nothing to set is an error, not a silent no-op.
        assert!(matches!(
            Post::objects().update().execute(&db).await,
            Err(Error::Query(_))
        ));
        db.close().await;
    }
}

#[tokio::test]
async fn bulk_delete_respects_protect_cascade_and_set_null() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        let bob = user(&db, "Bob").await;
        let kept = post(&db, &alice, "kept", 1).await;
        let mut edited = Post::new(&alice, "edited by bob");
        edited.editor = Some(ForeignKey::from(&bob));
        edited.insert(&db).await.unwrap();
        let mut c = Comment::new(&kept, "nice");
        c.insert(&db).await.unwrap();

        // A comment protects `kept`: deleting every post is refused and deletes nothing.
        match Post::objects().delete(&db).await {
            Err(Error::Protected { model, by }) => {
                assert_eq!(model, "blog.Post", "{}", db.name());
                assert_eq!(by, ["blog.Comment.post"]);
            }
            other => panic!("{}: {other:?}", db.name()),
        }
        assert_eq!(Post::objects().count(&db).await.unwrap(), 2);
        // Deleting Alice would cascade to her posts, which a comment protects.
        match User::objects()
            .filter(User::NAME.eq("Alice"))
            .delete(&db)
            .await
        {
            Err(Error::Protected { model, by }) => {
                assert_eq!(
                    (model.as_str(), by),
                    ("auth.User", vec!["blog.Comment.post".to_string()])
                );
            }
            other => panic!("{other:?}"),
        }
        // Unprotected rows go.
        assert_eq!(
            Post::objects()
                .filter(Post::TITLE.startswith("edited"))
                .delete(&db)
                .await
                .unwrap(),
            1
        );
        // Set null: deleting Bob keeps the posts he edited, without an editor.
        let mut edited = Post::new(&alice, "edited again");
        edited.editor = Some(ForeignKey::from(&bob));
        edited.insert(&db).await.unwrap();
        assert_eq!(
            User::objects()
                .filter(User::NAME.eq("Bob"))
                .delete(&db)
                .await
                .unwrap(),
            1
        );
        let edited = Post::get(&db, edited.id).await.unwrap();
        assert!(edited.editor.is_none());
        // Cascade: once the comment is gone, deleting Alice deletes her posts.
        Comment::objects().delete(&db).await.unwrap();
        assert_eq!(
            User::objects()
                .filter(User::NAME.eq("Alice"))
                .delete(&db)
                .await
                .unwrap(),
            1
        );
        assert_eq!(Post::objects().count(&db).await.unwrap(), 0);
        db.close().await;
    }
}

#[tokio::test]
async fn without_the_registry_the_database_still_restricts() {
    for db in TestDb::all_with(registry().models()).await.unwrap() {
        let alice = user(&db, "Alice").await;
        let p = post(&db, &alice, "p", 1).await;
        Comment::new(&p, "c").insert(&db).await.unwrap();
        let err = Post::objects().delete(&db).await.unwrap_err();
        assert!(
            matches!(err, Error::ForeignKeyViolation { .. }),
            "{}: {err:?}",
            db.name()
        );
        assert_eq!(Post::objects().count(&db).await.unwrap(), 1);
        db.close().await;
    }
}
