//! `GET /posts`: filters, search, ordering, sparse fields, expansion and pagination from the
//! query string, every parameter checked (400 naming what is allowed), values always bound.

use axum::extract::OriginalUri;
use axum::response::Response;
use http::HeaderMap;

use turbine_auth::MaybeUser;
use turbine_core::problem::Problem;
use turbine_orm::query::{Filter, Lookup, OrderBy, Query};
use turbine_orm::{Db, Error as OrmError};

use crate::access;
use crate::api::{ApiState, ParentPath};
use crate::http::json_response;
use crate::render::{Objects, join, objects};
use crate::resource::{Op, Pagination, Resource};

/// The parameters that are not filters.
pub(crate) const RESERVED: [&str; 7] = [
    "cursor", "limit", "page", "ordering", "search", "fields", "expand",
];

/// A list request's query string, checked.
#[derive(Debug, Default)]
pub(crate) struct Params {
    pub(crate) filter: Filter,
    pub(crate) ordering: Option<Vec<OrderBy>>,
    /// The `ordering` text as sent, which cursors are bound to.
    pub(crate) ordering_text: String,
    pub(crate) cursor: Option<String>,
    pub(crate) limit: Option<u64>,
    pub(crate) page: Option<u64>,
    pub(crate) fields: Option<Vec<String>>,
    pub(crate) expand: Option<String>,
}

fn bad(message: String) -> turbine_core::Error {
    Problem::bad_request(message).into()
}

fn list_or_nothing(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// The field path a filter key names (`author__handle__icontains` → `author__handle`).
fn filter_path(key: &str) -> &str {
    match key.rsplit_once("__") {
        Some((path, lookup)) if Lookup::NAMES.contains(&lookup) => path,
        _ => key,
    }
}

impl Resource {
    fn filter_allowed(&self, path: &str) -> bool {
        self.filter_fields.iter().any(|allowed| {
            allowed == path
                || path.strip_prefix(allowed.as_str()).is_some_and(|rest| {
                    rest.starts_with("__")
                        && self
                            .meta
                            .field_named(allowed)
                            .is_some_and(|f| f.ty == turbine_orm::meta::FieldType::Json)
                })
        })
    }

    /// The `fields` names clients ask for; `None` for an empty list, which asks for nothing in
    /// particular: every field.
    pub(crate) fn parse_fields(&self, text: &str) -> turbine_core::Result<Option<Vec<String>>> {
        let mut names: Vec<String> = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            return Ok(None);
        }
        // The key always comes back: clients need it to refer to the object.
        let (_, key) = self.key();
        if !names.contains(&key.name) {
            names.insert(0, key.name.clone());
        }
        if let Some(unknown) = names.iter().find(|n| {
            !self.readable().any(|(_, f)| &f.name == *n)
                && !self.computed.iter().any(|c| &c.name == *n)
        }) {
            let readable: Vec<String> = self
                .readable()
                .map(|(_, f)| f.name.clone())
                .chain(self.computed.iter().map(|c| c.name.clone()))
                .collect();
            return Err(bad(format!(
                "`fields` names `{unknown}`, which is not a field; fields: {}.",
                readable.join(", ")
            )));
        }
        Ok(Some(names))
    }
}

