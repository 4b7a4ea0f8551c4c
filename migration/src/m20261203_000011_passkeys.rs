//! Passkeys bind a student to their own phone: `passkeys` keeps each student's one passkey
//! (its public key and counter as webauthn-rs stores them, never a private key),
//! `passkey_grants` a teacher's or an admin's leave to register a new one, and
//! `attendances.device_check` how a session checked the student's device. `audit_events` gains
//! events that concern no persisted session (a new passkey allowed), so its `attendance_id`
//! may be empty from now on.

use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    StudentNumber,
    CredentialId,
    Passkey,
    Device,
    RegisteredAt,
    RegisteredIn,
    ApprovedBy,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum PasskeyGrants {
    Table,
    StudentNumber,
    GrantedBy,
    GrantedAt,
    Reason,
}

#[derive(DeriveIden)]
enum Attendances {
    Table,
    Id,
    DeviceCheck,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on every backend: on SQLite the audit table is dropped and made again,
    /// which must happen whole, on one connection, or not at all.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .if_not_exists()
                    // One passkey per student. No foreign key to `users`: a student registers
                    // during a live session, before the sweep has written every row.
                    .col(string_len(Passkeys::StudentNumber, 32).primary_key())
                    .col(string_len(Passkeys::CredentialId, 1400).unique_key())
                    .col(text(Passkeys::Passkey))
                    .col(string_len(Passkeys::Device, 100))
                    .col(timestamp_with_time_zone(Passkeys::RegisteredAt))
                    .col(uuid_null(Passkeys::RegisteredIn))
                    .col(string_len_null(Passkeys::ApprovedBy, 32))
                    .col(timestamp_with_time_zone_null(Passkeys::LastUsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PasskeyGrants::Table)
                    .if_not_exists()
                    .col(string_len(PasskeyGrants::StudentNumber, 32).primary_key())
                    .col(string_len(PasskeyGrants::GrantedBy, 32))
                    .col(timestamp_with_time_zone(PasskeyGrants::GrantedAt))
                    .col(text(PasskeyGrants::Reason))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Attendances::Table)
                    .add_column(string_len(Attendances::DeviceCheck, 16).default("cookie"))
                    .to_owned(),
            )
            .await?;
        audit_session_optional(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Attendances::Table)
                    .drop_column(Attendances::DeviceCheck)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(PasskeyGrants::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Passkeys::Table).to_owned())
            .await
    }
}

/// Lets `audit_events.attendance_id` be empty. PostgreSQL drops the constraint; SQLite cannot
/// alter a column, so the table is made again (as migrations 2 and 5 made it, with
/// `attendance_id` optional) and its rows, keys and index moved over.
async fn audit_session_optional(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DatabaseBackend::Postgres => {
            db.execute_unprepared(
                "ALTER TABLE audit_events ALTER COLUMN attendance_id DROP NOT NULL",
            )
            .await?;
        }
        DatabaseBackend::Sqlite => {
            manager
                .create_table(
                    Table::create()
                        .table(AuditEventsNew::Table)
                        .col(uuid(AuditEvents::Id).primary_key())
                        .col(timestamp_with_time_zone(AuditEvents::At))
                        .col(string_len(AuditEvents::Actor, 32))
                        .col(string_len(AuditEvents::Action, 32))
                        .col(uuid_null(AuditEvents::AttendanceId))
                        .col(string_len_null(AuditEvents::StudentNumber, 32))
                        .col(text_null(AuditEvents::Reason))
                        .col(string_len_null(AuditEvents::FromStatus, 16))
                        .col(string_len_null(AuditEvents::ToStatus, 16))
                        .foreign_key(
                            ForeignKey::create()
                                .name("fk_audit_actor")
                                .from(AuditEventsNew::Table, AuditEvents::Actor)
                                .to(Users::Table, Users::SchoolNumber),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .name("fk_audit_attendance")
                                .from(AuditEventsNew::Table, AuditEvents::AttendanceId)
                                .to(Attendances::Table, Attendances::Id),
                        )
                        .to_owned(),
                )
                .await?;
            for statement in [
                r#"INSERT INTO "audit_events_new" ("id", "at", "actor", "action", "attendance_id", "student_number", "reason", "from_status", "to_status") SELECT "id", "at", "actor", "action", "attendance_id", "student_number", "reason", "from_status", "to_status" FROM "audit_events""#,
                r#"DROP TABLE "audit_events""#,
                r#"ALTER TABLE "audit_events_new" RENAME TO "audit_events""#,
            ] {
                db.execute_unprepared(statement).await?;
            }
            manager
                .create_index(
                    Index::create()
                        .name("idx_audit_at")
                        .table(AuditEvents::Table)
                        .col(AuditEvents::At)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        _ => {
            return Err(DbErr::Migration(
                "ATTN runs on PostgreSQL or SQLite".to_owned(),
            ));
        }
    }
    Ok(())
}

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
    FromStatus,
    ToStatus,
}

#[derive(DeriveIden)]
enum AuditEventsNew {
    Table,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    SchoolNumber,
}
