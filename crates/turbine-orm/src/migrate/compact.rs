//! The short form of models and fields in migration files: only what differs from what
//! `ModelMeta::new(app, name)` and `FieldMeta::new(name, ty)` give, so files stay small and a
//! diff shows what changed. Reading fills the rest from the same constructors.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::meta::{FieldMeta, FieldType, ModelMeta};

fn to_object<T: Serialize, E: serde::ser::Error>(value: &T) -> Result<Map<String, Value>, E> {
    match serde_json::to_value(value).map_err(E::custom)? {
        Value::Object(map) => Ok(map),
        _ => Err(E::custom("expected an object")),
    }
}

/// Keeps the keys of `full` that differ from `base` (and always those in `keep`).
fn prune(full: Map<String, Value>, base: &Map<String, Value>, keep: &[&str]) -> Map<String, Value> {
    full.into_iter()
        .filter(|(k, v)| keep.contains(&k.as_str()) || base.get(k) != Some(v))
        .collect()
}

/// Keys that lead an object, in this order; the rest follow alphabetically. Stable whatever
/// order `serde_json` keeps maps in.
const LEADING: &[&str] = &["app", "name", "table", "type", "kind", "ty", "column", "to"];

/// A JSON value serialized with [`LEADING`] keys first.
struct Ordered<'a>(&'a Value);

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Object(map) => {
                let rank = |k: &str| {
                    LEADING
                        .iter()
                        .position(|l| *l == k)
                        .unwrap_or(LEADING.len())
                };
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_by(|a, b| (rank(a), a).cmp(&(rank(b), b)));
                let mut out = s.serialize_map(Some(keys.len()))?;
                for k in keys {
                    out.serialize_entry(k, &Ordered(&map[k]))?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&Ordered(item))?;
                }
                out.end()
            }
            other => other.serialize(s),
        }
    }
}

fn field_value<E: serde::ser::Error>(field: &FieldMeta) -> Result<Value, E> {
    let base = to_object(&FieldMeta::new(field.name.clone(), field.ty.clone()))?;
    let mut out = prune(to_object(field)?, &base, &["name", "ty"]);
    if let Some(Value::Object(rel)) = out.get_mut("relation") {
        rel.retain(|_, v| !v.is_null());
    }
    Ok(Value::Object(out))
}

fn str_key<E: serde::de::Error>(map: &Map<String, Value>, key: &str) -> Result<String, E> {
    map.get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| E::custom(format!("missing `{key}`")))
}

/// Overlays `given` on `base` and reads the result.
fn merge<T: serde::de::DeserializeOwned, E: serde::de::Error>(
    mut base: Map<String, Value>,
    given: Map<String, Value>,
) -> Result<T, E> {
    for (k, v) in given {
        if !base.contains_key(&k) {
            return Err(E::custom(format!("unknown key `{k}`")));
        }
        base.insert(k, v);
    }
    serde_json::from_value(Value::Object(base)).map_err(E::custom)
}

fn field_from<E: serde::de::Error>(value: Value) -> Result<FieldMeta, E> {
    let Value::Object(map) = value else {
        return Err(E::custom("a field is an object"));
    };
    let name = str_key(&map, "name")?;
    let ty: FieldType = serde_json::from_value(map.get("ty").cloned().unwrap_or(Value::Null))
        .map_err(|e| E::custom(format!("field `{name}`: `ty`: {e}")))?;
    let base =
        to_object::<_, serde_json::Error>(&FieldMeta::new(name.clone(), ty)).map_err(E::custom)?;
    merge(base, map).map_err(|e: E| E::custom(format!("field `{name}`: {e}")))
}

/// `#[serde(with)]` for a [`FieldMeta`].
pub(crate) mod field {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(field: &FieldMeta, s: S) -> Result<S::Ok, S::Error> {
        Ordered(&field_value::<S::Error>(field)?).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FieldMeta, D::Error> {
        field_from(Value::deserialize(d)?)
    }
}

/// `#[serde(with)]` for a [`ModelMeta`].
pub(crate) mod model {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(model: &ModelMeta, s: S) -> Result<S::Ok, S::Error> {
        let base = to_object(&ModelMeta::new(model.app.clone(), model.name.clone()))?;
        let mut out = prune(to_object(model)?, &base, &["app", "name", "fields"]);
        let fields = model
            .fields
            .iter()
            .map(field_value::<S::Error>)
            .collect::<Result<Vec<_>, _>>()?;
        out.insert("fields".into(), Value::Array(fields));
        Ordered(&Value::Object(out)).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ModelMeta, D::Error> {
        let Value::Object(mut map) = Value::deserialize(d)? else {
            return Err(D::Error::custom("a model is an object"));
        };
        let (app, name) = (str_key(&map, "app")?, str_key(&map, "name")?);
        let fields = match map.remove("fields") {
            Some(Value::Array(fields)) => fields
                .into_iter()
                .map(field_from)
                .collect::<Result<Vec<_>, D::Error>>()?,
            None => Vec::new(),
            Some(_) => return Err(D::Error::custom("`fields` is a list")),
        };
        let base = to_object::<_, serde_json::Error>(&ModelMeta::new(app.clone(), name.clone()))
            .map_err(D::Error::custom)?;
        let mut model: ModelMeta = merge(base, map)
            .map_err(|e: D::Error| D::Error::custom(format!("{app}.{name}: {e}")))?;
        model.fields = fields;
        Ok(model)
    }
}
