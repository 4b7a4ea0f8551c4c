//! The database port: one SeaORM connection to PostgreSQL (production) or SQLite (the embedded
//! default). The same queries run on both. Soft-deleted rows are hidden from every normal read and
//! listed only by the admin queries.

pub mod entity;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use crate::domain::{LiveRecord, LiveSession, Reason, Role, User};
use crate::error::{Entity, Error, Result};
use entity::{attendance, attendance_record, audit_event, user};

/// A persisted attendance session.
pub type Attendance = attendance::Model;
/// A persisted record of one student in one session.
pub type AttendanceRecord = attendance_record::Model;

/// Rows per INSERT statement. Far below the bind-parameter limits, and small on purpose: on
/// PostgreSQL a 300-row statement took 45 ms where three of 100 rows took 5 (docs/PERFORMANCE.md).
const INSERT_CHUNK: usize = 100;

/// One page of a longer list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items all pages hold together.
    pub total: u64,
}

/// Handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    conn: DatabaseConnection,
}

impl Db {
    /// Connects to `url` (creating the SQLite file and its folder when needed).
    pub async fn connect(url: &str) -> Result<Self> {
        let sqlite = url.starts_with("sqlite:");
        if sqlite {
            ensure_sqlite_folder(url)?;
        }
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(if sqlite { 4 } else { 16 })
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        let conn = Database::connect(options).await?;
        if sqlite {
            // WAL lets readers go on while the sweep writes; the setting stays with the file.
            conn.execute_unprepared("PRAGMA journal_mode=WAL").await?;
        }
        Ok(Self { conn })
    }

