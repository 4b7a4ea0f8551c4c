//! `audit_events`: a correction after persistence, or a restore, with who, when and why.

use sea_orm::entity::prelude::*;

use crate::domain::{AuditAction, Status};

/// A row of `audit_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// Random id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// When it happened.
    pub at: DateTimeUtc,
    /// Who did it (school number).
    pub actor: String,
    /// What was done (see `AuditAction`).
    pub action: AuditAction,
    /// The session concerned (`None`: none, such as a new passkey allowed by an admin).
    pub attendance_id: Option<Uuid>,
    /// The student concerned, for record changes.
    pub student_number: Option<String>,
    /// The reason given, where one is asked for.
    pub reason: Option<String>,
    /// A status change's status before (`None`: no record before).
    pub from_status: Option<Status>,
    /// A status change's status after.
    pub to_status: Option<Status>,
}

/// `audit_events` has no relations SeaORM needs to know.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
