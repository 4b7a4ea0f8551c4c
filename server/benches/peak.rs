//! A whole university at 9:00 on Monday, run by hand (never as a test):
//! `cargo bench -p server --bench peak -- [SESSIONS] [STUDENTS] [--scale F] [--instances N]`
//! (default 100 lectures of 300 students, real time, once on one instance and once on two).
//!
//! Needs PostgreSQL and Redis (`ATTN_TEST_DATABASE_URL`, `ATTN_TEST_REDIS_URL`); each run takes
//! a fresh database and key prefix. The portal is the tests' fake portal in its open mode: every
//! ten-digit number is a student, every `hoca.<n>` a teacher, so no demo account is involved.
//! Each server instance runs in this process on a runtime of its own (two threads, named
//! `srv<k>`, so their CPU is told apart from the clients'), with its sweep, on the shared stores.
//!
//! The morning: the lectures start within the first minute (`--scale` shrinks every span); each
//! teacher logs in through the portal, starts a network-checked session and keeps the live page
//! open (its event stream, a read of the board at each event and every 5 seconds, as the page
//! does). Each student arrives within the 3 minutes after their lecture started, most of them
//! early; arrives as a phone does: the QR link (sent to the login), the login, the join page,
//! the check-in, the outcome. Then every teacher finishes and the sweep persists the morning.
//!
//! Printed: check-ins per second, check-in latency p50/p95/p99 (and the worst p99 of any
//! 10-second window), how long each check-in took to show on its teacher's live page, CPU per
//! check-in of the servers, of Redis and of PostgreSQL, Redis memory per live session, the time
//! for the sweep to persist every record, the most connections the portal saw at once, errors,
//! and the records in PostgreSQL, which must be exactly one per student.

mod common;
#[allow(dead_code)]
#[path = "../../tests/common/fake_portal.rs"]
mod fake_portal;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attn::{Config, Ctx};
use reqwest::{StatusCode, header};
use uuid::Uuid;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const JOIN_SECRET: &str = "peak-secret";
const STARTS_WITHIN: Duration = Duration::from_secs(60);
const ARRIVE_WITHIN: Duration = Duration::from_secs(180);
const LIVE_REFRESH: Duration = Duration::from_secs(5);

