//! Migration files: what `makemigrations` writes reads back as the same operations, a second run
//! writes nothing, the embedded list matches the folder, and broken histories are refused.

mod migrate_models;
mod migrate_support;

use std::path::Path;

use migrate_support::registry;
use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta, OnDelete};
use turbine_orm::migrate::{
    self, MakeOptions, Migration, MigrationConfig, MigrationSet, Operation, RunSql,
};

fn config(dir: &Path, step: usize) -> MigrationConfig {
    MigrationConfig::new(dir, registry(&migrate_models::models(step)))
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn makemigrations_writes_files_that_read_back_and_a_second_run_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    let expected = migrate_models::project();
    for step in 1..=migrate_models::STEPS {
        if step == 16 {
            // The hand-written data migration: an empty one, filled in.
            let m = migrate::makemigrations(
                &config(&dir, step),
                MakeOptions::new().empty(true),
                &mut Vec::new(),
            )
            .unwrap()
            .unwrap();
            let mut filled = m.clone();
            filled.name = expected.migrations[15].name.clone();
            filled.operations = expected.migrations[15].operations.clone();
            std::fs::remove_file(dir.join(format!("{}.json", m.name))).unwrap();
            std::fs::write(
                dir.join(format!("{}.json", filled.name)),
                filled.to_json().unwrap(),
            )
            .unwrap();
            migrate::write_embed(&dir).unwrap();
            continue;
        }
        let mut out = Vec::new();
        let options = MakeOptions::new().renames(migrate_models::renames(step));
        let written = migrate::makemigrations(&config(&dir, step), options, &mut out)
            .unwrap()
            .unwrap_or_else(|| panic!("step {step}: a migration"));
        let want = &expected.migrations[step - 1];
        assert_eq!(written.operations, want.operations, "step {step}");
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(&format!("{}.json", written.name)), "{text}");
        // The second run finds nothing to do and writes nothing.
        let before = files(&dir);
        let mut out = Vec::new();
        let again =
            migrate::makemigrations(&config(&dir, step), MakeOptions::new(), &mut out).unwrap();
        assert!(again.is_none());
        assert_eq!(String::from_utf8(out).unwrap(), "No changes detected\n");
        assert_eq!(files(&dir), before);
    }
    // Everything read back from the folder is what was made.
    let read = MigrationSet::from_dir(&dir).unwrap();
    let ops: Vec<_> = read
        .migrations()
        .iter()
        .map(|m| m.operations.clone())
        .collect();
    let want: Vec<_> = expected
        .migrations
        .iter()
        .map(|m| m.operations.clone())
        .collect();
    assert_eq!(ops, want);
    assert_eq!(read.state(), expected.set().state());
    // embed.rs lists every file.
    let embed = std::fs::read_to_string(dir.join(migrate::EMBED_FILE)).unwrap();
    for m in read.migrations() {
        assert!(embed.contains(&format!("include_str!(\"{}.json\")", m.name)));
    }
}

#[test]
fn the_embedded_migrations_are_the_folder_s() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrations");
    let embedded = turbine_orm::migrations!("tests/fixtures/migrations").unwrap();
    let read = MigrationSet::from_dir(&dir).unwrap();
    assert_eq!(embedded.migrations(), read.migrations());
    assert_eq!(embedded.migrations().len(), 3);
    // The list is what the writer produces for these files.
    let names: Vec<String> = files(&dir)
        .into_iter()
        .filter(|f| f.ends_with(".json"))
        .collect();
    assert_eq!(
        std::fs::read_to_string(dir.join("embed.rs")).unwrap(),
        migrate::embed_source(&names)
    );
    assert_eq!(
        read.migrations()[..],
        migrate_models::project().migrations[..3]
    );
}

#[test]
fn files_hold_only_what_differs_from_the_defaults() {
    let field = FieldMeta::foreign_key("author", "auth.User", OnDelete::Cascade)
        .label("Writer")
        .help_text("who wrote it");
    let op = Operation::AddField {
        model: "blog.Post".into(),
        field: migrate::normalize(&ModelMeta::new("blog", "Post").field(field)).fields[0].clone(),
    };
    let text = serde_json::to_string_pretty(&op).unwrap();
    assert_eq!(
        text,
        r#"{
  "op": "add_field",
  "model": "blog.Post",
  "field": {
    "name": "author",
    "ty": {
      "type": "i64"
    },
    "column": "author_id",
    "index": true,
    "relation": {
      "kind": "foreign_key",
      "to": "auth.User",
      "on_delete": "cascade"
    }
  }
}"#
    );
}

