//! The data layer on SQLite and PostgreSQL: upserts, paging, soft delete, admin review, restore.

mod common;

use attn::db::{Attendance, AttendanceRecord};
use attn::domain::{Reason, Role, User};
use attn::error::{Entity, Error};
use chrono::Duration;
use common::{TestEnv, monday_morning};
use uuid::Uuid;

attn::on_both_backends!(
    common::env;
    users_are_upserted_by_school_number,
    a_teachers_sessions_come_newest_first_in_pages,
    records_are_upserted_in_bulk,
    soft_deleted_rows_are_hidden_listed_for_admins_and_restorable,
    deleting_twice_or_restoring_what_is_not_deleted_is_not_found,
    a_stored_code_that_does_not_parse_is_an_error_not_a_default,
    the_passkey_migration_keeps_the_audit_log_and_its_keys,
);

fn teacher() -> User {
    User {
        school_number: "T100".into(),
        full_name: "İLKER ŞAHİN".into(),
        role: Role::Teacher,
    }
}

fn student(n: u32) -> User {
    User {
        school_number: format!("130620{n:04}"),
        full_name: format!("Gülşen Üstün {n}"),
        role: Role::Student,
    }
}

fn attendance(id: Uuid, minutes_after_start: i64) -> Attendance {
    let start = monday_morning() + Duration::minutes(minutes_after_start);
    Attendance {
        id,
        teacher_school_number: "T100".into(),
        lesson_name: "Veri Yapıları".into(),
        ip_address: "10.0.0.1".into(),
        start_time: start,
        end_time: start + Duration::minutes(10),
        security_option: attn::domain::SecurityLevel::Network,
        late_after_minutes: None,
        class_hours: None,
        rechecks: None,
        is_deleted: false,
        deletion_reason: None,
        deletion_time: None,
        deleted_by: None,
        device_check: Default::default(),
    }
}

fn record(attendance_id: Uuid, n: u32, attended: bool) -> AttendanceRecord {
    AttendanceRecord {
        attendance_id,
        student_number: format!("130620{n:04}"),
        is_attended: attended,
        status: if attended {
            attn::domain::Status::Present
        } else {
            attn::domain::Status::Failed
        },
        status_reason: None,
        attendance_time: Some(monday_morning() + Duration::minutes(1)),
        fail_reason: (!attended).then_some(attn::domain::FailReason::WifiFailed),
        face_distance_milli: None,
        rechecks_missed: None,
        evidence: None,
        is_deleted: false,
        deletion_reason: None,
        deletion_time: None,
        deleted_by: None,
    }
}

async fn seed_people(env: &TestEnv, students: u32) {
    let mut people = vec![teacher()];
    people.extend((0..students).map(student));
    env.db
        .upsert_users(&people, monday_morning())
        .await
        .unwrap();
}

async fn users_are_upserted_by_school_number(env: TestEnv) {
    seed_people(&env, 2).await;
    let mut renamed = student(1);
    renamed.full_name = "Gülşen Üstün-Yıldız".into();
    env.db
        .upsert_users(&[renamed.clone()], monday_morning())
        .await
        .unwrap();

    let numbers = vec![
        student(0).school_number,
        renamed.school_number.clone(),
        "nobody".into(),
    ];
    let found = env.db.users_by_numbers(&numbers).await.unwrap();
    assert_eq!(found, vec![student(0), renamed], "{:?}", env.backend);
    assert_eq!(env.count_rows("users").await, 3);
}

