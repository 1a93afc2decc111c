//! Filters from text: `title__icontains=rust`, `views__gte=10`, `author=3`,
//! `data__lang=en` — Django's lookup spelling, what REST query strings carry.
//!
//! ```
//! use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta};
//! use turbine_orm::query::{Expr, Filter, Lookup};
//! use turbine_orm::{Error, Value};
//!
//! let post = ModelMeta::new("blog", "Post")
//!     .field(FieldMeta::auto_id())
//!     .field(FieldMeta::new("views", FieldType::I64));
//! assert_eq!(
//!     Filter::parse_lookup(&post, "views__gte", "10").unwrap(),
//!     Filter::field("views", Lookup::Gte(Expr::Value(Value::BigInt(Some(10))))),
//! );
//! let Err(Error::Validation { field, message }) = Filter::parse_lookup(&post, "titel", "x") else {
//!     panic!()
//! };
//! assert_eq!(field, "titel");
//! assert!(message.contains("id, views"), "{message}");
//! ```

use std::borrow::Cow;
use std::sync::Arc;

use super::compile::is_text;
use super::convert::parse_text;
use super::expr::Expr;
use super::filter::{Filter, Lookup, RelatedModel, Target};
use crate::error::{Error, Result};
use crate::meta::{FieldMeta, FieldType, ModelMeta, Registry};

fn invalid(key: &str, message: String) -> Error {
    Error::Validation {
        field: key.to_owned(),
        message,
    }
}

/// The column field named `name` (or whose column is `name`, e.g. `author_id`).
fn field_for<'m>(meta: &'m ModelMeta, key: &str, name: &str) -> Result<&'m FieldMeta> {
    meta.fields
        .iter()
        .filter(|f| f.has_column())
        .find(|f| f.name == name)
        .or_else(|| {
            meta.fields
                .iter()
                .find(|f| f.has_column() && f.column == name)
        })
        .ok_or_else(|| invalid(key, super::compile::unknown_field(meta, name)))
}

impl Filter {
    /// A filter from a lookup key and a text value: `<field>[__<json key>…][__<lookup>]`, where
    /// the lookup is one of [`Lookup::NAMES`] (default `exact`). The value is parsed as the
    /// field's type; `in` takes a comma-separated list, `range` two comma-separated bounds and
    /// `isnull` a boolean. Errors are [`Error::Validation`] naming the key, the allowed fields
    /// or lookups, or the expected value.
    pub fn parse_lookup(meta: &ModelMeta, key: &str, value: &str) -> Result<Filter> {
        parse(None, meta, key, value)
    }

    /// [`parse_lookup`](Self::parse_lookup) that also follows foreign keys into the models of
    /// `registry`: `author__name__icontains=ali` filters posts by their author's name.
    pub fn parse_lookup_in(
        registry: &Registry,
        meta: &ModelMeta,
        key: &str,
        value: &str,
    ) -> Result<Filter> {
        parse(Some(registry), meta, key, value)
    }
}

fn parse(registry: Option<&Registry>, meta: &ModelMeta, key: &str, value: &str) -> Result<Filter> {
    let mut parts: Vec<&str> = key.split("__").collect();
    let name = parts.remove(0);
    let field = field_for(meta, key, name)?;
    if let (Some(registry), Some(rel), Some(next)) = (registry, &field.relation, parts.first())
        && rel.kind != crate::meta::RelationKind::ManyToMany
        && !Lookup::NAMES.contains(next)
    {
        let target = registry
            .get(&rel.to)
            .ok_or_else(|| invalid(key, format!("the model {} is not registered", rel.to)))?;
        let rest = parts.join("__");
        let inner = parse(Some(registry), target, &rest, value).map_err(|e| match e {
            Error::Validation { message, .. } => invalid(key, message),
            other => other,
        })?;
        return Ok(Filter::Related {
            field: Cow::Owned(field.name.clone()),
            target: RelatedModel::Shared(Arc::new(target.clone())),
            filter: Box::new(inner),
        });
    }
    let lookup_name = match parts.last() {
        Some(last) if Lookup::NAMES.contains(last) => parts.pop().unwrap_or("exact"),
        _ => "exact",
    };
    if !parts.is_empty() && field.ty != FieldType::Json {
        return Err(invalid(
            key,
            format!(
                "unknown lookup `{}` on `{name}`; lookups are: {}",
                parts.join("__"),
                Lookup::NAMES.join(", ")
            ),
        ));
    }
    let target = if parts.is_empty() {
        Target::Field(Cow::Owned(field.name.clone()))
    } else {
        Target::Json {
            field: Cow::Owned(field.name.clone()),
            path: parts.iter().map(|p| (*p).to_owned()).collect(),
        }
    };
    let json_key = matches!(target, Target::Json { .. });
    // JSON keys hold any JSON; a field holds its own type.
    let ty = if json_key {
        &FieldType::Json
    } else {
        &field.ty
    };
    let one = |text: &str| -> Result<Expr> {
        parse_text(text, ty)
            .map(Expr::Value)
            .map_err(|m| invalid(key, m))
    };
    let text = || -> Result<String> {
        if json_key || is_text(&field.ty) {
            Ok(value.to_owned())
        } else {
            Err(invalid(
                key,
                format!("`{lookup_name}` needs a text field; `{name}` is not text"),
            ))
        }
    };
    let lookup = match lookup_name {
        "exact" => Lookup::Eq(one(value)?),
        "ne" => Lookup::Ne(one(value)?),
        "lt" => Lookup::Lt(one(value)?),
        "lte" => Lookup::Lte(one(value)?),
        "gt" => Lookup::Gt(one(value)?),
        "gte" => Lookup::Gte(one(value)?),
        "in" => Lookup::In(
            value
                .split(',')
                .filter(|s| !s.is_empty())
                .map(one)
                .collect::<Result<_>>()?,
        ),
        "range" => match value.split_once(',') {
            Some((a, b)) => Lookup::Between(one(a)?, one(b)?),
            None => {
                return Err(invalid(key, "`range` takes two values: `low,high`".into()));
            }
        },
        "isnull" => match parse_text(value, &FieldType::Bool) {
            Ok(crate::Value::Bool(Some(b))) => Lookup::IsNull(b),
            _ => return Err(invalid(key, "`isnull` takes true or false".into())),
        },
        "contains" => Lookup::Contains(text()?),
        "icontains" => Lookup::IContains(text()?),
        "startswith" => Lookup::StartsWith(text()?),
        "istartswith" => Lookup::IStartsWith(text()?),
        "endswith" => Lookup::EndsWith(text()?),
        "iendswith" => Lookup::IEndsWith(text()?),
        "iexact" => Lookup::IExact(text()?),
        other => {
            return Err(invalid(
                key,
                format!(
                    "unknown lookup `{other}`; lookups are: {}",
                    Lookup::NAMES.join(", ")
                ),
            ));
        }
    };
    if field.relation.is_some() && lookup.is_text() {
        return Err(invalid(
            key,
            "text lookups do not apply to relations".into(),
        ));
    }
    Ok(Filter::new(target, lookup))
}
