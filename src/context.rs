//! The one cloneable context every request and background task works with.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::codes::JoinCodes;
use crate::config::Config;
use crate::db::Db;
use crate::error::Result;
use crate::face::FaceChecker;
use crate::identity::{AksisClient, DemoAccounts, Identity, IdentityProvider};
use crate::live::{Durability, LiveStore, MemoryLiveStore, RedisLiveStore};
use crate::metrics::Metrics;
use crate::sweep::Sweeper;

/// Configuration plus a handle to each port.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Settings read at start-up.
    pub config: Arc<Config>,
    /// The database.
    pub db: Db,
    /// Live sessions.
    pub live: Arc<dyn LiveStore>,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Who people are: demo accounts and the portal.
    pub identity: Arc<dyn IdentityProvider>,
    /// Makes and checks the rotating join codes.
    pub codes: JoinCodes,
    /// The face check, when its models are installed (level 3 is unavailable without it).
    pub face: Option<FaceChecker>,
    /// What operators watch at `/metrics`.
    pub metrics: Metrics,
    /// Signs and checks check-in receipts.
    pub receipts: Arc<crate::receipts::Receipts>,
    /// The relying party for passkeys, from `ATTN_PUBLIC_URL` (`None`: sessions cannot ask for
    /// passkeys here).
    pub passkeys: Option<Arc<crate::passkeys::Passkeys>>,
    /// Notices for the students' join pages, shared by every page this instance serves.
    pub notices: Arc<crate::notices::Notices>,
}

