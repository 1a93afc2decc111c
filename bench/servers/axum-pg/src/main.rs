//! Hand-written axum 0.8 + tokio-postgres baseline for the TechEmpower database tests.
//!
//! `GET /db`, `/queries?queries=N`, `/fortunes`, `/updates?queries=N` on the `world` and `fortune`
//! tables (`bench/db/setup`), per TechEmpower's rules:
//!
//! - a deadpool-postgres pool of `BENCH_DB_POOL_SIZE` connections (default 16) to
//!   `BENCH_DATABASE_URL`, statements prepared once per connection (`prepare_cached`);
//! - multiple queries: one query per row, all N sent at once on one connection (tokio-postgres
//!   pipelines concurrent queries, a Sync after each);
//! - updates: N single-row reads as above, a new random number that differs from the old one for
//!   each, then one bulk `UPDATE ... FROM unnest(...)` with the ids sorted (so concurrent updates
//!   lock rows in the same order);
//! - fortunes: the 12 rows plus the request-time one, sorted by message, hand-written HTML with
//!   escaping ([`bench_tfb::render_fortunes`]); with `BENCH_FORTUNES_TEMPLATE=minijinja`, rendered
//!   through a minijinja template with auto-escaping instead, as Turbine renders (a variant that
//!   shows what the template engine costs).
//!
//! Every response carries `Server`, hyper's `Date`, `Content-Type` and `Content-Length`.
//! Listens on 127.0.0.1, port from `--port N`, `PORT`, or 8084. Tokio multi-thread runtime with
//! the default worker count (one worker when pinned to one CPU).

use axum::{
    Json, Router,
    extract::{RawQuery, State},
    http::{
        StatusCode,
        header::{HeaderName, SERVER},
    },
    response::{Html, IntoResponse, Response},
    routing::get,
};
use std::sync::OnceLock;

use bench_tfb::{
    ADDED_FORTUNE, Fortune, SELECT_FORTUNES, SELECT_WORLD, Settings, UPDATE_WORLDS, World,
    new_random_number, queries_param, random_id, render_fortunes,
};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use futures_util::future::try_join_all;
use tokio_postgres::{NoTls, Statement};

const DEFAULT_PORT: u16 = 8084;
const SERVER_HEADER: [(HeaderName, &str); 1] = [(SERVER, "axum-pg")];
/// The TechEmpower fortunes page as a template (`.html`: minijinja auto-escapes it).
const FORTUNES_TEMPLATE: &str = "<!DOCTYPE html><html><head><title>Fortunes</title></head><body>\
<table><tr><th>id</th><th>message</th></tr>{% for f in fortunes %}<tr><td>{{ f.id }}</td>\
<td>{{ f.message }}</td></tr>{% endfor %}</table></body></html>";

/// Set at start-up when `BENCH_FORTUNES_TEMPLATE=minijinja`.
static TEMPLATES: OnceLock<minijinja::Environment<'static>> = OnceLock::new();

/// A database failure, answered with 500 and the error text (a benchmark server, not a product).
struct DbError(String);

impl<E: std::fmt::Display> From<E> for DbError {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

impl IntoResponse for DbError {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, SERVER_HEADER, self.0).into_response()
    }
}

type Result<T> = std::result::Result<T, DbError>;

/// `n` random worlds, one query each, pipelined on one connection.
async fn random_worlds(client: &Object, n: usize) -> Result<Vec<World>> {
    let stmt: Statement = client.prepare_cached(SELECT_WORLD).await?;
    let stmt = &stmt;
    let client: &tokio_postgres::Client = client;
    let rows = try_join_all((0..n).map(|_| {
        let id = random_id();
        async move { client.query_one(stmt, &[&id]).await }
    }))
    .await?;
    Ok(rows
        .iter()
        .map(|row| World {
            id: row.get(0),
            randomnumber: row.get(1),
        })
        .collect())
}

