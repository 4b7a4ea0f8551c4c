//! Statuses and courses: `attendance_records.status` (present, late, excused, absent, failed)
//! with `status_reason`, a session's late cut-off (`attendances.late_after_minutes`), and
//! `course_settings` for a course's absence limit and how a late arrival counts, and the statuses
//! before and after a change in `audit_events`.
//!
//! Records written before this migration keep their meaning: a record counted present becomes
//! `present`, any other `failed`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AttendanceRecords {
    Table,
    Status,
    StatusReason,
    IsAttended,
}

#[derive(DeriveIden)]
enum Attendances {
    Table,
    LateAfterMinutes,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    FromStatus,
    ToStatus,
}

#[derive(DeriveIden)]
enum CourseSettings {
    Table,
    CourseId,
    TeacherSchoolNumber,
    LessonName,
    AbsenceLimitPercent,
    PlannedSessions,
    LateCounts,
    UpdatedAt,
    UpdatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(AttendanceRecords::Table)
                    .add_column(string_len(AttendanceRecords::Status, 16).default("present"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AttendanceRecords::Table)
                    .add_column(text_null(AttendanceRecords::StatusReason))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(AttendanceRecords::Table)
                    .value(AttendanceRecords::Status, "failed")
                    .and_where(Expr::col(AttendanceRecords::IsAttended).eq(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Attendances::Table)
                    .add_column(integer_null(Attendances::LateAfterMinutes))
                    .to_owned(),
            )
            .await?;
        for column in [AuditEvents::FromStatus, AuditEvents::ToStatus] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditEvents::Table)
                        .add_column(string_len_null(column, 16))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CourseSettings::Table)
                    .if_not_exists()
                    .col(uuid(CourseSettings::CourseId).primary_key())
                    .col(string_len(CourseSettings::TeacherSchoolNumber, 32))
                    .col(string_len(CourseSettings::LessonName, 200))
                    .col(small_integer(CourseSettings::AbsenceLimitPercent))
                    .col(small_integer(CourseSettings::PlannedSessions))
                    .col(string_len(CourseSettings::LateCounts, 16))
                    .col(timestamp_with_time_zone(CourseSettings::UpdatedAt))
                    .col(string_len(CourseSettings::UpdatedBy, 32))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CourseSettings::Table).to_owned())
            .await?;
        for column in [AuditEvents::FromStatus, AuditEvents::ToStatus] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditEvents::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Attendances::Table)
                    .drop_column(Attendances::LateAfterMinutes)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AttendanceRecords::Table)
                    .drop_column(AttendanceRecords::StatusReason)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AttendanceRecords::Table)
                    .drop_column(AttendanceRecords::Status)
                    .to_owned(),
            )
            .await
    }
}
