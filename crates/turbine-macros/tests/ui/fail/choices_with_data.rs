use turbine::Choices;

#[derive(Choices)]
enum Status {
    Draft,
    Scheduled(u64),
}

fn main() {}