struct Plan {
    sessions: usize,
    students: usize,
    scale: f64,
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let numbers: Vec<usize> = args
        .iter()
        .take_while(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse().ok())
        .collect();
    let plan = Plan {
        sessions: numbers.first().copied().unwrap_or(100).max(1),
        students: numbers.get(1).copied().unwrap_or(300).max(1),
        scale: flag("--scale").and_then(|v| v.parse().ok()).unwrap_or(1.0),
    };
    let instances: Vec<usize> = match flag("--instances") {
        Some(n) => vec![n.parse()?],
        None => vec![1, 2],
    };
    let (Some(pg), Some(redis)) = (env("ATTN_TEST_DATABASE_URL"), env("ATTN_TEST_REDIS_URL"))
    else {
        return Err(
            "set ATTN_TEST_DATABASE_URL and ATTN_TEST_REDIS_URL (PostgreSQL and Redis)".into(),
        );
    };
    println!(
        "morning peak: {} lectures x {} students = {} check-ins, spans x{}",
        plan.sessions,
        plan.students,
        plan.sessions * plan.students,
        plan.scale
    );
    let portal_rt = runtime("portal", 1)?;
    let portal = portal_rt.block_on(fake_portal::FakePortal::start_open(Duration::ZERO));
    for n in instances {
        run(&plan, n, &pg, &redis, &portal)?;
    }
    Ok(())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn runtime(name: &'static str, threads: usize) -> Result<tokio::runtime::Runtime, BoxError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()?)
}

/// One morning against `instances` servers.
fn run(
    plan: &Plan,
    instances: usize,
    pg: &str,
    redis: &str,
    portal: &fake_portal::FakePortal,
) -> Result<(), BoxError> {
    let name = format!("attn_bench_{}", Uuid::new_v4().simple());
    let prefix = format!("attn-bench-{}", Uuid::new_v4().simple());
    let client_rt = runtime("client", 2)?;
    let database_url = client_rt.block_on(attn::Db::create_postgres_database(pg, &name))?;
    let mut servers = Vec::new();
    let mut bases = Vec::new();
    for k in 0..instances {
        let thread = Box::leak(format!("srv{k}").into_boxed_str());
        let rt = runtime(thread, 2)?;
        let config = Config {
            database_url: database_url.clone(),
            redis_url: Some(redis.to_owned()),
            redis_prefix: prefix.clone(),
            redis_allow_volatile: true,
            join_secret: Some(JOIN_SECRET.into()),
            portal: portal.config(Duration::from_secs(20)),
            demo_accounts: false,
            // Every client comes from 127.0.0.1, as a campus behind one address would.
            join_max_per_ip: 10_000_000,
            login_max_failures_per_ip: 10_000_000,
            ..Config::default()
        };
        let base = rt.block_on(start_server(config))?;
        bases.push(base);
        servers.push(rt);
    }
    let redis_client = redis::Client::open(redis)?;
    let result = client_rt.block_on(morning(
        plan,
        &bases,
        &database_url,
        &redis_client,
        &prefix,
        portal,
    ));
    // The servers stop with their runtimes.
    drop(servers);
    let report = result?;
    report.print(instances, plan);
    Ok(())
}

async fn start_server(config: Config) -> Result<String, BoxError> {
    let ctx = Ctx::connect(config).await?;
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(ctx.sweeper().run(ctx.config.sweep_interval, stopped));
    std::mem::forget(_stop);
    common::serve(ctx).await
}

/// Cookies of one browser, kept by hand (one HTTP client serves every phone).
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn keep(&mut self, res: &reqwest::Response) {
        for set in res.headers().get_all(header::SET_COOKIE) {
            let Some((pair, _)) = set
                .to_str()
                .ok()
                .map(|v| v.split_once(';').unwrap_or((v, "")))
            else {
                continue;
            };
            if let Some((name, value)) = pair.split_once('=') {
                self.0.retain(|(n, _)| n != name);
                self.0
                    .push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What one phone or teacher's browser does: requests with its cookies, redirects not followed.
struct Browser {
    http: reqwest::Client,
    base: String,
    jar: Jar,
}

impl Browser {
    async fn get(&mut self, path: &str) -> Result<reqwest::Response, BoxError> {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, self.jar.header())
            .send()
            .await?;
        self.jar.keep(&res);
        Ok(res)
    }

    /// Posts a form; where the server sends the browser.
    async fn post(&mut self, endpoint: &str, form: &[(&str, &str)]) -> Result<String, BoxError> {
        let res = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, self.jar.header())
            .form(form)
            .send()
            .await?;
        self.jar.keep(&res);
        if res.status() != StatusCode::FOUND {
            return Err(format!("{endpoint}: answer {}", res.status()).into());
        }
        Ok(res
            .headers()
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default()
            .to_owned())
    }

    /// A server function called as the page's script calls it: its JSON.
    async fn call(
        &mut self,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> Result<serde_json::Value, BoxError> {
        let res = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header(header::COOKIE, self.jar.header())
            .form(form)
            .send()
            .await?;
        self.jar.keep(&res);
        if !res.status().is_success() {
            return Err(format!("{endpoint}: answer {}", res.status()).into());
        }
        Ok(serde_json::from_str(&res.text().await?)?)
    }

    async fn log_in(&mut self, user: &str, next: &str) -> Result<(), BoxError> {
        let to = self
            .post(
                "login",
                &[
                    ("school_number", user),
                    ("password", fake_portal::PASSWORD),
                    ("next", next),
                ],
            )
            .await?;
        if to != next {
            return Err(format!("the login of {user} went to {to}").into());
        }
        Ok(())
    }
}

/// Everything measured in one morning.
#[derive(Default)]
struct Shared {
    /// Check-in latencies: when it was sent (since the start) and how long it took.
    check_ins: Vec<(Duration, Duration)>,
    logins: Vec<Duration>,
    /// When each student's check-in was answered, for the live pages.
    answered: HashMap<String, Instant>,
    /// How long each check-in took to show on its teacher's live page.
    shown: Vec<Duration>,
    errors: Vec<String>,
}

struct Report {
    shared: Shared,
    phase: Duration,
    server_cpu: Duration,
    redis_cpu: f64,
    pg_cpu: Duration,
    redis_growth: f64,
    per_session: f64,
    sweep: Duration,
    records: i64,
    portal_connections: usize,
}

async fn morning(
    plan: &Plan,
    bases: &[String],
    database_url: &str,
    redis: &redis::Client,
    prefix: &str,
    portal: &fake_portal::FakePortal,
) -> Result<Report, BoxError> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(60))
        .build()?;
    let mut conn = redis.get_multiplexed_async_connection().await?;
    let shared = Arc::new(Mutex::new(Shared::default()));
    let codes = attn::codes::JoinCodes::new(JOIN_SECRET.as_bytes().to_vec());
    let before = Usage::now(&mut conn).await?;
    let start = Instant::now();
    let scale = plan.scale;
    let scaled = move |d: Duration| d.mul_f64(scale);
    let duration_minutes = ((scaled(STARTS_WITHIN + ARRIVE_WITHIN).as_secs() / 60) + 3).to_string();
    let stop_live = tokio::sync::watch::channel(false);
    let done_students = Arc::new(AtomicUsize::new(0));

    // The teachers: log in, start, keep the live page open.
    let mut teachers = Vec::new();
    for s in 0..plan.sessions {
        let at = scaled(STARTS_WITHIN).mul_f64(s as f64 / plan.sessions as f64);
        let mut teacher = Browser {
            http: http.clone(),
            base: bases[s % bases.len()].clone(),
            jar: Jar::default(),
        };
        let (shared, codes, stop) = (shared.clone(), codes.clone(), stop_live.1.clone());
        let duration = duration_minutes.clone();
        let (students, base_number) = (plan.students, 2_026_000_000 + s * plan.students);
        let all_bases = bases.to_vec();
        let http = http.clone();
        let done = done_students.clone();
        teachers.push(tokio::spawn(async move {
            tokio::time::sleep_until((start + at).into()).await;
            teacher.log_in(&format!("hoca.{s}"), "/").await?;
            let to = teacher
                .post(
                    "start_session",
                    &[
                        ("lesson_name", &format!("Ders {s}")),
                        ("duration", &duration),
                        ("security", "2"),
                        ("rotate", "on"),
                    ],
                )
                .await?;
            let id = to
                .strip_prefix("/live/")
                .ok_or_else(|| format!("the start went to {to}"))?
                .to_owned();
            let session: Uuid = id.parse()?;
            // The students of this lecture, each arriving on their own.
            let started = Instant::now();
            for k in 0..students {
                let number = (base_number + k).to_string();
                let u = ((k as f64 + 0.5) / students as f64 * 7919.0).fract();
                // Most arrive early: the arrival's density falls off linearly to the end.
                let arrival = scaled(ARRIVE_WITHIN).mul_f64(1.0 - (1.0 - u).sqrt());
                let phone = Browser {
                    http: http.clone(),
                    base: all_bases[(s + k) % all_bases.len()].clone(),
                    jar: Jar::default(),
                };
                let (shared, codes, id, done) =
                    (shared.clone(), codes.clone(), id.clone(), done.clone());
                tokio::spawn(async move {
                    tokio::time::sleep_until((started + arrival).into()).await;
                    if let Err(error) =
                        student(phone, &number, &id, session, &codes, start, &shared).await
                    {
                        shared
                            .lock()
                            .unwrap()
                            .errors
                            .push(format!("{number}: {error}"));
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                });
            }
            live_page(teacher, &id, shared, stop)
                .await
                .map(|teacher| (teacher, id))
        }));
    }

    // Until every student is through.
    let total = plan.sessions * plan.students;
    while done_students.load(Ordering::Relaxed) < total {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if start.elapsed() > scaled(STARTS_WITHIN + ARRIVE_WITHIN) + Duration::from_secs(600) {
            return Err(
                "the students did not get through within 10 minutes of the last arrival".into(),
            );
        }
    }
    let phase = start.elapsed();
    // A last look of each live page, then the usage at the peak, every session still live.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = stop_live.0.send(true);
    let mut open = Vec::new();
    for t in teachers {
        open.push(t.await??);
    }
    let at_peak = Usage::now(&mut conn).await?;
    let per_session = session_memory(&mut conn, prefix, &open).await?;

    // The end of the lectures, and the sweep.
    for (teacher, id) in &mut open {
        teacher
            .post("finish_session", &[("session_id", id)])
            .await?;
    }
    let finished = Instant::now();
    let db = attn::Db::connect(database_url).await?;
    let records = loop {
        let n = count_records(&db).await?;
        if n >= total as i64 || finished.elapsed() > Duration::from_secs(300) {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let sweep = finished.elapsed();
    let shared = Arc::try_unwrap(shared)
        .map_err(|_| "tasks still running")?
        .into_inner()
        .map_err(|_| "poisoned")?;
    Ok(Report {
        shared,
        phase,
        server_cpu: at_peak.servers.saturating_sub(before.servers),
        redis_cpu: at_peak.redis - before.redis,
        pg_cpu: at_peak.postgres.saturating_sub(before.postgres),
        redis_growth: at_peak.redis_memory - before.redis_memory,
        per_session,
        sweep,
        records,
        portal_connections: portal.most_connections(),
    })
}

/// One student's morning: the QR link, the login it leads to, the join page, the check-in,
/// the outcome.
async fn student(
    mut phone: Browser,
    number: &str,
    id: &str,
    session: Uuid,
    codes: &attn::codes::JoinCodes,
    start: Instant,
    shared: &Mutex<Shared>,
) -> Result<(), BoxError> {
    let code = codes.current(session, true, chrono::Utc::now());
    let link = format!("/join/{id}?c={code}");
    let res = phone.get(&link).await?;
    if res.status() != StatusCode::FOUND {
        return Err(format!("the QR link answered {}", res.status()).into());
    }
    let began = Instant::now();
    phone.log_in(number, &link).await?;
    let logged_in = began.elapsed();
    let page = phone.get(&link).await?.text().await?;
    if !page.contains(r#"action="/api/check_in""#) {
        return Err("no check-in form".into());
    }
    let sent = Instant::now();
    let to = phone
        .post("check_in", &[("session_id", id), ("code", &code)])
        .await?;
    let took = sent.elapsed();
    {
        let mut shared = shared.lock().unwrap();
        shared.check_ins.push((sent - start, took));
        shared.logins.push(logged_in);
        shared.answered.insert(number.to_owned(), Instant::now());
    }
    if to != format!("/join/{id}") {
        return Err(format!("the check-in went to {to}").into());
    }
    let outcome = phone.get(&to).await?.text().await?;
    if !outcome.contains(r#"data-outcome="attended""#) {
        return Err("not counted present".into());
    }
    Ok(())
}

/// The teacher's live page: its event stream, and a read of the board at each event and every
/// 5 seconds, until told to stop (after one last read). Notes how long each check-in took to
/// show.
async fn live_page(
    mut teacher: Browser,
    id: &str,
    shared: Arc<Mutex<Shared>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Browser, BoxError> {
    let mut events = teacher
        .http
        .get(format!("{}/api/live_events/{id}", teacher.base))
        .header(header::COOKIE, teacher.jar.header())
        .send()
        .await?;
    if events.status() != StatusCode::OK {
        return Err(format!("live events answered {}", events.status()).into());
    }
    let mut seen: std::collections::HashSet<String> = Default::default();
    let mut tick = tokio::time::interval(LIVE_REFRESH);
    let mut streaming = true;
    loop {
        let last = tokio::select! {
            chunk = events.chunk(), if streaming => {
                // A stream that ended leaves the 5-second reads, as on the page.
                streaming = matches!(chunk, Ok(Some(_)));
                false
            }
            _ = tick.tick() => false,
            _ = stop.changed() => true,
        };
        let board = teacher.call("live_state", &[("session_id", id)]).await?;
        let now = Instant::now();
        let mut shared = shared.lock().unwrap();
        for record in board["records"].as_array().into_iter().flatten() {
            let Some(number) = record["number"].as_str() else {
                continue;
            };
            if seen.insert(number.to_owned()) {
                let answered = shared.answered.get(number).copied();
                if let Some(answered) = answered {
                    shared.shown.push(now.saturating_duration_since(answered));
                }
            }
        }
        if last {
            return Ok(teacher);
        }
    }
}

/// CPU and memory of the servers (this process's `srv*` threads), Redis and PostgreSQL.
struct Usage {
    servers: Duration,
    redis: f64,
    redis_memory: f64,
    postgres: Duration,
}

impl Usage {
    async fn now(redis: &mut redis::aio::MultiplexedConnection) -> Result<Self, BoxError> {
        let info: String = redis::cmd("INFO").arg("all").query_async(redis).await?;
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}:")))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        Ok(Self {
            servers: common::threads_cpu("srv"),
            redis: field("used_cpu_sys") + field("used_cpu_user"),
            redis_memory: field("used_memory"),
            postgres: common::processes_cpu("postgres"),
        })
    }
}

/// Redis memory of one live session (its document, records, devices and re-checks), averaged
/// over the sessions.
async fn session_memory(
    redis: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
    open: &[(Browser, String)],
) -> Result<f64, BoxError> {
    let mut total = 0u64;
    for (_, id) in open {
        for kind in ["session", "records", "devices", "rechecks"] {
            let used: Option<u64> = redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(format!("{prefix}:{kind}:{{{id}}}"))
                .arg("SAMPLES")
                .arg(0)
                .query_async(redis)
                .await?;
            total += used.unwrap_or(0);
        }
    }
    Ok(total as f64 / open.len().max(1) as f64)
}

async fn count_records(db: &attn::Db) -> Result<i64, BoxError> {
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .connection()
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*) AS n FROM attendance_records",
        ))
        .await?
        .ok_or("no count")?;
    Ok(row.try_get::<i64>("", "n")?)
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

