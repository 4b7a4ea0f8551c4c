//! The sweep on both backends: finished sessions reach the database exactly once, live ones are
//! left alone, and nothing is lost when the database is down.

mod common;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use attn::domain::{Deletion, LiveSession};
use attn::sweep::{SweepOutcome, Sweeper};
use attn::{Clock, Db, LiveStore};
use chrono::Duration;
use common::{TestEnv, attended, session};

attn::on_every_backend!(
    common::env;
    a_finished_session_is_persisted_with_every_record,
    a_session_still_running_is_never_touched,
    the_database_being_down_loses_nothing,
    two_sweepers_racing_persist_every_record_exactly_once,
    persisting_again_after_a_crash_duplicates_nothing,
    persisting_again_after_a_crash_never_undoes_a_correction,
    sessions_the_database_refuses_never_hold_up_the_others_and_are_set_aside,
    a_sweeper_whose_lease_was_taken_over_cannot_commit,
    every_field_of_a_record_reaches_the_database_as_it_was_live,
    a_refused_session_never_holds_up_the_sessions_written_with_it,
    sessions_written_together_leave_out_the_one_taken_over,
    groups_of_one_class_written_side_by_side_persist_everything,
);

async fn groups_of_one_class_written_side_by_side_persist_everything(env: TestEnv) {
    // Eighty lectures of the same twenty students end at once: four groups, written at once on
    // PostgreSQL, each naming the same students (and teachers), none waiting on another for
    // good.
    let mut ids = Vec::new();
    for t in 0..80 {
        ids.push(running_session(&env, &format!("T{t}"), 20).await.id);
    }
    env.advance(Duration::minutes(10));
    let outcome = sweeper(&env, env.db.clone(), env.live.clone())
        .sweep_once()
        .await
        .unwrap();
    assert_eq!(outcome.persisted, 80, "{outcome:?}");
    assert_eq!(outcome.records, 80 * 20);
    assert_eq!(outcome.failed, 0);
    assert_eq!(env.count_rows("attendances").await, 80);
    assert_eq!(env.count_rows("attendance_records").await, 80 * 20);
    for id in ids {
        assert!(env.live.session(id).await.unwrap().is_none());
    }
}

fn sweeper(env: &TestEnv, db: Db, live: Arc<dyn LiveStore>) -> Sweeper {
    Sweeper::new(db, live, env.clock.clone(), StdDuration::from_secs(60))
}

/// Starts a session of `teacher` with `students` check-ins (the last one failed, one removed).
async fn running_session(env: &TestEnv, teacher: &str, students: usize) -> LiveSession {
    let now = env.clock.now();
    let s = session(teacher, "Veri Yapıları", now, 10);
    env.live.create_session(&s, now).await.unwrap();
    for n in 0..students {
        let mut r = attended(n, now + Duration::seconds(n as i64));
        if n + 1 == students {
            r.is_attended = false;
            r.fail_reason = Some(attn::domain::FailReason::WifiFailed);
        }
        if n == 0 {
            r.deletion = Some(Deletion {
                reason: "Derste değildi".into(),
                by: teacher.into(),
                at: now,
            });
        }
        env.live.put_record(s.id, &r).await.unwrap();
    }
    s
}

