//! users, attendances and attendance_records, with soft-delete columns and the indexes the
//! teacher's history and a session's record list need.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    SchoolNumber,
    FullName,
    Role,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Attendances {
    Table,
    Id,
    TeacherSchoolNumber,
    LessonName,
    IpAddress,
    StartTime,
    EndTime,
    SecurityOption,
    IsDeleted,
    DeletionReason,
    DeletionTime,
    DeletedBy,
}

#[derive(DeriveIden)]
enum AttendanceRecords {
    Table,
    AttendanceId,
    StudentNumber,
    IsAttended,
    AttendanceTime,
    FailReason,
    IsDeleted,
    DeletionReason,
    DeletionTime,
    DeletedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(string_len(Users::SchoolNumber, 32).primary_key())
                    .col(string_len(Users::FullName, 200))
                    .col(string_len(Users::Role, 16))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Attendances::Table)
                    .if_not_exists()
                    .col(uuid(Attendances::Id).primary_key())
                    .col(string_len(Attendances::TeacherSchoolNumber, 32))
                    .col(string_len(Attendances::LessonName, 200))
                    .col(string_len(Attendances::IpAddress, 64))
                    .col(timestamp_with_time_zone(Attendances::StartTime))
                    .col(timestamp_with_time_zone(Attendances::EndTime))
                    .col(small_integer(Attendances::SecurityOption))
                    .col(boolean(Attendances::IsDeleted).default(false))
                    .col(text_null(Attendances::DeletionReason))
                    .col(timestamp_with_time_zone_null(Attendances::DeletionTime))
                    .col(string_len_null(Attendances::DeletedBy, 32))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attendances_teacher")
                            .from(Attendances::Table, Attendances::TeacherSchoolNumber)
                            .to(Users::Table, Users::SchoolNumber),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attendances_deleted_by")
                            .from(Attendances::Table, Attendances::DeletedBy)
                            .to(Users::Table, Users::SchoolNumber),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("idx_attendances_teacher_start")
                    .table(Attendances::Table)
                    .col(Attendances::TeacherSchoolNumber)
                    .col(Attendances::StartTime)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AttendanceRecords::Table)
                    .if_not_exists()
                    .col(uuid(AttendanceRecords::AttendanceId))
                    .col(string_len(AttendanceRecords::StudentNumber, 32))
                    .col(boolean(AttendanceRecords::IsAttended))
                    .col(timestamp_with_time_zone_null(
                        AttendanceRecords::AttendanceTime,
                    ))
                    .col(string_len_null(AttendanceRecords::FailReason, 64))
                    .col(boolean(AttendanceRecords::IsDeleted).default(false))
                    .col(text_null(AttendanceRecords::DeletionReason))
                    .col(timestamp_with_time_zone_null(
                        AttendanceRecords::DeletionTime,
                    ))
                    .col(string_len_null(AttendanceRecords::DeletedBy, 32))
                    .primary_key(
                        Index::create()
                            .col(AttendanceRecords::AttendanceId)
                            .col(AttendanceRecords::StudentNumber),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_records_attendance")
                            .from(AttendanceRecords::Table, AttendanceRecords::AttendanceId)
                            .to(Attendances::Table, Attendances::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_records_student")
                            .from(AttendanceRecords::Table, AttendanceRecords::StudentNumber)
                            .to(Users::Table, Users::SchoolNumber),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_records_deleted_by")
                            .from(AttendanceRecords::Table, AttendanceRecords::DeletedBy)
                            .to(Users::Table, Users::SchoolNumber),
                    )
                    .to_owned(),
            )
            .await?;

        // The primary key already serves "a session's records"; this one serves
        // "a student's own history".
        manager
            .create_index(
                Index::create()
                    .name("idx_records_student")
                    .table(AttendanceRecords::Table)
                    .col(AttendanceRecords::StudentNumber)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AttendanceRecords::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Attendances::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
