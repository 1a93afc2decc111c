//! One object: `GET`, `PUT`, `PATCH` and `DELETE /posts/{id}`, and `POST /posts` to create.

use axum::body::Bytes;
use axum::extract::{OriginalUri, RawQuery};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::Value as J;
use turbine_auth::{CurrentUser, MaybeUser};
use turbine_core::problem::Problem;
use turbine_orm::meta::ModelMeta;
use turbine_orm::query::convert::parse_text;
use turbine_orm::query::{Filter, Query};
use turbine_orm::{Db, Value};

use crate::access::{check_endpoint, check_object};
use crate::api::{ApiState, ItemId, ParentPath};
use crate::body::{self, Mode};
use crate::http::{check_if_match, json_response};
use crate::idempotency::{Attempt, IdempotencyKey};
use crate::render::{Expansion, join, objects};
use crate::resource::{Op, Resource};

/// A lookup value from a path segment; one that cannot be a value of the lookup field is a 404.
pub(crate) fn parse_key(resource: &Resource, text: &str) -> turbine_core::Result<Value> {
    let meta = &resource.meta;
    let (_, pk) = resource.lookup_field();
    parse_text(text, &pk.ty).map_err(|_| not_found(meta))
}

fn not_found(meta: &ModelMeta) -> turbine_core::Error {
    Problem::not_found()
        .detail(format!("No {} with this key exists.", meta.verbose_name))
        .into()
}

/// Expanding needs read access to what is expanded.
pub(crate) async fn check_expansion(
    state: &ApiState,
    expansion: &Expansion,
    user: Option<&CurrentUser>,
) -> turbine_core::Result<()> {
    for fw in &expansion.forwards {
        check_endpoint(&state.resources[fw.target], Op::Retrieve, user).await?;
    }
    for rev in &expansion.reverses {
        check_endpoint(&state.resources[rev.child], Op::List, user).await?;
        for fw in &rev.forwards {
            check_endpoint(&state.resources[fw.target], Op::Retrieve, user).await?;
        }
    }
    Ok(())
}

/// The row with this key (column order), locked for update when `lock`.
async fn load(
    resource: &Resource,
    key: Value,
    db: &Db,
    lock: bool,
) -> turbine_core::Result<Vec<Value>> {
    let (_, pk) = resource.lookup_field();
    let mut query = Query::new(&resource.meta).filter(Filter::eq(pk.name.clone(), key));
    if lock {
        query = query.for_update();
    }
    query
        .fetch_first(db)
        .await?
        .map(|row| row.into_values())
        .ok_or_else(|| not_found(&resource.meta))
}

/// `GET /posts/{id}` (`?fields=`, `?expand=`).
pub(crate) async fn retrieve(
    state: &ApiState,
    index: usize,
    db: Db,
    MaybeUser(user): MaybeUser,
    axum::extract::Path(id): ItemId,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> turbine_core::Result<Response> {
    let r = &state.resources[index];
    check_endpoint(r, Op::Retrieve, user.as_ref()).await?;
    let (mut fields, mut expand) = (None, None);
    for (k, v) in form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "fields" => fields = r.parse_fields(&v)?,
            "expand" => expand = Some(v.into_owned()),
            other => {
                return Err(Problem::bad_request(format!(
                    "Unknown query parameter `{other}`; an object takes `fields` and `expand`."
                ))
                .into());
            }
        }
    }
    let expansion = state.expansion(index, expand.as_deref())?;
    check_expansion(state, &expansion, user.as_ref()).await?;
    let key = parse_key(r, &id)?;
    let (_, pk) = r.lookup_field();
    let query = Query::new(&r.meta).filter(Filter::eq(pk.name.clone(), key));
    let row = join(state, query, &expansion.forwards)?
        .fetch_first(&db)
        .await?
        .ok_or_else(|| not_found(&r.meta))?;
    check_object(
        r,
        Op::Retrieve,
        user.as_ref(),
        &row.values()[..r.width()],
        &db,
    )
    .await?;
    let items = objects(
        state,
        r,
        vec![row.values()],
        fields.as_deref(),
        &expansion,
        &db,
    )
    .await?;
    Ok(json_response(StatusCode::OK, items.first_bytes(), &headers))
}

