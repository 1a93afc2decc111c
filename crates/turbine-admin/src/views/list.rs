//! The list page: columns, search, sidebar filters, sortable columns, keyset pages (page N of a
//! million rows costs what page 1 costs), a bounded count, and bulk actions.

use std::sync::Arc;

use axum::extract::Path;
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde_json::{Value as J, json};
use turbine_core::battery::Setup;
use turbine_core::routing::get;
use turbine_orm::backend::{Dialect, Statement};
use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta, Registry};
use turbine_orm::query::convert::{coerce, parse_text};
use turbine_orm::query::{Cursor, Expr, Filter, Lookup, OrderBy, Query};
use turbine_orm::{Db, Row, Value};

use super::Visit;
use super::{Visitor, column_index, error_page, handler, item_url, redirect_with, render, row_key};
use crate::display::{clip, key_text, show};
use crate::forms::FormInput;
use crate::model_admin::{FilterKind, ModelAdmin, filter_kind, title_of};
use crate::site::State;

/// Counts stop here; above it the page shows an estimate.
pub(crate) const COUNT_LIMIT: u64 = 10_000;

/// Query parameters the list owns (filters use field names, which may not collide with them).
const RESERVED: &[&str] = &["q", "o", "after", "before"];

pub(super) fn mount(setup: &mut Setup, state: &Arc<State>) {
    setup.route(
        &format!("{}/{{app}}/{{model}}", state.path),
        get(handler!(state, list, db: Db, visit: Visit, path: Path<(String, String)>)).post(
            handler!(state, bulk, db: Db, visit: Visit, path: Path<(String, String)>, body: Bytes),
        ),
    );
}

/// The filtered, searched, ordered query of a list, from its parameters.
pub(crate) struct ListQuery<'m> {
    pub(crate) query: Query<'m>,
    /// The ordering keys in effect (`-created_at`).
    pub(crate) ordering: Vec<String>,
    /// Whether any filter or search applies.
    pub(crate) filtered: bool,
}

/// Builds the list's query; a bad parameter is a message for a 400 page.
pub(crate) fn build<'m>(
    admin: &'m ModelAdmin,
    registry: &Registry,
    params: &FormInput,
) -> Result<ListQuery<'m>, String> {
    let meta = &admin.meta;
    let mut parts = Vec::new();
    for name in &admin.filters {
        let Some(f) = meta.field_named(name) else {
            continue;
        };
        let Some(kind) = filter_kind(f) else { continue };
        if kind == FilterKind::Date {
            for (suffix, upper) in [("__gte", false), ("__lte", true)] {
                if let Some(text) = params
                    .get(&format!("{name}{suffix}"))
                    .filter(|t| !t.is_empty())
                {
                    parts.push(date_bound(f, text, upper)?);
                }
            }
            continue;
        }
        let Some(text) = params.get(name).filter(|t| !t.is_empty()) else {
            continue;
        };
        let value = match kind {
            FilterKind::Bool => Value::Bool(Some(matches!(text, "1" | "true" | "yes"))),
            _ => parse_text(text, &f.ty)
                .map_err(|e| format!("The filter `{name}` does not take `{text}`: {e}"))?,
        };
        parts.push(Filter::eq(f.name.clone(), value));
    }
    for (key, _) in params.pairs() {
        let head = key.split("__").next().unwrap_or(key);
        let known = RESERVED.contains(&key.as_str())
            || admin.filters.iter().any(|f| f == head)
            || key.starts_with('_');
        if !known {
            return Err(format!(
                "`{key}` is not a filter of this list; its filters are: {}.",
                if admin.filters.is_empty() {
                    "none".to_string()
                } else {
                    admin.filters.join(", ")
                }
            ));
        }
    }
    let search = params.get("q").unwrap_or("").trim();
    if !search.is_empty() {
        let fields: Vec<String> = if admin.search.is_empty() {
            admin
                .title()
                .map(|f| vec![f.name.clone()])
                .unwrap_or_default()
        } else {
            admin.search.clone()
        };
        for word in search.split_whitespace().take(10) {
            let mut any = Vec::with_capacity(fields.len());
            for f in &fields {
                any.push(
                    Filter::parse_lookup_in(registry, meta, &format!("{f}__icontains"), word)
                        .map_err(|e| format!("The search cannot look in `{f}`: {e}"))?,
                );
            }
            parts.push(Filter::any_of(any));
        }
    }
    let filtered = !parts.is_empty();
    let mut query = Query::new(meta);
    if filtered {
        query = query.filter(Filter::all_of(parts));
    }
    let ordering: Vec<String> = match params.get("o").filter(|o| !o.is_empty()) {
        Some(o) => {
            let keys: Vec<String> = o.split(',').map(str::to_string).collect();
            for k in &keys {
                let name = k.trim_start_matches('-');
                let ok = meta
                    .field_named(name)
                    .is_some_and(|f| f.has_column() && admin.visible(f));
                if !ok {
                    return Err(format!("The list cannot be sorted by `{name}`."));
                }
            }
            keys
        }
        None if !admin.ordering.is_empty() => admin.ordering.clone(),
        None if !meta.ordering.is_empty() => meta
            .ordering
            .iter()
            .map(|o| format!("{}{}", if o.descending { "-" } else { "" }, o.field))
            .collect(),
        None => vec![format!(
            "-{}",
            meta.primary_key().map(|f| f.name.as_str()).unwrap_or("id")
        )],
    };
    query = query.order_by(ordering.iter().map(|k| OrderBy::parse(k)));
    Ok(ListQuery {
        query,
        ordering,
        filtered,
    })
}

