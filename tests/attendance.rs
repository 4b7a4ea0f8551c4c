//! The attendance rules on both backends: one active session per teacher, owners only, reasons,
//! the rotating code's window, the network rule (IPv4, IPv6, configured networks), one device
//! per student, retries, limits, and the teacher's live actions through to the database.

mod common;

use std::net::IpAddr;

use attn::auth::Caller;
use attn::domain::FailReason;
use attn::domain::{Role, SecurityLevel};
use attn::error::{Entity, Error, Problem};
use attn::student::{self, JoinAttempt};
use attn::teacher::{self, StartSession};
use attn::{Config, Ctx};
use chrono::Duration;
use common::TestEnv;

attn::on_both_backends!(
    common::env;
    a_teacher_runs_one_session_at_a_time,
    only_the_owner_sees_or_changes_a_session,
    malformed_ids_and_bad_input_change_nothing,
    the_code_of_the_current_or_previous_slot_is_accepted,
    a_fixed_code_lasts_when_rotation_is_off,
    students_on_the_classroom_network_attend_others_fail_with_a_reason,
    one_browser_checks_in_one_student,
    a_failed_student_may_retry_and_the_first_success_stands,
    an_ended_session_refuses_and_records_nothing,
    check_ins_are_limited_per_student,
    the_teachers_live_actions_reach_the_database,
    the_live_board_shows_who_of_the_class_is_not_here_yet,
);

const TEACHER_IP: &str = "10.20.30.40";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn person(number: &str, name: &str, role: Role) -> Caller {
    Caller {
        school_number: number.into(),
        full_name: name.into(),
        role,
        is_admin: false,
    }
}

fn teacher_a() -> Caller {
    person("T100", "İLKER ŞAHİN", Role::Teacher)
}

fn teacher_b() -> Caller {
    person("T200", "AYŞE YILMAZ", Role::Teacher)
}

fn student_n(n: u32) -> Caller {
    person(
        &format!("13062000{n:02}"),
        &format!("Öğrenci {n}"),
        Role::Student,
    )
}

fn ctx(env: &TestEnv) -> Ctx {
    env.ctx(Config {
        classroom_networks: vec!["172.20.0.0/16".parse().unwrap()],
        join_secret: Some("test-secret".into()),
        ..Config::default()
    })
}

fn start(security: SecurityLevel, rotate: bool) -> StartSession {
    StartSession {
        lesson_name: "  Veri   Yapıları ".into(),
        duration_minutes: 10,
        security,
        rotate_code: rotate,
        late_after_minutes: None,
        class_hours: None,
        device_check: Default::default(),
    }
}

async fn running(ctx: &Ctx, security: SecurityLevel) -> attn::domain::LiveSession {
    teacher::start_session(
        ctx,
        Some(&teacher_a()),
        start(security, true),
        ip(TEACHER_IP),
    )
    .await
    .unwrap()
}

/// A check-in with the code shown now, from `from`, with device `device`.
async fn join(
    ctx: &Ctx,
    student: &Caller,
    session: &attn::domain::LiveSession,
    from: &str,
    device: &str,
) -> attn::Result<attn::domain::LiveRecord> {
    let code = ctx
        .codes
        .current(session.id, session.rotate_code, ctx.clock.now());
    join_with(ctx, student, session, &code, from, device).await
}

async fn join_with(
    ctx: &Ctx,
    student: &Caller,
    session: &attn::domain::LiveSession,
    code: &str,
    from: &str,
    device: &str,
) -> attn::Result<attn::domain::LiveRecord> {
    let id = session.id.to_string();
    student::check_in(
        ctx,
        Some(student),
        JoinAttempt {
            session_id: &id,
            code,
            client_ip: ip(from),
            device,
            selfie: None,
            reference: None,
            passkey: None,
        },
    )
    .await
}

