//! `class_list_entries`: a student a teacher put on a course's class list.

use sea_orm::entity::prelude::*;

/// A row of `class_list_entries`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "class_list_entries")]
pub struct Model {
    /// The course's teacher.
    #[sea_orm(primary_key, auto_increment = false)]
    pub teacher_school_number: String,
    /// The course's lesson title.
    #[sea_orm(primary_key, auto_increment = false)]
    pub lesson_name: String,
    /// The student.
    #[sea_orm(primary_key, auto_increment = false)]
    pub student_number: String,
    /// When they were put on the list.
    pub added_at: DateTimeUtc,
    /// Who put them there.
    pub added_by: String,
}

/// `class_list_entries` has no relations SeaORM needs to know.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
