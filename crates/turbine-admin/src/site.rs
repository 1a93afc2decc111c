//! [`Admin`]: the battery — where the admin is mounted, which models it shows, its templates.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use turbine_core::battery::{Battery, Setup};
use turbine_orm::Db;
use turbine_orm::meta::Registry;

use crate::model_admin::ModelAdmin;
use crate::templates::Templates;

/// The admin battery. Mount it after the ORM and auth batteries:
/// `.battery(Admin::new().model(ModelAdmin::of::<Post>()))`. The auth battery's users and
/// groups are registered too unless [`without_auth_models`](Self::without_auth_models).
pub struct Admin {
    path: String,
    title: String,
    models: Vec<ModelAdmin>,
    auth_models: bool,
    templates: Option<PathBuf>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("path", &self.path)
            .field("models", &self.models.len())
            .finish_non_exhaustive()
    }
}

impl Default for Admin {
    fn default() -> Self {
        Self::new()
    }
}

impl Admin {
    /// An admin at `/admin` titled "Administration".
    pub fn new() -> Self {
        Self {
            path: "/admin".into(),
            title: "Administration".into(),
            models: Vec::new(),
            auth_models: true,
            templates: None,
        }
    }

    /// Where it is mounted (default `/admin`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let p: String = path.into();
        self.path = format!("/{}", p.trim_matches('/'));
        self
    }

    /// The site's title in the header.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Registers a model (registering one twice is an error when the app is built).
    pub fn model(mut self, admin: ModelAdmin) -> Self {
        self.models.push(admin);
        self
    }

    /// Leaves the auth battery's `User` and `Group` out.
    pub fn without_auth_models(mut self) -> Self {
        self.auth_models = false;
        self
    }

    /// A folder of templates overriding the built-in ones by name (`base.html`, `list.html`…).
    pub fn templates(mut self, dir: impl Into<PathBuf>) -> Self {
        self.templates = Some(dir.into());
        self
    }
}

fn setup_error(message: String) -> turbine_core::Error {
    turbine_core::Error::other(
        "the admin",
        std::io::Error::new(std::io::ErrorKind::InvalidInput, message),
    )
}

/// The default admins of the auth battery's models.
fn auth_admins() -> Vec<ModelAdmin> {
    use turbine_auth::models::{Group, User};
    vec![
        ModelAdmin::of::<User>()
            .list_display(["email", "name", "is_staff", "is_superuser", "is_active"])
            .search(["email", "name"])
            .filters(["is_staff", "is_superuser", "is_active", "date_joined"])
            .exclude(["password"])
            .read_only(["last_login", "date_joined", "email_verified_at"])
            .section(
                "Permissions",
                [
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ],
            )
            .section("Dates", ["last_login", "date_joined", "email_verified_at"]),
        ModelAdmin::of::<Group>().search(["name"]),
    ]
}

/// What every view shares.
pub(crate) struct State {
    pub(crate) path: String,
    pub(crate) title: String,
    pub(crate) templates: Templates,
    /// The registered models, their metadata replaced by the registry's (foreign keys typed).
    models: OnceLock<Vec<ModelAdmin>>,
    pending: Vec<ModelAdmin>,
}

impl State {
    /// The registered models (empty before start-up).
    pub(crate) fn models(&self) -> &[ModelAdmin] {
        self.models.get().map(Vec::as_slice).unwrap_or(&[])
    }

    /// A registered model by its `app` and `model` path segments.
    pub(crate) fn find(&self, app: &str, model: &str) -> Option<&ModelAdmin> {
        self.models().iter().find(|m| {
            m.meta.app.eq_ignore_ascii_case(app) && m.meta.name.eq_ignore_ascii_case(model)
        })
    }

    /// A registered model by label (`app.Model`).
    pub(crate) fn by_label(&self, label: &str) -> Option<&ModelAdmin> {
        self.models().iter().find(|m| m.meta.label() == label)
    }

    fn resolve(&self, registry: &Registry) -> turbine_core::Result<()> {
        let mut out = Vec::with_capacity(self.pending.len());
        for admin in &self.pending {
            let label = admin.meta.label();
            let meta = registry.get(&label).ok_or_else(|| {
                setup_error(format!(
                    "the admin registers {label}, which the ORM battery does not know: add it with `Orm::model`"
                ))
            })?;
            let mut admin = admin.clone();
            admin.meta = meta.clone();
            out.push(admin);
        }
        let _ = self.models.set(out);
        Ok(())
    }
}

impl Battery for Admin {
    fn name(&self) -> &'static str {
        "admin"
    }

    fn install(self, setup: &mut Setup) -> turbine_core::Result<()> {
        let mut models = self.models;
        if self.auth_models {
            for a in auth_admins() {
                if !models.iter().any(|m| m.meta.label() == a.meta.label()) {
                    models.push(a);
                }
            }
        }
        for (i, m) in models.iter().enumerate() {
            m.check().map_err(setup_error)?;
            if models[..i].iter().any(|o| o.meta.label() == m.meta.label()) {
                return Err(setup_error(format!(
                    "the admin registers {} twice",
                    m.meta.label()
                )));
            }
        }
        let orm = setup.shared::<turbine_orm::battery::Contributions>();
        orm.model::<crate::audit::LogEntry>();
        orm.migrations(
            crate::audit::migrations()
                .map_err(|e| turbine_core::Error::other("the admin battery's migrations", e))?,
        );
        let state = Arc::new(State {
            path: self.path.clone(),
            title: self.title,
            templates: Templates::new(self.templates),
            models: OnceLock::new(),
            pending: models,
        });
        let for_startup = state.clone();
        setup.on_startup(move |cx| async move {
            let db = cx
                .get::<Db>()
                .ok_or_else(|| setup_error("install the orm battery before the admin".into()))?;
            let registry = db
                .registry()
                .ok_or_else(|| setup_error("the database has no model registry".into()))?;
            for_startup.resolve(registry)
        });
        crate::views::mount(setup, &state);
        Ok(())
    }
}
