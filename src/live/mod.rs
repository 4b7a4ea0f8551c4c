//! The live store port: sessions that are running now and their records. Redis in production
//! (shared by every server instance), in-process memory in the embedded default. Both adapters
//! pass the same contract tests (`tests/live_contract.rs`).

mod memory;
pub mod redis;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{LiveRecord, LiveSession, Recheck};
use crate::error::Result;

pub use self::memory::MemoryLiveStore;
pub use self::redis::{Durability, RedisLiveStore};

/// Live sessions and their records.
///
/// "Active" always means: the session's end time is after the `now` passed in, so expiry follows
/// the injected clock rather than the store's own.
#[async_trait]
pub trait LiveStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a new session. Refuses with `ActiveSessionExists` when its teacher already has an
    /// active one; the check and the write are one atomic step.
    async fn create_session(&self, session: &LiveSession, now: DateTime<Utc>) -> Result<()>;

    /// A session that is still in the store (active, or ended and not yet persisted).
    async fn session(&self, id: Uuid) -> Result<Option<LiveSession>>;

    /// The teacher's active session, if any.
    async fn active_session_of(
        &self,
        teacher: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LiveSession>>;

    /// Active sessions whose lesson name and teacher name contain the given texts (loosely:
    /// case and Turkish diacritics ignored), soonest-ending first.
    async fn find_active(
        &self,
        lesson_name: &str,
        teacher_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<LiveSession>>;

    /// Adds a re-check to a session, unless the session has other than `before` re-checks by
    /// now (another one came first: false). `NotFound` when the session is gone.
    async fn add_recheck(&self, session_id: Uuid, recheck: &Recheck, before: usize)
    -> Result<bool>;

    /// Adds a student's record to a session, or replaces it. `NotFound` when the session is gone.
    async fn put_record(&self, session_id: Uuid, record: &LiveRecord) -> Result<()>;

    /// Writes a check-in unless the student's record already stands: a record that is attended
    /// (the first success stands) or removed by the teacher is kept. Returns the record that
    /// stands afterwards. `NotFound` when the session is gone.
    async fn record_check_in(&self, session_id: Uuid, record: &LiveRecord) -> Result<LiveRecord>;

    /// Ties a device to the first student who checks in with it; returns the student it is
    /// tied to (the caller, or someone else before them).
    async fn claim_device(&self, session_id: Uuid, device: &str, student: &str) -> Result<String>;

    /// One student's record.
    async fn record(&self, session_id: Uuid, student: &str) -> Result<Option<LiveRecord>>;

    /// Every record of a session, in one round trip, by student number.
    async fn records(&self, session_id: Uuid) -> Result<Vec<LiveRecord>>;

    /// Ends a session now: its end time becomes `now` and its data stays for the sweep.
    async fn finish(&self, session_id: Uuid, now: DateTime<Utc>) -> Result<()>;

    /// Up to `limit` sessions for the sweep: those whose end time is not after `now`, oldest
    /// first, then those whose retry (after a failed attempt) is due. Sessions set aside are
    /// not among them.
    async fn expired_sessions(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Uuid>>;

    /// Records that persisting a finished session failed with `error`. It leaves the queue of
    /// finished sessions for a queue of retries, due at `retry_at`, so failing sessions never
    /// hold up the others; at the `max_tries`-th failure it is set aside with its error until an
    /// admin sends it back. Returns the failures counted so far.
    async fn persist_failed(
        &self,
        session_id: Uuid,
        error: &str,
        retry_at: DateTime<Utc>,
        max_tries: u32,
        now: DateTime<Utc>,
    ) -> Result<u32>;

    /// The sessions set aside by the sweep, oldest first.
    async fn set_aside(&self) -> Result<Vec<SetAside>>;

    /// Sends a session set aside back to the sweep, with its count of failures cleared. False
    /// when it was not set aside.
    async fn retry_set_aside(&self, session_id: Uuid) -> Result<bool>;

    /// Takes the right to persist a session for `lease`; false when someone else holds it.
    async fn claim(
        &self,
        session_id: Uuid,
        owner: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// Gives a claim back early (after a failed attempt), if `owner` still holds it.
    async fn release(&self, session_id: Uuid, owner: &str) -> Result<()>;

    /// Deletes a persisted session and everything kept for it. Removing twice is harmless.
    async fn remove_session(&self, session_id: Uuid) -> Result<()>;

    /// Counts one more event under `key` in a fixed window of `window` that starts at the first
    /// event (rate limits). Every server instance sees the same counters.
    async fn hit(&self, key: &str, window: Duration, now: DateTime<Utc>) -> Result<Counter>;

    /// The counter under `key` without counting (zero when absent or its window has passed).
    async fn peek(&self, key: &str, now: DateTime<Utc>) -> Result<Counter>;

    /// Takes one count back from the counter under `key` (an attempt counted before it was
    /// known not to count); never below zero.
    async fn forgive(&self, key: &str) -> Result<()>;

    /// Forgets the counter under `key`.
    async fn clear(&self, key: &str) -> Result<()>;

    /// Tells everyone watching the session (on any server instance) that it changed.
    async fn publish(&self, session_id: Uuid) -> Result<()>;

    /// A channel that receives a message each time the session changes, until it is dropped.
    async fn subscribe(&self, session_id: Uuid) -> Result<tokio::sync::mpsc::Receiver<()>>;

    /// How many watchers the session has now, on every instance (each holds a subscription,
    /// and on Redis a connection, until it is dropped).
    async fn watchers(&self, session_id: Uuid) -> Result<usize>;

    /// Sends a notice to the students' join pages, on every instance.
    async fn announce(&self, notice: &StudentNotice) -> Result<()>;

    /// Every notice sent from now on, on any instance, until the receiver is dropped (or the
    /// store drops the subscription: then it closes). One per instance is enough
    /// ([`crate::notices`] shares it).
    async fn notices(&self) -> Result<tokio::sync::mpsc::Receiver<StudentNotice>>;

    /// Keeps the face descriptor of a student's selfie with the session (never past it: it goes
    /// with the session) and returns those of the session's other students, to find one face on
    /// two accounts.
    async fn add_face(
        &self,
        session_id: Uuid,
        student: &str,
        descriptor: &[f32],
    ) -> Result<Vec<(String, Vec<f32>)>>;

    /// Checks that the store answers.
    async fn ping(&self) -> Result<()>;

    /// What the store keeps of acknowledged writes across its own restart; `None` for a store
    /// inside this process (it lives and dies with ATTN).
    async fn durability(&self) -> Result<Option<Durability>>;
}

/// How many change notices may wait for a slow watcher; more are dropped, which is harmless:
/// each one only says "read again".
pub(crate) const EVENT_BUFFER: usize = 16;

/// The session `id`, or `NotFound` when the store no longer has it.
pub async fn existing_session(live: &dyn LiveStore, id: Uuid) -> Result<LiveSession> {
    live.session(id)
        .await?
        .ok_or(crate::error::Error::NotFound(crate::error::Entity::Session))
}

/// A finished session the sweep could not persist after its tries, kept live for an admin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SetAside {
    /// The session.
    pub session_id: Uuid,
    /// Failed attempts.
    pub tries: u32,
    /// The last error, as the database gave it.
    pub error: String,
    /// When it was set aside.
    pub at: DateTime<Utc>,
}

/// A notice for the students' join pages of one session: read your page again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StudentNotice {
    /// The session.
    pub session_id: Uuid,
    /// Only this student's page (`None`: every student's).
    pub student: Option<String>,
}

/// A face descriptor as the live store keeps it: its numbers as little-endian bytes.
pub(crate) fn descriptor_bytes(descriptor: &[f32]) -> Vec<u8> {
    descriptor.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A descriptor back from [`descriptor_bytes`]; trailing odd bytes are dropped.
pub(crate) fn descriptor_from(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// A rate-limit counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Events in the current window.
    pub count: u64,
    /// When the window ends and the count starts again from zero.
    pub resets_at: DateTime<Utc>,
}
