//! Redis live store. Every key of one session carries the session id as its hash tag
//! (`{<id>}`), so the multi-key steps below stay within one slot and the same code runs on
//! Redis Cluster. Request paths use explicit indexes, never SCAN or KEYS.
//!
//! Keys (`<p>` is the configured prefix):
//! - `<p>:session:{<id>}`  the session as JSON
//! - `<p>:records:{<id>}`  hash: student number -> record as JSON
//! - `<p>:lease:{<id>}`    who is persisting the session (expires by itself)
//! - `<p>:devices:{<id>}`  hash: device id -> the student who checked in with it
//! - `<p>:teacher:<no>`    `<id>|<end ms>|<taken ms>`: the teacher's latest session, for the one-active rule
//! - `<p>:ends`            sorted set: session id scored by end time in ms
//! - `<p>:events:{<id>}`   pub/sub channel: "changed" after every change of the session

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, cmd};
use uuid::Uuid;

use super::{Counter, LiveStore};
use crate::domain::{LiveRecord, LiveSession};
use crate::error::{Entity, Error, Result};
use crate::text::loosely_contains;

/// How long a teacher's lock outlives the session's end, so a stuck sweep never leaves it forever.
const TEACHER_LOCK_SLACK_MS: i64 = 24 * 3600 * 1000;

/// A lock whose session document is still missing this long after it was taken belongs to a
/// start that died half-way, and may be replaced. Younger, it is a start still under way.
const HALF_STARTED_AFTER_MS: i64 = 10_000;

/// Takes the teacher's one-active-session lock unless an active session holds it. A holder
/// named in ARGV[4] is known to be gone and may be replaced. The value is
/// `<id>|<end ms>|<taken at ms>`.
const CLAIM_TEACHER: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur then
  local cur_id, cur_end = string.match(cur, '^([^|]*)|([^|]*)')
  if tonumber(cur_end) > tonumber(ARGV[3]) and cur_id ~= ARGV[4] then
    return cur_id
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[3], 'PX', ARGV[5])
return false
";

/// Moves the end time kept in the teacher's lock, if the lock is still this session's.
const MOVE_TEACHER_END: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur then
  local cur_id, _, taken = string.match(cur, '^([^|]*)|([^|]*)|?(.*)$')
  if cur_id == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2] .. '|' .. taken, 'KEEPTTL')
  end
end
return 0
";

/// Drops the teacher's lock if it is still this session's.
const RELEASE_TEACHER: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|' then
  redis.call('DEL', KEYS[1])
end
return 0
";

/// Writes a record only while its session exists, so a late write cannot outlive the sweep.
const PUT_RECORD: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
";

/// Writes a check-in unless the record that is there stands (attended, or removed by the
/// teacher); answers the record that stands. The JSON is serde's, field order and spacing fixed.
const CHECK_IN: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur and (string.find(cur, '"is_attended":true', 1, true)
            or not string.find(cur, '"deletion":null', 1, true)) then
  return cur
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return ARGV[2]
"#;

/// Counts one event in a fixed window that starts at the first event. The window's end is kept
/// in the hash, in the caller's clock; the key's TTL only collects garbage.
const HIT: &str = r"
local now = tonumber(ARGV[1])
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset') or '0')
if reset <= now then
  reset = now + tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'n', 0, 'reset', reset)
end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('PEXPIRE', KEYS[1], reset - now + 60000)
return {n, reset}
";

/// Deletes a key only if it holds the given value.
const DELETE_IF_EQUAL: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
";

/// Live store on Redis, shared by every server instance.
#[derive(Clone)]
pub struct RedisLiveStore {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    scripts: std::sync::Arc<Scripts>,
}

struct Scripts {
    claim_teacher: Script,
    move_teacher_end: Script,
    release_teacher: Script,
    put_record: Script,
    delete_if_equal: Script,
    hit: Script,
    check_in: Script,
}

