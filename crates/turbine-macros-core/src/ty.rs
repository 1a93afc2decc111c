//! What a field's type looks like, read from its syntax (a macro sees no types): `Option<T>`,
//! `ForeignKey<T>`, `ManyToMany<T>`, and the last name of a path (`String`, `DateTime`).

use syn::{GenericArgument, PathArguments, Type};

/// The last segment's name and its single type argument, if any: `a::B<C>` → (`B`, `C`).
pub(crate) fn last(ty: &Type) -> Option<(String, Option<&Type>)> {
    let Type::Path(path) = ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let seg = path.path.segments.last()?;
    let arg = match &seg.arguments {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    };
    Some((seg.ident.to_string(), arg))
}

/// `T` of `Option<T>`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    match last(ty) {
        Some((name, Some(inner))) if name == "Option" => Some(inner),
        _ => None,
    }
}

/// The type without one `Option<…>` around it.
pub(crate) fn strip_option(ty: &Type) -> &Type {
    option_inner(ty).unwrap_or(ty)
}

/// `T` of `Wrapper<T>` when the last name is `wrapper`.
pub(crate) fn arg_of<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    match last(ty) {
        Some((name, Some(inner))) if name == wrapper => Some(inner),
        _ => None,
    }
}

/// `true` when the last name (under an `Option`) is one of `names`.
pub(crate) fn named(ty: &Type, names: &[&str]) -> bool {
    last(strip_option(ty)).is_some_and(|(name, _)| names.contains(&name.as_str()))
}

/// The type as the user wrote it, for messages.
pub(crate) fn show(ty: &Type) -> String {
    quote::quote!(#ty)
        .to_string()
        .replace(" < ", "<")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" :: ", "::")
        .replace(" , ", ", ")
}
