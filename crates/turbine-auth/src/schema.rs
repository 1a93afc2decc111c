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
    for meta in metas(&[])? {
        registry.register(meta)?;
    }
    Ok(())
}

/// The auth models alone, finished (the m2m join models included).
pub fn registry() -> turbine_orm::Result<Registry> {
    registry_with(&[])
}

/// [`registry`] with the app's own fields on the user model ([`user_meta`]).
pub fn registry_with(
    user_fields: &[turbine_orm::meta::FieldMeta],
) -> turbine_orm::Result<Registry> {
    let mut r = ModelRegistry::new();
    for meta in metas(user_fields)? {
        r.register(meta)?;
    }
    Ok(r.finish()?)
}

/// The battery's models, the user with the app's own fields.
fn metas(
    user_fields: &[turbine_orm::meta::FieldMeta],
) -> turbine_orm::Result<Vec<turbine_orm::meta::ModelMeta>> {
    use turbine_orm::Model;
    Ok(vec![
        user_meta(user_fields)?,
        Permission::meta().clone(),
        Group::meta().clone(),
        Session::meta().clone(),
        Device::meta().clone(),
        RefreshToken::meta().clone(),
        ApiToken::meta().clone(),
        OneTimeToken::meta().clone(),
    ])
}

/// The user model's metadata with the app's own fields added after the battery's (see
/// [`Auth::user_field`](crate::Auth::user_field)). Refuses a field that clashes with the
/// user's, a key, a many-to-many field, or one the battery's inserts could not leave out (not
/// nullable and no `db_default`).
///
/// ```
/// use turbine_orm::meta::{FieldMeta, FieldType};
///
/// let phone = FieldMeta::new("phone", FieldType::String { max_length: 20 }).nullable();
/// let meta = turbine_auth::schema::user_meta(&[phone]).unwrap();
/// assert!(meta.fields.iter().any(|f| f.name == "phone"));
/// let email = FieldMeta::new("email", FieldType::Text).nullable();
/// assert!(turbine_auth::schema::user_meta(&[email]).is_err());
/// ```
pub fn user_meta(
    extra: &[turbine_orm::meta::FieldMeta],
) -> turbine_orm::Result<turbine_orm::meta::ModelMeta> {
    use turbine_orm::Model;
    let mut meta = User::meta().clone();
    for field in extra {
        let refuse = |why: &str| {
            Err(turbine_orm::Error::Migration(format!(
                "user field `{}`: {why}",
                field.name
            )))
        };
        if field.primary_key || field.auto.is_some() {
            return refuse("the user model's key is `id`");
        }
        if matches!(
            &field.relation,
            Some(r) if r.kind == turbine_orm::meta::RelationKind::ManyToMany
        ) {
            return refuse("many-to-many fields cannot be added to the user model");
        }
        if meta
            .fields
            .iter()
            .any(|f| f.name == field.name || f.column == field.column)
        {
            return refuse("the user model already has a field or column of that name");
        }
        if !field.nullable && field.db_default.is_none() {
            return refuse("make it nullable or give it a db_default (sign-up does not set it)");
        }
        meta.fields.push(field.clone());
    }
    Ok(meta)
}

/// The battery's migrations, named `auth.0001_initial`…
pub fn migrations() -> turbine_orm::Result<MigrationSet> {
    turbine_orm::migrations!("migrations")?.qualified(APP)
}

/// Hands the models and migrations to the ORM battery.
pub(crate) fn contribute(
    orm: &Contributions,
    user_fields: &[turbine_orm::meta::FieldMeta],
) -> turbine_orm::Result<()> {
    for meta in metas(user_fields)? {
        orm.meta(meta);
    }
    orm.migrations(migrations()?);
    Ok(())
}
