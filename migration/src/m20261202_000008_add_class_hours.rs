//! `attendances.class_hours`: how many class hours a session stands for (a three-hour lab is
//! 3), as its teacher set it when starting; empty when not given. A course whose sessions have
//! class hours counts its absence limit in hours.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Attendances {
    Table,
    ClassHours,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Attendances::Table)
                    .add_column(integer_null(Attendances::ClassHours))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Attendances::Table)
                    .drop_column(Attendances::ClassHours)
                    .to_owned(),
            )
            .await
    }
}
