use turbine::Model;

#[derive(Model)]
struct Post {
    id: i64,
    #[field(auto_now_add)]
    created_at: String,
}

fn main() {}
