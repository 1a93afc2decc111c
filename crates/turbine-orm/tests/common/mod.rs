//! Test models for the query and CRUD suites (`#[derive(Model)]`, and one `Model` written by
//! hand), and a fresh database per test with their tables and the registry installed.
#![allow(dead_code, unreachable_pub)]

pub mod models;

use std::sync::{Arc, LazyLock};

use turbine_orm::meta::{ModelRegistry, Registry};
use turbine_orm::testing::TestDb;
use turbine_orm::{Db, Model};

pub use models::*;

/// The registry of every test model (plus the automatic join models it adds).
pub fn registry() -> Arc<Registry> {
    static REGISTRY: LazyLock<Arc<Registry>> = LazyLock::new(|| {
        let mut r = ModelRegistry::new();
        for meta in [
            User::meta(),
            Tag::meta(),
            Post::meta(),
            Comment::meta(),
            Group::meta(),
            Membership::meta(),
            Doc::meta(),
            Note::meta(),
        ] {
            r.register(meta.clone()).expect("registers");
        }
        Arc::new(r.finish().expect("the test models are valid"))
    });
    REGISTRY.clone()
}

/// Every backend (SQLite, and Postgres when configured), each a fresh database with the tables
/// of every test model and the registry set.
pub async fn dbs() -> Vec<TestDb> {
    let registry = registry();
    let dbs = TestDb::all_with(registry.models())
        .await
        .expect("test databases");
    for db in &dbs {
        db.set_registry(registry.clone())
            .expect("registry set once");
    }
    dbs
}

/// A user, inserted.
pub async fn user(db: &Db, name: &str) -> User {
    use turbine_orm::ModelExt;
    let mut u = User::new(name);
    u.insert(db).await.expect("user inserted");
    u
}

/// A post by `author`, inserted.
pub async fn post(db: &Db, author: &User, title: &str, views: i64) -> Post {
    use turbine_orm::ModelExt;
    let mut p = Post::new(author, title);
    p.views = views;
    p.insert(db).await.expect("post inserted");
    p
}

/// Counts the statements `f` runs.
pub async fn queries<T, F: std::future::Future<Output = T>>(db: &Db, f: F) -> (T, u64) {
    let before = db.query_count();
    let out = f.await;
    (out, db.query_count() - before)
}
