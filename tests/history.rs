//! After the sweep, on both backends: a teacher's history with counts and corrections (reasons
//! of at least 10 characters, owners only), a student's attendance rate per lesson, and the
//! admin's review of deletions with restore, every step kept in the audit log.

mod common;

use attn::Ctx;
use attn::admin::{self, ReviewQuery};
use attn::auth::Caller;
use attn::domain::Status;
use attn::domain::{FailReason, LiveRecord, LiveSession, Role};
use attn::error::{Entity, Error, Problem};
use attn::history;
use attn::identity::Lesson;
use chrono::{Duration, NaiveDate};
use common::{TestEnv, attended, monday_morning, session};

attn::on_both_backends!(
    common::env;
    past_sessions_come_newest_first_in_pages_with_counts,
    only_the_owner_corrects_a_past_session_and_admins_only_read_it,
    corrections_need_a_reason_of_ten_characters_and_change_nothing_without,
    a_teacher_adds_and_removes_students_after_the_session,
    an_admin_reviews_filters_and_restores_deletions,
    a_student_sees_their_rate_per_lesson,
);

fn person(number: &str, name: &str, role: Role, is_admin: bool) -> Caller {
    Caller {
        school_number: number.into(),
        full_name: name.into(),
        role,
        is_admin,
    }
}

fn teacher(number: &str) -> Caller {
    person(
        number,
        &format!("Dr. Öğr. Üyesi {number} İlker Şahin"),
        Role::Teacher,
        false,
    )
}

fn admin() -> Caller {
    person("A1", "Yönetici Deniz", Role::Teacher, true)
}

fn student(n: usize) -> Caller {
    let r = attended(n, monday_morning());
    person(
        &r.student_number,
        &r.student_full_name,
        Role::Student,
        false,
    )
}

fn failed(n: usize, reason: FailReason) -> LiveRecord {
    LiveRecord {
        is_attended: false,
        fail_reason: Some(reason),
        ..attended(n, monday_morning())
    }
}

/// Persists a finished session of `teacher` for `lesson`, `days` after Monday morning.
async fn past(
    env: &TestEnv,
    teacher: &str,
    lesson: &str,
    days: i64,
    records: &[LiveRecord],
) -> LiveSession {
    let s = session(teacher, lesson, monday_morning() + Duration::days(days), 10);
    let fence = env.db.take_sweep_fence(s.id).await.unwrap();
    assert!(
        env.db
            .persist_live(&s, records, monday_morning(), fence)
            .await
            .unwrap()
    );
    s
}

async fn logged_in(env: &TestEnv, who: &[&Caller]) {
    let users: Vec<attn::domain::User> = who
        .iter()
        .map(|c| attn::domain::User {
            school_number: c.school_number.clone(),
            full_name: c.full_name.clone(),
            role: c.role,
        })
        .collect();
    env.db.upsert_users(&users, monday_morning()).await.unwrap();
}

fn ctx(env: &TestEnv) -> Ctx {
    env.ctx(attn::Config::default())
}

async fn past_sessions_come_newest_first_in_pages_with_counts(env: TestEnv) {
    let ctx = ctx(&env);
    let t = teacher("T100");
    let mut ids = Vec::new();
    for day in 0..23 {
        let records = [
            attended(1, monday_morning()),
            attended(2, monday_morning()),
            failed(3, FailReason::WifiFailed),
        ];
        let n = if day == 22 { 3 } else { 1 };
        ids.push(
            past(&env, "T100", "Veri Yapıları", day, &records[..n])
                .await
                .id,
        );
    }
    past(&env, "T200", "Fizik", 30, &[]).await;

    let first = history::past_sessions(&ctx, Some(&t), 0).await.unwrap();
    assert_eq!(first.total, 23, "only the teacher's own sessions");
    assert_eq!(first.items.len(), 20);
    assert_eq!(first.items[0].attendance.id, ids[22], "newest first");
    assert_eq!(
        (first.items[0].counts.attended, first.items[0].counts.failed),
        (2, 1)
    );
    assert_eq!(
        (first.items[1].counts.attended, first.items[1].counts.failed),
        (1, 0)
    );
    let second = history::past_sessions(&ctx, Some(&t), 1).await.unwrap();
    assert_eq!(second.items.len(), 3);
    assert_eq!(second.items[2].attendance.id, ids[0]);
}