/// `field >= day` or `field <= day` (a whole day for timestamps).
fn date_bound(f: &FieldMeta, text: &str, upper: bool) -> Result<Filter, String> {
    let day = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        format!(
            "The filter `{}` takes a date (YYYY-MM-DD), not `{text}`.",
            f.name
        )
    })?;
    let lookup = if f.ty == FieldType::DateTime {
        let start = |d: chrono::NaiveDate| {
            Value::ChronoDateTimeUtc(Some(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()))
        };
        if upper {
            Lookup::Lt(Expr::Value(start(day.succ_opt().unwrap_or(day))))
        } else {
            Lookup::Gte(Expr::Value(start(day)))
        }
    } else {
        let v = Expr::Value(Value::ChronoDate(Some(day)));
        if upper {
            Lookup::Lte(v)
        } else {
            Lookup::Gte(v)
        }
    };
    Ok(Filter::field(f.name.clone(), lookup))
}

/// How many rows match: exact up to [`COUNT_LIMIT`], above it Postgres' planner estimate
/// (SQLite has none: "more than 10,000"). On Postgres the estimate comes first (the table's
/// statistics unfiltered, `EXPLAIN` filtered): when it is far above the limit the rows are not
/// counted at all, since counting even 10,001 matches of a search can cost more than the page.
pub(crate) async fn count(db: &Db, meta: &ModelMeta, q: &ListQuery<'_>) -> turbine_orm::Result<J> {
    let estimate = if db.dialect() == Dialect::Postgres {
        if q.filtered {
            planner_rows(db, &q.query).await?
        } else {
            table_rows(db, meta).await?
        }
    } else {
        None
    };
    let about = |e: u64| json!({"exact": false, "n": e, "text": format!("about {}", thousands(e))});
    if let Some(e) = estimate.filter(|e| *e > 4 * COUNT_LIMIT) {
        return Ok(about(e));
    }
    let n = q.query.count_upto(db, COUNT_LIMIT + 1).await?;
    if n <= COUNT_LIMIT {
        return Ok(json!({"exact": true, "n": n, "text": thousands(n)}));
    }
    Ok(match estimate.filter(|e| *e > COUNT_LIMIT) {
        Some(e) => about(e),
        None => {
            json!({"exact": false, "n": n, "text": format!("more than {}", thousands(COUNT_LIMIT))})
        }
    })
}

/// The table's row count from its statistics (Postgres `pg_class.reltuples`; `None` before
/// the table was first analyzed).
async fn table_rows(db: &Db, meta: &ModelMeta) -> turbine_orm::Result<Option<u64>> {
    let row = db
        .raw(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(?)",
            [Value::String(Some(meta.table.clone()))],
        )
        .fetch_optional()
        .await?;
    Ok(row.and_then(|r| match r.values().first() {
        Some(Value::BigInt(Some(n))) => u64::try_from(*n).ok(),
        _ => None,
    }))
}