async fn a_teachers_sessions_come_newest_first_in_pages(env: TestEnv) {
    seed_people(&env, 0).await;
    let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    for (i, id) in ids.iter().enumerate() {
        env.db
            .insert_attendance(&attendance(*id, i as i64 * 60))
            .await
            .unwrap();
    }
    // Adding the same session again changes nothing.
    env.db
        .insert_attendance(&attendance(ids[0], 0))
        .await
        .unwrap();

    let first = env.db.teacher_attendances("T100", 0, 2).await.unwrap();
    assert_eq!(first.total, 5);
    assert_eq!(
        first.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![ids[4], ids[3]]
    );
    let last = env.db.teacher_attendances("T100", 2, 2).await.unwrap();
    assert_eq!(
        last.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![ids[0]]
    );
    assert_eq!(
        last.items[0].start_time,
        monday_morning(),
        "times come back in UTC, unchanged"
    );
    assert!(
        env.db
            .teacher_attendances("T999", 0, 10)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

async fn records_are_upserted_in_bulk(env: TestEnv) {
    seed_people(&env, 3).await;
    let id = Uuid::new_v4();
    env.db.insert_attendance(&attendance(id, 0)).await.unwrap();
    env.db
        .upsert_records(&[
            record(id, 0, true),
            record(id, 1, false),
            record(id, 2, true),
        ])
        .await
        .unwrap();
    // The teacher accepts the failed student: the same key again overwrites.
    env.db.upsert_records(&[record(id, 1, true)]).await.unwrap();

    let records = env.db.session_records(id).await.unwrap();
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| r.is_attended), "{records:?}");
    assert_eq!(env.count_rows("attendance_records").await, 3);
}

