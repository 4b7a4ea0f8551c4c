//! Login sessions: tower-sessions on Redis when Redis is configured (so every instance sees every
//! login), in memory otherwise. Cookies are HttpOnly and SameSite=Lax, Secure when configured.
//!
//! The Redis pool reconnects by itself after Redis restarts or fails over, and no command waits
//! longer than a few seconds meanwhile: a request during an outage gets the "try again" page
//! instead of hanging. The memory store forgets expired logins.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use attn::Config as AttnConfig;
use attn::metrics::{Metrics, Store};
use axum::Router;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion};
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_redis_store::fred::prelude::*;
use tower_sessions_redis_store::fred::types::config::UnresponsiveConfig;
use tower_sessions_redis_store::fred::types::{Expiration, SetOptions};

/// Name of the login session cookie.
pub const COOKIE_NAME: &str = "attn_session";

/// How long one login-session command may take before the request gets "try again".
const COMMAND_TIMEOUT: Duration = Duration::from_secs(3);

/// How often the memory store drops expired logins.
const MEMORY_CLEANUP_EVERY: Duration = Duration::from_secs(60);

/// The store behind the login sessions, for `/readyz`.
#[derive(Clone, Debug)]
pub enum LoginStore {
    /// Shared by every instance.
    Redis(PrefixedRedisStore),
    /// This process only.
    Memory(ExpiringMemoryStore),
}

impl LoginStore {
    /// True when the store answers (within the command time-out).
    pub async fn ping(&self) -> bool {
        match self {
            LoginStore::Redis(store) => {
                let ping = store.pool.next().ping::<String>(None);
                matches!(tokio::time::timeout(COMMAND_TIMEOUT, ping).await, Ok(Ok(_)))
            }
            LoginStore::Memory(_) => true,
        }
    }
}

/// Connects the configured store.
pub async fn connect(
    config: &AttnConfig,
    metrics: &Metrics,
) -> Result<LoginStore, crate::BoxError> {
    let Some(url) = &config.redis_url else {
        let store = ExpiringMemoryStore::default();
        let cleaner = store.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(MEMORY_CLEANUP_EVERY);
            loop {
                every.tick().await;
                let _ = cleaner.delete_expired().await;
            }
        });
        return Ok(LoginStore::Memory(store));
    };
    let performance = PerformanceConfig {
        default_command_timeout: COMMAND_TIMEOUT,
        ..Default::default()
    };
    let connection = ConnectionConfig {
        connection_timeout: Duration::from_secs(2),
        internal_command_timeout: Duration::from_secs(2),
        // A command in flight when the connection drops is tried once more after reconnecting.
        max_command_attempts: 2,
        unresponsive: UnresponsiveConfig {
            max_timeout: Some(Duration::from_secs(5)),
            interval: Duration::from_secs(1),
        },
        ..Default::default()
    };
    // Forever, from 100 ms up to 2 s between attempts: Redis coming back is picked up within
    // seconds, however long it was away.
    let reconnect = ReconnectPolicy::new_exponential(0, 100, 2_000, 2);
    let pool = Pool::new(
        Config::from_url(url)?,
        Some(performance),
        Some(connection),
        Some(reconnect),
        2,
    )?;
    // `init` listens for the connection before starting it, so it cannot miss it.
    let connecting = tokio::time::timeout(Duration::from_secs(10), pool.init());
    let _connection = connecting
        .await
        .map_err(|_| "Redis (login sessions) did not answer within 10 s")??;
    Ok(LoginStore::Redis(PrefixedRedisStore {
        pool,
        prefix: format!("{}:login:", config.redis_prefix),
        metrics: metrics.clone(),
    }))
}

/// Wraps `router` in the session layer over `store`.
pub fn layer(
    router: Router,
    store: &LoginStore,
    config: &AttnConfig,
) -> Result<Router, crate::BoxError> {
    // Until someone logs in, the shortest idle time applies; login sets the role's own.
    let idle = time::Duration::try_from(config.student_idle.min(config.teacher_idle))?;
    Ok(match store {
        LoginStore::Redis(store) => router.layer(manager(store.clone(), config, idle)),
        LoginStore::Memory(store) => router.layer(manager(store.clone(), config, idle)),
    })
}

