//! Rows as clients see them: a JSON object of the resource's readable fields, related objects
//! as their keys, or expanded (`?expand=`) as their own resource shows them.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value as J;
use turbine_orm::meta::FieldType;
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

/// A stored value of a field, serialized as clients see it, without building a JSON value in
/// between; values a backend returns loosely (SQLite's text timestamps and integer booleans)
/// are converted to the field's type first.
struct FieldJson<'a>(&'a Value, &'a FieldType);

impl Serialize for FieldJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use FieldType as T;
        match (self.0, self.1) {
            (v, _) if is_null(v) => s.serialize_none(),
            (Value::Bool(Some(b)), T::Bool) => s.serialize_bool(*b),
            (Value::SmallInt(Some(i)), T::I16) => s.serialize_i16(*i),
            (Value::Int(Some(i)), T::I32) => s.serialize_i32(*i),
            (Value::BigInt(Some(i)), T::I64) => s.serialize_i64(*i),
            (Value::Double(Some(f)), T::F64) => s.serialize_f64(*f),
            (Value::Float(Some(f)), T::F32) => s.serialize_f32(*f),
            (Value::String(Some(t)), T::String { .. } | T::Text) => s.serialize_str(t),
            (Value::ChronoDateTimeUtc(Some(t)), T::DateTime) => {
                s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            }
            (Value::Json(Some(j)), T::Json) => j.serialize(s),
            (v, ty) => json_of(&coerce(v.clone(), ty)).serialize(s),
        }
    }
}

/// One object as its resource shows it: the readable fields of a row (or of the slice of a
/// joined row that holds it), foreign keys replaced by the expanded objects, then the entries
/// computed or loaded for it.
struct ObjectView<'a> {
    state: &'a ApiState,
    resource: &'a Resource,
    values: &'a [Value],
    only: Option<&'a [String]>,
    forwards: &'a [Forward],
    extra: &'a [(&'a str, J)],
}

impl Serialize for ObjectView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (i, f) in self.resource.readable() {
            let forward = self.forwards.iter().find(|fw| fw.name == f.name);
            // What is expanded is shown even when `fields` leaves it out.
            if forward.is_none() && self.only.is_some_and(|o| !o.contains(&f.name)) {
                continue;
            }
            match forward {
                Some(fw) => map.serialize_entry(&f.name, &self.joined(fw))?,
                None => match self.values.get(i) {
                    Some(v) => map.serialize_entry(&f.name, &FieldJson(v, &f.ty))?,
                    None => map.serialize_entry(&f.name, &())?,
                },
            }
        }
        for (name, value) in self.extra {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'a> ObjectView<'a> {
    /// The object a foreign key points at, from its joined columns (`None` when it is NULL).
    fn joined(&self, fw: &Forward) -> Option<ObjectView<'a>> {
        let target = &self.state.resources[fw.target];
        let end = (fw.offset + target.width()).min(self.values.len());
        let values = self.values.get(fw.offset..end)?;
        let (key_pos, _) = target.key();
        match values.get(key_pos) {
            Some(k) if !is_null(k) => Some(ObjectView {
                state: self.state,
                resource: target,
                values,
                only: None,
                forwards: &[],
                extra: &[],
            }),
            _ => None,
        }
    }
}

impl Resource {
    /// Number of column fields.
    pub(crate) fn width(&self) -> usize {
        self.columns().count()
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

/// The objects of a page (or one object), ready to serialize: the rows and, per row, what was
/// computed or loaded for it. Serializes as a JSON array.
pub(crate) struct Objects<'a> {
    state: &'a ApiState,
    resource: &'a Resource,
    rows: Vec<&'a [Value]>,
    only: Option<&'a [String]>,
    forwards: &'a [Forward],
    extras: Vec<Vec<(&'a str, J)>>,
}

impl<'a> Objects<'a> {
    fn view(&'a self, i: usize) -> ObjectView<'a> {
        ObjectView {
            state: self.state,
            resource: self.resource,
            values: self.rows[i],
            only: self.only,
            forwards: self.forwards,
            extra: self.extras.get(i).map_or(&[], Vec::as_slice),
        }
    }

    /// The first object's JSON (`null` without one).
    pub(crate) fn first_bytes(&self) -> Vec<u8> {
        let bytes = if self.rows.is_empty() {
            serde_json::to_vec(&())
        } else {
            serde_json::to_vec(&self.view(0))
        };
        bytes.expect("objects always serialize")
    }
}

impl Serialize for Objects<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.rows.len()))?;
        for i in 0..self.rows.len() {
            seq.serialize_element(&self.view(i))?;
        }
        seq.end()
    }
}

/// The objects of `rows` (main model's columns, then joined ones), with every expansion:
/// computed fields (one call per page) and reverse relations (one query each) are loaded here.
pub(crate) async fn objects<'a>(
    state: &'a ApiState,
    resource: &'a Resource,
    rows: Vec<&'a [Value]>,
    only: Option<&'a [String]>,
    expansion: &'a Expansion,
    db: &Db,
) -> turbine_orm::Result<Objects<'a>> {
    let mut extras: Vec<Vec<(&'a str, J)>> = vec![Vec::new(); rows.len()];
    let (key_pos, _) = resource.key();
    let keys: Vec<Value> = rows.iter().map(|r| r[key_pos].clone()).collect();
    for c in &resource.computed {
        if only.is_some_and(|o| !o.contains(&c.name)) || rows.is_empty() {
            continue;
        }
        let values = (c.compute)(db.clone(), keys.clone())
            .await
            .map_err(|e| turbine_orm::Error::Query(format!("computing `{}`: {e}", c.name)))?;
        for (extra, value) in extras.iter_mut().zip(values) {
            extra.push((c.name.as_str(), value));
        }
    }
    if !rows.is_empty() {
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
                let view = ObjectView {
                    state,
                    resource: child,
                    values,
                    only: None,
                    forwards: &rev.forwards,
                    extra: &[],
                };
                let json = serde_json::to_value(&view)
                    .map_err(|e| turbine_orm::Error::Query(e.to_string()))?;
                by_parent
                    .entry(json_of(&values[rev.fk_pos]).to_string())
                    .or_default()
                    .push(json);
            }
            for (extra, key) in extras.iter_mut().zip(&keys) {
                let list = by_parent
                    .remove(&json_of(key).to_string())
                    .unwrap_or_default();
                extra.push((rev.name.as_str(), J::Array(list)));
            }
        }
    }
    Ok(Objects {
        state,
        resource,
        rows,
        only,
        forwards: &expansion.forwards,
        extras,
    })
}