/// Runs `f` in a transaction when `atomic`, else on `db` itself.
async fn within<F, Fut, T, E>(db: &Db, atomic: bool, f: F) -> Result<T, E>
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: From<turbine_orm::Error>,
{
    if atomic {
        db.transaction(f).await
    } else {
        f(db.clone()).await
    }
}

/// An object as `GET` shows it without parameters (computed fields included): what create
/// and update answer, and what `If-Match` compares with.
async fn representation(
    state: &ApiState,
    r: &Resource,
    values: &[Value],
    db: &Db,
) -> turbine_orm::Result<Vec<u8>> {
    Ok(objects(state, r, vec![values], None, &NO_EXPANSION, db)
        .await?
        .first_bytes())
}

/// What an object shows without `?expand=`.
static NO_EXPANSION: Expansion = Expansion {
    forwards: Vec::new(),
    reverses: Vec::new(),
};

/// Where the created object lives: its item route, on this resource or the model's top-level
/// resource (for a nested collection).
fn location(state: &ApiState, resource: &Resource, values: &[Value]) -> Option<HeaderValue> {
    let home = if resource.parent.is_none() {
        resource
    } else {
        state.resources.iter().find(|r| {
            r.parent.is_none() && r.meta.label() == resource.meta.label() && r.allows(Op::Retrieve)
        })?
    };
    let (pos, _) = home.lookup_field();
    let key = match crate::render::json_of(&values[pos]) {
        J::String(s) => s,
        other => other.to_string(),
    };
    let key = percent_encoding::utf8_percent_encode(&key, percent_encoding::NON_ALPHANUMERIC);
    HeaderValue::from_str(&format!("{}/{key}", home.path)).ok()
}

/// `POST /posts`: 201 with the object, its `Location` and `ETag`. With `Idempotency-Key`, a
/// retry gets the first response back (`Idempotent-Replayed: true`).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn create(
    state: &ApiState,
    index: usize,
    db: Db,
    MaybeUser(user): MaybeUser,
    parent: ParentPath,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> turbine_core::Result<Response> {
    let r = &state.resources[index];
    let user = check_endpoint(r, Op::Create, user.as_ref()).await?;
    let attempt = Attempt::from_request(&headers, user.map(|u| u.id), uri.path(), &body)?;
    if let Some(attempt) = &attempt
        && let Some(first) = attempt.replay(&db).await?
    {
        return Ok(replayed(first));
    }
    let map = body::object(&body)?;
    let mut values = turbine_orm::Record::new(&r.meta).into_values();
    body::apply(r, &map, &mut values, Mode::Create)?;
    if let Some((field, key)) = crate::list::parent_filter(state, r, parent, &db).await?
        && let Some(pos) = r.position(&field)
    {
        values[pos] = key;
    }
    if let Some(owner) = &r.owner
        && let Some(pos) = r.position(&owner.field)
    {
        let user = user.ok_or(turbine_auth::Error::Unauthenticated)?;
        values[pos] = (owner.resolve)(user.clone(), db.clone()).await?;
    }
    let attempt = attempt.as_ref();
    let result = within(&db, r.atomic || attempt.is_some(), |tx| async move {
        let stored = r.store.insert(&tx, &r.meta, values).await?;
        let object = representation(state, r, &stored, &tx).await?;
        let location = location(state, r, &stored);
        if let Some(attempt) = attempt {
            attempt
                .record(&tx, StatusCode::CREATED, location.as_ref(), &object)
                .await?;
        }
        Ok::<_, turbine_orm::Error>((object, location))
    })
    .await;
    let (object, location) = match result {
        Ok(done) => done,
        // Another request with this key won the race: answer as it did.
        Err(turbine_orm::Error::UniqueViolation { table, .. })
            if table == "api_idempotency_key" =>
        {
            let attempt = attempt.ok_or_else(|| turbine_core::Error::from(Problem::internal()))?;
            return match attempt.replay(&db).await? {
                Some(first) => Ok(replayed(first)),
                None => Err(Problem::new(StatusCode::CONFLICT)
                    .detail("A request with this Idempotency-Key is in progress; retry shortly.")
                    .into()),
            };
        }
        Err(e) => return Err(e.into()),
    };
    if attempt.is_some()
        && state
            .idempotent_creates
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % 256
            == 255
        && let Err(e) = crate::idempotency::purge_expired(&db).await
    {
        tracing::warn!(error = %e, "could not purge expired idempotency keys");
    }
    let mut response = json_response(StatusCode::CREATED, object, &HeaderMap::new());
    if let Some(loc) = location {
        response.headers_mut().insert(http::header::LOCATION, loc);
    }
    Ok(response)
}

