//! The shipped migrations replay to exactly the models: a model change without a migration
//! fails here. To write the next migration after changing a model:
//! `TURBINE_WRITE_MIGRATIONS=1 cargo test -p turbine-auth --test migrations`.

use turbine_orm::migrate::{self, MigrationSet, Renames};

#[test]
fn shipped_migrations_match_the_models() {
    let registry = turbine_auth::schema::registry().unwrap();
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
        "the auth models changed without a migration:\n  {}\nrun TURBINE_WRITE_MIGRATIONS=1 cargo test -p turbine-auth --test migrations",
        described.join("\n  ")
    );
}

#[test]
fn the_embedded_set_is_the_folder() {
    let embedded = turbine_auth::schema::migrations().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let folder = MigrationSet::from_dir(&dir)
        .unwrap()
        .qualified("auth")
        .unwrap();
    assert_eq!(embedded.migrations(), folder.migrations());
    assert!(!embedded.is_empty());
}
