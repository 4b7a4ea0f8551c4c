//! `attendance_records.face_distance_milli`: how far a selfie was from the portal photo, in
//! thousandths of the descriptor distance, for records of sessions with a face check.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AttendanceRecords {
    Table,
    FaceDistanceMilli,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AttendanceRecords::Table)
                    .add_column(integer_null(AttendanceRecords::FaceDistanceMilli))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AttendanceRecords::Table)
                    .drop_column(AttendanceRecords::FaceDistanceMilli)
                    .to_owned(),
            )
            .await
    }
}
