//! The sweep: moves sessions whose end time has passed from the live store into the database.
//!
//! `sweep_once` is one step and reports what it did; `run` repeats it on an interval. A session
//! is claimed with a lease (so two instances never persist it at the same time), written in one
//! transaction of upserts, and only then removed from the live store. If the database is down
//! nothing is removed and the next step tries again: no record is ever lost.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use uuid::Uuid;

use crate::clock::Clock;
use crate::db::Db;
use crate::domain::{FailReason, LiveRecord};
use crate::error::Result;
use crate::live::LiveStore;

/// Sessions handled per step; the rest wait for the next one.
const BATCH: usize = 100;

/// What one sweep step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Sessions written to the database and removed from the live store.
    pub persisted: usize,
    /// Records written with them.
    pub records: usize,
    /// Sessions another instance was already handling, or that were already gone.
    pub skipped: usize,
    /// Sessions that could not be written; they stay live for the next step.
    pub failed: usize,
}

/// How long after its end a session waits for its running face checks.
pub const PENDING_GRACE: chrono::Duration = chrono::Duration::seconds(60);

/// Persists finished live sessions.
#[derive(Debug, Clone)]
pub struct Sweeper {
    db: Db,
    live: Arc<dyn LiveStore>,
    clock: Arc<dyn Clock>,
    owner: String,
    lease: Duration,
}

enum Persisted {
    Done { records: usize },
    NotMine,
}

impl Sweeper {
    /// A sweeper with a unique owner name for its leases.
    pub fn new(db: Db, live: Arc<dyn LiveStore>, clock: Arc<dyn Clock>, lease: Duration) -> Self {
        Self {
            db,
            live,
            clock,
            owner: format!("sweeper-{}", Uuid::new_v4()),
            lease,
        }
    }

    /// Persists every session that has ended (up to one batch). A session with a face check
    /// still running is left for a later sweep, up to [`PENDING_GRACE`] after its end; then
    /// the unfinished checks are recorded as failed with `FACE_CHECK_TIMEOUT`.
    #[tracing::instrument(skip(self), fields(owner = %self.owner))]
    pub async fn sweep_once(&self) -> Result<SweepOutcome> {
        let now = self.clock.now();
        let mut outcome = SweepOutcome::default();
        for id in self.live.expired_sessions(now, BATCH).await? {
            match self.persist_session(id).await {
                Ok(Persisted::Done { records }) => {
                    outcome.persisted += 1;
                    outcome.records += records;
                }
                Ok(Persisted::NotMine) => outcome.skipped += 1,
                Err(error) => {
                    tracing::warn!(%id, %error, "session not persisted; it stays live for the next sweep");
                    outcome.failed += 1;
                }
            }
        }
        Ok(outcome)
    }

    async fn persist_session(&self, id: Uuid) -> Result<Persisted> {
        let now = self.clock.now();
        if !self.live.claim(id, &self.owner, self.lease, now).await? {
            return Ok(Persisted::NotMine);
        }
        let Some(session) = self.live.session(id).await? else {
            // Already persisted and removed by someone else; drop the leftover index entry.
            self.live.remove_session(id).await?;
            return Ok(Persisted::NotMine);
        };
        let mut records = self.live.records(id).await?;
        if records.iter().any(LiveRecord::is_pending) {
            if now < session.end_time + PENDING_GRACE {
                // A face check still runs: wait for it (the next sweep comes back).
                self.live.release(id, &self.owner).await?;
                return Ok(Persisted::NotMine);
            }
            for r in records.iter_mut().filter(|r| r.is_pending()) {
                r.fail_reason = Some(FailReason::FaceCheckTimeout);
            }
        }
        let written = async {
            self.db.persist_live(&session, &records, now).await?;
            Ok::<_, crate::Error>(records.len())
        }
        .await;
        match written {
            Ok(records) => {
                self.live.remove_session(id).await?;
                Ok(Persisted::Done { records })
            }
            Err(error) => {
                // Let the next step retry at once instead of waiting for the lease to run out.
                if let Err(release) = self.live.release(id, &self.owner).await {
                    tracing::warn!(%id, %release, "could not release the sweep lease");
                }
                Err(error)
            }
        }
    }

    /// Runs `sweep_once` every `interval` until `shutdown` turns true.
    pub async fn run(self, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
            match self.sweep_once().await {
                Ok(o) if o.persisted + o.failed > 0 => tracing::info!(
                    persisted = o.persisted,
                    records = o.records,
                    failed = o.failed,
                    "sweep"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "sweep could not read the live store"),
            }
        }
    }
}
