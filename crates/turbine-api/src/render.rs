//! Rows as clients see them: a JSON object of the resource's readable fields, related objects
//! as their keys, or expanded (`?expand=`) as their own resource shows them.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value as J};
use turbine_orm::query::convert::{coerce, value_to_json};
use turbine_orm::query::{Filter, Lookup, Query};
use turbine_orm::value::is_null;
use turbine_orm::{Db, Value};

use crate::api::ApiState;
use crate::resource::Resource;

/// A foreign key loaded with a join: its joined columns follow the main model's.
#[derive(Debug, Clone)]
pub(crate) struct Forward {
    /// The name clients expand (the foreign key field's name).
    pub(crate) name: String,
    /// The resource that shows the target.
    pub(crate) target: usize,
    /// Where the target's columns start in a joined row.
    pub(crate) offset: usize,
}

/// A reverse relation loaded with a second query (the children of each row).
#[derive(Debug, Clone)]
pub(crate) struct Reverse {
    /// The related name clients expand.
    pub(crate) name: String,
    /// The resource that shows the children.
    pub(crate) child: usize,
    /// The children's foreign key field (to the parent) and its column position.
    pub(crate) fk: String,
    pub(crate) fk_pos: usize,
    /// Foreign keys of the children to join as well (`comments.author`).
    pub(crate) forwards: Vec<Forward>,
}

/// What one request expands.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expansion {
    pub(crate) forwards: Vec<Forward>,
    pub(crate) reverses: Vec<Reverse>,
}

/// A value as JSON for clients: bytes as base64 text, timestamps as RFC 3339 in UTC with `Z`.
pub(crate) fn json_of(value: &Value) -> J {
    match value {
        Value::Bytes(Some(b)) => J::String(STANDARD.encode(b)),
        Value::ChronoDateTimeUtc(Some(t)) => {
            J::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        }
        other => value_to_json(other),
    }
}

/// A stored value as JSON for a field (the backends return some types loosely: SQLite has
/// text timestamps and integer booleans).
pub(crate) fn field_json(value: &Value, ty: &turbine_orm::meta::FieldType) -> J {
    json_of(&coerce(value.clone(), ty))
}

impl Resource {
    /// The object for a row's values (column order), keeping only `only` when given.
    pub(crate) fn object(&self, values: &[Value], only: Option<&[String]>) -> Map<String, J> {
        let mut map = Map::new();
        for (i, f) in self.readable() {
            if only.is_some_and(|o| !o.contains(&f.name)) {
                continue;
            }
            map.insert(
                f.name.clone(),
                values.get(i).map_or(J::Null, |v| field_json(v, &f.ty)),
            );
        }
        map
    }

    /// Number of column fields.
    pub(crate) fn width(&self) -> usize {
        self.meta.fields.iter().filter(|f| f.has_column()).count()
    }
}

/// Adds the joined models of `forwards` to a query.
pub(crate) fn join<'m>(
    state: &'m ApiState,
    mut query: Query<'m>,
    forwards: &[Forward],
) -> turbine_orm::Result<Query<'m>> {
    for fw in forwards {
        query = query.select_related(&fw.name, &state.resources[fw.target].meta)?;
    }
    Ok(query)
}

/// Fills the forward expansions of one object from its joined row.
fn fill_forwards(state: &ApiState, map: &mut Map<String, J>, row: &[Value], forwards: &[Forward]) {
    for fw in forwards {
        let target = &state.resources[fw.target];
        let values = &row[fw.offset..(fw.offset + target.width()).min(row.len())];
        let (key_pos, _) = target.key();
        let json = match values.get(key_pos) {
            Some(k) if !is_null(k) => J::Object(target.object(values, None)),
            _ => J::Null,
        };
        map.insert(fw.name.clone(), json);
    }
}

/// The objects of `rows` (main model's columns, then joined ones), with every expansion.
pub(crate) async fn objects(
    state: &ApiState,
    resource: &Resource,
    rows: &[&[Value]],
    only: Option<&[String]>,
    expansion: &Expansion,
    db: &Db,
) -> turbine_orm::Result<Vec<J>> {
    let mut out: Vec<Map<String, J>> = rows
        .iter()
        .map(|row| {
            let mut map = resource.object(row, only);
            fill_forwards(state, &mut map, row, &expansion.forwards);
            map
        })
        .collect();
    let (key_pos, _) = resource.key();
    let keys: Vec<Value> = rows.iter().map(|r| r[key_pos].clone()).collect();
    for c in &resource.computed {
        if only.is_some_and(|o| !o.contains(&c.name)) || rows.is_empty() {
            continue;
        }
        let values = (c.compute)(db.clone(), keys.clone())
            .await
            .map_err(|e| turbine_orm::Error::Query(format!("computing `{}`: {e}", c.name)))?;
        for (map, value) in out.iter_mut().zip(values) {
            map.insert(c.name.clone(), value);
        }
    }
    if !expansion.reverses.is_empty() && !rows.is_empty() {
        for rev in &expansion.reverses {
            let child = &state.resources[rev.child];
            let query = Query::new(&child.meta).filter(Filter::field(
                rev.fk.clone(),
                Lookup::In(
                    keys.iter()
                        .cloned()
                        .map(turbine_orm::query::Expr::Value)
                        .collect(),
                ),
            ));
            let children = join(state, query, &rev.forwards)?.fetch(db).await?;
            let mut by_parent: HashMap<String, Vec<J>> = HashMap::new();
            for row in &children {
                let values = row.values();
                let mut map = child.object(values, None);
                fill_forwards(state, &mut map, values, &rev.forwards);
                by_parent
                    .entry(json_of(&values[rev.fk_pos]).to_string())
                    .or_default()
                    .push(J::Object(map));
            }
            for (map, key) in out.iter_mut().zip(&keys) {
                let list = by_parent
                    .remove(&json_of(key).to_string())
                    .unwrap_or_default();
                map.insert(rev.name.clone(), J::Array(list));
            }
        }
    }
    Ok(out.into_iter().map(J::Object).collect())
}
