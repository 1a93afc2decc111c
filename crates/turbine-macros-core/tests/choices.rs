//! `expand_choices` on parsed input: what it generates, and the messages of its errors.

use syn::{DeriveInput, parse_quote};
use turbine_macros_core::expand_choices;

fn error(input: DeriveInput) -> Vec<String> {
    match expand_choices(input) {
        Ok(code) => panic!("expected errors, got code: {code}"),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn values_labels_and_the_longest_value() {
    let code = expand_choices(parse_quote! {
        pub enum Status {
            #[choice(label = "Draft")]
            Draft,
            InReview,
            #[choice(value = "live", label = "Published")]
            Live,
        }
    })
    .unwrap()
    .to_string();
    assert!(
        code.contains("FieldType :: String { max_length : 9u32 }"),
        "{code}"
    );
    assert!(code.contains("Choice :: new (\"draft\" , \"Draft\")"));
    assert!(code.contains("Choice :: new (\"in_review\" , \"In review\")"));
    assert!(code.contains("Choice :: new (\"live\" , \"Published\")"));
    assert!(code.contains("\"live\" => :: core :: result :: Result :: Ok (Self :: Live)"));
    assert!(code.contains("allowed : & [\"draft\" , \"in_review\" , \"live\"]"));
    assert!(code.contains("pub const fn as_str"));
    assert!(code.contains("impl :: core :: str :: FromStr for Status"));
}

#[test]
fn problems() {
    assert_eq!(
        error(parse_quote! { enum E { A(u8), B { x: u8 }, C } }),
        [
            "`#[derive(Choices)]` needs unit variants (a choice is one stored string), but `A` holds data",
            "`#[derive(Choices)]` needs unit variants (a choice is one stored string), but `B` holds data",
        ]
    );
    assert_eq!(
        error(parse_quote! { enum E { #[choice(value = "a")] B, A } }),
        ["`A` and `B` both store \"a\": give one `#[choice(value = \"…\")]`"]
    );
    assert_eq!(
        error(parse_quote! { enum E { #[choice(name = "a")] A } }),
        ["unknown `choice` attribute `name`; expected one of: value, label"]
    );
    assert_eq!(
        error(parse_quote! { enum E { #[choice(value = "")] A } }),
        ["a choice's value cannot be empty"]
    );
    assert_eq!(
        error(parse_quote! { enum E {} }),
        ["`#[derive(Choices)]` needs at least one variant"]
    );
    assert_eq!(
        error(parse_quote! { struct S { a: u8 } }),
        [
            "`#[derive(Choices)]` is for enums with unit variants, like `enum Status { Draft, Live }`"
        ]
    );
    assert_eq!(
        error(parse_quote! { enum E<T> { A } }),
        ["`#[derive(Choices)]` does not support generics"]
    );
}
