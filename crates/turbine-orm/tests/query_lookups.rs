//! Every lookup, on SQLite and Postgres: comparisons, IN, BETWEEN, text lookups (with LIKE
//! wildcards in the text, non-ASCII case folding), NULL handling, JSON keys, and/or/not, and
//! filters parsed from query-string keys.

mod common;

use common::*;
use turbine_orm::query::{Filter, Q, QuerySet};
use turbine_orm::testing::TestDb;
use turbine_orm::{Db, Error, ForeignKey, ModelExt};

async fn seed(db: &Db) -> (User, User) {
    let alice = user(db, "Alice").await;
    let bob = user(db, "Bob").await;
    let rows = [
        (
            "Rust in 2026",
            10,
            Some(4.5),
            Status::Live,
            Some(&bob),
            "Learn Rust",
            serde_json::json!({"lang": "en", "n": 3, "meta": {"k": "v"}}),
        ),
        (
            "rustacean ÉCOLE",
            5,
            None,
            Status::Draft,
            None,
            "Straße à l'école",
            serde_json::json!({"lang": "fr", "n": 10}),
        ),
        (
            "50% off_sale!",
            0,
            Some(2.0),
            Status::Live,
            None,
            "percent",
            serde_json::json!({"lang": "en", "n": null}),
        ),
        (
            "Python tips",
            100,
            None,
            Status::Draft,
            Some(&alice),
            "snake",
            serde_json::json!({}),
        ),
    ];
    for (title, views, rating, status, editor, body, data) in rows {
        let mut p = Post::new(&alice, title);
        p.views = views;
        p.rating = rating;
        p.status = status;
        p.editor = editor.map(ForeignKey::from);
        p.body = body.into();
        p.data = data;
        p.insert(db).await.unwrap();
    }
    (alice, bob)
}

async fn titles(db: &TestDb, q: Q<Post>) -> Vec<String> {
    let mut t: Vec<String> = Post::objects()
        .filter(q)
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", db.name()))
        .into_iter()
        .map(|p| p.title)
        .collect();
    t.sort();
    t
}

