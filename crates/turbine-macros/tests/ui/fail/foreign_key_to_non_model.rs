use turbine::Model;
use turbine::orm::ForeignKey;

struct Author {
    name: String,
}

#[derive(Model)]
struct Post {
    id: i64,
    #[field(on_delete = "cascade")]
    author: ForeignKey<Author>,
}

fn main() {}
