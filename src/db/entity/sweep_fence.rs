//! `sweep_fences`: the number of the latest sweep claim of each live session.

use sea_orm::entity::prelude::*;

/// A row of `sweep_fences`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sweep_fences")]
pub struct Model {
    /// The session.
    #[sea_orm(primary_key, auto_increment = false)]
    pub attendance_id: Uuid,
    /// Grows by one with every claim; only the holder of the latest may commit.
    pub fence: i64,
}

/// Relations of `sweep_fences` (none).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
