//! `users`: everyone who ever logged in or appeared in a session.

use sea_orm::entity::prelude::*;

use crate::domain::Role;

/// A row of `users`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// School number (or demo account name).
    #[sea_orm(primary_key, auto_increment = false)]
    pub school_number: String,
    /// Name as the portal spells it.
    pub full_name: String,
    /// `student`, `teacher` or `admin`.
    pub role: Role,
    /// First seen.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations of `users` (none navigated from here).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
