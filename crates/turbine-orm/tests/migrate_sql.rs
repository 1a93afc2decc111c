//! The SQL each operation renders, without a database: SQLite alters in place only what
//! `ALTER TABLE` can express and rebuilds the table otherwise; Postgres alters in place.

mod migrate_models;
mod migrate_support;

use turbine_orm::backend::Dialect;
use turbine_orm::migrate::{self, MigrationSet, Step};

fn steps(set: &MigrationSet, step: usize, dialect: Dialect) -> Vec<Step> {
    let name = &set.migrations()[step - 1].name;
    migrate::migration_sql(set, name, dialect, false)
        .unwrap()
        .into_iter()
        .flat_map(|(_, steps)| steps)
        .collect()
}

fn sql(steps: &[Step]) -> Vec<String> {
    steps.iter().map(ToString::to_string).collect()
}

/// `true` when the steps copy `table` through `<table>__new`.
fn rebuilds(steps: &[Step], table: &str) -> bool {
    let text = sql(steps);
    let at = |prefix: String| text.iter().position(|s| s.starts_with(&prefix));
    let order = [
        at(format!("CREATE TABLE \"{table}__new\"")),
        at(format!("INSERT INTO \"{table}__new\"")),
        at(format!("DROP TABLE \"{table}\"")),
        at(format!(
            "ALTER TABLE \"{table}__new\" RENAME TO \"{table}\""
        )),
    ];
    order.iter().all(Option::is_some) && order.windows(2).all(|w| w[0] < w[1])
}

#[test]
fn sqlite_rebuilds_only_what_alter_table_cannot_express() {
    let set = migrate_models::project().set();
    let lite = |step| steps(&set, step, Dialect::Sqlite);
    // Plain ALTER TABLE: a nullable column, a rename, a table rename, an index, raw SQL.
    for step in [2, 7, 8, 9, 15, 16, 17] {
        assert!(
            !rebuilds(&lite(step), "blog_post"),
            "step {step}: {:#?}",
            sql(&lite(step))
        );
    }
    assert_eq!(
        sql(&lite(2)),
        ["ALTER TABLE \"blog_post\" ADD COLUMN \"subtitle\" varchar(100) NULL;"]
    );
    assert_eq!(
        sql(&lite(7)),
        ["ALTER TABLE \"blog_post\" RENAME COLUMN \"title\" TO \"headline\";"]
    );
    // The rebuild: a non-null column with a default, a db default, a type change and NULLs
    // forbidden, a unique column, a check, a foreign key, dropping a column with a constraint.
    for step in [3, 4, 5, 6, 10, 11, 13, 14] {
        assert!(
            rebuilds(&lite(step), "blog_post"),
            "step {step}: {:#?}",
            sql(&lite(step))
        );
    }
    let add_views = sql(&lite(3));
    assert!(
        add_views[1].ends_with("SELECT \"id\", \"title\", \"body\", \"author_id\", \"subtitle\", ? FROM \"blog_post\"; -- values: 7"),
        "existing rows get the default, bound: {add_views:#?}"
    );
    let not_null = sql(&lite(5));
    assert!(
        not_null.iter().any(|s| s.contains("COALESCE(\"body\", ?)")),
        "{not_null:#?}"
    );
    // Indexes come back after the rename.
    let with_index = sql(&lite(11));
    let renamed = with_index
        .iter()
        .position(|s| s.contains("RENAME TO \"blog_post\""))
        .unwrap();
    assert!(
        with_index[renamed + 1..]
            .iter()
            .any(|s| s.starts_with("CREATE INDEX \"blog_post_author_id_idx\""))
    );
    // Rebuilding a table other tables reference asks for foreign keys off first.
    let users = lite(12);
    assert!(matches!(&users[0], Step::ForeignKeysOff { table } if table == "auth_user"));
    assert!(rebuilds(&users, "auth_user"));
    assert!(
        !lite(11)
            .iter()
            .any(|s| matches!(s, Step::ForeignKeysOff { .. })),
        "blog_post is not referenced"
    );
}

#[test]
fn postgres_alters_in_place_and_renames_what_is_named_after_the_table() {
    let set = migrate_models::project().set();
    let pg = |step| sql(&steps(&set, step, Dialect::Postgres));
    for step in 1..=migrate_models::STEPS {
        assert!(!pg(step).iter().any(|s| s.contains("__new")), "step {step}");
    }
    assert_eq!(
        pg(3),
        [
            "ALTER TABLE \"blog_post\" ADD COLUMN \"views\" integer NULL;",
            "UPDATE \"blog_post\" SET \"views\" = $1; -- values: 7",
            "ALTER TABLE \"blog_post\" ALTER COLUMN \"views\" SET NOT NULL;",
        ]
    );
    assert_eq!(
        pg(12),
        [
            "ALTER TABLE \"auth_user\" ALTER COLUMN \"email\" TYPE varchar(254) USING \"email\"::varchar(254);"
        ]
    );
    assert_eq!(
        pg(6)[0],
        "ALTER TABLE \"blog_post\" ADD CONSTRAINT \"blog_post_subtitle_key\" UNIQUE (\"subtitle\");"
    );
    assert_eq!(
        pg(11)[1],
        "ALTER TABLE \"blog_post\" ADD CONSTRAINT \"blog_post_editor_id_fk\" FOREIGN KEY (\"editor_id\") REFERENCES \"auth_user\" (\"id\") ON DELETE SET NULL;"
    );
    assert_eq!(
        pg(8),
        [
            "ALTER TABLE \"blog_tag\" RENAME TO \"blog_label\";",
            "ALTER TABLE \"blog_label\" RENAME CONSTRAINT \"blog_tag_pkey\" TO \"blog_label_pkey\";",
        ]
    );
}

#[test]
fn backwards_is_the_reverse_operation_rendered() {
    let set = migrate_models::project().set();
    let name = &set.migrations()[6].name;
    let back = migrate::migration_sql(&set, name, Dialect::Sqlite, true).unwrap();
    assert_eq!(back[0].0, "Rename field headline on blog.Post to title");
    assert_eq!(
        sql(&back[0].1),
        ["ALTER TABLE \"blog_post\" RENAME COLUMN \"headline\" TO \"title\";"]
    );
    // Raw SQL without a reverse cannot be rolled back.
    let mut project = migrate_models::project();
    project.add(vec![migrate::Operation::RunSql(migrate::RunSql::new(
        "DELETE FROM blog_post",
    ))]);
    let set = project.set();
    let last = &set.migrations().last().unwrap().name;
    let err = migrate::migration_sql(&set, last, Dialect::Sqlite, true).unwrap_err();
    assert!(err.to_string().contains("cannot be undone"), "{err}");
}
