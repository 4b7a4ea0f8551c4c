//! After the sweep: a teacher's past sessions with corrections (add or remove a student, delete
//! a session, each with a reason and kept in the audit log), and a student's own attendance per
//! lesson. Only the owner teacher may change a persisted session; admins may read any.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::Caller;
use crate::context::Ctx;
use crate::courses::{Standing, class_hours, course_id, settings_by_id};
use crate::db::{Attendance, AttendanceRecord, Page, RecordCounts};
use crate::domain::{FailReason, Reason, Role, SchoolNumber, Status, User, parse_session_id};
use crate::error::{Entity, Error, Result};
use crate::identity::Lesson;
use crate::text::{fold, loosely_contains};

/// Shortest reason accepted for a correction after the session ended.
pub const HISTORY_REASON_MIN: usize = 10;
/// Sessions per page of a teacher's history.
pub const HISTORY_PAGE_SIZE: u64 = 20;

/// A past session with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastSession {
    /// The session.
    pub attendance: Attendance,
    /// Students present and failed.
    pub counts: RecordCounts,
}

/// A teacher's past sessions, newest first; `page` counts from 0. Teachers only.
pub async fn past_sessions(
    ctx: &Ctx,
    caller: Option<&Caller>,
    page: u64,
) -> Result<Page<PastSession>> {
    let teacher = Caller::require_teacher(caller)?;
    let sessions = ctx
        .db
        .teacher_attendances(&teacher.school_number, page, HISTORY_PAGE_SIZE)
        .await?;
    let ids: Vec<Uuid> = sessions.items.iter().map(|a| a.id).collect();
    let counts = ctx.db.record_counts(&ids).await?;
    Ok(Page {
        total: sessions.total,
        items: sessions
            .items
            .into_iter()
            .map(|attendance| PastSession {
                counts: counts.get(&attendance.id).copied().unwrap_or_default(),
                attendance,
            })
            .collect(),
    })
}

/// A student's record with the student's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedRecord {
    /// The record.
    pub record: AttendanceRecord,
    /// The student's name (the number when the name is unknown).
    pub full_name: String,
}

/// A past session with its records (deleted ones left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastSessionDetail {
    /// The session.
    pub attendance: Attendance,
    /// Its records, by student number.
    pub records: Vec<NamedRecord>,
    /// The teacher's name (the number when the name is unknown).
    pub teacher_name: String,
}

/// A past session and its records. Its owner, and admins (to read only).
pub async fn past_session(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
) -> Result<PastSessionDetail> {
    let attendance = readable(ctx, caller, session_id).await?;
    let records = ctx.db.session_records(attendance.id).await?;
    let mut numbers: Vec<String> = records.iter().map(|r| r.student_number.clone()).collect();
    numbers.push(attendance.teacher_school_number.clone());
    let names = names_of(ctx, &numbers).await?;
    Ok(PastSessionDetail {
        teacher_name: name_or_number(&names, &attendance.teacher_school_number),
        attendance,
        records: records
            .into_iter()
            .map(|record| NamedRecord {
                full_name: name_or_number(&names, &record.student_number),
                record,
            })
            .collect(),
    })
}

/// Counts a student present in a past session. Its owner only.
pub async fn add_past_student(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
    number: &str,
) -> Result<AttendanceRecord> {
    let number = SchoolNumber::parse(number)?;
    let attendance = owned(ctx, caller, session_id).await?;
    let student = User {
        school_number: number.to_string(),
        full_name: number.to_string(),
        role: Role::Student,
    };
    ctx.db
        .add_record(
            attendance.id,
            &student,
            &attendance.teacher_school_number,
            ctx.clock.now(),
        )
        .await
}

/// Sets a student's status in a past session (present, late, excused or absent), with a reason
/// of at least 10 characters, kept in the audit log with the status before. A student with no
/// record gets one. Its owner only.
pub async fn set_past_status(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
    number: &str,
    status: Status,
    reason: &str,
) -> Result<AttendanceRecord> {
    if !Status::SETTABLE.contains(&status) {
        return Err(Error::invalid("status", crate::error::Problem::Malformed));
    }
    let reason = Reason::parse(reason, HISTORY_REASON_MIN)?;
    let number = SchoolNumber::parse(number)?;
    let attendance = owned(ctx, caller, session_id).await?;
    let names = names_of(ctx, &[number.to_string()]).await?;
    let student = User {
        full_name: name_or_number(&names, number.as_str()),
        school_number: number.to_string(),
        role: Role::Student,
    };
    ctx.db
        .set_record_status(
            attendance.id,
            &student,
            status,
            &reason,
            &attendance.teacher_school_number,
            ctx.clock.now(),
        )
        .await
}

