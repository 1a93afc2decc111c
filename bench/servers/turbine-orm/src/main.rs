//! Turbine with its ORM under the TechEmpower database tests, written as an application would:
//! models with `#[derive(Model)]`, the ORM battery, the `Db` extractor, typed queries, and the
//! fortunes page through a minijinja template with auto-escaping.
//!
//! - `/db`: `World::get(&db, id)`;
//! - `/queries?queries=N`: N `World::get` issued together (`try_join_all`), each its own query on
//!   a pooled connection;
//! - `/fortunes`: `Fortune::objects().all(&db)`, plus the request-time fortune, sorted by
//!   message, rendered by minijinja;
//! - `/updates?queries=N`: N reads as above, a new number that differs from the old one for each,
//!   then one `World::bulk_update(&db, &mut worlds, [World::RANDOMNUMBER])` with the rows sorted
//!   by id (one `UPDATE … SET randomnumber = CASE … END WHERE id IN (…)`; sorted, so concurrent
//!   requests lock rows in the same order).
//!
//! Everything else (CLI, config, the `Server` and `Date` headers, the production middleware
//! stack) is Turbine's default. `bench/run --db` starts it as `TURBINE_ENV=prod
//! TURBINE_SECRET_KEY=… TURBINE_SERVER__ALLOWED_HOSTS='["*"]'
//! TURBINE_DATABASE__URL='postgres://…/turbine_bench?pool_size=16' bench-turbine-orm serve
//! --host 127.0.0.1 --port 8086` (see bench/db/servers). A crate of its own, so `bench-turbine`
//! (plaintext and JSON) stays exactly as it was measured.

use std::sync::LazyLock;

use axum::extract::RawQuery;
use axum::response::Html;
use bench_tfb::{ADDED_FORTUNE, new_random_number, queries_param, random_id};
use futures_util::future::try_join_all;
use serde::Serialize;
use turbine::prelude::*;

/// A `world` row; serialized as TechEmpower expects (`randomNumber`).
#[derive(Model, Serialize, Debug, Clone)]
#[model(app = "bench", table = "world")]
struct World {
    id: i32,
    #[serde(rename = "randomNumber")]
    randomnumber: i32,
}

/// A `fortune` row.
#[derive(Model, Serialize, Debug, Clone)]
#[model(app = "bench", table = "fortune")]
struct Fortune {
    id: i32,
    #[field(max_length = 2048)]
    message: String,
}

/// The TechEmpower fortunes page (`.html`: minijinja auto-escapes it).
static TEMPLATES: LazyLock<minijinja::Environment<'static>> = LazyLock::new(|| {
    let mut env = minijinja::Environment::new();
    env.add_template(
        "fortunes.html",
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>\
         <tr><th>id</th><th>message</th></tr>{% for f in fortunes %}<tr><td>{{ f.id }}</td>\
         <td>{{ f.message }}</td></tr>{% endfor %}</table></body></html>",
    )
    .expect("the fortunes template parses");
    env
});

async fn random_worlds(db: &Db, n: usize) -> turbine::orm::Result<Vec<World>> {
    try_join_all((0..n).map(|_| World::get(db, random_id()))).await
}

async fn single(db: Db) -> turbine::orm::Result<Json<World>> {
    Ok(Json(World::get(&db, random_id()).await?))
}

async fn queries(db: Db, RawQuery(q): RawQuery) -> turbine::orm::Result<Json<Vec<World>>> {
    Ok(Json(random_worlds(&db, queries_param(q.as_deref())).await?))
}

async fn fortunes(db: Db) -> Result<Html<String>> {
    let mut fortunes = Fortune::objects().all(&db).await?;
    fortunes.push(Fortune {
        id: 0,
        message: ADDED_FORTUNE.into(),
    });
    fortunes.sort_unstable_by(|a, b| a.message.cmp(&b.message));
    let html = TEMPLATES
        .get_template("fortunes.html")
        .and_then(|t| t.render(minijinja::context! { fortunes => minijinja::Value::from(minijinja::value::Serde(&fortunes)) }))
        .map_err(|e| Error::other("template", e))?;
    Ok(Html(html))
}

async fn updates(db: Db, RawQuery(q): RawQuery) -> turbine::orm::Result<Json<Vec<World>>> {
    let mut worlds = random_worlds(&db, queries_param(q.as_deref())).await?;
    for w in &mut worlds {
        w.randomnumber = new_random_number(w.randomnumber);
    }
    worlds.sort_unstable_by_key(|w| w.id);
    World::bulk_update(&db, &mut worlds, [World::RANDOMNUMBER.into()]).await?;
    Ok(Json(worlds))
}

#[tokio::main]
async fn main() -> turbine::Result<()> {
    LazyLock::force(&TEMPLATES);
    App::new()
        .battery(Orm::new().model::<World>().model::<Fortune>())
        .route("/db", get(single))
        .route("/queries", get(queries))
        .route("/fortunes", get(fortunes))
        .route("/updates", get(updates))
        .run()
        .await
}
