//! The autodetector without a database: no changes → no operations, renames only when
//! confirmed, dependency order, and the errors that ask the developer for a decision.

mod migrate_models;
mod migrate_support;

use migrate_support::{Project, registry};
use turbine_orm::meta::{Choice, FieldMeta, FieldType, ModelMeta, OnDelete, Ordering};
use turbine_orm::migrate::{self, Operation, Renames, State};

fn user() -> ModelMeta {
    ModelMeta::new("auth", "User")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("email", FieldType::String { max_length: 254 }).unique())
}

fn post(title: &str) -> ModelMeta {
    ModelMeta::new("blog", "Post")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new(title, FieldType::String { max_length: 200 }))
        .field(FieldMeta::foreign_key(
            "author",
            "auth.User",
            OnDelete::Cascade,
        ))
}

fn describe(ops: &[Operation]) -> Vec<String> {
    ops.iter().map(Operation::describe).collect()
}

fn detect(
    project: &Project,
    models: &[ModelMeta],
    renames: Renames,
) -> turbine_orm::Result<Vec<Operation>> {
    let mut renames = renames;
    migrate::detect(project.set().state(), &registry(models), &mut renames)
}

#[test]
fn unchanged_models_make_no_migration_even_when_only_labels_change() {
    let project = migrate_models::project();
    let last = migrate_models::models(migrate_models::STEPS);
    assert!(project.up_to_date(&last));
    // What only people see (labels, help, choices, ordering, ORM defaults) is not a migration.
    let mut cosmetic = last.clone();
    cosmetic[0] = cosmetic[0]
        .clone()
        .verbose_names("member", "members")
        .ordering([Ordering::desc("email")]);
    let email = cosmetic[0]
        .fields
        .iter_mut()
        .find(|f| f.name == "email")
        .unwrap();
    *email = email
        .clone()
        .label("E-mail")
        .help_text("Where we write")
        .choices([Choice::new("a@x.org", "A")])
        .related_name("x");
    let views = cosmetic[1]
        .fields
        .iter_mut()
        .find(|f| f.name == "views")
        .unwrap();
    *views = views.clone().default_value(42);
    assert!(project.up_to_date(&cosmetic));
}

#[test]
fn a_likely_field_rename_is_never_guessed() {
    let mut project = Project::default();
    project.make(&[user(), post("title")], Renames::new());
    let err = detect(&project, &[user(), post("headline")], Renames::new()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("blog.Post.title may have been renamed to headline"),
        "{text}"
    );
    assert!(text.contains("--rename blog.Post.title=headline"), "{text}");

    for flag in [
        "blog.Post.title=headline",
        "Post.title=headline",
        "title=headline",
    ] {
        let ops = detect(
            &project,
            &[user(), post("headline")],
            Renames::new().rename(flag).unwrap(),
        )
        .unwrap();
        assert_eq!(
            describe(&ops),
            ["Rename field title on blog.Post to headline"],
            "{flag}"
        );
    }
    let ops = detect(
        &project,
        &[user(), post("headline")],
        Renames::new().yes_to_all(),
    )
    .unwrap();
    assert!(matches!(&ops[..], [Operation::RenameField { column, .. }] if column == "headline"));
}

#[test]
fn declining_a_rename_removes_and_adds() {
    let mut project = Project::default();
    let with = |name: &str| post("title").field(FieldMeta::new(name, FieldType::Text).nullable());
    project.make(&[user(), with("notes")], Renames::new());
    let ops = detect(
        &project,
        &[user(), with("remarks")],
        Renames::new().no_to_all(),
    )
    .unwrap();
    assert_eq!(
        describe(&ops),
        [
            "Add field remarks to blog.Post",
            "Remove field notes from blog.Post"
        ]
    );
    // A flag renaming the field to something else declines this pairing too.
    let err = detect(
        &project,
        &[user(), with("remarks")],
        Renames::new().rename("notes=other").unwrap(),
    );
    assert_eq!(
        describe(&err.unwrap()),
        [
            "Add field remarks to blog.Post",
            "Remove field notes from blog.Post"
        ]
    );
}

#[test]
fn a_model_rename_with_the_flag_renames_its_join_table_too() {
    let tag = ModelMeta::new("blog", "Tag").field(FieldMeta::auto_id());
    let article = |name: &str| {
        ModelMeta::new("blog", name)
            .field(FieldMeta::auto_id())
            .field(FieldMeta::many_to_many("tags", "blog.Tag"))
    };
    let mut project = Project::default();
    project.make(&[tag.clone(), article("Post")], Renames::new());
    let err = detect(&project, &[tag.clone(), article("Article")], Renames::new()).unwrap_err();
    assert!(
        err.to_string().contains("--rename blog.Post=blog.Article"),
        "{err}"
    );

    let ops = detect(
        &project,
        &[tag.clone(), article("Article")],
        Renames::new().yes_to_all(),
    )
    .unwrap();
    assert_eq!(
        describe(&ops),
        [
            "Rename model blog.Post to blog.Article",
            "Rename model blog.Post_tags to blog.Article_tags",
            "Rename field post on blog.Article_tags to article",
            "Remove unique constraint blog_post_tags_post_tag_uniq from blog.Article_tags",
            "Create unique constraint blog_article_tags_article_tag_uniq on blog.Article_tags (article, tag)",
        ]
    );
    assert!(matches!(&ops[0], Operation::RenameModel { table, .. } if table == "blog_article"));
    project.add(ops);
    assert!(project.up_to_date(&[tag, article("Article")]));
}

