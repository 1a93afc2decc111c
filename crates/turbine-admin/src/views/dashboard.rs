//! The dashboard: the models the visitor may see, by app, and the latest changes.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use axum::response::Response;
use http::StatusCode;
use serde_json::{Value as J, json};
use turbine_orm::meta::{FieldType, ModelMeta, RelationKind};
use turbine_orm::query::convert::{json_to_value, parse_text};
use turbine_orm::query::{Expr, Filter, Lookup, Query};
use turbine_orm::value::null_of;
use turbine_orm::{Db, ModelExt, Value};

use super::Visit;
use super::{Visitor, item_url, render, row_key, title_for, typed};
use crate::audit::LogEntry;
use crate::display::{clip, key_text};
use crate::site::State;

/// `GET /admin`.
pub(super) async fn show(state: &State, visit: Visit) -> Response {
    let v = match visit.staff(state).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let db = v.user.auth().db().clone();
    let recent = match recent_actions(state, &v, &db, 10).await {
        Ok(r) => r,
        Err(e) => return super::server_error(state, &e.to_string()),
    };
    render(
        state,
        &v,
        StatusCode::OK,
        "dashboard.html",
        json!({"title": "Dashboard", "recent": recent}),
    )
    .await
}

/// The latest `n` log entries about models the visitor may view, for templates.
pub(super) async fn recent_actions(
    state: &State,
    v: &Visitor,
    db: &Db,
    n: u64,
) -> turbine_orm::Result<Vec<J>> {
    let entries = LogEntry::objects()
        .order_by([LogEntry::ID.desc()])
        .limit(n * 3)
        .all(db)
        .await?;
    let mut out = Vec::new();
    for e in entries {
        if out.len() as u64 >= n {
            break;
        }
        if let Some(admin) = state.by_label(&e.model)
            && v.can(&admin.meta, "view").await
        {
            // The dashboard shows no diffs: no related rows to look up.
            out.push(entry_json(state, &e, &Related::default()));
        }
    }
    Ok(out)
}

/// The rows that relation fields in log entries' diffs point at: their titles and admin links.
/// A diff stores keys; the history shows each row's title (as it is now) instead, or the key
/// when the row is gone, the key no longer fits the target, or the lookup failed. Titles show
/// whatever the visitor may view of the target model, as in the list's foreign-key columns and
/// the form's pickers; the links lead to pages that check permissions themselves.
#[derive(Debug, Default)]
pub(super) struct Related(HashMap<(String, String), HashMap<String, Title>>);

/// A related row's title and its admin page (when the admin registers its model).
type Title = (String, Option<String>);

/// The model the field `field` of `model` points at, if it is a relation (a many-to-many
/// field's diff holds lists of keys).
fn target_of<'a>(state: &State, db: &'a Db, model: &str, field: &str) -> Option<&'a ModelMeta> {
    let f = state.by_label(model)?.meta.field_named(field)?;
    let rel = f.relation.as_ref()?;
    let stored = f.has_column() || rel.kind == RelationKind::ManyToMany;
    stored.then_some(())?;
    db.registry()?.get(&rel.to)
}

/// A stored key as text: a many-to-many list holds texts, a foreign key its JSON value.
fn stored_text(stored: &J) -> Cow<'_, str> {
    match stored {
        J::String(text) => Cow::Borrowed(text),
        other => Cow::Owned(other.to_string()),
    }
}

/// The key a diff stores, if it still fits the target's key type (a log outlives schema
/// changes: a number stored for what is now a UUID key names no row).
fn key_of(stored: &J, ty: &FieldType) -> Option<Value> {
    let key = match stored {
        J::Null => return None,
        J::String(text) => parse_text(text, ty),
        other => json_to_value(other, ty),
    }
    .ok()?;
    let fits = std::mem::discriminant(&key) == std::mem::discriminant(&null_of(ty));
    fits.then_some(key)
}