/// The first response to an idempotent create, again.
fn replayed(first: IdempotencyKey) -> Response {
    let status = StatusCode::from_u16(first.status as u16).unwrap_or(StatusCode::CREATED);
    let mut response = json_response(status, first.body.into_bytes(), &HeaderMap::new());
    if let Some(loc) = first.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(http::header::LOCATION, loc);
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// `PUT` (every writable field) and `PATCH` (the fields sent) `/posts/{id}`, honouring
/// `If-Match`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn update(
    state: &ApiState,
    index: usize,
    db: Db,
    MaybeUser(user): MaybeUser,
    axum::extract::Path(id): ItemId,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> turbine_core::Result<Response> {
    let r = &state.resources[index];
    let (op, mode) = if method == Method::PUT {
        (Op::Update, Mode::Replace)
    } else {
        (Op::PartialUpdate, Mode::Patch)
    };
    check_endpoint(r, op, user.as_ref()).await?;
    let map = body::object(&body)?;
    let key = parse_key(r, &id)?;
    let conditional = headers.contains_key(http::header::IF_MATCH);
    let object = within(&db, r.atomic || conditional, |tx| async move {
        let mut values = load(r, key, &tx, conditional).await?;
        check_object(r, op, user.as_ref(), &values, &tx).await?;
        // An invalid body is a 422 whatever the precondition says.
        let current = representation(state, r, &values, &tx).await?;
        let written = body::apply(r, &map, &mut values, mode)?;
        check_if_match(&headers, &current)?;
        let stored = r.store.update(&tx, &r.meta, values, Some(written)).await?;
        Ok::<_, turbine_core::Error>(representation(state, r, &stored, &tx).await?)
    })
    .await?;
    Ok(json_response(StatusCode::OK, object, &HeaderMap::new()))
}

/// `DELETE /posts/{id}`: 204, honouring `If-Match`; 409 while protected rows point at it.
pub(crate) async fn destroy(
    state: &ApiState,
    index: usize,
    db: Db,
    MaybeUser(user): MaybeUser,
    axum::extract::Path(id): ItemId,
    headers: HeaderMap,
) -> turbine_core::Result<Response> {
    let r = &state.resources[index];
    check_endpoint(r, Op::Delete, user.as_ref()).await?;
    let key = parse_key(r, &id)?;
    let conditional = headers.contains_key(http::header::IF_MATCH);
    within(&db, r.atomic || conditional, |tx| async move {
        let values = load(r, key, &tx, conditional).await?;
        check_object(r, Op::Delete, user.as_ref(), &values, &tx).await?;
        check_if_match(&headers, &representation(state, r, &values, &tx).await?)?;
        r.store
            .delete(&tx, &r.meta, values)
            .await
            .map_err(turbine_core::Error::from)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
