//! After class, on both backends: absences recorded when a session ends, the late cut-off,
//! excused students with a reason, every status change in the audit log, the semester grid with
//! rates and absence-limit warnings, and what a student sees of it.

mod common;

use std::net::IpAddr;

use attn::appeals;
use attn::auth::Caller;
use attn::courses::{self, CourseSettings, GridFilter, GridSort, Risk};
use attn::domain::{
    AppealState, AuditAction, LateCounts, LiveRecord, LiveSession, Role, SecurityLevel, Status,
};
use attn::error::{Entity, Error, Problem};
use attn::history;
use attn::student::{self, JoinAttempt};
use attn::teacher::{self, StartSession};
use attn::{Config, Ctx};
use chrono::Duration;
use common::{TestEnv, attended, monday_morning, session};

attn::on_both_backends!(
    common::env;
    a_finished_session_records_the_class_list_absent,
    check_ins_after_the_cut_off_are_late,
    marking_a_student_needs_a_valid_status_and_reason,
    after_class_status_changes_are_audited,
    the_grid_shows_statuses_rates_and_who_is_at_risk,
    course_settings_are_the_teachers_and_are_checked,
    a_student_sees_absences_left_and_the_teachers_reasons,
    sessions_with_class_hours_count_the_limit_in_hours,
    a_student_appeals_and_the_teacher_answers,
    a_teacher_imports_a_class_list,
    an_admin_reads_the_audit_log_by_teacher_student_course_and_day,
);

const TEACHER_IP: &str = "10.20.30.40";
const LESSON: &str = "Veri Yapıları";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn person(number: &str, name: &str, role: Role, is_admin: bool) -> Caller {
    Caller {
        school_number: number.into(),
        full_name: name.into(),
        role,
        is_admin,
    }
}

fn teacher() -> Caller {
    person(
        "T100",
        "Dr. Öğr. Üyesi T100 İlker Şahin",
        Role::Teacher,
        false,
    )
}

fn other_teacher() -> Caller {
    person("T200", "AYŞE YILMAZ", Role::Teacher, false)
}

fn admin() -> Caller {
    person("A1", "Yönetici Deniz", Role::Teacher, true)
}

/// Student `n`, as `common::attended` numbers and names them.
fn student(n: usize) -> Caller {
    let r = attended(n, monday_morning());
    person(
        &r.student_number,
        &r.student_full_name,
        Role::Student,
        false,
    )
}

fn number(n: usize) -> String {
    student(n).school_number
}

fn ctx(env: &TestEnv) -> Ctx {
    env.ctx(Config {
        classroom_networks: vec!["172.20.0.0/16".parse().unwrap()],
        join_secret: Some("test-secret".into()),
        ..Config::default()
    })
}

fn start(late_after_minutes: Option<u32>) -> StartSession {
    StartSession {
        lesson_name: LESSON.into(),
        duration_minutes: 10,
        security: SecurityLevel::Network,
        rotate_code: true,
        late_after_minutes,
        class_hours: None,
        device_check: Default::default(),
    }
}

async fn join(ctx: &Ctx, who: &Caller, s: &LiveSession) -> attn::Result<LiveRecord> {
    let code = ctx.codes.current(s.id, s.rotate_code, ctx.clock.now());
    let id = s.id.to_string();
    student::check_in(
        ctx,
        Some(who),
        JoinAttempt {
            session_id: &id,
            code: &code,
            client_ip: ip(TEACHER_IP),
            device: &format!("device-{}", who.school_number),
            selfie: None,
            reference: None,
            passkey: None,
        },
    )
    .await
}

/// Finishes `s` and sweeps it into the database.
async fn finish(ctx: &Ctx, env: &TestEnv, s: &LiveSession) {
    teacher::finish_session(ctx, Some(&teacher()), &s.id.to_string())
        .await
        .unwrap();
    env.advance(Duration::minutes(1));
    assert_eq!(ctx.sweeper().sweep_once().await.unwrap().persisted, 1);
}

/// Persists a finished session of T100's course `days` after Monday morning with `records`.
async fn past(env: &TestEnv, days: i64, records: &[LiveRecord]) -> LiveSession {
    let s = session("T100", LESSON, monday_morning() + Duration::days(days), 10);
    let fence = env.db.take_sweep_fence(s.id).await.unwrap();
    assert!(
        env.db
            .persist_live(&s, records, monday_morning(), fence)
            .await
            .unwrap()
    );
    s
}

fn late(n: usize) -> LiveRecord {
    LiveRecord {
        late: true,
        ..attended(n, monday_morning())
    }
}

/// The persisted status of each student of session `s`, by number.
async fn statuses(env: &TestEnv, s: &LiveSession) -> Vec<(String, Status, Option<String>)> {
    env.db
        .session_records(s.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.student_number, r.status, r.status_reason))
        .collect()
}

