//! Appeals: a student contests one of their records; the session's teacher answers. Accepting
//! one changes the record's status in the same transaction, with its audit event.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use uuid::Uuid;

use super::Db;
use super::entity::appeal;
use super::records::set_status;
use crate::domain::{AppealState, Status, User};
use crate::error::{Entity, Error, Result};

/// A row of `appeals`.
pub type Appeal = appeal::Model;

/// Sessions per `IN (...)` list.
const IDS_PER_QUERY: usize = 500;

/// What the teacher decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The student is counted with this status from now on.
    Accept(User, Status),
    /// The record stays as it is.
    Reject,
}

impl Db {
    /// Records a student's appeal of their record in a session. Refused with `AppealOpen`
    /// while an earlier appeal of the same record waits for an answer.
    pub async fn insert_appeal(
        &self,
        attendance_id: Uuid,
        student: &str,
        text: &str,
        receipt: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Appeal> {
        let txn = self.conn.begin().await?;
        let open = appeal::Entity::find()
            .filter(appeal::Column::AttendanceId.eq(attendance_id))
            .filter(appeal::Column::StudentNumber.eq(student))
            .filter(appeal::Column::State.eq(AppealState::Open))
            .one(&txn)
            .await?;
        if open.is_some() {
            return Err(Error::AppealOpen);
        }
        let row = Appeal {
            id: Uuid::new_v4(),
            attendance_id,
            student_number: student.to_owned(),
            text: text.to_owned(),
            created_at: at,
            state: AppealState::Open,
            answer: None,
            answered_at: None,
            answered_by: None,
            receipt: receipt.map(str::to_owned),
        };
        appeal::Entity::insert(appeal::ActiveModel::from(row.clone()))
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// One appeal.
    pub async fn appeal(&self, id: Uuid) -> Result<Option<Appeal>> {
        Ok(appeal::Entity::find_by_id(id).one(&self.conn).await?)
    }

    /// The appeals of `sessions`, newest first.
    pub async fn appeals_of_sessions(&self, sessions: &[Uuid]) -> Result<Vec<Appeal>> {
        let mut all = Vec::new();
        for chunk in sessions.chunks(IDS_PER_QUERY) {
            all.extend(
                appeal::Entity::find()
                    .filter(appeal::Column::AttendanceId.is_in(chunk.iter().copied()))
                    .all(&self.conn)
                    .await?,
            );
        }
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(all)
    }

    /// A student's appeals, newest first.
    pub async fn appeals_of_student(&self, student: &str) -> Result<Vec<Appeal>> {
        Ok(appeal::Entity::find()
            .filter(appeal::Column::StudentNumber.eq(student))
            .order_by_desc(appeal::Column::CreatedAt)
            .all(&self.conn)
            .await?)
    }

    /// Answers an open appeal, in one transaction: the appeal is closed with the answer, and an
    /// accepted one sets the record's status (audited, the answer or else the student's text
    /// as the reason). `NotFound` when it is not open (answered meanwhile, or unknown).
    pub async fn answer_appeal(
        &self,
        id: Uuid,
        decision: &Decision,
        answer: Option<&str>,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let txn = self.conn.begin().await?;
        let Some(open) = appeal::Entity::find_by_id(id)
            .filter(appeal::Column::State.eq(AppealState::Open))
            .one(&txn)
            .await?
        else {
            return Err(Error::NotFound(Entity::Appeal));
        };
        let state = match decision {
            Decision::Accept(..) => AppealState::Accepted,
            Decision::Reject => AppealState::Rejected,
        };
        appeal::Entity::update(appeal::ActiveModel {
            id: Set(id),
            state: Set(state),
            answer: Set(answer.map(str::to_owned)),
            answered_at: Set(Some(at)),
            answered_by: Set(Some(by.to_owned())),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        if let Decision::Accept(student, status) = decision {
            let reason = answer.unwrap_or(&open.text);
            set_status(&txn, open.attendance_id, student, *status, reason, by, at).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}
