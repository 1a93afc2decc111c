//! Keyset pagination on SQLite and Postgres: pages follow the ordering plus the key, cursors
//! survive encoding, and rows inserted between pages neither repeat nor hide rows.

mod common;

use common::*;
use turbine_orm::query::{Cursor, Query};
use turbine_orm::{Db, Error, Model, ModelExt};

async fn seed(db: &Db, author: &User, views: &[(i64, Option<f64>)]) {
    for (i, (v, rating)) in views.iter().enumerate() {
        let mut p = Post::new(author, &format!("p{i}"));
        p.views = *v;
        p.rating = *rating;
        p.insert(db).await.unwrap();
    }
}

#[tokio::test]
async fn pages_are_stable_while_rows_are_inserted() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        let views: Vec<(i64, Option<f64>)> = (0..10).map(|i| (i % 4, None)).collect();
        seed(&db, &alice, &views).await;
        let qs = Post::objects().order_by([Post::VIEWS.desc()]);
        let mut seen = Vec::new();
        let mut cursor: Option<Cursor> = None;
        let mut pages = 0;
        loop {
            let page = qs.page(&db, 3, cursor.as_ref()).await.unwrap();
            seen.extend(page.items.iter().map(|p| (p.views, p.id)));
            pages += 1;
            if pages == 1 {
                // A row that sorts before the cursor (more views) and one after it appear meanwhile.
                let mut hot = Post::new(&alice, "hot");
                hot.views = 99;
                hot.insert(&db).await.unwrap();
                let mut tie = Post::new(&alice, "tie");
                tie.views = 2;
                tie.insert(&db).await.unwrap();
            }
            // Cursors survive a round trip through text (a query string).
            cursor = match page.next_cursor {
                Some(c) => Some(qs.query().decode_cursor(&c.encode()).unwrap()),
                None => break,
            };
        }
        // The first page was the three highest; afterwards every original row came exactly once,
        // in order (views desc, id asc), and the tie inserted after the cursor position came too.
        let original: Vec<(i64, i64)> = seen.iter().copied().filter(|(v, _)| *v != 99).collect();
        let mut expected = original.clone();
        expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        assert_eq!(original, expected, "{}", db.name());
        assert_eq!(seen.len(), 11, "10 rows and the later tie: {seen:?}");
        assert!(
            !seen.iter().any(|(v, _)| *v == 99),
            "the row before the cursor is not re-served"
        );
        assert_eq!(pages, 4);
        db.close().await;
    }
}

#[tokio::test]
async fn nullable_keys_page_in_the_backend_order() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        let rows = [
            (0, Some(2.0)),
            (0, None),
            (0, Some(1.0)),
            (0, None),
            (0, Some(3.0)),
        ];
        seed(&db, &alice, &rows).await;
        for qs in [
            Post::objects().order_by([Post::RATING.asc().nulls_last()]),
            Post::objects().order_by([Post::RATING.desc().nulls_first()]),
            Post::objects().order_by([Post::RATING.asc()]),
            Post::objects().order_by([Post::RATING.desc()]),
        ] {
            let everything = qs.all(&db).await.unwrap();
            let all: Vec<i64> = everything.iter().map(|p| p.id).collect();
            let rating_of = |id: &i64| everything.iter().find(|p| p.id == *id).unwrap().rating;
            let mut paged = Vec::new();
            let mut cursor = None;
            loop {
                let page = qs.page(&db, 2, cursor.as_ref()).await.unwrap();
                paged.extend(page.items.iter().map(|p| p.id));
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            // Same rows, same order as without pages (ties on NULL broken by the key).
            let mut sorted_all = all.clone();
            sorted_all.sort();
            let mut sorted_paged = paged.clone();
            sorted_paged.sort();
            assert_eq!(sorted_paged, sorted_all, "{}: {:?}", db.name(), qs.query());
            let ratings = |ids: &[i64]| ids.iter().map(rating_of).collect::<Vec<_>>();
            assert_eq!(ratings(&paged), ratings(&all), "{}", db.name());
        }
        db.close().await;
    }
}

#[tokio::test]
async fn untyped_pages_and_bad_cursors() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        seed(&db, &alice, &[(1, None), (2, None), (3, None)]).await;
        let q = Query::new(Post::meta());
        let page = q.page(&db, 2, None).await.unwrap();
        assert_eq!(page.items.len(), 2);
        let next = page.next_cursor.expect("a second page");
        let page2 = q.page(&db, 2, Some(&next)).await.unwrap();
        assert_eq!(page2.items.len(), 1);
        assert!(page2.next_cursor.is_none());
        for bad in ["", "!!!", "WzFd"] {
            let err = q.decode_cursor(bad).unwrap_err();
            assert!(
                matches!(err, Error::Validation { ref field, .. } if field == "cursor"),
                "{bad}: {err}"
            );
        }
        db.close().await;
    }
}
