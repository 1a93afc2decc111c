//! Object-level permissions: a policy per model says whether a user may act on one object
//! (Laravel's policies, Django's object permissions).
//!
//! Without a policy for the model, the model permission decides (`chirp.post.change` for
//! [`Action::Change`] on a `chirp.Post`); superusers may do everything.
//!
//! ```
//! use turbine_auth::CurrentUser;
//! use turbine_auth::authorize::{Action, Policies};
//! # #[derive(Debug)] struct Post { author_id: i64 }
//!
//! let policies = Policies::default().with::<Post>(|user: &CurrentUser, action, post: &Post| match action {
//!     Action::View => true,
//!     _ => post.author_id == user.id,
//! });
//! assert!(policies.has::<Post>());
//! ```

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use crate::extract::CurrentUser;

/// What a user wants to do with an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read it.
    View,
    /// Create it.
    Add,
    /// Change it.
    Change,
    /// Delete it.
    Delete,
    /// An action of the app's own (`publish`); its model permission is `app.model.<name>`.
    Custom(&'static str),
}

impl Action {
    /// The action's name in permission codenames.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::View => "view",
            Action::Add => "add",
            Action::Change => "change",
            Action::Delete => "delete",
            Action::Custom(name) => name,
        }
    }
}

/// Decides whether a user may act on an object of type `M`. Closures
/// `Fn(&CurrentUser, Action, &M) -> bool` are policies.
pub trait Policy<M>: Send + Sync + 'static {
    /// `true` to allow.
    fn allows(&self, user: &CurrentUser, action: Action, object: &M) -> bool;
}

impl<M, F> Policy<M> for F
where
    F: Fn(&CurrentUser, Action, &M) -> bool + Send + Sync + 'static,
{
    fn allows(&self, user: &CurrentUser, action: Action, object: &M) -> bool {
        self(user, action, object)
    }
}

type Erased = Arc<dyn Fn(&CurrentUser, Action, &dyn Any) -> bool + Send + Sync>;

/// The registered policies, by model type.
#[derive(Clone, Default)]
pub struct Policies(HashMap<TypeId, Erased>);

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policies")
            .field("count", &self.0.len())
            .finish()
    }
}

impl Policies {
    /// Adds (or replaces) the policy for `M`.
    pub fn with<M: 'static>(mut self, policy: impl Policy<M>) -> Self {
        let erased: Erased = Arc::new(move |user, action, object: &dyn Any| {
            object
                .downcast_ref::<M>()
                .is_some_and(|m| policy.allows(user, action, m))
        });
        self.0.insert(TypeId::of::<M>(), erased);
        self
    }

    /// Whether `M` has a policy.
    pub fn has<M: 'static>(&self) -> bool {
        self.0.contains_key(&TypeId::of::<M>())
    }

    /// The policy's answer, or `None` when `M` has none.
    pub fn check<M: 'static>(
        &self,
        user: &CurrentUser,
        action: Action,
        object: &M,
    ) -> Option<bool> {
        self.0
            .get(&TypeId::of::<M>())
            .map(|p| p(user, action, object as &dyn Any))
    }
}
