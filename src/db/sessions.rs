//! Persisted attendance sessions: a teacher's history, a student's lessons, deletion by the
//! owner, and the sweep's write of a finished live session.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use uuid::Uuid;

use super::audit::{self, Change};
use super::entity::{attendance, sweep_fence};
use super::records::{absent_row, course_numbers, record_row, upsert_records};
use super::users::upsert_users;
use super::{Attendance, AttendanceRecord, Db, Page, SoftDelete};
use crate::domain::{AuditAction, LiveRecord, LiveSession, Reason, Role, User};
use crate::error::{Entity, Result};

impl Db {
    /// Adds a session (idempotent: adding the same id again changes nothing).
    pub async fn insert_attendance(&self, attendance: &Attendance) -> Result<()> {
        insert_attendance(&self.conn, attendance).await
    }

    /// A session that is not deleted.
    pub async fn attendance(&self, id: Uuid) -> Result<Option<Attendance>> {
        Ok(attendance::Entity::find_kept()
            .filter(attendance::Column::Id.eq(id))
            .one(&self.conn)
            .await?)
    }

    /// A teacher's sessions, newest first; `page` counts from 0.
    pub async fn teacher_attendances(
        &self,
        teacher: &str,
        page: u64,
        per_page: u64,
    ) -> Result<Page<Attendance>> {
        let pages = attendance::Entity::find_kept()
            .filter(attendance::Column::TeacherSchoolNumber.eq(teacher))
            .order_by_desc(attendance::Column::StartTime)
            .order_by_desc(attendance::Column::Id)
            .paginate(&self.conn, per_page.max(1));
        Ok(Page {
            total: pages.num_items().await?,
            items: pages.fetch_page(page).await?,
        })
    }

