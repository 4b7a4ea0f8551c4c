//! What teachers do: today's lessons, starting a timed session, watching it, accepting,
//! removing and adding students, finishing early. Only the owner may see or change a session.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::auth::Caller;
use crate::context::Ctx;
use crate::domain::{
    Deletion, DeviceCheck, DeviceProof, LiveRecord, LiveSession, Reason, Recheck, SchoolNumber,
    SecurityLevel, Status, StatusChange, User, parse_session_id,
};
use crate::error::{Entity, Error, Problem, Result};
use crate::identity::Lesson;
use crate::identity::timetable::{suggested_lesson, todays_lessons};
use crate::live::existing_session;

/// Shortest reason accepted when removing a student from a live session.
pub const LIVE_REASON_MIN: usize = 5;
/// Longest session a teacher can start, in minutes.
pub const MAX_DURATION_MINUTES: u32 = 240;
/// Most class hours one session may stand for (a whole day of labs).
pub const MAX_CLASS_HOURS: u8 = 12;
/// Longest lesson name.
pub const MAX_LESSON_NAME: usize = 200;

/// A lesson title as typed: spaces tidied, 1-200 characters, no control characters.
pub fn lesson_title(input: &str) -> Result<String> {
    crate::text::refuse_control("lesson_name", input, false)?;
    let lesson_name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if lesson_name.is_empty() {
        return Err(Error::invalid("lesson_name", Problem::Empty));
    }
    if lesson_name.chars().count() > MAX_LESSON_NAME {
        return Err(Error::invalid(
            "lesson_name",
            Problem::TooLong {
                max: MAX_LESSON_NAME,
            },
        ));
    }
    Ok(lesson_name)
}

/// Today's lessons of a teacher, by start time, and which of them is suggested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Today {
    /// The lessons on today's date in the configured zone.
    pub lessons: Vec<Lesson>,
    /// Index into `lessons` of the lesson running now or starting within 15 minutes.
    pub suggested: Option<usize>,
    /// When this was worked out.
    pub now: DateTime<Utc>,
}

/// Today's lessons among `timetable` (read from the portal at login). Teachers only.
pub fn todays_lessons_of(
    ctx: &Ctx,
    caller: Option<&Caller>,
    timetable: &[Lesson],
) -> Result<Today> {
    Caller::require_teacher(caller)?;
    let now = ctx.clock.now();
    let lessons = todays_lessons(timetable, now, ctx.config.timezone);
    let suggested =
        suggested_lesson(&lessons, now).and_then(|s| lessons.iter().position(|l| *l == s));
    Ok(Today {
        lessons,
        suggested,
        now,
    })
}

/// What a teacher asks for when starting a session.
#[derive(Debug, Clone)]
pub struct StartSession {
    /// Lesson title.
    pub lesson_name: String,
    /// Minutes the session stays open.
    pub duration_minutes: u32,
    /// How students are checked.
    pub security: SecurityLevel,
    /// Whether the join code rotates every 15 seconds.
    pub rotate_code: bool,
    /// Minutes after the start from which a check-in counts as late (`None`: never late).
    pub late_after_minutes: Option<u32>,
    /// Class hours the session stands for, 1 to [`MAX_CLASS_HOURS`] (`None`: not given).
    pub class_hours: Option<u8>,
    /// How a check-in shows it comes from the student's own device.
    pub device_check: DeviceCheck,
}

/// Starts a session at the teacher's current address. Refused with `ActiveSessionExists` while
/// the teacher has one running. Teachers only.
#[tracing::instrument(skip(ctx, caller), fields(teacher = caller.map(|c| c.school_number.as_str())))]
pub async fn start_session(
    ctx: &Ctx,
    caller: Option<&Caller>,
    request: StartSession,
    teacher_ip: IpAddr,
) -> Result<LiveSession> {
    let teacher = Caller::require_teacher(caller)?;
    let lesson_name = lesson_title(&request.lesson_name)?;
    if !(1..=MAX_DURATION_MINUTES).contains(&request.duration_minutes) {
        return Err(Error::invalid("duration", Problem::Malformed));
    }
    if request
        .late_after_minutes
        .is_some_and(|m| m == 0 || m >= request.duration_minutes)
    {
        return Err(Error::invalid("late_after", Problem::Malformed));
    }
    if request
        .class_hours
        .is_some_and(|h| !(1..=MAX_CLASS_HOURS).contains(&h))
    {
        return Err(Error::invalid("class_hours", Problem::Malformed));
    }
    if request.security == SecurityLevel::NetworkAndFace && ctx.face.is_none() {
        return Err(Error::FaceCheckUnavailable);
    }
    if request.device_check.needs_passkey() && ctx.passkeys.is_none() {
        return Err(Error::PasskeysUnavailable);
    }
    let now = ctx.clock.now();
    let session = LiveSession {
        id: Uuid::new_v4(),
        teacher_school_number: teacher.school_number.clone(),
        teacher_full_name: teacher.full_name.clone(),
        lesson_name,
        ip_address: teacher_ip.to_string(),
        start_time: now,
        end_time: now + Duration::minutes(i64::from(request.duration_minutes)),
        security: request.security,
        rotate_code: request.rotate_code,
        late_after_minutes: request.late_after_minutes,
        class_hours: request.class_hours,
        rechecks: Vec::new(),
        device_check: request.device_check,
    };
    ctx.live.create_session(&session, now).await?;
    Ok(session)
}

