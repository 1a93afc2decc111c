//! The shipped migrations replay to exactly the models: a model change without a migration
//! fails here. To write the next migration after changing a model:
//! `TURBINE_WRITE_MIGRATIONS=1 cargo test -p turbine-auth --test migrations`.

use turbine_orm::migrate::{self, MigrationSet, Renames};

#[test]
fn shipped_migrations_match_the_models() {
    turbine_orm::testing::check_shipped_migrations(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"),
        &turbine_auth::schema::registry().unwrap(),
        "cargo test -p turbine-auth --test migrations",
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

/// `Auth::user_field`: the app's own column on `auth_user`, migrated by the app's
/// `makemigrations`, read and written through the untyped ORM, while the battery's typed
/// user keeps working.
#[tokio::test]
async fn app_fields_on_the_user_migrate_and_round_trip() {
    use std::sync::Arc;
    use turbine_auth::AuthService;
    use turbine_auth::password::PasswordHasher;
    use turbine_orm::Value;
    use turbine_orm::crud::Record;
    use turbine_orm::meta::{FieldMeta, FieldType};
    use turbine_orm::migrate::{MigrateOptions, Progress};
    use turbine_orm::query::{Filter, Query};
    use turbine_orm::testing::TestDb;

    let phone = FieldMeta::new("phone", FieldType::String { max_length: 20 }).nullable();
    let registry = Arc::new(turbine_auth::schema::registry_with(&[phone]).unwrap());
    // What `makemigrations` finds for the app: one added column on the battery's table.
    let base = turbine_auth::schema::migrations().unwrap();
    let ops = migrate::detect(base.state(), &registry, &mut Renames::new()).unwrap();
    let described: Vec<String> = ops.iter().map(|o| o.describe()).collect();
    assert_eq!(described.len(), 1, "{described:?}");
    assert!(described[0].contains("phone"), "{described:?}");
    let app = MigrationSet::new(vec![
        migrate::next_migration(&MigrationSet::new(vec![]).unwrap(), ops, Some("user_phone"))
            .unwrap(),
    ])
    .unwrap();
    let all = MigrationSet::combine([base.clone(), app.on(base.state()).unwrap()]).unwrap();
    let after = migrate::detect(all.state(), &registry, &mut Renames::new()).unwrap();
    assert!(after.is_empty(), "nothing left to migrate");

    for db in TestDb::all().await.unwrap() {
        migrate::migrate(db.db(), &all, &MigrateOptions::new(), &Progress::quiet())
            .await
            .unwrap();
        db.db().set_registry(registry.clone()).unwrap();
        let auth = AuthService::builder(db.db().clone())
            .hasher(PasswordHasher::for_tests())
            .build();
        let ana = auth
            .create_user("ana@example.com", Some("a long passphrase"), |_| {})
            .await
            .unwrap();
        let user = registry.get("auth.User").unwrap();
        let changed = Query::new(user)
            .filter(Filter::eq("id", ana.id))
            .update()
            .set("phone", "+44 20 7946 0000")
            .execute(db.db())
            .await
            .unwrap();
        assert_eq!(changed, 1, "{}", db.name());
        let record = Record::fetch(db.db(), user, ana.id).await.unwrap();
        assert_eq!(
            record.get("phone"),
            Some(&Value::from("+44 20 7946 0000".to_string())),
            "{}",
            db.name()
        );
        // The typed user, logins and password changes do not mind the extra column.
        let mut row = auth.user(ana.id).await.unwrap();
        auth.authenticate("ana@example.com", "a long passphrase", None)
            .await
            .unwrap();
        auth.set_password(&mut row, "another long passphrase", None, None)
            .await
            .unwrap();
        let record = Record::fetch(db.db(), user, ana.id).await.unwrap();
        assert_eq!(
            record.get("phone"),
            Some(&Value::from("+44 20 7946 0000".to_string())),
            "the battery's writes keep the app's column"
        );
        // `/auth/me` shows it after the battery's fields.
        let json = auth.user_json(&row).await.unwrap();
        assert_eq!(json["phone"], "+44 20 7946 0000", "{json}");
        assert_eq!(json["email"], "ana@example.com");
        assert!(json.get("password").is_none());
        db.close().await;
    }
}

#[test]
fn user_fields_the_battery_could_not_insert_are_refused() {
    use turbine_orm::meta::{FieldMeta, FieldType};
    let err = |f: FieldMeta| {
        turbine_auth::schema::user_meta(&[f])
            .unwrap_err()
            .to_string()
    };
    let e = err(FieldMeta::new(
        "phone",
        FieldType::String { max_length: 20 },
    ));
    assert!(e.contains("nullable") && e.contains("phone"), "{e}");
    let e = err(FieldMeta::new("is_staff", FieldType::Bool).nullable());
    assert!(e.contains("already has"), "{e}");
    let e = err(FieldMeta::many_to_many("friends", "auth.User"));
    assert!(e.contains("many-to-many"), "{e}");
    let ok = FieldMeta::new("karma", FieldType::I64);
    let mut ok = ok;
    ok.db_default = Some("0".into());
    assert!(turbine_auth::schema::user_meta(&[ok]).is_ok());
}