    /// Sessions that are not deleted, among `ids`.
    pub async fn attendances_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Attendance>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(attendance::Entity::find_kept()
            .filter(attendance::Column::Id.is_in(ids.iter().copied()))
            .all(&self.conn)
            .await?)
    }

    /// Sessions (deleted ones included, for admins), among `ids`.
    pub async fn attendances_by_ids_with_deleted(&self, ids: &[Uuid]) -> Result<Vec<Attendance>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(attendance::Entity::find()
            .filter(attendance::Column::Id.is_in(ids.iter().copied()))
            .all(&self.conn)
            .await?)
    }

    /// Sessions that are not deleted and whose lesson is one of `lessons`, oldest first.
    pub async fn attendances_of_lessons(&self, lessons: &[String]) -> Result<Vec<Attendance>> {
        if lessons.is_empty() {
            return Ok(Vec::new());
        }
        Ok(attendance::Entity::find_kept()
            .filter(attendance::Column::LessonName.is_in(lessons.iter().cloned()))
            .order_by_asc(attendance::Column::StartTime)
            .all(&self.conn)
            .await?)
    }

    /// Soft-deletes a session and writes it in the audit log, in one transaction. Deleting what
    /// is missing or already deleted is `NotFound`.
    pub async fn delete_attendance(
        &self,
        id: Uuid,
        reason: &Reason,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let update =
            attendance::Entity::mark_deleted(reason, by, at).filter(attendance::Column::Id.eq(id));
        let change = Change {
            action: AuditAction::SessionDeleted,
            actor: by,
            at,
            attendance_id: id,
            student: None,
            reason: Some(reason.as_str()),
            from_status: None,
            to_status: None,
        };
        self.update_audited(update, Entity::Session, change).await
    }

    /// Takes the next fence of a live session, right after its sweep lease was claimed and
    /// before its records are read: from then on only this fence may commit the session
    /// ([`Db::persist_live`]), so a sweeper whose lease ran out and was taken over cannot.
    pub async fn take_sweep_fence(&self, session: Uuid) -> Result<i64> {
        let first = sweep_fence::ActiveModel {
            attendance_id: Set(session),
            fence: Set(1),
        };
        let taken = sweep_fence::Entity::insert(first)
            .on_conflict(
                OnConflict::column(sweep_fence::Column::AttendanceId)
                    .value(
                        sweep_fence::Column::Fence,
                        sea_orm::sea_query::ExprTrait::add(
                            Expr::col((sweep_fence::Entity, sweep_fence::Column::Fence)),
                            1,
                        ),
                    )
                    .to_owned(),
            )
            .exec_with_returning(&self.conn)
            .await?;
        Ok(taken.fence)
    }

    /// Writes a finished live session with all its records in one transaction: teacher and
    /// students first (so no foreign key can fail), then the session, then the records.
    ///
    /// `fence` is what [`Db::take_sweep_fence`] gave this sweeper. If a later claim took a
    /// newer one, nothing is written and the answer is `false`: the newer holder persists the
    /// session. `true` means the session is in the database, written now or before.
    #[tracing::instrument(skip_all, fields(session = %session.id, records = records.len()))]
    pub async fn persist_live(
        &self,
        session: &LiveSession,
        records: &[LiveRecord],
        now: DateTime<Utc>,
        fence: i64,
    ) -> Result<bool> {
        let mut people = BTreeMap::new();
        for r in records {
            people.insert(
                r.student_number.clone(),
                User {
                    school_number: r.student_number.clone(),
                    full_name: r.student_full_name.clone(),
                    role: Role::Student,
                },
            );
        }
        // The teacher last, so a teacher who also checked in as a student keeps the teacher role.
        people.insert(
            session.teacher_school_number.clone(),
            User {
                school_number: session.teacher_school_number.clone(),
                full_name: session.teacher_full_name.clone(),
                role: Role::Teacher,
            },
        );
        let people: Vec<User> = people.into_values().collect();
        let rows: Vec<AttendanceRecord> = records.iter().map(|r| record_row(session, r)).collect();

        let txn = self.conn.begin().await?;
        // The fence is still ours, and its row stays locked until this commits, so a newer
        // claim waits for us instead of slipping in between. The row goes with the commit.
        let ours = sweep_fence::Entity::delete_many()
            .filter(sweep_fence::Column::AttendanceId.eq(session.id))
            .filter(sweep_fence::Column::Fence.eq(fence))
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if !ours {
            txn.rollback().await?;
            return Ok(false);
        }
        upsert_users(&txn, &people, now, false).await?;
        // The first commit of a session wins. If its row is there, a sweeper committed it
        // before (and crashed before removing the live keys): writing the records again would
        // undo what a teacher corrected since.
        if insert_attendance_once(&txn, &attendance_row(session)).await? {
            upsert_records(&txn, &rows).await?;
            // Everyone of the class list without a record is recorded absent, so the history,
            // the grid and the student's page agree without working it out again.
            let class = course_numbers(
                &txn,
                &session.teacher_school_number,
                &session.lesson_name,
                Some(session.id),
            )
            .await?;
            let here: std::collections::HashSet<&str> =
                records.iter().map(|r| r.student_number.as_str()).collect();
            let absent: Vec<AttendanceRecord> = class
                .into_iter()
                .filter(|n| !here.contains(n.as_str()))
                .map(|n| absent_row(session.id, n))
                .collect();
            upsert_records(&txn, &absent).await?;
            for r in records {
                for c in &r.changes {
                    let change = Change {
                        action: AuditAction::StatusChanged,
                        actor: &c.by,
                        at: c.at,
                        attendance_id: session.id,
                        student: Some(&r.student_number),
                        reason: c.reason.as_deref(),
                        from_status: c.from,
                        to_status: Some(c.to),
                    };
                    audit::record(&txn, change).await?;
                }
            }
        }
        txn.commit().await?;
        Ok(true)
    }
}

fn attendance_row(s: &LiveSession) -> Attendance {
    Attendance {
        id: s.id,
        teacher_school_number: s.teacher_school_number.clone(),
        lesson_name: s.lesson_name.clone(),
        ip_address: s.ip_address.clone(),
        start_time: s.start_time,
        end_time: s.end_time,
        security_option: s.security,
        late_after_minutes: s
            .late_after_minutes
            .map(|m| i32::try_from(m).unwrap_or(i32::MAX)),
        class_hours: s.class_hours.map(i32::from),
        rechecks: (!s.rechecks.is_empty())
            .then(|| serde_json::to_string(&s.rechecks).unwrap_or_default()),
        is_deleted: false,
        deletion_reason: None,
        deletion_time: None,
        deleted_by: None,
    }
}

/// Inserts a session's row unless one with its id is there; true when it inserted.
async fn insert_attendance_once(conn: &impl ConnectionTrait, a: &Attendance) -> Result<bool> {
    let row: attendance::ActiveModel = a.clone().into();
    let inserted = attendance::Entity::insert(row)
        .on_conflict(
            OnConflict::column(attendance::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(inserted > 0)
}

async fn insert_attendance(conn: &impl ConnectionTrait, a: &Attendance) -> Result<()> {
    let row: attendance::ActiveModel = a.clone().into();
    attendance::Entity::insert(row)
        .on_conflict(
            // Only the end time can move (a session finished early); the rest is fixed at start.
            OnConflict::column(attendance::Column::Id)
                .update_column(attendance::Column::EndTime)
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}
