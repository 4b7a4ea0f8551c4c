//! `audit_events`: every correction made after a session was persisted (a student added or
//! removed, a session deleted) and every restore by an admin, with who, when and why. Rows are
//! only ever added.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    Actor,
    Action,
    AttendanceId,
    StudentNumber,
    Reason,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    SchoolNumber,
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
                    .table(AuditEvents::Table)
                    .if_not_exists()
                    .col(uuid(AuditEvents::Id).primary_key())
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .col(string_len(AuditEvents::Actor, 32))
                    .col(string_len(AuditEvents::Action, 32))
                    .col(uuid(AuditEvents::AttendanceId))
                    .col(string_len_null(AuditEvents::StudentNumber, 32))
                    .col(text_null(AuditEvents::Reason))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_audit_actor")
                            .from(AuditEvents::Table, AuditEvents::Actor)
                            .to(Users::Table, Users::SchoolNumber),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_audit_attendance")
                            .from(AuditEvents::Table, AuditEvents::AttendanceId)
                            .to(Attendances::Table, Attendances::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::At)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await
    }
}
