//! Redis live store, on one Redis (`redis://host:port`) or a Redis Cluster
//! (`redis-cluster://host:port?node=host:port&node=host:port`, any of its masters). Every key of
//! one session carries the session id as its hash tag (`{<id>}`), so the multi-key steps below
//! stay within one slot and run the same on both. Request paths use explicit indexes, never
//! SCAN or KEYS.
//!
//! Keys (`<p>` is the configured prefix):
//! - `<p>:session:{<id>}`  the session as JSON
//! - `<p>:records:{<id>}`  hash: student number -> record as JSON
//! - `<p>:lease:{<id>}`    who is persisting the session (expires by itself)
//! - `<p>:devices:{<id>}`  hash: device id -> the student who checked in with it
//! - `<p>:teacher:<no>`    `<id>|<end ms>|<taken ms>`: the teacher's latest session, for the one-active rule
//! - `<p>:ends`            sorted set: session id scored by end time in ms
//! - `<p>:faces:{<id>}`    hash: student number -> face descriptor of their selfie (level 3),
//!   to find one face on two accounts; removed with the session, never persisted
//! - `<p>:events:{<id>}`   pub/sub channel: "changed" after every change of the session
//! - `<p>:notices`         pub/sub channel: notices for the students' join pages (JSON), few
//!   enough for one channel that every instance subscribes to once

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Script, Value, cmd};
use uuid::Uuid;

use super::{Counter, LiveStore, StudentNotice};
use crate::domain::{LiveRecord, LiveSession, Recheck};
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

/// Adds a re-check (ARGV[1]) to a session's list unless the list no longer has ARGV[2] entries:
/// 1 added, -1 another came first, 0 no such session.
const ADD_RECHECK: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('LLEN', KEYS[2]) ~= tonumber(ARGV[2]) then return -1 end
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
";

/// Keeps a student's face descriptor with a live session; answers every descriptor of it
/// (field, value, ...), or false when the session is gone.
const ADD_FACE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return redis.call('HGETALL', KEYS[2])
";

/// Writes a check-in unless the record that is there stands (attended, removed by the teacher,
/// or given a status by the teacher); answers the record that stands. The JSON is serde's,
/// field order and spacing fixed.
const CHECK_IN: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur and (string.find(cur, '"is_attended":true', 1, true)
            or not string.find(cur, '"deletion":null', 1, true)
            or string.find(cur, '"marked":"', 1, true)) then
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

/// Takes one back from a counter of `HIT`, never below zero.
const FORGIVE: &str = r"
if tonumber(redis.call('HGET', KEYS[1], 'n') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'n', -1)
end
return 0
";

/// Deletes a key only if it holds the given value.
const DELETE_IF_EQUAL: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
";

/// The nodes of a Redis Cluster URL (`redis-cluster://[user:pass@]host:port?node=host:port..`,
/// or `rediss-cluster://` over TLS) as plain Redis URLs; `None` for any other URL.
pub fn cluster_nodes(url: &str) -> Option<Vec<String>> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme {
        "redis-cluster" => "redis",
        "rediss-cluster" => "rediss",
        _ => return None,
    };
    let (first, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (user, first) = match first.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host),
        None => (String::new(), first),
    };
    let first = first.trim_end_matches('/');
    let others = query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("node="))
        .filter(|node| !node.is_empty());
    Some(
        std::iter::once(first)
            .chain(others)
            .map(|node| format!("{scheme}://{user}{node}"))
            .collect(),
    )
}

/// One connection to a single Redis (reconnecting by itself) or to a Redis Cluster (each
/// command sent to the master of its key's slot, the slot map refreshed when it moves).
#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(c) => c.req_packed_command(cmd),
            Connection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
        }
    }
}

/// Live store on Redis, shared by every server instance.
#[derive(Clone)]
pub struct RedisLiveStore {
    /// For subscriptions (on a cluster, to its first node: a PUBLISH reaches every node).
    client: redis::Client,
    conn: Connection,
    prefix: String,
    scripts: std::sync::Arc<Scripts>,
}

struct Scripts {
    claim_teacher: Script,
    move_teacher_end: Script,
    release_teacher: Script,
    put_record: Script,
    add_recheck: Script,
    add_face: Script,
    delete_if_equal: Script,
    hit: Script,
    forgive: Script,
    check_in: Script,
}

