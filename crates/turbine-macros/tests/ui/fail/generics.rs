use turbine::Model;

#[derive(Model)]
struct Post<T> {
    id: i64,
    body: T,
}

fn main() {}
