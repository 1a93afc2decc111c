use turbine::Model;

#[derive(Model)]
#[model(hooks)]
struct Post {
    id: i64,
}

fn main() {}
