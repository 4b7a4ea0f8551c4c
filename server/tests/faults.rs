//! Faults, with real processes: a private `redis-server` (with or without an append-only file)
//! killed with SIGKILL and started again under a running server; a Redis that would lose
//! check-ins refused at start-up; instances starting on a Redis Cluster. Each store heals by
//! itself, without restarting ATTN.

mod common;

use std::time::{Duration, Instant};

use attn::testing::{RedisServer, TestEnv, within_a_minute};
use common::*;
use reqwest::{StatusCode, header};

/// How long a request may take while Redis is down: it must answer, not hang.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// How soon after Redis is back every store must work again.
const HEALED_WITHIN: Duration = Duration::from_secs(15);

async fn readyz(app: &TestApp) -> (StatusCode, serde_json::Value) {
    let res = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    let status = res.status();
    (
        status,
        serde_json::from_str(&res.text().await.unwrap()).unwrap(),
    )
}

/// Retries `step` until it is true, for at most `limit`; how long it took.
async fn until(limit: Duration, mut step: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !step().await {
        assert!(started.elapsed() < limit, "not healed within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_redis_restarts_logins_and_check_ins_work_again_and_nothing_acknowledged_is_lost() {
    within_a_minute(async {
        let Some(mut redis) = RedisServer::start(true).await else {
            return;
        };
        let Some(env) = TestEnv::on_redis(&redis.url()).await else {
            return;
        };
        let app = spawn_app_on(env).await;
        let id = start_as_teacher(&app, "demo_teacher_1").await;
        let first = app.new_browser();
        let join = format!("/join/{id}?c={}", app.code(&id));
        app.log_in_with(&first, "demo_student_1", DEMO_PASSWORD, &join)
            .await;
        assert_eq!(
            check_in_now(&app, &first, &id).await.as_deref(),
            Some("attended")
        );
        assert_eq!(readyz(&app).await.0, StatusCode::OK);

        redis.kill();
        // While Redis is away: a clear "try again", quickly; readiness names both stores.
        let started = Instant::now();
        let res = first
            .get(format!("{}/", app.base))
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("Hizmet şu anda kullanılamıyor")
        );
        let answered = started.elapsed();
        eprintln!("a page answered {answered:?} after Redis was killed");
        assert!(answered < ANSWER_WITHIN, "{answered:?}");
        let (status, body) = readyz(&app).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["live_store"], "unavailable", "{body}");
        assert_eq!(body["login_sessions"], "unavailable", "{body}");

        redis.restart().await;
        let healed = until(HEALED_WITHIN, async || {
            readyz(&app).await.0 == StatusCode::OK
        })
        .await;
        eprintln!("ready again {healed:?} after Redis answered");
        let (_, body) = readyz(&app).await;
        assert_eq!(body["live_store_durability"], "durable", "{body}");

        // The login from before the crash still holds (the append-only file kept it)...
        let home = app.page_as(&first, "/").await;
        assert_eq!(login_state(&home).as_deref(), Some("logged-in"), "{home}");
        // ...and so do the session and the check-in it acknowledged.
        assert_eq!(
            outcome(&app.page_as(&first, &join).await).as_deref(),
            Some("attended")
        );
        // A new login and a new check-in work, without restarting anything.
        let second = app.new_browser();
        app.log_in_with(&second, "demo_student_2", DEMO_PASSWORD, &join)
            .await;
        assert_eq!(
            check_in_now(&app, &second, &id).await.as_deref(),
            Some("attended")
        );
        let live = app.page_as(&app.client, &format!("/live/{id}")).await;
        assert_eq!(count(&live, "attended-count"), Some(2), "{live}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_would_lose_check_ins_is_refused_unless_allowed() {
    within_a_minute(async {
        let Some(volatile) = RedisServer::start(false).await else {
            return;
        };
        let Some(env) = TestEnv::on_redis(&volatile.url()).await else {
            return;
        };
        let config = |redis: &RedisServer, allow: bool| attn::Config {
            database_url: env.db_url.clone(),
            redis_url: Some(redis.url()),
            redis_allow_volatile: allow,
            ..attn::Config::default()
        };
        let refused = attn::Ctx::connect(config(&volatile, false))
            .await
            .expect_err("a Redis without an append-only file is refused");
        let message = refused.to_string();
        assert!(message.contains("appendonly yes"), "{message}");
        assert!(message.contains("ATTN_REDIS_ALLOW_VOLATILE"), "{message}");

        let allowed = attn::Ctx::connect(config(&volatile, true)).await.unwrap();
        let readiness = allowed.readiness().await;
        assert!(readiness.is_ready());
        let durability = readiness.live_store_durability.unwrap();
        assert!(!durability.keeps_acknowledged_writes());
        assert_eq!(durability.shortfalls(), ["appendonly yes"]);

        let Some(durable) = RedisServer::start(true).await else {
            return;
        };
        let ctx = attn::Ctx::connect(config(&durable, false)).await.unwrap();
        let durability = ctx.readiness().await.live_store_durability.unwrap();
        assert!(durability.keeps_acknowledged_writes(), "{durability:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_on_one_redis_share_the_join_code_key_without_configuring_it() {
    within_a_minute(async {
        let Some(redis) = RedisServer::start(true).await else {
            return;
        };
        let Some(env) = TestEnv::on_redis(&redis.url()).await else {
            return;
        };
        let config = || attn::Config {
            database_url: env.db_url.clone(),
            redis_url: Some(redis.url()),
            join_secret: None,
            ..attn::Config::default()
        };
        let one = attn::Ctx::connect(config()).await.unwrap();
        let two = attn::Ctx::connect(config()).await.unwrap();
        let session = uuid::Uuid::new_v4();
        let now = chrono::Utc::now();
        let shown = one.codes.current(session, true, now);
        assert!(two.codes.accepts(session, true, &shown, now));
        // A deployment with another prefix has a key of its own.
        let other = attn::Ctx::connect(attn::Config {
            redis_prefix: "another-deployment".into(),
            ..config()
        })
        .await
        .unwrap();
        assert!(!other.codes.accepts(session, true, &shown, now));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_start_on_a_redis_cluster_and_share_its_join_code_key() {
    within_a_minute(async {
        let Some(env) = TestEnv::new(attn::testing::Backend::Cluster).await else {
            return;
        };
        let cluster = std::env::var("ATTN_TEST_REDIS_CLUSTER_URL").unwrap();
        let config = || attn::Config {
            database_url: env.db_url.clone(),
            redis_url: Some(cluster.clone()),
            redis_prefix: env.redis_prefix().unwrap().to_owned(),
            join_secret: None,
            ..attn::Config::default()
        };
        // The durability check reads the cluster's settings (scripts/redis-cluster turns the
        // append-only file on), so it starts without being told to accept a volatile Redis.
        let one = attn::Ctx::connect(config()).await.unwrap();
        let two = attn::Ctx::connect(config()).await.unwrap();
        let readiness = one.readiness().await;
        assert!(readiness.live_store, "{readiness:?}");
        assert!(
            readiness
                .live_store_durability
                .as_ref()
                .is_some_and(|d| d.keeps_acknowledged_writes()),
            "{readiness:?}"
        );
        let session = uuid::Uuid::new_v4();
        let now = chrono::Utc::now();
        let shown = one.codes.current(session, true, now);
        assert!(two.codes.accepts(session, true, &shown, now));
    })
    .await;
}

/// One server process of the fault suite, started from the built `server` binary on a port of
/// its own, so it can be killed with SIGKILL like a crashed instance.
struct Instance {
    port: u16,
    env: Vec<(&'static str, String)>,
    child: Option<std::process::Child>,
}

impl Instance {
    async fn start(env: Vec<(&'static str, String)>) -> Self {
        let mut instance = Self {
            port: attn::testing::free_port(),
            env,
            child: None,
        };
        instance.restart().await;
        instance
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `kill -9`: no shutdown, no sweep finished, requests in flight cut.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn restart(&mut self) {
        self.kill();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", self.port))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the server binary");
        self.child = Some(child);
        let client = reqwest::Client::new();
        let ready = until(Duration::from_secs(20), async || {
            client
                .get(format!("{}/healthz", self.base()))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK)
        })
        .await;
        assert!(
            ready < Duration::from_secs(20),
            "the instance did not come up"
        );
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(ANSWER_WITHIN)
        .build()
        .unwrap()
}

/// Posts a form to `base`; where it sends the browser, if it answered.
async fn post(
    client: &reqwest::Client,
    base: &str,
    endpoint: &str,
    form: &[(&str, &str)],
) -> Option<String> {
    let res = client
        .post(format!("{base}/api/{endpoint}"))
        .header(header::ACCEPT, "text/html")
        .form(form)
        .send()
        .await
        .ok()?;
    let to = res
        .headers()
        .get(header::LOCATION)?
        .to_str()
        .ok()?
        .to_owned();
    Some(to)
}

/// One check-in attempt at `base`: true when the student was told "attended" (the check-in
/// was acknowledged). Any failure to answer counts as not acknowledged.
async fn acknowledged(student: &reqwest::Client, base: &str, id: &str, code: &str) -> bool {
    let Some(to) = post(
        student,
        base,
        "check_in",
        &[("session_id", id), ("code", code)],
    )
    .await
    else {
        return false;
    };
    if to.contains("error=") {
        return false;
    }
    let Ok(page) = student
        .get(format!("{base}{to}"))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
    else {
        return false;
    };
    let html = page.text().await.unwrap_or_default();
    outcome(&html).as_deref() == Some("attended")
}

/// Two instances over one PostgreSQL and one Redis with an append-only file, a class checking
/// in through both while one instance is killed, Redis is killed and restarted, PostgreSQL is
/// stopped and started, and the other instance is killed right after the session ends (while
/// the sweep may be persisting it). At the end every acknowledged check-in is in PostgreSQL
/// exactly once, and nothing else is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_keep_every_acknowledged_check_in_through_kills_and_outages() {
    within_a_minute(async {
        let Some(mut redis) = RedisServer::start(true).await else {
            return;
        };
        let url = redis.url();
        fault_suite(&url, Some(&mut redis)).await;
    })
    .await;
}

/// The same on the Redis Cluster of the test run (shared with other suites, so its nodes are
/// not restarted here; a node restart is the single-Redis case above, per node).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_a_redis_cluster_keep_every_acknowledged_check_in() {
    within_a_minute(async {
        let Some(_cluster) = TestEnv::new(attn::testing::Backend::Cluster).await else {
            return;
        };
        let url = std::env::var("ATTN_TEST_REDIS_CLUSTER_URL").unwrap();
        fault_suite(&url, None).await;
    })
    .await;
}

async fn fault_suite(redis_url: &str, mut restartable: Option<&mut RedisServer>) {
    let Some(pg) = attn::testing::PgServer::start().await else {
        return;
    };
    let prefix = format!("attn-faults-{}", uuid::Uuid::new_v4().simple());
    let env = vec![
        ("LEPTOS_OUTPUT_NAME", "attn".to_owned()),
        (
            "LEPTOS_SITE_ROOT",
            site_root().to_string_lossy().into_owned(),
        ),
        ("RUST_LOG", "warn".to_owned()),
        ("ATTN_DATABASE_URL", pg.url()),
        ("ATTN_REDIS_URL", redis_url.to_owned()),
        ("ATTN_REDIS_PREFIX", prefix),
        ("ATTN_DEMO_ACCOUNTS", "true".to_owned()),
        ("ATTN_DEMO_PASSWORD", DEMO_PASSWORD.to_owned()),
        ("ATTN_JOIN_SECRET", JOIN_SECRET.to_owned()),
        ("ATTN_SWEEP_INTERVAL_SECS", "1".to_owned()),
        ("ATTN_SWEEP_LEASE_SECS", "5".to_owned()),
        ("ATTN_JOIN_MAX_PER_IP", "100000".to_owned()),
        ("ATTN_JOIN_MAX_PER_STUDENT", "1000".to_owned()),
        ("ATTN_MODELS_DIR", "/nonexistent".to_owned()),
    ];
    let mut a = Instance::start(env.clone()).await;
    let mut b = Instance::start(env).await;

    let teacher = browser();
    post(
        &teacher,
        &a.base(),
        "login",
        &[
            ("school_number", "demo_teacher_1"),
            ("password", DEMO_PASSWORD),
            ("next", "/"),
        ],
    )
    .await
    .expect("the teacher logs in");
    let live = post(
        &teacher,
        &a.base(),
        "start_session",
        &[
            ("lesson_name", "Dağıtık Sistemler"),
            ("duration", "30"),
            ("security", "2"),
        ],
    )
    .await
    .expect("a session starts");
    let id = live
        .strip_prefix("/live/")
        .expect("the live page")
        .to_owned();
    let code = attn::codes::JoinCodes::new(JOIN_SECRET.as_bytes().to_vec()).current(
        id.parse().unwrap(),
        false,
        chrono::Utc::now(),
    );

    const CLASS: usize = 40;
    let students: Vec<(String, reqwest::Client)> = (1..=CLASS)
        .map(|n| (format!("demo_student_{n}"), browser()))
        .collect();
    for (n, (number, student)) in students.iter().enumerate() {
        let base = if n % 2 == 0 { a.base() } else { b.base() };
        post(
            student,
            &base,
            "login",
            &[
                ("school_number", number),
                ("password", DEMO_PASSWORD),
                ("next", "/"),
            ],
        )
        .await
        .expect("a student logs in");
    }
    let mut acked = vec![false; CLASS];
    let burst = async |acked: &mut Vec<bool>, range: std::ops::Range<usize>, bases: &[String]| {
        let tries = range.clone().map(|n| {
            let base = bases[n % bases.len()].clone();
            let (id, code, student) = (id.clone(), code.clone(), students[n].1.clone());
            async move { (n, acknowledged(&student, &base, &id, &code).await) }
        });
        for (n, ok) in futures_util::future::join_all(tries).await {
            acked[n] |= ok;
        }
    };
    let both = [a.base(), b.base()];

    // A burst through both instances; mid-way through the next one, instance A is killed.
    burst(&mut acked, 0..10, &both).await;
    let (_, ()) = tokio::join!(burst(&mut acked, 10..20, &both), async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        a.kill();
    });
    // Of that burst, the even ones went to A.
    let answered_by_a = (10..20).filter(|n| n % 2 == 0 && acked[*n]).count();
    // Redis is killed and started again: check-ins through B work again within seconds.
    if let Some(redis) = restartable.as_deref_mut() {
        redis.kill();
        redis.restart().await;
    }
    let restarted = Instant::now();
    let first = acked.iter().position(|ok| !ok).unwrap_or(0);
    let healed = until(HEALED_WITHIN, async || {
        acknowledged(&students[first].1, &b.base(), &id, &code).await
    })
    .await;
    assert!(
        healed < HEALED_WITHIN,
        "check-ins work again after Redis restarted"
    );
    acked[first] = true;
    let recovered = restarted.elapsed();
    // PostgreSQL goes away: check-ins go on, they live in Redis.
    pg.stop();
    burst(&mut acked, 20..30, std::slice::from_ref(&b.base())).await;
    assert!(
        acked[20..30].iter().all(|ok| *ok),
        "check-ins while PostgreSQL is down"
    );
    pg.start_again().await;
    a.restart().await;
    // Everyone not yet told "attended" tries again, on either instance, as phones would.
    for _ in 0..5 {
        let missing: Vec<usize> = (0..CLASS).filter(|n| !acked[*n]).collect();
        if missing.is_empty() {
            break;
        }
        for n in missing {
            let base = &both[n % 2];
            acked[n] |= acknowledged(&students[n].1, base, &id, &code).await;
        }
    }
    let acknowledged_count = acked.iter().filter(|ok| **ok).count();
    assert_eq!(
        acknowledged_count, CLASS,
        "every student got an answer in the end"
    );

    // The teacher ends the session on B, and B is killed at once: the sweep of either
    // instance may be half-way through persisting it.
    post(
        &teacher,
        &b.base(),
        "finish_session",
        &[("session_id", &id)],
    )
    .await
    .expect("the session ends");
    b.kill();
    b.restart().await;

    let db = attn::Db::connect(&pg.url()).await.unwrap();
    let session: uuid::Uuid = id.parse().unwrap();
    let persisted = until(Duration::from_secs(20), async || {
        db.session_records(session)
            .await
            .is_ok_and(|r| r.len() >= CLASS)
    })
    .await;
    assert!(
        persisted < Duration::from_secs(20),
        "the sweep persisted the session"
    );
    let records = db.session_records(session).await.unwrap();
    let mut persisted_students: Vec<String> = records
        .iter()
        .filter(|r| r.is_attended)
        .map(|r| r.student_number.clone())
        .collect();
    persisted_students.sort();
    persisted_students.dedup();
    let mut expected: Vec<String> = students.iter().map(|(n, _)| n.clone()).collect();
    expected.sort();
    assert_eq!(
        records.len(),
        CLASS,
        "each check-in exactly once, nothing else"
    );
    assert_eq!(persisted_students, expected);
    let healing = match restartable {
        Some(_) => format!(
            "check-ins worked again {:.1} s after Redis restarted",
            recovered.as_secs_f64()
        ),
        None => "no Redis restart".to_owned(),
    };
    eprintln!(
        "fault suite on {redis_url}: {answered_by_a} of the 5 check-ins sent to the killed instance were answered, {acknowledged_count} acknowledged in the end, {} persisted; {healing}",
        records.len(),
    );
}