/// Removes a student from a past session, with a reason of at least 10 characters (a soft
/// delete the admin can undo). Its owner only.
pub async fn remove_past_student(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
    number: &str,
    reason: &str,
) -> Result<()> {
    let reason = Reason::parse(reason, HISTORY_REASON_MIN)?;
    let number = SchoolNumber::parse(number)?;
    let attendance = owned(ctx, caller, session_id).await?;
    ctx.db
        .delete_record(
            attendance.id,
            number.as_str(),
            &reason,
            &attendance.teacher_school_number,
            ctx.clock.now(),
        )
        .await
}

/// Deletes a whole past session, with a reason of at least 10 characters (a soft delete the
/// admin can undo). Its owner only.
pub async fn delete_past_session(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
    reason: &str,
) -> Result<()> {
    let reason = Reason::parse(reason, HISTORY_REASON_MIN)?;
    let attendance = owned(ctx, caller, session_id).await?;
    ctx.db
        .delete_attendance(
            attendance.id,
            &reason,
            &attendance.teacher_school_number,
            ctx.clock.now(),
        )
        .await
}

async fn owned(ctx: &Ctx, caller: Option<&Caller>, session_id: &str) -> Result<Attendance> {
    let teacher = Caller::require_teacher(caller)?;
    let attendance = kept(ctx, session_id).await?;
    if attendance.teacher_school_number != teacher.school_number {
        return Err(Error::Forbidden);
    }
    Ok(attendance)
}

/// The session `session_id` if the caller may read it: its owner or an admin.
async fn readable(ctx: &Ctx, caller: Option<&Caller>, session_id: &str) -> Result<Attendance> {
    let caller = Caller::require(caller, |c| c.is_admin || c.role == Role::Teacher)?;
    let attendance = kept(ctx, session_id).await?;
    if !caller.is_admin && attendance.teacher_school_number != caller.school_number {
        return Err(Error::Forbidden);
    }
    Ok(attendance)
}

async fn kept(ctx: &Ctx, session_id: &str) -> Result<Attendance> {
    let id = parse_session_id(session_id)?;
    ctx.db
        .attendance(id)
        .await?
        .ok_or(Error::NotFound(Entity::Session))
}

/// The names of `numbers` that are known, by number.
pub(crate) async fn names_of(ctx: &Ctx, numbers: &[String]) -> Result<HashMap<String, String>> {
    let mut unique: Vec<String> = numbers.to_vec();
    unique.sort();
    unique.dedup();
    Ok(ctx
        .db
        .users_by_numbers(&unique)
        .await?
        .into_iter()
        .map(|u| (u.school_number, u.full_name))
        .collect())
}

pub(crate) fn name_or_number(names: &HashMap<String, String>, number: &str) -> String {
    names
        .get(number)
        .cloned()
        .unwrap_or_else(|| number.to_owned())
}

/// True when the timetable's teacher text names the session's teacher. Titles end in a dot
/// ("Dr. Öğr. Üyesi. AD SOYAD"), so the names after the last dot are compared, either way round.
fn same_teacher(timetable_teachers: &str, teacher_name: &str) -> bool {
    let core = |s: &str| fold(s.rsplit('.').next().unwrap_or(s));
    let (a, b) = (core(timetable_teachers), core(teacher_name));
    !a.is_empty() && !b.is_empty() && (a.contains(&b) || b.contains(&a))
        || loosely_contains(timetable_teachers, teacher_name)
}

/// One past session in a student's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentSession {
    /// The session.
    pub attendance_id: Uuid,
    /// When it started.
    pub start_time: DateTime<Utc>,
    /// The class hours it stands for, if its teacher gave them.
    pub class_hours: Option<u8>,
    /// How the student counts (no record: absent).
    pub status: Status,
    /// Why a check failed, when it did.
    pub fail_reason: Option<FailReason>,
    /// What the teacher wrote: why they set the status, or why they removed the record.
    pub note: Option<String>,
    /// The teacher removed the student's record (it counts absent).
    pub removed: bool,
    /// The student's latest appeal of this record, with the teacher's answer.
    pub appeal: Option<crate::db::Appeal>,
}

/// A student's attendance in one course (one lesson title with one teacher).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonAttendance {
    /// The course.
    pub course_id: Uuid,
    /// Lesson title.
    pub lesson_name: String,
    /// Teacher's name.
    pub teacher_name: String,
    /// Sessions held.
    pub held: u32,
    /// Sessions attended (present or late).
    pub attended: u32,
    /// Its sessions, newest first.
    pub sessions: Vec<StudentSession>,
    /// Where the student stands against the course's absence limit.
    pub standing: Standing,
}

impl LessonAttendance {
    /// Sessions not attended.
    pub fn missed(&self) -> u32 {
        self.held - self.attended
    }

