//! The models of the migration tests, as they change migration by migration: `models(n)` is the
//! app after its `n`th change, and [`project`] the migrations `makemigrations` makes for them.

#![allow(dead_code, unreachable_pub)]

use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta, OnDelete};
use turbine_orm::migrate::{Operation, Renames, RunSql};

use crate::migrate_support::Project;

/// How many migrations [`project`] makes.
pub const STEPS: usize = 18;

/// The models after change `step` (1 = the initial models).
pub fn models(step: usize) -> Vec<ModelMeta> {
    let user = ModelMeta::new("auth", "User")
        .field(FieldMeta::auto_id())
        .field(
            FieldMeta::new(
                "email",
                FieldType::String {
                    max_length: if step >= 12 { 254 } else { 100 },
                },
            )
            .unique(),
        );
    let title = if step >= 7 { "headline" } else { "title" };
    let mut post = ModelMeta::new("blog", "Post")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new(
            title,
            FieldType::String {
                max_length: if step >= 5 { 300 } else { 200 },
            },
        ));
    let body = FieldMeta::new("body", FieldType::Text);
    post = post
        .field(if step >= 5 {
            body.default_value("")
        } else {
            body.nullable()
        })
        .field(FieldMeta::foreign_key(
            "author",
            "auth.User",
            OnDelete::Cascade,
        ));
    if (2..14).contains(&step) {
        let f = FieldMeta::new("subtitle", FieldType::String { max_length: 100 }).nullable();
        post = post.field(if step >= 6 { f.unique() } else { f });
    }
    if step >= 3 {
        let f = FieldMeta::new("views", FieldType::I32).default_value(7);
        post = post.field(if (6..13).contains(&step) {
            f.index()
        } else {
            f
        });
    }
    if step >= 4 {
        post = post.field(
            FieldMeta::new("status", FieldType::String { max_length: 16 }).db_default("'draft'"),
        );
    }
    if step >= 11 {
        post =
            post.field(FieldMeta::foreign_key("editor", "auth.User", OnDelete::SetNull).nullable());
    }
    if (9..13).contains(&step) {
        post = post
            .unique_together(&["author", "headline"])
            .index(&["status", "views"]);
    }
    if (10..13).contains(&step) {
        post = post.check("blog_post_views_nonneg", "views >= 0");
    }
    if step >= 18 {
        post = post.trigram_index(&["headline", "body"]);
    }
    let mut tag = ModelMeta::new("blog", if step >= 8 { "Label" } else { "Tag" })
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("name", FieldType::String { max_length: 50 }));
    if step >= 15 {
        tag = tag.table("labels");
    }
    let mut out = vec![user, post];
    if step < 17 {
        out.push(tag);
    }
    out
}

/// The flags `makemigrations` gets at `step`.
pub fn renames(step: usize) -> Renames {
    match step {
        7 => Renames::new().rename("blog.Post.title=headline").unwrap(),
        8 => Renames::new().rename("blog.Tag=blog.Label").unwrap(),
        _ => Renames::new(),
    }
}

/// The tables the models use at `step`.
pub fn label_table(step: usize) -> &'static str {
    match step {
        ..8 => "blog_tag",
        8..15 => "blog_label",
        _ => "labels",
    }
}

/// One migration per change; change 16 is a hand-written data migration.
pub fn project() -> Project {
    let mut project = Project::default();
    for step in 1..=STEPS {
        if step == 16 {
            project.add(vec![Operation::RunSql(
                RunSql::new("UPDATE blog_post SET views = views + 1")
                    .reverse("UPDATE blog_post SET views = views - 1"),
            )]);
        } else {
            project.make(&models(step), renames(step));
        }
        assert!(project.up_to_date(&models(step)), "after step {step}");
    }
    project
}

/// Migrations that lose data (and need `--allow-destructive`).
pub fn destructive(step: usize) -> bool {
    matches!(step, 14 | 17)
}
