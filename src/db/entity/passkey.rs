//! `passkeys`: each student's one passkey, as webauthn-rs keeps it (public key, counter).

use sea_orm::entity::prelude::*;

/// A row of `passkeys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    /// The student it belongs to.
    #[sea_orm(primary_key, auto_increment = false)]
    pub student_number: String,
    /// The credential's id, base64url (unique: one phone's key is one student's).
    pub credential_id: String,
    /// The passkey as webauthn-rs serialises it: public key, counter, flags.
    pub passkey: String,
    /// What the browser said it was when it registered ("Android · Chrome").
    pub device: String,
    /// When it was registered.
    pub registered_at: DateTimeUtc,
    /// The session it was registered in.
    pub registered_in: Option<Uuid>,
    /// The teacher or admin who allowed it, when it replaced an earlier one.
    pub approved_by: Option<String>,
    /// When a check-in was last signed with it.
    pub last_used_at: Option<DateTimeUtc>,
}

/// Relations of `passkeys` (none: a student registers before the sweep writes their row).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
