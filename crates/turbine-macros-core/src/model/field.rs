//! One field of a `#[derive(Model)]` struct: its kind (plain, foreign key, many-to-many,
//! skipped) and its `#[field(…)]` attributes, checked against each other.

use std::collections::BTreeSet;

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Field, Ident, LitStr, Type, Visibility};

use crate::attr::{self, Errors};
use crate::ty;

/// Every key `#[field(…)]` knows.
pub(crate) const KEYS: &[&str] = &[
    "primary_key",
    "max_length",
    "decimal",
    "label",
    "help_text",
    "on_delete",
    "related_name",
    "one_to_one",
    "through",
    "auto_now",
    "auto_now_add",
    "default",
    "db_default",
    "unique",
    "index",
    "column",
    "read_only",
    "skip",
];

/// What a field stores.
pub(crate) enum Kind {
    /// A value with a column (`String`, `i64`, `Option<T>`, a `Choices` enum, `Json<T>`…).
    Plain,
    /// `ForeignKey<T>` or `Option<ForeignKey<T>>`: a column holding `T`'s key.
    ForeignKey {
        /// The target model.
        target: Type,
        /// Written as `Option<ForeignKey<T>>`.
        nullable: bool,
    },
    /// `ManyToMany<T>`: no column.
    ManyToMany {
        /// The target model.
        target: Type,
    },
    /// `#[field(skip)]`: not stored.
    Skip,
}

/// The `#[field(…)]` attributes of one field.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    pub(crate) primary_key: Option<Span>,
    pub(crate) max_length: Option<u32>,
    pub(crate) decimal: Option<(u8, u8)>,
    pub(crate) label: Option<LitStr>,
    pub(crate) help_text: Option<LitStr>,
    pub(crate) on_delete: Option<(&'static str, Span)>,
    pub(crate) related_name: Option<LitStr>,
    pub(crate) one_to_one: bool,
    pub(crate) through: Option<LitStr>,
    pub(crate) auto_now: bool,
    pub(crate) auto_now_add: bool,
    pub(crate) default: Option<TokenStream>,
    pub(crate) db_default: Option<LitStr>,
    pub(crate) unique: bool,
    pub(crate) index: bool,
    pub(crate) read_only: bool,
    pub(crate) column: Option<LitStr>,
    pub(crate) skip: bool,
    /// Every key given, with its span.
    pub(crate) given: Vec<(&'static str, Span)>,
    /// An attribute could not be read (so a missing key may be a typo already reported).
    pub(crate) broken: bool,
}

/// One field of the struct.
pub(crate) struct FieldSpec {
    /// As written (maybe `r#type`).
    pub(crate) ident: Ident,
    /// The name in the metadata (`type` for `r#type`).
    pub(crate) name: String,
    pub(crate) vis: Visibility,
    pub(crate) ty: Type,
    pub(crate) kind: Kind,
    pub(crate) attrs: FieldAttrs,
}

impl FieldSpec {
    /// `true` when the field has a column (not many-to-many, not skipped).
    pub(crate) fn has_column(&self) -> bool {
        matches!(self.kind, Kind::Plain | Kind::ForeignKey { .. })
    }
}

const ON_DELETE: &[(&str, &str)] = &[
    ("cascade", "Cascade"),
    ("restrict", "Restrict"),
    ("set_null", "SetNull"),
    ("protect", "Protect"),
];

fn parse_attrs(field: &Field, errors: &mut Errors) -> FieldAttrs {
    let mut a = FieldAttrs::default();
    let mut seen = BTreeSet::new();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("field")) {
        let result = attr.parse_nested_meta(|meta| {
            let k = attr::key(&meta);
            let Some(&key) = KEYS.iter().find(|&&x| x == k) else {
                return Err(attr::unknown(&meta, "field", KEYS));
            };
            attr::once(&mut seen, &meta)?;
            let span = meta.path.span();
            match key {
                "primary_key" => a.primary_key = attr::flag(&meta)?,
                "unique" => a.unique = attr::flag(&meta)?.is_some(),
                "index" => a.index = attr::flag(&meta)?.is_some(),
                "read_only" => a.read_only = attr::flag(&meta)?.is_some(),
                "one_to_one" => a.one_to_one = attr::flag(&meta)?.is_some(),
                "auto_now" => a.auto_now = attr::flag(&meta)?.is_some(),
                "auto_now_add" => a.auto_now_add = attr::flag(&meta)?.is_some(),
                "skip" => a.skip = attr::flag(&meta)?.is_some(),
                "label" => a.label = Some(attr::string(&meta)?),
                "help_text" => a.help_text = Some(attr::string(&meta)?),
                "related_name" => a.related_name = Some(attr::string(&meta)?),
                "through" => a.through = Some(attr::string(&meta)?),
                "db_default" => a.db_default = Some(attr::string(&meta)?),
                "column" => a.column = Some(attr::string(&meta)?),
                "default" => a.default = Some(attr::literal(&meta)?.0),
                "max_length" => {
                    let (n, at) = attr::int::<u32>(&meta, "200")?;
                    if n == 0 {
                        return Err(syn::Error::new(at, "`max_length` must be at least 1"));
                    }
                    a.max_length = Some(n);
                }
                "on_delete" => {
                    let s = attr::string(&meta)?;
                    let Some((_, variant)) = ON_DELETE.iter().find(|(v, _)| *v == s.value())
                    else {
                        return Err(syn::Error::new(
                            s.span(),
                            "`on_delete` is one of \"cascade\", \"restrict\", \"set_null\", \"protect\"",
                        ));
                    };
                    a.on_delete = Some((variant, s.span()));
                }
                "decimal" => a.decimal = Some(parse_decimal(&meta)?),
                _ => unreachable!("every key in KEYS is handled"),
            }
            a.given.push((key, span));
            Ok(())
        });
        if errors.ok(result).is_none() {
            a.broken = true;
        }
    }
    a
}

