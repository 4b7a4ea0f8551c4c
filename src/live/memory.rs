//! In-process live store for the embedded default: one mutex over plain maps.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Counter, LiveStore, StudentNotice};
use crate::domain::{LiveRecord, LiveSession, Recheck};
use crate::error::{Entity, Error, Result};
use crate::text::loosely_contains;

/// Live store kept in this process's memory. Gone when the process stops, which is why the
/// embedded default suits one instance trying ATTN out, and production uses Redis.
#[derive(Debug)]
pub struct MemoryLiveStore {
    state: Mutex<State>,
    events: tokio::sync::broadcast::Sender<Uuid>,
    notices: tokio::sync::broadcast::Sender<StudentNotice>,
    watchers: std::sync::Arc<Mutex<HashMap<Uuid, usize>>>,
}

/// Counts one watcher of a session for as long as it lives.
struct Watching {
    watchers: std::sync::Arc<Mutex<HashMap<Uuid, usize>>>,
    session_id: Uuid,
}

impl Watching {
    fn new(watchers: std::sync::Arc<Mutex<HashMap<Uuid, usize>>>, session_id: Uuid) -> Self {
        *watchers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(session_id)
            .or_default() += 1;
        Self {
            watchers,
            session_id,
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let mut watchers = self.watchers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = watchers.get_mut(&self.session_id) {
            *n -= 1;
            if *n == 0 {
                watchers.remove(&self.session_id);
            }
        }
    }
}

impl Default for MemoryLiveStore {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            events: tokio::sync::broadcast::channel(1024).0,
            notices: tokio::sync::broadcast::channel(super::EVENT_BUFFER).0,
            watchers: Default::default(),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    sessions: HashMap<Uuid, LiveSession>,
    records: HashMap<Uuid, BTreeMap<String, LiveRecord>>,
    teacher_active: HashMap<String, Uuid>,
    by_end: BTreeSet<(DateTime<Utc>, Uuid)>,
    leases: HashMap<Uuid, (String, DateTime<Utc>)>,
    retries: BTreeSet<(DateTime<Utc>, Uuid)>,
    tries: HashMap<Uuid, u32>,
    set_aside: HashMap<Uuid, super::SetAside>,
    counters: HashMap<String, Counter>,
    devices: HashMap<Uuid, HashMap<String, String>>,
    faces: HashMap<Uuid, BTreeMap<String, Vec<f32>>>,
}

impl MemoryLiveStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn notify(&self, session_id: Uuid) {
        // No receiver is not an error: nobody is watching.
        let _ = self.events.send(session_id);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves plain data behind; keep serving it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl LiveStore for MemoryLiveStore {
    async fn create_session(&self, session: &LiveSession, now: DateTime<Utc>) -> Result<()> {
        let mut st = self.state();
        if let Some(current) = st.teacher_active.get(&session.teacher_school_number)
            && let Some(running) = st.sessions.get(current)
            && running.is_open(now)
        {
            return Err(Error::ActiveSessionExists(running.id));
        }
        st.teacher_active
            .insert(session.teacher_school_number.clone(), session.id);
        st.by_end.insert((session.end_time, session.id));
        st.records.entry(session.id).or_default();
        st.sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn session(&self, id: Uuid) -> Result<Option<LiveSession>> {
        Ok(self.state().sessions.get(&id).cloned())
    }

    async fn add_recheck(
        &self,
        session_id: Uuid,
        recheck: &Recheck,
        before: usize,
    ) -> Result<bool> {
        {
            let mut st = self.state();
            let session = st
                .sessions
                .get_mut(&session_id)
                .ok_or(Error::NotFound(Entity::Session))?;
            if session.rechecks.len() != before {
                return Ok(false);
            }
            session.rechecks.push(recheck.clone());
        }
        self.publish(session_id).await?;
        Ok(true)
    }

    async fn active_session_of(
        &self,
        teacher: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LiveSession>> {
        let st = self.state();
        Ok(st
            .teacher_active
            .get(teacher)
            .and_then(|id| st.sessions.get(id))
            .filter(|s| s.is_open(now))
            .cloned())
    }

    async fn find_active(
        &self,
        lesson_name: &str,
        teacher_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<LiveSession>> {
        let st = self.state();
        Ok(st
            .by_end
            .range((now, Uuid::max())..)
            .filter_map(|(_, id)| st.sessions.get(id))
            .filter(|s| s.is_open(now))
            .filter(|s| {
                loosely_contains(&s.lesson_name, lesson_name)
                    && loosely_contains(&s.teacher_full_name, teacher_name)
            })
            .cloned()
            .collect())
    }

    async fn put_record(&self, session_id: Uuid, record: &LiveRecord) -> Result<()> {
        let mut st = self.state();
        if !st.sessions.contains_key(&session_id) {
            return Err(Error::NotFound(Entity::Session));
        }
        st.records
            .entry(session_id)
            .or_default()
            .insert(record.student_number.clone(), record.clone());
        drop(st);
        self.notify(session_id);
        Ok(())
    }

    async fn record_check_in(&self, session_id: Uuid, record: &LiveRecord) -> Result<LiveRecord> {
        let mut st = self.state();
        if !st.sessions.contains_key(&session_id) {
            return Err(Error::NotFound(Entity::Session));
        }
        let records = st.records.entry(session_id).or_default();
        if let Some(current) = records.get(&record.student_number)
            && current.stands()
        {
            return Ok(current.clone());
        }
        records.insert(record.student_number.clone(), record.clone());
        drop(st);
        self.notify(session_id);
        Ok(record.clone())
    }

    async fn claim_device(&self, session_id: Uuid, device: &str, student: &str) -> Result<String> {
        let mut st = self.state();
        Ok(st
            .devices
            .entry(session_id)
            .or_default()
            .entry(device.to_owned())
            .or_insert_with(|| student.to_owned())
            .clone())
    }

    async fn record(&self, session_id: Uuid, student: &str) -> Result<Option<LiveRecord>> {
        Ok(self
            .state()
            .records
            .get(&session_id)
            .and_then(|r| r.get(student))
            .cloned())
    }

    async fn records(&self, session_id: Uuid) -> Result<Vec<LiveRecord>> {
        Ok(self
            .state()
            .records
            .get(&session_id)
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn finish(&self, session_id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let mut st = self.state();
        let Some(session) = st.sessions.get_mut(&session_id) else {
            return Err(Error::NotFound(Entity::Session));
        };
        let old_end = session.end_time;
        if now >= old_end {
            return Ok(());
        }
        session.end_time = now;
        st.by_end.remove(&(old_end, session_id));
        st.by_end.insert((now, session_id));
        drop(st);
        self.notify(session_id);
        Ok(())
    }

    async fn expired_sessions(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Uuid>> {
        let st = self.state();
        let due = |queue: &BTreeSet<(DateTime<Utc>, Uuid)>| {
            queue
                .iter()
                .take_while(|(at, _)| *at <= now)
                .map(|(_, id)| *id)
                .collect::<Vec<_>>()
        };
        Ok(due(&st.by_end)
            .into_iter()
            .chain(due(&st.retries))
            .take(limit)
            .collect())
    }

    async fn persist_failed(
        &self,
        session_id: Uuid,
        error: &str,
        retry_at: DateTime<Utc>,
        max_tries: u32,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        let mut st = self.state();
        let Some(end) = st.sessions.get(&session_id).map(|s| s.end_time) else {
            return Ok(0);
        };
        let tries = {
            let tries = st.tries.entry(session_id).or_default();
            *tries += 1;
            *tries
        };
        st.by_end.remove(&(end, session_id));
        st.retries.retain(|(_, id)| *id != session_id);
        if tries >= max_tries {
            st.set_aside.insert(
                session_id,
                super::SetAside {
                    session_id,
                    tries,
                    error: error.to_owned(),
                    at: now,
                },
            );
        } else {
            st.retries.insert((retry_at, session_id));
        }
        Ok(tries)
    }

    async fn set_aside(&self) -> Result<Vec<super::SetAside>> {
        let mut all: Vec<_> = self.state().set_aside.values().cloned().collect();
        all.sort_by_key(|s| (s.at, s.session_id));
        Ok(all)
    }

    async fn retry_set_aside(&self, session_id: Uuid) -> Result<bool> {
        let mut st = self.state();
        if st.set_aside.remove(&session_id).is_none() {
            return Ok(false);
        }
        st.tries.remove(&session_id);
        if let Some(end) = st.sessions.get(&session_id).map(|s| s.end_time) {
            st.by_end.insert((end, session_id));
        }
        Ok(true)
    }

    async fn claim(
        &self,
        session_id: Uuid,
        owner: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut st = self.state();
        if let Some((_, until)) = st.leases.get(&session_id)
            && *until > now
        {
            return Ok(false);
        }
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        st.leases.insert(session_id, (owner.to_owned(), until));
        Ok(true)
    }

    async fn release(&self, session_id: Uuid, owner: &str) -> Result<()> {
        let mut st = self.state();
        if st.leases.get(&session_id).is_some_and(|(o, _)| o == owner) {
            st.leases.remove(&session_id);
        }
        Ok(())
    }

    async fn remove_session(&self, session_id: Uuid) -> Result<()> {
        let mut st = self.state();
        if let Some(session) = st.sessions.remove(&session_id) {
            st.by_end.remove(&(session.end_time, session_id));
            if st.teacher_active.get(&session.teacher_school_number) == Some(&session_id) {
                st.teacher_active.remove(&session.teacher_school_number);
            }
        }
        st.records.remove(&session_id);
        st.devices.remove(&session_id);
        st.faces.remove(&session_id);
        st.leases.remove(&session_id);
        st.retries.retain(|(_, id)| *id != session_id);
        st.tries.remove(&session_id);
        st.set_aside.remove(&session_id);
        Ok(())
    }

    async fn hit(&self, key: &str, window: Duration, now: DateTime<Utc>) -> Result<Counter> {
        let mut st = self.state();
        let counter = st.counters.entry(key.to_owned()).or_insert(Counter {
            count: 0,
            resets_at: now,
        });
        if counter.resets_at <= now {
            *counter = Counter {
                count: 0,
                resets_at: now
                    + chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX),
            };
        }
        counter.count += 1;
        let counter = *counter;
        // Keep the map from growing without bound: drop windows that are over.
        if st.counters.len() > 10_000 {
            st.counters.retain(|_, c| c.resets_at > now);
        }
        Ok(counter)
    }

    async fn peek(&self, key: &str, now: DateTime<Utc>) -> Result<Counter> {
        Ok(self
            .state()
            .counters
            .get(key)
            .filter(|c| c.resets_at > now)
            .copied()
            .unwrap_or(Counter {
                count: 0,
                resets_at: now,
            }))
    }

    async fn forgive(&self, key: &str) -> Result<()> {
        if let Some(counter) = self.state().counters.get_mut(key) {
            counter.count = counter.count.saturating_sub(1);
        }
        Ok(())
    }

    async fn clear(&self, key: &str) -> Result<()> {
        self.state().counters.remove(key);
        Ok(())
    }

    async fn publish(&self, session_id: Uuid) -> Result<()> {
        self.notify(session_id);
        Ok(())
    }

    async fn subscribe(&self, session_id: Uuid) -> Result<tokio::sync::mpsc::Receiver<()>> {
        use tokio::sync::broadcast::error::RecvError;
        use tokio::sync::mpsc::error::TrySendError;

        let mut events = self.events.subscribe();
        let (tx, rx) = tokio::sync::mpsc::channel(super::EVENT_BUFFER);
        let watching = Watching::new(self.watchers.clone(), session_id);
        // Ends as soon as the watcher goes away, whatever the other sessions do meanwhile.
        tokio::spawn(async move {
            let _watching = watching;
            loop {
                let event = tokio::select! {
                    _ = tx.closed() => break,
                    event = events.recv() => event,
                };
                match event {
                    Ok(id) if id != session_id => continue,
                    // A full buffer already says "read again".
                    Ok(_) | Err(RecvError::Lagged(_)) => match tx.try_send(()) {
                        Ok(()) | Err(TrySendError::Full(())) => {}
                        Err(TrySendError::Closed(())) => break,
                    },
                    Err(RecvError::Closed) => break,
                }
            }
        });
        Ok(rx)
    }

    async fn watchers(&self, session_id: Uuid) -> Result<usize> {
        let watchers = self.watchers.lock().unwrap_or_else(|e| e.into_inner());
        Ok(watchers.get(&session_id).copied().unwrap_or(0))
    }

    async fn announce(&self, notice: &StudentNotice) -> Result<()> {
        // Nobody listening is fine.
        let _ = self.notices.send(notice.clone());
        Ok(())
    }

    async fn notices(&self) -> Result<tokio::sync::mpsc::Receiver<StudentNotice>> {
        use tokio::sync::broadcast::error::RecvError;

        let mut notices = self.notices.subscribe();
        let (tx, rx) = tokio::sync::mpsc::channel(super::EVENT_BUFFER);
        tokio::spawn(async move {
            loop {
                let notice = tokio::select! {
                    _ = tx.closed() => break,
                    notice = notices.recv() => notice,
                };
                match notice {
                    Ok(notice) => {
                        if tx.send(notice).await.is_err() {
                            break;
                        }
                    }
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                }
            }
        });
        Ok(rx)
    }

    async fn add_face(
        &self,
        session_id: Uuid,
        student: &str,
        descriptor: &[f32],
    ) -> Result<Vec<(String, Vec<f32>)>> {
        let mut st = self.state();
        if !st.sessions.contains_key(&session_id) {
            return Err(Error::NotFound(Entity::Session));
        }
        let faces = st.faces.entry(session_id).or_default();
        faces.insert(student.to_owned(), descriptor.to_vec());
        Ok(faces
            .iter()
            .filter(|(number, _)| number.as_str() != student)
            .map(|(number, d)| (number.clone(), d.clone()))
            .collect())
    }

    async fn ping(&self) -> Result<()> {
        Ok(())
    }

    async fn durability(&self) -> Result<Option<super::Durability>> {
        Ok(None)
    }
}
