//! The admin's review: everything soft-deleted (what, who deleted it, when, why), filtered by
//! teacher and date, with restore. Every restore is written in the audit log, which admins
//! read filtered by teacher, student, course and date, and download.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use crate::auth::Caller;
use crate::context::Ctx;
use crate::db::{Attendance, AttendanceRecord, AuditEvent, AuditFilter, DeletedFilter};
use crate::domain::{SchoolNumber, parse_session_id};
use crate::error::{Error, Problem, Result};
use crate::history::{name_or_number, names_of};
use crate::text::loosely_contains;

/// Most deleted sessions, and most deleted records, one review lists.
pub const REVIEW_LIMIT: u64 = 200;
/// Most audit events one review lists.
pub const AUDIT_LIMIT: u64 = 50;

/// What the admin asks to see.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReviewQuery<'a> {
    /// Part of the teacher's name, or the teacher's school number; empty for all.
    pub teacher: &'a str,
    /// Deleted on or after this day (in the configured zone).
    pub from: Option<NaiveDate>,
    /// Deleted on or before this day (in the configured zone).
    pub to: Option<NaiveDate>,
}

/// A deleted session, with names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedSession {
    /// The session.
    pub attendance: Attendance,
    /// Its teacher's name.
    pub teacher_name: String,
    /// Who deleted it (name).
    pub deleted_by_name: String,
}

/// A deleted record, with its session and names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedRecord {
    /// The record.
    pub record: AttendanceRecord,
    /// The student's name.
    pub student_name: String,
    /// The session's lesson.
    pub lesson_name: String,
    /// The session's start.
    pub session_start: Option<DateTime<Utc>>,
    /// The session's teacher's name.
    pub teacher_name: String,
    /// Who deleted it (name).
    pub deleted_by_name: String,
}

/// An audit event, with the actor's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedEvent {
    /// The event.
    pub event: AuditEvent,
    /// Who did it (name).
    pub actor_name: String,
}

/// The review page's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Deleted sessions, most recently deleted first.
    pub sessions: Vec<DeletedSession>,
    /// Deleted records, most recently deleted first.
    pub records: Vec<DeletedRecord>,
    /// The latest corrections and restores, newest first.
    pub events: Vec<NamedEvent>,
}

