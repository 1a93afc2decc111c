//! The dashboard: the models the visitor may see, by app, and the latest changes.

use std::collections::{BTreeMap, HashMap};

use axum::response::Response;
use http::StatusCode;
use serde_json::{Value as J, json};
use turbine_orm::meta::{FieldType, ModelMeta, RelationKind};
use turbine_orm::query::convert::{json_to_value, parse_text};
use turbine_orm::query::{Expr, Filter, Lookup, Query};
use turbine_orm::{Db, ModelExt, Value};

use super::Visit;
use super::{Visitor, column_index, item_url, render, row_title, typed};
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
/// when the row is gone. Titles show whatever the visitor may view of the target model, as in
/// the list's foreign-key columns; the links lead to pages that check permissions themselves.
#[derive(Debug, Default)]
pub(super) struct Related(HashMap<RefKey, (String, Option<String>)>);

/// A key in one entry's diff: the entry's model label, the field, the stored JSON value.
type RefKey = (String, String, String);

/// The model the field `field` of `model` points at, if it is a relation (a many-to-many
/// field's diff holds lists of keys).
fn target_of<'a>(state: &State, db: &'a Db, model: &str, field: &str) -> Option<&'a ModelMeta> {
    let f = state.by_label(model)?.meta.field_named(field)?;
    let rel = f.relation.as_ref()?;
    let stored = f.has_column() || rel.kind == RelationKind::ManyToMany;
    stored.then_some(())?;
    db.registry()?.get(&rel.to)
}

/// The key a diff stores: a JSON value (a foreign key) or its text (a many-to-many list).
fn key_of(stored: &J, ty: &FieldType) -> Option<Value> {
    let key = match stored {
        J::Null => return None,
        J::String(text) => parse_text(text, ty),
        other => json_to_value(other, ty),
    };
    key.ok()
}

impl Related {
    /// Looks up every row the diffs of `entries` point at: one query per target model.
    pub(super) async fn load(
        state: &State,
        db: &Db,
        entries: &[LogEntry],
    ) -> turbine_orm::Result<Self> {
        // Per target model: the keys wanted, and which diff values name which key.
        let mut wanted: BTreeMap<String, (&ModelMeta, BTreeMap<String, Value>)> = BTreeMap::new();
        let mut refs: Vec<(RefKey, String, String)> = Vec::new();
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
                // A many-to-many side is a list of keys.
                let named = pair
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|side| match side {
                        J::Array(keys) => keys.iter().collect::<Vec<_>>(),
                        key => vec![key],
                    });
                for side in named {
                    let Some(key) = key_of(side, &pk.ty) else {
                        continue;
                    };
                    let text = key_text(&key);
                    keys.insert(text.clone(), key);
                    refs.push((
                        (e.model.clone(), field.clone(), side.to_string()),
                        label.clone(),
                        text,
                    ));
                }
            }
        }
        let mut rows_found = HashMap::new();
        for (label, (target, keys)) in wanted {
            let (Some(pk), admin) = (target.primary_key(), state.by_label(&label)) else {
                continue;
            };
            let Some(at) = column_index(target, &pk.name) else {
                continue;
            };
            let keys: Vec<Value> = keys.into_values().collect();
            // In chunks, well under every backend's limit on bound parameters.
            for chunk in keys.chunks(500) {
                let rows = Query::new(target)
                    .filter(Filter::field(
                        pk.name.clone(),
                        Lookup::In(chunk.iter().cloned().map(Expr::Value).collect()),
                    ))
                    .fetch(db)
                    .await?;
                for row in rows {
                    let values = typed(target, row.into_values());
                    let Some(key) = values.get(at) else {
                        continue;
                    };
                    let title = row_title(admin.and_then(|a| a.title.as_deref()), target, &values);
                    let url = admin.map(|_| item_url(state, target, key));
                    rows_found.insert((label.clone(), key_text(key)), (title, url));
                }
            }
        }
        Ok(Self(
            refs.into_iter()
                .filter_map(|(at, label, key)| Some((at, rows_found.get(&(label, key))?.clone())))
                .collect(),
        ))
    }

    /// `true` if one of `keys` (a many-to-many side) names a row that was found.
    fn names_any(&self, model: &str, field: &str, keys: &[J]) -> bool {
        keys.iter().any(|k| self.get(model, field, k).is_some())
    }

    /// The title and link of the row that `field` of an entry about `model` named by `value`.
    fn get(&self, model: &str, field: &str, value: &J) -> Option<&(String, Option<String>)> {
        self.0
            .get(&(model.to_string(), field.to_string(), value.to_string()))
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
                // A stored key as the row's title, or as it is when the row is gone.
                let title = |v: &J| match (related.get(&e.model, field, v), v) {
                    (Some((title, _)), _) => title.clone(),
                    (None, J::String(s)) => s.clone(),
                    (None, other) => other.to_string(),
                };
                // The text of one side, and the link to the row it names (a many-to-many
                // side lists titles, unlinked).
                let side = |i: usize| match pair.get(i) {
                    Some(J::Null) | None => (J::Null, J::Null),
                    Some(J::Array(keys)) if related.names_any(&e.model, field, keys) => {
                        let titles: Vec<String> = keys.iter().map(title).collect();
                        (J::String(clip(&titles.join(", "), 200)), J::Null)
                    }
                    Some(v) => {
                        let url = related.get(&e.model, field, v).and_then(|(_, u)| u.clone());
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
