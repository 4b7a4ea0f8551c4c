//! Shared test support: the backends and the macro that runs a test on both come from
//! `attn::testing`; this adds the logs and sample data.
#![allow(dead_code)]

pub mod fake_portal;

#[allow(unused_imports)]
pub use attn::testing::*;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// Sends the service layer's logs to the test output (RUST_LOG, default warnings).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,sqlx=error".into()))
        .with_test_writer()
        .try_init();
}

/// A fresh world on `backend` for one test, with the service layer's logs in the test output.
pub async fn env(backend: Backend) -> Option<TestEnv> {
    init_logs();
    TestEnv::new(backend).await
}

/// A live session of `teacher` for `lesson`, opened at `start` for `minutes`.
pub fn session(
    teacher: &str,
    lesson: &str,
    start: DateTime<Utc>,
    minutes: i64,
) -> attn::domain::LiveSession {
    attn::domain::LiveSession {
        id: Uuid::new_v4(),
        teacher_school_number: teacher.to_owned(),
        teacher_full_name: format!("Dr. Öğr. Üyesi {teacher} İlker Şahin"),
        lesson_name: lesson.to_owned(),
        ip_address: "10.20.30.40".into(),
        start_time: start,
        end_time: start + Duration::minutes(minutes),
        security: attn::domain::SecurityLevel::Network,
        rotate_code: true,
        late_after_minutes: None,
        class_hours: None,
        rechecks: Vec::new(),
        device_check: Default::default(),
    }
}

/// Student number `n` checked in at `at`.
pub fn attended(n: usize, at: DateTime<Utc>) -> attn::domain::LiveRecord {
    attn::domain::LiveRecord {
        student_number: format!("13062{n:05}"),
        student_full_name: format!("Öğrenci Ayşe Güler {n}"),
        is_attended: true,
        attendance_time: Some(at),
        fail_reason: None,
        deletion: None,
        face_distance_milli: None,
        late: false,
        marked: None,
        status_reason: None,
        changes: Vec::new(),
        confirmed: Vec::new(),
        evidence: None,
    }
}