/// Everything soft-deleted that matches `query`, and the latest audit events. Admins only.
pub async fn review(ctx: &Ctx, caller: Option<&Caller>, query: ReviewQuery<'_>) -> Result<Review> {
    Caller::require_admin(caller)?;
    let filter = filter(ctx, query).await?;
    let sessions = ctx.db.deleted_attendances(&filter).await?;
    let records = ctx.db.deleted_records(&filter).await?;
    let events = ctx.db.audit_events(AUDIT_LIMIT).await?;

    let mut ids: Vec<Uuid> = records.iter().map(|r| r.attendance_id).collect();
    ids.sort();
    ids.dedup();
    let record_sessions: HashMap<Uuid, Attendance> = ctx
        .db
        .attendances_by_ids_with_deleted(&ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let mut numbers: Vec<String> = Vec::new();
    for a in sessions.iter().chain(record_sessions.values()) {
        numbers.push(a.teacher_school_number.clone());
        numbers.extend(a.deleted_by.clone());
    }
    for r in &records {
        numbers.push(r.student_number.clone());
        numbers.extend(r.deleted_by.clone());
    }
    numbers.extend(events.iter().map(|e| e.actor.clone()));
    let names = names_of(ctx, &numbers).await?;
    let name = |n: &Option<String>| n.as_deref().map(|n| name_or_number(&names, n));

    Ok(Review {
        sessions: sessions
            .into_iter()
            .map(|attendance| DeletedSession {
                teacher_name: name_or_number(&names, &attendance.teacher_school_number),
                deleted_by_name: name(&attendance.deleted_by).unwrap_or_default(),
                attendance,
            })
            .collect(),
        records: records
            .into_iter()
            .map(|record| {
                let session = record_sessions.get(&record.attendance_id);
                DeletedRecord {
                    student_name: name_or_number(&names, &record.student_number),
                    lesson_name: session.map(|s| s.lesson_name.clone()).unwrap_or_default(),
                    session_start: session.map(|s| s.start_time),
                    teacher_name: session
                        .map(|s| name_or_number(&names, &s.teacher_school_number))
                        .unwrap_or_default(),
                    deleted_by_name: name(&record.deleted_by).unwrap_or_default(),
                    record,
                }
            })
            .collect(),
        events: events
            .into_iter()
            .map(|event| NamedEvent {
                actor_name: name_or_number(&names, &event.actor),
                event,
            })
            .collect(),
    })
}

async fn filter(ctx: &Ctx, query: ReviewQuery<'_>) -> Result<DeletedFilter> {
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(Error::invalid("to", Problem::Malformed));
    }
    let teacher = query.teacher.trim();
    let teachers = if teacher.is_empty() {
        None
    } else {
        if teacher.chars().count() > 100 {
            return Err(Error::invalid("teacher", Problem::TooLong { max: 100 }));
        }
        Some(
            ctx.db
                .teachers()
                .await?
                .into_iter()
                .filter(|t| t.school_number == teacher || loosely_contains(&t.full_name, teacher))
                .map(|t| t.school_number)
                .collect(),
        )
    };
    let tz = ctx.config.timezone;
    let start_of = |day: NaiveDate| {
        tz.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    Ok(DeletedFilter {
        teachers,
        from: query.from.and_then(start_of),
        until: query
            .to
            .and_then(|d| d.checked_add_signed(Duration::days(1)))
            .and_then(start_of),
        limit: REVIEW_LIMIT,
    })
}

/// Most events one read of the audit log lists.
pub const AUDIT_LOG_LIMIT: u64 = 1000;

/// What the admin asks of the audit log.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditQuery<'a> {
    /// Part of the teacher's name, or the number, of the sessions concerned; empty for all.
    pub teacher: &'a str,
    /// The student's school number; empty for all.
    pub student: &'a str,
    /// Part of the course's lesson title; empty for all.
    pub lesson: &'a str,
    /// On or after this day (in the configured zone).
    pub from: Option<NaiveDate>,
    /// On or before this day.
    pub to: Option<NaiveDate>,
}

/// An audit event with the names and the session it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The event.
    pub event: AuditEvent,
    /// Who did it.
    pub actor_name: String,
    /// The student concerned, by name.
    pub student_name: Option<String>,
    /// The session's lesson.
    pub lesson_name: String,
    /// The session's teacher's name.
    pub teacher_name: String,
    /// When the session started.
    pub session_start: Option<DateTime<Utc>>,
}

