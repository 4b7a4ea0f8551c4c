//! What students do: see a session from its join link and check in to it.

use chrono::{DateTime, Utc};

use crate::auth::Caller;
use crate::context::Ctx;
use crate::domain::{
    Evidence, FailReason, LiveRecord, LiveSession, SecurityLevel, parse_session_id,
};
use crate::error::{Error, Result};
use crate::live::existing_session;
use crate::network::{NetworkMatch, network_match};
use crate::passkeys::{self, Proven};

/// A live session as the join page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOverview {
    /// Lesson title.
    pub lesson_name: String,
    /// Teacher's name.
    pub teacher_name: String,
    /// When it closes.
    pub end_time: DateTime<Utc>,
    /// Seconds until it closes (0 once closed).
    pub seconds_left: i64,
    /// How students are checked.
    pub security: SecurityLevel,
    /// How a check-in shows it comes from the student's own device.
    pub device_check: crate::domain::DeviceCheck,
    /// The caller's own record in it, if they checked in.
    pub my_record: Option<LiveRecord>,
    /// The signed receipt of that check-in (see [`crate::receipts`]), once it has an outcome.
    pub receipt: Option<String>,
    /// The re-check running now that asks the caller to confirm, and whether they have.
    pub recheck: Option<(crate::domain::Recheck, bool)>,
}

/// The live session behind a join link. Anyone logged in; `NotFound` for an unknown or
/// persisted session, `InvalidInput` for a malformed id.
pub async fn session_overview(
    ctx: &Ctx,
    caller: Option<&Caller>,
    id: &str,
) -> Result<SessionOverview> {
    let caller = Caller::require_any(caller)?;
    let session = existing_session(ctx.live.as_ref(), parse_session_id(id)?).await?;
    let now = ctx.clock.now();
    let my_record = ctx.live.record(session.id, &caller.school_number).await?;
    // The receipt needs the signing key; a database that cannot be read for it (if this
    // server has not read it yet) costs the receipt, never the page.
    let receipt = match my_record
        .as_ref()
        .and_then(|r| crate::receipts::Receipt::of_check_in(&session, r))
    {
        Some(receipt) => match crate::receipts::sign(ctx, &receipt).await {
            Ok(text) => Some(text),
            Err(error) => {
                ctx.metrics.error(&error);
                tracing::warn!(%error, "no receipt: the signing key is unavailable");
                None
            }
        },
        None => None,
    };
    let recheck = session.open_recheck(now).and_then(|r| {
        let mine = my_record.as_ref()?;
        mine.asked_by(r)
            .then(|| (r.clone(), mine.confirmed.contains(&r.number)))
    });
    Ok(SessionOverview {
        recheck,
        my_record,
        receipt,
        seconds_left: (session.end_time - now).num_seconds().max(0),
        lesson_name: session.lesson_name,
        teacher_name: session.teacher_full_name,
        end_time: session.end_time,
        security: session.security,
        device_check: session.device_check,
    })
}

/// A student's attempt to check in.
#[derive(Debug, Clone, Copy)]
pub struct JoinAttempt<'a> {
    /// The session id from the link.
    pub session_id: &'a str,
    /// The code from the QR link or typed by hand.
    pub code: &'a str,
    /// The student's address (see `network::client_ip`).
    pub client_ip: std::net::IpAddr,
    /// The browser's device id (a long-lived cookie).
    pub device: &'a str,
    /// The selfie, for sessions with a face check; lives only in memory.
    pub selfie: Option<&'a [u8]>,
    /// The portal photo from the login session; lives only in memory.
    pub reference: Option<&'a [u8]>,
    /// The passkey's answer, for sessions that ask for one (`None`: the page ran no script).
    pub passkey: Option<&'a crate::passkeys::Answer<'a>>,
}

/// The record that stands after a check-in: attended, or failed with a reason code the
/// teacher sees (and may accept anyway).
pub type CheckInOutcome = LiveRecord;

