//! `appeals`: a student contests a record of theirs (a short text); the session's teacher
//! accepts it (the status changes, in the audit log) or rejects it with a reason, and the
//! student sees the answer.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Appeals {
    Table,
    Id,
    AttendanceId,
    StudentNumber,
    Text,
    CreatedAt,
    State,
    Answer,
    AnsweredAt,
    AnsweredBy,
}

#[derive(DeriveIden)]
enum Attendances {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Appeals::Table)
                    .if_not_exists()
                    .col(uuid(Appeals::Id).primary_key())
                    .col(uuid(Appeals::AttendanceId))
                    .col(string_len(Appeals::StudentNumber, 32))
                    .col(text(Appeals::Text))
                    .col(timestamp_with_time_zone(Appeals::CreatedAt))
                    .col(string_len(Appeals::State, 16))
                    .col(text_null(Appeals::Answer))
                    .col(timestamp_with_time_zone_null(Appeals::AnsweredAt))
                    .col(string_len_null(Appeals::AnsweredBy, 32))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_appeals_attendance")
                            .from(Appeals::Table, Appeals::AttendanceId)
                            .to(Attendances::Table, Attendances::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_appeals_attendance_student")
                    .table(Appeals::Table)
                    .col(Appeals::AttendanceId)
                    .col(Appeals::StudentNumber)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Appeals::Table).to_owned())
            .await
    }
}