#[test]
fn a_trigram_index_names_its_kind_in_the_file_and_a_b_tree_index_does_not() {
    let post = ModelMeta::new("blog", "Post")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("title", FieldType::Text))
        .index(&["title"])
        .trigram_index(&["title"]);
    let add = |i: usize| Operation::AddIndex {
        model: "blog.Post".into(),
        name: post.indexes[i].name.clone(),
        fields: post.indexes[i].fields.clone(),
        kind: post.indexes[i].kind,
    };
    let text = serde_json::to_string(&add(0)).unwrap();
    assert_eq!(
        text,
        r#"{"op":"add_index","model":"blog.Post","name":"blog_post_title_idx","fields":["title"]}"#
    );
    let text = serde_json::to_string(&add(1)).unwrap();
    assert_eq!(
        text,
        r#"{"op":"add_index","model":"blog.Post","name":"blog_post_title_trgm","fields":["title"],"kind":"trigram"}"#
    );
    let create = Operation::CreateModel {
        model: post.clone(),
    };
    let m = Migration::new("0001_initial", None, vec![create, add(1)]);
    let text = m.to_json().unwrap();
    assert_eq!(text.matches(r#""kind": "trigram""#).count(), 2, "{text}");
    let back = Migration::parse(&text).unwrap();
    assert_eq!(back, m);
}

#[test]
fn every_operation_round_trips_through_its_file() {
    let model = ModelMeta::new("shop", "Item")
        .field(FieldMeta::uuid_id())
        .field(
            FieldMeta::new(
                "price",
                FieldType::Decimal {
                    precision: 10,
                    scale: 2,
                },
            )
            .db_default("0"),
        )
        .field(
            FieldMeta::new("data", FieldType::Json)
                .default_value(serde_json::json!({"a": [1, null]})),
        )
        .unique_together(&["price", "data"])
        .check("shop_item_price", "price >= 0");
    let ops = vec![
        Operation::CreateModel {
            model: model.clone(),
        },
        Operation::AddField {
            model: "shop.Item".into(),
            field: FieldMeta::new("n", FieldType::I16).nullable(),
        },
        Operation::AlterField {
            model: "shop.Item".into(),
            field: FieldMeta::new("n", FieldType::I32).nullable().index(),
        },
        Operation::RenameField {
            model: "shop.Item".into(),
            from: "n".into(),
            to: "count".into(),
            column: "count".into(),
        },
        Operation::AddIndex {
            model: "shop.Item".into(),
            name: "shop_item_count_idx2".into(),
            fields: vec!["count".into()],
            kind: turbine_orm::meta::IndexKind::BTree,
        },
        Operation::RemoveIndex {
            model: "shop.Item".into(),
            name: "shop_item_count_idx2".into(),
        },
        Operation::RemoveUnique {
            model: "shop.Item".into(),
            name: model.indexes[0].name.clone(),
        },
        Operation::AddUnique {
            model: "shop.Item".into(),
            name: "shop_item_count_uniq".into(),
            fields: vec!["count".into()],
        },
        Operation::RemoveCheck {
            model: "shop.Item".into(),
            name: "shop_item_price".into(),
        },
        Operation::AddCheck {
            model: "shop.Item".into(),
            name: "shop_item_count".into(),
            sql: "count > 0".into(),
        },
        Operation::RunSql(RunSql::per_backend("SELECT 1", "SELECT 2").reverse("")),
        Operation::RemoveField {
            model: "shop.Item".into(),
            field: "data".into(),
        },
        Operation::AlterModelTable {
            model: "shop.Item".into(),
            table: "items".into(),
        },
        Operation::RenameModel {
            from: "shop.Item".into(),
            to: "shop.Product".into(),
            table: "products".into(),
        },
        Operation::DeleteModel {
            model: "shop.Product".into(),
        },
    ];
    let m = Migration::new("0001_initial", None, ops);
    let back = Migration::parse(&m.to_json().unwrap()).unwrap();
    assert_eq!(back, m);
    let set = MigrationSet::new(vec![back]).unwrap();
    assert!(set.state().models().is_empty());
}

#[test]
fn broken_files_and_histories_are_refused_with_the_reason() {
    let op = |model: &str| Operation::CreateModel {
        model: ModelMeta::new("a", model).field(FieldMeta::auto_id()),
    };
    let m = |name: &str, deps: &[&str], ops| {
        Migration::new(name, deps.iter().map(|d| d.to_string()), ops)
    };
    let err = MigrationSet::new(vec![
        m("0001_initial", &[], vec![op("A")]),
        m("0002_b", &["0001_initial"], vec![op("B")]),
        m("0002_c", &["0001_initial"], vec![op("C")]),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("made side by side"), "{err}");
    let err = MigrationSet::new(vec![m("0001_initial", &[], vec![op("A"), op("A")])]).unwrap_err();
    assert!(
        err.to_string().contains("0001_initial, operation 2"),
        "{err}"
    );
    let err = Migration::parse(r#"{"name": "x", "operations": [{"op": "drop_everything"}]}"#)
        .unwrap_err();
    assert!(err.to_string().contains("drop_everything"), "{err}");
    let err =
        MigrationSet::from_embedded(&[("0001_a.json", r#"{"name": "0001_b", "operations": []}"#)])
            .unwrap_err();
    assert!(
        err.to_string()
            .contains("a migration's name is its file name"),
        "{err}"
    );
    let err = Migration::parse(
        r#"{"name": "x", "operations": [{"op": "add_field", "model": "a.A", "field": {"name": "f", "ty": {"type": "text"}, "colour": "red"}}]}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("colour"), "{err}");
}

/// An app's migration may add a column to a battery's model: reading the app's set alone leaves
/// that operation for `on`, which checks it against the battery's state (and refuses it on an
/// empty one).
#[test]
fn operations_on_another_sets_model_are_checked_on_its_state() {
    let base = MigrationSet::new(vec![Migration::new(
        "auth.0001_initial",
        Vec::<String>::new(),
        vec![Operation::CreateModel {
            model: ModelMeta::new("auth", "User")
                .field(FieldMeta::auto_id())
                .field(FieldMeta::new(
                    "email",
                    FieldType::String { max_length: 254 },
                )),
        }],
    )])
    .unwrap();
    let add_phone = Migration::new(
        "0001_user_phone",
        Vec::<String>::new(),
        vec![Operation::AddField {
            model: "auth.User".into(),
            field: FieldMeta::new("phone", FieldType::String { max_length: 20 }).nullable(),
        }],
    );
    let app = MigrationSet::new(vec![add_phone]).unwrap();
    let on_base = app.clone().on(base.state()).unwrap();
    let user = on_base.state().get("auth.User").unwrap();
    assert!(user.fields.iter().any(|f| f.name == "phone"));
    let err = app.on(&migrate::State::new()).unwrap_err().to_string();
    assert!(
        err.contains("auth.User") && err.contains("does not exist"),
        "{err}"
    );

    // A dependency on another set's migration is checked when the sets are put together.
    let depends = Migration::new(
        "0001_user_phone",
        vec!["auth.0001_initial".to_string()],
        Vec::new(),
    );
    let app = MigrationSet::new(vec![depends]).unwrap();
    MigrationSet::combine([base.clone(), app.clone()]).unwrap();
    let err = MigrationSet::combine([app]).unwrap_err().to_string();
    assert!(err.contains("auth.0001_initial"), "{err}");

    // Within one set, a model must still exist where it is used.
    let early = Migration::new(
        "0001_early",
        Vec::<String>::new(),
        vec![Operation::AddField {
            model: "shop.Item".into(),
            field: FieldMeta::new("note", FieldType::Text).nullable(),
        }],
    );
    let create = Migration::new(
        "0002_create",
        vec!["0001_early".to_string()],
        vec![Operation::CreateModel {
            model: ModelMeta::new("shop", "Item").field(FieldMeta::auto_id()),
        }],
    );
    assert!(MigrationSet::new(vec![early, create]).is_err());
}

/// `makemigrations` writes down that an app's migration needs a battery's: a foreign key to
/// `auth.User` depends on the latest `auth.…` migration.
#[test]
fn makemigrations_depends_on_the_battery_migrations_it_points_at() {
    let user = ModelMeta::new("auth", "User")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new(
            "email",
            FieldType::String { max_length: 254 },
        ));
    let base = MigrationSet::new(vec![Migration::new(
        "auth.0001_initial",
        Vec::<String>::new(),
        vec![Operation::CreateModel {
            model: user.clone(),
        }],
    )])
    .unwrap();
    let profile = ModelMeta::new("blog", "Profile")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::one_to_one(
            "user",
            "auth.User",
            OnDelete::Cascade,
        ));
    let tmp = tempfile::tempdir().unwrap();
    let config = MigrationConfig::new(tmp.path(), registry(&[user, profile])).base(vec![base]);
    let written = migrate::makemigrations(&config, MakeOptions::new(), &mut Vec::new())
        .unwrap()
        .unwrap();
    assert_eq!(written.dependencies, ["auth.0001_initial"]);
    // It reads back, applies after the battery's, and nothing is left to make.
    let set = config.set().unwrap();
    let names: Vec<&str> = set.migrations().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["auth.0001_initial", "0001_initial"]);
    let again = migrate::makemigrations(&config, MakeOptions::new(), &mut Vec::new()).unwrap();
    assert!(again.is_none());
}
