//! Persisted records: one student in one session. Counts for the history, a student's own
//! records, and the owner's corrections (add, remove), each written in the audit log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use uuid::Uuid;

use super::audit::{self, Change};
use super::entity::{attendance, attendance_record};
use super::users::insert_missing_user;
use super::{AttendanceRecord, Db, INSERT_CHUNK, SoftDelete, bulk};
use crate::domain::{AuditAction, LiveRecord, LiveSession, Reason, Status, User};
use crate::error::{Entity, Result};

/// Students counted present and failed in one session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordCounts {
    /// Present.
    pub attended: u64,
    /// Failed a check and not accepted.
    pub failed: u64,
}

impl Db {
    /// Adds records or overwrites them (keyed by session and student).
    pub async fn upsert_records(&self, records: &[AttendanceRecord]) -> Result<()> {
        upsert_records(&self.conn, records).await
    }

    /// A session's records that are not deleted, by student number.
    pub async fn session_records(&self, attendance_id: Uuid) -> Result<Vec<AttendanceRecord>> {
        Ok(attendance_record::Entity::find_kept()
            .filter(attendance_record::Column::AttendanceId.eq(attendance_id))
            .order_by_asc(attendance_record::Column::StudentNumber)
            .all(&self.conn)
            .await?)
    }

    /// The class list of a course (a lesson title and its teacher): every student with a kept
    /// record in one of its kept sessions, by school number.
    pub async fn course_students(&self, teacher: &str, lesson_name: &str) -> Result<Vec<User>> {
        let numbers = course_numbers(&self.conn, teacher, lesson_name, None).await?;
        self.users_by_numbers(&numbers).await
    }

    /// [`Db::course_students`] for the live page of `session`, read again at most every 15
    /// seconds: the page reads its board at every check-in, and a course's list
    /// seldom changes during a lecture. A list put on it here ([`Db::add_to_class_list`]) shows
    /// at once; one changed by another instance, or by the admin's review, within that time.
    pub async fn class_of_session(
        &self,
        session: Uuid,
        teacher: &str,
        lesson_name: &str,
    ) -> Result<Arc<Vec<User>>> {
        if let Some(students) = self.class_lists.fresh(session) {
            return Ok(students);
        }
        let students = Arc::new(self.course_students(teacher, lesson_name).await?);
        self.class_lists
            .keep(session, teacher, lesson_name, students.clone());
        Ok(students)
    }

    /// A student's records that are not deleted.
    pub async fn student_records(&self, student: &str) -> Result<Vec<AttendanceRecord>> {
        Ok(attendance_record::Entity::find_kept()
            .filter(attendance_record::Column::StudentNumber.eq(student))
            .all(&self.conn)
            .await?)
    }