/// Checks a student in. Refusals that change nothing come back as `CodeExpired` or
/// `SessionEnded`; checks that fail are recorded (the student may retry while
/// the session is open); the first success stands. Students only.
#[tracing::instrument(skip(ctx, caller, attempt), fields(session = attempt.session_id, ip = %attempt.client_ip))]
pub async fn check_in(
    ctx: &Ctx,
    caller: Option<&Caller>,
    attempt: JoinAttempt<'_>,
) -> Result<CheckInOutcome> {
    let outcome = try_check_in(ctx, caller, attempt).await;
    ctx.metrics.check_in(&outcome);
    outcome
}

async fn try_check_in(
    ctx: &Ctx,
    caller: Option<&Caller>,
    attempt: JoinAttempt<'_>,
) -> Result<CheckInOutcome> {
    let student = Caller::require_student(caller)?;
    let id = parse_session_id(attempt.session_id)?;
    let now = ctx.clock.now();
    limit(
        ctx,
        &format!("join:student:{}", student.school_number),
        ctx.config.join_max_per_student,
        now,
    )
    .await?;
    limit(
        ctx,
        &format!("join:ip:{}", crate::network::limit_key(attempt.client_ip)),
        ctx.config.join_max_per_ip,
        now,
    )
    .await?;

    let session = open_with_code(ctx, id, attempt.code, now).await?;
    if let Some(standing) = ctx.live.record(session.id, &student.school_number).await?
        && standing.stands()
    {
        return confirm_recheck(ctx, &session, student, attempt, standing, now).await;
    }

    let mut evidence = evidence_of(ctx, &session, attempt);
    let proven = match check(ctx, &session, student, attempt, &evidence).await? {
        Ok(proven) => proven,
        Err(failure) => {
            let record = new_record(&session, student, now, Some(failure), None, &evidence);
            return ctx.live.record_check_in(session.id, &record).await;
        }
    };
    if session.security != SecurityLevel::NetworkAndFace {
        let failure = match passkeys::keep(ctx, &session, student, proven, now).await? {
            Ok(device) => {
                evidence.device = device;
                None
            }
            Err(failure) => Some(failure),
        };
        let record = new_record(&session, student, now, failure, None, &evidence);
        return ctx.live.record_check_in(session.id, &record).await;
    }
    face_check(ctx, &session, student, attempt, now, evidence, proven).await
}

/// The session `id` if a student may check in to it now with `code`: `SessionEnded` once
/// closed, `CodeExpired` for a code older than the previous slot.
async fn open_with_code(
    ctx: &Ctx,
    id: uuid::Uuid,
    code: &str,
    now: DateTime<Utc>,
) -> Result<LiveSession> {
    let session = existing_session(ctx.live.as_ref(), id).await?;
    if !session.is_open(now) {
        return Err(Error::SessionEnded);
    }
    if !ctx
        .codes
        .accepts(session.id, session.rotate_code, code, now)
    {
        return Err(Error::CodeExpired);
    }
    Ok(session)
}

/// [`open_with_code`] for a session id sent by a client.
pub(crate) async fn open_session(ctx: &Ctx, session_id: &str, code: &str) -> Result<LiveSession> {
    open_with_code(ctx, parse_session_id(session_id)?, code, ctx.clock.now()).await
}

/// A check-in of a student whose record stands: while a re-check asks them, it confirms that
/// they are still there (the code of this moment, from the classroom network, on their own
/// device); otherwise it changes nothing.
async fn confirm_recheck(
    ctx: &Ctx,
    session: &LiveSession,
    student: &Caller,
    attempt: JoinAttempt<'_>,
    mut standing: LiveRecord,
    now: DateTime<Utc>,
) -> Result<CheckInOutcome> {
    let Some(recheck) = session.open_recheck(now) else {
        return Ok(standing);
    };
    if !standing.asked_by(recheck) || standing.confirmed.contains(&recheck.number) {
        return Ok(standing);
    }
    let evidence = evidence_of(ctx, session, attempt);
    let proven = check(ctx, session, student, attempt, &evidence)
        .await?
        .map_err(Error::RecheckFailed)?;
    passkeys::keep(ctx, session, student, proven, now)
        .await?
        .map_err(Error::RecheckFailed)?;
    standing.confirmed.push(recheck.number);
    ctx.live.put_record(session.id, &standing).await?;
    Ok(standing)
}

