// A private model with private fields and a raw identifier: no warnings are generated
// (unused column constants included), `r#type` is the field `type`.
#![deny(warnings)]

use turbine::Model;

#[derive(Model)]
struct Item {
    id: i64,
    r#type: String,
}

fn main() {
    let meta = Item::meta();
    assert_eq!(meta.fields[1].name, "type");
    let _ = Item { id: 0, r#type: String::new() }.to_values();
}
