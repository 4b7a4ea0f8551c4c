//! `class_list_entries`: students a teacher put on a course's class list (by number, or from an
//! uploaded CSV/XLSX), beside those seen in its sessions. Keyed by the course (teacher and
//! lesson title) and the student, so importing the same file again adds nothing.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClassListEntries {
    Table,
    TeacherSchoolNumber,
    LessonName,
    StudentNumber,
    AddedAt,
    AddedBy,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    SchoolNumber,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ClassListEntries::Table)
                    .if_not_exists()
                    .col(string_len(ClassListEntries::TeacherSchoolNumber, 32))
                    .col(string_len(ClassListEntries::LessonName, 200))
                    .col(string_len(ClassListEntries::StudentNumber, 32))
                    .col(timestamp_with_time_zone(ClassListEntries::AddedAt))
                    .col(string_len(ClassListEntries::AddedBy, 32))
                    .primary_key(
                        Index::create()
                            .col(ClassListEntries::TeacherSchoolNumber)
                            .col(ClassListEntries::LessonName)
                            .col(ClassListEntries::StudentNumber),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_class_list_student")
                            .from(ClassListEntries::Table, ClassListEntries::StudentNumber)
                            .to(Users::Table, Users::SchoolNumber),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ClassListEntries::Table).to_owned())
            .await
    }
}