/// The audit log, newest first, filtered by `query` (at most [`AUDIT_LOG_LIMIT`] events).
/// Admins only.
pub async fn audit_log(
    ctx: &Ctx,
    caller: Option<&Caller>,
    query: AuditQuery<'_>,
) -> Result<Vec<AuditEntry>> {
    Caller::require_admin(caller)?;
    let base = filter(
        ctx,
        ReviewQuery {
            teacher: query.teacher,
            from: query.from,
            to: query.to,
        },
    )
    .await?;
    let student = match query.student.trim() {
        "" => None,
        s => Some(
            SchoolNumber::parse(s).map_err(|_| Error::invalid("student", Problem::Malformed))?,
        ),
    };
    let lesson = query.lesson.trim();
    if lesson.chars().count() > 100 {
        return Err(Error::invalid("lesson", Problem::TooLong { max: 100 }));
    }
    let narrowed = base.teachers.is_some() || !lesson.is_empty();
    let mut sessions: Vec<Attendance> = if narrowed {
        ctx.db
            .sessions_of_teachers(base.teachers.as_deref())
            .await?
            .into_iter()
            .filter(|a| lesson.is_empty() || loosely_contains(&a.lesson_name, lesson))
            .collect()
    } else {
        Vec::new()
    };
    let events = ctx
        .db
        .audit_events_matching(&AuditFilter {
            sessions: narrowed.then(|| sessions.iter().map(|a| a.id).collect()),
            student: student.map(|s| s.to_string()),
            from: base.from,
            until: base.until,
            limit: AUDIT_LOG_LIMIT,
        })
        .await?;
    if !narrowed {
        let mut ids: Vec<Uuid> = events.iter().filter_map(|e| e.attendance_id).collect();
        ids.sort();
        ids.dedup();
        sessions = ctx.db.attendances_by_ids_with_deleted(&ids).await?;
    }
    let by_id: HashMap<Uuid, &Attendance> = sessions.iter().map(|a| (a.id, a)).collect();
    let mut numbers: Vec<String> = Vec::new();
    for e in &events {
        numbers.push(e.actor.clone());
        numbers.extend(e.student_number.clone());
        if let Some(a) = e.attendance_id.and_then(|id| by_id.get(&id)) {
            numbers.push(a.teacher_school_number.clone());
        }
    }
    let names = names_of(ctx, &numbers).await?;
    Ok(events
        .into_iter()
        .map(|event| {
            let session = event.attendance_id.and_then(|id| by_id.get(&id));
            AuditEntry {
                actor_name: name_or_number(&names, &event.actor),
                student_name: event
                    .student_number
                    .as_deref()
                    .map(|n| name_or_number(&names, n)),
                lesson_name: session.map(|a| a.lesson_name.clone()).unwrap_or_default(),
                teacher_name: session
                    .map(|a| name_or_number(&names, &a.teacher_school_number))
                    .unwrap_or_default(),
                session_start: session.map(|a| a.start_time),
                event,
            }
        })
        .collect())
}

/// Brings a deleted session back (its records as they were). Admins only; recorded.
pub async fn restore_session(ctx: &Ctx, caller: Option<&Caller>, session_id: &str) -> Result<()> {
    let admin = Caller::require_admin(caller)?;
    let id = parse_session_id(session_id)?;
    ctx.db
        .restore_attendance(id, &admin.school_number, ctx.clock.now())
        .await
}

/// Brings a deleted record back. Admins only; recorded.
pub async fn restore_record(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
    student: &str,
) -> Result<()> {
    let admin = Caller::require_admin(caller)?;
    let id = parse_session_id(session_id)?;
    let student = SchoolNumber::parse(student)?;
    ctx.db
        .restore_record(id, student.as_str(), &admin.school_number, ctx.clock.now())
        .await
}

/// A finished session the sweep set aside because the database refused it, with what the
/// admin needs to judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StuckSession {
    /// Why and since when.
    pub set_aside: crate::live::SetAside,
    /// The session as it is live (gone if someone removed it meanwhile).
    pub session: Option<crate::domain::LiveSession>,
    /// Its records, still live.
    pub records: usize,
}

/// The sessions the sweep set aside, oldest first. Admins only.
pub async fn stuck_sessions(ctx: &Ctx, caller: Option<&Caller>) -> Result<Vec<StuckSession>> {
    Caller::require_admin(caller)?;
    let mut stuck = Vec::new();
    for set_aside in ctx.live.set_aside().await? {
        let id = set_aside.session_id;
        stuck.push(StuckSession {
            session: ctx.live.session(id).await?,
            records: ctx.live.records(id).await?.len(),
            set_aside,
        });
    }
    Ok(stuck)
}

/// Sends a session the sweep set aside back to it, with a fresh count of tries. Admins only.
pub async fn retry_stuck_session(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
) -> Result<()> {
    let admin = Caller::require_admin(caller)?;
    let id = parse_session_id(session_id)?;
    if !ctx.live.retry_set_aside(id).await? {
        return Err(Error::NotFound(crate::error::Entity::Session));
    }
    tracing::info!(%id, admin = %admin.school_number, "set-aside session sent back to the sweep");
    Ok(())
}
