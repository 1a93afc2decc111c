//! `#[derive(Choices)]`: a string-backed enum (unit variants only), stored as a string column
//! whose only allowed values are the variants' values.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Ident, LitStr};

use crate::attr::{self, Errors};
use crate::orm;

struct Variant {
    ident: Ident,
    value: String,
    label: String,
}

/// `InReview` → `in_review`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `in_review` → `In review`.
fn words(snake: &str) -> String {
    let spaced = snake.replace('_', " ");
    let mut chars = spaced.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn variant(v: &syn::Variant, errors: &mut Errors) -> Option<Variant> {
    if !matches!(v.fields, Fields::Unit) {
        errors.push(syn::Error::new_spanned(
            &v.fields,
            format!(
                "`#[derive(Choices)]` needs unit variants (a choice is one stored string), but `{}` holds data",
                v.ident
            ),
        ));
        return None;
    }
    let name = v.ident.unraw().to_string();
    let (mut value, mut label): (Option<LitStr>, Option<LitStr>) = (None, None);
    let mut seen = Default::default();
    for a in v.attrs.iter().filter(|a| a.path().is_ident("choice")) {
        errors.ok(a.parse_nested_meta(|meta| {
            match attr::key(&meta).as_str() {
                "value" => {
                    attr::once(&mut seen, &meta)?;
                    let s = attr::string(&meta)?;
                    if s.value().is_empty() {
                        return Err(syn::Error::new(
                            s.span(),
                            "a choice's value cannot be empty",
                        ));
                    }
                    value = Some(s);
                }
                "label" => {
                    attr::once(&mut seen, &meta)?;
                    label = Some(attr::string(&meta)?);
                }
                _ => return Err(attr::unknown(&meta, "choice", &["value", "label"])),
            }
            Ok(())
        }));
    }
    let value = value.map_or_else(|| snake(&name), |s| s.value());
    Some(Variant {
        ident: v.ident.clone(),
        label: label.map_or_else(|| words(&snake(&name)), |s| s.value()),
        value,
    })
}

/// Expands `#[derive(Choices)]`. See the `turbine-macros` crate for the attributes.
pub fn expand_choices(input: DeriveInput) -> syn::Result<TokenStream> {
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "`#[derive(Choices)]` does not support generics",
        ));
    }
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "`#[derive(Choices)]` is for enums with unit variants, like `enum Status { Draft, Live }`",
        ));
    };
    if data.variants.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "`#[derive(Choices)]` needs at least one variant",
        ));
    }
    let mut errors = Errors::default();
    let variants: Vec<Variant> = data
        .variants
        .iter()
        .filter_map(|v| variant(v, &mut errors))
        .collect();
    let mut values = BTreeMap::new();
    for v in &variants {
        if let Some(other) = values.insert(v.value.as_str(), &v.ident) {
            errors.push(syn::Error::new_spanned(
                &v.ident,
                format!(
                    "`{}` and `{other}` both store \"{}\": give one `#[choice(value = \"…\")]`",
                    v.ident, v.value
                ),
            ));
        }
    }
    errors.finish()?;
    Ok(expand(&input, &variants))
}

fn expand(input: &DeriveInput, variants: &[Variant]) -> TokenStream {
    let orm = orm();
    let (ident, vis) = (&input.ident, &input.vis);
    let type_name = ident.unraw().to_string();
    let max_length = variants
        .iter()
        .map(|v| v.value.chars().count())
        .max()
        .unwrap_or(1) as u32;
    let idents: Vec<_> = variants.iter().map(|v| &v.ident).collect();
    let values: Vec<_> = variants.iter().map(|v| v.value.as_str()).collect();
    let labels: Vec<_> = variants.iter().map(|v| v.label.as_str()).collect();
    quote! {
        #[automatically_derived]
        impl #orm::value::FieldValue for #ident {
            fn field_type() -> #orm::meta::FieldType {
                #orm::meta::FieldType::String { max_length: #max_length }
            }

            fn choices() -> ::std::vec::Vec<#orm::meta::Choice> {
                ::std::vec![#(#orm::meta::Choice::new(#values, #labels)),*]
            }

            fn to_value(&self) -> #orm::value::Value {
                #orm::value::Value::from(self.as_str())
            }

            fn from_value(
                value: #orm::value::Value,
            ) -> ::core::result::Result<Self, ::std::string::String> {
                let text = <::std::string::String as #orm::value::FieldValue>::from_value(value)?;
                <Self as ::core::str::FromStr>::from_str(&text)
                    .map_err(|e| ::std::string::ToString::to_string(&e))
            }
        }

        #[automatically_derived]
        #[allow(dead_code)]
        impl #ident {
            /// Every variant, in declaration order.
            #vis const ALL: &'static [Self] = &[#(Self::#idents),*];

            /// The stored value.
            #vis const fn as_str(&self) -> &'static str {
                match self {
                    #(Self::#idents => #values,)*
                }
            }

            /// The human label.
            #vis const fn label(&self) -> &'static str {
                match self {
                    #(Self::#idents => #labels,)*
                }
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[automatically_derived]
        impl ::core::str::FromStr for #ident {
            type Err = #orm::value::UnknownChoice;

            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                match s {
                    #(#values => ::core::result::Result::Ok(Self::#idents),)*
                    _ => ::core::result::Result::Err(#orm::value::UnknownChoice {
                        value: ::std::string::String::from(s),
                        type_name: #type_name,
                        allowed: &[#(#values),*],
                    }),
                }
            }
        }
    }
}
