//! Courses: the lesson titles a teacher has held sessions of, their settings, and the records of
//! all their sessions at once (for the semester grid).

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait,
};
use uuid::Uuid;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};

use super::entity::{attendance, attendance_record, class_list_entry, course_setting};
use super::users::insert_missing_users;
use super::{Attendance, AttendanceRecord, Db, INSERT_CHUNK, SoftDelete};
use crate::domain::User;
use crate::error::Result;

/// Sessions per `IN (...)` list when reading the records of many sessions.
const IDS_PER_QUERY: usize = 500;

/// A course's settings as stored.
pub type CourseSettingsRow = course_setting::Model;

/// A lesson title with its teacher and how many kept sessions it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseRow {
    /// Owner.
    pub teacher_school_number: String,
    /// Lesson title.
    pub lesson_name: String,
    /// Kept sessions.
    pub sessions: u64,
}

impl Db {
    /// The courses of `teacher` (every teacher's, for `None`), by lesson title.
    pub async fn courses(&self, teacher: Option<&str>) -> Result<Vec<CourseRow>> {
        let mut query = attendance::Entity::find_kept()
            .select_only()
            .column(attendance::Column::TeacherSchoolNumber)
            .column(attendance::Column::LessonName)
            .column_as(attendance::Column::Id.count(), "n")
            .group_by(attendance::Column::TeacherSchoolNumber)
            .group_by(attendance::Column::LessonName)
            .order_by_asc(attendance::Column::LessonName)
            .order_by_asc(attendance::Column::TeacherSchoolNumber);
        if let Some(teacher) = teacher {
            query = query.filter(attendance::Column::TeacherSchoolNumber.eq(teacher));
        }
        let rows: Vec<(String, String, i64)> = query.into_tuple().all(&self.conn).await?;
        Ok(rows
            .into_iter()
            .map(|(teacher_school_number, lesson_name, n)| CourseRow {
                teacher_school_number,
                lesson_name,
                sessions: u64::try_from(n).unwrap_or_default(),
            })
            .collect())
    }

    /// How many students each course of `teacher` (every teacher's, for `None`) has seen: its
    /// class list's size, by teacher and lesson title.
    pub async fn course_class_sizes(
        &self,
        teacher: Option<&str>,
    ) -> Result<HashMap<(String, String), u64>> {
        let mut query = attendance_record::Entity::find_kept()
            .join(
                JoinType::InnerJoin,
                attendance_record::Relation::Attendance.def(),
            )
            .filter(attendance::Column::IsDeleted.eq(false))
            .select_only()
            .column(attendance::Column::TeacherSchoolNumber)
            .column(attendance::Column::LessonName)
            .column_as(
                Expr::col((
                    attendance_record::Entity,
                    attendance_record::Column::StudentNumber,
                ))
                .count_distinct(),
                "n",
            )
            .group_by(attendance::Column::TeacherSchoolNumber)
            .group_by(attendance::Column::LessonName);
        if let Some(teacher) = teacher {
            query = query.filter(attendance::Column::TeacherSchoolNumber.eq(teacher));
        }
        let rows: Vec<(String, String, i64)> = query.into_tuple().all(&self.conn).await?;
        Ok(rows
            .into_iter()
            .map(|(t, l, n)| ((t, l), u64::try_from(n).unwrap_or_default()))
            .collect())
    }

