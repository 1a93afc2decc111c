//! Hand-written axum 0.8 + tokio-postgres baseline for `bench/api` (issue 5): the work of
//! `bench-api`'s `/posts` resource, written by hand on the same tables (`bench_author`,
//! `bench_post`, created by `bench-api`'s migrations).
//!
//! - `GET /posts?limit=20&expand=author` (`limit` 1..=100, default 20; `expand` empty or
//!   `author`; `cursor` from a previous page): one query joining the authors, newest first
//!   (`ORDER BY p.id DESC`), `LIMIT limit + 1` to know whether there is a next page; answers
//!   `{"next_cursor", "next", "items": [{id, author: {id, name} | author id, title, body,
//!   created_at}]}` with the resource's field names and shapes. The cursor is opaque and
//!   tamper-proof like the resource's: base64url of `[last id]`, `.`, a truncated HMAC-SHA256
//!   over the path and the cursor;
//! - `POST /posts` with `{"author", "title", "body"}`: checks the body (a JSON object with
//!   exactly these fields; `title` a string of at most 200 characters, `body` a string, `author`
//!   an integer; 400 / 422 otherwise), one `INSERT … RETURNING` (an author that does not exist
//!   is the foreign key's violation → 422), 201 with the object, `Location: /posts/{id}`;
//! - every JSON answer carries a strong `ETag` computed as the resource computes it (XXH3-128
//!   of the body, base64url; SHA-256 before turbine-api c5deef4), and a 200 list honours
//!   `If-None-Match` (304).
//!
//! A deadpool-postgres pool of `BENCH_DB_POOL_SIZE` connections (default 16) to
//! `BENCH_DATABASE_URL`, statements prepared once per connection (`prepare_cached`). Listens on
//! 127.0.0.1, port from `--port N`, `PORT`, or 8097. No authentication: creates are open (so
//! against `bench-api`'s default, permission-checked creates, this baseline does less work).

use axum::{
    Router,
    body::Bytes,
    extract::{Query, RawQuery, State},
    http::{
        HeaderMap, HeaderValue, StatusCode,
        header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION},
    },
    response::{IntoResponse, Response},
    routing::get,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;
use tokio_postgres::NoTls;

const DEFAULT_PORT: u16 = 8097;
const PAGE_SIZE: i64 = 20;
const MAX_PAGE_SIZE: i64 = 100;
const TAG_LEN: usize = 16;

const SELECT_PAGE: &str = "SELECT p.id, p.author_id, p.title, p.body, p.created_at, a.id, a.name \
     FROM bench_post p JOIN bench_author a ON a.id = p.author_id \
     ORDER BY p.id DESC LIMIT $1";
const SELECT_PAGE_AFTER: &str = "SELECT p.id, p.author_id, p.title, p.body, p.created_at, a.id, a.name \
     FROM bench_post p JOIN bench_author a ON a.id = p.author_id \
     WHERE p.id < $2 ORDER BY p.id DESC LIMIT $1";
const INSERT_POST: &str = "INSERT INTO bench_post (author_id, title, body, created_at) \
     VALUES ($1, $2, $3, $4) RETURNING id, created_at";

#[derive(Clone)]
struct AppState {
    pool: Pool,
    /// The key cursors are signed with.
    cursor_key: Arc<[u8]>,
}

/// An error answer: a problem+json body with a status.
struct ApiError(StatusCode, String);

impl ApiError {
    fn db(e: impl std::fmt::Display) -> Self {
        Self(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"status": self.0.as_u16(), "detail": self.1});
        (
            self.0,
            [(
                CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            )],
            body.to_string(),
        )
            .into_response()
    }
}

type Result<T> = std::result::Result<T, ApiError>;

#[derive(Serialize)]
struct AuthorOut<'a> {
    id: i64,
    name: &'a str,
}

/// The author as its id, or expanded.
#[derive(Serialize)]
#[serde(untagged)]
enum AuthorField<'a> {
    Id(i64),
    Expanded(AuthorOut<'a>),
}

/// A post as the resource shows it, keys in the same order (the model's field order), so the
/// bodies are byte-for-byte the same.
#[derive(Serialize)]
struct PostOut<'a> {
    id: i64,
    author: AuthorField<'a>,
    title: &'a str,
    body: &'a str,
    created_at: String,
}