async fn db(State(pool): State<Pool>) -> Result<impl IntoResponse> {
    let client = pool.get().await?;
    let stmt = client.prepare_cached(SELECT_WORLD).await?;
    let row = client.query_one(&stmt, &[&random_id()]).await?;
    let world = World {
        id: row.get(0),
        randomnumber: row.get(1),
    };
    Ok((SERVER_HEADER, Json(world)))
}

async fn queries(State(pool): State<Pool>, RawQuery(q): RawQuery) -> Result<impl IntoResponse> {
    let n = queries_param(q.as_deref());
    let client = pool.get().await?;
    let worlds = random_worlds(&client, n).await?;
    Ok((SERVER_HEADER, Json(worlds)))
}

async fn fortunes(State(pool): State<Pool>) -> Result<impl IntoResponse> {
    let client = pool.get().await?;
    let stmt = client.prepare_cached(SELECT_FORTUNES).await?;
    let rows = client.query(&stmt, &[]).await?;
    let mut fortunes: Vec<Fortune> = rows
        .iter()
        .map(|row| Fortune {
            id: row.get(0),
            message: row.get(1),
        })
        .collect();
    let Some(env) = TEMPLATES.get() else {
        return Ok((SERVER_HEADER, Html(render_fortunes(&fortunes))));
    };
    fortunes.push(Fortune::new(0, ADDED_FORTUNE));
    fortunes.sort_unstable_by(|a, b| a.message.cmp(&b.message));
    let html = env
        .get_template("fortunes.html")?
        .render(minijinja::context! { fortunes => minijinja::Value::from(minijinja::value::Serde(&fortunes)) })?;
    Ok((SERVER_HEADER, Html(html)))
}

async fn updates(State(pool): State<Pool>, RawQuery(q): RawQuery) -> Result<impl IntoResponse> {
    let n = queries_param(q.as_deref());
    let client = pool.get().await?;
    let mut worlds = random_worlds(&client, n).await?;
    for w in &mut worlds {
        w.randomnumber = new_random_number(w.randomnumber);
    }
    let mut sorted = worlds.clone();
    sorted.sort_unstable_by_key(|w| w.id);
    let ids: Vec<i32> = sorted.iter().map(|w| w.id).collect();
    let numbers: Vec<i32> = sorted.iter().map(|w| w.randomnumber).collect();
    let stmt = client.prepare_cached(UPDATE_WORLDS).await?;
    client.execute(&stmt, &[&ids, &numbers]).await?;
    Ok((SERVER_HEADER, Json(worlds)))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let settings = Settings::from_env(DEFAULT_PORT);
    match std::env::var("BENCH_FORTUNES_TEMPLATE").as_deref() {
        Ok("minijinja") => {
            let mut env = minijinja::Environment::new();
            env.add_template("fortunes.html", FORTUNES_TEMPLATE)
                .expect("the fortunes template parses");
            let _ = TEMPLATES.set(env);
        }
        Ok("") | Err(_) => {}
        Ok(other) => {
            eprintln!("BENCH_FORTUNES_TEMPLATE: unknown value {other:?} (minijinja, or unset)");
            std::process::exit(2);
        }
    }
    let pg_config: tokio_postgres::Config = settings
        .database_url
        .parse()
        .unwrap_or_else(|e| panic!("BENCH_DATABASE_URL: {e}"));
    let manager = Manager::from_config(
        pg_config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(settings.pool_size)
        .build()
        .expect("a pool without timeouts needs no runtime");
    // Fail at start-up, not on the first request, when the database is unreachable.
    if let Err(e) = pool.get().await {
        eprintln!("cannot connect to BENCH_DATABASE_URL: {e}");
        std::process::exit(1);
    }

    let app = Router::new()
        .route("/db", get(db))
        .route("/queries", get(queries))
        .route("/fortunes", get(fortunes))
        .route("/updates", get(updates))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", settings.port)).await?;
    axum::serve(listener, app).await
}
