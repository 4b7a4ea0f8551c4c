//! Evidence the teacher can trust. Re-checks during a session: the teacher asks, the students
//! counted present confirm within the window with the code of that moment from the classroom
//! network, the others are "left early" for the teacher to review, and what happened is kept
//! when the session is persisted. Each check-in keeps the network rule it met, and the live
//! board flags students who came from one place outside the classroom networks.

mod common;

use std::net::IpAddr;

use attn::auth::Caller;
use attn::domain::{Role, SecurityLevel, Status};
use attn::error::{Entity, Error};
use attn::student::{self, JoinAttempt};
use attn::teacher::{self, RECHECK_SECONDS, StartSession};
use attn::{Config, Ctx};
use chrono::Duration;
use common::TestEnv;

attn::on_both_backends!(
    common::env;
    a_recheck_and_the_teachers_changes_are_pushed_to_the_join_pages,
    one_browser_for_several_students_is_flagged,
    students_who_do_not_confirm_a_recheck_are_left_early_for_the_teacher,
    a_recheck_asks_only_who_was_counted_before_it_and_one_runs_at_a_time,
    each_check_in_keeps_how_it_was_checked_and_one_place_for_many_is_flagged,
);

const TEACHER_IP: &str = "10.20.30.40";

fn person(number: &str, role: Role) -> Caller {
    Caller {
        school_number: number.into(),
        full_name: format!("Kişi {number} Çelik"),
        role,
        is_admin: false,
    }
}

fn teacher() -> Caller {
    person("T100", Role::Teacher)
}

fn student(n: u32) -> Caller {
    person(&format!("13062{n:05}"), Role::Student)
}

fn ctx(env: &TestEnv) -> Ctx {
    env.ctx(Config {
        join_secret: Some("test-secret".into()),
        ..Config::default()
    })
}

async fn start(ctx: &Ctx) -> attn::domain::LiveSession {
    start_at(ctx, SecurityLevel::Network).await
}

async fn start_at(ctx: &Ctx, security: SecurityLevel) -> attn::domain::LiveSession {
    teacher::start_session(
        ctx,
        Some(&teacher()),
        StartSession {
            lesson_name: "Veri Yapıları".into(),
            duration_minutes: 30,
            security,
            rotate_code: true,
            late_after_minutes: None,
            class_hours: None,
            device_check: Default::default(),
        },
        TEACHER_IP.parse().unwrap(),
    )
    .await
    .unwrap()
}

/// Scans the code of this moment from `from`, as a check-in (or a re-check's confirmation).
async fn scan(
    ctx: &Ctx,
    who: &Caller,
    s: &attn::domain::LiveSession,
    from: &str,
) -> attn::Result<attn::domain::LiveRecord> {
    let code = ctx.codes.current(s.id, s.rotate_code, ctx.clock.now());
    let id = s.id.to_string();
    let from: IpAddr = from.parse().unwrap();
    student::check_in(
        ctx,
        Some(who),
        JoinAttempt {
            session_id: &id,
            code: &code,
            client_ip: from,
            device: &format!("device-{}", who.school_number),
            selfie: None,
            reference: None,
            passkey: None,
        },
    )
    .await
}

fn numbers(records: &[&attn::domain::LiveRecord]) -> Vec<String> {
    records.iter().map(|r| r.student_number.clone()).collect()
}

