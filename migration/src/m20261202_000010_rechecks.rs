//! Re-checks during a session: `attendances.rechecks` keeps when each one ran (JSON), and
//! `attendance_records.rechecks_missed` how many of them a student counted present did not
//! confirm ("left early", unless the teacher reviewed it); `attendance_records.evidence` how the
//! check-in was checked (JSON: the network rule it met, whether the session checked it).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Attendances {
    Table,
    Rechecks,
}

#[derive(DeriveIden)]
enum AttendanceRecords {
    Table,
    RechecksMissed,
    Evidence,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Attendances::Table)
                    .add_column(text_null(Attendances::Rechecks))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AttendanceRecords::Table)
                    .add_column(integer_null(AttendanceRecords::RechecksMissed))
                    .to_owned(),
            )
            .await?;
        // One change per statement: SQLite alters a table one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(AttendanceRecords::Table)
                    .add_column(text_null(AttendanceRecords::Evidence))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AttendanceRecords::Table)
                    .drop_column(AttendanceRecords::Evidence)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AttendanceRecords::Table)
                    .drop_column(AttendanceRecords::RechecksMissed)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Attendances::Table)
                    .drop_column(Attendances::Rechecks)
                    .to_owned(),
            )
            .await
    }
}
