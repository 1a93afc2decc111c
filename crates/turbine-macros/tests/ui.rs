//! Compile-time behaviour of the derives: `ui/pass` compiles and runs, `ui/fail` fails with the
//! messages in the `.stderr` files (regenerate with `TRYBUILD=overwrite`, then read them).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