async fn only_the_owner_corrects_a_past_session_and_admins_only_read_it(env: TestEnv) {
    let ctx = ctx(&env);
    let s = past(
        &env,
        "T100",
        "Veri Yapıları",
        0,
        &[attended(1, monday_morning())],
    )
    .await;
    let id = s.id.to_string();
    let other = teacher("T200");
    let pupil = student(1);
    let reason = "Yanlışlıkla eklenmiş kayıt";

    for caller in [Some(&other), Some(&pupil)] {
        assert!(matches!(
            history::past_session(&ctx, caller, &id).await,
            Err(Error::Forbidden)
        ));
        assert!(matches!(
            history::remove_past_student(&ctx, caller, &id, "1306200001", reason).await,
            Err(Error::Forbidden)
        ));
        assert!(matches!(
            history::add_past_student(&ctx, caller, &id, "1306200009").await,
            Err(Error::Forbidden)
        ));
        assert!(matches!(
            history::delete_past_session(&ctx, caller, &id, reason).await,
            Err(Error::Forbidden)
        ));
    }
    assert!(matches!(
        history::past_session(&ctx, None, &id).await,
        Err(Error::Unauthenticated)
    ));
    assert!(matches!(
        history::past_sessions(&ctx, Some(&pupil), 0).await,
        Err(Error::Forbidden)
    ));
    let owner = teacher("T100");
    assert!(matches!(
        history::past_session(&ctx, Some(&owner), "not-a-uuid").await,
        Err(Error::InvalidInput {
            field: "session_id",
            ..
        })
    ));
    assert!(matches!(
        history::past_session(&ctx, Some(&owner), &uuid::Uuid::new_v4().to_string()).await,
        Err(Error::NotFound(Entity::Session))
    ));
    // An admin reads another teacher's session, and changes nothing in it.
    let a = admin();
    let read = history::past_session(&ctx, Some(&a), &id).await.unwrap();
    assert_eq!(read.attendance.id, s.id);
    assert_eq!(read.records.len(), 1);
    assert_eq!(read.records[0].record.student_number, "1306200001");
    assert!(matches!(
        history::remove_past_student(&ctx, Some(&a), &id, "1306200001", reason).await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        history::set_past_status(
            &ctx,
            Some(&a),
            &id,
            "1306200001",
            attn::domain::Status::Excused,
            reason
        )
        .await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        history::delete_past_session(&ctx, Some(&a), &id, reason).await,
        Err(Error::Forbidden)
    ));
    // Nothing changed.
    let detail = history::past_session(&ctx, Some(&owner), &id)
        .await
        .unwrap();
    assert_eq!(detail.records.len(), 1);
    assert_eq!(
        detail.records[0].record.status,
        attn::domain::Status::Present
    );
    assert_eq!(detail, read);
    assert!(env.db.audit_events(10).await.unwrap().is_empty());
}

async fn corrections_need_a_reason_of_ten_characters_and_change_nothing_without(env: TestEnv) {
    let ctx = ctx(&env);
    let s = past(
        &env,
        "T100",
        "Veri Yapıları",
        0,
        &[attended(1, monday_morning())],
    )
    .await;
    let id = s.id.to_string();
    let t = teacher("T100");

    for short in ["", "   ", "kısa ned"] {
        let removed = history::remove_past_student(&ctx, Some(&t), &id, "1306200001", short).await;
        assert!(
            matches!(
                removed,
                Err(Error::InvalidInput {
                    field: "reason",
                    ..
                })
            ),
            "{short:?}: {removed:?}"
        );
    }
    assert!(matches!(
        history::delete_past_session(&ctx, Some(&t), &id, "  dokuz ha ").await,
        Err(Error::InvalidInput {
            field: "reason",
            problem: Problem::TooShort { min: 10 }
        })
    ));
    assert!(matches!(
        history::add_past_student(&ctx, Some(&t), &id, "13062<b>").await,
        Err(Error::InvalidInput {
            field: "school_number",
            ..
        })
    ));
    let detail = history::past_session(&ctx, Some(&t), &id).await.unwrap();
    assert_eq!(detail.records.len(), 1);
    assert_eq!(
        history::past_sessions(&ctx, Some(&t), 0)
            .await
            .unwrap()
            .total,
        1
    );
    assert!(env.db.audit_events(10).await.unwrap().is_empty());
}

