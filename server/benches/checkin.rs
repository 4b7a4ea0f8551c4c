//! A burst of logged-in students checking in at once against one server, run by hand (never as
//! a test): `cargo bench -p server --bench checkin -- [STUDENTS] [ROUNDS]` (default 300 x 3).
//!
//! The server runs in this process on its own two-thread runtime, on PostgreSQL + Redis when
//! `ATTN_TEST_DATABASE_URL` and `ATTN_TEST_REDIS_URL` are set (a fresh database and key prefix),
//! else on the embedded default. Each student is a client with its own cookies (its own login
//! session and device cookie), logged in before the clock starts. Each round a demo teacher
//! starts a network-checked session; then every student posts the check-in form at the same
//! moment. Printed: throughput, latency p50/p95/p99/max, errors, and the count of present
//! students on the teacher's live board, which must equal the number of students.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use attn::{Config, Ctx};
use reqwest::{StatusCode, header};
use uuid::Uuid;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const PASSWORD: &str = "bench";

fn main() -> Result<(), BoxError> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .filter_map(|a| a.parse().ok())
        .collect();
    let students = args.first().copied().unwrap_or(300).clamp(1, 300);
    let rounds = args.get(1).copied().unwrap_or(3).clamp(1, 10);

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Named, so the server's CPU is told apart from the clients'.
        .thread_name("srv")
        .enable_all()
        .build()?;
    let (base, label) = server_rt.block_on(start_server())?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    client_rt.block_on(run(&base, &label, students, rounds))
}

async fn start_server() -> Result<(String, String), BoxError> {
    let mut config = Config {
        demo_accounts: true,
        demo_password: PASSWORD.into(),
        join_secret: Some("bench-secret".into()),
        // Every client comes from 127.0.0.1, as a classroom behind one NAT address would.
        join_max_per_ip: 100_000,
        ..Config::default()
    };
    let dir = std::env::temp_dir().join(format!("attn-bench-{}", Uuid::new_v4().simple()));
    let label = match (
        std::env::var("ATTN_TEST_DATABASE_URL")
            .ok()
            .filter(|v| !v.is_empty()),
        std::env::var("ATTN_TEST_REDIS_URL")
            .ok()
            .filter(|v| !v.is_empty()),
    ) {
        (Some(pg), Some(redis)) => {
            let name = format!("attn_bench_{}", Uuid::new_v4().simple());
            config.database_url = attn::Db::create_postgres_database(&pg, &name).await?;
            config.redis_url = Some(redis);
            // The machine's Redis may keep nothing on disk; a benchmark does not need it to.
            config.redis_allow_volatile = true;
            config.redis_prefix = format!("attn-bench-{}", Uuid::new_v4().simple());
            "PostgreSQL + Redis".to_owned()
        }
        _ => {
            config.database_url = format!("sqlite://{}/attn.db?mode=rwc", dir.display());
            "SQLite + memory (set ATTN_TEST_DATABASE_URL and ATTN_TEST_REDIS_URL for the services)"
                .to_owned()
        }
    };
    let ctx = Ctx::connect(config).await?;
    Ok((common::serve(ctx).await?, label))
}

fn browser() -> Result<reqwest::Client, BoxError> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// Posts a form as a browser does; where the server sends the person.
async fn post(
    client: &reqwest::Client,
    url: String,
    form: &[(&str, &str)],
) -> Result<String, BoxError> {
    let res = client
        .post(url)
        .header(header::ACCEPT, "text/html")
        .form(form)
        .send()
        .await?;
    if res.status() != StatusCode::FOUND {
        return Err(format!("answer {}", res.status()).into());
    }
    Ok(res
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned())
}

async fn log_in(client: &reqwest::Client, base: &str, user: &str) -> Result<(), BoxError> {
    let to = post(
        client,
        format!("{base}/api/login"),
        &[
            ("school_number", user),
            ("password", PASSWORD),
            ("next", "/"),
        ],
    )
    .await?;
    if to != "/" {
        return Err(format!("login of {user} went to {to}").into());
    }
    Ok(())
}

/// The teacher's live board, as the live page reads it.
async fn live_board(
    teacher: &reqwest::Client,
    base: &str,
    id: &str,
) -> Result<serde_json::Value, BoxError> {
    Ok(teacher
        .post(format!("{base}/api/live_state"))
        .form(&[("session_id", id)])
        .send()
        .await?
        .text()
        .await?
        .parse()?)
}

/// CPU used so far by the server's threads, PostgreSQL and Redis (when the bench runs on them).
struct Cpu {
    server: std::time::Duration,
    postgres: std::time::Duration,
    redis: Option<f64>,
}

/// CPU per check-in, in milliseconds.
struct CpuPer {
    server: f64,
    postgres: f64,
    redis: Option<f64>,
}

impl Cpu {
    async fn now() -> Self {
        Self {
            server: common::threads_cpu("srv"),
            postgres: common::processes_cpu("postgres"),
            redis: redis_cpu().await,
        }
    }

