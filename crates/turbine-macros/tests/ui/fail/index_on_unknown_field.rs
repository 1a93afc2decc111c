use turbine::Model;
use turbine::orm::ManyToMany;

#[derive(Model)]
struct Tag {
    id: i64,
}

#[derive(Model)]
#[model(index(fields = ["title", "created"]), ordering = ["-tags"])]
struct Post {
    id: i64,
    title: String,
    tags: ManyToMany<Tag>,
}

fn main() {}
