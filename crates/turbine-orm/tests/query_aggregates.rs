//! Aggregates (count, sum, avg, min, max, count distinct) over a query and per group with
//! having, on SQLite and Postgres — same result types on both.

mod common;

use common::*;
use turbine_orm::query::{Agg, OrderBy};
use turbine_orm::{Db, ModelExt};

async fn seed(db: &Db) -> (User, User) {
    let alice = user(db, "Alice").await;
    let bob = user(db, "Bob").await;
    for (author, views, rating) in [
        (&alice, 10, Some(4.0)),
        (&alice, 20, None),
        (&alice, 30, Some(2.0)),
        (&bob, 5, Some(5.0)),
        (&bob, 5, None),
    ] {
        let mut p = Post::new(author, "p");
        p.views = views;
        p.rating = rating;
        p.insert(db).await.unwrap();
    }
    (alice, bob)
}

#[tokio::test]
async fn aggregates_over_a_query() {
    for db in dbs().await {
        let (alice, _) = seed(&db).await;
        let row = Post::objects()
            .aggregate(
                &db,
                [
                    Agg::count_all(),
                    Post::VIEWS.sum(),
                    Post::VIEWS.avg(),
                    Post::VIEWS.min(),
                    Post::VIEWS.max(),
                    Post::RATING.count(),
                    Post::VIEWS.count_distinct(),
                    Post::RATING.avg().alias("mean_rating"),
                ],
            )
            .await
            .unwrap();
        let name = db.name();
        assert_eq!(row.decode::<i64>("count").unwrap(), 5, "{name}");
        assert_eq!(row.decode::<i64>("views__sum").unwrap(), 70, "{name}");
        assert_eq!(row.decode::<f64>("views__avg").unwrap(), 14.0, "{name}");
        assert_eq!(row.decode::<i64>("views__min").unwrap(), 5);
        assert_eq!(row.decode::<i64>("views__max").unwrap(), 30);
        assert_eq!(
            row.decode::<i64>("rating__count").unwrap(),
            3,
            "NULLs are not counted"
        );
        assert_eq!(row.decode::<i64>("views__count_distinct").unwrap(), 4);
        assert!((row.decode::<f64>("mean_rating").unwrap() - 11.0 / 3.0).abs() < 1e-9);
        // Over a filtered query, and over a limited one (a sub-select).
        let row = Post::objects()
            .filter(Post::AUTHOR.eq(&alice))
            .aggregate(&db, [Post::VIEWS.sum()])
            .await
            .unwrap();
        assert_eq!(row.decode::<i64>("views__sum").unwrap(), 60);
        let row = Post::objects()
            .order_by([Post::VIEWS.desc()])
            .limit(2)
            .aggregate(&db, [Post::VIEWS.sum()])
            .await
            .unwrap();
        assert_eq!(row.decode::<i64>("views__sum").unwrap(), 50);
        // No rows: COUNT is 0, the others NULL.
        let row = Post::objects()
            .filter(Post::VIEWS.gt(1000))
            .aggregate(
                &db,
                [Agg::count_all(), Post::VIEWS.sum(), Post::VIEWS.avg()],
            )
            .await
            .unwrap();
        assert_eq!(row.decode::<i64>("count").unwrap(), 0);
        assert_eq!(row.decode::<Option<i64>>("views__sum").unwrap(), None);
        assert_eq!(row.decode::<Option<f64>>("views__avg").unwrap(), None);
        db.close().await;
    }
}

#[tokio::test]
async fn group_by_annotate_having() {
    for db in dbs().await {
        let (alice, bob) = seed(&db).await;
        let rows = Post::objects()
            .group_by([Post::AUTHOR.into()])
            .annotate([
                Agg::count_all().alias("n"),
                Post::VIEWS.sum().alias("total"),
            ])
            .order_by([OrderBy::desc("total")])
            .fetch(&db)
            .await
            .unwrap();
        let groups: Vec<(i64, i64, i64)> = rows
            .iter()
            .map(|r| {
                (
                    r.decode("author").unwrap(),
                    r.decode("n").unwrap(),
                    r.decode("total").unwrap(),
                )
            })
            .collect();
        assert_eq!(
            groups,
            [(alice.id, 3, 60), (bob.id, 2, 10)],
            "{}",
            db.name()
        );
        let rows = Post::objects()
            .group_by([Post::AUTHOR.into()])
            .annotate([Post::VIEWS.sum().alias("total")])
            .having(Post::VIEWS.sum().gt(15))
            .fetch(&db)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].decode::<i64>("author").unwrap(), alice.id);
        let rows = Post::objects()
            .filter(Post::RATING.is_not_null())
            .group_by([Post::AUTHOR.into()])
            .annotate([Post::RATING.max(), Post::RATING.avg()])
            .having(Agg::count_all().gte(2))
            .fetch(&db)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].decode::<f64>("rating__max").unwrap(), 4.0);
        assert_eq!(rows[0].decode::<f64>("rating__avg").unwrap(), 3.0);
        db.close().await;
    }
}