#[test]
fn a_new_non_null_field_without_a_default_asks_for_one() {
    let mut project = Project::default();
    project.make(&[user()], Renames::new());
    let with = |f: FieldMeta| user().field(f);
    let err = detect(
        &project,
        &[with(FieldMeta::new("age", FieldType::I32))],
        Renames::new(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("auth.User.age"), "{text}");
    assert!(
        text.contains("default") && text.contains("db_default"),
        "{text}"
    );
    // Any of the ways out works.
    for f in [
        FieldMeta::new("age", FieldType::I32).default_value(0),
        FieldMeta::new("age", FieldType::I32).db_default("0"),
        FieldMeta::new("age", FieldType::I32).nullable(),
    ] {
        let ops = detect(&project, &[with(f)], Renames::new()).unwrap();
        assert_eq!(describe(&ops), ["Add field age to auth.User"]);
    }
    // A default of the wrong type is named.
    let bad = FieldMeta::new("age", FieldType::I32).default_value("old");
    let err = detect(&project, &[with(bad)], Renames::new()).unwrap_err();
    assert!(err.to_string().contains("auth.User.age"), "{err}");
}

#[test]
fn targets_of_foreign_keys_are_created_first_and_deleted_last() {
    let mut project = Project::default();
    // Registered before its target.
    let ops = project
        .make(&[post("title"), user()], Renames::new())
        .operations;
    assert_eq!(
        describe(&ops),
        ["Create model auth.User", "Create model blog.Post"]
    );
    let ops = detect(&project, &[], Renames::new()).unwrap();
    assert_eq!(
        describe(&ops),
        ["Delete model blog.Post", "Delete model auth.User"]
    );
}

#[test]
fn a_cycle_of_foreign_keys_adds_one_key_after_both_tables() {
    let a = ModelMeta::new("x", "A")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::foreign_key("b", "x.B", OnDelete::SetNull).nullable());
    let b = ModelMeta::new("x", "B")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::foreign_key("a", "x.A", OnDelete::Cascade));
    let mut project = Project::default();
    let ops = project
        .make(&[a.clone(), b.clone()], Renames::new())
        .operations;
    assert_eq!(
        describe(&ops),
        ["Create model x.A", "Create model x.B", "Add field b to x.A"]
    );
    assert!(project.up_to_date(&[a, b]));
}

#[test]
fn many_to_many_creates_the_join_model_after_both_sides() {
    let tag = ModelMeta::new("blog", "Tag").field(FieldMeta::auto_id());
    let mut project = Project::default();
    project.make(&[user(), tag.clone()], Renames::new());
    let with_tags = user().field(FieldMeta::many_to_many("tags", "blog.Tag"));
    let ops = project
        .make(&[with_tags.clone(), tag.clone()], Renames::new())
        .operations;
    assert_eq!(
        describe(&ops),
        ["Create model auth.User_tags", "Add field tags to auth.User",]
    );
    assert!(project.up_to_date(&[with_tags, tag]));
}

#[test]
fn destructive_changes_are_recognised() {
    let mut project = Project::default();
    project.make(&[user()], Renames::new());
    let state = project.set().state().clone();
    let alter = |f: FieldMeta| Operation::AlterField {
        model: "auth.User".into(),
        field: f,
    };
    let cases = [
        (FieldType::String { max_length: 300 }, false),
        (FieldType::Text, false),
        (FieldType::String { max_length: 10 }, true),
        (FieldType::I64, true),
    ];
    for (ty, destructive) in cases {
        let f = FieldMeta::new("email", ty.clone()).unique();
        assert_eq!(alter(f).is_destructive(&state), destructive, "{ty:?}");
    }
    let remove = Operation::RemoveField {
        model: "auth.User".into(),
        field: "email".into(),
    };
    assert!(remove.is_destructive(&state));
    assert!(
        Operation::DeleteModel {
            model: "auth.User".into()
        }
        .is_destructive(&state)
    );
    // Forbidding NULL loses nothing when a default fills the NULLs.
    let mut nullable = project.set().state().clone();
    alter(FieldMeta::new("email", FieldType::String { max_length: 254 }).nullable())
        .apply_to_state(&mut nullable)
        .unwrap();
    let strict = FieldMeta::new("email", FieldType::String { max_length: 254 });
    assert!(alter(strict.clone()).is_destructive(&nullable));
    assert!(!alter(strict.default_value("none@x.org")).is_destructive(&nullable));
    assert!(
        !Operation::AddField {
            model: "auth.User".into(),
            field: FieldMeta::new("age", FieldType::I32).nullable()
        }
        .is_destructive(&State::new())
    );
}
