//! The sweep: moves sessions whose end time has passed from the live store into the database.
//!
//! `sweep_once` is one step and reports what it did; `run` repeats it on an interval. A session
//! is claimed with a lease (so two instances never persist it at the same time) and a fence
//! from the database (so a sweeper whose lease ran out cannot commit after another took over),
//! written with up to [`PERSIST_TOGETHER`] others in one transaction, and only then removed
//! from the live store. If the database is down
//! nothing is removed and the next step tries again: no record is ever lost.
//!
//! A session the database refuses while it is up (data it will not take) goes to a queue of
//! retries, behind every other finished session, and after [`MAX_TRIES`] refusals it is set
//! aside, still live, with its error, for an admin to look at and send back.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use tokio::sync::watch;
use uuid::Uuid;

use crate::clock::Clock;
use crate::db::{Db, Finished};
use crate::domain::{FailReason, LiveRecord, LiveSession};
use crate::error::Result;
use crate::live::LiveStore;
use crate::metrics::Metrics;

/// Sessions read from the live store at a time.
const BATCH: usize = 100;

/// Batches per step at most; what is left waits for the next step.
const BATCHES_PER_STEP: usize = 50;

/// Sessions written in one transaction (docs/PERFORMANCE.md).
pub const PERSIST_TOGETHER: usize = 20;

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

impl SweepOutcome {
    /// Adds what another part of the same step did.
    fn add(&mut self, other: SweepOutcome) {
        self.persisted += other.persisted;
        self.records += other.records;
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.set_aside += other.set_aside;
    }
}