async fn a_finished_session_records_the_class_list_absent(env: TestEnv) {
    let ctx = ctx(&env);
    // Last week: three students; another teacher's section of the same title has a fourth.
    past(
        &env,
        -7,
        &[
            attended(1, monday_morning()),
            attended(2, monday_morning()),
            attended(3, monday_morning()),
        ],
    )
    .await;
    let other = session("T200", LESSON, monday_morning() - Duration::days(6), 10);
    let fence = env.db.take_sweep_fence(other.id).await.unwrap();
    env.db
        .persist_live(
            &other,
            &[attended(4, monday_morning())],
            monday_morning(),
            fence,
        )
        .await
        .unwrap();

    let today = teacher::start_session(&ctx, Some(&teacher()), start(None), ip(TEACHER_IP))
        .await
        .unwrap();
    join(&ctx, &student(1), &today).await.unwrap();
    let id = today.id.to_string();
    let excused = teacher::mark_student(
        &ctx,
        Some(&teacher()),
        &id,
        &number(2),
        Status::Excused,
        "Doktor raporu var",
    )
    .await
    .unwrap();
    assert_eq!(excused.status(), Status::Excused);
    let board = teacher::live_board(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    let missing: Vec<&str> = board
        .missing()
        .iter()
        .map(|u| u.school_number.as_str())
        .collect();
    assert_eq!(
        missing,
        [number(3)],
        "the excused student is no longer missing"
    );
    assert_eq!(
        board.failed(),
        0,
        "an excused student is not a failed check"
    );
    let live_records = env.live.records(today.id).await.unwrap();
    finish(&ctx, &env, &today).await;

    assert_eq!(
        statuses(&env, &today).await,
        vec![
            (number(1), Status::Present, None),
            (number(2), Status::Excused, Some("Doktor raporu var".into())),
            (number(3), Status::Absent, None),
        ],
        "the other section's student is not on this course's list"
    );
    // A sweeper that crashed after committing persists again: nothing changes, nothing doubles.
    history::set_past_status(
        &ctx,
        Some(&teacher()),
        &id,
        &number(3),
        Status::Present,
        "Geç geldi, elle eklendi",
    )
    .await
    .unwrap();
    let fence = env.db.take_sweep_fence(today.id).await.unwrap();
    assert!(
        env.db
            .persist_live(&today, &live_records, ctx.clock.now(), fence)
            .await
            .unwrap()
    );
    let after = statuses(&env, &today).await;
    assert_eq!(after[2].1, Status::Present, "the correction stands");
    let events = env.db.audit_events(50).await.unwrap();
    let excuses = events
        .iter()
        .filter(|e| e.action == AuditAction::StatusChanged && e.to_status == Some(Status::Excused))
        .count();
    assert_eq!(excuses, 1);
}

async fn check_ins_after_the_cut_off_are_late(env: TestEnv) {
    let ctx = ctx(&env);
    for bad in [Some(0), Some(10), Some(11)] {
        assert!(matches!(
            teacher::start_session(&ctx, Some(&teacher()), start(bad), ip(TEACHER_IP)).await,
            Err(Error::InvalidInput {
                field: "late_after",
                problem: Problem::Malformed
            })
        ));
    }
    assert!(
        teacher::active_session(&ctx, Some(&teacher()))
            .await
            .unwrap()
            .is_none(),
        "a refused start starts nothing"
    );
    let s = teacher::start_session(&ctx, Some(&teacher()), start(Some(5)), ip(TEACHER_IP))
        .await
        .unwrap();
    assert_eq!(
        join(&ctx, &student(1), &s).await.unwrap().status(),
        Status::Present
    );
    env.advance(Duration::seconds(4 * 60 + 59));
    assert_eq!(
        join(&ctx, &student(2), &s).await.unwrap().status(),
        Status::Present
    );
    env.advance(Duration::seconds(1));
    assert_eq!(
        join(&ctx, &student(3), &s).await.unwrap().status(),
        Status::Late
    );
    // A late student whose check failed and whom the teacher accepts is still late.
    let code = ctx.codes.current(s.id, true, ctx.clock.now());
    let id = s.id.to_string();
    let stranger = student::check_in(
        &ctx,
        Some(&student(4)),
        JoinAttempt {
            session_id: &id,
            code: &code,
            client_ip: ip("203.0.113.9"),
            device: "device-4",
            selfie: None,
            reference: None,
            passkey: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(stranger.status(), Status::Failed);
    let accepted = teacher::accept_student(&ctx, Some(&teacher()), &id, &number(4))
        .await
        .unwrap();
    assert_eq!(accepted.status(), Status::Late);
    finish(&ctx, &env, &s).await;
    let saved: Vec<Status> = statuses(&env, &s).await.into_iter().map(|r| r.1).collect();
    assert_eq!(
        saved,
        [Status::Present, Status::Present, Status::Late, Status::Late]
    );
    let persisted = env.db.attendance(s.id).await.unwrap().unwrap();
    assert_eq!(persisted.late_after_minutes, Some(5));
    // The accept is in the audit log with the failure it overruled.
    let events = env.db.audit_events(10).await.unwrap();
    let accept = events
        .iter()
        .find(|e| e.student_number.as_deref() == Some(number(4).as_str()))
        .expect("the accept is audited");
    assert_eq!(
        (
            accept.action,
            accept.from_status,
            accept.to_status,
            accept.reason.as_deref()
        ),
        (
            AuditAction::StatusChanged,
            Some(Status::Failed),
            Some(Status::Late),
            Some("WIFI_FAILED")
        )
    );
    assert_eq!(accept.actor, "T100");
}

async fn marking_a_student_needs_a_valid_status_and_reason(env: TestEnv) {
    let ctx = ctx(&env);
    let s = teacher::start_session(&ctx, Some(&teacher()), start(None), ip(TEACHER_IP))
        .await
        .unwrap();
    let id = s.id.to_string();
    let t = Some(teacher());
    let t = t.as_ref();
    assert!(matches!(
        teacher::mark_student(&ctx, t, &id, &number(2), Status::Excused, "kısa").await,
        Err(Error::InvalidInput {
            field: "reason",
            problem: Problem::TooShort { min: 5 }
        })
    ));
    assert!(matches!(
        teacher::mark_student(&ctx, t, &id, &number(2), Status::Excused, "").await,
        Err(Error::InvalidInput {
            field: "reason",
            problem: Problem::Empty
        })
    ));
    assert!(matches!(
        teacher::mark_student(&ctx, t, &id, &number(2), Status::Failed, "Bir sebep var").await,
        Err(Error::InvalidInput {
            field: "status",
            ..
        })
    ));
    assert!(matches!(
        teacher::mark_student(&ctx, t, &id, "12; DROP", Status::Absent, "").await,
        Err(Error::InvalidInput {
            field: "school_number",
            ..
        })
    ));
    assert!(matches!(
        teacher::mark_student(
            &ctx,
            Some(&other_teacher()),
            &id,
            &number(2),
            Status::Excused,
            "Doktor raporu var"
        )
        .await,
        Err(Error::Forbidden)
    ));
    assert!(
        env.live.records(s.id).await.unwrap().is_empty(),
        "refused marks record nothing"
    );
    // An absent mark needs no reason; the teacher's word stands when the student then scans.
    let absent = teacher::mark_student(&ctx, t, &id, &number(2), Status::Absent, "")
        .await
        .unwrap();
    assert_eq!(
        (absent.status(), absent.is_attended),
        (Status::Absent, false)
    );
    let scanned = join(&ctx, &student(2), &s).await.unwrap();
    assert_eq!(scanned.status(), Status::Absent);
    let present = teacher::mark_student(&ctx, t, &id, &number(2), Status::Present, "")
        .await
        .unwrap();
    assert!(present.is_attended);
    assert_eq!(
        present
            .changes
            .iter()
            .map(|c| (c.from, c.to))
            .collect::<Vec<_>>(),
        [
            (None, Status::Absent),
            (Some(Status::Absent), Status::Present)
        ]
    );
    // Once ended, nothing can be marked live.
    teacher::finish_session(&ctx, t, &id).await.unwrap();
    assert!(matches!(
        teacher::mark_student(&ctx, t, &id, &number(3), Status::Absent, "").await,
        Err(Error::NotFound(Entity::Session))
    ));
}

async fn after_class_status_changes_are_audited(env: TestEnv) {
    let ctx = ctx(&env);
    past(
        &env,
        -7,
        &[attended(1, monday_morning()), attended(2, monday_morning())],
    )
    .await;
    let s = past(&env, 0, &[attended(1, monday_morning())]).await;
    let id = s.id.to_string();
    assert_eq!(statuses(&env, &s).await[1].1, Status::Absent);
    assert!(matches!(
        history::set_past_status(
            &ctx,
            Some(&teacher()),
            &id,
            &number(2),
            Status::Excused,
            "rapor"
        )
        .await,
        Err(Error::InvalidInput {
            field: "reason",
            problem: Problem::TooShort { min: 10 }
        })
    ));
    assert!(matches!(
        history::set_past_status(
            &ctx,
            Some(&other_teacher()),
            &id,
            &number(2),
            Status::Excused,
            "Sağlık raporu getirdi"
        )
        .await,
        Err(Error::Forbidden)
    ));
    assert_eq!(
        statuses(&env, &s).await[1].1,
        Status::Absent,
        "refusals change nothing"
    );
    let record = history::set_past_status(
        &ctx,
        Some(&teacher()),
        &id,
        &number(2),
        Status::Excused,
        "Sağlık raporu getirdi",
    )
    .await
    .unwrap();
    assert_eq!(
        (record.status, record.is_attended),
        (Status::Excused, false)
    );
    env.advance(Duration::minutes(1));
    history::set_past_status(
        &ctx,
        Some(&teacher()),
        &id,
        &number(1),
        Status::Late,
        "Derse yirmi dakika geç girdi",
    )
    .await
    .unwrap();
    assert_eq!(
        statuses(&env, &s).await,
        vec![
            (
                number(1),
                Status::Late,
                Some("Derse yirmi dakika geç girdi".into())
            ),
            (
                number(2),
                Status::Excused,
                Some("Sağlık raporu getirdi".into())
            ),
        ]
    );
    let events = env.db.audit_events(10).await.unwrap();
    let changes: Vec<_> = events
        .iter()
        .filter(|e| e.action == AuditAction::StatusChanged)
        .map(|e| {
            (
                e.student_number.clone().unwrap(),
                e.from_status,
                e.to_status,
                e.actor.as_str(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (number(1), Some(Status::Present), Some(Status::Late), "T100"),
            (
                number(2),
                Some(Status::Absent),
                Some(Status::Excused),
                "T100"
            ),
        ],
        "newest first, each with the status before"
    );
}

/// Ten planned sessions at 30%: three absences allowed. Five sessions held: student 1 always
/// there, 2 absent three times (one more is too many), 3 absent four times (over), 4 late twice
/// (half an absence each), 5 excused twice and absent once.
async fn course_with_five_sessions(env: &TestEnv) -> Vec<LiveSession> {
    let at = monday_morning();
    let everyone: Vec<LiveRecord> = (1..=5).map(|n| attended(n, at)).collect();
    let mut sessions = vec![past(env, 0, &everyone).await];
    for week in 1..=4 {
        let mut here = vec![attended(1, at)];
        if week == 4 {
            here.push(attended(2, at));
        }
        if week <= 2 {
            here.push(late(4));
        } else {
            here.push(attended(4, at));
        }
        if week <= 2 {
            here.push(LiveRecord {
                is_attended: false,
                marked: Some(Status::Excused),
                status_reason: Some("Raporlu".into()),
                ..attended(5, at)
            });
        }
        if week == 4 {
            here.push(attended(5, at));
        }
        sessions.push(past(env, 7 * week, &here).await);
    }
    sessions
}

async fn set_limits(ctx: &Ctx, course: &str, late_counts: LateCounts) {
    courses::set_course_settings(
        ctx,
        Some(&teacher()),
        course,
        CourseSettings {
            absence_limit_percent: 30,
            planned_sessions: 10,
            late_counts,
        },
    )
    .await
    .unwrap();
}

async fn the_grid_shows_statuses_rates_and_who_is_at_risk(env: TestEnv) {
    let ctx = ctx(&env);
    let sessions = course_with_five_sessions(&env).await;
    let list = courses::courses(&ctx, Some(&teacher())).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].lesson_name.as_str(), list[0].sessions),
        (LESSON, 5)
    );
    let course = list[0].id.to_string();
    set_limits(&ctx, &course, LateCounts::Half).await;

    let grid = courses::course_grid(
        &ctx,
        Some(&teacher()),
        &course,
        &GridFilter {
            sort: GridSort::Number,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(grid.sessions.len(), 5);
    assert_eq!((grid.class_size, grid.rows.len()), (5, 5));
    let letters: Vec<String> = grid
        .rows
        .iter()
        .map(|r| {
            r.cells
                .iter()
                .map(|c| c.map_or('-', Status::letter))
                .collect()
        })
        .collect();
    assert_eq!(letters, ["PPPPP", "PAAAP", "PAAAA", "PLLPP", "PEEAP"]);
    let summary: Vec<(u32, String, u32, Risk)> = grid
        .rows
        .iter()
        .map(|r| {
            (
                r.standing.rate_percent(),
                r.standing.absences_text(),
                r.standing.absences_left(),
                r.standing.risk(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (100, "0".into(), 3, Risk::Fine),
            (40, "3".into(), 0, Risk::OneMore),
            (20, "4".into(), 0, Risk::Over),
            (100, "1".into(), 2, Risk::Fine),
            (67, "1".into(), 2, Risk::Fine),
        ]
    );
    assert_eq!(grid.present_per_session, [5, 2, 2, 2, 4]);

    // At risk only, most absences first.
    let risky = courses::course_grid(
        &ctx,
        Some(&teacher()),
        &course,
        &GridFilter {
            at_risk_only: true,
            sort: GridSort::Absences,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let numbers: Vec<&str> = risky
        .rows
        .iter()
        .map(|r| r.student.school_number.as_str())
        .collect();
    assert_eq!(numbers, [number(3), number(2)]);
    // Late counted as absent instead of half: student 4 has two absences.
    set_limits(&ctx, &course, LateCounts::Absent).await;
    let strict = courses::course_grid(
        &ctx,
        Some(&teacher()),
        &course,
        &GridFilter {
            sort: GridSort::Number,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(strict.rows[3].standing.absences_text(), "2");
    // A date range keeps the sessions in it.
    let day = |s: &LiveSession| {
        s.start_time
            .with_timezone(&ctx.config.timezone)
            .date_naive()
    };
    let ranged = courses::course_grid(
        &ctx,
        Some(&teacher()),
        &course,
        &GridFilter {
            from: Some(day(&sessions[1])),
            to: Some(day(&sessions[2])),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        ranged.sessions.iter().map(|a| a.id).collect::<Vec<_>>(),
        [sessions[1].id, sessions[2].id]
    );

    // Another teacher cannot see it; an admin can; a bad id is refused.
    assert!(matches!(
        courses::course_grid(
            &ctx,
            Some(&other_teacher()),
            &course,
            &GridFilter::default()
        )
        .await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        courses::course_grid(&ctx, Some(&student(1)), &course, &GridFilter::default()).await,
        Err(Error::Forbidden)
    ));
    assert_eq!(
        courses::course_grid(&ctx, Some(&admin()), &course, &GridFilter::default())
            .await
            .unwrap()
            .rows
            .len(),
        5
    );
    assert!(matches!(
        courses::course_grid(
            &ctx,
            Some(&teacher()),
            "not-a-course",
            &GridFilter::default()
        )
        .await,
        Err(Error::InvalidInput {
            field: "course",
            ..
        })
    ));
}

async fn course_settings_are_the_teachers_and_are_checked(env: TestEnv) {
    let ctx = ctx(&env);
    past(&env, 0, &[attended(1, monday_morning())]).await;
    let course = courses::courses(&ctx, Some(&teacher())).await.unwrap()[0]
        .id
        .to_string();
    let grid = courses::course_grid(&ctx, Some(&teacher()), &course, &GridFilter::default())
        .await
        .unwrap();
    assert_eq!(grid.settings, CourseSettings::default());
    assert_eq!((grid.settings.absence_limit_percent, grid.allowed), (30, 4));
    let stricter = CourseSettings {
        absence_limit_percent: 20,
        planned_sessions: 14,
        late_counts: LateCounts::Present,
    };
    for bad in [
        CourseSettings {
            absence_limit_percent: 101,
            ..stricter
        },
        CourseSettings {
            planned_sessions: 0,
            ..stricter
        },
    ] {
        assert!(matches!(
            courses::set_course_settings(&ctx, Some(&teacher()), &course, bad).await,
            Err(Error::InvalidInput { .. })
        ));
    }
    assert!(
        courses::set_course_settings(&ctx, Some(&admin()), &course, stricter)
            .await
            .is_err()
    );
    assert!(matches!(
        courses::set_course_settings(&ctx, Some(&other_teacher()), &course, stricter).await,
        Err(Error::Forbidden)
    ));
    let unknown = courses::course_id("T100", "Fizik").to_string();
    assert!(matches!(
        courses::course_grid(&ctx, Some(&teacher()), &unknown, &GridFilter::default()).await,
        Err(Error::NotFound(Entity::Course))
    ));
    let unchanged = courses::course_grid(&ctx, Some(&teacher()), &course, &GridFilter::default())
        .await
        .unwrap();
    assert_eq!(
        unchanged.settings,
        CourseSettings::default(),
        "refusals change nothing"
    );
    courses::set_course_settings(&ctx, Some(&teacher()), &course, stricter)
        .await
        .unwrap();
    let changed = courses::course_grid(&ctx, Some(&teacher()), &course, &GridFilter::default())
        .await
        .unwrap();
    assert_eq!((changed.settings, changed.allowed), (stricter, 2));
}

async fn a_student_sees_absences_left_and_the_teachers_reasons(env: TestEnv) {
    let ctx = ctx(&env);
    let sessions = course_with_five_sessions(&env).await;
    let course = courses::courses(&ctx, Some(&teacher())).await.unwrap()[0]
        .id
        .to_string();
    set_limits(&ctx, &course, LateCounts::Half).await;
    // The teacher removes student 1 from the last session after class, with a reason.
    history::remove_past_student(
        &ctx,
        Some(&teacher()),
        &sessions[4].id.to_string(),
        &number(1),
        "Arkadaşı yerine okuttu",
    )
    .await
    .unwrap();

    let mine = history::my_attendance(&ctx, Some(&student(1)), &[])
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    let lesson = &mine[0];
    assert_eq!(lesson.course_id.to_string(), course);
    assert_eq!(
        (
            lesson.held,
            lesson.attended,
            lesson.standing.absences_left()
        ),
        (5, 4, 2)
    );
    let newest = &lesson.sessions[0];
    assert!(newest.removed);
    assert_eq!(newest.status, Status::Absent);
    assert_eq!(newest.note.as_deref(), Some("Arkadaşı yerine okuttu"));

    let over = &history::my_attendance(&ctx, Some(&student(3)), &[])
        .await
        .unwrap()[0];
    assert_eq!(
        (over.standing.absences_text(), over.standing.risk()),
        ("4".into(), Risk::Over)
    );
    let close = &history::my_attendance(&ctx, Some(&student(2)), &[])
        .await
        .unwrap()[0];
    assert_eq!(close.standing.risk(), Risk::OneMore);
    let excused = &history::my_attendance(&ctx, Some(&student(5)), &[])
        .await
        .unwrap()[0];
    assert_eq!(excused.sessions[3].note.as_deref(), Some("Raporlu"));
    assert_eq!(excused.standing.excused, 2);
}

async fn sessions_with_class_hours_count_the_limit_in_hours(env: TestEnv) {
    let ctx = ctx(&env);
    // The teacher gives the class hours when starting; out of range is refused, nothing made.
    for bad in [0, 13] {
        let refused = teacher::start_session(
            &ctx,
            Some(&teacher()),
            StartSession {
                class_hours: Some(bad),
                ..start(None)
            },
            ip(TEACHER_IP),
        )
        .await;
        assert!(
            matches!(
                refused,
                Err(Error::InvalidInput {
                    field: "class_hours",
                    ..
                })
            ),
            "{bad}: {refused:?}"
        );
    }
    assert!(
        teacher::active_session(&ctx, Some(&teacher()))
            .await
            .unwrap()
            .is_none()
    );
    let live = teacher::start_session(
        &ctx,
        Some(&teacher()),
        StartSession {
            class_hours: Some(3),
            ..start(None)
        },
        ip(TEACHER_IP),
    )
    .await
    .unwrap();
    join(&ctx, &student(1), &live).await.unwrap();
    finish(&ctx, &env, &live).await;
    let kept = env.db.attendance(live.id).await.unwrap().unwrap();
    assert_eq!(kept.class_hours, Some(3));

    // Three more: two of three hours, then a one-hour review. Who came to which:
    let at = monday_morning();
    let weeks: [(u8, &[usize]); 3] = [(3, &[1, 2, 4]), (3, &[1, 2, 3, 4]), (1, &[1, 3, 5])];
    for (week, (hours, here)) in weeks.iter().enumerate() {
        let mut s = session(
            "T100",
            LESSON,
            at + Duration::days(7 * (week as i64 + 1)),
            10,
        );
        s.class_hours = Some(*hours);
        let records: Vec<LiveRecord> = here.iter().map(|n| attended(*n, at)).collect();
        let fence = env.db.take_sweep_fence(s.id).await.unwrap();
        assert!(env.db.persist_live(&s, &records, at, fence).await.unwrap());
    }
    // Ten hours held in four sessions: the 30% limit of ten planned sessions is taken at 2.5
    // hours a session, 7 hours; missing one more session costs about 3.
    let course = courses::courses(&ctx, Some(&teacher())).await.unwrap()[0]
        .id
        .to_string();
    set_limits(&ctx, &course, LateCounts::Present).await;
    let grid = courses::course_grid(&ctx, Some(&teacher()), &course, &GridFilter::default())
        .await
        .unwrap();
    assert!(grid.by_hours);
    assert_eq!(grid.allowed, 7);
    let row = |n: usize| {
        let r = grid
            .rows
            .iter()
            .find(|r| r.student.school_number == number(n))
            .unwrap();
        (
            r.standing.absences_text(),
            r.standing.rate_percent(),
            r.standing.risk(),
        )
    };
    // Student 1 came to every hour; 2 missed the first and the review (4 hours); 3 missed the
    // first two sessions (6 hours: one more is too many), though by sessions 2 of 4 would be
    // fine; 5 missed three sessions, 9 hours, over the limit.
    assert_eq!(row(1), ("0".into(), 100, Risk::Fine));
    assert_eq!(row(2), ("4".into(), 60, Risk::Fine));
    assert_eq!(row(3), ("6".into(), 40, Risk::OneMore));
    assert_eq!(row(5), ("9".into(), 10, Risk::Over));
    // The student's page counts the same hours.
    let mine = &history::my_attendance(&ctx, Some(&student(3)), &[])
        .await
        .unwrap()[0];
    assert!(mine.standing.by_hours);
    assert_eq!(
        (
            mine.standing.absences_text(),
            mine.standing.allowed,
            mine.standing.absences_left(),
            mine.standing.risk()
        ),
        ("6".into(), 7, 1, Risk::OneMore)
    );
    assert_eq!((mine.held, mine.attended), (4, 2), "sessions, as before");
}

async fn a_student_appeals_and_the_teacher_answers(env: TestEnv) {
    let ctx = ctx(&env);
    past(
        &env,
        -7,
        &[attended(1, monday_morning()), attended(2, monday_morning())],
    )
    .await;
    let s = past(&env, 0, &[attended(1, monday_morning())]).await;
    let id = s.id.to_string();
    let me = student(2);
    assert!(matches!(
        appeals::appeal(&ctx, Some(&me), &id, "Geldim", None).await,
        Err(Error::InvalidInput {
            field: "reason",
            problem: Problem::TooShort { min: 10 }
        })
    ));
    assert!(matches!(
        appeals::appeal(
            &ctx,
            Some(&teacher()),
            &id,
            "Derse geldim, kart okumadı",
            None
        )
        .await,
        Err(Error::Forbidden)
    ));
    assert!(
        matches!(
            appeals::appeal(&ctx, Some(&student(1)), &id, "Neden burada yazıyor?", None).await,
            Err(Error::NotFound(Entity::Record)),
        ),
        "a present record has nothing to contest"
    );
    assert!(matches!(
        appeals::appeal(&ctx, Some(&me), "nope", "Derse geldim, kart okumadı", None).await,
        Err(Error::InvalidInput {
            field: "session_id",
            ..
        })
    ));
    let first = appeals::appeal(&ctx, Some(&me), &id, "Derse geldim, kart okumadı", None)
        .await
        .unwrap();
    assert_eq!(first.state, AppealState::Open);
    assert!(matches!(
        appeals::appeal(&ctx, Some(&me), &id, "Yine yazıyorum, geldim", None).await,
        Err(Error::AppealOpen)
    ));
    let course = courses::course_id("T100", LESSON).to_string();
    let listed = appeals::course_appeals(&ctx, Some(&teacher()), &course)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].status, listed[0].student_name.as_str()),
        (Some(Status::Absent), "Öğrenci Ayşe Güler 2")
    );
    assert!(matches!(
        appeals::course_appeals(&ctx, Some(&other_teacher()), &course).await,
        Err(Error::Forbidden)
    ));

    // Refused answers change nothing.
    let appeal_id = first.id.to_string();
    assert!(matches!(
        appeals::answer_appeal(
            &ctx,
            Some(&other_teacher()),
            &appeal_id,
            None,
            "Derste görülmedi"
        )
        .await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        appeals::answer_appeal(&ctx, Some(&teacher()), &appeal_id, None, "Hayır").await,
        Err(Error::InvalidInput {
            field: "reason",
            problem: Problem::TooShort { min: 10 }
        })
    ));
    assert!(matches!(
        appeals::answer_appeal(&ctx, Some(&teacher()), &appeal_id, Some(Status::Absent), "").await,
        Err(Error::InvalidInput {
            field: "status",
            ..
        })
    ));
    assert!(matches!(
        appeals::answer_appeal(&ctx, Some(&teacher()), "bad-id", None, "Derste görülmedi").await,
        Err(Error::InvalidInput {
            field: "appeal_id",
            ..
        })
    ));
    assert_eq!(
        env.db.appeal(first.id).await.unwrap().unwrap().state,
        AppealState::Open
    );

    // Rejected with a reason; the student sees it and may appeal again.
    appeals::answer_appeal(
        &ctx,
        Some(&teacher()),
        &appeal_id,
        None,
        "Yoklama listesinde yoktunuz",
    )
    .await
    .unwrap();
    assert!(
        matches!(
            appeals::answer_appeal(
                &ctx,
                Some(&teacher()),
                &appeal_id,
                Some(Status::Present),
                ""
            )
            .await,
            Err(Error::NotFound(Entity::Appeal))
        ),
        "an answered appeal cannot be answered again"
    );
    let mine = history::my_attendance(&ctx, Some(&me), &[]).await.unwrap();
    let answered = mine[0].sessions[0].appeal.clone().unwrap();
    assert_eq!(
        (answered.state, answered.answer.as_deref()),
        (AppealState::Rejected, Some("Yoklama listesinde yoktunuz"))
    );
    assert_eq!(mine[0].sessions[0].status, Status::Absent);

    env.advance(Duration::minutes(5));
    let second = appeals::appeal(&ctx, Some(&me), &id, "Doktor raporumu getirdim", None)
        .await
        .unwrap();
    env.advance(Duration::minutes(5));
    appeals::answer_appeal(
        &ctx,
        Some(&teacher()),
        &second.id.to_string(),
        Some(Status::Excused),
        "",
    )
    .await
    .unwrap();
    let mine = history::my_attendance(&ctx, Some(&me), &[]).await.unwrap();
    let newest = &mine[0].sessions[0];
    assert_eq!(newest.status, Status::Excused);
    assert_eq!(
        newest.appeal.as_ref().map(|a| a.state),
        Some(AppealState::Accepted)
    );
    assert_eq!(newest.note.as_deref(), Some("Doktor raporumu getirdim"));
    // The change is in the audit log, with the student's text as the reason.
    let events = env.db.audit_events(5).await.unwrap();
    assert_eq!(
        (
            events[0].action,
            events[0].from_status,
            events[0].to_status,
            events[0].reason.as_deref()
        ),
        (
            AuditAction::StatusChanged,
            Some(Status::Absent),
            Some(Status::Excused),
            Some("Doktor raporumu getirdim")
        )
    );
    let listed = appeals::course_appeals(&ctx, Some(&teacher()), &course)
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|a| a.appeal.state).collect::<Vec<_>>(),
        [AppealState::Accepted, AppealState::Rejected]
    );
}

async fn a_teacher_imports_a_class_list(env: TestEnv) {
    let ctx = ctx(&env);
    let t = Some(teacher());
    let t = t.as_ref();
    // A student who logged in before keeps the name the portal gave.
    env.db
        .upsert_users(
            &[attn::domain::User {
                school_number: number(2),
                full_name: "Portaldaki Ad".into(),
                role: Role::Student,
            }],
            monday_morning(),
        )
        .await
        .unwrap();
    let file = format!(
        "Okul No;Ad;Soyad\n{};Şükrü;Öztürk\n{};Ayşe;Yılmaz\n{};Zeynep;Ünlü\n",
        number(1),
        number(2),
        number(3)
    );
    let done = courses::import_class_list(&ctx, t, " Fizik ", file.as_bytes())
        .await
        .unwrap();
    assert_eq!((done.listed, done.added), (3, 3));
    let again = courses::import_class_list(&ctx, t, "Fizik", file.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        (again.listed, again.added),
        (3, 0),
        "the same file again adds nothing"
    );
    // A bad row refuses the whole file: its good rows are not added either.
    let bad = format!("{};Yeni Öğrenci\n12 34;Bozuk\n", number(4));
    assert!(matches!(
        courses::import_class_list(&ctx, t, "Fizik", bad.as_bytes()).await,
        Err(Error::ImportRow {
            row: 2,
            field: "school_number",
            ..
        })
    ));
    assert!(matches!(
        courses::import_class_list(&ctx, Some(&student(1)), "Fizik", file.as_bytes()).await,
        Err(Error::Forbidden)
    ));
    let list = courses::courses(&ctx, t).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (
            list[0].lesson_name.as_str(),
            list[0].sessions,
            list[0].class_size,
            list[0].id
        ),
        ("Fizik", 0, 3, done.course_id)
    );
    let names: Vec<String> = env
        .db
        .users_by_numbers(&[number(1), number(2)])
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.full_name)
        .collect();
    assert_eq!(names, ["Şükrü Öztürk", "Portaldaki Ad"]);

    // The first session of the course: everyone listed is expected, the absent are recorded.
    let s = teacher::start_session(
        &ctx,
        t,
        StartSession {
            lesson_name: "Fizik".into(),
            ..start(None)
        },
        ip(TEACHER_IP),
    )
    .await
    .unwrap();
    join(&ctx, &student(1), &s).await.unwrap();
    let board = teacher::live_board(&ctx, t, &s.id.to_string())
        .await
        .unwrap();
    assert_eq!(board.class_size(), Some(3));
    assert_eq!(board.missing().len(), 2);
    // The live page keeps its class list a while between reads; one put on it now shows at
    // once, and goes on the session's record as absent.
    let course = done.course_id.to_string();
    assert!(
        courses::add_listed_student(&ctx, t, &course, &number(6))
            .await
            .unwrap()
    );
    let board = teacher::live_board(&ctx, t, &s.id.to_string())
        .await
        .unwrap();
    assert_eq!(board.class_size(), Some(4));
    assert_eq!(board.missing().len(), 3);
    finish(&ctx, &env, &s).await;
    let saved: Vec<Status> = statuses(&env, &s).await.into_iter().map(|r| r.1).collect();
    assert_eq!(
        saved,
        [
            Status::Present,
            Status::Absent,
            Status::Absent,
            Status::Absent
        ]
    );

    // One more by number; the grid lists all five, the newcomer without a record yet.
    assert!(
        courses::add_listed_student(&ctx, t, &course, &number(7))
            .await
            .unwrap()
    );
    assert!(
        !courses::add_listed_student(&ctx, t, &course, &number(7))
            .await
            .unwrap()
    );
    assert!(matches!(
        courses::add_listed_student(&ctx, Some(&other_teacher()), &course, &number(8)).await,
        Err(Error::Forbidden)
    ));
    let grid = courses::course_grid(
        &ctx,
        t,
        &course,
        &GridFilter {
            sort: GridSort::Number,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(grid.rows.len(), 5);
    assert_eq!(grid.rows[4].cells, [None]);
}

async fn an_admin_reads_the_audit_log_by_teacher_student_course_and_day(env: TestEnv) {
    use attn::admin::{AuditQuery, audit_log};
    let ctx = ctx(&env);
    let veri = past(
        &env,
        0,
        &[attended(1, monday_morning()), attended(2, monday_morning())],
    )
    .await;
    let fizik = session("T200", "Fizik", monday_morning() + Duration::days(1), 10);
    let fence = env.db.take_sweep_fence(fizik.id).await.unwrap();
    env.db
        .persist_live(
            &fizik,
            &[attended(3, monday_morning())],
            monday_morning(),
            fence,
        )
        .await
        .unwrap();
    history::set_past_status(
        &ctx,
        Some(&teacher()),
        &veri.id.to_string(),
        &number(2),
        Status::Late,
        "Derse yirmi dakika geç girdi",
    )
    .await
    .unwrap();
    env.advance(Duration::days(2));
    history::set_past_status(
        &ctx,
        Some(&other_teacher()),
        &fizik.id.to_string(),
        &number(3),
        Status::Excused,
        "Sağlık raporu getirdi",
    )
    .await
    .unwrap();
    let n2 = number(2);
    assert_eq!(
        logged(&ctx, AuditQuery::default()).await,
        [
            (number(3), "Fizik".to_owned()),
            (number(2), LESSON.to_owned())
        ],
        "newest first"
    );
    let only = |teacher, student, lesson| AuditQuery {
        teacher,
        student,
        lesson,
        ..Default::default()
    };
    assert_eq!(
        logged(&ctx, only("T200", "", "")).await,
        [(number(3), "Fizik".to_owned())]
    );
    assert_eq!(
        logged(&ctx, only("", &n2, "")).await,
        [(number(2), LESSON.to_owned())]
    );
    assert_eq!(
        logged(&ctx, only("", "", "VERİ")).await,
        [(number(2), LESSON.to_owned())]
    );
    assert!(logged(&ctx, only("T200", "", "veri")).await.is_empty());
    let monday = monday_morning()
        .with_timezone(&ctx.config.timezone)
        .date_naive();
    assert_eq!(
        logged(
            &ctx,
            AuditQuery {
                from: Some(monday),
                to: Some(monday),
                ..Default::default()
            }
        )
        .await,
        [(number(2), LESSON.to_owned())]
    );
    let entry = &audit_log(&ctx, Some(&admin()), AuditQuery::default())
        .await
        .unwrap()[0];
    assert_eq!(
        (
            entry.actor_name.as_str(),
            entry.teacher_name.as_str(),
            entry.event.to_status
        ),
        (
            "Dr. Öğr. Üyesi T200 İlker Şahin",
            "Dr. Öğr. Üyesi T200 İlker Şahin",
            Some(Status::Excused)
        )
    );
    assert!(matches!(
        audit_log(&ctx, Some(&teacher()), AuditQuery::default()).await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        audit_log(
            &ctx,
            Some(&admin()),
            AuditQuery {
                student: "12 34",
                ..Default::default()
            }
        )
        .await,
        Err(Error::InvalidInput {
            field: "student",
            ..
        })
    ));
}

/// The student and the course of each audit event `query` lists, newest first.
async fn logged(ctx: &Ctx, query: attn::admin::AuditQuery<'_>) -> Vec<(String, String)> {
    attn::admin::audit_log(ctx, Some(&admin()), query)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event.student_number.unwrap_or_default(), e.lesson_name))
        .collect()
}
