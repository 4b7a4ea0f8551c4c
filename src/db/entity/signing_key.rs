//! `signing_keys`: a key the server signs with, made once when the configuration gives none.

use sea_orm::entity::prelude::*;

/// A row of `signing_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    /// What the key signs (`receipts`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The key's secret seed, base64.
    pub secret: String,
    /// When it was made.
    pub created_at: DateTimeUtc,
}

/// Relations of `signing_keys` (none).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