/// The planner's row estimate for a query (Postgres `EXPLAIN`).
async fn planner_rows(db: &Db, q: &Query<'_>) -> turbine_orm::Result<Option<u64>> {
    let stmt = q.to_statement(Dialect::Postgres)?;
    let explain = Statement::new(format!("EXPLAIN (FORMAT JSON) {}", stmt.sql), stmt.values);
    let rows = db.fetch(&explain).await?;
    let plan = rows.first().and_then(|r| r.values().first().cloned());
    let json = match plan {
        Some(Value::Json(Some(j))) => *j,
        Some(Value::String(Some(s))) => serde_json::from_str(&s).unwrap_or(J::Null),
        _ => J::Null,
    };
    Ok(json
        .pointer("/0/Plan/Plan Rows")
        .and_then(J::as_f64)
        .map(|n| n as u64))
}

/// `1234567` → `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The sort-key values of a row, as a cursor.
fn cursor_of(meta: &ModelMeta, keys: &[OrderBy], row: &Row) -> Option<String> {
    let values = keys
        .iter()
        .map(|k| column_index(meta, &k.field).and_then(|i| row.values().get(i).cloned()))
        .collect::<Option<Vec<_>>>()?;
    Some(Cursor::new(values).encode())
}

/// The query string of the list with `changes` applied (`None` removes a parameter).
pub(crate) fn link(params: &FormInput, changes: &[(&str, Option<&str>)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params.pairs() {
        if !changes.iter().any(|(c, _)| c == k) && !k.starts_with('_') {
            s.append_pair(k, v);
        }
    }
    for (k, v) in changes {
        if let Some(v) = v {
            s.append_pair(k, v);
        }
    }
    let q = s.finish();
    if q.is_empty() {
        "?".into()
    } else {
        format!("?{q}")
    }
}

/// The title of the row a foreign key points at, from the list's join.
fn related_title(state: &State, registry: &Registry, f: &FieldMeta, row: &Row) -> Option<String> {
    let target = registry.get(&f.relation.as_ref()?.to)?;
    let chosen = state
        .by_label(&target.label())
        .and_then(|a| a.title.as_deref());
    let title = title_of(target, chosen)?;
    let v = row.get(&format!("{}__{}", f.name, title.column))?;
    show(v, title)
}

/// `GET /admin/{app}/{model}`.
#[allow(clippy::too_many_arguments)]
async fn list(
    state: &State,
    db: Db,
    visit: Visit,
    Path((app, model)): Path<(String, String)>,
) -> Response {
    let (v, admin) = match visit.model(state, &app, &model, "view").await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let params = FormInput::parse(visit.uri.query().unwrap_or("").as_bytes());
    match page(state, &v, &db, admin, &params, None).await {
        Ok(res) => res,
        Err(e) => super::server_error(state, &e.to_string()),
    }
}

/// Renders the list page (with `notice`, an error from a bulk action).
async fn page(
    state: &State,
    v: &Visitor,
    db: &Db,
    admin: &ModelAdmin,
    params: &FormInput,
    notice: Option<&str>,
) -> turbine_orm::Result<Response> {
    let Some(registry) = db.registry() else {
        return Ok(super::server_error(state, "the database has no registry"));
    };
    let meta = &admin.meta;
    let lq = match build(admin, registry, params) {
        Ok(q) => q,
        Err(message) => {
            return Ok(error_page(state, v, StatusCode::BAD_REQUEST, &message).await);
        }
    };
    let columns = admin.columns();
    let mut q = lq.query.clone();
    for f in &columns {
        if let Some(rel) = &f.relation
            && f.has_column()
            && let Some(target) = registry.get(&rel.to)
        {
            q = q.select_related(&f.name, target)?;
        }
    }
    let keys = q.keyset()?;
    let size = admin.per_page;
    let decode = |name: &str| -> Result<Option<Cursor>, String> {
        match params.get(name).filter(|c| !c.is_empty()) {
            Some(text) => lq.query.decode_cursor(text).map(Some).map_err(|_| {
                "This page link is out of date: start from the first page.".to_string()
            }),
            None => Ok(None),
        }
    };
    let (after, before) = match (decode("after"), decode("before")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(m), _) | (_, Err(m)) => {
            return Ok(error_page(state, v, StatusCode::BAD_REQUEST, &m).await);
        }
    };
    let (rows, prev, next) = match (&after, &before) {
        (_, Some(c)) => {
            let page = q.page_before(db, size, c).await?;
            let next = page.items.last().and_then(|r| cursor_of(meta, &keys, r));
            let prev = page.next_cursor.map(|c| c.encode());
            (page.items, prev, next)
        }
        (cursor, None) => {
            let page = q.page(db, size, cursor.as_ref()).await?;
            let prev = cursor
                .as_ref()
                .and_then(|_| page.items.first())
                .and_then(|r| cursor_of(meta, &keys, r));
            (page.items, prev, page.next_cursor.map(|c| c.encode()))
        }
    };
    let total = count(db, meta, &lq).await?;
    let rows_json: Vec<J> = rows
        .iter()
        .map(|row| {
            let key = row_key(meta, row.values()).unwrap_or(Value::BigInt(None));
            let cells: Vec<J> = columns
                .iter()
                .map(|f| {
                    let value = column_index(meta, &f.name)
                        .and_then(|i| row.values().get(i))
                        .map(|v| coerce(v.clone(), &f.ty));
                    let value = value.as_ref();
                    let text = match value {
                        Some(val) if f.relation.is_some() => {
                            related_title(state, registry, f, row).or_else(|| show(val, f))
                        }
                        Some(val) => show(val, f),
                        None => None,
                    };
                    let boolean = match value {
                        Some(Value::Bool(b)) if f.choices.is_empty() => J::from(*b),
                        _ => J::Null,
                    };
                    json!({"text": text.map(|t| clip(&t, 100)), "bool": boolean})
                })
                .collect();
            json!({"key": key_text(&key), "url": item_url(state, meta, &key), "cells": cells})
        })
        .collect();
    let sort_of = |name: &str| -> Option<(usize, bool)> {
        lq.ordering
            .iter()
            .position(|k| k.trim_start_matches('-') == name)
            .map(|i| (i, lq.ordering[i].starts_with('-')))
    };
    let headers: Vec<J> = columns
        .iter()
        .map(|f| {
            let sorted = sort_of(&f.name);
            let next_key = match sorted {
                Some((0, false)) => format!("-{}", f.name),
                _ => f.name.clone(),
            };
            json!({
                "label": f.label,
                "sorted": sorted.map(|(_, desc)| if desc { "desc" } else { "asc" }),
                "url": f.has_column().then(|| link(params, &[("o", Some(&next_key)), ("after", None), ("before", None)])),
            })
        })
        .collect();
    let filters = sidebar(state, admin, registry, params);
    let can_delete = v.can(meta, "delete").await;
    let can_change = v.can(meta, "change").await;
    let mut actions: Vec<J> = Vec::new();
    if can_delete {
        actions.push(json!({"name": "delete", "label": format!("Delete selected {}", meta.verbose_name_plural.to_lowercase())}));
    }
    if can_change {
        actions.extend(
            admin
                .actions
                .iter()
                .map(|a| json!({"name": a.name, "label": a.label})),
        );
    }
    let base_url = format!("{}/{}", state.path, admin.slug());
    let page_json = json!({
        "title": super::title_case(&meta.verbose_name_plural),
        "model": super::model_json(state, admin),
        "add_url": v.can(meta, "add").await.then(|| format!("{base_url}/add")),
        "headers": headers,
        "rows": rows_json,
        "count": total,
        "search": params.get("q").unwrap_or(""),
        "searchable": !admin.search.is_empty() || admin.title().is_some(),
        "filters": filters,
        "hidden": params.pairs().iter().filter(|(k, _)| k != "q" && k != "after" && k != "before" && !k.starts_with('_')).map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
        "prev_url": prev.map(|c| link(params, &[("before", Some(&c)), ("after", None)])),
        "next_url": next.map(|c| link(params, &[("after", Some(&c)), ("before", None)])),
        "actions": actions,
        "back": link(params, &[]),
        "notice": notice,
    });
    Ok(render(state, v, StatusCode::OK, "list.html", page_json).await)
}

