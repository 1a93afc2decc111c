// `#[model(hooks)]` with an `impl ModelHooks`, written with `async fn`.
use turbine::Model;
use turbine::orm::hooks::ChangeKind;
use turbine::orm::{Db, ModelHooks};

#[derive(Model)]
#[model(hooks)]
struct Article {
    id: i64,
    title: String,
}

impl ModelHooks for Article {
    async fn before_save(&mut self, _db: &Db, _kind: ChangeKind) -> turbine::orm::Result<()> {
        self.title = self.title.trim().to_string();
        Ok(())
    }
}

fn main() {
    let a = Article { id: 1, title: " x ".into() };
    assert_eq!(a.key(), 1);
    assert_eq!(Article::LABEL, concat!(env!("CARGO_CRATE_NAME"), ".Article"));
}
