//! Reading attribute values (`key = value`, flags, lists) with messages that name the key and
//! show how to write it.

use std::collections::BTreeSet;

use proc_macro2::{Literal, Span, TokenStream};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitStr, Token, UnOp};

/// The key of a nested meta item (`max_length` in `#[field(max_length = 5)]`).
pub(crate) fn key(meta: &ParseNestedMeta<'_>) -> String {
    match meta.path.get_ident() {
        Some(ident) => ident.to_string(),
        None => meta.path.to_token_stream().to_string().replace(' ', ""),
    }
}

/// The error for a key the attribute does not know, listing the ones it does.
pub(crate) fn unknown(meta: &ParseNestedMeta<'_>, attr: &str, valid: &[&str]) -> syn::Error {
    meta.error(format!(
        "unknown `{attr}` attribute `{}`; expected one of: {}",
        key(meta),
        valid.join(", ")
    ))
}

/// Refuses a key given twice.
pub(crate) fn once(seen: &mut BTreeSet<String>, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    let k = key(meta);
    if seen.insert(k.clone()) {
        Ok(())
    } else {
        Err(meta.error(format!("`{k}` is given twice")))
    }
}

fn value(meta: &ParseNestedMeta<'_>, example: &str) -> syn::Result<Expr> {
    let k = key(meta);
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!("`{k}` needs a value: write `{k} = {example}`")));
    }
    meta.value()?.parse::<Expr>()
}

fn wrong(expr: &Expr, key: &str, what: &str, example: &str) -> syn::Error {
    syn::Error::new_spanned(
        expr,
        format!("`{key}` takes {what}: write `{key} = {example}`"),
    )
}

/// `key = "text"`.
pub(crate) fn string(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    let k = key(meta);
    let expr = value(meta, "\"…\"")?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s),
        other => Err(wrong(&other, &k, "a string", "\"…\"")),
    }
}

/// `key = 123`, as a `T` (the message names the accepted range through `T`'s parse error).
pub(crate) fn int<T>(meta: &ParseNestedMeta<'_>, example: &str) -> syn::Result<(T, Span)>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let k = key(meta);
    let expr = value(meta, example)?;
    match &expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i
            .base10_parse::<T>()
            .map(|v| (v, i.span()))
            .map_err(|e| syn::Error::new(i.span(), format!("`{k}`: {e}"))),
        other => Err(wrong(other, &k, "an integer", example)),
    }
}

/// A flag: `key`, or `key = true` / `key = false`. Returns the span when set.
pub(crate) fn flag(meta: &ParseNestedMeta<'_>) -> syn::Result<Option<Span>> {
    let k = key(meta);
    let span = meta.path.span();
    if meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("`{k}` is a flag: write `{k}` without parentheses")));
    }
    if !meta.input.peek(Token![=]) {
        return Ok(Some(span));
    }
    let expr = meta.value()?.parse::<Expr>()?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value.then_some(span)),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{k}` is a flag: write `{k}` (or `{k} = true` / `{k} = false`)"),
        )),
    }
}

/// `key = ["a", "b"]`: at least one string.
pub(crate) fn strings(meta: &ParseNestedMeta<'_>) -> syn::Result<Vec<LitStr>> {
    let k = key(meta);
    let example = "[\"a\", \"b\"]";
    let expr = value(meta, example)?;
    let Expr::Array(array) = &expr else {
        return Err(wrong(&expr, &k, "a list of strings", example));
    };
    let mut out = Vec::new();
    for elem in &array.elems {
        match elem {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => out.push(s.clone()),
            other => return Err(wrong(other, &k, "a list of strings", example)),
        }
    }
    if out.is_empty() {
        return Err(syn::Error::new_spanned(
            &expr,
            format!("`{k}` needs at least one name"),
        ));
    }
    Ok(out)
}

/// `key = <literal>` (string, integer, float, bool; numbers may be negative), as a typed
/// Rust literal that converts into a JSON value.
pub(crate) fn literal(meta: &ParseNestedMeta<'_>) -> syn::Result<(TokenStream, Span)> {
    let k = key(meta);
    let example = "0` or `\"draft\"` or `true";
    let expr = value(meta, example)?;
    let (lit, negative) = match &expr {
        Expr::Lit(ExprLit { lit, .. }) => (lit, false),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr: inner,
            ..
        }) => match &**inner {
            Expr::Lit(ExprLit {
                lit: lit @ (Lit::Int(_) | Lit::Float(_)),
                ..
            }) => (lit, true),
            _ => return Err(wrong(&expr, &k, "a literal", example)),
        },
        _ => return Err(wrong(&expr, &k, "a literal", example)),
    };
    let tokens = match lit {
        Lit::Str(s) => s.to_token_stream(),
        Lit::Bool(b) => b.to_token_stream(),
        Lit::Int(i) => {
            let v = i.base10_parse::<i64>().map_err(|e| {
                syn::Error::new(i.span(), format!("`{k}`: {e} (a default is an i64)"))
            })?;
            Literal::i64_suffixed(if negative { -v } else { v }).into_token_stream()
        }
        Lit::Float(f) => {
            let v = f.base10_parse::<f64>()?;
            Literal::f64_suffixed(if negative { -v } else { v }).into_token_stream()
        }
        _ => return Err(wrong(&expr, &k, "a string, number or bool", example)),
    };
    Ok((tokens, expr.span()))
}

/// Parses `key(…)` with `logic` for the inner items; `key = …` is refused with `example`.
pub(crate) fn nested(
    meta: &ParseNestedMeta<'_>,
    example: &str,
    logic: impl FnMut(ParseNestedMeta<'_>) -> syn::Result<()>,
) -> syn::Result<()> {
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("write `{example}`")));
    }
    meta.parse_nested_meta(logic)
}

/// Collects errors so that one expansion reports every problem at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Adds an error.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Adds the error of a result, keeping its value.
    pub(crate) fn ok<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    /// `Err` with every error collected, or `Ok`.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}