fn parse_decimal(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<(u8, u8)> {
    let (mut precision, mut scale) = (None, None);
    attr::nested(meta, "decimal(precision = 10, scale = 2)", |inner| {
        match attr::key(&inner).as_str() {
            "precision" => precision = Some(attr::int::<u8>(&inner, "10")?),
            "scale" => scale = Some(attr::int::<u8>(&inner, "2")?),
            _ => return Err(attr::unknown(&inner, "decimal", &["precision", "scale"])),
        }
        Ok(())
    })?;
    let (Some((p, p_at)), Some((s, s_at))) = (precision, scale) else {
        return Err(meta.error("write `decimal(precision = 10, scale = 2)`: both are needed"));
    };
    if !(1..=28).contains(&p) {
        return Err(syn::Error::new(
            p_at,
            "decimal `precision` is 1 to 28 (the digits a rust_decimal::Decimal holds)",
        ));
    }
    if s > p {
        return Err(syn::Error::new(
            s_at,
            "decimal `scale` cannot exceed `precision`",
        ));
    }
    Ok((p, s))
}

fn kind(ty: &Type) -> syn::Result<Kind> {
    if let Some(target) = ty::arg_of(ty, "ManyToMany") {
        return Ok(Kind::ManyToMany {
            target: target.clone(),
        });
    }
    if let Some(inner) = ty::option_inner(ty) {
        if ty::arg_of(inner, "ManyToMany").is_some() {
            return Err(syn::Error::new_spanned(
                ty,
                "a many-to-many field has no column and cannot be `Option`: write `ManyToMany<T>`",
            ));
        }
        if let Some(target) = ty::arg_of(inner, "ForeignKey") {
            return Ok(Kind::ForeignKey {
                target: target.clone(),
                nullable: true,
            });
        }
    }
    if let Some(target) = ty::arg_of(ty, "ForeignKey") {
        return Ok(Kind::ForeignKey {
            target: target.clone(),
            nullable: false,
        });
    }
    Ok(Kind::Plain)
}

/// Where a key applies, for messages.
fn applies(key: &str) -> &'static str {
    match key {
        "on_delete" | "one_to_one" => "`ForeignKey<T>` fields",
        "related_name" => "`ForeignKey<T>` and `ManyToMany<T>` fields",
        "through" => "`ManyToMany<T>` fields",
        "max_length" => "`String` fields",
        "decimal" => "`Decimal` fields",
        "auto_now" | "auto_now_add" => "date and datetime fields (`DateTime<Utc>`, `NaiveDate`)",
        _ => "fields with a column (not `ManyToMany<T>`)",
    }
}