async fn a_teacher_runs_one_session_at_a_time(env: TestEnv) {
    let ctx = ctx(&env);
    let first = running(&ctx, SecurityLevel::Network).await;
    assert_eq!(first.lesson_name, "Veri Yapıları", "spaces are tidied");
    assert_eq!(first.end_time - first.start_time, Duration::minutes(10));
    match teacher::start_session(
        &ctx,
        Some(&teacher_a()),
        start(SecurityLevel::None, true),
        ip(TEACHER_IP),
    )
    .await
    {
        Err(Error::ActiveSessionExists(id)) => assert_eq!(id, first.id),
        other => panic!("expected ActiveSessionExists, got {other:?}"),
    }
    let active = teacher::active_session(&ctx, Some(&teacher_a()))
        .await
        .unwrap();
    assert_eq!(active.map(|s| s.id), Some(first.id));
    // Another teacher may start theirs.
    teacher::start_session(
        &ctx,
        Some(&teacher_b()),
        start(SecurityLevel::None, true),
        ip(TEACHER_IP),
    )
    .await
    .unwrap();
    // After finishing, the next one may start.
    teacher::finish_session(&ctx, Some(&teacher_a()), &first.id.to_string())
        .await
        .unwrap();
    teacher::start_session(
        &ctx,
        Some(&teacher_a()),
        start(SecurityLevel::None, true),
        ip(TEACHER_IP),
    )
    .await
    .unwrap();
}

async fn only_the_owner_sees_or_changes_a_session(env: TestEnv) {
    let ctx = ctx(&env);
    let s = running(&ctx, SecurityLevel::None).await;
    join(&ctx, &student_n(1), &s, "10.20.30.41", "d1")
        .await
        .unwrap();
    let id = s.id.to_string();
    let other = Some(teacher_b());
    let other = other.as_ref();
    assert!(matches!(
        teacher::live_session(&ctx, other, &id).await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        teacher::finish_session(&ctx, other, &id).await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        teacher::remove_student(&ctx, other, &id, "1306200001", "başka hoca").await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        teacher::add_student(&ctx, other, &id, "1306200009").await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        teacher::accept_student(&ctx, other, &id, "1306200001").await,
        Err(Error::Forbidden)
    ));
    // Students and strangers.
    let student = student_n(2);
    assert!(matches!(
        teacher::live_session(&ctx, Some(&student), &id).await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        teacher::start_session(
            &ctx,
            Some(&student),
            start(SecurityLevel::None, true),
            ip(TEACHER_IP)
        )
        .await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        teacher::live_session(&ctx, None, &id).await,
        Err(Error::Unauthenticated)
    ));
    assert!(matches!(
        join(&ctx, &teacher_a(), &s, TEACHER_IP, "d9").await,
        Err(Error::Forbidden)
    ));
    // Nothing changed.
    let (still, records) = teacher::live_session(&ctx, Some(&teacher_a()), &id)
        .await
        .unwrap();
    assert!(still.is_open(ctx.clock.now()));
    assert_eq!(records.len(), 1);
    assert!(records[0].is_attended);
}

async fn malformed_ids_and_bad_input_change_nothing(env: TestEnv) {
    let ctx = ctx(&env);
    let s = running(&ctx, SecurityLevel::None).await;
    let t = Some(teacher_a());
    let t = t.as_ref();
    for bad in ["", "abc", "1; DROP TABLE attendances", "../../etc/passwd"] {
        assert!(matches!(
            teacher::live_session(&ctx, t, bad).await,
            Err(Error::InvalidInput {
                field: "session_id",
                ..
            })
        ));
    }
    assert!(matches!(
        teacher::live_session(&ctx, t, &uuid::Uuid::new_v4().to_string()).await,
        Err(Error::NotFound(Entity::Session))
    ));
    let id = s.id.to_string();
    join(&ctx, &student_n(1), &s, TEACHER_IP, "d1")
        .await
        .unwrap();
    assert!(matches!(
        teacher::remove_student(&ctx, t, &id, "1306200001", " kısa ").await,
        Err(Error::InvalidInput {
            field: "reason",
            problem: Problem::TooShort { min: 5 }
        })
    ));
    assert!(matches!(
        teacher::add_student(&ctx, t, &id, "<script>").await,
        Err(Error::InvalidInput {
            field: "school_number",
            ..
        })
    ));
    assert!(matches!(
        teacher::accept_student(&ctx, t, &id, "1306209999").await,
        Err(Error::NotFound(Entity::Record))
    ));
    let mut long = start(SecurityLevel::None, true);
    long.duration_minutes = 0;
    assert!(matches!(
        teacher::start_session(&ctx, Some(&teacher_b()), long, ip(TEACHER_IP)).await,
        Err(Error::InvalidInput {
            field: "duration",
            ..
        })
    ));
    let mut empty = start(SecurityLevel::None, true);
    empty.lesson_name = "   ".into();
    assert!(matches!(
        teacher::start_session(&ctx, Some(&teacher_b()), empty, ip(TEACHER_IP)).await,
        Err(Error::InvalidInput {
            field: "lesson_name",
            ..
        })
    ));
    let (_, records) = teacher::live_session(&ctx, t, &id).await.unwrap();
    assert_eq!(records.len(), 1);
    assert!(records[0].is_attended && records[0].deletion.is_none());
}