async fn a_teacher_adds_and_removes_students_after_the_session(env: TestEnv) {
    let ctx = ctx(&env);
    let s = past(
        &env,
        "T100",
        "Veri Yapıları",
        0,
        &[
            attended(1, monday_morning()),
            failed(2, FailReason::WifiFailed),
        ],
    )
    .await;
    let id = s.id.to_string();
    let t = teacher("T100");

    let added = history::add_past_student(&ctx, Some(&t), &id, " 1306200009 ")
        .await
        .unwrap();
    assert!(added.is_attended);
    // A failed student added by the teacher counts as present.
    history::add_past_student(&ctx, Some(&t), &id, "1306200002")
        .await
        .unwrap();
    history::remove_past_student(&ctx, Some(&t), &id, "1306200001", "Arkadaşı için okuttu")
        .await
        .unwrap();
    assert!(matches!(
        history::remove_past_student(&ctx, Some(&t), &id, "1306200001", "Arkadaşı için okuttu")
            .await,
        Err(Error::NotFound(Entity::Record))
    ));

    let detail = history::past_session(&ctx, Some(&t), &id).await.unwrap();
    let shown: Vec<(&str, &str, bool)> = detail
        .records
        .iter()
        .map(|r| {
            (
                r.record.student_number.as_str(),
                r.full_name.as_str(),
                r.record.is_attended,
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            ("1306200002", "Öğrenci Ayşe Güler 2", true),
            ("1306200009", "1306200009", true),
        ]
    );
    let counts = &history::past_sessions(&ctx, Some(&t), 0)
        .await
        .unwrap()
        .items[0]
        .counts;
    assert_eq!((counts.attended, counts.failed), (2, 0));

    let mut actions: Vec<String> = env
        .db
        .audit_events(10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            assert_eq!(e.actor, "T100");
            format!(
                "{} {}",
                e.action.as_str(),
                e.student_number.unwrap_or_default()
            )
        })
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        vec![
            "record_added 1306200002",
            "record_added 1306200009",
            "record_deleted 1306200001"
        ]
    );
}