async fn a_finished_session_is_persisted_with_every_record(env: TestEnv) {
    let s = running_session(&env, "T1", 30).await;
    env.advance(Duration::minutes(10));
    let outcome = sweeper(&env, env.db.clone(), env.live.clone())
        .sweep_once()
        .await
        .unwrap();
    assert_eq!(outcome.persisted, 1);
    assert_eq!(outcome.records, 30);

    let saved = env.db.attendance(s.id).await.unwrap().expect("persisted");
    assert_eq!(saved.lesson_name, "Veri Yapıları");
    assert_eq!(saved.teacher_school_number, "T1");
    assert_eq!(
        (saved.start_time, saved.end_time),
        (s.start_time, s.end_time)
    );
    assert_eq!(saved.security_option.as_i16(), 2);
    // The removed student is kept, soft-deleted, with who and why.
    let visible = env.db.session_records(s.id).await.unwrap();
    assert_eq!(visible.len(), 29);
    let failed = visible.iter().find(|r| !r.is_attended).unwrap();
    assert_eq!(failed.fail_reason.map(|r| r.as_str()), Some("WIFI_FAILED"));
    let deleted = env
        .db
        .deleted_records(&attn::db::DeletedFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(
        deleted[0].deletion_reason.as_deref(),
        Some("Derste değildi")
    );
    assert_eq!(deleted[0].deleted_by.as_deref(), Some("T1"));
    // Teacher and students now exist as users, with the names the live data carried.
    let people = env
        .db
        .users_by_numbers(&["T1".into(), attended(5, s.start_time).student_number])
        .await
        .unwrap();
    assert_eq!(people.len(), 2);
    assert!(people.iter().any(|u| u.full_name == "Öğrenci Ayşe Güler 5"));
    // And the live store forgot it.
    assert!(env.live.session(s.id).await.unwrap().is_none());
    assert!(env.live.records(s.id).await.unwrap().is_empty());
}

async fn a_session_still_running_is_never_touched(env: TestEnv) {
    let running = running_session(&env, "T1", 3).await;
    env.advance(Duration::minutes(9));
    let outcome = sweeper(&env, env.db.clone(), env.live.clone())
        .sweep_once()
        .await
        .unwrap();
    assert_eq!(outcome, SweepOutcome::default());
    assert_eq!(env.live.records(running.id).await.unwrap().len(), 3);
    assert!(env.db.attendance(running.id).await.unwrap().is_none());
    assert_eq!(env.count_rows("attendances").await, 0);
}

async fn the_database_being_down_loses_nothing(env: TestEnv) {
    let s = running_session(&env, "T1", 12).await;
    env.advance(Duration::minutes(11));

    let down = sweeper(&env, env.unreachable_db().await, env.live.clone());
    let outcome = down.sweep_once().await.unwrap();
    assert_eq!((outcome.persisted, outcome.failed), (0, 1));
    assert_eq!(
        env.live.records(s.id).await.unwrap().len(),
        12,
        "live data stays"
    );
    assert!(env.live.session(s.id).await.unwrap().is_some());

    // The database is back: the very next sweep persists everything.
    let outcome = sweeper(&env, env.db.clone(), env.live.clone())
        .sweep_once()
        .await
        .unwrap();
    assert_eq!((outcome.persisted, outcome.records), (1, 12));
    assert_eq!(env.count_rows("attendance_records").await, 12);
    assert!(env.live.session(s.id).await.unwrap().is_none());
}

async fn two_sweepers_racing_persist_every_record_exactly_once(env: TestEnv) {
    let mut sessions = Vec::new();
    for t in 0..12 {
        sessions.push(running_session(&env, &format!("T{t}"), 25).await);
    }
    env.advance(Duration::minutes(10));
    let a = sweeper(&env, env.db.clone(), env.live.clone());
    let b = sweeper(&env, env.db.clone(), env.second_live_handle().await);
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { a.sweep_once().await }),
        tokio::spawn(async move { b.sweep_once().await })
    );
    let (ra, rb) = (ra.unwrap().unwrap(), rb.unwrap().unwrap());
    assert_eq!(ra.failed + rb.failed, 0, "{ra:?} {rb:?}");
    assert_eq!(
        ra.persisted + rb.persisted,
        12,
        "each session persisted by exactly one: {ra:?} {rb:?}"
    );
    assert_eq!(ra.records + rb.records, 12 * 25);
    assert_eq!(env.count_rows("attendances").await, 12);
    assert_eq!(env.count_rows("attendance_records").await, 12 * 25);
    for s in &sessions {
        assert!(env.live.session(s.id).await.unwrap().is_none());
    }
}

/// A finished session of `students` that a sweeper committed and then died before removing
/// its live keys; its records.
async fn committed_then_crashed(
    env: &TestEnv,
    students: usize,
) -> (LiveSession, Vec<attn::domain::LiveRecord>) {
    let s = running_session(env, "T1", students).await;
    env.advance(Duration::minutes(10));
    let records = env.live.records(s.id).await.unwrap();
    let fence = env.db.take_sweep_fence(s.id).await.unwrap();
    assert!(
        env.db
            .persist_live(&s, &records, env.clock.now(), fence)
            .await
            .unwrap()
    );
    (s, records)
}

async fn persisting_again_after_a_crash_duplicates_nothing(env: TestEnv) {
    committed_then_crashed(&env, 20).await;

    let outcome = sweeper(&env, env.db.clone(), env.live.clone())
        .sweep_once()
        .await
        .unwrap();
    assert_eq!((outcome.persisted, outcome.records), (1, 20));
    assert_eq!(env.count_rows("attendances").await, 1);
    assert_eq!(env.count_rows("attendance_records").await, 20);
    assert_eq!(env.count_rows("users").await, 21);
    let outcome = sweeper(&env, env.db.clone(), env.live.clone())
        .sweep_once()
        .await
        .unwrap();
    assert_eq!(outcome, SweepOutcome::default(), "nothing left to do");
}

