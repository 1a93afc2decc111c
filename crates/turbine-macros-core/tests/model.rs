//! `expand_model` on parsed input: what it generates, and the messages of its compile errors.

use proc_macro2::{TokenStream, TokenTree};
use syn::{DeriveInput, parse_quote};
use turbine_macros_core::expand_model;

fn expand(input: DeriveInput) -> String {
    expand_model(input).expect("expands").to_string()
}

/// Every message, in order.
fn errors(input: DeriveInput) -> Vec<String> {
    match expand_model(input) {
        Ok(code) => panic!("expected errors, got code: {code}"),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

fn error(input: DeriveInput) -> String {
    let all = errors(input);
    assert_eq!(all.len(), 1, "expected one error, got {all:#?}");
    all.into_iter().next().unwrap()
}

/// The crate roots of absolute paths (`::x::…`) in the generated code.
fn roots(tokens: TokenStream, out: &mut Vec<String>) {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    for i in 0..tts.len() {
        if let TokenTree::Group(g) = &tts[i] {
            roots(g.stream(), out);
        }
        let is_colon2 = matches!(&tts[i], TokenTree::Punct(p) if p.as_char() == ':' && p.spacing() == proc_macro2::Spacing::Joint)
            && matches!(tts.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
        let leading = match i.checked_sub(1).map(|j| &tts[j]) {
            None => true,
            Some(TokenTree::Ident(id)) => {
                ["as", "impl", "for", "dyn", "mut"].contains(&&*id.to_string())
            }
            Some(TokenTree::Punct(p)) => !matches!(p.as_char(), '>' | ':'),
            Some(_) => true,
        };
        if is_colon2
            && leading
            && let Some(TokenTree::Ident(root)) = tts.get(i + 2)
        {
            out.push(root.to_string());
        }
    }
}

fn post() -> DeriveInput {
    parse_quote! {
        #[model(app = "blog", ordering = ["-created_at"], hooks)]
        #[model(index(fields = ["author", "created_at"]), check(name = "v", sql = "views >= 0"))]
        pub struct Post {
            pub id: i64,
            #[field(max_length = 200, label = "Title")]
            pub title: String,
            #[field(on_delete = "cascade", related_name = "posts")]
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

#[test]
fn a_battery_names_the_orm_crate_itself() {
    let code = expand_model(parse_quote! {
        #[model(app = "auth", crate = "turbine_orm")]
        pub struct User { pub id: i64, pub email: String }
    })
    .unwrap();
    let mut found = Vec::new();
    roots(code.clone(), &mut found);
    assert!(found.iter().any(|r| r == "turbine_orm"), "{found:?}");
    assert!(
        found
            .iter()
            .all(|r| ["turbine_orm", "core", "std"].contains(&r.as_str())),
        "{found:?}"
    );
    // The next expansion is back to the facade's path.
    assert!(expand(post()).contains(":: turbine :: __private :: orm :: Model for Post"));
}

#[test]
fn generated_code_names_only_the_facade_core_and_std() {
    let code = expand_model(post()).unwrap();
    let mut found = Vec::new();
    roots(code.clone(), &mut found);
    assert!(!found.is_empty());
    for root in &found {
        assert!(
            ["turbine", "core", "std"].contains(&root.as_str()),
            "{root}"
        );
    }
    let text = code.to_string();
    assert!(text.contains(":: turbine :: __private :: orm :: Model for Post"));
    assert!(!text.contains("turbine_orm"));
}

#[test]
fn meta_uses_labels_and_keys_of_targets_never_their_meta() {
    let code = expand(post());
    assert_eq!(
        code.matches("meta ()").count(),
        1,
        "only its own `fn meta()`: {code}"
    );
    assert!(code.contains("< User as :: turbine :: __private :: orm :: Model > :: LABEL"));
    assert!(code.contains("< Self as :: turbine :: __private :: orm :: Model > :: LABEL"));
    assert!(code.contains("OnceLock"));
    assert!(code.contains("const LABEL : & 'static str = \"blog.Post\""));
    assert!(code.contains("type Key = i64"));
    assert!(code.contains("Ordering :: desc (\"created_at\")"));
    assert!(code.contains("default_value (- 1i64)"));
}

#[test]
fn values_are_read_and_written_in_declaration_order_without_m2m_or_skip() {
    let code = expand(post());
    let reads = [
        "id :",
        "title :",
        "author :",
        "parent :",
        "created_at :",
        "views :",
        "r#type :",
    ];
    let mut at = code.find("fn from_fields").unwrap();
    for r in reads {
        let pos = code[at..]
            .find(&format!("{r} fields . next"))
            .unwrap_or_else(|| panic!("{r}"));
        at += pos;
    }
    assert!(code.contains("tags : :: core :: default :: Default :: default ()"));
    assert!(code.contains("cache : :: core :: default :: Default :: default ()"));
    let to_values = &code[code.find("fn to_values").unwrap()..code.find("fn key").unwrap()];
    assert_eq!(to_values.matches("to_value").count(), 8, "{to_values}");
    assert!(!to_values.contains("self . tags") && !to_values.contains("self . cache"));
}

#[test]
fn column_constants_follow_field_names_and_visibility() {
    let code = expand(post());
    assert!(
        code.contains(
            "pub const TITLE : :: turbine :: __private :: orm :: Column < Self , String >"
        )
    );
    assert!(code.contains("pub const TAGS :"));
    assert!(code.contains("pub (crate) const TYPE :"));
    assert!(code.contains("Column :: new (\"type\")"));
    assert!(
        !code.contains("const CACHE"),
        "skipped fields have no column constant"
    );
}

#[test]
fn hooks_forward_only_when_asked() {
    let code = expand(post());
    assert!(code.contains(
        "< Self as :: turbine :: __private :: orm :: ModelHooks > :: before_save (self , db , kind)"
    ));
    let plain = expand(parse_quote! { struct Note { id: i64 } });
    assert!(!plain.contains("ModelHooks") && !plain.contains("before_save"));
    assert!(
        plain.contains("CARGO_CRATE_NAME"),
        "app defaults to the crate"
    );
}

#[test]
fn primary_keys_id_auto_uuid_and_natural() {
    let code = expand(parse_quote! { struct A { id: uuid::Uuid } });
    assert!(code.contains("FieldMeta :: uuid_id ()"));
    let code = expand(parse_quote! { struct A { id: i32 } });
    assert!(code.contains("FieldMeta :: auto_id ()"));
    let code = expand(parse_quote! { struct A { id: String } });
    assert!(code.contains("FieldMeta :: new (\"id\"") && code.contains("primary_key ()"));
    let code = expand(parse_quote! { struct A { id: i64, #[field(primary_key)] code: i64 } });
    assert!(code.contains("type Key = i64") && code.contains("self . code = key"));
    assert!(
        !code.contains("auto_id"),
        "`primary_key` elsewhere makes `id` a plain field"
    );
}

#[test]
fn unknown_keys_list_the_valid_ones() {
    let e = error(parse_quote! { struct A { id: i64, #[field(maxlength = 3)] s: String } });
    assert!(
        e.starts_with(
            "unknown `field` attribute `maxlength`; expected one of: primary_key, max_length,"
        ),
        "{e}"
    );
    let e = error(parse_quote! { #[model(tabel = "x")] struct A { id: i64 } });
    assert!(
        e.starts_with("unknown `model` attribute `tabel`; expected one of: app, table,"),
        "{e}"
    );
    let e = error(parse_quote! { #[model(index(field = ["id"]))] struct A { id: i64 } });
    assert_eq!(
        e,
        "unknown `index` attribute `field`; expected one of: fields, name, kind"
    );
    let e = error(parse_quote! { struct A { id: i64, #[field(decimal(digits = 3))] d: Decimal } });
    assert_eq!(
        e,
        "unknown `decimal` attribute `digits`; expected one of: precision, scale"
    );
}

#[test]
fn values_of_the_wrong_type_say_how_to_write_them() {
    let cases: Vec<(DeriveInput, &str)> = vec![
        (
            parse_quote! { struct A { id: i64, #[field(max_length = "200")] s: String } },
            "`max_length` takes an integer: write `max_length = 200`",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(max_length)] s: String } },
            "`max_length` needs a value: write `max_length = 200`",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(max_length = 0)] s: String } },
            "`max_length` must be at least 1",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(label = 5)] s: String } },
            "`label` takes a string: write `label = \"…\"`",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(unique = 1)] s: String } },
            "`unique` is a flag: write `unique` (or `unique = true` / `unique = false`)",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(default = make())] s: String } },
            "`default` takes a literal: write `default = 0` or `\"draft\"` or `true`",
        ),
        (
            parse_quote! { #[model(ordering = "id")] struct A { id: i64 } },
            "`ordering` takes a list of strings: write `ordering = [\"a\", \"b\"]`",
        ),
        (
            parse_quote! { #[model(index = ["id"])] struct A { id: i64 } },
            "write `index(fields = [\"a\", \"b\"])`",
        ),
        (
            parse_quote! { #[model(app = "my-app")] struct A { id: i64 } },
            "an app name is letters, digits and `_`, not `my-app`",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(on_delete = "nothing")] u: ForeignKey<U> } },
            "`on_delete` is one of \"cascade\", \"restrict\", \"set_null\", \"protect\"",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(decimal(precision = 40, scale = 2))] d: Decimal } },
            "decimal `precision` is 1 to 28 (the digits a rust_decimal::Decimal holds)",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(decimal(precision = 4, scale = 5))] d: Decimal } },
            "decimal `scale` cannot exceed `precision`",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(unique, unique)] s: String } },
            "`unique` is given twice",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(error(input), expected);
    }
}