/// How long `/readyz` waits for each store.
const READINESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Whether each dependency answers, for `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The database answered a ping.
    pub database: bool,
    /// The live store answered a ping.
    pub live_store: bool,
    /// What the live store keeps across its own restart (`None`: in this process, or not
    /// readable just now).
    pub live_store_durability: Option<Durability>,
    /// Finished sessions the sweep set aside (the database refused them); they need an admin.
    pub sessions_set_aside: usize,
    /// The face-check models are loaded (not needed to serve; level 3 needs them).
    pub face_check: bool,
}

impl Readiness {
    /// True when everything answered.
    pub fn is_ready(&self) -> bool {
        self.database && self.live_store
    }
}

impl Ctx {
    /// Connects to the configured backends and brings the schema up to date.
    pub async fn connect(config: Config) -> Result<Self> {
        let db = Db::connect(&config.database_url).await?;
        db.migrate().await?;
        let (live, codes): (Arc<dyn LiveStore>, JoinCodes) = match &config.redis_url {
            Some(url) => {
                let redis = RedisLiveStore::connect(url, &config.redis_prefix).await?;
                check_durability(&redis, &config).await?;
                let codes = match &config.join_secret {
                    Some(_) => codes_for(&config),
                    None => JoinCodes::new(redis.shared_join_secret().await?.into_bytes()),
                };
                (Arc::new(redis), codes)
            }
            None => (Arc::new(MemoryLiveStore::new()), codes_for(&config)),
        };
        let face = load_face_checker(&config);
        let ctx = Self {
            passkeys: passkeys_for(&config),
            notices: Arc::default(),
            face,
            codes,
            identity: Arc::new(identity_for(&config)),
            config: Arc::new(config),
            db,
            live,
            clock: Arc::new(SystemClock),
            metrics: Metrics::default(),
            receipts: Arc::default(),
        };
        // The receipt key is read (or made) now, while the database is surely up, so that
        // receipts go on being signed if it goes down later.
        ctx.receipts.public_key(&ctx).await?;
        Ok(ctx)
    }

    /// A sweeper over this context's stores.
    pub fn sweeper(&self) -> Sweeper {
        Sweeper::new(
            self.db.clone(),
            self.live.clone(),
            self.clock.clone(),
            self.config.sweep_lease,
        )
        .with_metrics(self.metrics.clone())
    }

    /// The metrics in the Prometheus text format, with the gauges read now.
    pub fn metrics_text(&self) -> String {
        let waiting = self.face.as_ref().map_or(0, FaceChecker::waiting);
        self.metrics
            .face_checks_waiting
            .set(i64::try_from(waiting).unwrap_or(i64::MAX));
        self.metrics.encode()
    }

    /// Pings every dependency.
    pub async fn readiness(&self) -> Readiness {
        // Each check answers within its time-out, so a store that hangs shows as down instead
        // of holding up the load balancer's probe.
        use tokio::time::timeout as within;
        let (database, live_store, durability, set_aside) = tokio::join!(
            within(READINESS_TIMEOUT, self.db.ping()),
            within(READINESS_TIMEOUT, self.live.ping()),
            within(READINESS_TIMEOUT, self.live.durability()),
            within(READINESS_TIMEOUT, self.live.set_aside())
        );
        let (database, live_store) = (database.map(|r| r.is_ok()), live_store.map(|r| r.is_ok()));
        let durability = durability.ok().and_then(|d| d.ok().flatten());
        let set_aside = set_aside.ok().and_then(|s| s.ok());
        Readiness {
            sessions_set_aside: set_aside.map_or(0, |s| s.len()),
            database: database.unwrap_or(false),
            live_store: live_store.unwrap_or(false),
            live_store_durability: durability,
            face_check: self.face.is_some(),
        }
    }
}

/// Refuses a Redis that would lose acknowledged check-ins on a restart, unless the operator
/// allowed it (`ATTN_REDIS_ALLOW_VOLATILE=true`, for tests and demos); either way the log says
/// what is missing.
async fn check_durability(redis: &RedisLiveStore, config: &Config) -> Result<()> {
    let durability = redis.durability().await?.unwrap_or_default();
    if durability.keeps_acknowledged_writes() {
        tracing::info!(
            ?durability,
            "Redis keeps acknowledged check-ins across a restart"
        );
        return Ok(());
    }
    let missing = durability.shortfalls().join(", ");
    if config.redis_allow_volatile {
        tracing::warn!(
            %missing,
            "this Redis loses running sessions and their check-ins when it restarts (allowed by ATTN_REDIS_ALLOW_VOLATILE)"
        );
        return Ok(());
    }
    Err(crate::error::Error::Config {
        variable: "ATTN_REDIS_URL",
        problem: format!(
            "this Redis would lose acknowledged check-ins when it restarts; set {missing} (docs/OPERATIONS.md), or ATTN_REDIS_ALLOW_VOLATILE=true for tests and demos"
        ),
    })
}

/// The face check from the configured models folder, or `None` (logged) when it cannot load.
pub fn load_face_checker(config: &Config) -> Option<FaceChecker> {
    match FaceChecker::load(
        &config.models_dir,
        config.face_workers,
        config.face_threshold,
    ) {
        Ok(checker) => {
            tracing::info!(models = %config.models_dir.display(), workers = config.face_workers, "face check ready");
            Some(checker)
        }
        Err(error) => {
            tracing::warn!(%error, "face check unavailable: sessions with a selfie check cannot start");
            None
        }
    }
}

/// The relying party for passkeys that `ATTN_PUBLIC_URL` names, or `None` (logged) when it is
/// unset or cannot carry passkeys.
pub fn passkeys_for(config: &Config) -> Option<Arc<crate::passkeys::Passkeys>> {
    let url = config.public_url.as_deref()?;
    match crate::passkeys::Passkeys::new(url) {
        Ok(passkeys) => Some(Arc::new(passkeys)),
        Err(error) => {
            tracing::warn!(%error, "passkeys unavailable: sessions cannot ask for them");
            None
        }
    }
}

/// The identity provider the configuration asks for.
pub fn identity_for(config: &Config) -> Identity {
    let demo = config.demo_accounts.then(|| {
        DemoAccounts::new(config.demo_password.clone()).with_photo(config.demo_photo.clone())
    });
    Identity::new(demo, AksisClient::new(config.portal.clone()))
}

/// The join codes the configuration asks for: its secret, or a random one for this process.
pub fn codes_for(config: &Config) -> JoinCodes {
    match &config.join_secret {
        Some(secret) => JoinCodes::new(secret.as_bytes().to_vec()),
        None => {
            let random: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
                .iter()
                .flat_map(|u| *u.as_bytes())
                .collect();
            JoinCodes::new(random)
        }
    }
}
