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