    fn since(&self, before: &Self, n: usize) -> CpuPer {
        let per = |d: Duration| d.as_secs_f64() * 1000.0 / n as f64;
        CpuPer {
            server: per(self.server.saturating_sub(before.server)),
            postgres: per(self.postgres.saturating_sub(before.postgres)),
            redis: self
                .redis
                .zip(before.redis)
                .map(|(a, b)| (a - b) * 1000.0 / n as f64),
        }
    }
}

/// Seconds of CPU Redis has used, from its INFO (when the bench runs on Redis).
async fn redis_cpu() -> Option<f64> {
    let url = std::env::var("ATTN_TEST_REDIS_URL").ok()?;
    let mut conn = redis::Client::open(url)
        .ok()?
        .get_multiplexed_async_connection()
        .await
        .ok()?;
    let info: String = redis::cmd("INFO")
        .arg("cpu")
        .query_async(&mut conn)
        .await
        .ok()?;
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    Some(field("used_cpu_sys")? + field("used_cpu_user")?)
}

async fn run(base: &str, label: &str, students: usize, rounds: usize) -> Result<(), BoxError> {
    println!("check-in burst: {students} students x {rounds} rounds on {label}");
    let mut clients = Vec::with_capacity(students);
    let began = Instant::now();
    for n in 1..=students {
        let client = browser()?;
        log_in(&client, base, &format!("demo_student_{n}")).await?;
        clients.push(Arc::new(client));
    }
    println!(
        "  {students} logins one after another: {:.2} s",
        began.elapsed().as_secs_f64()
    );

    for round in 1..=rounds {
        let teacher = browser()?;
        log_in(&teacher, base, &format!("demo_teacher_{round}")).await?;
        let to = post(
            &teacher,
            format!("{base}/api/start_session"),
            &[
                ("lesson_name", "Veri Yapıları"),
                ("duration", "10"),
                ("security", "2"),
            ],
        )
        .await?;
        let id = to
            .strip_prefix("/live/")
            .ok_or_else(|| format!("start went to {to}"))?
            .to_owned();
        let board = live_board(&teacher, base, &id).await?;
        let code = board["code"].as_str().unwrap_or_default().to_owned();

        let cpu_before = Cpu::now().await;
        let start = Arc::new(tokio::sync::Barrier::new(students));
        let expected = format!("/join/{id}");
        let tasks: Vec<_> = clients
            .iter()
            .map(|client| {
                let (client, start) = (client.clone(), start.clone());
                let (url, id, code, expected) = (
                    format!("{base}/api/check_in"),
                    id.clone(),
                    code.clone(),
                    expected.clone(),
                );
                tokio::spawn(async move {
                    start.wait().await;
                    let sent = Instant::now();
                    let outcome = post(&client, url, &[("session_id", &id), ("code", &code)]).await;
                    let ok = matches!(&outcome, Ok(to) if *to == expected);
                    (sent, sent.elapsed(), ok)
                })
            })
            .collect();
        let mut latencies = Vec::with_capacity(students);
        let mut errors = 0;
        let mut first: Option<Instant> = None;
        let mut last = Instant::now();
        for task in tasks {
            let (sent, took, ok) = task.await?;
            first = Some(first.map_or(sent, |f| f.min(sent)));
            last = last.max(sent + took);
            latencies.push(took);
            if !ok {
                errors += 1;
            }
        }
        let cpu = Cpu::now().await.since(&cpu_before, students);
        let wall = last.duration_since(first.unwrap_or(last));
        latencies.sort();
        let at = |q: f64| {
            let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
            latencies[i].as_secs_f64() * 1000.0
        };

        // The live page's read of a full board, as each event makes it (the mean of 20).
        let reads = 20;
        let read_before = common::threads_cpu("srv");
        for _ in 0..reads {
            live_board(&teacher, base, &id).await?;
        }
        let read_cpu = (common::threads_cpu("srv") - read_before) / reads;
        let board = live_board(&teacher, base, &id).await?;
        let listed = board["records"].as_array().map_or(0, Vec::len);
        let present = board["attended"].as_u64().unwrap_or(0);
        println!(
            "  round {round}: {students} check-ins in {:.0} ms = {:.0}/s; latency p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms; errors {errors}; teacher's list {listed}, present {present}",
            wall.as_secs_f64() * 1000.0,
            students as f64 / wall.as_secs_f64(),
            at(0.50),
            at(0.95),
            at(0.99),
            at(1.0),
        );
        println!(
            "    CPU per check-in: server {:.3} ms, Redis {}, PostgreSQL {:.3} ms; one read of the live board of {students}: server {:.2} ms",
            cpu.server,
            cpu.redis
                .map_or_else(|| "-".to_owned(), |r| format!("{r:.3} ms")),
            cpu.postgres,
            read_cpu.as_secs_f64() * 1000.0,
        );
        if listed != students || present as usize != students || errors > 0 {
            return Err(format!(
                "round {round}: {listed} listed, {present} present, {errors} errors for {students} students"
            )
            .into());
        }
        post(
            &teacher,
            format!("{base}/api/finish_session"),
            &[("session_id", &id)],
        )
        .await?;
    }
    Ok(())
}
