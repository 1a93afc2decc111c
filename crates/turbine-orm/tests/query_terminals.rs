//! Ordering (incl. NULLs first / last and the model's default), limit / offset, distinct,
//! projections, count / exists / first / get, and raw SQL — on SQLite and Postgres.

mod common;

use common::*;
use turbine_orm::query::{Field, OrderBy};
use turbine_orm::{Db, Error, ModelExt, Value};

async fn seed(db: &Db) -> User {
    let alice = user(db, "Alice").await;
    for (title, views, rating) in [
        ("a", 3, Some(2.0)),
        ("b", 1, None),
        ("c", 2, Some(1.0)),
        ("d", 2, None),
        ("e", 5, Some(3.0)),
    ] {
        let mut p = Post::new(&alice, title);
        p.views = views;
        p.rating = rating;
        p.insert(db).await.unwrap();
    }
    alice
}

fn titles(posts: &[Post]) -> Vec<&str> {
    posts.iter().map(|p| p.title.as_str()).collect()
}

#[tokio::test]
async fn ordering_with_nulls_first_or_last_and_the_default() {
    for db in dbs().await {
        seed(&db).await;
        let posts = Post::objects()
            .order_by([Post::RATING.asc().nulls_last(), Post::TITLE.asc()])
            .all(&db)
            .await
            .unwrap();
        assert_eq!(titles(&posts), ["c", "a", "e", "b", "d"], "{}", db.name());
        let posts = Post::objects()
            .order_by([Post::RATING.desc().nulls_first(), Post::TITLE.desc()])
            .all(&db)
            .await
            .unwrap();
        assert_eq!(titles(&posts), ["d", "b", "e", "a", "c"]);
        let posts = Post::objects()
            .order_by([Post::VIEWS.desc(), Post::TITLE.asc()])
            .all(&db)
            .await
            .unwrap();
        assert_eq!(titles(&posts), ["e", "a", "c", "d", "b"]);
        // The model's default: newest first (created_at, then id, descending).
        let posts = Post::objects().all(&db).await.unwrap();
        assert_eq!(titles(&posts), ["e", "d", "c", "b", "a"]);
        // Untyped keys, as `?ordering=-views,title`.
        let posts = Post::objects()
            .order_by_keys([OrderBy::parse("-views"), OrderBy::parse("title")])
            .all(&db)
            .await
            .unwrap();
        assert_eq!(titles(&posts), ["e", "a", "c", "d", "b"]);
        let bad = Post::objects()
            .order_by_keys([OrderBy::parse("-nope")])
            .all(&db)
            .await;
        assert!(matches!(bad, Err(Error::Query(m)) if m.contains("has no field `nope`")));
        db.close().await;
    }
}

#[tokio::test]
async fn limit_offset_distinct_and_values() {
    for db in dbs().await {
        seed(&db).await;
        let by_title = Post::objects().order_by([Post::TITLE.asc()]);
        let page = by_title.clone().limit(2).offset(1).all(&db).await.unwrap();
        assert_eq!(titles(&page), ["b", "c"], "{}", db.name());
        let tail = by_title.clone().offset(3).all(&db).await.unwrap();
        assert_eq!(titles(&tail), ["d", "e"]);
        let rows = Post::objects()
            .order_by([Post::VIEWS.asc()])
            .distinct()
            .values(&db, [Post::VIEWS.into()])
            .await
            .unwrap();
        let views: Vec<i64> = rows.iter().map(|r| r.decode("views").unwrap()).collect();
        assert_eq!(views, [1, 2, 3, 5]);
        let rows = by_title
            .clone()
            .filter(Post::VIEWS.eq(2))
            .values(&db, [Post::TITLE.into(), Field::from(Post::RATING)])
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].columns(), ["title", "rating"]);
        assert_eq!(rows[0].decode::<String>("title").unwrap(), "c");
        assert_eq!(rows[1].decode::<Option<f64>>("rating").unwrap(), None);
        // The foreign key's value comes under the field's name.
        let rows = Post::objects()
            .limit(1)
            .values(&db, [Post::AUTHOR.into()])
            .await
            .unwrap();
        assert_eq!(rows[0].columns(), ["author"]);
        let flat = by_title.values_of(&db, Post::VIEWS).await.unwrap();
        assert_eq!(flat, [3, 1, 2, 2, 5]);
        db.close().await;
    }
}

