use turbine::Model;

#[derive(Model)]
struct Post {
    id: i64,
    #[field(maxlength = 200)]
    title: String,
}

fn main() {}