impl Related {
    /// Looks up every row the diffs of `entries` point at: one query per target model. A failed
    /// lookup is logged and leaves those keys shown as keys: the history still renders.
    pub(super) async fn load(state: &State, db: &Db, entries: &[LogEntry]) -> Self {
        // Per target model, the keys wanted; per (model, field), which stored text names which.
        let mut wanted: BTreeMap<String, (&ModelMeta, BTreeMap<String, Value>)> = BTreeMap::new();
        let mut named: HashMap<(String, String), HashMap<String, (String, String)>> =
            HashMap::new();
        for e in entries {
            let J::Object(changes) = &e.changes else {
                continue;
            };
            for (field, pair) in changes {
                let Some(target) = target_of(state, db, &e.model, field) else {
                    continue;
                };
                let Some(pk) = target.primary_key() else {
                    continue;
                };
                let label = target.label();
                let keys = &mut wanted
                    .entry(label.clone())
                    .or_insert_with(|| (target, BTreeMap::new()))
                    .1;
                let names = named.entry((e.model.clone(), field.clone())).or_default();
                // A many-to-many side is a list of keys.
                let sides = pair.as_array().into_iter().flatten();
                let stored = sides.flat_map(|side| match side {
                    J::Array(keys) => keys.iter().collect::<Vec<_>>(),
                    key => vec![key],
                });
                for side in stored {
                    let text = stored_text(side);
                    if names.contains_key(text.as_ref()) {
                        continue;
                    }
                    let Some(key) = key_of(side, &pk.ty) else {
                        continue;
                    };
                    let key_text = key_text(&key);
                    keys.insert(key_text.clone(), key);
                    names.insert(text.into_owned(), (label.clone(), key_text));
                }
            }
        }
        let mut titles: HashMap<(String, String), Title> = HashMap::new();
        for (label, (target, keys)) in wanted {
            let (Some(pk), admin) = (target.primary_key(), state.by_label(&label)) else {
                continue;
            };
            let keys: Vec<Value> = keys.into_values().collect();
            // In chunks, well under every backend's limit on bound parameters.
            for chunk in keys.chunks(500) {
                let query = Query::new(target).filter(Filter::field(
                    pk.name.clone(),
                    Lookup::In(chunk.iter().cloned().map(Expr::Value).collect()),
                ));
                let rows = match query.fetch(db).await {
                    Ok(rows) => rows,
                    Err(e) => {
                        tracing::warn!(model = %label, error = %e, "admin history: related titles not loaded");
                        continue;
                    }
                };
                for row in rows {
                    let title = title_for(state, target, &row);
                    let Some(key) = row_key(target, &typed(target, row.into_values())) else {
                        continue;
                    };
                    let url = admin.map(|_| item_url(state, target, &key));
                    titles.insert((label.clone(), key_text(&key)), (title, url));
                }
            }
        }
        let resolve = |names: HashMap<String, (String, String)>| {
            names
                .into_iter()
                .filter_map(|(text, at)| Some((text, titles.get(&at)?.clone())))
                .collect::<HashMap<_, _>>()
        };
        Self(
            named
                .into_iter()
                .map(|(at, names)| (at, resolve(names)))
                .collect(),
        )
    }

    /// The titles of the rows `field` of an entry about `model` names, by stored key text.
    fn of(&self, model: &str, field: &str) -> Option<&HashMap<String, Title>> {
        self.0.get(&(model.to_string(), field.to_string()))
    }
}

/// A log entry for templates; a relation in its diff shows the rows' titles from `related`.
pub(super) fn entry_json(state: &State, e: &LogEntry, related: &Related) -> J {
    let admin = state.by_label(&e.model);
    let url = match (admin, e.action.as_str()) {
        (Some(a), "add" | "change") => Some(format!(
            "{}/{}/{}",
            state.path,
            a.slug(),
            percent_encoding::utf8_percent_encode(&e.object_id, percent_encoding::NON_ALPHANUMERIC)
        )),
        _ => None,
    };
    let changes: Vec<J> = match &e.changes {
        J::Object(map) => map
            .iter()
            .map(|(field, pair)| {
                let label = admin
                    .and_then(|a| a.meta.field_named(field))
                    .map(|f| f.label.clone())
                    .unwrap_or_else(|| field.clone());
                // A stored key as the row's title, or as it is when no row was found.
                let found = related.of(&e.model, field);
                let lookup = |v: &J| found.and_then(|f| f.get(stored_text(v).as_ref()));
                let title = |v: &J| match lookup(v) {
                    Some((title, _)) => title.clone(),
                    None => stored_text(v).into_owned(),
                };
                // The text of one side, and the link to the row it names (a many-to-many
                // side lists titles, unlinked).
                let side = |i: usize| match pair.get(i) {
                    Some(J::Null) | None => (J::Null, J::Null),
                    Some(J::Array(keys)) if keys.iter().any(|k| lookup(k).is_some()) => {
                        let titles: Vec<String> = keys.iter().map(title).collect();
                        (J::String(clip(&titles.join(", "), 200)), J::Null)
                    }
                    Some(v) => {
                        let url = lookup(v).and_then(|(_, u)| u.clone());
                        (J::String(clip(&title(v), 200)), json!(url))
                    }
                };
                let ((before, before_url), (after, after_url)) = (side(0), side(1));
                json!({
                    "field": label,
                    "before": before, "before_url": before_url,
                    "after": after, "after_url": after_url,
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    json!({
        "id": e.id,
        "at": e.action_time.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        "user": e.user_email,
        "model": admin.map(|a| a.meta.verbose_name.clone()).unwrap_or_else(|| e.model.clone()),
        "object_id": e.object_id,
        "object": e.object_repr,
        "action": e.action,
        "url": url,
        "changes": changes,
    })
}