fn new_record(
    session: &LiveSession,
    student: &Caller,
    now: DateTime<Utc>,
    failure: Option<FailReason>,
    distance: Option<f32>,
    evidence: &Evidence,
) -> LiveRecord {
    LiveRecord {
        student_number: student.school_number.clone(),
        student_full_name: student.full_name.clone(),
        is_attended: failure.is_none(),
        attendance_time: Some(now),
        fail_reason: failure,
        deletion: None,
        face_distance_milli: distance.map(|d| (d * 1000.0).round().clamp(0.0, 65535.0) as u16),
        late: session.is_late(now),
        marked: None,
        status_reason: None,
        changes: Vec::new(),
        confirmed: Vec::new(),
        evidence: Some(evidence.clone()),
    }
}

/// The selfie against the portal photo. A selfie that is no image, or too large, is refused
/// and records nothing. When every worker is busy the record says "pending" at once and the
/// outcome replaces it when ready (pushed to the teacher's page like any change).
async fn face_check(
    ctx: &Ctx,
    session: &LiveSession,
    student: &Caller,
    attempt: JoinAttempt<'_>,
    now: DateTime<Utc>,
    evidence: Evidence,
    proven: Proven,
) -> Result<CheckInOutcome> {
    let evidence = &evidence;
    let Some(checker) = ctx.face.clone() else {
        let record = new_record(
            session,
            student,
            now,
            Some(FailReason::FaceCheckUnavailable),
            None,
            evidence,
        );
        return ctx.live.record_check_in(session.id, &record).await;
    };
    let Some(selfie) = attempt.selfie.filter(|s| !s.is_empty()) else {
        let missing = FailReason::FaceVerificationRequiredButImageMissing;
        let record = new_record(session, student, now, Some(missing), None, evidence);
        return ctx.live.record_check_in(session.id, &record).await;
    };
    crate::face::decode::check_header(selfie).map_err(selfie_error)?;
    let Some(reference) = attempt.reference.filter(|r| !r.is_empty()) else {
        let missing = FailReason::ReferenceImageNotFound;
        let record = new_record(session, student, now, Some(missing), None, evidence);
        return ctx.live.record_check_in(session.id, &record).await;
    };
    if checker.is_busy() && checker.waiting() >= ctx.config.face_queue {
        // A student's first check takes about a tenth of a second of one worker
        // (docs/PERFORMANCE.md): some eight checks per second each.
        let ahead = checker.waiting() as u64 + 1;
        return Err(Error::FaceCheckBusy {
            retry_after_secs: (ahead / (8 * checker.workers() as u64)).max(1) + 1,
        });
    }
    let (selfie, reference) = (selfie.to_vec(), reference.to_vec());
    // Recorded as pending first, so a sweep that comes while the check runs waits for it.
    let pending = new_record(
        session,
        student,
        now,
        Some(FailReason::FaceCheckPending),
        None,
        evidence,
    );
    let pending = ctx.live.record_check_in(session.id, &pending).await?;
    if pending.stands() {
        return Ok(pending);
    }
    if checker.is_busy() {
        let (ctx, session, student) = (ctx.clone(), session.clone(), student.clone());
        let evidence = evidence.clone();
        // In the queue from now on, before the task first runs.
        let check = checker.compare(reference, selfie);
        tokio::spawn(async move {
            let checked = check.await;
            if let Err(error) =
                finish_pending(&ctx, &session, &student, now, checked, evidence, proven).await
            {
                tracing::warn!(%error, session = %session.id, "a pending face check could not be recorded");
            }
        });
        return Ok(pending);
    }
    let checked = checker.compare(reference, selfie).await;
    if let Ok(crate::face::Checked {
        outcome: crate::face::FaceOutcome::SelfieRejected(problem),
        ..
    }) = checked
    {
        // Not an image after all: the pending mark goes, nothing else is recorded.
        let missing = FailReason::FaceVerificationRequiredButImageMissing;
        let record = new_record(session, student, now, Some(missing), None, evidence);
        ctx.live.record_check_in(session.id, &record).await?;
        return Err(selfie_error(problem));
    }
    let record = face_record(
        ctx,
        session,
        student,
        now,
        checked,
        evidence.clone(),
        proven,
    )
    .await?;
    ctx.live.record_check_in(session.id, &record).await
}