async fn persisting_again_after_a_crash_never_undoes_a_correction(env: TestEnv) {
    // A sweeper committed the session, then died before removing the live keys...
    let (s, records) = committed_then_crashed(&env, 6).await;
    let kept = env.db.session_records(s.id).await.unwrap().len();
    // ...and meanwhile the teacher removed a student in the history.
    let removed = &records[2].student_number;
    let reason = attn::domain::Reason::parse("Derste yoktu, yerine başkası okuttu", 10).unwrap();
    env.db
        .delete_record(s.id, removed, &reason, "T1", env.clock.now())
        .await
        .unwrap();
    assert_eq!(env.db.session_records(s.id).await.unwrap().len(), kept - 1);

    let outcome = sweeper(&env, env.db.clone(), env.live.clone())
        .sweep_once()
        .await
        .unwrap();
    assert_eq!(outcome.persisted, 1, "the live keys are removed");
    assert!(env.live.session(s.id).await.unwrap().is_none());
    let after = env.db.session_records(s.id).await.unwrap();
    assert_eq!(after.len(), kept - 1, "the correction stands");
    assert!(after.iter().all(|r| &r.student_number != removed));
}

/// A session whose data the database refuses while it is up: a NUL byte in the lesson name on
/// PostgreSQL (it takes no NUL in text), the same refused by a trigger on SQLite (which would
/// take it).
async fn refused_session(env: &TestEnv, teacher: &str) -> LiveSession {
    use sea_orm::ConnectionTrait;
    let conn = env.db.connection();
    if conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
        conn.execute_unprepared(
            "CREATE TRIGGER IF NOT EXISTS refuse_nul BEFORE INSERT ON attendances \
             WHEN instr(NEW.lesson_name, char(0)) > 0 \
             BEGIN SELECT RAISE(ABORT, 'invalid byte sequence: 0x00'); END",
        )
        .await
        .unwrap();
    }
    let now = env.clock.now();
    let s = session(teacher, "Fizik\0 Lab", now, 10);
    env.live.create_session(&s, now).await.unwrap();
    env.live.put_record(s.id, &attended(1, now)).await.unwrap();
    s
}

async fn sessions_the_database_refuses_never_hold_up_the_others_and_are_set_aside(env: TestEnv) {
    // More refused sessions than one batch, all older than the good one.
    let mut refused = Vec::new();
    for n in 0..105 {
        refused.push(refused_session(&env, &format!("R{n}")).await.id);
    }
    env.advance(Duration::minutes(1));
    let good = running_session(&env, "T1", 3).await;
    env.advance(Duration::minutes(11));

    let sweeper = sweeper(&env, env.db.clone(), env.live.clone());
    let first = sweeper.sweep_once().await.unwrap();
    assert_eq!((first.persisted, first.records), (1, 3), "{first:?}");
    assert_eq!(first.failed, 105);
    assert!(env.db.attendance(good.id).await.unwrap().is_some());

    // The refused ones are tried again later, each time after whatever else finished.
    let mut set_aside = 0;
    for _ in 1..attn::sweep::MAX_TRIES {
        assert_eq!(sweeper.sweep_once().await.unwrap().failed, 0, "not due yet");
        env.advance(attn::sweep::RETRY_AFTER);
        let late = running_session(&env, "T2", 2).await;
        env.advance(Duration::minutes(11));
        let step = sweeper.sweep_once().await.unwrap();
        assert_eq!(step.persisted, 1, "{step:?}");
        assert!(env.db.attendance(late.id).await.unwrap().is_some());
        set_aside += step.set_aside;
    }
    assert_eq!(set_aside, 105, "set aside at the last try");
    let aside = env.live.set_aside().await.unwrap();
    assert_eq!(aside.len(), 105);
    assert!(aside.iter().all(|a| a.tries == attn::sweep::MAX_TRIES));
    assert!(aside[0].error.contains("0x00"), "{}", aside[0].error);
    // Still live, nothing lost; no longer swept.
    assert_eq!(env.live.records(refused[0]).await.unwrap().len(), 1);
    env.advance(Duration::hours(1));
    assert_eq!(sweeper.sweep_once().await.unwrap(), SweepOutcome::default());

    // An admin sends one back (say, after fixing the database): it is swept again.
    assert!(env.live.retry_set_aside(refused[0]).await.unwrap());
    assert!(!env.live.retry_set_aside(good.id).await.unwrap());
    let again = sweeper.sweep_once().await.unwrap();
    assert_eq!((again.failed, again.set_aside), (1, 0), "{again:?}");
    assert_eq!(env.live.set_aside().await.unwrap().len(), 104);
}