/// Groups written at once, at most (see `Db::writers_at_once`).
pub const WRITERS: usize = 4;

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
            // Groups are written side by side where the database takes several writers at once
            // (PostgreSQL: each transaction runs on a core of its own); they share no session.
            let writers = self.db.writers_at_once().min(WRITERS);
            let groups: Vec<Vec<Uuid>> = fresh
                .chunks(PERSIST_TOGETHER)
                .map(<[Uuid]>::to_vec)
                .collect();
            let done: Vec<SweepOutcome> = futures_util::stream::iter(groups)
                .map(|group| async move {
                    let mut outcome = SweepOutcome::default();
                    self.sweep_group(&group, &mut outcome)
                        .await
                        .map(|()| outcome)
                })
                .buffer_unordered(writers)
                .try_collect()
                .await?;
            for group in done {
                outcome.add(group);
            }
            if !full {
                break;
            }
        }
        Ok(outcome)
    }

    /// Sweeps `ids` together: claims them, takes their fences in one statement, reads them,
    /// and writes them in one transaction. If the database refuses that transaction while it
    /// is up, each session is written alone, so one it will not take never holds up the rest.
    async fn sweep_group(&self, ids: &[Uuid], outcome: &mut SweepOutcome) -> Result<()> {
        let now = self.clock.now();
        let mut claimed = Vec::with_capacity(ids.len());
        for &id in ids {
            if self.live.claim(id, &self.owner, self.lease, now).await? {
                claimed.push(id);
            } else {
                outcome.skipped += 1;
            }
        }
        if claimed.is_empty() {
            return Ok(());
        }
        // Before reading anything: a sweeper that claims a session after this one's lease ran
        // out takes a newer fence, and what this one read can then no longer be committed.
        let fences = match self.db.take_sweep_fences(&claimed).await {
            Ok(fences) => fences,
            Err(error) => return self.fail_all(&claimed, error, outcome).await,
        };
        let mut ready = Vec::with_capacity(claimed.len());
        for id in claimed {
            match self.read(id, now).await? {
                Some((session, records)) => {
                    let fence = fences.get(&id).copied().unwrap_or_default();
                    ready.push((session, records, fence));
                }
                None => outcome.skipped += 1,
            }
        }
        let batch: Vec<Finished<'_>> = ready
            .iter()
            .map(|(session, records, fence)| Finished {
                session,
                records,
                fence: *fence,
            })
            .collect();
        match self.db.persist_finished(&batch, now).await {
            Ok(done) => {
                for f in &batch {
                    let persisted = self.settle(f, &done).await?;
                    self.count(f.session.id, persisted, outcome).await?;
                }
            }
            Err(error) if batch.len() > 1 && self.db.ping().await.is_ok() => {
                tracing::warn!(%error, sessions = batch.len(), "the database refused a group of sessions; each is written alone");
                for f in &batch {
                    let persisted = self.persist_alone(f, now).await?;
                    self.count(f.session.id, persisted, outcome).await?;
                }
            }
            Err(error) => {
                let ids: Vec<Uuid> = batch.iter().map(|f| f.session.id).collect();
                self.fail_all(&ids, error, outcome).await?;
            }
        }
        Ok(())
    }

    /// Counts `error` against each of `ids`, which failed together, and releases them.
    async fn fail_all(
        &self,
        ids: &[Uuid],
        error: crate::Error,
        outcome: &mut SweepOutcome,
    ) -> Result<()> {
        let Some((last, rest)) = ids.split_last() else {
            return Ok(());
        };
        for &id in rest {
            let again = crate::Error::Database(sea_orm::DbErr::Custom(error.to_string()));
            let failed = self.give_up(id, again).await;
            self.count(id, failed, outcome).await?;
        }
        let failed = self.give_up(*last, error).await;
        self.count(*last, failed, outcome).await
    }

    /// A claimed session and its records, ready to be written; `None` when there is nothing
    /// to write now (already persisted by someone else, or a face check still runs).
    async fn read(
        &self,
        id: Uuid,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<(LiveSession, Vec<LiveRecord>)>> {
        let Some(session) = self.live.session(id).await? else {
            // Already persisted and removed by someone else; drop the leftover index entry.
            self.live.remove_session(id).await?;
            return Ok(None);
        };
        let mut records = self.live.records(id).await?;
        if records.iter().any(LiveRecord::is_pending) {
            if now < session.end_time + PENDING_GRACE {
                // A face check still runs: wait for it (the next sweep comes back).
                self.live.release(id, &self.owner).await?;
                return Ok(None);
            }
            for r in records.iter_mut().filter(|r| r.is_pending()) {
                r.fail_reason = Some(FailReason::FaceCheckTimeout);
            }
        }
        Ok(Some((session, records)))
    }

    /// Writes one session of a group the database refused.
    async fn persist_alone(
        &self,
        f: &Finished<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Persisted> {
        match self.db.persist_finished(std::slice::from_ref(f), now).await {
            Ok(done) => self.settle(f, &done).await,
            Err(error) => Ok(self.give_up(f.session.id, error).await),
        }
    }

    /// What became of `f` after a write that committed the sessions `done`: it is removed from
    /// the live store when it is among them; otherwise another sweeper took it over.
    async fn settle(&self, f: &Finished<'_>, done: &[Uuid]) -> Result<Persisted> {
        let id = f.session.id;
        if !done.contains(&id) {
            tracing::warn!(%id, "the sweep lease ran out and another sweeper took the session over; it persists it");
            return Ok(Persisted::NotMine);
        }
        self.live.remove_session(id).await?;
        Ok(Persisted::Done {
            records: f.records.len(),
        })
    }

    /// Adds what became of session `id` to `outcome`.
    async fn count(
        &self,
        id: Uuid,
        persisted: Persisted,
        outcome: &mut SweepOutcome,
    ) -> Result<()> {
        match persisted {
            Persisted::Done { records } => {
                outcome.persisted += 1;
                outcome.records += records;
            }
            Persisted::NotMine => outcome.skipped += 1,
            Persisted::Failed(error) => {
                self.metrics.error(&error);
                outcome.failed += 1;
                if self.refused(id, &error).await? {
                    outcome.set_aside += 1;
                }
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