    /// Attendance rate in whole percent (0 with no session held).
    pub fn rate_percent(&self) -> u32 {
        (self.attended * 100 + self.held / 2)
            .checked_div(self.held)
            .unwrap_or(0)
    }
}

/// The caller's own attendance per course: every persisted session of a course the student
/// has a record in, or of a lesson of the student's timetable (same title and teacher), with
/// its status, and the absences against the course's limit. Students only.
pub async fn my_attendance(
    ctx: &Ctx,
    caller: Option<&Caller>,
    timetable: &[Lesson],
) -> Result<Vec<LessonAttendance>> {
    let student = Caller::require_student(caller)?;
    let records = ctx
        .db
        .student_records_with_deleted(&student.school_number)
        .await?;
    let ids: Vec<Uuid> = records.iter().map(|r| r.attendance_id).collect();
    let joined = ctx.db.attendances_by_ids(&ids).await?;
    let joined_lessons: HashSet<(String, String)> = joined
        .iter()
        .map(|a| (a.teacher_school_number.clone(), a.lesson_name.clone()))
        .collect();

    let mut titles: Vec<String> = joined.iter().map(|a| a.lesson_name.clone()).collect();
    titles.extend(timetable.iter().map(|l| l.title.clone()));
    titles.sort();
    titles.dedup();
    let candidates = ctx.db.attendances_of_lessons(&titles).await?;
    let teachers: Vec<String> = candidates
        .iter()
        .map(|a| a.teacher_school_number.clone())
        .collect();
    let names = names_of(ctx, &teachers).await?;
    let in_timetable = |a: &Attendance| {
        let teacher = name_or_number(&names, &a.teacher_school_number);
        timetable.iter().any(|l| {
            fold(&l.title) == fold(&a.lesson_name)
                && (l.teachers.trim().is_empty() || same_teacher(&l.teachers, &teacher))
        })
    };
    let by_session: HashMap<Uuid, &AttendanceRecord> =
        records.iter().map(|r| (r.attendance_id, r)).collect();

    let mut lessons: BTreeMap<(String, String), LessonAttendance> = BTreeMap::new();
    for a in candidates.iter().rev() {
        let key = (a.teacher_school_number.clone(), a.lesson_name.clone());
        if !joined_lessons.contains(&key) && !in_timetable(a) {
            continue;
        }
        let session = match by_session.get(&a.id) {
            Some(r) if r.is_deleted => StudentSession {
                attendance_id: a.id,
                start_time: a.start_time,
                class_hours: class_hours(a),
                status: Status::Absent,
                fail_reason: None,
                note: r.deletion_reason.clone(),
                removed: true,
                appeal: None,
            },
            Some(r) => StudentSession {
                attendance_id: a.id,
                start_time: a.start_time,
                class_hours: class_hours(a),
                status: r.status,
                fail_reason: r.fail_reason,
                note: r.status_reason.clone(),
                removed: false,
                appeal: None,
            },
            None => StudentSession {
                attendance_id: a.id,
                start_time: a.start_time,
                class_hours: class_hours(a),
                status: Status::Absent,
                fail_reason: None,
                note: None,
                removed: false,
                appeal: None,
            },
        };
        let lesson = lessons.entry(key).or_insert_with(|| LessonAttendance {
            course_id: course_id(&a.teacher_school_number, &a.lesson_name),
            lesson_name: a.lesson_name.clone(),
            teacher_name: name_or_number(&names, &a.teacher_school_number),
            held: 0,
            attended: 0,
            sessions: Vec::new(),
            standing: Standing::default(),
        });
        lesson.held += 1;
        if session.status.is_there() {
            lesson.attended += 1;
        }
        lesson.sessions.push(session);
    }
    let mut lessons: Vec<LessonAttendance> = lessons.into_values().collect();
    // Newest first, so the first one found for a session is its latest.
    let appeals = ctx.db.appeals_of_student(&student.school_number).await?;
    for s in lessons.iter_mut().flat_map(|l| l.sessions.iter_mut()) {
        s.appeal = appeals
            .iter()
            .find(|a| a.attendance_id == s.attendance_id)
            .cloned();
    }
    let ids: Vec<Uuid> = lessons.iter().map(|l| l.course_id).collect();
    let settings = settings_by_id(ctx, &ids).await?;
    for l in &mut lessons {
        let course = settings.get(&l.course_id).copied().unwrap_or_default();
        l.standing = Standing::new(
            &course,
            l.sessions.iter().map(|s| (s.status, s.class_hours)),
        );
    }
    lessons.sort_by(|a, b| {
        fold(&a.lesson_name)
            .cmp(&fold(&b.lesson_name))
            .then_with(|| a.teacher_name.cmp(&b.teacher_name))
    });
    Ok(lessons)
}
