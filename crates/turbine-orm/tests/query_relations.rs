//! Relations and eager loading on SQLite and Postgres, counting statements so N+1 cannot come
//! back: select_related is one query, prefetch two; reverse foreign keys; many-to-many managers
//! over automatic, explicit and self-referencing join models.

mod common;

use common::*;
use turbine_orm::query::ManyToManyManager;
use turbine_orm::{Db, ForeignKey, ModelExt};

async fn tag(db: &Db, name: &str) -> Tag {
    let mut t = Tag::new(name);
    t.insert(db).await.unwrap();
    t
}

#[tokio::test]
async fn select_related_loads_foreign_keys_in_one_query() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        let bob = user(&db, "Bob").await;
        let root = post(&db, &alice, "root", 1).await;
        for i in 0..5 {
            let mut p = Post::new(
                if i % 2 == 0 { &alice } else { &bob },
                &format!("reply {i}"),
            );
            p.reply_to = Some(ForeignKey::from(&root));
            p.editor = (i == 3).then(|| ForeignKey::from(&bob));
            p.insert(&db).await.unwrap();
        }
        let (posts, n) = queries(&db, async {
            Post::objects()
                .filter(Post::TITLE.startswith("reply"))
                .select_related(Post::AUTHOR)
                .select_related(Post::EDITOR)
                .select_related(Post::REPLY_TO)
                .order_by([Post::TITLE.asc()])
                .all(&db)
                .await
                .unwrap()
        })
        .await;
        assert_eq!(
            n,
            1,
            "{}: one query for posts, authors, editors and parents",
            db.name()
        );
        assert_eq!(posts.len(), 5);
        let (names, n) = queries(&db, async {
            posts
                .iter()
                .map(|p| p.author.get().expect("author loaded").name.clone())
                .collect::<Vec<_>>()
        })
        .await;
        assert_eq!(n, 0);
        assert_eq!(names, ["Alice", "Bob", "Alice", "Bob", "Alice"]);
        // A NULL foreign key (LEFT JOIN, nothing found) loads nothing.
        let editors: Vec<Option<&str>> = posts
            .iter()
            .map(|p| {
                p.editor
                    .as_ref()
                    .and_then(|e| e.get())
                    .map(|u| u.name.as_str())
            })
            .collect();
        assert_eq!(editors, [None, None, None, Some("Bob"), None]);
        assert!(posts[0].editor.is_none());
        // A self-reference.
        assert!(
            posts
                .iter()
                .all(|p| p.reply_to.as_ref().unwrap().get().unwrap().title == "root")
        );
        // Filters on the main model still work with joined tables in the query.
        let n = Post::objects()
            .select_related(Post::AUTHOR)
            .filter(Post::TITLE.icontains("REPLY") & Post::EDITOR.is_null())
            .count(&db)
            .await
            .unwrap();
        assert_eq!(n, 4);
        db.close().await;
    }
}

#[tokio::test]
async fn prefetch_loads_many_to_many_and_foreign_keys_with_one_more_query() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        let bob = user(&db, "Bob").await;
        let (rust, web, db_tag) = (
            tag(&db, "rust").await,
            tag(&db, "web").await,
            tag(&db, "db").await,
        );
        let mut posts = Vec::new();
        for (i, tags) in [
            vec![&rust, &web],
            vec![&db_tag],
            vec![],
            vec![&rust, &db_tag, &web],
        ]
        .into_iter()
        .enumerate()
        {
            let p = post(
                &db,
                if i % 2 == 0 { &alice } else { &bob },
                &format!("p{i}"),
                i as i64,
            )
            .await;
            p.m2m(Post::TAGS).add(&db, &tags).await.unwrap();
            posts.push(p);
        }
        let (loaded, n) = queries(&db, async {
            Post::objects()
                .order_by([Post::VIEWS.asc()])
                .prefetch(Post::TAGS)
                .all(&db)
                .await
                .unwrap()
        })
        .await;
        assert_eq!(n, 2, "{}: posts, then every post's tags", db.name());
        let names: Vec<Vec<&str>> = loaded
            .iter()
            .map(|p| {
                p.tags
                    .get()
                    .unwrap()
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect()
            })
            .collect();
        // Tags come in their model's default ordering (by name).
        assert_eq!(
            names,
            [
                vec!["rust", "web"],
                vec!["db"],
                vec![],
                vec!["db", "rust", "web"]
            ]
        );
        // Foreign keys by prefetch (targets shared between rows), together with select_related.
        let (loaded, n) = queries(&db, async {
            Post::objects()
                .order_by([Post::VIEWS.asc()])
                .prefetch(Post::AUTHOR)
                .select_related(Post::REPLY_TO)
                .prefetch(Post::TAGS)
                .all(&db)
                .await
                .unwrap()
        })
        .await;
        assert_eq!(n, 3);
        let authors: Vec<&str> = loaded
            .iter()
            .map(|p| p.author.get().unwrap().name.as_str())
            .collect();
        assert_eq!(authors, ["Alice", "Bob", "Alice", "Bob"]);
        // Nothing matched: no second query.
        let (empty, n) = queries(&db, async {
            Post::objects()
                .filter(Post::VIEWS.gt(99))
                .prefetch(Post::TAGS)
                .all(&db)
                .await
                .unwrap()
        })
        .await;
        assert!(empty.is_empty());
        assert_eq!(n, 1);
        db.close().await;
    }
}

