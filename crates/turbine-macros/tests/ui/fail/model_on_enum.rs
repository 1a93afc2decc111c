use turbine::Model;

#[derive(Model)]
enum Status {
    Draft,
}

fn main() {}
