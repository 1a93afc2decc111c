use turbine::Model;
use turbine::orm::ForeignKey;

#[derive(Model)]
struct User {
    id: i64,
}

#[derive(Model)]
struct Post {
    id: i64,
    author: ForeignKey<User>,
}

fn main() {}
