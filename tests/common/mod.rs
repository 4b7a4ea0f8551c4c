//! Test backends: every suite runs once on the embedded default (a fresh SQLite file and the
//! in-process live store) and once on real PostgreSQL and Redis (a fresh database named by a UUID
//! and a fresh key prefix), like zero2prod's `spawn_app`.
//!
//! The services run when `ATTN_TEST_DATABASE_URL` (a PostgreSQL server URL) and
//! `ATTN_TEST_REDIS_URL` are set; with `ATTN_TEST_REQUIRE_SERVICES=1` a missing service fails the
//! test instead of skipping it.
#![allow(dead_code)]

use std::sync::Arc;

use attn::live::{MemoryLiveStore, RedisLiveStore};
use attn::{Db, LiveStore, ManualClock};
use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// Which backends a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file + in-process live store.
    Embedded,
    /// PostgreSQL + Redis.
    Services,
}

/// One test's world: a migrated database, a live store and a manual clock.
pub struct TestEnv {
    pub backend: Backend,
    pub db: Db,
    pub db_url: String,
    pub live: Arc<dyn LiveStore>,
    pub clock: Arc<ManualClock>,
    redis: Option<(String, String)>,
    _dir: Option<TempDir>,
}

/// A folder removed at the end of the test.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fixed, realistic start time: a Monday morning lesson in Istanbul.
pub fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 6, 30, 0).unwrap()
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn services_required() -> bool {
    env_var("ATTN_TEST_REQUIRE_SERVICES").is_some_and(|v| v == "1" || v == "true")
}

impl TestEnv {
    /// A fresh world on `backend`, or `None` (with a note) when the services are not configured.
    pub async fn new(backend: Backend) -> Option<Self> {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,sqlx=error".into()),
            )
            .with_test_writer()
            .try_init();
        match backend {
            Backend::Embedded => Some(Self::embedded().await),
            Backend::Services => Self::services().await,
        }
    }

    async fn embedded() -> Self {
        let dir = std::env::temp_dir().join(format!("attn-test-{}", Uuid::new_v4()));
        let db_url = format!("sqlite://{}/attn.db?mode=rwc", dir.display());
        let db = Db::connect(&db_url).await.expect("open SQLite");
        db.migrate().await.expect("migrate SQLite");
        Self {
            backend: Backend::Embedded,
            db,
            db_url,
            live: Arc::new(MemoryLiveStore::new()),
            clock: Arc::new(ManualClock::new(monday_morning())),
            redis: None,
            _dir: Some(TempDir(dir)),
        }
    }

    async fn services() -> Option<Self> {
        let (Some(pg), Some(redis)) = (
            env_var("ATTN_TEST_DATABASE_URL"),
            env_var("ATTN_TEST_REDIS_URL"),
        ) else {
            assert!(
                !services_required(),
                "ATTN_TEST_REQUIRE_SERVICES is set but ATTN_TEST_DATABASE_URL or ATTN_TEST_REDIS_URL is not"
            );
            eprintln!("skipped on PostgreSQL/Redis: ATTN_TEST_DATABASE_URL and ATTN_TEST_REDIS_URL not set");
            return None;
        };
        let db_url = fresh_postgres_database(&pg).await;
        let db = Db::connect(&db_url).await.expect("connect to the test database");
        db.migrate().await.expect("migrate PostgreSQL");
        let prefix = format!("attn-test-{}", Uuid::new_v4().simple());
        let live = RedisLiveStore::connect(&redis, &prefix)
            .await
            .expect("connect to Redis");
        Some(Self {
            backend: Backend::Services,
            db,
            db_url,
            live: Arc::new(live),
            clock: Arc::new(ManualClock::new(monday_morning())),
            redis: Some((redis, prefix)),
            _dir: None,
        })
    }

    /// A second, independent handle on the same live store (another "server instance").
    pub async fn second_live_handle(&self) -> Arc<dyn LiveStore> {
        match &self.redis {
            Some((url, prefix)) => Arc::new(RedisLiveStore::connect(url, prefix).await.unwrap()),
            None => self.live.clone(),
        }
    }

    /// A handle on the test database that has lost its connections: every query fails as when
    /// the database server is down.
    pub async fn unreachable_db(&self) -> Db {
        let db = Db::connect(&self.db_url).await.expect("connect");
        db.close().await;
        db
    }

    /// Moves the manual clock.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Counts rows of `table` directly, bypassing the soft-delete filters.
    pub async fn count_rows(&self, table: &str) -> i64 {
        let conn = self.db.connection();
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(
                conn.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

async fn fresh_postgres_database(server_url: &str) -> String {
    let name = format!("attn_test_{}", Uuid::new_v4().simple());
    Db::create_postgres_database(server_url, &name)
        .await
        .expect("create the test database")
}

/// Runs an async test body on both backends, as `<name>::embedded` and `<name>::services`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    let env = $crate::common::TestEnv::new($crate::common::Backend::Embedded)
                        .await
                        .expect("the embedded backend is always there");
                    super::$name(env).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn services() {
                    if let Some(env) =
                        $crate::common::TestEnv::new($crate::common::Backend::Services).await
                    {
                        super::$name(env).await;
                    }
                }
            }
        )*
    };
}

/// A live session of `teacher` for `lesson`, opened at `start` for `minutes`.
pub fn session(teacher: &str, lesson: &str, start: DateTime<Utc>, minutes: i64) -> attn::domain::LiveSession {
    attn::domain::LiveSession {
        id: Uuid::new_v4(),
        teacher_school_number: teacher.to_owned(),
        teacher_full_name: format!("Dr. Öğr. Üyesi {teacher} İlker Şahin"),
        lesson_name: lesson.to_owned(),
        ip_address: "10.20.30.40".into(),
        start_time: start,
        end_time: start + Duration::minutes(minutes),
        security: attn::domain::SecurityLevel::Network,
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
    }
}
