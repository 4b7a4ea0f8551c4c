//! The one cloneable context every request and background task works with.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::codes::JoinCodes;
use crate::config::Config;
use crate::db::Db;
use crate::error::Result;
use crate::face::FaceChecker;
use crate::identity::{AksisClient, DemoAccounts, Identity, IdentityProvider};
use crate::live::{LiveStore, MemoryLiveStore, RedisLiveStore};
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
}

/// Whether each dependency answers, for `/readyz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// The database answered a ping.
    pub database: bool,
    /// The live store answered a ping.
    pub live_store: bool,
    /// The face-check models are loaded (not needed to serve; level 3 needs them).
    pub face_check: bool,
}

impl Readiness {
    /// True when everything answered.
    pub fn is_ready(self) -> bool {
        self.database && self.live_store
    }
}

impl Ctx {
    /// Connects to the configured backends and brings the schema up to date.
    pub async fn connect(config: Config) -> Result<Self> {
        let db = Db::connect(&config.database_url).await?;
        db.migrate().await?;
        let live: Arc<dyn LiveStore> = match &config.redis_url {
            Some(url) => Arc::new(RedisLiveStore::connect(url, &config.redis_prefix).await?),
            None => Arc::new(MemoryLiveStore::new()),
        };
        let face = load_face_checker(&config);
        Ok(Self {
            face,
            codes: codes_for(&config),
            identity: Arc::new(identity_for(&config)),
            config: Arc::new(config),
            db,
            live,
            clock: Arc::new(SystemClock),
        })
    }

    /// A sweeper over this context's stores.
    pub fn sweeper(&self) -> Sweeper {
        Sweeper::new(
            self.db.clone(),
            self.live.clone(),
            self.clock.clone(),
            self.config.sweep_lease,
        )
    }

    /// Pings every dependency.
    pub async fn readiness(&self) -> Readiness {
        let (database, live_store) = tokio::join!(self.db.ping(), self.live.ping());
        Readiness {
            database: database.is_ok(),
            live_store: live_store.is_ok(),
            face_check: self.face.is_some(),
        }
    }
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