/// What a Redis keeps of acknowledged writes across a restart. `None`: not readable there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Durability {
    /// `appendonly yes`: every write goes to the append-only file.
    pub append_only: Option<bool>,
    /// `appendfsync`: `always` (flushed to disk before the answer) or `everysec` (in the OS's
    /// hands at once, on disk within a second); `no` leaves it to the OS.
    pub fsync: Option<String>,
    /// `maxmemory-policy`: anything but `noeviction` lets Redis drop running sessions when full.
    pub eviction: Option<String>,
}

impl Durability {
    /// True when a check-in Redis acknowledged survives a restart or a `kill -9` of Redis:
    /// append-only file on, fsync `always` or `everysec`, and no eviction.
    pub fn keeps_acknowledged_writes(&self) -> bool {
        self.append_only == Some(true)
            && matches!(self.fsync.as_deref(), Some("always" | "everysec") | None)
            && matches!(self.eviction.as_deref(), Some("noeviction") | None)
    }

    /// What is missing, in the words of redis.conf.
    pub fn shortfalls(&self) -> Vec<String> {
        let mut missing = Vec::new();
        if self.append_only != Some(true) {
            missing.push("appendonly yes".to_owned());
        }
        if let Some(fsync) = self
            .fsync
            .as_deref()
            .filter(|f| !matches!(*f, "always" | "everysec"))
        {
            missing.push(format!("appendfsync everysec (is {fsync})"));
        }
        if let Some(policy) = self.eviction.as_deref().filter(|p| *p != "noeviction") {
            missing.push(format!("maxmemory-policy noeviction (is {policy})"));
        }
        missing
    }
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
        let (client, conn) = match cluster_nodes(url) {
            Some(nodes) => {
                let cluster = redis::cluster::ClusterClientBuilder::new(nodes.clone())
                    .connection_timeout(Duration::from_secs(1))
                    .response_timeout(Duration::from_secs(2))
                    .retries(2)
                    .max_retry_wait(500)
                    .build()?;
                let conn = cluster.get_async_connection().await?;
                (
                    redis::Client::open(nodes[0].as_str())?,
                    Connection::Cluster(conn),
                )
            }
            None => {
                let client = redis::Client::open(url)?;
                // While Redis is away a command fails within about a second instead of
                // hanging, and the first one after it is back reconnects. The delay between
                // tries starts at the retry library's one second and doubles (`factor`),
                // capped at half a second: a larger factor (the default is 100) would make
                // the third try wait minutes.
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Duration::from_secs(1))
                    .set_response_timeout(Duration::from_secs(2))
                    .set_factor(2)
                    .set_max_delay(500)
                    .set_number_of_retries(1);
                let conn = ConnectionManager::new_with_config(client.clone(), config).await?;
                (client, Connection::Single(conn))
            }
        };
        Ok(Self {
            client,
            conn,
            prefix: prefix.to_owned(),
            scripts: std::sync::Arc::new(Scripts {
                claim_teacher: Script::new(CLAIM_TEACHER),
                move_teacher_end: Script::new(MOVE_TEACHER_END),
                release_teacher: Script::new(RELEASE_TEACHER),
                put_record: Script::new(PUT_RECORD),
                add_recheck: Script::new(ADD_RECHECK),
                add_face: Script::new(ADD_FACE),
                delete_if_equal: Script::new(DELETE_IF_EQUAL),
                hit: Script::new(HIT),
                forgive: Script::new(FORGIVE),
                check_in: Script::new(CHECK_IN),
            }),
        })
    }

    /// What this Redis promises about acknowledged writes across a restart, from `CONFIG GET`
    /// (or `INFO` where `CONFIG` is disabled, as on some managed services).
    async fn read_durability(&self) -> Result<Durability> {
        let mut conn = self.conn.clone();
        let read = |pairs: Vec<String>| {
            pairs
                .chunks(2)
                .filter_map(|kv| Some((kv.first()?.clone(), kv.get(1)?.clone())))
                .collect::<std::collections::HashMap<_, _>>()
        };
        let config: std::result::Result<Vec<String>, _> = cmd("CONFIG")
            .arg("GET")
            .arg("appendonly")
            .arg("appendfsync")
            .arg("maxmemory-policy")
            .query_async(&mut conn)
            .await;
        let config = match config {
            Err(e)
                if e.is_io_error()
                    || e.is_timeout()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal() =>
            {
                return Err(e.into());
            }
            other => other,
        };
        if let Ok(pairs) = config {
            let values = read(pairs);
            return Ok(Durability {
                append_only: values.get("appendonly").map(|v| v == "yes"),
                fsync: values.get("appendfsync").cloned(),
                eviction: values.get("maxmemory-policy").cloned(),
            });
        }
        let info: String = cmd("INFO")
            .arg("persistence")
            .query_async(&mut conn)
            .await?;
        let aof = info
            .lines()
            .find_map(|l| l.strip_prefix("aof_enabled:"))
            .map(|v| v.trim() == "1");
        Ok(Durability {
            append_only: aof,
            fsync: None,
            eviction: None,
        })
    }

    /// The join-code key all instances on this Redis share: made once by whichever instance
    /// comes first, so a code shown by one is accepted by all without anyone configuring it.
    pub async fn shared_join_secret(&self) -> Result<String> {
        let key = format!("{}:join-secret", self.prefix);
        let mine = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        let mut conn = self.conn.clone();
        let _: Option<String> = cmd("SET")
            .arg(&key)
            .arg(&mine)
            .arg("NX")
            .query_async(&mut conn)
            .await?;
        Ok(cmd("GET").arg(&key).query_async(&mut conn).await?)
    }

    fn session_key(&self, id: Uuid) -> String {
        format!("{}:session:{{{id}}}", self.prefix)
    }

    fn records_key(&self, id: Uuid) -> String {
        format!("{}:records:{{{id}}}", self.prefix)
    }

    fn rechecks_key(&self, id: Uuid) -> String {
        format!("{}:rechecks:{{{id}}}", self.prefix)
    }

    fn devices_key(&self, id: Uuid) -> String {
        format!("{}:devices:{{{id}}}", self.prefix)
    }

    fn faces_key(&self, id: Uuid) -> String {
        format!("{}:faces:{{{id}}}", self.prefix)
    }

    fn notices_channel(&self) -> String {
        format!("{}:notices", self.prefix)
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

    /// Sessions waiting to be persisted again after a failed attempt, by when.
    fn retries_key(&self) -> String {
        format!("{}:sweep-retries", self.prefix)
    }

    /// Failed attempts per session.
    fn tries_key(&self) -> String {
        format!("{}:sweep-tries", self.prefix)
    }

    /// Sessions set aside after their last try, with their error.
    fn set_aside_key(&self) -> String {
        format!("{}:sweep-set-aside", self.prefix)
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
        // So may a lock whose session has ended by its own document: a finish cut short
        // before it moved the lock. The session's end is what counts, never the lock's copy.
        let mut stale = String::new();
        if let Some((holder, end, taken)) =
            self.teacher_lock(&session.teacher_school_number).await?
            && end > ms(now)
        {
            let replaceable = match self.session(holder).await? {
                None => ms(now) - taken >= HALF_STARTED_AFTER_MS,
                Some(held) => !held.is_open(now),
            };
            if replaceable {
                stale = holder.to_string();
            }
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
        // One slot (the hash tag), one round trip: the session and its re-checks, which live
        // in a list of their own so that adding one never rewrites the session.
        let (raw, rechecks): (Option<String>, Vec<String>) = redis::pipe()
            .cmd("GET")
            .arg(self.session_key(id))
            .cmd("LRANGE")
            .arg(self.rechecks_key(id))
            .arg(0)
            .arg(-1)
            .query_async(&mut self.conn.clone())
            .await?;
        let Some(raw) = raw else {
            return Ok(None);
        };
        let mut session: LiveSession = serde_json::from_str(&raw)?;
        session.rechecks = rechecks
            .iter()
            .map(|r| serde_json::from_str(r))
            .collect::<std::result::Result<_, _>>()?;
        Ok(Some(session))
    }

    async fn add_recheck(
        &self,
        session_id: Uuid,
        recheck: &Recheck,
        before: usize,
    ) -> Result<bool> {
        let added: i64 = self
            .scripts
            .add_recheck
            .key(self.session_key(session_id))
            .key(self.rechecks_key(session_id))
            .arg(serde_json::to_string(recheck)?)
            .arg(before)
            .invoke_async(&mut self.conn.clone())
            .await?;
        match added {
            0 => Err(Error::NotFound(Entity::Session)),
            -1 => Ok(false),
            _ => {
                self.publish(session_id).await?;
                Ok(true)
            }
        }
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
        // One GET per session, all in flight at once on the multiplexed connection: neither an
        // MGET nor a pipeline, which on a cluster would cross slots.
        let gets = ids
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .map(|id| {
                let mut conn = conn.clone();
                let key = self.session_key(id);
                async move {
                    cmd("GET")
                        .arg(key)
                        .query_async::<Option<String>>(&mut conn)
                        .await
                }
            });
        let raw = futures_util::future::try_join_all(gets).await?;
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
        // Three keys of different slots, so three steps; each is idempotent and none is skipped
        // on a second call, so finishing again completes a finish that failed half-way (the
        // teacher's lock is released even if the session already shows as ended).
        let end = session.end_time.min(now);
        if end < session.end_time {
            session.end_time = end;
            // XX: never bring back a session the sweep removed in the meantime.
            let _: Option<String> = cmd("SET")
                .arg(self.session_key(session_id))
                .arg(serde_json::to_string(&session)?)
                .arg("XX")
                .query_async(&mut conn)
                .await?;
        }
        // XX: a session already queued for a retry or set aside stays where it is.
        let _: () = cmd("ZADD")
            .arg(self.ends_key())
            .arg("XX")
            .arg(ms(end))
            .arg(session_id.to_string())
            .query_async(&mut conn)
            .await?;
        let _: i64 = self
            .scripts
            .move_teacher_end
            .key(self.teacher_key(&session.teacher_school_number))
            .arg(session_id.to_string())
            .arg(ms(end))
            .invoke_async(&mut conn)
            .await?;
        self.publish(session_id).await
    }

    async fn expired_sessions(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Uuid>> {
        let mut conn = self.conn.clone();
        let mut ids: Vec<String> = Vec::new();
        for queue in [self.ends_key(), self.retries_key()] {
            if ids.len() >= limit {
                break;
            }
            let due: Vec<String> = cmd("ZRANGEBYSCORE")
                .arg(queue)
                .arg("-inf")
                .arg(ms(now))
                .arg("LIMIT")
                .arg(0)
                .arg(limit - ids.len())
                .query_async(&mut conn)
                .await?;
            ids.extend(due);
        }
        Ok(ids
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
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
        let mut conn = self.conn.clone();
        let id = session_id.to_string();
        // One key per command (Cluster-safe). The session joins its next queue before it
        // leaves the last one, so a crash in between leaves it queued twice (persisting is
        // idempotent), never nowhere.
        let tries: u32 = cmd("HINCRBY")
            .arg(self.tries_key())
            .arg(&id)
            .arg(1)
            .query_async(&mut conn)
            .await?;
        if tries >= max_tries {
            let aside = super::SetAside {
                session_id,
                tries,
                error: error.to_owned(),
                at: now,
            };
            let _: () = cmd("HSET")
                .arg(self.set_aside_key())
                .arg(&id)
                .arg(serde_json::to_string(&aside)?)
                .query_async(&mut conn)
                .await?;
            let _: i64 = cmd("ZREM")
                .arg(self.retries_key())
                .arg(&id)
                .query_async(&mut conn)
                .await?;
        } else {
            let _: () = cmd("ZADD")
                .arg(self.retries_key())
                .arg(ms(retry_at))
                .arg(&id)
                .query_async(&mut conn)
                .await?;
        }
        let _: i64 = cmd("ZREM")
            .arg(self.ends_key())
            .arg(&id)
            .query_async(&mut conn)
            .await?;
        Ok(tries)
    }

    async fn set_aside(&self) -> Result<Vec<super::SetAside>> {
        let raw: Vec<String> = cmd("HVALS")
            .arg(self.set_aside_key())
            .query_async(&mut self.conn.clone())
            .await?;
        let mut all = raw
            .iter()
            .map(|r| serde_json::from_str::<super::SetAside>(r))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        all.sort_by_key(|s| (s.at, s.session_id));
        Ok(all)
    }

    async fn retry_set_aside(&self, session_id: Uuid) -> Result<bool> {
        let mut conn = self.conn.clone();
        let id = session_id.to_string();
        let Some(session) = self.session(session_id).await? else {
            let removed: i64 = cmd("HDEL")
                .arg(self.set_aside_key())
                .arg(&id)
                .query_async(&mut conn)
                .await?;
            return Ok(removed > 0);
        };
        let aside: i64 = cmd("HEXISTS")
            .arg(self.set_aside_key())
            .arg(&id)
            .query_async(&mut conn)
            .await?;
        if aside == 0 {
            return Ok(false);
        }
        let _: () = cmd("ZADD")
            .arg(self.ends_key())
            .arg(ms(session.end_time))
            .arg(&id)
            .query_async(&mut conn)
            .await?;
        let _: i64 = cmd("HDEL")
            .arg(self.tries_key())
            .arg(&id)
            .query_async(&mut conn)
            .await?;
        let _: i64 = cmd("HDEL")
            .arg(self.set_aside_key())
            .arg(&id)
            .query_async(&mut conn)
            .await?;
        Ok(true)
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
            .arg(self.rechecks_key(session_id))
            .arg(self.devices_key(session_id))
            .arg(self.faces_key(session_id))
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
        let _: i64 = cmd("ZREM")
            .arg(self.retries_key())
            .arg(session_id.to_string())
            .query_async(&mut conn)
            .await?;
        for hash in [self.tries_key(), self.set_aside_key()] {
            let _: i64 = cmd("HDEL")
                .arg(hash)
                .arg(session_id.to_string())
                .query_async(&mut conn)
                .await?;
        }
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

    async fn forgive(&self, key: &str) -> Result<()> {
        let _: i64 = self
            .scripts
            .forgive
            .key(self.counter_key(key))
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(())
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
        // The connection closes when the watcher goes away, even if no message ever comes again
        // (a page closed after its session ended), or when Redis drops it.
        tokio::spawn(async move {
            let mut messages = pubsub.into_on_message();
            loop {
                tokio::select! {
                    _ = tx.closed() => break,
                    message = messages.next() => match message {
                        // A full buffer already says "read again".
                        Some(_) => match tx.try_send(()) {
                            Ok(()) | Err(tokio::sync::mpsc::error::TrySendError::Full(())) => {}
                            Err(tokio::sync::mpsc::error::TrySendError::Closed(())) => break,
                        },
                        None => break,
                    },
                }
            }
        });
        Ok(rx)
    }

    async fn watchers(&self, session_id: Uuid) -> Result<usize> {
        let counts: Vec<(String, usize)> = cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(self.events_channel(session_id))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(counts.first().map_or(0, |(_, n)| *n))
    }

    async fn announce(&self, notice: &StudentNotice) -> Result<()> {
        let _: i64 = cmd("PUBLISH")
            .arg(self.notices_channel())
            .arg(serde_json::to_string(notice)?)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn notices(&self) -> Result<tokio::sync::mpsc::Receiver<StudentNotice>> {
        use futures_util::StreamExt;

        let mut pubsub = self.client.get_async_pubsub().await?;
        pubsub.subscribe(self.notices_channel()).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(super::EVENT_BUFFER);
        tokio::spawn(async move {
            let mut messages = pubsub.into_on_message();
            loop {
                tokio::select! {
                    _ = tx.closed() => break,
                    message = messages.next() => {
                        let Some(message) = message else { break };
                        let notice = message
                            .get_payload::<String>()
                            .ok()
                            .and_then(|p| serde_json::from_str::<StudentNotice>(&p).ok());
                        if let Some(notice) = notice
                            && tx.send(notice).await.is_err()
                        {
                            break;
                        }
                    }
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
        let faces: Option<Vec<(String, Vec<u8>)>> = self
            .scripts
            .add_face
            .key(self.session_key(session_id))
            .key(self.faces_key(session_id))
            .arg(student)
            .arg(super::descriptor_bytes(descriptor))
            .invoke_async(&mut self.conn.clone())
            .await?;
        let faces = faces.ok_or(Error::NotFound(Entity::Session))?;
        Ok(faces
            .into_iter()
            .filter(|(number, _)| number != student)
            .map(|(number, bytes)| (number, super::descriptor_from(&bytes)))
            .collect())
    }

    async fn ping(&self) -> Result<()> {
        let _: String = cmd("PING").query_async(&mut self.conn.clone()).await?;
        Ok(())
    }

    async fn durability(&self) -> Result<Option<Durability>> {
        self.read_durability().await.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::cluster_nodes;

    #[test]
    fn a_cluster_url_names_every_node() {
        assert_eq!(
            cluster_nodes(
                "redis-cluster://:secret@10.0.0.1:7000?node=10.0.0.2:7000&node=10.0.0.3:7000"
            ),
            Some(vec![
                "redis://:secret@10.0.0.1:7000".to_owned(),
                "redis://:secret@10.0.0.2:7000".to_owned(),
                "redis://:secret@10.0.0.3:7000".to_owned(),
            ])
        );
        assert_eq!(
            cluster_nodes("rediss-cluster://redis.example.edu:6380/"),
            Some(vec!["rediss://redis.example.edu:6380".to_owned()])
        );
        assert_eq!(cluster_nodes("redis://127.0.0.1:6379"), None);
    }
}
