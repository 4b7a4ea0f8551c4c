//! `sweep_fences`: for each live session a sweeper has claimed, the number of its latest claim.
//! A sweeper takes the next number right after it claims the session's lease and commits only
//! while that number is still the latest, so one whose lease ran out (and was taken over) can
//! no longer write. No foreign key: the row is written before the session's own row exists.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SweepFences {
    Table,
    AttendanceId,
    Fence,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SweepFences::Table)
                    .if_not_exists()
                    .col(uuid(SweepFences::AttendanceId).primary_key())
                    .col(big_integer(SweepFences::Fence))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SweepFences::Table).to_owned())
            .await
    }
}
