//! The code `#[derive(Model)]` generates: `impl Model` (metadata built once, reading and writing
//! values in column order, the key, one field at a time for write-back, the relation fields for
//! eager loading, hooks) and the typed column constants.
//!
//! Generated code names only `::turbine::__private::orm::…`, so apps never depend on the ORM's
//! crates themselves. `meta()` never calls another model's `meta()`: relations use the target's
//! `LABEL` and `Key`, so self-references and models that refer to each other cannot deadlock.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{DeriveInput, LitStr};

use super::Auto;
use super::attrs::ModelAttrs;
use super::field::{FieldSpec, Kind};
use crate::orm;

/// Everything `#[derive(Model)]` emits.
pub(crate) fn model(
    input: &DeriveInput,
    attrs: &ModelAttrs,
    specs: &[FieldSpec],
    pk: usize,
    auto: Auto,
) -> TokenStream {
    let orm = orm();
    let ident = &input.ident;
    let name = ident.unraw().to_string();
    let (app, label) = match &attrs.app {
        Some(app) => {
            let label = LitStr::new(&format!("{}.{name}", app.value()), app.span());
            (quote!(#app), quote!(#label))
        }
        None => (
            quote!(::core::env!("CARGO_CRATE_NAME")),
            quote!(::core::concat!(::core::env!("CARGO_CRATE_NAME"), ".", #name)),
        ),
    };
    let meta = model_meta(attrs, specs, pk, auto, &app, &name);
    let pk_field = &specs[pk];
    let (pk_ident, pk_ty) = (&pk_field.ident, &pk_field.ty);
    let reads = specs.iter().map(|f| {
        let (id, ty) = (&f.ident, &f.ty);
        if f.has_column() {
            quote_spanned!(ty.span()=> #id: fields.next::<#ty>()?)
        } else {
            quote_spanned!(ty.span()=> #id: ::core::default::Default::default())
        }
    });
    let writes = specs.iter().filter(|f| f.has_column()).map(|f| {
        let (id, ty) = (&f.ident, &f.ty);
        quote_spanned!(ty.span()=> <#ty as #orm::value::FieldValue>::to_value(&self.#id))
    });
    let set_field = set_field(specs, pk, &label);
    let relation_mut = relation_mut(specs);
    let hooks = attrs.hooks.map(|at| {
        let hooks = quote_spanned!(at=> <Self as #orm::ModelHooks>);
        let fut =
            quote!(impl ::core::future::Future<Output = #orm::Result<()>> + ::core::marker::Send);
        quote! {
            fn before_save(&mut self, db: &#orm::Db, kind: #orm::hooks::ChangeKind) -> #fut {
                #hooks::before_save(self, db, kind)
            }
            fn after_save(&self, db: &#orm::Db, kind: #orm::hooks::ChangeKind) -> #fut {
                #hooks::after_save(self, db, kind)
            }
            fn before_delete(&self, db: &#orm::Db) -> #fut {
                #hooks::before_delete(self, db)
            }
            fn after_delete(&self, db: &#orm::Db) -> #fut {
                #hooks::after_delete(self, db)
            }
        }
    });
    let columns = specs
        .iter()
        .filter(|f| !matches!(f.kind, Kind::Skip))
        .map(|f| {
            let (vis, ty, field) = (&f.vis, &f.ty, &f.name);
            let konst = format_ident!("{}", f.name.to_uppercase(), span = f.ident.span());
            let doc = format!("The `{field}` field of [`{name}`], for typed queries.");
            quote! {
                #[doc = #doc]
                #vis const #konst: #orm::Column<Self, #ty> = #orm::Column::new(#field);
            }
        });
    quote! {
        #[automatically_derived]
        impl #orm::Model for #ident {
            type Key = #pk_ty;
            const LABEL: &'static str = #label;

            fn meta() -> &'static #orm::meta::ModelMeta {
                static META: ::std::sync::OnceLock<#orm::meta::ModelMeta> =
                    ::std::sync::OnceLock::new();
                META.get_or_init(|| #meta)
            }

            fn from_fields(fields: &mut #orm::value::Fields) -> #orm::Result<Self> {
                ::core::result::Result::Ok(Self { #(#reads,)* })
            }

            fn to_values(&self) -> ::std::vec::Vec<#orm::value::Value> {
                ::std::vec![#(#writes),*]
            }

            fn key(&self) -> Self::Key {
                ::core::clone::Clone::clone(&self.#pk_ident)
            }

            fn set_key(&mut self, key: Self::Key) {
                self.#pk_ident = key;
            }

            #set_field

            #relation_mut

            #hooks
        }

        #[automatically_derived]
        #[allow(dead_code)]
        impl #ident {
            #(#columns)*
        }
    }
}

/// `set_field`: one arm per column field but the primary key (`set_key` sets it), decoding the
/// value into the field's type; a decode error names `app.Model.field`, an unknown field is
/// `Error::Query`.
fn set_field(specs: &[FieldSpec], pk: usize, label: &TokenStream) -> TokenStream {
    let orm = orm();
    let arms: Vec<TokenStream> = specs
        .iter()
        .enumerate()
        .filter(|&(i, f)| i != pk && f.has_column())
        .map(|(_, f)| {
            let (id, ty, name) = (&f.ident, &f.ty, &f.name);
            // Spanned at the type, so a type that is not stored is one error there.
            quote_spanned! {ty.span()=>
                #name => {
                    self.#id = <#ty as #orm::value::FieldValue>::from_value(value).map_err(
                        |message| #orm::Error::Decode {
                            field: ::std::string::String::from(::core::concat!(#label, ".", #name)),
                            message,
                        },
                    )?;
                    ::core::result::Result::Ok(())
                }
            }
        })
        .collect();
    // A model whose only column is its key has no use for the value.
    let value = if arms.is_empty() {
        quote!(_value)
    } else {
        quote!(value)
    };
    quote! {
        fn set_field(&mut self, field: &str, #value: #orm::value::Value) -> #orm::Result<()> {
            match field {
                #(#arms)*
                _ => ::core::result::Result::Err(#orm::Error::Query(::std::format!(
                    "{} has no field `{}` to set (the primary key is set with set_key)",
                    #label,
                    field,
                ))),
            }
        }
    }
}

/// `relation_mut`: the `ForeignKey<T>`, `Option<ForeignKey<T>>` and `ManyToMany<T>` fields, for
/// `select_related` / `prefetch` to fill.
fn relation_mut(specs: &[FieldSpec]) -> TokenStream {
    let arms = specs
        .iter()
        .filter(|f| matches!(f.kind, Kind::ForeignKey { .. } | Kind::ManyToMany { .. }))
        .map(|f| {
            let (id, ty, name) = (&f.ident, &f.ty, &f.name);
            let field = quote_spanned!(ty.span()=> &mut self.#id);
            quote!(#name => ::core::option::Option::Some(#field),)
        });
    quote! {
        fn relation_mut(
            &mut self,
            field: &str,
        ) -> ::core::option::Option<&mut dyn ::core::any::Any> {
            match field {
                #(#arms)*
                _ => ::core::option::Option::None,
            }
        }
    }
}

fn model_meta(
    attrs: &ModelAttrs,
    specs: &[FieldSpec],
    pk: usize,
    auto: Auto,
    app: &TokenStream,
    name: &str,
) -> TokenStream {
    let orm = orm();
    let mut steps = Vec::new();
    if let Some(table) = &attrs.table {
        steps.push(quote!(m = m.table(#table);));
    }
    for (i, f) in specs.iter().enumerate() {
        if matches!(f.kind, Kind::Skip) {
            continue;
        }
        let field = field_meta(f, i == pk, if i == pk { auto } else { Auto::None });
        steps.push(quote!(m = m.field(#field);));
    }
    for index in &attrs.indexes {
        let fields = &index.fields;
        let unique = index.unique;
        let kind = if index.trigram {
            quote!(#orm::meta::IndexKind::Trigram)
        } else {
            quote!(#orm::meta::IndexKind::BTree)
        };
        steps.push(match &index.name {
            Some(n) => quote! {
                m.indexes.push(#orm::meta::IndexMeta {
                    name: ::std::string::String::from(#n),
                    fields: ::std::vec![#(::std::string::String::from(#fields)),*],
                    unique: #unique,
                    kind: #kind,
                });
            },
            None if unique => quote!(m = m.unique_together(&[#(#fields),*]);),
            None if index.trigram => quote!(m = m.trigram_index(&[#(#fields),*]);),
            None => quote!(m = m.index(&[#(#fields),*]);),
        });
    }
    for check in &attrs.checks {
        let (n, sql) = (&check.name, &check.sql);
        steps.push(quote!(m = m.check(#n, #sql);));
    }
    if !attrs.ordering.is_empty() {
        let keys = attrs.ordering.iter().map(|o| {
            let v = o.value();
            match v.strip_prefix('-') {
                Some(field) => quote!(#orm::meta::Ordering::desc(#field)),
                None => quote!(#orm::meta::Ordering::asc(#v)),
            }
        });
        steps.push(quote!(m = m.ordering([#(#keys),*]);));
    }
    match (&attrs.verbose_name, &attrs.verbose_name_plural) {
        (Some(one), Some(many)) => steps.push(quote!(m = m.verbose_names(#one, #many);)),
        (Some(one), None) => {
            let many = format!("{}s", one.value());
            steps.push(quote!(m = m.verbose_names(#one, #many);));
        }
        (None, Some(many)) => steps.push(quote! {
            let one = ::core::clone::Clone::clone(&m.verbose_name);
            m = m.verbose_names(one, #many);
        }),
        (None, None) => {}
    }
    quote! {{
        let mut m = #orm::meta::ModelMeta::new(#app, #name);
        #(#steps)*
        m
    }}
}

/// The `FieldMeta` of one stored field (a column, or a many-to-many relation).
fn field_meta(f: &FieldSpec, is_pk: bool, auto: Auto) -> TokenStream {
    let orm = orm();
    let a = &f.attrs;
    let (name, ty) = (&f.name, &f.ty);
    let fv = quote_spanned!(ty.span()=> <#ty as #orm::value::FieldValue>);
    let meta = quote!(#orm::meta);
    let model_label =
        |target: &syn::Type| quote_spanned!(target.span()=> <#target as #orm::Model>::LABEL);
    let mut steps = Vec::new();
    let base = match &f.kind {
        Kind::Plain if auto == Auto::Identity => {
            steps.push(quote!(f.ty = #fv::field_type();));
            quote!(#meta::FieldMeta::auto_id())
        }
        Kind::Plain if auto == Auto::UuidV7 => {
            steps.push(quote!(f.ty = #fv::field_type();));
            quote!(#meta::FieldMeta::uuid_id())
        }
        Kind::Plain => {
            let storage = match (a.max_length, a.decimal) {
                (Some(max_length), _) => {
                    quote!(#meta::FieldType::String { max_length: #max_length })
                }
                (None, Some((precision, scale))) => {
                    quote!(#meta::FieldType::Decimal { precision: #precision, scale: #scale })
                }
                (None, None) => quote!(#fv::field_type()),
            };
            steps.push(quote!(f = f.choices(#fv::choices());));
            if is_pk {
                steps.push(quote!(f = f.primary_key();));
            }
            quote!(#meta::FieldMeta::new(#name, #storage))
        }
        Kind::ForeignKey { target, .. } => {
            let on_delete = format_ident!("{}", a.on_delete.map_or("Cascade", |(v, _)| v));
            let builder = if a.one_to_one {
                quote!(one_to_one)
            } else {
                quote!(foreign_key)
            };
            steps.push(quote!(f.ty = #fv::field_type();));
            if is_pk {
                steps.push(quote!(f = f.primary_key();));
            }
            let to = model_label(target);
            quote!(#meta::FieldMeta::#builder(#name, #to, #meta::OnDelete::#on_delete))
        }
        Kind::ManyToMany { target } => {
            let to = model_label(target);
            quote!(#meta::FieldMeta::many_to_many(#name, #to))
        }
        Kind::Skip => unreachable!("skipped fields have no metadata"),
    };
    if f.has_column() {
        steps.push(quote!(if #fv::NULLABLE { f = f.nullable(); }));
    }
    let strings = [
        ("column", &a.column),
        ("label", &a.label),
        ("help_text", &a.help_text),
        ("db_default", &a.db_default),
        ("related_name", &a.related_name),
        ("through", &a.through),
    ];
    for (method, value) in strings {
        if let Some(v) = value {
            let method = format_ident!("{method}");
            steps.push(quote!(f = f.#method(#v);));
        }
    }
    let flags = [
        ("unique", a.unique),
        ("index", a.index),
        ("read_only", a.read_only),
        ("auto_now", a.auto_now),
        ("auto_now_add", a.auto_now_add),
    ];
    for (method, on) in flags {
        if on {
            let method = format_ident!("{method}");
            steps.push(quote!(f = f.#method();));
        }
    }
    if let Some(default) = &a.default {
        steps.push(quote!(f = f.default_value(#default);));
    }
    quote! {{
        #[allow(unused_mut)]
        let mut f = #base;
        #(#steps)*
        f
    }}
}
