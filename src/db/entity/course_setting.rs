//! `course_settings`: what a teacher set for a course (a lesson title and its teacher). A course
//! without a row has the defaults.

use sea_orm::entity::prelude::*;

use crate::domain::LateCounts;

/// A row of `course_settings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "course_settings")]
pub struct Model {
    /// The course's id (see `courses::course_id`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub course_id: Uuid,
    /// Owner.
    pub teacher_school_number: String,
    /// Lesson title.
    pub lesson_name: String,
    /// Share of the sessions a student may miss, in percent.
    pub absence_limit_percent: i16,
    /// Sessions planned for the term: the limit is a share of these (or of those held, if more).
    pub planned_sessions: i16,
    /// How a late arrival counts toward the limit.
    pub late_counts: LateCounts,
    /// When it was last changed.
    pub updated_at: DateTimeUtc,
    /// Who changed it.
    pub updated_by: String,
}

/// `course_settings` has no relations SeaORM needs to know.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
