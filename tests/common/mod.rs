//! Shared test support: the backends come from `attn::testing`; this adds the macro that runs
//! a test on both, and sample data.
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

/// Runs a test, failing it (rather than the whole run hanging) if it takes over a minute.
pub async fn within_a_minute(test: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(std::time::Duration::from_secs(60), test)
        .await
        .expect("the test finished within a minute");
}

/// Runs an async test body on both backends, as `<name>::embedded` and `<name>::services`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    $crate::common::init_logs();
                    $crate::common::within_a_minute(async {
                        let env = $crate::common::TestEnv::new($crate::common::Backend::Embedded)
                            .await
                            .expect("the embedded backend is always there");
                        super::$name(env).await;
                    })
                    .await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn services() {
                    $crate::common::init_logs();
                    $crate::common::within_a_minute(async {
                        if let Some(env) =
                            $crate::common::TestEnv::new($crate::common::Backend::Services).await
                        {
                            super::$name(env).await;
                        }
                    })
                    .await;
                }
            }
        )*
    };
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
    }
}