impl std::fmt::Debug for RedisLiveStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLiveStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisLiveStore {
    /// Connects to `url`; every key starts with `prefix` (which must not contain `{` or `}`).
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        if prefix.contains(['{', '}']) {
            return Err(Error::Config {
                variable: "ATTN_REDIS_PREFIX",
                problem: "must not contain { or }".into(),
            });
        }
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(5))
            .set_response_timeout(Duration::from_secs(5))
            .set_number_of_retries(2);
        let conn = ConnectionManager::new_with_config(client.clone(), config).await?;
        Ok(Self {
            client,
            conn,
            prefix: prefix.to_owned(),
            scripts: std::sync::Arc::new(Scripts {
                claim_teacher: Script::new(CLAIM_TEACHER),
                move_teacher_end: Script::new(MOVE_TEACHER_END),
                release_teacher: Script::new(RELEASE_TEACHER),
                put_record: Script::new(PUT_RECORD),
                delete_if_equal: Script::new(DELETE_IF_EQUAL),
                hit: Script::new(HIT),
                check_in: Script::new(CHECK_IN),
            }),
        })
    }

    /// The connection, for other Redis users of the same process (rate limits, events).
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    fn session_key(&self, id: Uuid) -> String {
        format!("{}:session:{{{id}}}", self.prefix)
    }

    fn records_key(&self, id: Uuid) -> String {
        format!("{}:records:{{{id}}}", self.prefix)
    }

    fn devices_key(&self, id: Uuid) -> String {
        format!("{}:devices:{{{id}}}", self.prefix)
    }

    fn lease_key(&self, id: Uuid) -> String {
        format!("{}:lease:{{{id}}}", self.prefix)
    }

    fn teacher_key(&self, teacher: &str) -> String {
        format!("{}:teacher:{teacher}", self.prefix)
    }

    fn counter_key(&self, key: &str) -> String {
        format!("{}:count:{key}", self.prefix)
    }

    fn events_channel(&self, id: Uuid) -> String {
        format!("{}:events:{{{id}}}", self.prefix)
    }

    fn ends_key(&self) -> String {
        format!("{}:ends", self.prefix)
    }

    /// The teacher's lock: the session id, its end and when the lock was taken (ms).
    async fn teacher_lock(&self, teacher: &str) -> Result<Option<(Uuid, i64, i64)>> {
        let value: Option<String> = cmd("GET")
            .arg(self.teacher_key(teacher))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(value.and_then(|v| {
            let mut parts = v.split('|');
            let id = Uuid::parse_str(parts.next()?).ok()?;
            let end = parts.next()?.parse().ok()?;
            let taken = parts.next().and_then(|t| t.parse().ok()).unwrap_or(0);
            Some((id, end, taken))
        }))
    }
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