fn manager<S: SessionStore + Clone>(
    store: S,
    config: &AttnConfig,
    idle: time::Duration,
) -> SessionManagerLayer<S> {
    SessionManagerLayer::new(store)
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Login sessions in Redis under `<ATTN_REDIS_PREFIX>:login:<id>`, like every other key of
/// the deployment, so deployments sharing a Redis never read each other's logins (the
/// upstream Redis store writes the bare id). Each record expires in Redis at its own expiry.
#[derive(Clone, Debug)]
pub struct PrefixedRedisStore {
    pool: Pool,
    prefix: String,
    metrics: Metrics,
}

impl PrefixedRedisStore {
    fn key(&self, id: &Id) -> String {
        format!("{}{id}", self.prefix)
    }

    /// A Redis error as the session layer takes it, counted for `/metrics`.
    fn backend(
        &self,
        error: tower_sessions_redis_store::fred::error::Error,
    ) -> session_store::Error {
        self.metrics.store_error(Store::Login);
        session_store::Error::Backend(error.to_string())
    }

    /// Writes `record`; `only` says whether it must be new (`NX`) or there already (`XX`).
    /// False when that condition did not hold.
    async fn write(&self, record: &Record, only: SetOptions) -> session_store::Result<bool> {
        let value =
            serde_json::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let expire = Expiration::EXAT(record.expiry_date.unix_timestamp());
        let set: Option<String> = self
            .pool
            .set(
                self.key(&record.id),
                value.as_slice(),
                Some(expire),
                Some(only),
                false,
            )
            .await
            .map_err(|e| self.backend(e))?;
        Ok(set.is_some())
    }
}

#[async_trait]
impl SessionStore for PrefixedRedisStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while !self.write(record, SetOptions::NX).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(record, SetOptions::XX).await.map(|_| ())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let value: Option<Vec<u8>> = self
            .pool
            .get(self.key(id))
            .await
            .map_err(|e| self.backend(e))?;
        value
            .map(|v| {
                serde_json::from_slice(&v).map_err(|e| session_store::Error::Decode(e.to_string()))
            })
            .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let _: i64 = self
            .pool
            .del(self.key(id))
            .await
            .map_err(|e| self.backend(e))?;
        Ok(())
    }
}

/// Login sessions in this process's memory (the embedded default), dropped once expired.
#[derive(Clone, Debug, Default)]
pub struct ExpiringMemoryStore {
    records: Arc<Mutex<HashMap<Id, Record>>>,
}

impl ExpiringMemoryStore {
    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<Id, Record>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many logins the store holds, expired or not.
    pub fn len(&self) -> usize {
        self.records().len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn is_live(record: &Record) -> bool {
    record.expiry_date > time::OffsetDateTime::now_utc()
}

#[async_trait]
impl SessionStore for ExpiringMemoryStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut records = self.records();
        while records.contains_key(&record.id) {
            record.id = Id::default();
        }
        records.insert(record.id, record.clone());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.records().insert(record.id, record.clone());
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self.records().get(id).filter(|r| is_live(r)).cloned())
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.records().remove(id);
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for ExpiringMemoryStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.records().retain(|_, record| is_live(record));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expires_in: time::Duration) -> Record {
        Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: time::OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn the_memory_store_forgets_expired_logins() {
        let store = ExpiringMemoryStore::default();
        let mut gone = record(time::Duration::minutes(-1));
        let mut live = record(time::Duration::minutes(10));
        store.create(&mut gone).await.unwrap();
        store.create(&mut live).await.unwrap();
        assert_eq!(store.len(), 2);
        assert!(
            store.load(&gone.id).await.unwrap().is_none(),
            "expired: not served"
        );
        assert!(store.load(&live.id).await.unwrap().is_some());

        store.delete_expired().await.unwrap();
        assert_eq!(store.len(), 1, "the expired login is gone from memory");
        assert!(store.load(&live.id).await.unwrap().is_some());
    }
}
