//! The SQL queries render to on each dialect, without a database: values always bound, text
//! lookups per backend, JSON keys, joins, sub-selects, aggregate casts, keyset conditions.

mod common;

use common::*;
use turbine_orm::backend::Dialect::{Postgres, Sqlite};
use turbine_orm::query::{Agg, Cursor, Query};
use turbine_orm::{Model, ModelExt, Value};

const COLS: &str = r#""id", "title", "body", "status", "views", "rating", "author_id", "editor_id", "reply_to_id", "data", "created_at", "updated_at""#;

#[test]
fn filters_bind_every_value() {
    let qs = Post::objects()
        .filter(Post::TITLE.icontains("50%_off") & !Post::STATUS.eq(Status::Draft))
        .filter(Post::VIEWS.gte(10) | Post::EDITOR.is_null())
        .order_by([Post::CREATED_AT.desc().nulls_last(), Post::ID.asc()])
        .limit(20)
        .offset(40);
    let pg = qs.to_statement(Postgres).unwrap();
    assert_eq!(
        pg.sql,
        format!(
            r#"SELECT {COLS} FROM "blog_post" WHERE ("title" ILIKE $1 ESCAPE '!') AND (NOT "status" = $2) AND ("views" >= $3 OR "editor_id" IS NULL) ORDER BY "created_at" DESC NULLS LAST, "id" ASC LIMIT $4 OFFSET $5"#
        )
    );
    assert_eq!(
        pg.values.as_slice(),
        [
            Value::from("%50!%!_off%"),
            Value::from("draft"),
            Value::BigInt(Some(10)),
            Value::BigUnsigned(Some(20)),
            Value::BigUnsigned(Some(40)),
        ]
    );
    let lite = qs.to_statement(Sqlite).unwrap();
    assert!(
        lite.sql.contains(r#"WHERE ("title" GLOB ?) AND"#),
        "{}",
        lite.sql
    );
    assert_eq!(lite.values[0], Value::from("*50%_[oO][fF][fF]*"));
}

#[test]
fn negation_keeps_rows_where_a_nullable_field_is_null() {
    let sql = |q| Post::objects().filter(q).to_statement(Sqlite).unwrap().sql;
    assert!(sql(!Post::RATING.gt(3.0)).ends_with(
        r#"WHERE NOT ("rating" > ? AND "rating" IS NOT NULL) ORDER BY "created_at" DESC, "id" DESC"#
    ));
    assert!(sql(Post::RATING.ne(3.0)).contains(r#"WHERE "rating" <> ? OR "rating" IS NULL"#));
    // Non-nullable fields need no guard.
    assert!(sql(!Post::VIEWS.gt(3)).contains(r#"WHERE NOT "views" > ?"#));
}

#[test]
fn json_keys_per_dialect() {
    let q = Post::objects().filter(Post::DATA.key("meta").key("k").eq("v"));
    let pg = q.to_statement(Postgres).unwrap();
    assert!(
        pg.sql
            .contains(r#"WHERE ("data" -> CAST($1 AS TEXT) -> CAST($2 AS TEXT)) = $3"#),
        "{}",
        pg.sql
    );
    assert_eq!(
        pg.values[2],
        Value::Json(Some(Box::new(serde_json::json!("v"))))
    );
    let lite = q.to_statement(Sqlite).unwrap();
    assert!(
        lite.sql.contains(r#"WHERE ("data" ->> ?) = ?"#),
        "{}",
        lite.sql
    );
    assert_eq!(
        lite.values.as_slice(),
        [Value::from(r#"$."meta"."k""#), Value::from("v")]
    );
}

#[test]
fn select_related_joins_with_aliases() {
    let stmt = Post::objects()
        .select_related(Post::AUTHOR)
        .select_related(Post::REPLY_TO)
        .filter(Post::VIEWS.gt(1))
        .to_statement(Postgres)
        .unwrap();
    assert!(
        stmt.sql
            .contains(r#""j_author"."email" AS "author__email""#),
        "{}",
        stmt.sql
    );
    assert!(stmt.sql.contains(
        r#"FROM "blog_post" INNER JOIN "auth_user" AS "j_author" ON "j_author"."id" = "blog_post"."author_id" LEFT JOIN "blog_post" AS "j_reply_to" ON "j_reply_to"."id" = "blog_post"."reply_to_id" WHERE "blog_post"."views" > $1"#
    ), "{}", stmt.sql);
}

#[test]
fn lookups_through_foreign_keys_are_sub_selects() {
    let stmt = Post::objects()
        .filter(Post::AUTHOR.has(User::NAME.eq("Alice") & User::ACTIVE.eq(true)))
        .to_statement(Postgres)
        .unwrap();
    assert!(
        stmt.sql.contains(r#"WHERE "author_id" IN (SELECT "id" FROM "auth_user" WHERE "name" = $1 AND "active" = $2)"#),
        "{}",
        stmt.sql
    );
}

#[test]
fn bulk_writes_and_aggregates() {
    let upd = Post::objects()
        .filter(Post::STATUS.eq(Status::Live))
        .update()
        .set(Post::VIEWS, Post::VIEWS + 1)
        .to_statement(Postgres)
        .unwrap();
    assert_eq!(
        upd.sql,
        r#"UPDATE "blog_post" SET "views" = "views" + $1 WHERE "status" = $2"#
    );
    let limited = Post::objects()
        .order_by([Post::VIEWS.desc()])
        .limit(3)
        .query()
        .delete_statement(Sqlite)
        .unwrap();
    assert_eq!(
        limited.sql,
        r#"DELETE FROM "blog_post" WHERE "id" IN (SELECT "id" FROM "blog_post" ORDER BY "views" DESC LIMIT ?)"#
    );
    let agg = Query::new(Post::meta())
        .aggregate_statement(
            Postgres,
            &[
                Post::VIEWS.sum().into(),
                Post::VIEWS.avg().into(),
                Agg::<Post>::count_all().into(),
            ],
        )
        .unwrap();
    assert_eq!(
        agg.sql,
        r#"SELECT CAST(SUM("views") AS BIGINT) AS "views__sum", CAST(AVG("views") AS DOUBLE PRECISION) AS "views__avg", COUNT(*) AS "count" FROM "blog_post""#
    );
}

#[test]
fn keyset_conditions_follow_the_ordering_and_the_backend_nulls() {
    let cursor = Cursor::new(vec![Value::Double(Some(2.0)), Value::BigInt(Some(7))]);
    let q = Post::objects()
        .order_by([Post::RATING.asc()])
        .after(&cursor);
    // Postgres sorts NULLs last ascending: rows with NULL rating come after any value.
    let pg = q.to_statement(Postgres).unwrap();
    assert!(
        pg.sql.contains(r#"WHERE "rating" > $1 OR "rating" IS NULL OR ("rating" = $2 AND "id" > $3) ORDER BY "rating" ASC, "id" ASC"#),
        "{}",
        pg.sql
    );
    // SQLite sorts them first: they are already behind.
    let lite = q.to_statement(Sqlite).unwrap();
    assert!(
        lite.sql
            .contains(r#"WHERE "rating" > ? OR ("rating" = ? AND "id" > ?)"#),
        "{}",
        lite.sql
    );
}