async fn soft_deleted_rows_are_hidden_listed_for_admins_and_restorable(env: TestEnv) {
    seed_people(&env, 2).await;
    let id = Uuid::new_v4();
    env.db.insert_attendance(&attendance(id, 0)).await.unwrap();
    env.db
        .upsert_records(&[record(id, 0, true), record(id, 1, true)])
        .await
        .unwrap();
    let at = monday_morning() + Duration::hours(2);

    let reason = Reason::parse("Öğrenci derste değildi", 10).unwrap();
    env.db
        .delete_record(id, &student(1).school_number, &reason, "T100", at)
        .await
        .unwrap();
    let visible = env.db.session_records(id).await.unwrap();
    assert_eq!(visible.len(), 1);
    assert_eq!(visible[0].student_number, student(0).school_number);

    let deleted = env
        .db
        .deleted_records(&attn::db::DeletedFilter {
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(
        deleted[0].deletion_reason.as_deref(),
        Some("Öğrenci derste değildi")
    );
    assert_eq!(deleted[0].deleted_by.as_deref(), Some("T100"));
    assert_eq!(deleted[0].deletion_time, Some(at));

    let reason = Reason::parse("Yanlış derse açılmış oturum", 10).unwrap();
    env.db
        .delete_attendance(id, &reason, "T100", at)
        .await
        .unwrap();
    assert!(env.db.attendance(id).await.unwrap().is_none());
    assert_eq!(
        env.db
            .teacher_attendances("T100", 0, 10)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        env.db
            .deleted_attendances(&attn::db::DeletedFilter {
                limit: 50,
                ..Default::default()
            })
            .await
            .unwrap()[0]
            .id,
        id
    );

    env.db.restore_attendance(id, "T100", at).await.unwrap();
    env.db
        .restore_record(id, &student(1).school_number, "T100", at)
        .await
        .unwrap();
    let restored = env.db.attendance(id).await.unwrap().expect("visible again");
    assert!(restored.deletion_reason.is_none());
    assert_eq!(env.db.session_records(id).await.unwrap().len(), 2);
    assert!(
        env.db
            .deleted_records(&attn::db::DeletedFilter {
                limit: 50,
                ..Default::default()
            })
            .await
            .unwrap()
            .is_empty()
    );
    // Every deletion and restore is in the audit log, with who and why.
    let mut log: Vec<(String, Option<String>)> = env
        .db
        .audit_events(10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action.as_str().to_owned(), e.reason))
        .collect();
    log.sort();
    assert_eq!(
        log,
        vec![
            (
                "record_deleted".into(),
                Some("Öğrenci derste değildi".into())
            ),
            ("record_restored".into(), None),
            (
                "session_deleted".into(),
                Some("Yanlış derse açılmış oturum".into())
            ),
            ("session_restored".into(), None),
        ]
    );
}

async fn deleting_twice_or_restoring_what_is_not_deleted_is_not_found(env: TestEnv) {
    seed_people(&env, 1).await;
    let id = Uuid::new_v4();
    env.db.insert_attendance(&attendance(id, 0)).await.unwrap();
    let reason = Reason::parse("ders iptal edildi", 10).unwrap();
    let at = monday_morning();

    assert!(matches!(
        env.db.restore_attendance(id, "T100", at).await,
        Err(Error::NotFound(Entity::Session))
    ));
    env.db
        .delete_attendance(id, &reason, "T100", at)
        .await
        .unwrap();
    assert!(matches!(
        env.db.delete_attendance(id, &reason, "T100", at).await,
        Err(Error::NotFound(Entity::Session))
    ));
    assert!(matches!(
        env.db
            .delete_record(Uuid::new_v4(), "1306200000", &reason, "T100", at)
            .await,
        Err(Error::NotFound(Entity::Record))
    ));
}

async fn a_stored_code_that_does_not_parse_is_an_error_not_a_default(env: TestEnv) {
    use attn::db::entity::user;
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::Query;

    let now = monday_morning();
    let insert = Query::insert()
        .into_table(user::Entity)
        .columns([
            user::Column::SchoolNumber,
            user::Column::FullName,
            user::Column::Role,
            user::Column::CreatedAt,
            user::Column::UpdatedAt,
        ])
        .values_panic([
            "X1".into(),
            "Bozuk Kayıt".into(),
            "superuser".into(),
            now.into(),
            now.into(),
        ])
        .to_owned();
    env.db.connection().execute(&insert).await.unwrap();
    // Before, an unknown role was read as a student; now the read fails and says why.
    match env.db.users_by_numbers(&["X1".into()]).await {
        Err(Error::Database(e)) => assert!(e.to_string().contains("superuser"), "{e}"),
        other => panic!("expected a database error, got {other:?}"),
    }
}

async fn the_passkey_migration_keeps_the_audit_log_and_its_keys(env: TestEnv) {
    use attn::db::entity::{attendance, audit_event};
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::Query;

    // Back to before the passkeys (on SQLite the audit table is made again on the way up).
    let conn = env.db.connection();
    Migrator::down(conn, Some(1)).await.unwrap();
    env.db
        .upsert_users(&[teacher()], monday_morning())
        .await
        .unwrap();
    let (session, event) = (Uuid::new_v4(), Uuid::new_v4());
    let now = monday_morning();
    let insert_session = Query::insert()
        .into_table(attendance::Entity)
        .columns([
            attendance::Column::Id,
            attendance::Column::TeacherSchoolNumber,
            attendance::Column::LessonName,
            attendance::Column::IpAddress,
            attendance::Column::StartTime,
            attendance::Column::EndTime,
            attendance::Column::SecurityOption,
            attendance::Column::IsDeleted,
        ])
        .values_panic([
            session.into(),
            "T100".into(),
            "Veri Yapıları".into(),
            "10.0.0.1".into(),
            now.into(),
            now.into(),
            2i16.into(),
            false.into(),
        ])
        .to_owned();
    conn.execute(&insert_session).await.unwrap();
    let audit = |id: Uuid, session: Uuid| {
        Query::insert()
            .into_table(audit_event::Entity)
            .columns([
                audit_event::Column::Id,
                audit_event::Column::At,
                audit_event::Column::Actor,
                audit_event::Column::Action,
                audit_event::Column::AttendanceId,
                audit_event::Column::Reason,
            ])
            .values_panic([
                id.into(),
                now.into(),
                "T100".into(),
                "session_deleted".into(),
                session.into(),
                "yanlış ders".into(),
            ])
            .to_owned()
    };
    conn.execute(&audit(event, session)).await.unwrap();

    Migrator::up(conn, None).await.unwrap();
    let events = env.db.audit_events(10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].id, event);
    assert_eq!(events[0].attendance_id, Some(session));
    assert_eq!(events[0].reason.as_deref(), Some("yanlış ders"));
    // The keys came along: an event must still name a session that exists.
    assert!(
        conn.execute(&audit(Uuid::new_v4(), Uuid::new_v4()))
            .await
            .is_err()
    );
    // Sessions from before keep the cookie rule they had.
    let kept = env.db.attendance(session).await.unwrap().unwrap();
    assert_eq!(kept.device_check, attn::domain::DeviceCheck::Cookie);
}