    /// How many students each of `ids` counts present and failed (deleted records left out).
    pub async fn record_counts(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, RecordCounts>> {
        let mut counts: HashMap<Uuid, RecordCounts> = HashMap::new();
        if ids.is_empty() {
            return Ok(counts);
        }
        let rows: Vec<(Uuid, bool, i64)> = attendance_record::Entity::find_kept()
            .select_only()
            .column(attendance_record::Column::AttendanceId)
            .column(attendance_record::Column::IsAttended)
            .column_as(attendance_record::Column::StudentNumber.count(), "n")
            .filter(attendance_record::Column::AttendanceId.is_in(ids.iter().copied()))
            .group_by(attendance_record::Column::AttendanceId)
            .group_by(attendance_record::Column::IsAttended)
            .into_tuple()
            .all(&self.conn)
            .await?;
        for (id, attended, n) in rows {
            let entry = counts.entry(id).or_default();
            let n = u64::try_from(n).unwrap_or_default();
            if attended {
                entry.attended += n;
            } else {
                entry.failed += n;
            }
        }
        Ok(counts)
    }

    /// Soft-deletes one student's record in a session and writes it in the audit log.
    pub async fn delete_record(
        &self,
        attendance_id: Uuid,
        student: &str,
        reason: &Reason,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let update = attendance_record::Entity::mark_deleted(reason, by, at)
            .filter(attendance_record::Column::AttendanceId.eq(attendance_id))
            .filter(attendance_record::Column::StudentNumber.eq(student));
        let change = Change {
            action: AuditAction::RecordDeleted,
            actor: by,
            at,
            attendance_id: Some(attendance_id),
            student: Some(student),
            reason: Some(reason.as_str()),
            from_status: None,
            to_status: None,
        };
        self.update_audited(update, Entity::Record, change).await
    }

    /// Counts a student present in a persisted session (a correction after the fact), adding
    /// the student as a user named `name` when unknown, and writes it in the audit log. A
    /// record that was there is overwritten: present, not deleted.
    pub async fn add_record(
        &self,
        attendance_id: Uuid,
        student: &User,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<AttendanceRecord> {
        let txn = self.conn.begin().await?;
        insert_missing_user(&txn, student, at).await?;
        let row = AttendanceRecord {
            attendance_id,
            student_number: student.school_number.clone(),
            is_attended: true,
            status: Status::Present,
            status_reason: None,
            attendance_time: Some(at),
            fail_reason: None,
            face_distance_milli: None,
            rechecks_missed: None,
            evidence: None,
            is_deleted: false,
            deletion_reason: None,
            deletion_time: None,
            deleted_by: None,
        };
        upsert_records(&txn, std::slice::from_ref(&row)).await?;
        let change = Change {
            action: AuditAction::RecordAdded,
            actor: by,
            at,
            attendance_id: Some(attendance_id),
            student: Some(student.school_number.as_str()),
            reason: None,
            from_status: None,
            to_status: Some(Status::Present),
        };
        audit::record(&txn, change).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Sets a student's status in a persisted session (a correction after the fact), adding
    /// the record (and the student, named `student.full_name`, when unknown) if there was none,
    /// and writes the change with the status before in the audit log, in one transaction.
    pub async fn set_record_status(
        &self,
        attendance_id: Uuid,
        student: &User,
        status: Status,
        reason: &Reason,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<AttendanceRecord> {
        let txn = self.conn.begin().await?;
        let row = set_status(
            &txn,
            attendance_id,
            student,
            status,
            reason.as_str(),
            by,
            at,
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }
}

/// [`Db::set_record_status`] inside the caller's transaction.
pub(super) async fn set_status(
    txn: &impl ConnectionTrait,
    attendance_id: Uuid,
    student: &User,
    status: Status,
    reason: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<AttendanceRecord> {
    insert_missing_user(txn, student, at).await?;
    let before = attendance_record::Entity::find_kept()
        .filter(attendance_record::Column::AttendanceId.eq(attendance_id))
        .filter(attendance_record::Column::StudentNumber.eq(&student.school_number))
        .one(txn)
        .await?;
    let from_status = before.as_ref().map(|r| r.status);
    let row = AttendanceRecord {
        attendance_id,
        student_number: student.school_number.clone(),
        is_attended: status.is_there(),
        status,
        status_reason: Some(reason.to_owned()),
        attendance_time: before
            .as_ref()
            .and_then(|r| r.attendance_time)
            .or(status.is_there().then_some(at)),
        fail_reason: before.as_ref().and_then(|r| r.fail_reason),
        face_distance_milli: before.as_ref().and_then(|r| r.face_distance_milli),
        rechecks_missed: before.as_ref().and_then(|r| r.rechecks_missed),
        evidence: before.as_ref().and_then(|r| r.evidence.clone()),
        is_deleted: false,
        deletion_reason: None,
        deletion_time: None,
        deleted_by: None,
    };
    upsert_records(txn, std::slice::from_ref(&row)).await?;
    let change = Change {
        action: AuditAction::StatusChanged,
        actor: by,
        at,
        attendance_id: Some(attendance_id),
        student: Some(student.school_number.as_str()),
        reason: Some(reason),
        from_status,
        to_status: Some(status),
    };
    audit::record(txn, change).await?;
    Ok(row)
}

/// Numbers of the students of a course (a lesson title and its teacher): those with a kept
/// record in one of its kept sessions other than `except`, and those its teacher put on its
/// class list.
pub(super) async fn course_numbers(
    conn: &impl ConnectionTrait,
    teacher: &str,
    lesson_name: &str,
    except: Option<Uuid>,
) -> Result<Vec<String>> {
    let mut sessions = attendance::Entity::find_kept()
        .filter(attendance::Column::TeacherSchoolNumber.eq(teacher))
        .filter(attendance::Column::LessonName.eq(lesson_name));
    if let Some(except) = except {
        sessions = sessions.filter(attendance::Column::Id.ne(except));
    }
    let sessions: Vec<Uuid> = sessions
        .select_only()
        .column(attendance::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let mut numbers = super::courses::listed_numbers(conn, teacher, lesson_name).await?;
    for chunk in sessions.chunks(INSERT_CHUNK * 5) {
        let some: Vec<String> = attendance_record::Entity::find_kept()
            .filter(attendance_record::Column::AttendanceId.is_in(chunk.iter().copied()))
            .select_only()
            .column(attendance_record::Column::StudentNumber)
            .distinct()
            .into_tuple()
            .all(conn)
            .await?;
        numbers.extend(some);
    }
    numbers.sort();
    numbers.dedup();
    Ok(numbers)
}

/// How long a live page's class list is kept before it is read again.
const CLASS_LIST_FRESH: Duration = Duration::from_secs(15);
/// Class lists kept at most (one per live session with its page open).
const CLASS_LISTS_KEPT: usize = 4096;

/// The class lists of the live sessions whose pages are open on this instance.
#[derive(Debug, Default)]
pub(super) struct ClassLists(Mutex<HashMap<Uuid, ClassList>>);

#[derive(Debug)]
struct ClassList {
    course: (String, String),
    read: Instant,
    students: Arc<Vec<User>>,
}

impl ClassLists {
    fn fresh(&self, session: Uuid) -> Option<Arc<Vec<User>>> {
        let lists = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        lists
            .get(&session)
            .filter(|l| l.read.elapsed() < CLASS_LIST_FRESH)
            .map(|l| l.students.clone())
    }

    fn keep(&self, session: Uuid, teacher: &str, lesson_name: &str, students: Arc<Vec<User>>) {
        let mut lists = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if lists.len() >= CLASS_LISTS_KEPT {
            lists.retain(|_, l| l.read.elapsed() < CLASS_LIST_FRESH);
            if lists.len() >= CLASS_LISTS_KEPT {
                lists.clear();
            }
        }
        lists.insert(
            session,
            ClassList {
                course: (teacher.to_owned(), lesson_name.to_owned()),
                read: Instant::now(),
                students,
            },
        );
    }

    /// The course's list changed: its live pages read it again.
    pub(super) fn forget(&self, teacher: &str, lesson_name: &str) {
        let mut lists = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        lists.retain(|_, l| l.course.0 != teacher || l.course.1 != lesson_name);
    }
}

/// The row of a student of the class list who has no record when the session ends: absent.
pub(super) fn absent_row(attendance_id: Uuid, student_number: String) -> AttendanceRecord {
    AttendanceRecord {
        attendance_id,
        student_number,
        is_attended: false,
        status: Status::Absent,
        status_reason: None,
        attendance_time: None,
        fail_reason: None,
        face_distance_milli: None,
        rechecks_missed: None,
        evidence: None,
        is_deleted: false,
        deletion_reason: None,
        deletion_time: None,
        deleted_by: None,
    }
}

/// The database row of a live record.
pub(super) fn record_row(session: &LiveSession, r: &LiveRecord) -> AttendanceRecord {
    let missed = r.missed(&session.rechecks, session.end_time).len();
    AttendanceRecord {
        attendance_id: session.id,
        student_number: r.student_number.clone(),
        is_attended: r.is_attended,
        status: r.status(),
        status_reason: r.status_reason.clone(),
        attendance_time: r.attendance_time,
        fail_reason: r.fail_reason,
        face_distance_milli: r.face_distance_milli.map(i32::from),
        rechecks_missed: (missed > 0).then(|| i32::try_from(missed).unwrap_or(i32::MAX)),
        evidence: r
            .evidence
            .as_ref()
            .and_then(|e| serde_json::to_string(e).ok()),
        is_deleted: r.deletion.is_some(),
        deletion_reason: r.deletion.as_ref().map(|d| d.reason.clone()),
        deletion_time: r.deletion.as_ref().map(|d| d.at),
        deleted_by: r.deletion.as_ref().map(|d| d.by.clone()),
    }
}

/// `attendance_records` for [`bulk::Table::upsert`]: every column but the key is overwritten.
const RECORDS: bulk::Table = bulk::Table {
    name: "attendance_records",
    columns: &[
        ("attendance_id", "uuid"),
        ("student_number", "text"),
        ("is_attended", "boolean"),
        ("status", "text"),
        ("status_reason", "text"),
        ("attendance_time", "timestamptz"),
        ("fail_reason", "text"),
        ("face_distance_milli", "integer"),
        ("rechecks_missed", "integer"),
        ("evidence", "text"),
        ("is_deleted", "boolean"),
        ("deletion_reason", "text"),
        ("deletion_time", "timestamptz"),
        ("deleted_by", "text"),
    ],
    key: &["attendance_id", "student_number"],
    update: &[
        "is_attended",
        "status",
        "status_reason",
        "attendance_time",
        "fail_reason",
        "face_distance_milli",
        "rechecks_missed",
        "evidence",
        "is_deleted",
        "deletion_reason",
        "deletion_time",
        "deleted_by",
    ],
};

/// A record as one row of a bulk write, keyed by column name; a column left out is NULL, so
/// empty ones are not sent.
#[derive(serde::Serialize)]
struct RecordRow<'a> {
    attendance_id: Uuid,
    student_number: &'a str,
    is_attended: bool,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attendance_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fail_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    face_distance_milli: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rechecks_missed: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<&'a str>,
    is_deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_by: Option<&'a str>,
}

impl<'a> From<&'a AttendanceRecord> for RecordRow<'a> {
    fn from(r: &'a AttendanceRecord) -> Self {
        use sea_orm::ActiveEnum;
        Self {
            attendance_id: r.attendance_id,
            student_number: &r.student_number,
            is_attended: r.is_attended,
            status: r.status.to_value(),
            status_reason: r.status_reason.as_deref(),
            attendance_time: r.attendance_time.map(bulk::micros),
            fail_reason: r.fail_reason.as_ref().map(ActiveEnum::to_value),
            face_distance_milli: r.face_distance_milli,
            rechecks_missed: r.rechecks_missed,
            evidence: r.evidence.as_deref(),
            is_deleted: r.is_deleted,
            deletion_reason: r.deletion_reason.as_deref(),
            deletion_time: r.deletion_time.map(bulk::micros),
            deleted_by: r.deleted_by.as_deref(),
        }
    }
}

/// Adds records or overwrites every column but the key: on PostgreSQL in one bulk statement,
/// elsewhere in statements of [`INSERT_CHUNK`].
pub(super) async fn upsert_records(
    conn: &impl ConnectionTrait,
    records: &[AttendanceRecord],
) -> Result<()> {
    if bulk::available(conn) {
        let rows: Vec<RecordRow<'_>> = records.iter().map(RecordRow::from).collect();
        return RECORDS.upsert(conn, &rows).await;
    }
    for chunk in records.chunks(INSERT_CHUNK) {
        let rows = chunk
            .iter()
            .cloned()
            .map(attendance_record::ActiveModel::from);
        attendance_record::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    attendance_record::Column::AttendanceId,
                    attendance_record::Column::StudentNumber,
                ])
                .update_columns([
                    attendance_record::Column::IsAttended,
                    attendance_record::Column::Status,
                    attendance_record::Column::StatusReason,
                    attendance_record::Column::AttendanceTime,
                    attendance_record::Column::FailReason,
                    attendance_record::Column::FaceDistanceMilli,
                    attendance_record::Column::RechecksMissed,
                    attendance_record::Column::Evidence,
                    attendance_record::Column::IsDeleted,
                    attendance_record::Column::DeletionReason,
                    attendance_record::Column::DeletionTime,
                    attendance_record::Column::DeletedBy,
                ])
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}