fn allowed(kind: &Kind, ty: &Type, key: &str) -> bool {
    match kind {
        Kind::Skip => key == "skip",
        Kind::ManyToMany { .. } => matches!(
            key,
            "label" | "help_text" | "related_name" | "through" | "read_only"
        ),
        Kind::ForeignKey { .. } => !matches!(
            key,
            "max_length" | "decimal" | "auto_now" | "auto_now_add" | "through"
        ),
        Kind::Plain => match key {
            "on_delete" | "one_to_one" | "related_name" | "through" => false,
            "max_length" => ty::named(ty, &["String"]),
            "decimal" => ty::named(ty, &["Decimal"]),
            "auto_now" | "auto_now_add" => ty::named(ty, &["DateTime", "NaiveDate"]),
            _ => true,
        },
    }
}

impl FieldSpec {
    /// Reads and checks one named field; problems go to `errors`.
    pub(crate) fn parse(field: &Field, errors: &mut Errors) -> Option<Self> {
        let ident = field.ident.clone()?;
        let name = ident.unraw().to_string();
        let attrs = parse_attrs(field, errors);
        let kind = if attrs.skip {
            Kind::Skip
        } else {
            errors.ok(kind(&field.ty))?
        };
        let what = match &kind {
            Kind::Skip => "skipped (`skip`: not stored)".to_string(),
            Kind::ManyToMany { .. } => "a many-to-many field".to_string(),
            Kind::ForeignKey { .. } => "a foreign key".to_string(),
            Kind::Plain => format!("of type `{}`", ty::show(&field.ty)),
        };
        for (key, span) in &attrs.given {
            if matches!(kind, Kind::Skip) && *key != "skip" {
                errors.push(syn::Error::new(
                    *span,
                    format!(
                        "`{key}` cannot be combined with `skip`: a skipped field is not stored"
                    ),
                ));
            } else if !allowed(&kind, &field.ty, key) {
                errors.push(syn::Error::new(
                    *span,
                    format!("`{key}` applies to {}; `{name}` is {what}", applies(key)),
                ));
            }
        }
        if attrs.auto_now && attrs.auto_now_add {
            errors.push(syn::Error::new_spanned(
                &ident,
                "`auto_now` and `auto_now_add` exclude each other: pick one",
            ));
        }
        if let Kind::ForeignKey { target, nullable } = &kind {
            match attrs.on_delete {
                None if attrs.broken => {}
                None => errors.push(syn::Error::new_spanned(
                    &ident,
                    format!(
                        "foreign key `{name}` needs `#[field(on_delete = \"…\")]`: what happens to this row when the `{}` it points at is deleted — \"cascade\", \"restrict\", \"set_null\" or \"protect\"",
                        ty::show(target)
                    ),
                )),
                Some(("SetNull", at)) if !nullable => errors.push(syn::Error::new(
                    at,
                    format!(
                        "`on_delete = \"set_null\"` needs a nullable field: write `Option<ForeignKey<{}>>`",
                        ty::show(target)
                    ),
                )),
                Some(_) => {}
            }
        }
        Some(Self {
            ident,
            name,
            vis: field.vis.clone(),
            ty: field.ty.clone(),
            kind,
            attrs,
        })
    }
}