/// The sidebar's filters, with the active choice marked.
fn sidebar(state: &State, admin: &ModelAdmin, registry: &Registry, params: &FormInput) -> Vec<J> {
    let mut out = Vec::new();
    for name in &admin.filters {
        let Some(f) = admin.meta.field_named(name) else {
            continue;
        };
        let Some(kind) = filter_kind(f) else { continue };
        let current = params.get(name).unwrap_or("");
        let reset = || -> Vec<(&str, Option<&str>)> {
            vec![(name.as_str(), None), ("after", None), ("before", None)]
        };
        let option = |label: &str, value: Option<&str>| {
            let mut changes = reset();
            if let Some(v) = value {
                changes[0].1 = Some(v);
            }
            json!({
                "label": label,
                "url": link(params, &changes),
                "active": value.unwrap_or("") == current,
            })
        };
        let entry = match kind {
            FilterKind::Bool => json!({"kind": "options", "options": [
                option("All", None), option("Yes", Some("1")), option("No", Some("0"))
            ]}),
            FilterKind::Choices => {
                let mut options = vec![option("All", None)];
                options.extend(f.choices.iter().map(|c| option(&c.label, Some(&c.value))));
                json!({"kind": "options", "options": options})
            }
            FilterKind::Date => {
                let (gte, lte) = (format!("{name}__gte"), format!("{name}__lte"));
                let hidden: Vec<J> = params
                    .pairs()
                    .iter()
                    .filter(|(k, _)| {
                        *k != gte
                            && *k != lte
                            && k != "after"
                            && k != "before"
                            && !k.starts_with('_')
                    })
                    .map(|(k, v)| json!({"name": k, "value": v}))
                    .collect();
                json!({"kind": "dates", "from": {"name": gte, "value": params.get(&gte).unwrap_or("")},
                    "to": {"name": lte, "value": params.get(&lte).unwrap_or("")}, "hidden": hidden,
                    "clear": link(params, &[(gte.as_str(), None), (lte.as_str(), None), ("after", None), ("before", None)])})
            }
            FilterKind::Foreign => {
                let target = f.relation.as_ref().and_then(|r| registry.get(&r.to));
                let picker = target
                    .and_then(|t| state.by_label(&t.label()))
                    .map(|t| format!("{}/{}/autocomplete", state.path, t.slug()));
                json!({"kind": "foreign", "current": current, "all": option("All", None)["url"],
                    "picker": picker, "param": name,
                    "base": link(params, &reset())})
            }
        };
        let mut entry = entry;
        entry["label"] = J::String(f.label.clone());
        out.push(entry);
    }
    out
}

