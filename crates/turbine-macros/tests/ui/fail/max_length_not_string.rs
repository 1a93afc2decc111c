use turbine::Model;

#[derive(Model)]
struct Post {
    id: i64,
    #[field(max_length = 10)]
    views: i64,
}

fn main() {}