async fn a_sweeper_whose_lease_was_taken_over_cannot_commit(env: TestEnv) {
    let s = running_session(&env, "T1", 8).await;
    env.advance(Duration::minutes(10));
    // A slow sweeper claimed the session and read its records, then stalled past its lease.
    let stale_fence = env.db.take_sweep_fence(s.id).await.unwrap();
    let mut stale_records = env.live.records(s.id).await.unwrap();
    for r in &mut stale_records {
        r.is_attended = false;
        r.fail_reason = Some(attn::domain::FailReason::FaceCheckTimeout);
    }
    // Another instance took the lease over and persisted the session as it really is.
    let outcome = sweeper(&env, env.db.clone(), env.live.clone())
        .sweep_once()
        .await
        .unwrap();
    assert_eq!((outcome.persisted, outcome.records), (1, 8));
    let persisted = env.db.session_records(s.id).await.unwrap();
    // The slow one wakes up: it may not write what it read.
    assert!(
        !env.db
            .persist_live(&s, &stale_records, env.clock.now(), stale_fence)
            .await
            .unwrap(),
        "a sweeper that lost its lease is refused"
    );
    assert_eq!(env.db.session_records(s.id).await.unwrap(), persisted);
    assert_eq!(env.count_rows("attendances").await, 1);
    assert_eq!(
        env.count_rows("sweep_fences").await,
        0,
        "the fence goes with the commit"
    );

    // Two claims of one session: only the later may commit, whoever gets there first.
    let other = running_session(&env, "T2", 3).await;
    env.advance(Duration::minutes(10));
    let records = env.live.records(other.id).await.unwrap();
    let first = env.db.take_sweep_fence(other.id).await.unwrap();
    let second = env.db.take_sweep_fence(other.id).await.unwrap();
    assert!(second > first);
    let now = env.clock.now();
    assert!(
        !env.db
            .persist_live(&other, &records, now, first)
            .await
            .unwrap()
    );
    assert!(env.db.session_records(other.id).await.unwrap().is_empty());
    assert!(
        env.db
            .persist_live(&other, &records, now, second)
            .await
            .unwrap()
    );
    // Three check-ins, one of them removed by the teacher.
    assert_eq!(env.db.session_records(other.id).await.unwrap().len(), 2);
}

async fn every_field_of_a_record_reaches_the_database_as_it_was_live(env: TestEnv) {
    use attn::domain::{Status, StatusChange};
    let now = env.clock.now();
    let s = session("T1", "Veri Yapıları", now, 10);
    env.live.create_session(&s, now).await.unwrap();
    // A time finer than the database keeps, a face distance, a status set by the teacher with
    // a reason, and a removal: each must come back as it went in.
    let fine = now + Duration::nanoseconds(1_234_567_891);
    let mut excused = attended(1, fine);
    excused.face_distance_milli = Some(412);
    excused.late = true;
    excused.marked = Some(Status::Excused);
    excused.status_reason = Some("Sağlık raporu var; \"acil\" durum".into());
    excused.changes = vec![StatusChange {
        from: Some(Status::Late),
        to: Status::Excused,
        by: "T1".into(),
        at: now + Duration::minutes(2),
        reason: excused.status_reason.clone(),
    }];
    let mut removed = attended(2, now);
    removed.attendance_time = None;
    removed.deletion = Some(Deletion {
        reason: "Derste değildi".into(),
        by: "T1".into(),
        at: fine,
    });
    env.live.put_record(s.id, &excused).await.unwrap();
    env.live.put_record(s.id, &removed).await.unwrap();
    // What the live store keeps (Redis keeps milliseconds).
    let live = env.live.records(s.id).await.unwrap();
    let kept = |n: &str| live.iter().find(|r| r.student_number == n).unwrap();
    let fine_kept = kept(&excused.student_number).attendance_time.unwrap();
    assert_eq!(
        kept(&removed.student_number).deletion.as_ref().unwrap().at,
        fine_kept
    );
    env.advance(Duration::minutes(10));
    let outcome = sweeper(&env, env.db.clone(), env.live.clone())
        .sweep_once()
        .await
        .unwrap();
    assert_eq!((outcome.persisted, outcome.records), (1, 2));

    let micros = |t: chrono::DateTime<chrono::Utc>| t.timestamp_micros();
    let saved = env.db.session_records(s.id).await.unwrap();
    assert_eq!(saved.len(), 1, "the removed one is hidden");
    let e = &saved[0];
    assert_eq!(e.student_number, excused.student_number);
    assert_eq!(e.status, Status::Excused);
    assert!(e.is_attended);
    assert_eq!(e.status_reason, excused.status_reason);
    assert_eq!(e.face_distance_milli, Some(412));
    assert_eq!(e.attendance_time.map(micros), Some(micros(fine_kept)));
    assert_eq!(e.fail_reason, None);
    let gone = env
        .db
        .deleted_records(&attn::db::DeletedFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].attendance_time, None);
    assert_eq!(gone[0].deletion_time.map(micros), Some(micros(fine_kept)));
    assert_eq!(gone[0].deleted_by.as_deref(), Some("T1"));
    // The teacher's change during class is in the audit log, once.
    let events = env.db.audit_events(10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].to_status, Some(Status::Excused));
    assert_eq!(
        events[0].student_number.as_deref(),
        Some(excused.student_number.as_str())
    );
}