/// The teacher's running session, if any. Teachers only.
pub async fn active_session(ctx: &Ctx, caller: Option<&Caller>) -> Result<Option<LiveSession>> {
    let teacher = Caller::require_teacher(caller)?;
    ctx.live
        .active_session_of(&teacher.school_number, ctx.clock.now())
        .await
}

/// A live session with its records, for its owner.
pub async fn live_session(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
) -> Result<(LiveSession, Vec<LiveRecord>)> {
    let session = owned(ctx, caller, session_id).await?;
    let records = ctx.live.records(session.id).await?;
    Ok((session, records))
}

/// A channel told of every change of the session (check-ins, actions, its end), on whatever
/// instance it happens. Its owner only.
pub async fn watch(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
) -> Result<tokio::sync::mpsc::Receiver<()>> {
    let session = owned(ctx, caller, session_id).await?;
    ctx.live.subscribe(session.id).await
}

/// Ends the session now. Its owner only.
pub async fn finish_session(ctx: &Ctx, caller: Option<&Caller>, session_id: &str) -> Result<()> {
    let session = owned(ctx, caller, session_id).await?;
    ctx.live.finish(session.id, ctx.clock.now()).await?;
    crate::notices::tell(ctx, session.id, None).await;
    Ok(())
}

/// Counts a student who failed a check as present after all. Its owner only, while open.
pub async fn accept_student(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
    student: &str,
) -> Result<LiveRecord> {
    let session = open_owned(ctx, caller, session_id).await?;
    let (by, at) = (session.teacher_school_number.clone(), ctx.clock.now());
    change_record(ctx, &session, student, |record| {
        let change = StatusChange {
            from: Some(record.status()),
            to: if record.late {
                Status::Late
            } else {
                Status::Present
            },
            by,
            at,
            // What the teacher overruled stays on record.
            reason: record.fail_reason.map(|r| r.as_str().to_owned()),
        };
        record.is_attended = true;
        record.fail_reason = None;
        record.deletion = None;
        record.marked = None;
        record.status_reason = None;
        record.changes.push(change);
    })
    .await
}

/// Sets a student's status by hand: present, late, excused (with a reason of at least 5
/// characters) or absent (a reason is optional). A student of the class list with no record
/// yet gets one. Every change is kept for the audit log. Its owner only, while open.
pub async fn mark_student(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
    number: &str,
    status: Status,
    reason: &str,
) -> Result<LiveRecord> {
    if !Status::SETTABLE.contains(&status) {
        return Err(Error::invalid("status", Problem::Malformed));
    }
    let reason = if status == Status::Excused || !reason.trim().is_empty() {
        Some(Reason::parse(reason, LIVE_REASON_MIN)?)
    } else {
        None
    };
    let number = SchoolNumber::parse(number)?;
    let session = open_owned(ctx, caller, session_id).await?;
    let now = ctx.clock.now();
    let mut record = match ctx.live.record(session.id, number.as_str()).await? {
        Some(record) => record,
        None => blank_record(ctx, &number).await?,
    };
    let had_record = record.attendance_time.is_some() || !record.changes.is_empty();
    record.changes.push(StatusChange {
        from: had_record.then(|| record.status()),
        to: status,
        by: session.teacher_school_number.clone(),
        at: now,
        reason: reason.as_ref().map(|r| r.as_str().to_owned()),
    });
    record.is_attended = status.is_there();
    record.late = status == Status::Late;
    record.marked = Some(status);
    record.status_reason = reason.map(|r| r.as_str().to_owned());
    record.deletion = None;
    if status.is_there() && record.attendance_time.is_none() {
        record.attendance_time = Some(now);
    }
    ctx.live.put_record(session.id, &record).await?;
    crate::notices::tell(ctx, session.id, Some(number.as_str())).await;
    Ok(record)
}

