use turbine::Model;

#[derive(Model)]
#[model(app = "blog", tabel = "posts")]
struct Post {
    id: i64,
}

fn main() {}