async fn an_admin_reviews_filters_and_restores_deletions(env: TestEnv) {
    let ctx = ctx(&env);
    let a = admin();
    logged_in(&env, &[&a]).await;
    let ali = teacher("T100");
    let s1 = past(
        &env,
        "T100",
        "Veri Yapıları",
        0,
        &[attended(1, monday_morning())],
    )
    .await;
    let s2 = past(&env, "T200", "Fizik", 0, &[attended(2, monday_morning())]).await;
    // Deletions on Monday (Istanbul) by T100, and on Wednesday by T200.
    history::remove_past_student(
        &ctx,
        Some(&ali),
        &s1.id.to_string(),
        "1306200001",
        "Derste yoktu, arkadaşı okuttu",
    )
    .await
    .unwrap();
    env.advance(Duration::days(2));
    history::delete_past_session(
        &ctx,
        Some(&teacher("T200")),
        &s2.id.to_string(),
        "Yanlış derse açılmış oturum",
    )
    .await
    .unwrap();

    for caller in [Some(&ali), Some(&student(1)), None] {
        assert!(
            admin::review(&ctx, caller, ReviewQuery::default())
                .await
                .is_err()
        );
        assert!(
            admin::restore_session(&ctx, caller, &s2.id.to_string())
                .await
                .is_err()
        );
    }

    let all = admin::review(&ctx, Some(&a), ReviewQuery::default())
        .await
        .unwrap();
    assert_eq!(all.sessions.len(), 1);
    assert_eq!(all.sessions[0].attendance.id, s2.id);
    assert_eq!(
        all.sessions[0].attendance.deletion_reason.as_deref(),
        Some("Yanlış derse açılmış oturum")
    );
    assert_eq!(
        all.sessions[0].teacher_name,
        "Dr. Öğr. Üyesi T200 İlker Şahin"
    );
    assert_eq!(all.records.len(), 1);
    let r = &all.records[0];
    assert_eq!(r.student_name, "Öğrenci Ayşe Güler 1");
    assert_eq!(r.lesson_name, "Veri Yapıları");
    assert_eq!(r.deleted_by_name, "Dr. Öğr. Üyesi T100 İlker Şahin");
    assert_eq!(r.record.deletion_time, Some(monday_morning()));

    // By teacher: part of the name typed without Turkish letters, or the number.
    let by_name = admin::review(
        &ctx,
        Some(&a),
        ReviewQuery {
            teacher: "t100 ilker",
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!((by_name.sessions.len(), by_name.records.len()), (0, 1));
    let nobody = admin::review(
        &ctx,
        Some(&a),
        ReviewQuery {
            teacher: "Kimse Yok",
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(nobody.sessions.is_empty() && nobody.records.is_empty());
    // By date of deletion, in Istanbul's calendar.
    let wednesday = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let on_wednesday = admin::review(
        &ctx,
        Some(&a),
        ReviewQuery {
            from: Some(wednesday),
            to: Some(wednesday),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (on_wednesday.sessions.len(), on_wednesday.records.len()),
        (1, 0)
    );
    assert!(matches!(
        admin::review(
            &ctx,
            Some(&a),
            ReviewQuery {
                from: Some(wednesday),
                to: Some(wednesday - Duration::days(1)),
                ..Default::default()
            },
        )
        .await,
        Err(Error::InvalidInput { .. })
    ));

    // Restore both; the teachers see them again, the review is empty, the log has the restores.
    admin::restore_session(&ctx, Some(&a), &s2.id.to_string())
        .await
        .unwrap();
    admin::restore_record(&ctx, Some(&a), &s1.id.to_string(), "1306200001")
        .await
        .unwrap();
    assert!(matches!(
        admin::restore_record(&ctx, Some(&a), &s1.id.to_string(), "1306200001").await,
        Err(Error::NotFound(Entity::Record))
    ));
    assert!(matches!(
        admin::restore_session(&ctx, Some(&a), "1; DROP TABLE attendances").await,
        Err(Error::InvalidInput { .. })
    ));
    let detail = history::past_session(&ctx, Some(&ali), &s1.id.to_string())
        .await
        .unwrap();
    assert_eq!(detail.records.len(), 1);
    assert_eq!(
        history::past_sessions(&ctx, Some(&teacher("T200")), 0)
            .await
            .unwrap()
            .total,
        1
    );
    let after = admin::review(&ctx, Some(&a), ReviewQuery::default())
        .await
        .unwrap();
    assert!(after.sessions.is_empty() && after.records.is_empty());
    let restores: Vec<(&str, &str)> = after
        .events
        .iter()
        .filter(|e| e.event.action.as_str().ends_with("_restored"))
        .map(|e| (e.event.action.as_str(), e.actor_name.as_str()))
        .collect();
    assert_eq!(restores.len(), 2);
    assert!(restores.iter().all(|(_, who)| *who == "Yönetici Deniz"));
}

async fn a_student_sees_their_rate_per_lesson(env: TestEnv) {
    let ctx = ctx(&env);
    let me = student(1);
    let now = monday_morning();
    // Veri Yapıları with T100: four sessions; attended two, failed one, missed one.
    past(&env, "T100", "Veri Yapıları", 0, &[attended(1, now)]).await;
    past(&env, "T100", "Veri Yapıları", 7, &[attended(1, now)]).await;
    past(
        &env,
        "T100",
        "Veri Yapıları",
        14,
        &[failed(1, FailReason::WifiFailed)],
    )
    .await;
    past(&env, "T100", "Veri Yapıları", 21, &[attended(2, now)]).await;
    // The same title taught by another teacher (another section) is not the student's.
    past(&env, "T300", "Veri Yapıları", 1, &[attended(3, now)]).await;
    // A timetable lesson the student never checked in to: missed.
    past(&env, "T200", "Fizik", 2, &[attended(2, now)]).await;
    // A deleted session does not count.
    let gone = past(&env, "T100", "Veri Yapıları", 28, &[attended(2, now)]).await;
    history::delete_past_session(
        &ctx,
        Some(&teacher("T100")),
        &gone.id.to_string(),
        "Yanlışlıkla açılmış oturum",
    )
    .await
    .unwrap();
    let timetable = [Lesson {
        title: "Fizik".into(),
        start: now,
        end: now + Duration::minutes(50),
        teachers: "Dr. Öğr. Üyesi. T200 ilker sahin".into(),
    }];

    let lessons = history::my_attendance(&ctx, Some(&me), &timetable)
        .await
        .unwrap();
    let summary: Vec<(&str, u32, u32, u32, u32)> = lessons
        .iter()
        .map(|l| {
            (
                l.lesson_name.as_str(),
                l.held,
                l.attended,
                l.missed(),
                l.rate_percent(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![("Fizik", 1, 0, 1, 0), ("Veri Yapıları", 4, 2, 2, 50)]
    );
    let veri = &lessons[1];
    assert_eq!(veri.teacher_name, "Dr. Öğr. Üyesi T100 İlker Şahin");
    assert_eq!(
        veri.sessions
            .iter()
            .map(|s| (s.status, s.fail_reason))
            .collect::<Vec<_>>(),
        vec![
            (Status::Absent, None),
            (Status::Failed, Some(FailReason::WifiFailed)),
            (Status::Present, None),
            (Status::Present, None)
        ],
        "newest first"
    );
    assert!(matches!(
        history::my_attendance(&ctx, Some(&teacher("T100")), &[]).await,
        Err(Error::Forbidden)
    ));
    // Another student with no records and no timetable has an empty history.
    assert!(
        history::my_attendance(&ctx, Some(&student(5)), &[])
            .await
            .unwrap()
            .is_empty()
    );
}
