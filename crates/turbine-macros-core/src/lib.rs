//! The expansion logic of Turbine's derives, as a plain library: `turbine-macros` is a thin
//! proc-macro shim over it, and tests call it directly on parsed input.
//!
//! ```
//! use turbine_macros_core::expand_model;
//!
//! let input = syn::parse_quote! {
//!     #[model(app = "blog")]
//!     pub struct Post {
//!         pub id: i64,
//!         #[field(max_length = 200)]
//!         pub title: String,
//!     }
//! };
//! let code = expand_model(input).unwrap().to_string();
//! assert!(code.contains("impl :: turbine :: __private :: orm :: Model for Post"));
//! assert!(code.contains("\"blog.Post\""));
//!
//! let bad = syn::parse_quote! { pub struct Note { body: String } };
//! let error = expand_model(bad).unwrap_err().to_string();
//! assert!(error.contains("`Note` has no primary key"));
//! ```
//!
//! The attributes and what they generate are documented on the derives in `turbine-macros`.

mod attr;
mod choices;
mod model;
mod ty;

use proc_macro2::TokenStream;
use quote::quote;

pub use choices::expand_choices;
pub use model::expand_model;

thread_local! {
    /// `#[model(crate = "…")]` of the derive being expanded.
    static ORM_PATH: std::cell::RefCell<Option<TokenStream>> = const { std::cell::RefCell::new(None) };
}

/// The path generated code uses for the ORM: the facade's hidden re-export, so apps depend on
/// `turbine` alone; batteries that cannot depend on the facade (it depends on them) name
/// `turbine_orm` with `#[model(crate = "turbine_orm")]`.
fn orm() -> TokenStream {
    ORM_PATH
        .with(|p| p.borrow().clone())
        .unwrap_or_else(|| quote!(::turbine::__private::orm))
}

/// Sets the ORM path for one expansion; the previous one comes back on drop.
struct OrmPath(Option<TokenStream>);

impl OrmPath {
    fn set(path: Option<TokenStream>) -> Self {
        Self(ORM_PATH.with(|p| p.replace(path)))
    }
}

impl Drop for OrmPath {
    fn drop(&mut self) {
        let previous = self.0.take();
        ORM_PATH.with(|p| *p.borrow_mut() = previous);
    }
}
