use turbine::Model;

#[derive(Model)]
struct Note {
    body: String,
}

fn main() {}