/// A record for a student who has not checked in: named from the database when known.
async fn blank_record(ctx: &Ctx, number: &SchoolNumber) -> Result<LiveRecord> {
    let known = ctx.db.users_by_numbers(&[number.to_string()]).await?;
    Ok(LiveRecord {
        student_number: number.to_string(),
        student_full_name: known
            .into_iter()
            .next()
            .map(|u| u.full_name)
            .unwrap_or_else(|| number.to_string()),
        is_attended: false,
        attendance_time: None,
        fail_reason: None,
        deletion: None,
        face_distance_milli: None,
        late: false,
        marked: None,
        status_reason: None,
        changes: Vec::new(),
        confirmed: Vec::new(),
        evidence: None,
    })
}

/// Rejects or removes a student, with a reason of at least 5 characters. Kept as a soft
/// delete: the admin can see who, when and why. Its owner only, while open.
pub async fn remove_student(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
    student: &str,
    reason: &str,
) -> Result<LiveRecord> {
    let reason = Reason::parse(reason, LIVE_REASON_MIN)?;
    let session = open_owned(ctx, caller, session_id).await?;
    let deletion = Deletion {
        reason: reason.as_str().to_owned(),
        by: session.teacher_school_number.clone(),
        at: ctx.clock.now(),
    };
    change_record(ctx, &session, student, |record| {
        record.is_attended = false;
        record.deletion = Some(deletion);
    })
    .await
}

/// Reads a student's record, changes it and writes it back; `NotFound` for a student who is
/// not in the session.
async fn change_record(
    ctx: &Ctx,
    session: &LiveSession,
    student: &str,
    change: impl FnOnce(&mut LiveRecord),
) -> Result<LiveRecord> {
    let mut record = ctx
        .live
        .record(session.id, student)
        .await?
        .ok_or(Error::NotFound(Entity::Record))?;
    change(&mut record);
    ctx.live.put_record(session.id, &record).await?;
    crate::notices::tell(ctx, session.id, Some(student)).await;
    Ok(record)
}

/// Adds a student by school number as present (a student without a phone, say). Its owner
/// only, while open. The name comes from the database when the student logged in before.
pub async fn add_student(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
    number: &str,
) -> Result<LiveRecord> {
    mark_student(ctx, caller, session_id, number, Status::Present, "").await
}

/// Everything the live page shows: the session, its records, the code to project now.
#[derive(Debug, Clone)]
pub struct LiveBoard {
    /// The session.
    pub session: LiveSession,
    /// Its records, by student number.
    pub records: Vec<LiveRecord>,
    /// The join code of this moment.
    pub code: String,
    /// When this was read.
    pub now: DateTime<Utc>,
    /// The course's class list (students of its earlier sessions); `None` while the database
    /// cannot be read (the live page goes on without it).
    pub class: Option<std::sync::Arc<Vec<User>>>,
}

impl LiveBoard {
    /// Students counted present (removed ones excluded).
    pub fn attended(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.is_attended && r.deletion.is_none())
            .count()
    }

    /// Students on the class list with no record in this session yet, by school number.
    pub fn missing(&self) -> Vec<&User> {
        let Some(class) = &self.class else {
            return Vec::new();
        };
        class
            .iter()
            .filter(|u| {
                !self
                    .records
                    .iter()
                    .any(|r| r.student_number == u.school_number)
            })
            .collect()
    }

    /// How many students the course has: its class list and anyone new in this session.
    pub fn class_size(&self) -> Option<usize> {
        let class = self.class.as_ref()?;
        let newcomers = self
            .records
            .iter()
            .filter(|r| !class.iter().any(|u| u.school_number == r.student_number))
            .count();
        Some(class.len() + newcomers)
    }

    /// The re-check running now, if any.
    pub fn open_recheck(&self) -> Option<&Recheck> {
        self.session.open_recheck(self.now)
    }

    /// Students a running re-check asks who have not confirmed yet.
    pub fn unconfirmed(&self) -> Vec<&LiveRecord> {
        let Some(r) = self.open_recheck() else {
            return Vec::new();
        };
        self.records
            .iter()
            .filter(|rec| rec.asked_by(r) && !rec.confirmed.contains(&r.number))
            .collect()
    }

    /// Students who missed a re-check that has ended, and whom the teacher has not reviewed
    /// since: "left early".
    pub fn left_early(&self) -> Vec<&LiveRecord> {
        self.records
            .iter()
            .filter(|rec| !rec.missed(&self.session.rechecks, self.now).is_empty())
            .collect()
    }

    /// Places outside the classroom networks (or in a session that checks none) that three or
    /// more students came from: each with the students, by school number. One phone or one
    /// home checking in a whole row is worth a look.
    pub fn shared_origins(&self) -> Vec<Vec<&str>> {
        let mut by_origin: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for r in &self.records {
            let Some(e) = &r.evidence else { continue };
            let vouched = e.network_checked && e.network != crate::network::NetworkMatch::Outside;
            if !vouched && r.deletion.is_none() {
                by_origin
                    .entry(e.origin.as_str())
                    .or_default()
                    .push(r.student_number.as_str());
            }
        }
        by_origin
            .into_values()
            .filter(|students| students.len() >= SHARED_ORIGIN_FLAG)
            .collect()
    }

    /// Groups of students (two or more, by school number) who checked in from one browser:
    /// one phone passed around the row. Only the first of each group can pass; the others
    /// fail, and the teacher sees who tried.
    pub fn shared_browsers(&self) -> Vec<Vec<&str>> {
        let mut by_browser: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for r in &self.records {
            let browser = r.evidence.as_ref().and_then(|e| e.browser.as_deref());
            if let Some(browser) = browser
                && r.deletion.is_none()
            {
                by_browser
                    .entry(browser)
                    .or_default()
                    .push(r.student_number.as_str());
            }
        }
        by_browser
            .into_values()
            .filter(|students| students.len() >= 2)
            .collect()
    }

    /// Students who registered a passkey with their check-in in this session: each one is
    /// the weak moment of the passkey rule, worth a look.
    pub fn new_passkeys(&self) -> Vec<&LiveRecord> {
        self.records
            .iter()
            .filter(|r| {
                r.evidence
                    .as_ref()
                    .is_some_and(|e| matches!(e.device, DeviceProof::NewPasskey { .. }))
            })
            .collect()
    }

    /// Pairs of students whose selfies show the same face (level 3), each pair once, by
    /// school number.
    pub fn same_faces(&self) -> Vec<(&str, &str)> {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for r in &self.records {
            let Some(e) = &r.evidence else { continue };
            for other in &e.same_face {
                let (a, b) = (r.student_number.as_str(), other.as_str());
                let pair = if a < b { (a, b) } else { (b, a) };
                if !pairs.contains(&pair) {
                    pairs.push(pair);
                }
            }
        }
        pairs
    }

    /// Students whose check failed (removed ones excluded).
    pub fn failed(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.status() == Status::Failed && r.deletion.is_none())
            .count()
    }
}

