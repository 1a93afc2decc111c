//! Users, groups with an explicit `through` model.

use turbine::Model;
use turbine_orm::{ForeignKey, ManyToMany};

// ---------------------------------------------------------------------------------- User

#[derive(Model, Debug, Clone, PartialEq)]
#[model(app = "auth", ordering = ["name"])]
pub struct User {
    pub id: i64,
    #[field(max_length = 254, unique)]
    pub email: String,
    #[field(max_length = 100)]
    pub name: String,
    #[field(default = true)]
    pub active: bool,
}

impl User {
    pub fn new(name: &str) -> Self {
        Self {
            id: 0,
            email: format!("{}@example.com", name.to_lowercase()),
            name: name.into(),
            active: true,
        }
    }
}

// ---------------------------------------------------------------------------------- Group

#[derive(Model, Debug, Clone)]
#[model(app = "blog")]
pub struct Group {
    pub id: i64,
    #[field(max_length = 50)]
    pub name: String,
    #[field(through = "blog.Membership")]
    pub members: ManyToMany<User>,
}

impl Group {
    pub fn new(name: &str) -> Self {
        Self {
            id: 0,
            name: name.into(),
            members: ManyToMany::default(),
        }
    }
}

/// The explicit `through` model of `Group.members`, with a field of its own.
#[derive(Model, Debug, Clone)]
#[model(app = "blog", unique_together(fields = ["group", "user"]))]
pub struct Membership {
    pub id: i64,
    #[field(on_delete = "cascade")]
    pub group: ForeignKey<Group>,
    #[field(on_delete = "cascade")]
    pub user: ForeignKey<User>,
    #[field(max_length = 20, db_default = "'member'")]
    pub role: String,
}
