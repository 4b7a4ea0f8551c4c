//! `passkeys` and `passkey_grants`: each student's one passkey, and the leave a teacher or an
//! admin gave to register a new one (written with its audit event in one transaction).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::Db;
use super::audit::{self, Change};
use super::entity::{passkey, passkey_grant};
use super::users::insert_missing_users;
use crate::domain::{AuditAction, User};
use crate::error::Result;

impl Db {
    /// The student's passkey, if they registered one.
    pub async fn passkey_of(&self, student: &str) -> Result<Option<passkey::Model>> {
        Ok(passkey::Entity::find_by_id(student.to_owned())
            .one(&self.conn)
            .await?)
    }

    /// The leave the student has to register a new passkey, if any.
    pub async fn passkey_grant(&self, student: &str) -> Result<Option<passkey_grant::Model>> {
        Ok(passkey_grant::Entity::find_by_id(student.to_owned())
            .one(&self.conn)
            .await?)
    }

    /// Keeps a newly registered passkey and uses up the student's leave for it, in one
    /// transaction. False (nothing written) when the student has a passkey already (two
    /// registrations at once: the first stands) or the credential is someone else's.
    pub async fn register_passkey(&self, row: passkey::Model) -> Result<bool> {
        let txn = self.conn.begin().await?;
        let student = row.student_number.clone();
        let inserted = passkey::Entity::insert(passkey::ActiveModel::from(row))
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(&txn)
            .await?;
        if inserted == 0 {
            return Ok(false);
        }
        passkey_grant::Entity::delete_by_id(student)
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Notes a check-in signed with the student's passkey `credential_id`: its new state (the
    /// counter) and when.
    pub async fn passkey_used(
        &self,
        student: &str,
        credential_id: &str,
        passkey_json: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        passkey::Entity::update_many()
            .col_expr(passkey::Column::Passkey, passkey_json.into())
            .col_expr(passkey::Column::LastUsedAt, at.into())
            .filter(passkey::Column::StudentNumber.eq(student))
            .filter(passkey::Column::CredentialId.eq(credential_id))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Lets `student` register a new passkey: their passkey goes, `grant` is kept, and the
    /// audit log says who allowed it, when and why, all in one transaction. `actor` and
    /// `student` are added to `users` when they are not there yet.
    pub async fn allow_new_passkey(
        &self,
        student: &User,
        actor: &User,
        grant: passkey_grant::Model,
    ) -> Result<()> {
        let txn = self.conn.begin().await?;
        insert_missing_users(&txn, &[student.clone(), actor.clone()], grant.granted_at).await?;
        passkey::Entity::delete_by_id(student.school_number.clone())
            .exec(&txn)
            .await?;
        passkey_grant::Entity::insert(passkey_grant::ActiveModel {
            student_number: Set(grant.student_number.clone()),
            granted_by: Set(grant.granted_by.clone()),
            granted_at: Set(grant.granted_at),
            reason: Set(grant.reason.clone()),
        })
        .on_conflict(
            OnConflict::column(passkey_grant::Column::StudentNumber)
                .update_columns([
                    passkey_grant::Column::GrantedBy,
                    passkey_grant::Column::GrantedAt,
                    passkey_grant::Column::Reason,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        audit::record(
            &txn,
            Change {
                action: AuditAction::PasskeyApproved,
                actor: &grant.granted_by,
                at: grant.granted_at,
                attendance_id: None,
                student: Some(&grant.student_number),
                reason: Some(&grant.reason),
                from_status: None,
                to_status: None,
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
