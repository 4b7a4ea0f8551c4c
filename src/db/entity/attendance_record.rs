//! `attendance_records`: one student in one session.

use sea_orm::entity::prelude::*;

use crate::domain::{FailReason, Status};

/// A row of `attendance_records`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attendance_records")]
pub struct Model {
    /// The session.
    #[sea_orm(primary_key, auto_increment = false)]
    pub attendance_id: Uuid,
    /// The student.
    #[sea_orm(primary_key, auto_increment = false)]
    pub student_number: String,
    /// Counts as present (present or late).
    pub is_attended: bool,
    /// How the student counts.
    pub status: Status,
    /// Why the teacher set the status (an excuse, say).
    pub status_reason: Option<String>,
    /// When the student checked in or was added.
    pub attendance_time: Option<DateTimeUtc>,
    /// Stable reason code of a failed check.
    pub fail_reason: Option<FailReason>,
    /// The selfie's distance from the portal photo, in thousandths (face-checked sessions).
    pub face_distance_milli: Option<i32>,
    /// Re-checks the student, counted present, did not confirm (`None`: none missed).
    pub rechecks_missed: Option<i32>,
    /// How the check-in was checked, as JSON (`None`: added by the teacher, or older).
    pub evidence: Option<String>,
    /// Soft-deleted: hidden from normal reads, shown to admins.
    pub is_deleted: bool,
    /// Why it was deleted.
    pub deletion_reason: Option<String>,
    /// When it was deleted.
    pub deletion_time: Option<DateTimeUtc>,
    /// Who deleted it.
    pub deleted_by: Option<String>,
}

/// Relations of `attendance_records`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The session this record belongs to.
    #[sea_orm(
        belongs_to = "super::attendance::Entity",
        from = "Column::AttendanceId",
        to = "super::attendance::Column::Id"
    )]
    Attendance,
}

impl Related<super::attendance::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Attendance.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
