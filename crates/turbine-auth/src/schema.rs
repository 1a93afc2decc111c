//! The auth models and their migrations, as the ORM battery takes them.
//!
//! ```
//! let set = turbine_auth::schema::migrations().unwrap();
//! assert_eq!(set.migrations()[0].name, "auth.0001_initial");
//! ```

use turbine_orm::battery::Contributions;
use turbine_orm::meta::{ModelRegistry, Registry};
use turbine_orm::migrate::MigrationSet;

use crate::models::{
    ApiToken, Device, Group, OneTimeToken, Permission, RefreshToken, Session, User,
};

/// The app name of the battery's models and migrations.
pub const APP: &str = "auth";

/// Adds the auth models to a registry (the ORM battery's, or a test's).
pub fn register(registry: &mut ModelRegistry) -> turbine_orm::Result<()> {
    for meta in metas() {
        registry.register(meta)?;
    }
    Ok(())
}

/// The auth models alone, finished (the m2m join models included).
pub fn registry() -> turbine_orm::Result<Registry> {
    let mut r = ModelRegistry::new();
    register(&mut r)?;
    Ok(r.finish()?)
}

fn metas() -> Vec<turbine_orm::meta::ModelMeta> {
    use turbine_orm::Model;
    vec![
        User::meta().clone(),
        Permission::meta().clone(),
        Group::meta().clone(),
        Session::meta().clone(),
        Device::meta().clone(),
        RefreshToken::meta().clone(),
        ApiToken::meta().clone(),
        OneTimeToken::meta().clone(),
    ]
}

/// The battery's migrations, named `auth.0001_initial`…
pub fn migrations() -> turbine_orm::Result<MigrationSet> {
    turbine_orm::migrations!("migrations")?.qualified(APP)
}

/// Hands the models and migrations to the ORM battery.
pub(crate) fn contribute(orm: &Contributions) -> turbine_orm::Result<()> {
    for meta in metas() {
        orm.meta(meta);
    }
    orm.migrations(migrations()?);
    Ok(())
}
