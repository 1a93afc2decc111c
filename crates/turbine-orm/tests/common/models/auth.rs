//! Users, groups with an explicit `through` model.

use std::sync::LazyLock;

use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta, OnDelete, Ordering};
use turbine_orm::value::Fields;
use turbine_orm::{Column, FieldValue, ForeignKey, ManyToMany, Model, Result, Value};

use super::{conv, unknown};

// ---------------------------------------------------------------------------------- User

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub active: bool,
}

impl User {
    pub const ID: Column<User, i64> = Column::new("id");
    pub const EMAIL: Column<User, String> = Column::new("email");
    pub const NAME: Column<User, String> = Column::new("name");
    pub const ACTIVE: Column<User, bool> = Column::new("active");

    pub fn new(name: &str) -> Self {
        Self {
            id: 0,
            email: format!("{}@example.com", name.to_lowercase()),
            name: name.into(),
            active: true,
        }
    }
}

impl Model for User {
    type Key = i64;
    const LABEL: &'static str = "auth.User";
    fn meta() -> &'static ModelMeta {
        static META: LazyLock<ModelMeta> = LazyLock::new(|| {
            ModelMeta::new("auth", "User")
                .field(FieldMeta::auto_id())
                .field(FieldMeta::new("email", FieldType::String { max_length: 254 }).unique())
                .field(FieldMeta::new(
                    "name",
                    FieldType::String { max_length: 100 },
                ))
                .field(FieldMeta::new("active", FieldType::Bool).default_value(true))
                .ordering([Ordering::asc("name")])
        });
        &META
    }
    fn from_fields(f: &mut Fields) -> Result<Self> {
        Ok(Self {
            id: f.next()?,
            email: f.next()?,
            name: f.next()?,
            active: f.next()?,
        })
    }
    fn to_values(&self) -> Vec<Value> {
        vec![
            self.id.to_value(),
            self.email.to_value(),
            self.name.to_value(),
            self.active.to_value(),
        ]
    }
    fn key(&self) -> i64 {
        self.id
    }
    fn set_key(&mut self, key: i64) {
        self.id = key;
    }
    fn set_field(&mut self, field: &str, value: Value) -> Result<()> {
        match field {
            "email" => self.email = conv(field, value)?,
            "name" => self.name = conv(field, value)?,
            "active" => self.active = conv(field, value)?,
            _ => return Err(unknown(Self::LABEL, field)),
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------- Group

#[derive(Debug, Clone)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub members: ManyToMany<User>,
}

impl Group {
    pub const NAME: Column<Group, String> = Column::new("name");
    pub const MEMBERS: Column<Group, ManyToMany<User>> = Column::new("members");

    pub fn new(name: &str) -> Self {
        Self {
            id: 0,
            name: name.into(),
            members: ManyToMany::default(),
        }
    }
}

impl Model for Group {
    type Key = i64;
    const LABEL: &'static str = "blog.Group";
    fn meta() -> &'static ModelMeta {
        static META: LazyLock<ModelMeta> = LazyLock::new(|| {
            ModelMeta::new("blog", "Group")
                .field(FieldMeta::auto_id())
                .field(FieldMeta::new("name", FieldType::String { max_length: 50 }))
                .field(FieldMeta::many_to_many("members", "auth.User").through("blog.Membership"))
        });
        &META
    }
    fn from_fields(f: &mut Fields) -> Result<Self> {
        Ok(Self {
            id: f.next()?,
            name: f.next()?,
            members: ManyToMany::default(),
        })
    }
    fn to_values(&self) -> Vec<Value> {
        vec![self.id.to_value(), self.name.to_value()]
    }
    fn key(&self) -> i64 {
        self.id
    }
    fn set_key(&mut self, key: i64) {
        self.id = key;
    }
    fn relation_mut(&mut self, field: &str) -> Option<&mut dyn std::any::Any> {
        match field {
            "members" => Some(&mut self.members),
            _ => None,
        }
    }
}

/// The explicit `through` model of `Group.members`, with a field of its own.
#[derive(Debug, Clone)]
pub struct Membership {
    pub id: i64,
    pub group: ForeignKey<Group>,
    pub user: ForeignKey<User>,
    pub role: String,
}

impl Membership {
    pub const ROLE: Column<Membership, String> = Column::new("role");
}

impl Model for Membership {
    type Key = i64;
    const LABEL: &'static str = "blog.Membership";
    fn meta() -> &'static ModelMeta {
        static META: LazyLock<ModelMeta> = LazyLock::new(|| {
            ModelMeta::new("blog", "Membership")
                .field(FieldMeta::auto_id())
                .field(FieldMeta::foreign_key(
                    "group",
                    "blog.Group",
                    OnDelete::Cascade,
                ))
                .field(FieldMeta::foreign_key(
                    "user",
                    "auth.User",
                    OnDelete::Cascade,
                ))
                .field(
                    FieldMeta::new("role", FieldType::String { max_length: 20 })
                        .db_default("'member'"),
                )
                .unique_together(&["group", "user"])
        });
        &META
    }
    fn from_fields(f: &mut Fields) -> Result<Self> {
        Ok(Self {
            id: f.next()?,
            group: f.next()?,
            user: f.next()?,
            role: f.next()?,
        })
    }
    fn to_values(&self) -> Vec<Value> {
        vec![
            self.id.to_value(),
            self.group.to_value(),
            self.user.to_value(),
            self.role.to_value(),
        ]
    }
    fn key(&self) -> i64 {
        self.id
    }
    fn set_key(&mut self, key: i64) {
        self.id = key;
    }
}