impl Params {
    /// Reads a list request's query string.
    pub(crate) fn parse(
        resource: &Resource,
        registry: Option<&turbine_orm::meta::Registry>,
        query: &str,
    ) -> turbine_core::Result<Self> {
        let mut p = Params::default();
        let mut filters = Vec::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            if key.contains('\0') || value.contains('\0') {
                return Err(bad(
                    "Query parameters may not contain NUL characters.".into()
                ));
            }
            match key.as_ref() {
                "cursor" => p.cursor = Some(value.into_owned()),
                "limit" | "page" => {
                    let n: u64 =
                        value
                            .trim()
                            .parse()
                            .ok()
                            .filter(|n| *n >= 1)
                            .ok_or_else(|| {
                                bad(format!(
                                    "`{key}` must be a whole number of at least 1, not `{value}`."
                                ))
                            })?;
                    if key == "limit" {
                        if n > resource.max_page_size {
                            return Err(bad(format!(
                                "`limit` may be at most {}.",
                                resource.max_page_size
                            )));
                        }
                        p.limit = Some(n);
                    } else {
                        p.page = Some(n);
                    }
                }
                "ordering" => {
                    let mut keys = Vec::new();
                    for part in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        let name = part.trim_start_matches('-');
                        if !resource.ordering_fields.iter().any(|f| f == name) {
                            return Err(bad(format!(
                                "`ordering` cannot use `{name}`; you may order by: {}.",
                                list_or_nothing(&resource.ordering_fields)
                            )));
                        }
                        keys.push(
                            OrderBy::parse_for(&resource.meta, part)
                                .map_err(|e| bad(e.to_string()))?,
                        );
                    }
                    p.ordering_text = value.into_owned();
                    p.ordering = Some(keys);
                }
                "search" => {
                    if resource.search_fields.is_empty() {
                        return Err(bad("This list has no search.".into()));
                    }
                    let terms: Vec<&str> = value.split_whitespace().take(10).collect();
                    for term in terms {
                        filters.push(Filter::any_of(resource.search_fields.iter().map(|f| {
                            Filter::field(f.clone(), Lookup::IContains(term.to_owned()))
                        })));
                    }
                }
                "fields" => p.fields = resource.parse_fields(&value)?,
                "expand" => p.expand = Some(value.into_owned()),
                key => {
                    if !resource.filter_allowed(filter_path(key)) {
                        return Err(bad(format!(
                            "Unknown query parameter `{key}`. Filters: {}; with lookups `field__<lookup>` ({}). Other parameters: {}.",
                            list_or_nothing(&resource.filter_fields),
                            Lookup::NAMES.join(", "),
                            RESERVED.join(", ")
                        )));
                    }
                    let parsed = match registry {
                        Some(reg) => Filter::parse_lookup_in(reg, &resource.meta, key, &value),
                        None => Filter::parse_lookup(&resource.meta, key, &value),
                    };
                    filters.push(parsed.map_err(|e| match e {
                        OrmError::Validation { field, message } => {
                            bad(format!("`{field}`: {message}"))
                        }
                        other => bad(other.to_string()),
                    })?);
                }
            }
        }
        p.filter = Filter::all_of(filters);
        Ok(p)
    }
}

/// The parent's key of a nested collection, found by the parent resource's lookup field
/// (404 when there is no such parent), as the foreign key's value.
pub(crate) async fn parent_filter(
    state: &ApiState,
    resource: &Resource,
    parent: ParentPath,
    db: &Db,
) -> turbine_core::Result<Option<(String, turbine_orm::Value)>> {
    let Some((field, parent_path)) = &resource.parent else {
        return Ok(None);
    };
    let raw = parent.map(|p| p.0).unwrap_or_default();
    let home = state
        .resources
        .iter()
        .find(|r| r.parent.is_none() && &r.path == parent_path)
        .ok_or_else(|| turbine_core::Error::from(Problem::internal()))?;
    let value = crate::item::parse_key(home, &raw)?;
    let (_, lookup) = home.lookup_field();
    let (key_pos, _) = home.key();
    let row = Query::new(&home.meta)
        .filter(Filter::eq(lookup.name.clone(), value))
        .fetch_first(db)
        .await?
        .ok_or_else(|| {
            turbine_core::Error::from(Problem::not_found().detail(format!(
                "No {} with this key exists.",
                home.meta.verbose_name
            )))
        })?;
    Ok(Some((field.clone(), row.values()[key_pos].clone())))
}

/// `GET /posts`.
pub(crate) async fn list(
    state: &ApiState,
    index: usize,
    db: Db,
    user: MaybeUser,
    parent: ParentPath,
    uri: OriginalUri,
    headers: HeaderMap,
) -> turbine_core::Result<Response> {
    list_as(state, index, None, db, user, parent, uri, headers).await
}

/// `GET /posts/{view}`: a list view (`index` packs the resource and the view).
pub(crate) async fn view(
    state: &ApiState,
    index: (usize, usize),
    db: Db,
    user: MaybeUser,
    uri: OriginalUri,
    headers: HeaderMap,
) -> turbine_core::Result<Response> {
    list_as(state, index.0, Some(index.1), db, user, None, uri, headers).await
}

