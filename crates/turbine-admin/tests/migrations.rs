//! The shipped migrations replay to exactly the battery's model: a model change without a
//! migration fails here. To write the next migration after changing it:
//! `TURBINE_WRITE_MIGRATIONS=1 cargo test -p turbine-admin --test migrations`.

use turbine_admin::audit::LogEntry;
use turbine_orm::Model;
use turbine_orm::meta::ModelRegistry;
use turbine_orm::migrate::MigrationSet;

#[test]
fn shipped_migrations_match_the_model() {
    let mut registry = ModelRegistry::new();
    registry.register(LogEntry::meta().clone()).unwrap();
    turbine_orm::testing::check_shipped_migrations(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"),
        &registry.finish().unwrap(),
        "cargo test -p turbine-admin --test migrations",
    );
}

#[test]
fn the_embedded_set_is_the_folder() {
    let embedded = turbine_admin::audit::migrations().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let folder = MigrationSet::from_dir(&dir)
        .unwrap()
        .qualified("admin")
        .unwrap();
    assert_eq!(embedded.migrations(), folder.migrations());
    assert!(!embedded.is_empty());
}