    /// Creates database `name` on the PostgreSQL server at `server_url` and returns its URL
    /// (for test and benchmark runs that each want a fresh database).
    pub async fn create_postgres_database(server_url: &str, name: &str) -> Result<String> {
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::invalid(
                "database name",
                crate::error::Problem::Malformed,
            ));
        }
        let (base, _) = server_url.rsplit_once('/').ok_or(Error::Config {
            variable: "ATTN_DATABASE_URL",
            problem: "a PostgreSQL URL ends with /<database>".into(),
        })?;
        let admin = Database::connect(server_url).await?;
        let created = admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await;
        admin.close().await?;
        created?;
        Ok(format!("{base}/{name}"))
    }

    /// The underlying connection, for migrations and tests.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Applies every pending migration.
    #[tracing::instrument(skip(self))]
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.conn, None).await?;
        Ok(())
    }

    /// Closes every connection of this handle and its clones; later queries fail.
    pub async fn close(&self) {
        if let Err(error) = self.conn.clone().close().await {
            tracing::warn!(%error, "closing the database connections");
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.conn.ping().await?;
        Ok(())
    }

    /// Adds users or updates their name and role (at login).
    #[tracing::instrument(skip_all, fields(count = users.len()))]
    pub async fn upsert_users(&self, users: &[User], now: DateTime<Utc>) -> Result<()> {
        upsert_users(&self.conn, users, now, true).await
    }

    /// The users among `numbers` that exist.
    pub async fn users_by_numbers(&self, numbers: &[String]) -> Result<Vec<User>> {
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let rows = user::Entity::find()
            .filter(user::Column::SchoolNumber.is_in(numbers.iter().cloned()))
            .order_by_asc(user::Column::SchoolNumber)
            .all(&self.conn)
            .await?;
        Ok(rows.into_iter().map(user_of).collect())
    }

    /// Adds a session (idempotent: adding the same id again changes nothing).
    pub async fn insert_attendance(&self, attendance: &Attendance) -> Result<()> {
        insert_attendance(&self.conn, attendance).await
    }

    /// A session that is not deleted.
    pub async fn attendance(&self, id: Uuid) -> Result<Option<Attendance>> {
        Ok(attendance::Entity::find_by_id(id)
            .filter(attendance::Column::IsDeleted.eq(false))
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
        let pages = attendance::Entity::find()
            .filter(attendance::Column::TeacherSchoolNumber.eq(teacher))
            .filter(attendance::Column::IsDeleted.eq(false))
            .order_by_desc(attendance::Column::StartTime)
            .order_by_desc(attendance::Column::Id)
            .paginate(&self.conn, per_page.max(1));
        Ok(Page {
            total: pages.num_items().await?,
            items: pages.fetch_page(page).await?,
        })
    }

    /// Adds records or overwrites them (keyed by session and student).
    pub async fn upsert_records(&self, records: &[AttendanceRecord]) -> Result<()> {
        upsert_records(&self.conn, records).await
    }

    /// A session's records that are not deleted, by student number.
    pub async fn session_records(&self, attendance_id: Uuid) -> Result<Vec<AttendanceRecord>> {
        Ok(attendance_record::Entity::find()
            .filter(attendance_record::Column::AttendanceId.eq(attendance_id))
            .filter(attendance_record::Column::IsDeleted.eq(false))
            .order_by_asc(attendance_record::Column::StudentNumber)
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
        let txn = self.conn.begin().await?;
        let done = attendance::Entity::update_many()
            .col_expr(attendance::Column::IsDeleted, true.into())
            .col_expr(attendance::Column::DeletionReason, reason.as_str().into())
            .col_expr(attendance::Column::DeletionTime, at.into())
            .col_expr(attendance::Column::DeletedBy, by.into())
            .filter(attendance::Column::Id.eq(id))
            .filter(attendance::Column::IsDeleted.eq(false))
            .exec(&txn)
            .await?;
        found(done.rows_affected, Entity::Session)?;
        audit(
            &txn,
            AuditAction::SessionDeleted,
            by,
            at,
            id,
            None,
            Some(reason),
        )
        .await?;
        txn.commit().await?;
        Ok(())
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
        let txn = self.conn.begin().await?;
        let done = attendance_record::Entity::update_many()
            .col_expr(attendance_record::Column::IsDeleted, true.into())
            .col_expr(
                attendance_record::Column::DeletionReason,
                reason.as_str().into(),
            )
            .col_expr(attendance_record::Column::DeletionTime, at.into())
            .col_expr(attendance_record::Column::DeletedBy, by.into())
            .filter(attendance_record::Column::AttendanceId.eq(attendance_id))
            .filter(attendance_record::Column::StudentNumber.eq(student))
            .filter(attendance_record::Column::IsDeleted.eq(false))
            .exec(&txn)
            .await?;
        found(done.rows_affected, Entity::Record)?;
        let action = AuditAction::RecordDeleted;
        audit(
            &txn,
            action,
            by,
            at,
            attendance_id,
            Some(student),
            Some(reason),
        )
        .await?;
        txn.commit().await?;
        Ok(())
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
            attendance_time: Some(at),
            fail_reason: None,
            face_distance_milli: None,
            is_deleted: false,
            deletion_reason: None,
            deletion_time: None,
            deleted_by: None,
        };
        upsert_records(&txn, std::slice::from_ref(&row)).await?;
        let number = Some(student.school_number.as_str());
        audit(
            &txn,
            AuditAction::RecordAdded,
            by,
            at,
            attendance_id,
            number,
            None,
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Deleted sessions matching `filter`, most recently deleted first (for admins).
    pub async fn deleted_attendances(&self, filter: &DeletedFilter) -> Result<Vec<Attendance>> {
        let mut query = attendance::Entity::find().filter(attendance::Column::IsDeleted.eq(true));
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
    /// first (for admins).
    pub async fn deleted_records(&self, filter: &DeletedFilter) -> Result<Vec<AttendanceRecord>> {
        let mut query =
            attendance_record::Entity::find().filter(attendance_record::Column::IsDeleted.eq(true));
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
        let txn = self.conn.begin().await?;
        let done = attendance::Entity::update_many()
            .col_expr(attendance::Column::IsDeleted, false.into())
            .col_expr(
                attendance::Column::DeletionReason,
                Option::<String>::None.into(),
            )
            .col_expr(
                attendance::Column::DeletionTime,
                Option::<DateTime<Utc>>::None.into(),
            )
            .col_expr(attendance::Column::DeletedBy, Option::<String>::None.into())
            .filter(attendance::Column::Id.eq(id))
            .filter(attendance::Column::IsDeleted.eq(true))
            .exec(&txn)
            .await?;
        found(done.rows_affected, Entity::Session)?;
        audit(&txn, AuditAction::SessionRestored, by, at, id, None, None).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Brings a deleted record back and writes the restore in the audit log.
    pub async fn restore_record(
        &self,
        attendance_id: Uuid,
        student: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let txn = self.conn.begin().await?;
        let done = attendance_record::Entity::update_many()
            .col_expr(attendance_record::Column::IsDeleted, false.into())
            .col_expr(
                attendance_record::Column::DeletionReason,
                Option::<String>::None.into(),
            )
            .col_expr(
                attendance_record::Column::DeletionTime,
                Option::<DateTime<Utc>>::None.into(),
            )
            .col_expr(
                attendance_record::Column::DeletedBy,
                Option::<String>::None.into(),
            )
            .filter(attendance_record::Column::AttendanceId.eq(attendance_id))
            .filter(attendance_record::Column::StudentNumber.eq(student))
            .filter(attendance_record::Column::IsDeleted.eq(true))
            .exec(&txn)
            .await?;
        found(done.rows_affected, Entity::Record)?;
        let action = AuditAction::RecordRestored;
        audit(&txn, action, by, at, attendance_id, Some(student), None).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The latest audit events, newest first.
    pub async fn audit_events(&self, limit: u64) -> Result<Vec<AuditEvent>> {
        Ok(audit_event::Entity::find()
            .order_by_desc(audit_event::Column::At)
            .order_by_desc(audit_event::Column::Id)
            .paginate(&self.conn, limit.max(1))
            .fetch_page(0)
            .await?)
    }

    /// How many students each of `ids` counts present and failed (deleted records left out).
    pub async fn record_counts(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, RecordCounts>> {
        let mut counts: HashMap<Uuid, RecordCounts> = HashMap::new();
        if ids.is_empty() {
            return Ok(counts);
        }
        let rows: Vec<(Uuid, bool, i64)> = attendance_record::Entity::find()
            .select_only()
            .column(attendance_record::Column::AttendanceId)
            .column(attendance_record::Column::IsAttended)
            .column_as(attendance_record::Column::StudentNumber.count(), "n")
            .filter(attendance_record::Column::AttendanceId.is_in(ids.iter().copied()))
            .filter(attendance_record::Column::IsDeleted.eq(false))
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

    /// A student's records that are not deleted.
    pub async fn student_records(&self, student: &str) -> Result<Vec<AttendanceRecord>> {
        Ok(attendance_record::Entity::find()
            .filter(attendance_record::Column::StudentNumber.eq(student))
            .filter(attendance_record::Column::IsDeleted.eq(false))
            .all(&self.conn)
            .await?)
    }

    /// Sessions that are not deleted, among `ids`.
    pub async fn attendances_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Attendance>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(attendance::Entity::find()
            .filter(attendance::Column::Id.is_in(ids.iter().copied()))
            .filter(attendance::Column::IsDeleted.eq(false))
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
        Ok(attendance::Entity::find()
            .filter(attendance::Column::LessonName.is_in(lessons.iter().cloned()))
            .filter(attendance::Column::IsDeleted.eq(false))
            .order_by_asc(attendance::Column::StartTime)
            .all(&self.conn)
            .await?)
    }

    /// Every user with the teacher role.
    pub async fn teachers(&self) -> Result<Vec<User>> {
        let rows = user::Entity::find()
            .filter(user::Column::Role.eq(Role::Teacher.as_str()))
            .order_by_asc(user::Column::FullName)
            .all(&self.conn)
            .await?;
        Ok(rows.into_iter().map(user_of).collect())
    }

    /// Writes a finished live session with all its records in one transaction: teacher and
    /// students first (so no foreign key can fail), then the session, then the records. Every
    /// write is an upsert, so persisting the same session again changes nothing.
    #[tracing::instrument(skip_all, fields(session = %session.id, records = records.len()))]
    pub async fn persist_live(
        &self,
        session: &LiveSession,
        records: &[LiveRecord],
        now: DateTime<Utc>,
    ) -> Result<()> {
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
        let rows: Vec<AttendanceRecord> =
            records.iter().map(|r| record_row(session.id, r)).collect();

        let txn = self.conn.begin().await?;
        upsert_users(&txn, &people, now, false).await?;
        insert_attendance(&txn, &attendance_row(session)).await?;
        upsert_records(&txn, &rows).await?;
        txn.commit().await?;
        Ok(())
    }
}

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

/// Students counted present and failed in one session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordCounts {
    /// Present.
    pub attended: u64,
    /// Failed a check and not accepted.
    pub failed: u64,
}

/// A row of the audit log.
pub type AuditEvent = audit_event::Model;

/// What an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// A teacher deleted a persisted session.
    SessionDeleted,
    /// A teacher removed a student from a persisted session.
    RecordDeleted,
    /// A teacher added a student to a persisted session.
    RecordAdded,
    /// An admin restored a session.
    SessionRestored,
    /// An admin restored a record.
    RecordRestored,
}

impl AuditAction {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SessionDeleted => "session_deleted",
            AuditAction::RecordDeleted => "record_deleted",
            AuditAction::RecordAdded => "record_added",
            AuditAction::SessionRestored => "session_restored",
            AuditAction::RecordRestored => "record_restored",
        }
    }
}

async fn audit(
    conn: &impl ConnectionTrait,
    action: AuditAction,
    actor: &str,
    at: DateTime<Utc>,
    attendance_id: Uuid,
    student: Option<&str>,
    reason: Option<&Reason>,
) -> Result<()> {
    audit_event::Entity::insert(audit_event::ActiveModel {
        id: Set(Uuid::new_v4()),
        at: Set(at),
        actor: Set(actor.to_owned()),
        action: Set(action.as_str().to_owned()),
        attendance_id: Set(attendance_id),
        student_number: Set(student.map(str::to_owned)),
        reason: Set(reason.map(|r| r.as_str().to_owned())),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

fn user_of(u: user::Model) -> User {
    User {
        role: Role::from_db(&u.role).unwrap_or(Role::Student),
        school_number: u.school_number,
        full_name: u.full_name,
    }
}

async fn insert_missing_user(
    conn: &impl ConnectionTrait,
    u: &User,
    now: DateTime<Utc>,
) -> Result<()> {
    user::Entity::insert(user::ActiveModel {
        school_number: Set(u.school_number.clone()),
        full_name: Set(u.full_name.clone()),
        role: Set(u.role.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(user::Column::SchoolNumber)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

fn found(rows_affected: u64, what: Entity) -> Result<()> {
    if rows_affected == 0 {
        Err(Error::NotFound(what))
    } else {
        Ok(())
    }
}

fn ensure_sqlite_folder(url: &str) -> Result<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(dir) = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| Error::Config {
            variable: "ATTN_DATABASE_URL",
            problem: format!("cannot create {}: {e}", dir.display()),
        })?;
    }
    Ok(())
}

fn attendance_row(s: &LiveSession) -> Attendance {
    Attendance {
        id: s.id,
        teacher_school_number: s.teacher_school_number.clone(),
        lesson_name: s.lesson_name.clone(),
        ip_address: s.ip_address.clone(),
        start_time: s.start_time,
        end_time: s.end_time,
        security_option: s.security.as_i16(),
        is_deleted: false,
        deletion_reason: None,
        deletion_time: None,
        deleted_by: None,
    }
}

fn record_row(attendance_id: Uuid, r: &LiveRecord) -> AttendanceRecord {
    AttendanceRecord {
        attendance_id,
        student_number: r.student_number.clone(),
        is_attended: r.is_attended,
        attendance_time: r.attendance_time,
        fail_reason: r.fail_reason.clone(),
        face_distance_milli: r.face_distance_milli.map(i32::from),
        is_deleted: r.deletion.is_some(),
        deletion_reason: r.deletion.as_ref().map(|d| d.reason.clone()),
        deletion_time: r.deletion.as_ref().map(|d| d.at),
        deleted_by: r.deletion.as_ref().map(|d| d.by.clone()),
    }
}

async fn upsert_users(
    conn: &impl ConnectionTrait,
    users: &[User],
    now: DateTime<Utc>,
    update_role: bool,
) -> Result<()> {
    let mut update = vec![user::Column::FullName, user::Column::UpdatedAt];
    if update_role {
        update.push(user::Column::Role);
    }
    for chunk in users.chunks(INSERT_CHUNK) {
        let rows = chunk.iter().map(|u| user::ActiveModel {
            school_number: Set(u.school_number.clone()),
            full_name: Set(u.full_name.clone()),
            role: Set(u.role.as_str().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
        });
        user::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(user::Column::SchoolNumber)
                    .update_columns(update.clone())
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
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

async fn upsert_records(conn: &impl ConnectionTrait, records: &[AttendanceRecord]) -> Result<()> {
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
                    attendance_record::Column::AttendanceTime,
                    attendance_record::Column::FailReason,
                    attendance_record::Column::FaceDistanceMilli,
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