#[allow(clippy::too_many_arguments)]
async fn list_as(
    state: &ApiState,
    index: usize,
    view: Option<usize>,
    db: Db,
    MaybeUser(user): MaybeUser,
    parent: ParentPath,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> turbine_core::Result<Response> {
    let r = &state.resources[index];
    let view = view.map(|v| &r.views[v]);
    match view {
        Some(v) => access::check_rule(r, Op::List, v.rule, user.as_ref()).await?,
        None => access::check_endpoint(r, Op::List, user.as_ref())
            .await
            .map(drop)?,
    }
    let params = Params::parse(r, db.registry(), uri.query().unwrap_or(""))?;
    let expansion = state.expansion(index, params.expand.as_deref())?;
    crate::item::check_expansion(state, &expansion, user.as_ref()).await?;
    let mut query = Query::new(&r.meta).filter(params.filter.clone());
    if let Some((field, key)) = parent_filter(state, r, parent, &db).await? {
        query = query.filter(Filter::eq(field, key));
    }
    if let Some(v) = view {
        query = query.filter((v.scope)(user.clone(), db.clone()).await?);
    }
    if let Some(keys) = &params.ordering {
        query = query.order_by(keys.clone());
    }
    let query = join(state, query, &expansion.forwards)?;
    let size = params.limit.unwrap_or(r.page_size);
    let (rows, next, previous, count) = match r.pagination {
        Pagination::Cursor => {
            if params.page.is_some() {
                return Err(bad(
                    "This list is paginated with `cursor`, not `page`.".into()
                ));
            }
            let scope = format!("{}?ordering={}", uri.path(), params.ordering_text);
            let cursor = match &params.cursor {
                Some(signed) => {
                    let inner = state
                        .cursor_key
                        .verify(&scope, signed)
                        .ok_or_else(|| bad("The cursor is not valid for this list.".into()))?;
                    Some(
                        query
                            .decode_cursor(inner)
                            .map_err(|_| bad("The cursor is not valid for this list.".into()))?,
                    )
                }
                None => None,
            };
            let page = query.page(&db, size, cursor.as_ref()).await?;
            let next = page
                .next_cursor
                .map(|c| state.cursor_key.sign(&scope, &c.encode()));
            (page.items, next, None, None)
        }
        Pagination::PageNumber => {
            if params.cursor.is_some() {
                return Err(bad(
                    "This list is paginated with `page`, not `cursor`.".into()
                ));
            }
            let page = params.page.unwrap_or(1);
            let count = query.count(&db).await?;
            let rows = query
                .clone()
                .limit(size)
                .offset((page - 1).saturating_mul(size))
                .fetch(&db)
                .await?;
            let next = (page.saturating_mul(size) < count).then(|| (page + 1).to_string());
            let previous = (page > 1).then(|| (page - 1).to_string());
            (rows, next, previous, Some(count))
        }
    };
    let slices: Vec<&[turbine_orm::Value]> = rows.iter().map(|r| r.values()).collect();
    let items = objects(state, r, slices, params.fields.as_deref(), &expansion, &db).await?;
    let (param, next_url) = match r.pagination {
        Pagination::Cursor => (
            "cursor",
            next.as_deref().map(|c| with_param(&uri, "cursor", c)),
        ),
        Pagination::PageNumber => ("page", next.as_deref().map(|p| with_param(&uri, "page", p))),
    };
    let body = match count {
        None => serde_json::to_vec(&CursorPage {
            items: &items,
            next_cursor: next.as_deref(),
            next: next_url.as_deref(),
        }),
        Some(count) => serde_json::to_vec(&NumberPage {
            items: &items,
            count,
            next: next_url.as_deref(),
            previous: previous.map(|p| with_param(&uri, param, &p)).as_deref(),
        }),
    }
    .expect("pages always serialize");
    let mut response = json_response(http::StatusCode::OK, body, &headers);
    if let Some(url) = next_url
        && let Ok(v) = http::HeaderValue::from_str(&format!("<{url}>; rel=\"next\""))
    {
        response.headers_mut().insert(http::header::LINK, v);
    }
    Ok(response)
}

/// A page of a cursor-paginated list.
#[derive(serde::Serialize)]
struct CursorPage<'a> {
    items: &'a Objects<'a>,
    next_cursor: Option<&'a str>,
    next: Option<&'a str>,
}

/// A page of a list paginated by number.
#[derive(serde::Serialize)]
struct NumberPage<'a> {
    items: &'a Objects<'a>,
    count: u64,
    next: Option<&'a str>,
    previous: Option<&'a str>,
}

/// The request's path and query with one parameter set (`cursor`, `page`).
fn with_param(uri: &http::Uri, name: &str, value: &str) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if k != name {
            out.append_pair(&k, &v);
        }
    }
    out.append_pair(name, value);
    format!("{}?{}", uri.path(), out.finish())
}

#[cfg(test)]
mod tests {
    use super::filter_path;

    #[test]
    fn filter_paths_drop_the_lookup() {
        assert_eq!(filter_path("title"), "title");
        assert_eq!(filter_path("title__icontains"), "title");
        assert_eq!(filter_path("author__handle"), "author__handle");
        assert_eq!(filter_path("author__handle__in"), "author__handle");
    }
}
