//! The audit log: every correction after the sweep and every restore, written in the same
//! transaction as the change it describes. Only ever added to.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder, TransactionTrait,
    UpdateMany,
};
use uuid::Uuid;

use super::entity::audit_event;
use super::{AuditEvent, Db};
use crate::domain::{AuditAction, Status};
use crate::error::{Entity, Error, Result};

/// One change to write in the log.
pub(super) struct Change<'a> {
    pub action: AuditAction,
    pub actor: &'a str,
    pub at: DateTime<Utc>,
    pub attendance_id: Option<Uuid>,
    pub student: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub from_status: Option<Status>,
    pub to_status: Option<Status>,
}

impl Db {
    /// The latest audit events, newest first.
    pub async fn audit_events(&self, limit: u64) -> Result<Vec<AuditEvent>> {
        Ok(audit_event::Entity::find()
            .order_by_desc(audit_event::Column::At)
            .order_by_desc(audit_event::Column::Id)
            .paginate(&self.conn, limit.max(1))
            .fetch_page(0)
            .await?)
    }

    /// Runs `update` (a soft delete or a restore of `what`) and writes `change` in the log, in
    /// one transaction. `NotFound(what)` when the update touched no row; then nothing is written.
    pub(super) async fn update_audited<E: EntityTrait>(
        &self,
        update: UpdateMany<E>,
        what: Entity,
        change: Change<'_>,
    ) -> Result<()> {
        let txn = self.conn.begin().await?;
        let done = update.exec(&txn).await?;
        if done.rows_affected == 0 {
            return Err(Error::NotFound(what));
        }
        record(&txn, change).await?;
        txn.commit().await?;
        Ok(())
    }
}

/// Writes `change` in the log, inside the caller's transaction.
pub(super) async fn record(conn: &impl ConnectionTrait, change: Change<'_>) -> Result<()> {
    audit_event::Entity::insert(audit_event::ActiveModel {
        id: Set(Uuid::new_v4()),
        at: Set(change.at),
        actor: Set(change.actor.to_owned()),
        action: Set(change.action),
        attendance_id: Set(change.attendance_id),
        student_number: Set(change.student.map(str::to_owned)),
        reason: Set(change.reason.map(str::to_owned)),
        from_status: Set(change.from_status),
        to_status: Set(change.to_status),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}
