//! Persisted attendance sessions: a teacher's history, a student's lessons, deletion by the
//! owner, and the sweep's write of a finished live session.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};
use uuid::Uuid;

use super::audit::{self, Change};
use super::entity::{attendance, sweep_fence};
use super::records::{absent_row, course_numbers, record_row, upsert_records};
use super::users::upsert_users;
use super::{Attendance, Db, Page, SoftDelete};
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
            attendance_id: Some(id),
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
        let fences = self.take_sweep_fences(&[session]).await?;
        fences
            .get(&session)
            .copied()
            .ok_or_else(|| sea_orm::DbErr::RecordNotInserted.into())
    }

    /// [`Db::take_sweep_fence`] for several sessions, in one statement.
    pub async fn take_sweep_fences(&self, sessions: &[Uuid]) -> Result<HashMap<Uuid, i64>> {
        if sessions.is_empty() {
            return Ok(HashMap::new());
        }
        let first = sessions.iter().map(|id| sweep_fence::ActiveModel {
            attendance_id: Set(*id),
            fence: Set(1),
        });
        let taken = sweep_fence::Entity::insert_many(first)
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
        Ok(taken
            .into_iter()
            .map(|f| (f.attendance_id, f.fence))
            .collect())
    }

    /// Writes a finished live session with all its records in one transaction; see
    /// [`Db::persist_finished`]. `true` means the session is in the database, written now or
    /// before; `false` that a newer fence was taken and the newer holder persists it.
    pub async fn persist_live(
        &self,
        session: &LiveSession,
        records: &[LiveRecord],
        now: DateTime<Utc>,
        fence: i64,
    ) -> Result<bool> {
        let one = Finished {
            session,
            records,
            fence,
        };
        Ok(!self.persist_finished(&[one], now).await?.is_empty())
    }

    /// Writes finished live sessions with all their records in one transaction: teachers and
    /// students first (so no foreign key can fail), then the sessions, then the records, then
    /// an `absent` record for everyone of each class list without one.
    ///
    /// Each session's `fence` is what [`Db::take_sweep_fence`] gave this sweeper. A session
    /// whose fence a later claim replaced is left out (the newer holder persists it). The
    /// answer lists the sessions that are in the database, written now or before.
    #[tracing::instrument(skip_all, fields(sessions = batch.len()))]
    pub async fn persist_finished(
        &self,
        batch: &[Finished<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Uuid>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let txn = self.conn.begin().await?;
        // Each fence is still ours, and its row stays locked until this commits, so a newer
        // claim waits for us instead of slipping in between. The rows go with the commit.
        let ours = delete_fences(&txn, batch).await?;
        let batch: Vec<&Finished<'_>> = batch
            .iter()
            .filter(|f| ours.contains(&f.session.id))
            .collect();
        if batch.is_empty() {
            txn.rollback().await?;
            return Ok(Vec::new());
        }
        upsert_users(&txn, &people(&batch), now, false).await?;
        // The first commit of a session wins. If its row is there, a sweeper committed it
        // before (and crashed before removing the live keys): writing the records again would
        // undo what a teacher corrected since.
        let new = insert_attendances_once(&txn, &batch).await?;
        let mut rows = Vec::new();
        let mut changes = Vec::new();
        for f in batch.iter().filter(|f| new.contains(&f.session.id)) {
            let session = f.session;
            rows.extend(f.records.iter().map(|r| record_row(session, r)));
            // Everyone of the class list without a record is recorded absent, so the history,
            // the grid and the student's page agree without working it out again.
            let class = course_numbers(
                &txn,
                &session.teacher_school_number,
                &session.lesson_name,
                Some(session.id),
            )
            .await?;
            let here: HashSet<&str> = f
                .records
                .iter()
                .map(|r| r.student_number.as_str())
                .collect();
            rows.extend(
                class
                    .into_iter()
                    .filter(|n| !here.contains(n.as_str()))
                    .map(|n| absent_row(session.id, n)),
            );
            for r in f.records {
                for c in &r.changes {
                    changes.push(Change {
                        action: AuditAction::StatusChanged,
                        actor: &c.by,
                        at: c.at,
                        attendance_id: Some(session.id),
                        student: Some(&r.student_number),
                        reason: c.reason.as_deref(),
                        from_status: c.from,
                        to_status: Some(c.to),
                    });
                }
            }
        }
        upsert_records(&txn, &rows).await?;
        for change in changes {
            audit::record(&txn, change).await?;
        }
        txn.commit().await?;
        Ok(batch.iter().map(|f| f.session.id).collect())
    }
}

/// A finished live session for [`Db::persist_finished`], with the fence its sweeper took.
#[derive(Debug, Clone, Copy)]
pub struct Finished<'a> {
    /// The session.
    pub session: &'a LiveSession,
    /// All its records.
    pub records: &'a [LiveRecord],
    /// What [`Db::take_sweep_fence`] gave.
    pub fence: i64,
}

/// Everyone a batch of sessions names, once: the students, then the teachers, so a teacher who
/// also checked in as a student keeps the teacher role.
fn people(batch: &[&Finished<'_>]) -> Vec<User> {
    let mut people = BTreeMap::new();
    for r in batch.iter().flat_map(|f| f.records) {
        people.insert(
            r.student_number.clone(),
            User {
                school_number: r.student_number.clone(),
                full_name: r.student_full_name.clone(),
                role: Role::Student,
            },
        );
    }
    for f in batch {
        people.insert(
            f.session.teacher_school_number.clone(),
            User {
                school_number: f.session.teacher_school_number.clone(),
                full_name: f.session.teacher_full_name.clone(),
                role: Role::Teacher,
            },
        );
    }
    people.into_values().collect()
}

/// Deletes the fences of `batch` that are still the ones taken; the sessions they belong to.
async fn delete_fences(
    conn: &impl ConnectionTrait,
    batch: &[Finished<'_>],
) -> Result<HashSet<Uuid>> {
    let mut taken = Condition::any();
    for f in batch {
        taken = taken.add(
            Condition::all()
                .add(sweep_fence::Column::AttendanceId.eq(f.session.id))
                .add(sweep_fence::Column::Fence.eq(f.fence)),
        );
    }
    let gone = sweep_fence::Entity::delete_many()
        .filter(taken)
        .exec_with_returning(conn)
        .await?;
    Ok(gone.into_iter().map(|f| f.attendance_id).collect())
}

/// Inserts the sessions' rows, skipping those already there; the sessions inserted now.
async fn insert_attendances_once(
    conn: &impl ConnectionTrait,
    batch: &[&Finished<'_>],
) -> Result<HashSet<Uuid>> {
    let rows = batch
        .iter()
        .map(|f| attendance::ActiveModel::from(attendance_row(f.session)));
    let inserted = attendance::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(attendance::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_with_returning_keys(conn)
        .await;
    match inserted {
        Ok(ids) => Ok(ids.into_iter().collect()),
        // Every one was there already.
        Err(sea_orm::DbErr::RecordNotInserted) => Ok(HashSet::new()),
        Err(e) => Err(e.into()),
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
        device_check: s.device_check,
        rechecks: (!s.rechecks.is_empty())
            .then(|| serde_json::to_string(&s.rechecks).unwrap_or_default()),
        is_deleted: false,
        deletion_reason: None,
        deletion_time: None,
        deleted_by: None,
    }
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
