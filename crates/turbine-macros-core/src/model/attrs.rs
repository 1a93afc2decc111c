//! The `#[model(…)]` attributes of a `#[derive(Model)]` struct.

use std::collections::BTreeSet;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr};

use crate::attr::{self, Errors};

/// Every key `#[model(…)]` knows.
pub(crate) const KEYS: &[&str] = &[
    "app",
    "table",
    "ordering",
    "verbose_name",
    "verbose_name_plural",
    "hooks",
    "index",
    "unique_together",
    "check",
    "crate",
];

/// An index or unique-together constraint.
pub(crate) struct IndexAttr {
    pub(crate) fields: Vec<LitStr>,
    pub(crate) name: Option<LitStr>,
    pub(crate) unique: bool,
    /// `kind = "trigram"` (an index only).
    pub(crate) trigram: bool,
}

/// A check constraint.
pub(crate) struct CheckAttr {
    pub(crate) name: LitStr,
    pub(crate) sql: LitStr,
}

/// The `#[model(…)]` attributes (several `#[model]` attributes add up).
#[derive(Default)]
pub(crate) struct ModelAttrs {
    pub(crate) app: Option<LitStr>,
    pub(crate) table: Option<LitStr>,
    pub(crate) ordering: Vec<LitStr>,
    pub(crate) verbose_name: Option<LitStr>,
    pub(crate) verbose_name_plural: Option<LitStr>,
    pub(crate) hooks: Option<Span>,
    pub(crate) indexes: Vec<IndexAttr>,
    pub(crate) checks: Vec<CheckAttr>,
    /// `crate = "turbine_orm"`: the path of the ORM crate in generated code.
    pub(crate) krate: Option<syn::Path>,
}

fn identifier(s: &LitStr, what: &str) -> syn::Result<()> {
    let v = s.value();
    if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(syn::Error::new(
            s.span(),
            format!("{what} is letters, digits and `_`, not `{v}`"),
        ));
    }
    Ok(())
}

fn parse_index(meta: &syn::meta::ParseNestedMeta<'_>, unique: bool) -> syn::Result<IndexAttr> {
    let k = attr::key(meta);
    let (mut fields, mut name, mut trigram) = (None, None, false);
    let mut seen = BTreeSet::new();
    attr::nested(meta, &format!("{k}(fields = [\"a\", \"b\"])"), |inner| {
        match attr::key(&inner).as_str() {
            "fields" => {
                attr::once(&mut seen, &inner)?;
                fields = Some(attr::strings(&inner)?);
            }
            "name" => {
                attr::once(&mut seen, &inner)?;
                let s = attr::string(&inner)?;
                identifier(&s, "an index name")?;
                name = Some(s);
            }
            "kind" if !unique => {
                attr::once(&mut seen, &inner)?;
                let s = attr::string(&inner)?;
                trigram = match s.value().as_str() {
                    "btree" => false,
                    "trigram" => true,
                    other => {
                        return Err(syn::Error::new(
                            s.span(),
                            format!("an index kind is `btree` or `trigram`, not `{other}`"),
                        ));
                    }
                };
            }
            _ if unique => return Err(attr::unknown(&inner, &k, &["fields", "name"])),
            _ => return Err(attr::unknown(&inner, &k, &["fields", "name", "kind"])),
        }
        Ok(())
    })?;
    let Some(fields) = fields else {
        return Err(meta.error(format!(
            "`{k}` needs the fields: write `{k}(fields = [\"a\", \"b\"])`"
        )));
    };
    Ok(IndexAttr {
        fields,
        name,
        unique,
        trigram,
    })
}

fn parse_check(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<CheckAttr> {
    let (mut name, mut sql) = (None, None);
    let mut seen = BTreeSet::new();
    let example = "check(name = \"price_nonneg\", sql = \"price >= 0\")";
    attr::nested(meta, example, |inner| {
        match attr::key(&inner).as_str() {
            "name" => {
                attr::once(&mut seen, &inner)?;
                let s = attr::string(&inner)?;
                identifier(&s, "a check name")?;
                name = Some(s);
            }
            "sql" => {
                attr::once(&mut seen, &inner)?;
                sql = Some(attr::string(&inner)?);
            }
            _ => return Err(attr::unknown(&inner, "check", &["name", "sql"])),
        }
        Ok(())
    })?;
    match (name, sql) {
        (Some(name), Some(sql)) => Ok(CheckAttr { name, sql }),
        _ => Err(meta.error(format!("`check` needs a name and SQL: write `{example}`"))),
    }
}

impl ModelAttrs {
    /// Reads every `#[model(…)]` attribute; problems go to `errors`.
    pub(crate) fn parse(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let mut m = Self::default();
        let mut seen = BTreeSet::new();
        for attr in attrs.iter().filter(|a| a.path().is_ident("model")) {
            let result = attr.parse_nested_meta(|meta| {
                let k = attr::key(&meta);
                if !KEYS.contains(&k.as_str()) {
                    return Err(attr::unknown(&meta, "model", KEYS));
                }
                if !matches!(k.as_str(), "index" | "unique_together" | "check") {
                    attr::once(&mut seen, &meta)?;
                }
                match k.as_str() {
                    "app" => {
                        let s = attr::string(&meta)?;
                        identifier(&s, "an app name")?;
                        m.app = Some(s);
                    }
                    "table" => {
                        let s = attr::string(&meta)?;
                        identifier(&s, "a table name")?;
                        m.table = Some(s);
                    }
                    "verbose_name" => m.verbose_name = Some(attr::string(&meta)?),
                    "verbose_name_plural" => m.verbose_name_plural = Some(attr::string(&meta)?),
                    "ordering" => m.ordering = attr::strings(&meta)?,
                    "hooks" => m.hooks = attr::flag(&meta)?.map(|_| meta.path.span()),
                    "index" => m.indexes.push(parse_index(&meta, false)?),
                    "unique_together" => m.indexes.push(parse_index(&meta, true)?),
                    "check" => m.checks.push(parse_check(&meta)?),
                    "crate" => m.krate = Some(attr::string(&meta)?.parse::<syn::Path>()?),
                    _ => unreachable!("every key in KEYS is handled"),
                }
                Ok(())
            });
            errors.ok(result);
        }
        m
    }
}
