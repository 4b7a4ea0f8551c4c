//! Login sessions: tower-sessions on Redis when Redis is configured (so every instance sees every
//! login), in memory otherwise. Cookies are HttpOnly and SameSite=Lax, Secure when configured.

use attn::Config as AttnConfig;
use axum::Router;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, MemoryStore, SessionManagerLayer, SessionStore};
use tower_sessions_redis_store::{RedisStore, fred::prelude::*};

/// Name of the login session cookie.
pub const COOKIE_NAME: &str = "attn_session";

/// Wraps `router` in the session layer for the configured store.
pub async fn layer(router: Router, config: &AttnConfig) -> Result<Router, crate::BoxError> {
    // Until someone logs in, the shortest idle time applies; login sets the role's own.
    let idle = time::Duration::try_from(config.student_idle.min(config.teacher_idle))?;
    Ok(match &config.redis_url {
        Some(url) => {
            let pool = Pool::new(Config::from_url(url)?, None, None, None, 2)?;
            // `init` listens for the connection before starting it, so it cannot miss it.
            let connecting = tokio::time::timeout(std::time::Duration::from_secs(10), pool.init());
            let _connection = connecting
                .await
                .map_err(|_| "Redis (login sessions) did not answer within 10 s")??;
            router.layer(manager(RedisStore::new(pool), config, idle))
        }
        None => router.layer(manager(MemoryStore::default(), config, idle)),
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