/// The record a face check ends in: the selfie's descriptor is compared with the session's
/// others (one face on two accounts is flagged), and a match keeps the passkey check.
async fn face_record(
    ctx: &Ctx,
    session: &LiveSession,
    student: &Caller,
    at: DateTime<Utc>,
    checked: Result<crate::face::Checked>,
    mut evidence: Evidence,
    proven: Proven,
) -> Result<LiveRecord> {
    let checked = match checked {
        Ok(checked) => checked,
        Err(error) => {
            tracing::warn!(%error, "face check failed");
            let unavailable = Some(FailReason::FaceCheckUnavailable);
            return Ok(new_record(
                session,
                student,
                at,
                unavailable,
                None,
                &evidence,
            ));
        }
    };
    if let Some(descriptor) = &checked.selfie {
        evidence.same_face = same_face(ctx, session, student, descriptor).await?;
    }
    let outcome = checked.outcome;
    let mut failure = outcome.reason();
    if failure.is_none() {
        match passkeys::keep(ctx, session, student, proven, at).await? {
            Ok(device) => evidence.device = device,
            Err(reason) => failure = Some(reason),
        }
    }
    Ok(new_record(
        session,
        student,
        at,
        failure,
        outcome.distance(),
        &evidence,
    ))
}

/// The session's other students whose selfie shows the same face as `descriptor` (closer
/// than the face check's own threshold). The descriptor is kept with the live session for
/// those who come after, and goes with it.
async fn same_face(
    ctx: &Ctx,
    session: &LiveSession,
    student: &Caller,
    descriptor: &[f32],
) -> Result<Vec<String>> {
    let threshold = ctx.face.as_ref().map_or(0.6, |f| f.threshold());
    let others = ctx
        .live
        .add_face(session.id, &student.school_number, descriptor)
        .await?;
    Ok(others
        .into_iter()
        .filter(|(_, theirs)| crate::face::distance(descriptor, theirs) < threshold)
        .map(|(number, _)| number)
        .collect())
}

/// Replaces a pending record with the outcome, unless the session is gone (persisted) or the
/// record changed meanwhile (the teacher accepted or removed the student).
async fn finish_pending(
    ctx: &Ctx,
    session: &LiveSession,
    student: &Caller,
    at: DateTime<Utc>,
    checked: Result<crate::face::Checked>,
    evidence: Evidence,
    proven: Proven,
) -> Result<()> {
    if ctx.live.session(session.id).await?.is_none() {
        return Ok(());
    }
    let standing = ctx.live.record(session.id, &student.school_number).await?;
    let still_pending = standing.as_ref().is_some_and(LiveRecord::is_pending);
    if !still_pending {
        return Ok(());
    }
    let record = match checked {
        Ok(crate::face::Checked {
            outcome: crate::face::FaceOutcome::SelfieRejected(_),
            ..
        }) => new_record(
            session,
            student,
            at,
            Some(FailReason::FaceVerificationRequiredButImageMissing),
            None,
            &evidence,
        ),
        checked => face_record(ctx, session, student, at, checked, evidence, proven).await?,
    };
    // Keeps what the teacher did meanwhile (accepted or removed), atomically.
    ctx.live.record_check_in(session.id, &record).await?;
    Ok(())
}

fn selfie_error(problem: crate::face::decode::DecodeError) -> Error {
    use crate::error::Problem;
    use crate::face::decode::DecodeError;
    let problem = match problem {
        DecodeError::Empty => Problem::Empty,
        DecodeError::TooLarge | DecodeError::TooManyPixels => Problem::TooLong {
            max: crate::face::decode::MAX_UPLOAD_BYTES,
        },
        DecodeError::NotAnImage => Problem::Malformed,
    };
    Error::invalid("selfie", problem)
}