    /// The kept sessions of a course, oldest first.
    pub async fn course_sessions(
        &self,
        teacher: &str,
        lesson_name: &str,
    ) -> Result<Vec<Attendance>> {
        Ok(attendance::Entity::find_kept()
            .filter(attendance::Column::TeacherSchoolNumber.eq(teacher))
            .filter(attendance::Column::LessonName.eq(lesson_name))
            .order_by_asc(attendance::Column::StartTime)
            .order_by_asc(attendance::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// The kept records of `sessions`, in one query per 500 sessions.
    pub async fn records_of_sessions(&self, sessions: &[Uuid]) -> Result<Vec<AttendanceRecord>> {
        let mut records = Vec::new();
        for chunk in sessions.chunks(IDS_PER_QUERY) {
            records.extend(
                attendance_record::Entity::find_kept()
                    .filter(attendance_record::Column::AttendanceId.is_in(chunk.iter().copied()))
                    .all(&self.conn)
                    .await?,
            );
        }
        Ok(records)
    }

    /// The stored settings of a course, if a teacher ever changed them.
    pub async fn course_settings(&self, course_id: Uuid) -> Result<Option<CourseSettingsRow>> {
        Ok(course_setting::Entity::find_by_id(course_id)
            .one(&self.conn)
            .await?)
    }

    /// The stored settings of many courses.
    pub async fn course_settings_of(&self, ids: &[Uuid]) -> Result<Vec<CourseSettingsRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(course_setting::Entity::find()
            .filter(course_setting::Column::CourseId.is_in(ids.iter().copied()))
            .all(&self.conn)
            .await?)
    }

    /// Stores a course's settings (replacing what was there).
    pub async fn put_course_settings(&self, row: &CourseSettingsRow) -> Result<()> {
        course_setting::Entity::insert(course_setting::ActiveModel {
            course_id: Set(row.course_id),
            teacher_school_number: Set(row.teacher_school_number.clone()),
            lesson_name: Set(row.lesson_name.clone()),
            absence_limit_percent: Set(row.absence_limit_percent),
            planned_sessions: Set(row.planned_sessions),
            late_counts: Set(row.late_counts),
            updated_at: Set(row.updated_at),
            updated_by: Set(row.updated_by.clone()),
        })
        .on_conflict(
            OnConflict::column(course_setting::Column::CourseId)
                .update_columns([
                    course_setting::Column::AbsenceLimitPercent,
                    course_setting::Column::PlannedSessions,
                    course_setting::Column::LateCounts,
                    course_setting::Column::UpdatedAt,
                    course_setting::Column::UpdatedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(&self.conn)
        .await?;
        Ok(())
    }

    /// Puts `students` on the class list of a course (a teacher and a lesson title), adding the
    /// students unknown so far as users named as the list names them (a known student keeps
    /// the name the portal gave). One transaction; returns how many were not on it before.
    pub async fn add_to_class_list(
        &self,
        teacher: &str,
        lesson_name: &str,
        students: &[User],
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        let txn = self.conn.begin().await?;
        insert_missing_users(&txn, students, at).await?;
        let mut added = 0;
        for chunk in students.chunks(INSERT_CHUNK) {
            added += class_list_entry::Entity::insert_many(chunk.iter().map(|s| {
                class_list_entry::ActiveModel {
                    teacher_school_number: Set(teacher.to_owned()),
                    lesson_name: Set(lesson_name.to_owned()),
                    student_number: Set(s.school_number.clone()),
                    added_at: Set(at),
                    added_by: Set(by.to_owned()),
                }
            }))
            .on_conflict(
                OnConflict::columns([
                    class_list_entry::Column::TeacherSchoolNumber,
                    class_list_entry::Column::LessonName,
                    class_list_entry::Column::StudentNumber,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        self.class_lists.forget(teacher, lesson_name);
        Ok(added)
    }

    /// The courses with a class list of their own (of `teacher`, or every teacher's), with
    /// how many students it lists.
    pub async fn class_list_courses(&self, teacher: Option<&str>) -> Result<Vec<CourseRow>> {
        let mut query = class_list_entry::Entity::find()
            .select_only()
            .column(class_list_entry::Column::TeacherSchoolNumber)
            .column(class_list_entry::Column::LessonName)
            .column_as(class_list_entry::Column::StudentNumber.count(), "n")
            .group_by(class_list_entry::Column::TeacherSchoolNumber)
            .group_by(class_list_entry::Column::LessonName);
        if let Some(teacher) = teacher {
            query = query.filter(class_list_entry::Column::TeacherSchoolNumber.eq(teacher));
        }
        let rows: Vec<(String, String, i64)> = query.into_tuple().all(&self.conn).await?;
        Ok(rows
            .into_iter()
            .map(|(teacher_school_number, lesson_name, n)| CourseRow {
                teacher_school_number,
                lesson_name,
                sessions: u64::try_from(n).unwrap_or_default(),
            })
            .collect())
    }

    /// The students a course's teacher put on its class list (not those only seen in its
    /// sessions).
    pub async fn listed_students(&self, teacher: &str, lesson_name: &str) -> Result<Vec<String>> {
        listed_numbers(&self.conn, teacher, lesson_name).await
    }

    /// Every student of a course's class list: those of its sessions and those put on it.
    pub async fn class_list_numbers(
        &self,
        teacher: &str,
        lesson_name: &str,
    ) -> Result<Vec<String>> {
        super::records::course_numbers(&self.conn, teacher, lesson_name, None).await
    }

    /// Every record of a student, deleted ones included (a student sees why a record was
    /// removed).
    pub async fn student_records_with_deleted(
        &self,
        student: &str,
    ) -> Result<Vec<AttendanceRecord>> {
        Ok(attendance_record::Entity::find()
            .filter(attendance_record::Column::StudentNumber.eq(student))
            .all(&self.conn)
            .await?)
    }
}

/// The students put on a course's class list by its teacher.
pub(super) async fn listed_numbers(
    conn: &impl ConnectionTrait,
    teacher: &str,
    lesson_name: &str,
) -> Result<Vec<String>> {
    Ok(class_list_entry::Entity::find()
        .filter(class_list_entry::Column::TeacherSchoolNumber.eq(teacher))
        .filter(class_list_entry::Column::LessonName.eq(lesson_name))
        .select_only()
        .column(class_list_entry::Column::StudentNumber)
        .into_tuple()
        .all(conn)
        .await?)
}
