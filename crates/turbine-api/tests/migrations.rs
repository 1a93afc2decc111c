//! The shipped migrations replay to exactly the battery's model: a model change without a
//! migration fails here. To write the next migration after changing it:
//! `TURBINE_WRITE_MIGRATIONS=1 cargo test -p turbine-api --test migrations`.

use turbine_api::idempotency::IdempotencyKey;
use turbine_orm::Model;
use turbine_orm::meta::ModelRegistry;
use turbine_orm::migrate::{self, MigrationSet, Renames};

#[test]
fn shipped_migrations_match_the_model() {
    let mut registry = ModelRegistry::new();
    registry.register(IdempotencyKey::meta().clone()).unwrap();
    let registry = registry.finish().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let set = MigrationSet::from_dir(&dir).unwrap();
    let ops = migrate::detect(set.state(), &registry, &mut Renames::new()).unwrap();
    if ops.is_empty() {
        return;
    }
    if std::env::var_os("TURBINE_WRITE_MIGRATIONS").is_some() {
        let next = migrate::next_migration(&set, ops, None).unwrap();
        migrate::write(&dir, &next).unwrap();
        migrate::write_embed(&dir).unwrap();
        eprintln!("wrote {}", next.name);
        return;
    }
    let described: Vec<String> = ops.iter().map(|o| o.describe()).collect();
    panic!(
        "the api model changed without a migration:\n  {}\nrun TURBINE_WRITE_MIGRATIONS=1 cargo test -p turbine-api --test migrations",
        described.join("\n  ")
    );
}

#[test]
fn the_embedded_set_is_the_folder() {
    let embedded = turbine_api::idempotency::migrations().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let folder = MigrationSet::from_dir(&dir)
        .unwrap()
        .qualified("api")
        .unwrap();
    assert_eq!(embedded.migrations(), folder.migrations());
    assert!(!embedded.is_empty());
}
