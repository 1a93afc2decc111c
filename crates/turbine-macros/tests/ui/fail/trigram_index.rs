use turbine::Model;

#[derive(Model)]
#[model(index(fields = ["title", "views"], kind = "trigram"))]
struct Post {
    id: i64,
    title: String,
    views: i64,
}

#[derive(Model)]
#[model(index(fields = ["title"], kind = "gist"))]
struct Note {
    id: i64,
    title: String,
}

#[derive(Model)]
#[model(unique_together(fields = ["title"], kind = "trigram"))]
struct Page {
    id: i64,
    title: String,
}

fn main() {}
