//! Fresh, isolated backends for tests and benchmarks: the embedded default (a new SQLite file and
//! the in-process live store) or real PostgreSQL and Redis (a new database named by a UUID and a
//! new key prefix), like zero2prod's `spawn_app`.
//!
//! The services are used when `ATTN_TEST_DATABASE_URL` (a PostgreSQL server URL) and
//! `ATTN_TEST_REDIS_URL` are set; with `ATTN_TEST_REQUIRE_SERVICES=1` a missing setting is an
//! error instead of a skip.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::clock::ManualClock;
use crate::config::Config;
use crate::context::Ctx;
use crate::db::Db;
use crate::live::{LiveStore, MemoryLiveStore, RedisLiveStore};

/// Which backends a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file + in-process live store.
    Embedded,
    /// PostgreSQL + Redis.
    Services,
}

/// One test's world: a migrated database, a live store and a manual clock. Set-up failures
/// panic: this is test support, and a test without its backend cannot say anything useful.
pub struct TestEnv {
    /// Which backend this is.
    pub backend: Backend,
    /// The fresh, migrated database.
    pub db: Db,
    /// Its URL.
    pub db_url: String,
    /// The fresh live store.
    pub live: Arc<dyn LiveStore>,
    /// The clock every part of the world reads.
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
        match backend {
            Backend::Embedded => Some(Self::embedded().await),
            Backend::Services => Self::services().await,
        }
    }

    /// A context over this world's stores and clock, as the server builds it.
    pub fn ctx(&self, mut config: Config) -> Ctx {
        config.database_url = self.db_url.clone();
        config.redis_url = self.redis.as_ref().map(|(url, _)| url.clone());
        if let Some((_, prefix)) = &self.redis {
            config.redis_prefix = prefix.clone();
        }
        Ctx {
            codes: crate::context::codes_for(&config),
            identity: Arc::new(crate::context::identity_for(&config)),
            config: Arc::new(config),
            db: self.db.clone(),
            live: self.live.clone(),
            clock: self.clock.clone(),
            face: None,
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
            eprintln!(
                "skipped on PostgreSQL/Redis: ATTN_TEST_DATABASE_URL and ATTN_TEST_REDIS_URL not set"
            );
            return None;
        };
        let db_url = fresh_postgres_database(&pg).await;
        let db = Db::connect(&db_url)
            .await
            .expect("connect to the test database");
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

/// Runs a test, failing it (rather than the whole run hanging) if it takes over a minute.
pub async fn within_a_minute(test: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(std::time::Duration::from_secs(60), test)
        .await
        .expect("the test finished within a minute");
}

/// Runs async tests on both backends, as `<name>::embedded` and `<name>::services`. Each test
/// takes what `setup(backend)` gives (`Option<_>`, `None` when the services are not
/// configured): `on_both_backends!(setup; first_test, second_test)`. The embedded backend is
/// always there; without the services their half is skipped (or fails, with
/// `ATTN_TEST_REQUIRE_SERVICES=1`, inside `setup`).
#[macro_export]
macro_rules! on_both_backends {
    ($setup:path; $($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    $crate::testing::within_a_minute(async {
                        let fixture = $setup($crate::testing::Backend::Embedded)
                            .await
                            .expect("the embedded backend is always there");
                        super::$name(fixture).await;
                    })
                    .await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn services() {
                    $crate::testing::within_a_minute(async {
                        if let Some(fixture) = $setup($crate::testing::Backend::Services).await {
                            super::$name(fixture).await;
                        }
                    })
                    .await;
                }
            }
        )*
    };
}