async fn the_code_of_the_current_or_previous_slot_is_accepted(env: TestEnv) {
    let ctx = ctx(&env);
    let s = running(&ctx, SecurityLevel::None).await;
    let shown = ctx.codes.current(s.id, true, ctx.clock.now());
    env.advance(Duration::seconds(31));
    let expired = join_with(&ctx, &student_n(1), &s, &shown, TEACHER_IP, "d1").await;
    match expired {
        Err(Error::CodeExpired) => {}
        other => panic!("expected CODE_EXPIRED, got {other:?}"),
    }
    assert!(
        env.live.records(s.id).await.unwrap().is_empty(),
        "a refused code records nothing"
    );
    // The code shown one slot ago still works.
    let previous = ctx
        .codes
        .current(s.id, true, ctx.clock.now() - Duration::seconds(15));
    let record = join_with(&ctx, &student_n(1), &s, &previous, TEACHER_IP, "d1")
        .await
        .unwrap();
    assert!(record.is_attended);
    let wrong = join_with(&ctx, &student_n(2), &s, "000000x", TEACHER_IP, "d2").await;
    assert!(matches!(wrong, Err(Error::CodeExpired)));
}

async fn a_fixed_code_lasts_when_rotation_is_off(env: TestEnv) {
    let ctx = ctx(&env);
    let s = teacher::start_session(
        &ctx,
        Some(&teacher_a()),
        start(SecurityLevel::None, false),
        ip(TEACHER_IP),
    )
    .await
    .unwrap();
    let shown = ctx.codes.current(s.id, false, ctx.clock.now());
    env.advance(Duration::minutes(5));
    let record = join_with(&ctx, &student_n(1), &s, &shown, TEACHER_IP, "d1")
        .await
        .unwrap();
    assert!(record.is_attended);
}

async fn students_on_the_classroom_network_attend_others_fail_with_a_reason(env: TestEnv) {
    let ctx = ctx(&env);
    let s = running(&ctx, SecurityLevel::Network).await;
    let cases = [
        (1, "10.20.30.40", true),  // the teacher's own address
        (2, "10.20.30.199", true), // same /24
        (3, "172.20.5.6", true),   // a configured classroom network
        (4, "10.20.31.7", false),  // next /24
        (5, "203.0.113.5", false), // mobile data
        (6, "2001:db8::5", false), // IPv6 against an IPv4 teacher
    ];
    for (n, from, attends) in cases {
        let record = join(&ctx, &student_n(n), &s, from, &format!("dev{n}"))
            .await
            .unwrap();
        assert_eq!(record.is_attended, attends, "{from}");
        let expected = (!attends).then_some(FailReason::WifiFailed);
        assert_eq!(record.fail_reason, expected, "{from}");
    }
    // IPv6 classrooms: the teacher's /64.
    let v6 = teacher::start_session(
        &ctx,
        Some(&teacher_b()),
        start(SecurityLevel::Network, true),
        ip("2001:db8:aa:bb::1"),
    )
    .await
    .unwrap();
    assert!(
        join(&ctx, &student_n(7), &v6, "2001:db8:aa:bb:1234::9", "dev7")
            .await
            .unwrap()
            .is_attended
    );
    assert!(
        !join(&ctx, &student_n(8), &v6, "2001:db8:aa:bc::9", "dev8")
            .await
            .unwrap()
            .is_attended
    );
    // Level 1 checks nothing but the code.
    let open = teacher::start_session(
        &ctx,
        Some(&person("T300", "Üçüncü Hoca", Role::Teacher)),
        start(SecurityLevel::None, true),
        ip(TEACHER_IP),
    )
    .await
    .unwrap();
    assert!(
        join(&ctx, &student_n(9), &open, "203.0.113.5", "dev9")
            .await
            .unwrap()
            .is_attended
    );
}

