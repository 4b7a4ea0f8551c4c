//! Appeals: a student contests one of their records (absent, late, failed, excused or removed)
//! with a short text; the course's teacher sees the open ones on the course page and accepts
//! them (the status changes, in the audit log) or rejects them with a reason; the student sees
//! the answer on their own page. One open appeal per record at a time.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::Caller;
use crate::context::Ctx;
use crate::courses::visible;
use crate::db::{Appeal, Decision};
use crate::domain::{Reason, Role, Status, User, parse_session_id};
use crate::error::{Entity, Error, Problem, Result};
use crate::history::{HISTORY_REASON_MIN, name_or_number, names_of};

/// Shortest appeal a student may send.
pub const APPEAL_MIN: usize = 10;

/// Contests the caller's record in a finished session, backed by the check-in's signed receipt
/// when the student attaches one (refused unless this server signed it, for this session and
/// this student). Students only, for their own record that is not simply "present".
pub async fn appeal(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
    text: &str,
    receipt: Option<&str>,
) -> Result<Appeal> {
    let student = Caller::require_student(caller)?;
    let text = Reason::parse(text, APPEAL_MIN)?;
    let id = parse_session_id(session_id)?;
    // A receipt backs the appeal only if this server signed it, for this session and student.
    let receipt = match receipt.map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(text) => match crate::receipts::read(ctx, text).await? {
            Some(r) if r.session_id == id && r.student_number == student.school_number => {
                Some(text)
            }
            _ => return Err(Error::invalid("receipt", Problem::Malformed)),
        },
    };
    ctx.db
        .attendance(id)
        .await?
        .ok_or(Error::NotFound(Entity::Session))?;
    let record = ctx
        .db
        .student_records_with_deleted(&student.school_number)
        .await?
        .into_iter()
        .find(|r| r.attendance_id == id);
    // A session of the course without any record of the student counts absent too; one where
    // the student is simply present has nothing to contest.
    if record
        .as_ref()
        .is_some_and(|r| !r.is_deleted && r.status == Status::Present)
    {
        return Err(Error::NotFound(Entity::Record));
    }
    ctx.db
        .insert_appeal(
            id,
            &student.school_number,
            text.as_str(),
            receipt,
            ctx.clock.now(),
        )
        .await
}

/// An appeal on a course's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseAppeal {
    /// The appeal.
    pub appeal: Appeal,
    /// The student's name.
    pub student_name: String,
    /// When the session contested started.
    pub session_start: DateTime<Utc>,
    /// The record's status now (`None`: no record, counted absent; or removed).
    pub status: Option<Status>,
    /// What the receipt the student attached says (checked again now).
    pub receipt: Option<crate::receipts::Receipt>,
}

/// The appeals of a course's sessions, open ones first, newest first. Its teacher and admins.
pub async fn course_appeals(
    ctx: &Ctx,
    caller: Option<&Caller>,
    course_id: &str,
) -> Result<Vec<CourseAppeal>> {
    let course = visible(ctx, caller, course_id).await?;
    let sessions = ctx
        .db
        .course_sessions(&course.teacher_school_number, &course.lesson_name)
        .await?;
    let ids: Vec<Uuid> = sessions.iter().map(|a| a.id).collect();
    let appeals = ctx.db.appeals_of_sessions(&ids).await?;
    let numbers: Vec<String> = appeals.iter().map(|a| a.student_number.clone()).collect();
    let names = names_of(ctx, &numbers).await?;
    let records = ctx.db.records_of_sessions(&ids).await?;
    let mut receipts = Vec::with_capacity(appeals.len());
    for a in &appeals {
        receipts.push(match &a.receipt {
            Some(text) => crate::receipts::read(ctx, text).await?,
            None => None,
        });
    }
    let mut list: Vec<CourseAppeal> = appeals
        .into_iter()
        .zip(receipts)
        .map(|(appeal, receipt)| CourseAppeal {
            receipt,
            student_name: name_or_number(&names, &appeal.student_number),
            session_start: sessions
                .iter()
                .find(|s| s.id == appeal.attendance_id)
                .map(|s| s.start_time)
                .unwrap_or(appeal.created_at),
            status: records
                .iter()
                .find(|r| {
                    r.attendance_id == appeal.attendance_id
                        && r.student_number == appeal.student_number
                })
                .map(|r| r.status),
            appeal,
        })
        .collect();
    // Stable: newest first within open, then within answered.
    list.sort_by_key(|a| a.appeal.state != crate::domain::AppealState::Open);
    Ok(list)
}

/// Answers an open appeal: `accept` with the status the student counts as from now on
/// (present, late or excused; the answer is optional), or reject with an answer of at least
/// 10 characters. The session's teacher only.
pub async fn answer_appeal(
    ctx: &Ctx,
    caller: Option<&Caller>,
    appeal_id: &str,
    accept: Option<Status>,
    answer: &str,
) -> Result<()> {
    let teacher = Caller::require_teacher(caller)?;
    let id = Uuid::parse_str(appeal_id.trim())
        .map_err(|_| Error::invalid("appeal_id", Problem::Malformed))?;
    let answer = match (accept, answer.trim().is_empty()) {
        (Some(_), true) => None,
        _ => Some(Reason::parse(answer, HISTORY_REASON_MIN)?),
    };
    if accept.is_some_and(|s| !s.is_there() && s != Status::Excused) {
        return Err(Error::invalid("status", Problem::Malformed));
    }
    let appeal = ctx
        .db
        .appeal(id)
        .await?
        .ok_or(Error::NotFound(Entity::Appeal))?;
    let attendance = ctx
        .db
        .attendance(appeal.attendance_id)
        .await?
        .ok_or(Error::NotFound(Entity::Session))?;
    if attendance.teacher_school_number != teacher.school_number {
        return Err(Error::Forbidden);
    }
    let decision = match accept {
        Some(status) => {
            let names = names_of(ctx, std::slice::from_ref(&appeal.student_number)).await?;
            Decision::Accept(
                User {
                    full_name: name_or_number(&names, &appeal.student_number),
                    school_number: appeal.student_number.clone(),
                    role: Role::Student,
                },
                status,
            )
        }
        None => Decision::Reject,
    };
    ctx.db
        .answer_appeal(
            id,
            &decision,
            answer.as_ref().map(Reason::as_str),
            &teacher.school_number,
            ctx.clock.now(),
        )
        .await
}