async fn a_refused_session_never_holds_up_the_sessions_written_with_it(env: TestEnv) {
    // Sessions that end together are written together; one the database will not take sits
    // in the middle of them.
    let mut good = Vec::new();
    for t in 0..3 {
        good.push(running_session(&env, &format!("T{t}"), 4).await);
    }
    let refused = refused_session(&env, "R").await;
    for t in 3..6 {
        good.push(running_session(&env, &format!("T{t}"), 4).await);
    }
    env.advance(Duration::minutes(12));
    let outcome = sweeper(&env, env.db.clone(), env.live.clone())
        .sweep_once()
        .await
        .unwrap();
    assert_eq!(
        (outcome.persisted, outcome.records, outcome.failed),
        (6, 24, 1),
        "{outcome:?}"
    );
    for s in &good {
        assert!(env.db.attendance(s.id).await.unwrap().is_some());
        assert_eq!(env.db.session_records(s.id).await.unwrap().len(), 3);
        assert!(env.live.session(s.id).await.unwrap().is_none());
    }
    assert!(env.db.attendance(refused.id).await.unwrap().is_none());
    assert_eq!(
        env.live.records(refused.id).await.unwrap().len(),
        1,
        "still live"
    );
    assert_eq!(env.count_rows("attendances").await, 6);
}

async fn sessions_written_together_leave_out_the_one_taken_over(env: TestEnv) {
    let mut sessions = Vec::new();
    for t in 0..3 {
        sessions.push(running_session(&env, &format!("T{t}"), 5).await);
    }
    env.advance(Duration::minutes(10));
    let ids: Vec<_> = sessions.iter().map(|s| s.id).collect();
    let fences = env.db.take_sweep_fences(&ids).await.unwrap();
    assert_eq!(fences.len(), 3);
    // Another sweeper took the middle one over after this one read it.
    let newer = env.db.take_sweep_fence(ids[1]).await.unwrap();
    assert!(newer > fences[&ids[1]]);
    let mut records = Vec::new();
    for s in &sessions {
        records.push(env.live.records(s.id).await.unwrap());
    }
    let batch: Vec<attn::db::Finished<'_>> = sessions
        .iter()
        .zip(&records)
        .map(|(session, records)| attn::db::Finished {
            session,
            records,
            fence: fences[&session.id],
        })
        .collect();
    let done = env
        .db
        .persist_finished(&batch, env.clock.now())
        .await
        .unwrap();
    assert_eq!(done, vec![ids[0], ids[2]]);
    assert!(env.db.attendance(ids[1]).await.unwrap().is_none());
    assert_eq!(env.count_rows("attendance_records").await, 2 * 5);
    assert_eq!(
        env.count_rows("sweep_fences").await,
        1,
        "the newer fence stays"
    );
    // The newer holder writes it.
    let late = attn::db::Finished {
        fence: newer,
        ..batch[1]
    };
    assert_eq!(
        env.db
            .persist_finished(&[late], env.clock.now())
            .await
            .unwrap(),
        vec![ids[1]]
    );
    assert_eq!(env.count_rows("attendance_records").await, 3 * 5);
}
