//! `attendances`: one persisted attendance session.

use sea_orm::entity::prelude::*;

use crate::domain::{DeviceCheck, SecurityLevel};

/// A row of `attendances`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attendances")]
pub struct Model {
    /// The live session's id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Owner.
    pub teacher_school_number: String,
    /// Lesson title.
    pub lesson_name: String,
    /// Teacher's IP at start.
    pub ip_address: String,
    /// Opened.
    pub start_time: DateTimeUtc,
    /// Closed.
    pub end_time: DateTimeUtc,
    /// 1 none, 2 network, 3 network + face (the original system's numbers).
    pub security_option: SecurityLevel,
    /// How the student's device was checked (a cookie, or the student's passkey).
    pub device_check: DeviceCheck,
    /// Minutes after the start from which a check-in was late (`None`: never late).
    pub late_after_minutes: Option<i32>,
    /// Class hours the session stands for (`None`: not given).
    pub class_hours: Option<i32>,
    /// When each re-check ran, as JSON (`None`: there was none).
    pub rechecks: Option<String>,
    /// Soft-deleted: hidden from normal reads, shown to admins.
    pub is_deleted: bool,
    /// Why it was deleted.
    pub deletion_reason: Option<String>,
    /// When it was deleted.
    pub deletion_time: Option<DateTimeUtc>,
    /// Who deleted it.
    pub deleted_by: Option<String>,
}

/// Relations of `attendances`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The session's records.
    #[sea_orm(has_many = "super::attendance_record::Entity")]
    Records,
}

impl Related<super::attendance_record::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Records.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