async fn one_browser_checks_in_one_student(env: TestEnv) {
    let ctx = ctx(&env);
    let s = running(&ctx, SecurityLevel::Network).await;
    assert!(
        join(&ctx, &student_n(1), &s, TEACHER_IP, "shared-phone")
            .await
            .unwrap()
            .is_attended
    );
    let second = join(&ctx, &student_n(2), &s, TEACHER_IP, "shared-phone")
        .await
        .unwrap();
    assert!(!second.is_attended);
    assert_eq!(second.fail_reason, Some(FailReason::DeviceAlreadyUsed));
    // The first student may come back on the same phone.
    assert!(
        join(&ctx, &student_n(1), &s, TEACHER_IP, "shared-phone")
            .await
            .unwrap()
            .is_attended
    );
}

async fn a_failed_student_may_retry_and_the_first_success_stands(env: TestEnv) {
    let ctx = ctx(&env);
    let s = running(&ctx, SecurityLevel::Network).await;
    let me = student_n(1);
    let failed = join(&ctx, &me, &s, "203.0.113.5", "d1").await.unwrap();
    assert_eq!(failed.fail_reason, Some(FailReason::WifiFailed));
    env.advance(Duration::seconds(40));
    let ok = join(&ctx, &me, &s, TEACHER_IP, "d1").await.unwrap();
    assert!(ok.is_attended);
    env.advance(Duration::seconds(40));
    let again = join(&ctx, &me, &s, "203.0.113.5", "d1").await.unwrap();
    assert_eq!(
        again, ok,
        "joining twice is harmless: the first success stands"
    );
    assert_eq!(env.live.records(s.id).await.unwrap(), vec![ok]);
}

async fn an_ended_session_refuses_and_records_nothing(env: TestEnv) {
    let ctx = ctx(&env);
    let s = running(&ctx, SecurityLevel::None).await;
    let code = ctx.codes.current(s.id, true, ctx.clock.now());
    teacher::finish_session(&ctx, Some(&teacher_a()), &s.id.to_string())
        .await
        .unwrap();
    match join_with(&ctx, &student_n(1), &s, &code, TEACHER_IP, "d1").await {
        Err(Error::SessionEnded) => {}
        other => panic!("expected SESSION_ENDED, got {other:?}"),
    }
    assert!(env.live.records(s.id).await.unwrap().is_empty());
    assert!(matches!(
        teacher::add_student(&ctx, Some(&teacher_a()), &s.id.to_string(), "1306200005").await,
        Err(Error::NotFound(Entity::Session))
    ));
}

async fn check_ins_are_limited_per_student(env: TestEnv) {
    let ctx = ctx(&env);
    let s = running(&ctx, SecurityLevel::Network).await;
    let me = student_n(1);
    for _ in 0..20 {
        join(&ctx, &me, &s, "203.0.113.5", "d1").await.unwrap();
    }
    assert!(matches!(
        join(&ctx, &me, &s, TEACHER_IP, "d1").await,
        Err(Error::RateLimited { .. })
    ));
    // Others are not held up.
    assert!(
        join(&ctx, &student_n(2), &s, TEACHER_IP, "d2")
            .await
            .unwrap()
            .is_attended
    );
    env.advance(Duration::seconds(61));
    assert!(
        join(&ctx, &me, &s, TEACHER_IP, "d1")
            .await
            .unwrap()
            .is_attended
    );
}

