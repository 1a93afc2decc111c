//! `set_field` and `relation_mut` as `expand_model` generates them: the single-field access the
//! ORM uses to write back what an insert or save filled in, and to fill eager-loaded relations.

use syn::{DeriveInput, parse_quote};
use turbine_macros_core::expand_model;

fn expand(input: DeriveInput) -> String {
    expand_model(input).expect("expands").to_string()
}

fn post() -> DeriveInput {
    parse_quote! {
        #[model(app = "blog")]
        pub struct Post {
            pub id: i64,
            #[field(max_length = 200)]
            pub title: String,
            #[field(on_delete = "cascade")]
            pub author: ForeignKey<User>,
            #[field(on_delete = "set_null")]
            pub parent: Option<ForeignKey<Self>>,
            pub tags: ManyToMany<Tag>,
            #[field(auto_now_add)]
            pub created_at: DateTime<Utc>,
            #[field(default = -1)]
            pub views: i64,
            #[field(skip)]
            pub cache: Vec<String>,
            pub(crate) r#type: String,
        }
    }
}

/// The generated method `name`: from `fn <name>` to the next method or the next impl.
fn method<'a>(code: &'a str, name: &str) -> &'a str {
    let start = code
        .find(&format!("fn {name}"))
        .unwrap_or_else(|| panic!("no fn {name}"));
    let rest = &code[start + 3..];
    let end = ["fn ", "# [automatically_derived]"]
        .iter()
        .filter_map(|m| rest.find(m))
        .min()
        .unwrap_or(rest.len());
    &code[start..start + 3 + end]
}

#[test]
fn set_field_has_an_arm_per_column_field_but_the_key() {
    let code = expand(post());
    let set = method(&code, "set_field");
    for (name, ident) in [
        ("title", "title"),
        ("author", "author"),
        ("parent", "parent"),
        ("created_at", "created_at"),
        ("views", "views"),
        ("type", "r#type"),
    ] {
        assert!(
            set.contains(&format!("\"{name}\" => {{ self . {ident} =")),
            "{name}: {set}"
        );
        assert!(
            set.contains(&format!(
                "Decode {{ field : :: std :: string :: String :: from (:: core :: concat ! (\"blog.Post\" , \".\" , \"{name}\"))"
            )),
            "{name}: {set}"
        );
    }
    assert_eq!(set.matches("=> {").count(), 6, "{set}");
    assert_eq!(set.matches("Result :: Ok (())").count(), 6, "{set}");
    for absent in [
        "\"id\"",
        "\"tags\"",
        "\"cache\"",
        "self . id",
        "self . tags",
    ] {
        assert!(!set.contains(absent), "{absent}: {set}");
    }
    assert!(set.contains(
        "< String as :: turbine :: __private :: orm :: value :: FieldValue > :: from_value (value)"
    ));
    assert!(set.contains(
        "_ => :: core :: result :: Result :: Err (:: turbine :: __private :: orm :: Error :: Query"
    ));
    assert!(
        set.contains("to set (the primary key is set with set_key)\" , \"blog.Post\" , field"),
        "the label as a literal (no trait bound, no `Self::LABEL` a field `label` shadows): {set}"
    );
}

#[test]
fn set_field_without_fields_and_without_an_app() {
    let code = expand(parse_quote! { struct Only { id: i64 } });
    let set = method(&code, "set_field");
    assert!(
        set.contains("_value : :: turbine :: __private :: orm :: value :: Value"),
        "an unused value is `_value`: {set}"
    );
    assert!(!set.contains("Decode"));
    // Without `app`, the decode error's field is built from the crate's name at compile time.
    let code = expand(parse_quote! { struct Note { id: i64, body: String } });
    let set = method(&code, "set_field");
    assert!(set.contains(
        "concat ! (:: core :: concat ! (:: core :: env ! (\"CARGO_CRATE_NAME\") , \".\" , \"Note\") , \".\" , \"body\")"
    ), "{set}");
    // A natural key is set by `set_key` only, even when it is a foreign key.
    let code = expand(parse_quote! {
        struct Profile {
            #[field(primary_key, one_to_one, on_delete = "cascade")]
            user: ForeignKey<User>,
            bio: String,
        }
    });
    let set = method(&code, "set_field");
    assert!(
        !set.contains("\"user\"") && set.contains("\"bio\""),
        "{set}"
    );
    assert!(method(&code, "relation_mut").contains("\"user\" =>"));
}

#[test]
fn relation_mut_exposes_foreign_keys_and_many_to_many_fields() {
    let code = expand(post());
    let rel = method(&code, "relation_mut");
    for name in ["author", "parent", "tags"] {
        assert!(
            rel.contains(&format!(
                "\"{name}\" => :: core :: option :: Option :: Some (& mut self . {name}) ,"
            )),
            "{name}: {rel}"
        );
    }
    for absent in ["\"title\"", "\"id\"", "\"cache\"", "\"type\""] {
        assert!(!rel.contains(absent), "{absent}: {rel}");
    }
    assert!(rel.contains("-> :: core :: option :: Option < & mut dyn :: core :: any :: Any >"));
    assert!(rel.contains("_ => :: core :: option :: Option :: None"));
    let plain = expand(parse_quote! { struct Note { id: i64, body: String } });
    let rel = method(&plain, "relation_mut");
    assert_eq!(rel.matches("=>").count(), 1, "only the fallback: {rel}");
}