#[test]
fn attributes_must_fit_the_field() {
    let cases: Vec<(DeriveInput, &str)> = vec![
        (
            parse_quote! { struct A { id: i64, #[field(max_length = 5)] n: i64 } },
            "`max_length` applies to `String` fields; `n` is of type `i64`",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(decimal(precision = 5, scale = 1))] n: f64 } },
            "`decimal` applies to `Decimal` fields; `n` is of type `f64`",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(auto_now)] at: String } },
            "`auto_now` applies to date and datetime fields (`DateTime<Utc>`, `NaiveDate`); `at` is of type `String`",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(on_delete = "cascade")] n: i64 } },
            "`on_delete` applies to `ForeignKey<T>` fields; `n` is of type `i64`",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(through = "a.B", on_delete = "cascade")] u: ForeignKey<U> } },
            "`through` applies to `ManyToMany<T>` fields; `u` is a foreign key",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(unique)] t: ManyToMany<T> } },
            "`unique` applies to fields with a column (not `ManyToMany<T>`); `t` is a many-to-many field",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(skip, label = "x")] t: u8 } },
            "`label` cannot be combined with `skip`: a skipped field is not stored",
        ),
        (
            parse_quote! { struct A { id: i64, u: ForeignKey<User> } },
            "foreign key `u` needs `#[field(on_delete = \"…\")]`: what happens to this row when the `User` it points at is deleted — \"cascade\", \"restrict\", \"set_null\" or \"protect\"",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(on_delete = "set_null")] u: ForeignKey<User> } },
            "`on_delete = \"set_null\"` needs a nullable field: write `Option<ForeignKey<User>>`",
        ),
        (
            parse_quote! { struct A { id: i64, t: Option<ManyToMany<T>> } },
            "a many-to-many field has no column and cannot be `Option`: write `ManyToMany<T>`",
        ),
        (
            parse_quote! { struct A { id: i64, #[field(auto_now, auto_now_add)] at: DateTime<Utc> } },
            "`auto_now` and `auto_now_add` exclude each other: pick one",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(error(input), expected);
    }
    // The accepted spellings.
    expand(
        parse_quote! { struct A { id: i64, #[field(max_length = 5)] s: Option<std::string::String> } },
    );
    expand(parse_quote! { struct A { id: i64, #[field(auto_now)] d: Option<chrono::NaiveDate> } });
    expand(
        parse_quote! { struct A { id: i64, #[field(one_to_one, on_delete = "set_null")] u: Option<turbine::orm::ForeignKey<U>> } },
    );
}

#[test]
fn primary_key_problems() {
    assert_eq!(
        error(parse_quote! { struct Note { body: String } }),
        "`Note` has no primary key: add a field `id: i64` (an automatic key) or `id: Uuid`, or mark one field `#[field(primary_key)]`"
    );
    assert_eq!(
        error(
            parse_quote! { struct A { #[field(primary_key)] a: i64, #[field(primary_key)] b: i64 } }
        ),
        "a model has one primary key, and `a` is already marked `primary_key`"
    );
    assert_eq!(
        error(parse_quote! { struct A { id: Option<i64> } }),
        "the primary key `id` cannot be `Option`: an automatic `id: i64` is 0 until the row is inserted"
    );
    assert_eq!(
        error(parse_quote! { struct A { #[field(primary_key)] t: ManyToMany<T> } }),
        "`primary_key` applies to fields with a column (not `ManyToMany<T>`); `t` is a many-to-many field"
    );
}

#[test]
fn references_to_fields_and_columns_are_checked() {
    assert_eq!(
        error(parse_quote! { #[model(index(fields = ["nope"]))] struct A { id: i64, s: String } }),
        "no field `nope`; the column fields are: id, s"
    );
    assert_eq!(
        error(
            parse_quote! { #[model(ordering = ["-tags"])] struct A { id: i64, tags: ManyToMany<T> } }
        ),
        "`tags` has no column (it is a many-to-many field), so it cannot be indexed or ordered by"
    );
    assert_eq!(
        error(
            parse_quote! { struct A { id: i64, #[field(on_delete = "cascade")] user: ForeignKey<U>, user_id: i64 } }
        ),
        "field `user_id` uses column `user_id`, which is already the column of `user`; give one `#[field(column = \"…\")]`"
    );
}

#[test]
fn shapes_that_are_not_models() {
    let cases: Vec<(DeriveInput, &str)> = vec![
        (
            parse_quote! { struct A(i64); },
            "`#[derive(Model)]` needs a struct with named fields, like `struct Post { id: i64, title: String }`",
        ),
        (
            parse_quote! { struct A; },
            "`#[derive(Model)]` needs a struct with named fields, like `struct Post { id: i64, title: String }`",
        ),
        (
            parse_quote! { enum A { B } },
            "`#[derive(Model)]` is for structs; for a string-backed enum field use `#[derive(Choices)]`",
        ),
        (
            parse_quote! { struct A<T> { id: T } },
            "`#[derive(Model)]` does not support generics: a model is one table, so write a concrete struct",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(error(input), expected);
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let all = errors(parse_quote! {
        #[model(tabel = "x")]
        struct A {
            #[field(max_length = 5)] n: i64,
            #[field(colour = "red")] s: String,
        }
    });
    assert_eq!(all.len(), 4, "{all:#?}");
    assert!(all[3].contains("has no primary key"));
}
