//! `passkey_grants`: a teacher's or an admin's leave for a student to register a new passkey.

use sea_orm::entity::prelude::*;

/// A row of `passkey_grants`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkey_grants")]
pub struct Model {
    /// The student.
    #[sea_orm(primary_key, auto_increment = false)]
    pub student_number: String,
    /// Who allowed it.
    pub granted_by: String,
    /// When.
    pub granted_at: DateTimeUtc,
    /// Why (a new phone, say).
    pub reason: String,
}

/// Relations of `passkey_grants` (none).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