#[tokio::test]
async fn reverse_foreign_keys() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        let bob = user(&db, "Bob").await;
        let carol = user(&db, "Carol").await;
        for (u, n) in [(&alice, 3), (&bob, 1)] {
            for i in 0..n {
                post(&db, u, &format!("{} {i}", u.name), i).await;
            }
        }
        assert_eq!(
            alice.related(Post::AUTHOR).count(&db).await.unwrap(),
            3,
            "{}",
            db.name()
        );
        assert_eq!(carol.related(Post::AUTHOR).count(&db).await.unwrap(), 0);
        let mine = alice
            .related(Post::AUTHOR)
            .filter(Post::VIEWS.gte(1))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(mine.len(), 2);
        let users = User::objects().all(&db).await.unwrap();
        let (children, n) = queries(&db, async {
            Post::objects()
                .order_by([Post::VIEWS.asc()])
                .children_of(&db, Post::AUTHOR, &users)
                .await
                .unwrap()
        })
        .await;
        assert_eq!(n, 1, "one query for every user's posts");
        let counts: Vec<(&str, usize)> = users
            .iter()
            .map(|u| (u.name.as_str(), children.of(u).len()))
            .collect();
        assert_eq!(counts, [("Alice", 3), ("Bob", 1), ("Carol", 0)]);
        assert_eq!(children.of(&alice)[2].title, "Alice 2");
        db.close().await;
    }
}

#[tokio::test]
async fn many_to_many_managers() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        let p = post(&db, &alice, "p", 0).await;
        let (rust, web, sql) = (
            tag(&db, "rust").await,
            tag(&db, "web").await,
            tag(&db, "sql").await,
        );
        let tags = p.m2m(Post::TAGS);
        tags.add(&db, &[&rust, &web]).await.unwrap();
        tags.add(&db, &[&rust]).await.unwrap(); // already linked: kept once
        let names = |list: Vec<Tag>| list.into_iter().map(|t| t.name).collect::<Vec<_>>();
        assert_eq!(
            names(tags.all(&db).await.unwrap()),
            ["rust", "web"],
            "{}",
            db.name()
        );
        assert_eq!(tags.remove(&db, &[&web]).await.unwrap(), 1);
        assert_eq!(names(tags.all(&db).await.unwrap()), ["rust"]);
        tags.set(&db, &[&web, &sql]).await.unwrap();
        assert_eq!(names(tags.all(&db).await.unwrap()), ["sql", "web"]);
        let filtered = tags
            .query(&db)
            .unwrap()
            .filter(Tag::NAME.startswith("w"))
            .count(&db)
            .await;
        assert_eq!(filtered.unwrap(), 1);
        assert_eq!(tags.clear(&db).await.unwrap(), 2);
        assert!(tags.all(&db).await.unwrap().is_empty());
        tags.add_keys(&db, [rust.id]).await.unwrap();
        assert_eq!(
            names(
                ManyToManyManager::new(&p, Post::TAGS)
                    .all(&db)
                    .await
                    .unwrap()
            ),
            ["rust"]
        );
        db.close().await;
    }
}

#[tokio::test]
async fn explicit_through_and_self_referencing_many_to_many() {
    for db in dbs().await {
        let alice = user(&db, "Alice").await;
        let bob = user(&db, "Bob").await;
        let mut admins = Group::new("admins");
        admins.insert(&db).await.unwrap();
        admins
            .m2m(Group::MEMBERS)
            .add(&db, &[&alice, &bob])
            .await
            .unwrap();
        let members = admins.m2m(Group::MEMBERS).all(&db).await.unwrap();
        assert_eq!(members.len(), 2, "{}", db.name());
        // The through model's own field got its database default.
        let roles = Membership::objects()
            .values_of(&db, Membership::ROLE)
            .await
            .unwrap();
        assert_eq!(roles, ["member", "member"]);
        let groups = Group::objects()
            .prefetch(Group::MEMBERS)
            .all(&db)
            .await
            .unwrap();
        let names: Vec<&str> = groups[0]
            .members
            .get()
            .unwrap()
            .iter()
            .map(|u| u.name.as_str())
            .collect();
        assert_eq!(names, ["Alice", "Bob"]);
        admins
            .m2m(Group::MEMBERS)
            .remove(&db, &[&alice])
            .await
            .unwrap();
        let left = admins.m2m(Group::MEMBERS).all(&db).await.unwrap();
        assert_eq!(left, std::slice::from_ref(&bob));

        // Post.related → Post, through the automatic blog_post_related (from_post, to_post).
        let a = post(&db, &alice, "a", 0).await;
        let b = post(&db, &alice, "b", 1).await;
        let c = post(&db, &alice, "c", 2).await;
        a.m2m(Post::RELATED).add(&db, &[&b, &c]).await.unwrap();
        b.m2m(Post::RELATED).add(&db, &[&c]).await.unwrap();
        let (loaded, n) = queries(&db, async {
            Post::objects()
                .order_by([Post::TITLE.asc()])
                .prefetch(Post::RELATED)
                .all(&db)
                .await
                .unwrap()
        })
        .await;
        assert_eq!(n, 2);
        let related: Vec<Vec<&str>> = loaded
            .iter()
            .map(|p| {
                let mut t: Vec<&str> = p
                    .related
                    .get()
                    .unwrap()
                    .iter()
                    .map(|r| r.title.as_str())
                    .collect();
                t.sort();
                t
            })
            .collect();
        assert_eq!(related, [vec!["b", "c"], vec!["c"], vec![]]);
        db.close().await;
    }
}
