//! `appeals`: a student's contest of one of their records, and the teacher's answer.

use sea_orm::entity::prelude::*;

use crate::domain::AppealState;

/// A row of `appeals`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appeals")]
pub struct Model {
    /// Random id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The session.
    pub attendance_id: Uuid,
    /// The student who appeals.
    pub student_number: String,
    /// What the student wrote.
    pub text: String,
    /// When.
    pub created_at: DateTimeUtc,
    /// Open, accepted or rejected.
    pub state: AppealState,
    /// The teacher's answer (required when rejecting).
    pub answer: Option<String>,
    /// When the teacher answered.
    pub answered_at: Option<DateTimeUtc>,
    /// Who answered.
    pub answered_by: Option<String>,
    /// The signed receipt the student attached (checked when the appeal was made).
    pub receipt: Option<String>,
}

/// `appeals` has no relations SeaORM needs to know.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