#[async_trait]
impl LiveStore for RedisLiveStore {
    async fn create_session(&self, session: &LiveSession, now: DateTime<Utc>) -> Result<()> {
        let mut conn = self.conn.clone();
        // A lock whose session never appeared (a start that died between the steps below) may
        // be replaced; a recent one is another start still under way, and wins.
        let mut stale = String::new();
        if let Some((holder, end, taken)) =
            self.teacher_lock(&session.teacher_school_number).await?
            && end > ms(now)
            && ms(now) - taken >= HALF_STARTED_AFTER_MS
            && self.session(holder).await?.is_none()
        {
            stale = holder.to_string();
        }
        let ttl = (ms(session.end_time) - ms(now)).max(0) + TEACHER_LOCK_SLACK_MS;
        let holder: Option<String> = self
            .scripts
            .claim_teacher
            .key(self.teacher_key(&session.teacher_school_number))
            .arg(session.id.to_string())
            .arg(ms(session.end_time))
            .arg(ms(now))
            .arg(stale)
            .arg(ttl)
            .invoke_async(&mut conn)
            .await?;
        if let Some(holder) = holder {
            let id = Uuid::parse_str(&holder).unwrap_or_default();
            return Err(Error::ActiveSessionExists(id));
        }
        // Index first: an index entry without data is dropped by the sweep, while data without
        // an index entry would never be persisted.
        let _: () = cmd("ZADD")
            .arg(self.ends_key())
            .arg(ms(session.end_time))
            .arg(session.id.to_string())
            .query_async(&mut conn)
            .await?;
        let _: () = cmd("SET")
            .arg(self.session_key(session.id))
            .arg(serde_json::to_string(session)?)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    async fn session(&self, id: Uuid) -> Result<Option<LiveSession>> {
        let raw: Option<String> = cmd("GET")
            .arg(self.session_key(id))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    async fn active_session_of(
        &self,
        teacher: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LiveSession>> {
        let Some((id, end, _)) = self.teacher_lock(teacher).await? else {
            return Ok(None);
        };
        if end <= ms(now) {
            return Ok(None);
        }
        Ok(self.session(id).await?.filter(|s| s.is_open(now)))
    }

    async fn find_active(
        &self,
        lesson_name: &str,
        teacher_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<LiveSession>> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = cmd("ZRANGEBYSCORE")
            .arg(self.ends_key())
            .arg(format!("({}", ms(now)))
            .arg("+inf")
            .query_async(&mut conn)
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // One GET per key in one pipeline: no cross-slot MGET, one round trip.
        let mut pipe = redis::pipe();
        for id in &ids {
            if let Ok(id) = Uuid::parse_str(id) {
                pipe.cmd("GET").arg(self.session_key(id));
            }
        }
        let raw: Vec<Option<String>> = pipe.query_async(&mut conn).await?;
        let mut found = Vec::new();
        for json in raw.into_iter().flatten() {
            let s: LiveSession = serde_json::from_str(&json)?;
            if s.is_open(now)
                && loosely_contains(&s.lesson_name, lesson_name)
                && loosely_contains(&s.teacher_full_name, teacher_name)
            {
                found.push(s);
            }
        }
        Ok(found)
    }

    async fn put_record(&self, session_id: Uuid, record: &LiveRecord) -> Result<()> {
        let written: i64 = self
            .scripts
            .put_record
            .key(self.session_key(session_id))
            .key(self.records_key(session_id))
            .arg(&record.student_number)
            .arg(serde_json::to_string(record)?)
            .invoke_async(&mut self.conn.clone())
            .await?;
        if written == 0 {
            return Err(Error::NotFound(Entity::Session));
        }
        self.publish(session_id).await
    }

    async fn record_check_in(&self, session_id: Uuid, record: &LiveRecord) -> Result<LiveRecord> {
        let standing: Option<String> = self
            .scripts
            .check_in
            .key(self.session_key(session_id))
            .key(self.records_key(session_id))
            .arg(&record.student_number)
            .arg(serde_json::to_string(record)?)
            .invoke_async(&mut self.conn.clone())
            .await?;
        match standing {
            Some(json) => {
                self.publish(session_id).await?;
                Ok(serde_json::from_str(&json)?)
            }
            None => Err(Error::NotFound(Entity::Session)),
        }
    }

    async fn claim_device(&self, session_id: Uuid, device: &str, student: &str) -> Result<String> {
        let mut conn = self.conn.clone();
        let key = self.devices_key(session_id);
        let _: i64 = cmd("HSETNX")
            .arg(&key)
            .arg(device)
            .arg(student)
            .query_async(&mut conn)
            .await?;
        let owner: Option<String> = cmd("HGET")
            .arg(&key)
            .arg(device)
            .query_async(&mut conn)
            .await?;
        Ok(owner.unwrap_or_else(|| student.to_owned()))
    }

    async fn record(&self, session_id: Uuid, student: &str) -> Result<Option<LiveRecord>> {
        let raw: Option<String> = cmd("HGET")
            .arg(self.records_key(session_id))
            .arg(student)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    async fn records(&self, session_id: Uuid) -> Result<Vec<LiveRecord>> {
        let raw: Vec<String> = cmd("HVALS")
            .arg(self.records_key(session_id))
            .query_async(&mut self.conn.clone())
            .await?;
        let mut records = raw
            .iter()
            .map(|r| serde_json::from_str::<LiveRecord>(r))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        records.sort_by(|a, b| a.student_number.cmp(&b.student_number));
        Ok(records)
    }

    async fn finish(&self, session_id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let mut conn = self.conn.clone();
        let Some(mut session) = self.session(session_id).await? else {
            return Err(Error::NotFound(Entity::Session));
        };
        if now >= session.end_time {
            return Ok(());
        }
        session.end_time = now;
        // XX: never bring back a session the sweep removed in the meantime.
        let _: Option<String> = cmd("SET")
            .arg(self.session_key(session_id))
            .arg(serde_json::to_string(&session)?)
            .arg("XX")
            .query_async(&mut conn)
            .await?;
        let _: () = cmd("ZADD")
            .arg(self.ends_key())
            .arg("XX")
            .arg(ms(now))
            .arg(session_id.to_string())
            .query_async(&mut conn)
            .await?;
        let _: i64 = self
            .scripts
            .move_teacher_end
            .key(self.teacher_key(&session.teacher_school_number))
            .arg(session_id.to_string())
            .arg(ms(now))
            .invoke_async(&mut conn)
            .await?;
        self.publish(session_id).await
    }

    async fn expired_sessions(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Uuid>> {
        let ids: Vec<String> = cmd("ZRANGEBYSCORE")
            .arg(self.ends_key())
            .arg("-inf")
            .arg(ms(now))
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(ids
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect())
    }

    async fn claim(
        &self,
        session_id: Uuid,
        owner: &str,
        lease: Duration,
        _now: DateTime<Utc>,
    ) -> Result<bool> {
        let set: Option<String> = cmd("SET")
            .arg(self.lease_key(session_id))
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(lease.as_millis().max(1) as u64)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(set.is_some())
    }

    async fn release(&self, session_id: Uuid, owner: &str) -> Result<()> {
        let _: i64 = self
            .scripts
            .delete_if_equal
            .key(self.lease_key(session_id))
            .arg(owner)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn remove_session(&self, session_id: Uuid) -> Result<()> {
        let mut conn = self.conn.clone();
        let session = self.session(session_id).await?;
        // One DEL over keys of one slot: atomic, and Cluster-safe thanks to the hash tag.
        let _: i64 = cmd("DEL")
            .arg(self.session_key(session_id))
            .arg(self.records_key(session_id))
            .arg(self.devices_key(session_id))
            .arg(self.lease_key(session_id))
            .query_async(&mut conn)
            .await?;
        if let Some(session) = session {
            let _: i64 = self
                .scripts
                .release_teacher
                .key(self.teacher_key(&session.teacher_school_number))
                .arg(session_id.to_string())
                .invoke_async(&mut conn)
                .await?;
        }
        let _: i64 = cmd("ZREM")
            .arg(self.ends_key())
            .arg(session_id.to_string())
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    async fn hit(&self, key: &str, window: Duration, now: DateTime<Utc>) -> Result<Counter> {
        let (count, reset): (u64, i64) = self
            .scripts
            .hit
            .key(self.counter_key(key))
            .arg(ms(now))
            .arg(window.as_millis().max(1) as u64)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(Counter {
            count,
            resets_at: DateTime::from_timestamp_millis(reset).unwrap_or(now),
        })
    }

    async fn peek(&self, key: &str, now: DateTime<Utc>) -> Result<Counter> {
        let (count, reset): (Option<u64>, Option<i64>) = cmd("HMGET")
            .arg(self.counter_key(key))
            .arg("n")
            .arg("reset")
            .query_async(&mut self.conn.clone())
            .await?;
        let resets_at = reset.and_then(DateTime::from_timestamp_millis);
        Ok(match (count, resets_at) {
            (Some(count), Some(resets_at)) if resets_at > now => Counter { count, resets_at },
            _ => Counter {
                count: 0,
                resets_at: now,
            },
        })
    }

    async fn clear(&self, key: &str) -> Result<()> {
        let _: i64 = cmd("DEL")
            .arg(self.counter_key(key))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn publish(&self, session_id: Uuid) -> Result<()> {
        let _: i64 = cmd("PUBLISH")
            .arg(self.events_channel(session_id))
            .arg("changed")
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn subscribe(&self, session_id: Uuid) -> Result<tokio::sync::mpsc::Receiver<()>> {
        use futures_util::StreamExt;

        // Pub/sub needs a connection of its own; it lives as long as the watcher.
        let mut pubsub = self.client.get_async_pubsub().await?;
        pubsub.subscribe(self.events_channel(session_id)).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(super::EVENT_BUFFER);
        tokio::spawn(async move {
            let mut messages = pubsub.into_on_message();
            while messages.next().await.is_some() {
                if tx.send(()).await.is_err() {
                    break;
                }
            }
        });
        Ok(rx)
    }

    async fn ping(&self) -> Result<()> {
        let _: String = cmd("PING").query_async(&mut self.conn.clone()).await?;
        Ok(())
    }
}
