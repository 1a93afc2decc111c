use turbine::Model;

#[derive(Model)]
struct Country {
    #[field(primary_key, max_length = 2)]
    code: String,
    #[field(primary_key)]
    number: i32,
}

fn main() {}
