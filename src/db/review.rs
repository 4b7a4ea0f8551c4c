//! The admin's review: deleted sessions and records, and their restore (each written in the
//! audit log); the audit log filtered.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::audit::Change;
use super::entity::{attendance, attendance_record, audit_event};
use super::{Attendance, AttendanceRecord, AuditEvent, Db, SoftDelete};
use crate::domain::AuditAction;
use crate::error::{Entity, Result};

/// What the admin lists show: deletions by the given teachers' sessions (all when `None`),
/// deleted in `[from, until)`, at most `limit` of each kind.
#[derive(Debug, Clone, Default)]
pub struct DeletedFilter {
    /// School numbers of the session owners to keep.
    pub teachers: Option<Vec<String>>,
    /// Deleted at or after.
    pub from: Option<DateTime<Utc>>,
    /// Deleted before.
    pub until: Option<DateTime<Utc>>,
    /// Most rows of each kind.
    pub limit: u64,
}

/// Which audit events to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only events of these sessions.
    pub sessions: Option<Vec<Uuid>>,
    /// Only events about this student.
    pub student: Option<String>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
    /// Most events listed.
    pub limit: u64,
}

/// Sessions per `IN (...)` list of an audit query.
const SESSIONS_PER_QUERY: usize = 500;

impl Db {
    /// Audit events matching `filter`, newest first.
    pub async fn audit_events_matching(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
        let query = || {
            let mut query = audit_event::Entity::find();
            if let Some(student) = &filter.student {
                query = query.filter(audit_event::Column::StudentNumber.eq(student.clone()));
            }
            if let Some(from) = filter.from {
                query = query.filter(audit_event::Column::At.gte(from));
            }
            if let Some(until) = filter.until {
                query = query.filter(audit_event::Column::At.lt(until));
            }
            query
                .order_by_desc(audit_event::Column::At)
                .order_by_desc(audit_event::Column::Id)
                .limit(filter.limit.max(1))
        };
        let mut events = match &filter.sessions {
            None => query().all(&self.conn).await?,
            Some(sessions) => {
                let mut events = Vec::new();
                for chunk in sessions.chunks(SESSIONS_PER_QUERY) {
                    events.extend(
                        query()
                            .filter(audit_event::Column::AttendanceId.is_in(chunk.iter().copied()))
                            .all(&self.conn)
                            .await?,
                    );
                }
                events
            }
        };
        events.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        events.truncate(usize::try_from(filter.limit).unwrap_or(usize::MAX));
        Ok(events)
    }

    /// Every session of `teachers` (all teachers', for `None`), deleted ones included.
    pub async fn sessions_of_teachers(
        &self,
        teachers: Option<&[String]>,
    ) -> Result<Vec<Attendance>> {
        let mut query = attendance::Entity::find();
        if let Some(teachers) = teachers {
            query = query.filter(attendance::Column::TeacherSchoolNumber.is_in(teachers.to_vec()));
        }
        Ok(query.all(&self.conn).await?)
    }

    /// Deleted sessions matching `filter`, most recently deleted first.
    pub async fn deleted_attendances(&self, filter: &DeletedFilter) -> Result<Vec<Attendance>> {
        let mut query = attendance::Entity::find_deleted();
        if let Some(teachers) = &filter.teachers {
            query = query.filter(attendance::Column::TeacherSchoolNumber.is_in(teachers.clone()));
        }
        if let Some(from) = filter.from {
            query = query.filter(attendance::Column::DeletionTime.gte(from));
        }
        if let Some(until) = filter.until {
            query = query.filter(attendance::Column::DeletionTime.lt(until));
        }
        Ok(query
            .order_by_desc(attendance::Column::DeletionTime)
            .paginate(&self.conn, filter.limit.max(1))
            .fetch_page(0)
            .await?)
    }

    /// Deleted records matching `filter` (the teacher is the session's), most recently deleted
    /// first.
    pub async fn deleted_records(&self, filter: &DeletedFilter) -> Result<Vec<AttendanceRecord>> {
        let mut query = attendance_record::Entity::find_deleted();
        if let Some(teachers) = &filter.teachers {
            let sessions = sea_orm::sea_query::Query::select()
                .column(attendance::Column::Id)
                .from(attendance::Entity)
                .and_where(attendance::Column::TeacherSchoolNumber.is_in(teachers.clone()))
                .to_owned();
            query = query.filter(attendance_record::Column::AttendanceId.in_subquery(sessions));
        }
        if let Some(from) = filter.from {
            query = query.filter(attendance_record::Column::DeletionTime.gte(from));
        }
        if let Some(until) = filter.until {
            query = query.filter(attendance_record::Column::DeletionTime.lt(until));
        }
        Ok(query
            .order_by_desc(attendance_record::Column::DeletionTime)
            .paginate(&self.conn, filter.limit.max(1))
            .fetch_page(0)
            .await?)
    }

    /// Brings a deleted session back and writes the restore in the audit log.
    pub async fn restore_attendance(&self, id: Uuid, by: &str, at: DateTime<Utc>) -> Result<()> {
        let update = attendance::Entity::mark_restored().filter(attendance::Column::Id.eq(id));
        let change = Change {
            action: AuditAction::SessionRestored,
            actor: by,
            at,
            attendance_id: Some(id),
            student: None,
            reason: None,
            from_status: None,
            to_status: None,
        };
        self.update_audited(update, Entity::Session, change).await
    }

    /// Brings a deleted record back and writes the restore in the audit log.
    pub async fn restore_record(
        &self,
        attendance_id: Uuid,
        student: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let update = attendance_record::Entity::mark_restored()
            .filter(attendance_record::Column::AttendanceId.eq(attendance_id))
            .filter(attendance_record::Column::StudentNumber.eq(student));
        let change = Change {
            action: AuditAction::RecordRestored,
            actor: by,
            at,
            attendance_id: Some(attendance_id),
            student: Some(student),
            reason: None,
            from_status: None,
            to_status: None,
        };
        self.update_audited(update, Entity::Record, change).await
    }
}