fn sorted(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn comparisons_in_and_between() {
    for db in dbs().await {
        seed(&db).await;
        let t = |q| titles(&db, q);
        assert_eq!(
            t(Post::VIEWS.eq(10)).await,
            sorted(&["Rust in 2026"]),
            "{}",
            db.name()
        );
        assert_eq!(t(Post::VIEWS.ne(10)).await.len(), 3);
        assert_eq!(t(Post::VIEWS.lt(5)).await, sorted(&["50% off_sale!"]));
        assert_eq!(t(Post::VIEWS.lte(5)).await.len(), 2);
        assert_eq!(t(Post::VIEWS.gt(10)).await, sorted(&["Python tips"]));
        assert_eq!(t(Post::VIEWS.gte(10)).await.len(), 2);
        assert_eq!(
            t(Post::VIEWS.is_in([0, 100])).await,
            sorted(&["50% off_sale!", "Python tips"])
        );
        assert_eq!(
            t(Post::VIEWS.is_in(Vec::<i64>::new())).await,
            Vec::<String>::new()
        );
        assert_eq!(t(Post::VIEWS.between(5, 10)).await.len(), 2);
        assert_eq!(t(Post::STATUS.eq(Status::Live)).await.len(), 2);
        // Column against column (an F-expression): views > views * 2 never holds for views ≥ 0.
        assert_eq!(t(Post::VIEWS.gt(Post::VIEWS * 2)).await.len(), 0);
        assert_eq!(t(Post::VIEWS.gte(Post::VIEWS)).await.len(), 4);
        db.close().await;
    }
}

#[tokio::test]
async fn text_lookups_are_literal_and_fold_case_beyond_ascii() {
    for db in dbs().await {
        seed(&db).await;
        let t = |q| titles(&db, q);
        // Case-sensitive on both backends (SQLite's LIKE alone would ignore case).
        assert_eq!(
            t(Post::TITLE.contains("Rust")).await,
            sorted(&["Rust in 2026"]),
            "{}",
            db.name()
        );
        assert_eq!(
            t(Post::TITLE.icontains("RUST")).await,
            sorted(&["Rust in 2026", "rustacean ÉCOLE"])
        );
        // Non-ASCII letters fold too.
        assert_eq!(
            t(Post::TITLE.icontains("école")).await,
            sorted(&["rustacean ÉCOLE"])
        );
        assert_eq!(
            t(Post::BODY.icontains("STRASSE")).await,
            Vec::<String>::new(),
            "ß is not SS"
        );
        assert_eq!(
            t(Post::BODY.icontains("À L'ÉCOLE")).await,
            sorted(&["rustacean ÉCOLE"])
        );
        assert_eq!(
            t(Post::TITLE.startswith("rust")).await,
            sorted(&["rustacean ÉCOLE"])
        );
        assert_eq!(
            t(Post::TITLE.istartswith("rust")).await,
            sorted(&["Rust in 2026", "rustacean ÉCOLE"])
        );
        assert_eq!(
            t(Post::TITLE.endswith("tips")).await,
            sorted(&["Python tips"])
        );
        assert_eq!(
            t(Post::TITLE.iendswith("École")).await,
            sorted(&["rustacean ÉCOLE"])
        );
        assert_eq!(
            t(Post::TITLE.iexact("PYTHON TIPS")).await,
            sorted(&["Python tips"])
        );
        assert_eq!(t(Post::TITLE.iexact("python")).await, Vec::<String>::new());
        // Wildcards and the escape character in the text match themselves.
        assert_eq!(
            t(Post::TITLE.contains("%")).await,
            sorted(&["50% off_sale!"])
        );
        assert_eq!(
            t(Post::TITLE.contains("0%")).await,
            sorted(&["50% off_sale!"])
        );
        assert_eq!(
            t(Post::TITLE.contains("_")).await,
            sorted(&["50% off_sale!"])
        );
        assert_eq!(
            t(Post::TITLE.contains("f_s")).await,
            sorted(&["50% off_sale!"])
        );
        assert_eq!(
            t(Post::TITLE.contains("!")).await,
            sorted(&["50% off_sale!"])
        );
        assert_eq!(
            t(Post::TITLE.icontains("% OFF_")).await,
            sorted(&["50% off_sale!"])
        );
        assert_eq!(t(Post::TITLE.contains("n_2")).await, Vec::<String>::new());
        assert_eq!(t(Post::TITLE.contains("*")).await, Vec::<String>::new());
        assert_eq!(t(Post::TITLE.startswith("5_")).await, Vec::<String>::new());
        db.close().await;
    }
}

#[tokio::test]
async fn nulls_are_matched_by_is_null_and_counted_as_different() {
    for db in dbs().await {
        let (alice, _) = seed(&db).await;
        let t = |q| titles(&db, q);
        assert_eq!(
            t(Post::RATING.is_null()).await,
            sorted(&["Python tips", "rustacean ÉCOLE"])
        );
        assert_eq!(t(Post::RATING.is_not_null()).await.len(), 2);
        assert_eq!(
            t(Post::RATING.eq(None)).await.len(),
            2,
            "eq(None) is IS NULL"
        );
        // `ne` and `!eq` keep rows where the field is NULL (as Django's exclude).
        assert_eq!(t(Post::RATING.ne(4.5)).await.len(), 3, "{}", db.name());
        assert_eq!(t(!Post::RATING.eq(4.5)).await.len(), 3);
        assert_eq!(t(!Post::RATING.gt(3.0)).await.len(), 3);
        assert_eq!(t(!!Post::RATING.gt(3.0)).await, sorted(&["Rust in 2026"]));
        assert_eq!(t(Post::EDITOR.eq(&alice)).await, sorted(&["Python tips"]));
        assert_eq!(t(Post::EDITOR.eq(alice.id)).await, sorted(&["Python tips"]));
        assert_eq!(t(Post::EDITOR.is_null()).await.len(), 2);
        assert_eq!(t(Post::AUTHOR.eq(&alice)).await.len(), 4);
        assert_eq!(t(!Post::EDITOR.eq(&alice)).await.len(), 3);
        db.close().await;
    }
}

#[tokio::test]
async fn json_key_lookups() {
    for db in dbs().await {
        seed(&db).await;
        let t = |q| titles(&db, q);
        assert_eq!(
            t(Post::DATA.key("lang").eq("en")).await.len(),
            2,
            "{}",
            db.name()
        );
        assert_eq!(
            t(Post::DATA.key("lang").ne("en")).await.len(),
            2,
            "missing keys differ"
        );
        assert_eq!(
            t(Post::DATA.key("n").eq(10)).await,
            sorted(&["rustacean ÉCOLE"])
        );
        // Numbers compare as numbers (10 > 3), not as text ("10" < "3").
        assert_eq!(
            t(Post::DATA.key("n").gt(3)).await,
            sorted(&["rustacean ÉCOLE"])
        );
        assert_eq!(t(Post::DATA.key("n").is_in([3, 10])).await.len(), 2);
        assert_eq!(
            t(Post::DATA.key("meta").key("k").eq("v")).await,
            sorted(&["Rust in 2026"])
        );
        // Missing and JSON null are both NULL.
        assert_eq!(
            t(Post::DATA.key("n").is_null()).await,
            sorted(&["50% off_sale!", "Python tips"])
        );
        assert_eq!(t(Post::DATA.key("lang").icontains("E")).await.len(), 2);
        assert_eq!(t(Post::DATA.key("lang").startswith("f")).await.len(), 1);
        assert_eq!(t(!Post::DATA.key("lang").eq("en")).await.len(), 2);
        db.close().await;
    }
}

#[tokio::test]
async fn and_or_not_combine() {
    for db in dbs().await {
        seed(&db).await;
        let t = |q| titles(&db, q);
        let q = Post::TITLE.icontains("rust") & !Post::STATUS.eq(Status::Draft);
        assert_eq!(t(q).await, sorted(&["Rust in 2026"]), "{}", db.name());
        let q = Post::VIEWS.gte(10) | Post::EDITOR.is_null();
        assert_eq!(t(q).await.len(), 4);
        let q = (Post::VIEWS.gte(50) | Post::VIEWS.lte(0)).and(Post::STATUS.eq(Status::Live));
        assert_eq!(t(q).await, sorted(&["50% off_sale!"]));
        assert_eq!(t(Q::nothing()).await.len(), 0);
        assert_eq!(t(Q::all()).await.len(), 4);
        assert_eq!(t(Q::nothing() | Post::VIEWS.eq(0)).await.len(), 1);
        // Several .filter() calls and exclude() stack.
        let n = Post::objects()
            .filter(Post::VIEWS.gte(5))
            .filter(Post::VIEWS.lte(10))
            .exclude(Post::TITLE.startswith("Rust"))
            .count(&db)
            .await
            .unwrap();
        assert_eq!(n, 1);
        db.close().await;
    }
}

#[tokio::test]
async fn filters_parse_from_query_string_keys() {
    for db in dbs().await {
        seed(&db).await;
        let meta = <Post as turbine_orm::Model>::meta();
        let parsed = |key: &str, value: &str| Filter::parse_lookup(meta, key, value).unwrap();
        let d: &Db = &db;
        let count = |f: Filter| {
            let qs: QuerySet<Post> = Post::objects().filter_by(f);
            async move { qs.count(d).await.unwrap() }
        };
        assert_eq!(
            count(parsed("title__icontains", "rust")).await,
            2,
            "{}",
            db.name()
        );
        assert_eq!(count(parsed("views__gte", "10")).await, 2);
        assert_eq!(count(parsed("views__in", "0,100")).await, 2);
        assert_eq!(count(parsed("views__range", "1,10")).await, 2);
        assert_eq!(count(parsed("rating__isnull", "true")).await, 2);
        assert_eq!(count(parsed("status", "live")).await, 2);
        assert_eq!(count(parsed("author", "1")).await, 4);
        assert_eq!(count(parsed("author_id", "1")).await, 4);
        assert_eq!(count(parsed("data__lang", "fr")).await, 1);
        assert_eq!(count(parsed("data__n__gt", "3")).await, 1);
        assert_eq!(count(parsed("data__meta__k", "v")).await, 1);
        for (key, value, says) in [
            ("titel__icontains", "x", "its fields are: id, title"),
            ("title__near", "x", "lookups are: exact"),
            ("views__icontains", "1", "needs a text field"),
            ("views__gte", "ten", "`ten` is not an integer"),
            ("views__range", "1", "two values"),
        ] {
            match Filter::parse_lookup(meta, key, value) {
                Err(Error::Validation { field, message }) => {
                    assert_eq!(field, key);
                    assert!(message.contains(says), "{key}: {message}");
                }
                other => panic!("{key}: {other:?}"),
            }
        }
        db.close().await;
    }
}

#[tokio::test]
async fn lookups_through_foreign_keys() {
    for db in dbs().await {
        let (alice, bob) = seed(&db).await;
        let mut reply = Post::new(&bob, "reply");
        reply.reply_to = Post::objects()
            .filter(Post::TITLE.eq("Python tips"))
            .first(&db)
            .await
            .unwrap()
            .map(|p| ForeignKey::from(&p));
        reply.insert(&db).await.unwrap();
        let t = |q| titles(&db, q);
        assert_eq!(
            t(Post::AUTHOR.has(User::NAME.eq("Bob"))).await,
            sorted(&["reply"]),
            "{}",
            db.name()
        );
        assert_eq!(
            t(Post::EDITOR.has(User::NAME.icontains("ali"))).await,
            sorted(&["Python tips"])
        );
        // Negated: posts whose editor is not Alice, including posts without an editor.
        assert_eq!(t(!Post::EDITOR.has(User::NAME.eq("Alice"))).await.len(), 4);
        // Self-reference: replies to a post whose title starts with "Python".
        assert_eq!(
            t(Post::REPLY_TO.has(Post::TITLE.startswith("Python"))).await,
            sorted(&["reply"])
        );
        // Parsed, following keys through the registry.
        let registry = registry();
        let meta = <Post as turbine_orm::Model>::meta();
        let parsed = |key: &str, value: &str| Filter::parse_lookup_in(&registry, meta, key, value);
        let n = Post::objects()
            .filter_by(parsed("author__name__icontains", "BO").unwrap())
            .count(&db)
            .await
            .unwrap();
        assert_eq!(n, 1);
        let n = Post::objects()
            .filter_by(parsed("reply_to__editor__email", &alice.email).unwrap())
            .count(&db)
            .await
            .unwrap();
        assert_eq!(n, 1, "two hops");
        match parsed("author__nme", "x") {
            Err(Error::Validation { field, message }) => {
                assert_eq!(field, "author__nme");
                assert!(
                    message.contains("auth.User has no field `nme`"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        // Without the registry, relations are not followed.
        assert!(Filter::parse_lookup(meta, "author__name", "Bob").is_err());
        db.close().await;
    }
}
