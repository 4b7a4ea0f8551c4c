//! The sweep: moves sessions whose end time has passed from the live store into the database.
//!
//! `sweep_once` is one step and reports what it did; `run` repeats it on an interval. A session
//! is claimed with a lease (so two instances never persist it at the same time) and a fence
//! from the database (so a sweeper whose lease ran out cannot commit after another took over),
//! written in one transaction, and only then removed from the live store. If the database is down
//! nothing is removed and the next step tries again: no record is ever lost.
//!
//! A session the database refuses while it is up (data it will not take) goes to a queue of
//! retries, behind every other finished session, and after [`MAX_TRIES`] refusals it is set
//! aside, still live, with its error, for an admin to look at and send back.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use uuid::Uuid;

use crate::clock::Clock;
use crate::db::Db;
use crate::domain::{FailReason, LiveRecord};
use crate::error::Result;
use crate::live::LiveStore;
use crate::metrics::Metrics;

/// Sessions read from the live store at a time.
const BATCH: usize = 100;

/// Batches per step at most; what is left waits for the next step.
const BATCHES_PER_STEP: usize = 50;

/// Refusals by a database that is up before a session is set aside.
pub const MAX_TRIES: u32 = 5;

/// How long a refused session waits before its next try.
pub const RETRY_AFTER: chrono::Duration = chrono::Duration::minutes(1);

/// What one sweep step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Sessions written to the database and removed from the live store.
    pub persisted: usize,
    /// Records written with them.
    pub records: usize,
    /// Sessions another instance was already handling, or that were already gone.
    pub skipped: usize,
    /// Sessions that could not be written; they stay live for the next step (the database
    /// was unreachable) or for a retry (it refused them).
    pub failed: usize,
    /// Sessions set aside in this step after their last try.
    pub set_aside: usize,
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
    metrics: Metrics,
}

enum Persisted {
    Done {
        records: usize,
    },
    NotMine,
    /// The database did not take it.
    Failed(crate::Error),
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
            metrics: Metrics::default(),
        }
    }

    /// The same sweeper, counting its work in `metrics`.
    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self { metrics, ..self }
    }

    /// Persists every session that has ended, batch after batch (up to
    /// `BATCHES_PER_STEP` batches). A session with a face check
    /// still running is left for a later sweep, up to [`PENDING_GRACE`] after its end; then
    /// the unfinished checks are recorded as failed with `FACE_CHECK_TIMEOUT`.
    #[tracing::instrument(skip(self), fields(owner = %self.owner))]
    pub async fn sweep_once(&self) -> Result<SweepOutcome> {
        self.metrics.sweep_runs.inc();
        let swept = self.sweep_batches().await;
        match &swept {
            Ok(outcome) => {
                self.metrics
                    .sessions_persisted
                    .inc_by(outcome.persisted as u64);
                self.metrics
                    .sessions_set_aside
                    .inc_by(outcome.set_aside as u64);
            }
            Err(error) => self.metrics.error(error),
        }
        swept
    }

    async fn sweep_batches(&self) -> Result<SweepOutcome> {
        let now = self.clock.now();
        let mut outcome = SweepOutcome::default();
        // Batch after batch, so sessions that fail (and leave the queue) never hide the ones
        // behind them; a session seen once in this step is not tried twice.
        let mut seen = std::collections::HashSet::new();
        for _ in 0..BATCHES_PER_STEP {
            let batch = self.live.expired_sessions(now, BATCH).await?;
            let full = batch.len() == BATCH;
            let fresh: Vec<Uuid> = batch.into_iter().filter(|id| seen.insert(*id)).collect();
            if fresh.is_empty() {
                break;
            }
            for id in fresh {
                self.sweep_one(id, &mut outcome).await?;
            }
            if !full {
                break;
            }
        }
        Ok(outcome)
    }

    async fn sweep_one(&self, id: Uuid, outcome: &mut SweepOutcome) -> Result<()> {
        match self.persist_session(id).await {
            Ok(Persisted::Done { records }) => {
                outcome.persisted += 1;
                outcome.records += records;
            }
            Ok(Persisted::NotMine) => outcome.skipped += 1,
            Ok(Persisted::Failed(error)) => {
                self.metrics.error(&error);
                outcome.failed += 1;
                if self.refused(id, &error).await? {
                    outcome.set_aside += 1;
                }
            }
            Err(error) => {
                self.metrics.error(&error);
                tracing::warn!(%id, %error, "session not persisted; it stays live for the next sweep");
                outcome.failed += 1;
            }
        }
        Ok(())
    }

    /// Counts a failed write against the session unless the database is simply unreachable
    /// (then every session waits for it, however long, and none is set aside). True when this
    /// was its last try.
    async fn refused(&self, id: Uuid, error: &crate::Error) -> Result<bool> {
        if self.db.ping().await.is_err() {
            tracing::warn!(%id, %error, "database unreachable; the session stays live for the next sweep");
            return Ok(false);
        }
        let now = self.clock.now();
        let tries = self
            .live
            .persist_failed(id, &error.to_string(), now + RETRY_AFTER, MAX_TRIES, now)
            .await?;
        if tries >= MAX_TRIES {
            tracing::error!(%id, %error, tries, "session set aside: the database refuses it; an admin can send it back from the review page");
            Ok(true)
        } else {
            tracing::warn!(%id, %error, tries, "the database refused the session; it is tried again later, after the others");
            Ok(false)
        }
    }

    async fn persist_session(&self, id: Uuid) -> Result<Persisted> {
        let now = self.clock.now();
        if !self.live.claim(id, &self.owner, self.lease, now).await? {
            return Ok(Persisted::NotMine);
        }
        // Before reading anything: a sweeper that claims the session after this one's lease ran
        // out takes a newer fence, and what this one read can then no longer be committed.
        let fence = match self.db.take_sweep_fence(id).await {
            Ok(fence) => fence,
            Err(error) => return Ok(self.give_up(id, error).await),
        };
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
        match self.db.persist_live(&session, &records, now, fence).await {
            Ok(true) => {
                self.live.remove_session(id).await?;
                Ok(Persisted::Done {
                    records: records.len(),
                })
            }
            Ok(false) => {
                tracing::warn!(%id, "the sweep lease ran out and another sweeper took the session over; it persists it");
                Ok(Persisted::NotMine)
            }
            Err(error) => Ok(self.give_up(id, error).await),
        }
    }

    /// After a failed write: lets the next step retry at once instead of waiting for the
    /// lease to run out.
    async fn give_up(&self, id: Uuid, error: crate::Error) -> Persisted {
        if let Err(release) = self.live.release(id, &self.owner).await {
            tracing::warn!(%id, %release, "could not release the sweep lease");
        }
        Persisted::Failed(error)
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
                    set_aside = o.set_aside,
                    "sweep"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "sweep could not read the live store"),
            }
        }
    }
}
