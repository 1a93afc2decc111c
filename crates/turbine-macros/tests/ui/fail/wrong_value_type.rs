use turbine::Model;

#[derive(Model)]
#[model(ordering = "-id")]
struct Post {
    id: i64,
    #[field(max_length = "200")]
    title: String,
    #[field(label = Title)]
    subtitle: String,
}

fn main() {}