impl Report {
    fn print(&self, instances: usize, plan: &Plan) {
        let s = &self.shared;
        let total = plan.sessions * plan.students;
        let mut latencies: Vec<Duration> = s.check_ins.iter().map(|(_, t)| *t).collect();
        latencies.sort();
        let mut logins = s.logins.clone();
        logins.sort();
        let mut shown = s.shown.clone();
        shown.sort();
        // The worst p99 of any 10-second window with at least 100 check-ins.
        let mut windows: HashMap<u64, Vec<Duration>> = HashMap::new();
        for (at, took) in &s.check_ins {
            windows.entry(at.as_secs() / 10).or_default().push(*took);
        }
        let worst_p99 = windows
            .values_mut()
            .filter(|w| w.len() >= 100)
            .map(|w| {
                w.sort();
                percentile(w, 0.99)
            })
            .fold(0.0, f64::max);
        let busiest = windows.values().map(Vec::len).max().unwrap_or(0);
        let first = s
            .check_ins
            .iter()
            .map(|(at, _)| *at)
            .min()
            .unwrap_or_default();
        let last = s
            .check_ins
            .iter()
            .map(|(at, t)| *at + *t)
            .max()
            .unwrap_or_default();
        let span = (last - first).as_secs_f64().max(0.001);
        let n = s.check_ins.len().max(1) as f64;
        println!("  {instances} instance(s), PostgreSQL + Redis:");
        println!(
            "    check-ins: {} of {total} in {span:.0} s = {:.0}/s on average, {:.0}/s in the busiest 10 s",
            s.check_ins.len(),
            s.check_ins.len() as f64 / span,
            busiest as f64 / 10.0
        );
        println!(
            "    check-in latency: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms; worst p99 of a 10 s window {:.1} ms",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.95),
            percentile(&latencies, 0.99),
            worst_p99
        );
        println!(
            "    login (through the portal): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms; most portal connections at once {}",
            percentile(&logins, 0.5),
            percentile(&logins, 0.95),
            percentile(&logins, 0.99),
            self.portal_connections
        );
        println!(
            "    shown on the teacher's live page after: p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms ({} of {})",
            percentile(&shown, 0.5),
            percentile(&shown, 0.95),
            percentile(&shown, 0.99),
            shown.len(),
            total
        );
        println!(
            "    CPU per check-in, all of a student's requests and the live pages included: servers {:.3} ms, Redis {:.3} ms, PostgreSQL {:.3} ms (the morning took {:.0} s)",
            self.server_cpu.as_secs_f64() * 1000.0 / n,
            self.redis_cpu * 1000.0 / n,
            self.pg_cpu.as_secs_f64() * 1000.0 / n,
            self.phase.as_secs_f64()
        );
        println!(
            "    Redis memory: {:.0} KiB per live session ({} records each); {:.1} MiB more in all, login sessions included",
            self.per_session / 1024.0,
            plan.students,
            self.redis_growth / 1024.0 / 1024.0
        );
        println!(
            "    sweep: every record in PostgreSQL {:.1} s after the lectures finished; records there: {} of {total}",
            self.sweep.as_secs_f64(),
            self.records
        );
        println!("    errors: {}", s.errors.len());
        for e in s.errors.iter().take(5) {
            println!("      {e}");
        }
    }
}