/// What a check-in shows of where it came from; the device is filled in once it is proven.
fn evidence_of(ctx: &Ctx, session: &LiveSession, attempt: JoinAttempt<'_>) -> Evidence {
    let ip = attempt.client_ip;
    let network = session
        .ip_address
        .parse()
        .map_or(NetworkMatch::Outside, |teacher| {
            network_match(teacher, ip, &ctx.config.classroom_networks)
        });
    Evidence {
        network,
        network_checked: session.security != SecurityLevel::None,
        origin: crate::network::limit_key(ip),
        device: passkeys::unproven(session.device_check),
        browser: Some(browser_digest(attempt.device)),
        same_face: Vec::new(),
    }
}

/// A short digest of a device cookie: groups check-ins from one browser without keeping the
/// cookie itself (which would let anyone who read the record pose as that browser).
fn browser_digest(device: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(device.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The session's checks other than the face: the device (its cookie, and the student's
/// passkey when the session asks for one) and the network rule the check-in's `evidence`
/// found. `Ok(Err(reason))` for a failure to record; the passkey check that passed is written
/// down only with a check-in that passes ([`passkeys::keep`]).
async fn check(
    ctx: &Ctx,
    session: &LiveSession,
    student: &Caller,
    attempt: JoinAttempt<'_>,
    evidence: &Evidence,
) -> Result<std::result::Result<Proven, FailReason>> {
    let device_owner = ctx
        .live
        .claim_device(session.id, attempt.device, &student.school_number)
        .await?;
    if device_owner != student.school_number {
        return Ok(Err(FailReason::DeviceAlreadyUsed));
    }
    let proven = match passkeys::verify(ctx, session, student, attempt.passkey).await? {
        Ok(proven) => proven,
        Err(failure) => return Ok(Err(failure)),
    };
    if session.security != SecurityLevel::None && evidence.network == NetworkMatch::Outside {
        return Ok(Err(FailReason::WifiFailed));
    }
    Ok(Ok(proven))
}

/// Whether `caller` may send a selfie (or begin a passkey check) now, asked before the upload
/// is read: a student, within their check-in limit (the check-in itself counts the attempt).
pub async fn may_upload_selfie(ctx: &Ctx, caller: Option<&Caller>) -> Result<()> {
    let student = Caller::require_student(caller)?;
    let now = ctx.clock.now();
    let key = format!("join:student:{}", student.school_number);
    let counter = ctx.live.peek(&key, now).await?;
    if counter.count >= ctx.config.join_max_per_student {
        let secs = (counter.resets_at - now).num_seconds().max(1) as u64;
        return Err(Error::RateLimited {
            retry_after_secs: secs,
        });
    }
    Ok(())
}

async fn limit(ctx: &Ctx, key: &str, max: u64, now: DateTime<Utc>) -> Result<()> {
    let counter = ctx.live.hit(key, JOIN_WINDOW, now).await?;
    if counter.count > max {
        let secs = (counter.resets_at - now).num_seconds().max(1) as u64;
        return Err(Error::RateLimited {
            retry_after_secs: secs,
        });
    }
    Ok(())
}

/// Window of the check-in limits.
const JOIN_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

/// Longest search text accepted.
const MAX_SEARCH: usize = 100;

/// Running sessions whose lesson and teacher names contain the given texts (case and Turkish
/// letters ignored), for a student without the QR code at hand. Anyone logged in.
pub async fn find_sessions(
    ctx: &Ctx,
    caller: Option<&Caller>,
    lesson_name: &str,
    teacher_name: &str,
) -> Result<Vec<LiveSession>> {
    Caller::require_any(caller)?;
    for (field, text) in [("lesson_name", lesson_name), ("teacher_name", teacher_name)] {
        crate::text::refuse_control(field, text, false)?;
        if text.chars().count() > MAX_SEARCH {
            return Err(Error::invalid(
                field,
                crate::error::Problem::TooLong { max: MAX_SEARCH },
            ));
        }
    }
    ctx.live
        .find_active(lesson_name.trim(), teacher_name.trim(), ctx.clock.now())
        .await
}