/// `POST /admin/{app}/{model}`: a bulk action on the selected rows (deleting asks first).
#[allow(clippy::too_many_arguments)]
async fn bulk(
    state: &State,
    db: Db,
    visit: Visit,
    Path((app, model)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (v, admin) = match visit.model(state, &app, &model, "view").await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let form = FormInput::parse(&body);
    let back = form
        .get("back")
        .filter(|b| b.starts_with('?') && b.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("?")
        .to_string();
    let list_url = format!(
        "{}/{}{}",
        state.path,
        admin.slug(),
        back.trim_end_matches('?')
    );
    let Some(pk) = admin.meta.primary_key() else {
        return super::server_error(state, "a model without a primary key");
    };
    let mut keys = Vec::new();
    for text in form.all("ids") {
        match parse_text(text, &pk.ty) {
            Ok(k) => keys.push(k),
            Err(_) => {
                return error_page(
                    state,
                    &v,
                    StatusCode::BAD_REQUEST,
                    &format!("`{text}` is not a key of this model."),
                )
                .await;
            }
        }
    }
    let action = form.get("action").unwrap_or("");
    if keys.is_empty() {
        let params = FormInput::parse(back.trim_start_matches('?').as_bytes());
        return match page(
            state,
            &v,
            &db,
            admin,
            &params,
            Some("Select at least one row, then an action."),
        )
        .await
        {
            Ok(res) => res,
            Err(e) => super::server_error(state, &e.to_string()),
        };
    }
    if action == "delete" {
        if !v.can(&admin.meta, "delete").await {
            return error_page(
                state,
                &v,
                StatusCode::FORBIDDEN,
                "You do not have permission to delete these.",
            )
            .await;
        }
        return super::delete::bulk(
            state,
            &v,
            &db,
            admin,
            keys,
            form.get("confirm") == Some("yes"),
            &back,
        )
        .await;
    }
    let Some(custom) = admin.actions.iter().find(|a| a.name == action) else {
        return error_page(
            state,
            &v,
            StatusCode::BAD_REQUEST,
            &format!("There is no action `{action}`."),
        )
        .await;
    };
    if !v.can(&admin.meta, "change").await {
        return error_page(
            state,
            &v,
            StatusCode::FORBIDDEN,
            "You do not have permission to change these.",
        )
        .await;
    }
    match (custom.run)(db, keys).await {
        Ok(message) => redirect_with(state, &list_url, &message),
        Err(message) => error_page(state, &v, StatusCode::UNPROCESSABLE_ENTITY, &message).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn links_keep_the_other_parameters() {
        let p = FormInput::parse(b"q=rust&o=-id&after=abc");
        assert_eq!(link(&p, &[("after", None)]), "?q=rust&o=-id");
        assert_eq!(
            link(&p, &[("o", Some("title")), ("after", None)]),
            "?q=rust&o=title"
        );
    }
}
