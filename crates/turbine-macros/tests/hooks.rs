//! `#[model(hooks)]`: the derived `Model` hook methods forward to the model's `ModelHooks`;
//! without it they are the trait's defaults.

use turbine::Model;
use turbine::orm::hooks::ChangeKind;
use turbine::orm::{Db, Error, ModelHooks};

#[derive(Model, Debug)]
#[model(app = "hooks", hooks)]
struct Article {
    id: i64,
    title: String,
    slug: String,
}

impl ModelHooks for Article {
    async fn before_save(&mut self, _db: &Db, kind: ChangeKind) -> turbine::orm::Result<()> {
        if self.title.is_empty() {
            return Err(Error::Validation {
                field: "title".into(),
                message: "a title is required".into(),
            });
        }
        if kind == ChangeKind::Created {
            self.slug = self.title.to_lowercase().replace(' ', "-");
        }
        Ok(())
    }

    async fn before_delete(&self, _db: &Db) -> turbine::orm::Result<()> {
        Err(Error::Protected {
            model: format!("article {}", self.id),
            by: vec!["the editor".into()],
        })
    }
}

#[derive(Model, Debug)]
#[model(app = "hooks")]
struct Plain {
    id: i64,
}

#[tokio::test]
async fn hooks_forward_to_model_hooks() -> turbine::orm::Result<()> {
    let db = Db::connect("sqlite::memory:").await?;
    let mut article = Article {
        id: 1,
        title: "Hello World".into(),
        slug: String::new(),
    };
    Model::before_save(&mut article, &db, ChangeKind::Created).await?;
    assert_eq!(article.slug, "hello-world");
    Model::after_save(&article, &db, ChangeKind::Created).await?;
    let err = Model::before_delete(&article, &db).await.unwrap_err();
    assert!(err.to_string().contains("cannot delete article 1"), "{err}");
    Model::after_delete(&article, &db).await?;
    article.title.clear();
    let err = Model::before_save(&mut article, &db, ChangeKind::Updated)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "title: a title is required");

    let mut plain = Plain { id: 1 };
    Model::before_save(&mut plain, &db, ChangeKind::Created).await?;
    Model::before_delete(&plain, &db).await?;
    assert_eq!(plain.key(), 1);
    db.close().await;
    Ok(())
}