/// A page as the resource writes it.
#[derive(Serialize)]
struct Page<'a> {
    items: Vec<PostOut<'a>>,
    next_cursor: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct ListParams {
    limit: Option<String>,
    expand: Option<String>,
    cursor: Option<String>,
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The resource's entity tag (turbine-api `http.rs`, `etag_of`): the body's 128-bit XXH3 hash,
/// little-endian, base64url, quoted.
fn etag_of(bytes: &[u8]) -> HeaderValue {
    let digest = xxhash_rust::xxh3::xxh3_128(bytes).to_le_bytes();
    HeaderValue::from_str(&format!("\"{}\"", URL_SAFE_NO_PAD.encode(digest)))
        .expect("an entity tag is a valid header")
}

fn json_response(status: StatusCode, bytes: Vec<u8>, request: Option<&HeaderMap>) -> Response {
    let tag = etag_of(&bytes);
    if let Some(h) = request
        && let Some(inm) = h.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok())
        && inm.split(',').any(|t| {
            let t = t.trim().trim_start_matches("W/");
            t == "*" || t.as_bytes() == tag.as_bytes()
        })
    {
        return (StatusCode::NOT_MODIFIED, [(ETAG, tag)]).into_response();
    }
    (
        status,
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (ETAG, tag),
        ],
        bytes,
    )
        .into_response()
}

fn mac(key: &[u8], scope: &str, cursor: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(scope.as_bytes());
    mac.update(b"\n");
    mac.update(cursor.as_bytes());
    mac
}

fn sign_cursor(key: &[u8], scope: &str, last_id: i64) -> String {
    let cursor = URL_SAFE_NO_PAD.encode(format!("[{last_id}]"));
    let tag = mac(key, scope, &cursor).finalize().into_bytes();
    format!("{cursor}.{}", URL_SAFE_NO_PAD.encode(&tag[..TAG_LEN]))
}

fn verify_cursor(key: &[u8], scope: &str, signed: &str) -> Option<i64> {
    let (cursor, tag) = signed.rsplit_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    if tag.len() != TAG_LEN {
        return None;
    }
    mac(key, scope, cursor).verify_truncated_left(&tag).ok()?;
    let inner = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = std::str::from_utf8(&inner).ok()?;
    text.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

fn bad(status: StatusCode, detail: impl Into<String>) -> ApiError {
    ApiError(status, detail.into())
}

/// `GET /posts`.
async fn list(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let limit = match params.limit.as_deref() {
        None => PAGE_SIZE,
        Some(text) => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| {
                bad(
                    StatusCode::BAD_REQUEST,
                    "`limit` must be a whole number from 1 to 100.",
                )
            })?,
    };
    let expand = match params.expand.as_deref().map(str::trim) {
        None | Some("") => false,
        Some("author") => true,
        Some(other) => {
            return Err(bad(
                StatusCode::BAD_REQUEST,
                format!("`expand` cannot name `{other}`; you may expand: author."),
            ));
        }
    };
    let scope = "/posts?ordering=";
    let after = match params.cursor.as_deref() {
        None => None,
        Some(c) => Some(verify_cursor(&state.cursor_key, scope, c).ok_or_else(|| {
            bad(
                StatusCode::BAD_REQUEST,
                "The cursor is not valid for this list.",
            )
        })?),
    };
    let client = state.pool.get().await.map_err(ApiError::db)?;
    let rows = match after {
        None => {
            let stmt = client
                .prepare_cached(SELECT_PAGE)
                .await
                .map_err(ApiError::db)?;
            client.query(&stmt, &[&(limit + 1)]).await
        }
        Some(id) => {
            let stmt = client
                .prepare_cached(SELECT_PAGE_AFTER)
                .await
                .map_err(ApiError::db)?;
            client.query(&stmt, &[&(limit + 1), &id]).await
        }
    }
    .map_err(ApiError::db)?;
    drop(client);
    let more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    let items: Vec<PostOut<'_>> = rows
        .iter()
        .map(|r| PostOut {
            id: r.get(0),
            author: if expand {
                AuthorField::Expanded(AuthorOut {
                    id: r.get(5),
                    name: r.get(6),
                })
            } else {
                AuthorField::Id(r.get(1))
            },
            title: r.get(2),
            body: r.get(3),
            created_at: timestamp(r.get(4)),
        })
        .collect();
    let next_cursor = match (more, items.last()) {
        (true, Some(last)) => Some(sign_cursor(&state.cursor_key, scope, last.id)),
        _ => None,
    };
    // The request's query with `cursor` replaced, as the resource builds `next`.
    let next = next_cursor.as_ref().map(|c| {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
            if k != "cursor" {
                out.append_pair(&k, &v);
            }
        }
        out.append_pair("cursor", c);
        format!("/posts?{}", out.finish())
    });
    let page = Page {
        next_cursor,
        next,
        items,
    };
    let bytes = serde_json::to_vec(&page).map_err(ApiError::db)?;
    Ok(json_response(StatusCode::OK, bytes, Some(&headers)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPost {
    author: i64,
    title: String,
    body: String,
}

/// `POST /posts`.
async fn create(State(state): State<AppState>, body: Bytes) -> Result<Response> {
    let new: NewPost = serde_json::from_slice(&body).map_err(|e| {
        let status = if e.is_data() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        };
        bad(status, format!("invalid body: {e}"))
    })?;
    if new.title.chars().count() > 200 {
        return Err(bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            "title: at most 200 characters.",
        ));
    }
    let created_at = Utc::now();
    let client = state.pool.get().await.map_err(ApiError::db)?;
    let stmt = client
        .prepare_cached(INSERT_POST)
        .await
        .map_err(ApiError::db)?;
    let row = client
        .query_one(&stmt, &[&new.author, &new.title, &new.body, &created_at])
        .await
        .map_err(|e| match e.code() {
            Some(c) if *c == tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION => {
                bad(StatusCode::UNPROCESSABLE_ENTITY, "author: no such author.")
            }
            _ => ApiError::db(e),
        })?;
    drop(client);
    let id: i64 = row.get(0);
    let out = PostOut {
        id,
        author: AuthorField::Id(new.author),
        title: &new.title,
        body: &new.body,
        created_at: timestamp(row.get(1)),
    };
    let bytes = serde_json::to_vec(&out).map_err(ApiError::db)?;
    let mut response = json_response(StatusCode::CREATED, bytes, None);
    response.headers_mut().insert(
        LOCATION,
        HeaderValue::from_str(&format!("/posts/{id}")).expect("a path is a valid header"),
    );
    Ok(response)
}