async fn students_who_do_not_confirm_a_recheck_are_left_early_for_the_teacher(env: TestEnv) {
    let ctx = ctx(&env);
    let s = start(&ctx).await;
    let id = s.id.to_string();
    for n in 1..=4 {
        scan(&ctx, &student(n), &s, "10.20.30.77").await.unwrap();
    }
    env.advance(Duration::minutes(20));
    let r = teacher::start_recheck(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    assert_eq!(r.number, 1);
    assert_eq!(r.ends_at - r.started_at, Duration::seconds(RECHECK_SECONDS));
    let board = teacher::live_board(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    assert_eq!(board.unconfirmed().len(), 4);
    // The students see the request on their join page.
    let asked = student::session_overview(&ctx, Some(&student(1)), &id)
        .await
        .unwrap()
        .recheck;
    assert_eq!(
        asked.map(|(r, confirmed)| (r.number, confirmed)),
        Some((1, false))
    );

    // Two confirm; one tries from outside the classroom and is told so, changing nothing.
    env.advance(Duration::seconds(20));
    for n in [1, 2] {
        let confirmed = scan(&ctx, &student(n), &s, "10.20.30.77").await.unwrap();
        assert_eq!(confirmed.confirmed, [1]);
    }
    assert!(matches!(
        scan(&ctx, &student(3), &s, "203.0.113.9").await,
        Err(Error::RecheckFailed(attn::domain::FailReason::WifiFailed))
    ));
    let again = scan(&ctx, &student(1), &s, "10.20.30.77").await.unwrap();
    assert_eq!(again.confirmed, [1], "confirming twice counts once");
    let board = teacher::live_board(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    assert_eq!(
        numbers(&board.unconfirmed()),
        [student(3).school_number, student(4).school_number]
    );
    assert!(board.left_early().is_empty(), "not before the window ends");

    // The window ends: 3 and 4 left early. The teacher marks 3 absent; 4 is not reviewed.
    env.advance(Duration::seconds(RECHECK_SECONDS));
    let board = teacher::live_board(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    assert!(board.open_recheck().is_none());
    assert_eq!(
        numbers(&board.left_early()),
        [student(3).school_number, student(4).school_number]
    );
    assert!(
        matches!(
            scan(&ctx, &student(4), &s, "10.20.30.77").await,
            Ok(r) if r.confirmed.is_empty()
        ),
        "too late to confirm"
    );
    teacher::mark_student(
        &ctx,
        Some(&teacher()),
        &id,
        &student(3).school_number,
        Status::Absent,
        "Yeniden yoklamada yoktu",
    )
    .await
    .unwrap();
    let board = teacher::live_board(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    assert_eq!(numbers(&board.left_early()), [student(4).school_number]);

    // Persisted: the re-check's time, who missed it, the teacher's decision in the audit log.
    teacher::finish_session(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    env.advance(Duration::minutes(1));
    assert_eq!(ctx.sweeper().sweep_once().await.unwrap().persisted, 1);
    let kept = env.db.attendance(s.id).await.unwrap().unwrap();
    let rechecks: Vec<attn::domain::Recheck> =
        serde_json::from_str(kept.rechecks.as_deref().unwrap()).unwrap();
    assert_eq!(rechecks, [r]);
    let records = env.db.session_records(s.id).await.unwrap();
    let of = |n: u32| {
        records
            .iter()
            .find(|r| r.student_number == student(n).school_number)
            .map(|r| (r.status, r.rechecks_missed))
            .unwrap()
    };
    assert_eq!(of(1), (Status::Present, None));
    assert_eq!(of(3), (Status::Absent, None), "reviewed by the teacher");
    assert_eq!(
        of(4),
        (Status::Present, Some(1)),
        "left early, not reviewed"
    );
    let events = env.db.audit_events(10).await.unwrap();
    assert!(
        events.iter().any(|e| e.student_number.as_deref()
            == Some(student(3).school_number.as_str())
            && e.to_status == Some(Status::Absent)),
        "{events:?}"
    );
}

async fn a_recheck_asks_only_who_was_counted_before_it_and_one_runs_at_a_time(env: TestEnv) {
    let ctx = ctx(&env);
    let s = start(&ctx).await;
    let id = s.id.to_string();
    scan(&ctx, &student(1), &s, "10.20.30.77").await.unwrap();
    // A failed check is not asked.
    assert!(
        !scan(&ctx, &student(2), &s, "203.0.113.9")
            .await
            .unwrap()
            .is_attended
    );
    env.advance(Duration::minutes(5));
    teacher::start_recheck(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    assert!(matches!(
        teacher::start_recheck(&ctx, Some(&teacher()), &id).await,
        Err(Error::RecheckRunning)
    ));
    // Someone who checks in during the re-check was just seen: not asked.
    env.advance(Duration::seconds(10));
    let late_comer = scan(&ctx, &student(3), &s, "10.20.30.77").await.unwrap();
    assert!(late_comer.is_attended && late_comer.confirmed.is_empty());
    let board = teacher::live_board(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    assert_eq!(numbers(&board.unconfirmed()), [student(1).school_number]);
    assert!(
        student::session_overview(&ctx, Some(&student(3)), &id)
            .await
            .unwrap()
            .recheck
            .is_none()
    );
    // Only the owner asks, while the session is open; a second one once the first is over.
    for who in [person("T200", Role::Teacher), student(1)] {
        assert!(teacher::start_recheck(&ctx, Some(&who), &id).await.is_err());
    }
    env.advance(Duration::seconds(RECHECK_SECONDS));
    let second = teacher::start_recheck(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    assert_eq!(second.number, 2);
    let board = teacher::live_board(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    assert_eq!(numbers(&board.left_early()), [student(1).school_number]);
    assert_eq!(
        board.unconfirmed().len(),
        2,
        "1 and 3, both counted before this one"
    );
    // A re-check never runs past the session's end.
    teacher::finish_session(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    assert!(matches!(
        teacher::start_recheck(&ctx, Some(&teacher()), &id).await,
        Err(Error::NotFound(Entity::Session))
    ));
}

async fn each_check_in_keeps_how_it_was_checked_and_one_place_for_many_is_flagged(env: TestEnv) {
    use attn::network::NetworkMatch;
    let ctx = env.ctx(Config {
        join_secret: Some("test-secret".into()),
        classroom_networks: vec!["172.20.0.0/16".parse().unwrap()],
        ..Config::default()
    });
    // A session that checks no network: three students from one home address, one in class.
    let open = start_at(&ctx, SecurityLevel::None).await;
    let id = open.id.to_string();
    for n in 1..=3 {
        scan(&ctx, &student(n), &open, "203.0.113.9").await.unwrap();
    }
    scan(&ctx, &student(4), &open, "10.20.30.77").await.unwrap();
    teacher::add_student(&ctx, Some(&teacher()), &id, &student(5).school_number)
        .await
        .unwrap();
    let board = teacher::live_board(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    let evidence = |n: u32| {
        board
            .records
            .iter()
            .find(|r| r.student_number == student(n).school_number)
            .unwrap()
            .evidence
            .clone()
    };
    let home = evidence(1).unwrap();
    assert_eq!(
        (home.network, home.network_checked),
        (NetworkMatch::Outside, false)
    );
    assert_eq!(evidence(4).unwrap().network, NetworkMatch::TeacherNetwork);
    assert_eq!(evidence(5), None, "added by the teacher: nothing scanned");
    assert_eq!(
        board.shared_origins(),
        [[1, 2, 3]
            .map(|n| student(n).school_number)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()]
    );
    // Removing one of them leaves two: below the flag.
    teacher::remove_student(
        &ctx,
        Some(&teacher()),
        &id,
        &student(3).school_number,
        "Evden okuttu",
    )
    .await
    .unwrap();
    let board = teacher::live_board(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    assert!(board.shared_origins().is_empty());
    teacher::finish_session(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();

    // With the network checked: a configured classroom network is named.
    let checked = start_at(&ctx, SecurityLevel::Network).await;
    scan(&ctx, &student(6), &checked, "172.20.5.5")
        .await
        .unwrap();
    let record = env
        .live
        .record(checked.id, &student(6).school_number)
        .await
        .unwrap()
        .unwrap();
    let e = record.evidence.unwrap();
    assert_eq!(
        (e.network, e.network_checked),
        (NetworkMatch::Classroom("172.20.0.0/16".into()), true)
    );
    // Kept with the record when the sessions are persisted.
    teacher::finish_session(&ctx, Some(&teacher()), &checked.id.to_string())
        .await
        .unwrap();
    env.advance(Duration::minutes(1));
    assert_eq!(ctx.sweeper().sweep_once().await.unwrap().persisted, 2);
    let kept = env.db.session_records(checked.id).await.unwrap();
    let six = kept
        .iter()
        .find(|r| r.student_number == student(6).school_number)
        .unwrap();
    let evidence: attn::domain::Evidence =
        serde_json::from_str(six.evidence.as_deref().unwrap()).unwrap();
    // A status changed after class keeps what the check-in showed.
    attn::history::set_past_status(
        &ctx,
        Some(&teacher()),
        &checked.id.to_string(),
        &student(6).school_number,
        Status::Late,
        "Derse on dakika geç girdi",
    )
    .await
    .unwrap();
    let changed = env.db.session_records(checked.id).await.unwrap();
    let six_after = changed
        .iter()
        .find(|r| r.student_number == student(6).school_number)
        .unwrap();
    assert_eq!(six_after.status, Status::Late);
    assert_eq!(six_after.evidence, six.evidence);
    // The class list's students recorded absent at the end scanned nothing.
    assert!(
        kept.iter()
            .filter(|r| r.status == Status::Absent)
            .all(|r| r.evidence.is_none())
    );
    assert_eq!(
        evidence.network,
        NetworkMatch::Classroom("172.20.0.0/16".into())
    );
}

async fn a_recheck_and_the_teachers_changes_are_pushed_to_the_join_pages(env: TestEnv) {
    use tokio::time::timeout;
    let limit = std::time::Duration::from_secs(5);
    let ctx = ctx(&env);
    let s = start(&ctx).await;
    let id = s.id.to_string();
    scan(&ctx, &student(1), &s, "10.20.30.77").await.unwrap();
    // Student 2 is outside the classroom network: failed, for the teacher to look at.
    scan(&ctx, &student(2), &s, "192.0.2.9").await.unwrap();
    let mut first = attn::notices::watch_join(&ctx, Some(&student(1)), &id)
        .await
        .unwrap();
    let mut second = attn::notices::watch_join(&ctx, Some(&student(2)), &id)
        .await
        .unwrap();

    // The teacher accepts student 2: only their page hears of it.
    teacher::accept_student(&ctx, Some(&teacher()), &id, &student(2).school_number)
        .await
        .unwrap();
    timeout(limit, second.next())
        .await
        .expect("student 2 is told")
        .unwrap();
    // A re-check is for everyone.
    env.advance(Duration::minutes(5));
    teacher::start_recheck(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    timeout(limit, second.next())
        .await
        .expect("student 2 is told of the re-check")
        .unwrap();
    // Notices reach every page in the order they were sent: by now the first page holds
    // the re-check's and nothing of the acceptance.
    timeout(limit, first.next())
        .await
        .expect("student 1 is told of the re-check")
        .unwrap();
    assert!(
        first.try_next().is_none(),
        "student 1 heard of student 2's record"
    );
    // And the end.
    teacher::finish_session(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    timeout(limit, first.next())
        .await
        .expect("told of the end")
        .unwrap();

    // Nobody logged in, or a session that is gone, has no notices.
    assert!(matches!(
        attn::notices::watch_join(&ctx, None, &id).await,
        Err(Error::Unauthenticated)
    ));
    assert!(matches!(
        attn::notices::watch_join(&ctx, Some(&student(1)), &uuid_string()).await,
        Err(Error::NotFound(Entity::Session))
    ));
}

fn uuid_string() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn one_browser_for_several_students_is_flagged(env: TestEnv) {
    let ctx = ctx(&env);
    let s = start(&ctx).await;
    let id = s.id.to_string();
    let from_one_phone = |n: u32| {
        let ctx = ctx.clone();
        let s = s.clone();
        async move {
            let who = student(n);
            let code = ctx.codes.current(s.id, s.rotate_code, ctx.clock.now());
            student::check_in(
                &ctx,
                Some(&who),
                JoinAttempt {
                    session_id: &s.id.to_string(),
                    code: &code,
                    client_ip: "10.20.30.77".parse().unwrap(),
                    device: "one-phone",
                    selfie: None,
                    reference: None,
                    passkey: None,
                },
            )
            .await
            .unwrap()
        }
    };
    assert!(from_one_phone(1).await.is_attended);
    let second = from_one_phone(2).await;
    assert_eq!(
        second.fail_reason,
        Some(attn::domain::FailReason::DeviceAlreadyUsed)
    );
    scan(&ctx, &student(3), &s, "10.20.30.78").await.unwrap();
    let board = teacher::live_board(&ctx, Some(&teacher()), &id)
        .await
        .unwrap();
    let groups: Vec<Vec<&str>> = board.shared_browsers();
    assert_eq!(groups.len(), 1);
    let mut group = groups[0].clone();
    group.sort();
    assert_eq!(
        group,
        [
            student(1).school_number.as_str(),
            student(2).school_number.as_str()
        ]
    );
    // The cookie itself is kept nowhere in the record.
    let record = ctx
        .live
        .record(s.id, &student(1).school_number)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !serde_json::to_string(&record)
            .unwrap()
            .contains("one-phone")
    );
}
