//! `#[derive(Model)]`: reads the struct, checks it as a whole, then generates (see `expand`).

mod attrs;
mod expand;
mod field;

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use syn::{Data, DataStruct, DeriveInput, Fields, LitStr};

use crate::attr::Errors;
use crate::ty;
use attrs::ModelAttrs;
use field::{FieldSpec, Kind};

/// How the primary key gets its value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auto {
    /// Given by the application (a natural key).
    None,
    /// `id: i64` / `id: i32`: an identity column.
    Identity,
    /// `id: Uuid`: a UUID v7 made by the ORM.
    UuidV7,
}

/// Expands `#[derive(Model)]`. See the `turbine-macros` crate for the attributes.
pub fn expand_model(input: DeriveInput) -> syn::Result<TokenStream> {
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "`#[derive(Model)]` does not support generics: a model is one table, so write a concrete struct",
        ));
    }
    let named = match &input.data {
        Data::Struct(DataStruct {
            fields: Fields::Named(named),
            ..
        }) => named,
        Data::Struct(DataStruct { struct_token, .. }) => {
            return Err(syn::Error::new_spanned(
                struct_token,
                "`#[derive(Model)]` needs a struct with named fields, like `struct Post { id: i64, title: String }`",
            ));
        }
        Data::Enum(e) => {
            return Err(syn::Error::new_spanned(
                e.enum_token,
                "`#[derive(Model)]` is for structs; for a string-backed enum field use `#[derive(Choices)]`",
            ));
        }
        Data::Union(u) => {
            return Err(syn::Error::new_spanned(
                u.union_token,
                "`#[derive(Model)]` is for structs with named fields, not unions",
            ));
        }
    };
    let mut errors = Errors::default();
    let attrs = ModelAttrs::parse(&input.attrs, &mut errors);
    let specs: Vec<FieldSpec> = named
        .named
        .iter()
        .filter_map(|f| FieldSpec::parse(f, &mut errors))
        .collect();
    let pk = primary_key(&input, &specs, &mut errors);
    check_columns(&specs, &mut errors);
    check_references(&attrs, &specs, &mut errors);
    errors.finish()?;
    let Some((pk, auto)) = pk else {
        unreachable!("no primary key is an error above")
    };
    let _path = crate::OrmPath::set(attrs.krate.as_ref().map(|p| quote::quote!(::#p)));
    Ok(expand::model(&input, &attrs, &specs, pk, auto))
}

fn primary_key(
    input: &DeriveInput,
    specs: &[FieldSpec],
    errors: &mut Errors,
) -> Option<(usize, Auto)> {
    let marked: Vec<usize> = (0..specs.len())
        .filter(|&i| specs[i].attrs.primary_key.is_some())
        .collect();
    if let [first, rest @ ..] = marked.as_slice() {
        for &other in rest {
            let at = specs[other].attrs.primary_key.expect("marked");
            errors.push(syn::Error::new(
                at,
                format!(
                    "a model has one primary key, and `{}` is already marked `primary_key`",
                    specs[*first].name
                ),
            ));
        }
    }
    let pk = marked
        .first()
        .copied()
        .or_else(|| specs.iter().position(|f| f.name == "id" && f.has_column()));
    let Some(pk) = pk else {
        errors.push(syn::Error::new_spanned(
            &input.ident,
            format!(
                "`{}` has no primary key: add a field `id: i64` (an automatic key) or `id: Uuid`, or mark one field `#[field(primary_key)]`",
                input.ident
            ),
        ));
        return None;
    };
    let f = &specs[pk];
    if ty::option_inner(&f.ty).is_some() {
        errors.push(syn::Error::new_spanned(
            &f.ty,
            format!(
                "the primary key `{}` cannot be `Option`: an automatic `id: i64` is 0 until the row is inserted",
                f.name
            ),
        ));
    }
    let auto = match ty::last(&f.ty) {
        _ if f.name != "id" || !matches!(f.kind, Kind::Plain) => Auto::None,
        Some((n, None)) if n == "i64" || n == "i32" => Auto::Identity,
        Some((n, None)) if n == "Uuid" => Auto::UuidV7,
        _ => Auto::None,
    };
    Some((pk, auto))
}

/// The column of a field, as the metadata will name it.
fn column(f: &FieldSpec) -> Option<String> {
    if let Some(c) = &f.attrs.column {
        return Some(c.value());
    }
    match f.kind {
        Kind::Plain => Some(f.name.clone()),
        Kind::ForeignKey { .. } => Some(format!("{}_id", f.name)),
        Kind::ManyToMany { .. } | Kind::Skip => None,
    }
}

fn check_columns(specs: &[FieldSpec], errors: &mut Errors) {
    let mut used: BTreeMap<String, &str> = BTreeMap::new();
    for f in specs {
        let Some(col) = column(f) else { continue };
        if let Some(c) = &f.attrs.column
            && (c.value().is_empty()
                || !c
                    .value()
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_'))
        {
            errors.push(syn::Error::new(
                c.span(),
                "a column name is letters, digits and `_`",
            ));
        }
        if let Some(other) = used.insert(col.clone(), &f.name) {
            errors.push(syn::Error::new_spanned(
                &f.ident,
                format!(
                    "field `{}` uses column `{col}`, which is already the column of `{other}`; give one `#[field(column = \"…\")]`",
                    f.name
                ),
            ));
        }
    }
}

/// Checks that `name` names a column field.
/// A trigram index covers text: `String` (or `Option<String>`) fields.
fn text_field(specs: &[FieldSpec], name: &str, at: &LitStr) -> syn::Result<()> {
    match specs.iter().find(|f| f.name == name) {
        Some(f) if matches!(f.kind, Kind::Plain) && !ty::named(&f.ty, &["String"]) => {
            Err(syn::Error::new(
                at.span(),
                format!(
                    "a trigram index covers `String` fields; `{name}` is of type `{}`",
                    ty::show(&f.ty)
                ),
            ))
        }
        _ => Ok(()),
    }
}

fn column_field(specs: &[FieldSpec], name: &str, at: &LitStr) -> syn::Result<()> {
    match specs.iter().find(|f| f.name == name) {
        Some(f) if f.has_column() => Ok(()),
        Some(f) => Err(syn::Error::new(
            at.span(),
            format!(
                "`{}` has no column ({}), so it cannot be indexed or ordered by",
                f.name,
                if matches!(f.kind, Kind::Skip) {
                    "it is `skip`"
                } else {
                    "it is a many-to-many field"
                }
            ),
        )),
        None => Err(syn::Error::new(
            at.span(),
            format!(
                "no field `{name}`; the column fields are: {}",
                specs
                    .iter()
                    .filter(|f| f.has_column())
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

fn check_references(attrs: &ModelAttrs, specs: &[FieldSpec], errors: &mut Errors) {
    for index in &attrs.indexes {
        for f in &index.fields {
            errors.ok(column_field(specs, &f.value(), f));
            if index.trigram {
                errors.ok(text_field(specs, &f.value(), f));
            }
        }
    }
    for o in &attrs.ordering {
        let v = o.value();
        errors.ok(column_field(specs, v.strip_prefix('-').unwrap_or(&v), o));
    }
}