/// Students from one place outside the classroom networks that the live page flags.
pub const SHARED_ORIGIN_FLAG: usize = 3;

/// How long students have to confirm a re-check, unless the session ends first.
pub const RECHECK_SECONDS: i64 = 90;

/// Starts a re-check: for [`RECHECK_SECONDS`] the students counted present so far confirm
/// from their phones, with the code shown then and from the classroom network, that they are
/// still there; those who do not are "left early" for the teacher to review. Refused with
/// `RecheckRunning` while one runs. Its owner only, while open.
pub async fn start_recheck(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
) -> Result<Recheck> {
    let session = open_owned(ctx, caller, session_id).await?;
    let now = ctx.clock.now();
    if session.open_recheck(now).is_some() {
        return Err(Error::RecheckRunning);
    }
    let before = session.rechecks.len();
    let recheck = Recheck {
        number: u16::try_from(before + 1).unwrap_or(u16::MAX),
        started_at: now,
        ends_at: (now + Duration::seconds(RECHECK_SECONDS)).min(session.end_time),
    };
    if !ctx.live.add_recheck(session.id, &recheck, before).await? {
        return Err(Error::RecheckRunning);
    }
    crate::notices::tell(ctx, session.id, None).await;
    Ok(recheck)
}

/// The live page's content, for the session's owner.
pub async fn live_board(ctx: &Ctx, caller: Option<&Caller>, session_id: &str) -> Result<LiveBoard> {
    let (session, records) = live_session(ctx, caller, session_id).await?;
    let now = ctx.clock.now();
    let class = match ctx
        .db
        .class_of_session(
            session.id,
            &session.teacher_school_number,
            &session.lesson_name,
        )
        .await
    {
        Ok(class) => Some(class),
        Err(error) => {
            ctx.metrics.error(&error);
            tracing::warn!(%error, "class list unavailable; the live page goes on without it");
            None
        }
    };
    Ok(LiveBoard {
        code: ctx.codes.current(session.id, session.rotate_code, now),
        session,
        records,
        now,
        class,
    })
}

async fn owned(ctx: &Ctx, caller: Option<&Caller>, session_id: &str) -> Result<LiveSession> {
    let teacher = Caller::require_teacher(caller)?;
    let session = existing_session(ctx.live.as_ref(), parse_session_id(session_id)?).await?;
    if session.teacher_school_number != teacher.school_number {
        return Err(Error::Forbidden);
    }
    Ok(session)
}

/// The caller's own session, still open. Teachers only.
pub(crate) async fn open_owned(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
) -> Result<LiveSession> {
    let session = owned(ctx, caller, session_id).await?;
    if !session.is_open(ctx.clock.now()) {
        return Err(Error::NotFound(Entity::Session));
    }
    Ok(session)
}