async fn the_teachers_live_actions_reach_the_database(env: TestEnv) {
    let ctx = ctx(&env);
    env.db
        .upsert_users(
            &[attn::domain::User {
                school_number: "1306200077".into(),
                full_name: "Zeynep Ünlü".into(),
                role: Role::Student,
            }],
            ctx.clock.now(),
        )
        .await
        .unwrap();
    let s = running(&ctx, SecurityLevel::Network).await;
    let id = s.id.to_string();
    let t = Some(teacher_a());
    let t = t.as_ref();
    join(&ctx, &student_n(1), &s, TEACHER_IP, "d1")
        .await
        .unwrap();
    join(&ctx, &student_n(2), &s, "203.0.113.5", "d2")
        .await
        .unwrap();
    join(&ctx, &student_n(3), &s, TEACHER_IP, "d3")
        .await
        .unwrap();

    let accepted = teacher::accept_student(&ctx, t, &id, "1306200002")
        .await
        .unwrap();
    assert!(accepted.is_attended && accepted.fail_reason.is_none());
    let removed = teacher::remove_student(&ctx, t, &id, "1306200003", "Arkadaşı için okuttu")
        .await
        .unwrap();
    assert_eq!(
        removed.deletion.as_ref().map(|d| d.reason.as_str()),
        Some("Arkadaşı için okuttu")
    );
    // A removed student cannot check back in.
    assert!(
        !join(&ctx, &student_n(3), &s, TEACHER_IP, "d3")
            .await
            .unwrap()
            .is_attended
    );
    let added = teacher::add_student(&ctx, t, &id, " 1306200077 ")
        .await
        .unwrap();
    assert_eq!(
        added.student_full_name, "Zeynep Ünlü",
        "the name the database knows"
    );
    let stranger = teacher::add_student(&ctx, t, &id, "1306200088")
        .await
        .unwrap();
    assert_eq!(stranger.student_full_name, "1306200088");

    teacher::finish_session(&ctx, t, &id).await.unwrap();
    let sweeper = attn::sweep::Sweeper::new(
        env.db.clone(),
        env.live.clone(),
        env.clock.clone(),
        std::time::Duration::from_secs(60),
    );
    assert_eq!(sweeper.sweep_once().await.unwrap().persisted, 1);
    let saved = env.db.session_records(s.id).await.unwrap();
    let numbers: Vec<_> = saved.iter().map(|r| r.student_number.as_str()).collect();
    assert_eq!(
        numbers,
        vec!["1306200001", "1306200002", "1306200077", "1306200088"]
    );
    assert!(saved.iter().all(|r| r.is_attended));
    let deleted = env
        .db
        .deleted_records(&attn::db::DeletedFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].student_number, "1306200003");
    assert_eq!(deleted[0].deleted_by.as_deref(), Some("T100"));
}

/// Runs a session of `teacher` that `students` check in to, finishes it and sweeps it.
async fn held(ctx: &Ctx, env: &TestEnv, teacher: &Caller, students: &[u32]) {
    let s = teacher::start_session(
        ctx,
        Some(teacher),
        start(SecurityLevel::Network, true),
        ip(TEACHER_IP),
    )
    .await
    .unwrap();
    for n in students {
        join(ctx, &student_n(*n), &s, TEACHER_IP, &format!("d{n}"))
            .await
            .unwrap();
    }
    teacher::finish_session(ctx, Some(teacher), &s.id.to_string())
        .await
        .unwrap();
    env.advance(Duration::minutes(1));
    assert_eq!(ctx.sweeper().sweep_once().await.unwrap().persisted, 1);
}

async fn the_live_board_shows_who_of_the_class_is_not_here_yet(env: TestEnv) {
    let ctx = ctx(&env);
    // Last week's lesson of this course, and another teacher's section of the same title.
    held(&ctx, &env, &teacher_a(), &[1, 2, 3, 4]).await;
    held(&ctx, &env, &teacher_b(), &[9]).await;
    // Today: one of the class is in, and someone new.
    let today = running(&ctx, SecurityLevel::Network).await;
    for n in [1, 5] {
        join(&ctx, &student_n(n), &today, TEACHER_IP, &format!("d{n}"))
            .await
            .unwrap();
    }
    let id = today.id.to_string();
    let board = teacher::live_board(&ctx, Some(&teacher_a()), &id)
        .await
        .unwrap();
    let missing: Vec<&str> = board
        .missing()
        .iter()
        .map(|u| u.school_number.as_str())
        .collect();
    assert_eq!(missing, ["1306200002", "1306200003", "1306200004"]);
    assert_eq!(board.missing()[0].full_name, "Öğrenci 2");
    assert_eq!((board.attended(), board.class_size()), (2, Some(5)));
    // With the database away the live page goes on, without the class list.
    let mut away = ctx.clone();
    away.db = env.unreachable_db().await;
    let board = teacher::live_board(&away, Some(&teacher_a()), &id)
        .await
        .unwrap();
    assert_eq!((board.records.len(), board.class_size()), (2, None));
    assert!(board.missing().is_empty());
}