#[tokio::test]
async fn count_exists_first_and_get() {
    for db in dbs().await {
        seed(&db).await;
        assert_eq!(
            Post::objects().count(&db).await.unwrap(),
            5,
            "{}",
            db.name()
        );
        assert_eq!(
            Post::objects()
                .filter(Post::VIEWS.eq(2))
                .count(&db)
                .await
                .unwrap(),
            2
        );
        assert_eq!(Post::objects().limit(3).count(&db).await.unwrap(), 3);
        assert_eq!(Post::objects().distinct().count(&db).await.unwrap(), 5);
        assert!(
            Post::objects()
                .filter(Post::VIEWS.gt(4))
                .exists(&db)
                .await
                .unwrap()
        );
        assert!(
            !Post::objects()
                .filter(Post::VIEWS.gt(5))
                .exists(&db)
                .await
                .unwrap()
        );
        let first = Post::objects()
            .order_by([Post::VIEWS.asc()])
            .first(&db)
            .await
            .unwrap();
        assert_eq!(first.unwrap().title, "b");
        assert!(
            Post::objects()
                .filter(Post::VIEWS.gt(9))
                .first(&db)
                .await
                .unwrap()
                .is_none()
        );
        let e = Post::objects()
            .filter(Post::TITLE.eq("e"))
            .get(&db)
            .await
            .unwrap();
        assert_eq!(e.views, 5);
        match Post::objects().filter(Post::TITLE.eq("zz")).get(&db).await {
            Err(Error::NotFound { model }) => assert_eq!(model, "blog.Post"),
            other => panic!("{other:?}"),
        }
        match Post::objects().filter(Post::VIEWS.eq(2)).get(&db).await {
            Err(Error::MultipleFound { model }) => assert_eq!(model, "blog.Post"),
            other => panic!("{other:?}"),
        }
        // By key.
        assert_eq!(Post::get(&db, e.id).await.unwrap().title, "e");
        assert!(matches!(
            Post::get(&db, 999).await,
            Err(Error::NotFound { .. })
        ));
        db.close().await;
    }
}

#[tokio::test]
async fn raw_sql_binds_values_and_maps_columns_by_name() {
    for db in dbs().await {
        seed(&db).await;
        let posts = Post::raw(
            &db,
            "SELECT * FROM blog_post WHERE views = ? AND title <> '?' ORDER BY title",
            [Value::BigInt(Some(2))],
        )
        .await
        .unwrap();
        assert_eq!(titles(&posts), ["c", "d"], "{}", db.name());
        // Columns in another order still map by name.
        let cols = "updated_at, created_at, data, reply_to_id, editor_id, author_id, rating, \
                    views, status, body, title, id";
        let posts = Post::raw(
            &db,
            &format!("SELECT {cols} FROM blog_post WHERE title = ?"),
            ["e".into()],
        )
        .await
        .unwrap();
        assert_eq!((posts[0].title.as_str(), posts[0].views), ("e", 5));
        // A value that looks like SQL stays a value.
        let none = Post::raw(
            &db,
            "SELECT * FROM blog_post WHERE title = ?",
            ["x' OR '1'='1".into()],
        )
        .await
        .unwrap();
        assert!(none.is_empty());
        let missing = Post::raw(&db, "SELECT id FROM blog_post", []).await;
        assert!(matches!(missing, Err(Error::Query(m)) if m.contains("no column `title`")));
        db.close().await;
    }
}