fn fail(message: &str) -> ! {
    eprintln!("bench-api-axum: {message}");
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut port = None;
    while let Some(arg) = args.next() {
        if arg == "--port" {
            port = args.next();
        } else if let Some(v) = arg.strip_prefix("--port=") {
            port = Some(v.to_owned());
        }
    }
    let port: u16 = port
        .or_else(|| std::env::var("PORT").ok())
        .map(|p| p.parse().unwrap_or_else(|_| fail("port must be a number")))
        .unwrap_or(DEFAULT_PORT);
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| fail("BENCH_DATABASE_URL is not set"));
    let pool_size: usize = std::env::var("BENCH_DB_POOL_SIZE")
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| fail("BENCH_DB_POOL_SIZE must be a number"))
        })
        .unwrap_or(16);
    // Derived from a secret as the resource derives its cursor key (bench/api/run passes the
    // secret it gives bench-api, so the two sign cursors alike and their pages are identical).
    let secret = std::env::var("BENCH_CURSOR_SECRET")
        .unwrap_or_else(|_| format!("bench-api-axum {:?}", std::time::SystemTime::now()));
    let mut derive =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    derive.update(b"turbine-api cursor v1");
    let cursor_key: Arc<[u8]> = derive.finalize().into_bytes().to_vec().into();

    let pg_config: tokio_postgres::Config = url
        .parse()
        .unwrap_or_else(|e| fail(&format!("BENCH_DATABASE_URL: {e}")));
    let manager = Manager::from_config(
        pg_config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(pool_size)
        .build()
        .expect("a pool without timeouts needs no runtime");
    if let Err(e) = pool.get().await {
        fail(&format!("cannot connect to BENCH_DATABASE_URL: {e}"));
    }
    let app = Router::new()
        .route("/posts", get(list).post(create))
        .with_state(AppState { pool, cursor_key });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_tampering() {
        let key = b"k";
        let c = sign_cursor(key, "/posts?ordering=", 981);
        assert_eq!(verify_cursor(key, "/posts?ordering=", &c), Some(981));
        assert_eq!(verify_cursor(key, "/other", &c), None);
        assert_eq!(verify_cursor(b"x", "/posts?ordering=", &c), None);
    }
}
