//! Benchmarks of the service layer, run by hand (never as tests); figures go to
//! docs/PERFORMANCE.md.
//!
//! `bench sweep [SESSIONS] [RECORDS]` persists SESSIONS finished sessions of RECORDS records each
//! (default 100 x 300) with the sweep, on SQLite + memory and, when `ATTN_TEST_DATABASE_URL` and
//! `ATTN_TEST_REDIS_URL` are set, on PostgreSQL + Redis, and prints records per second.

use std::sync::Arc;
use std::time::{Duration, Instant};

use attn::domain::{LiveRecord, LiveSession, SecurityLevel};
use attn::live::{MemoryLiveStore, RedisLiveStore};
use attn::sweep::Sweeper;
use attn::{Clock, Db, LiveStore, ManualClock};
use uuid::Uuid;

type BoxError = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("sweep") => {
            let sessions = arg(&args, 1, 100)?;
            let records = arg(&args, 2, 300)?;
            sweep(sessions, records).await
        }
        _ => {
            eprintln!("usage: bench sweep [SESSIONS] [RECORDS]");
            std::process::exit(2);
        }
    }
}

fn arg(args: &[String], i: usize, default: usize) -> Result<usize, BoxError> {
    Ok(match args.get(i) {
        Some(v) => v.parse()?,
        None => default,
    })
}

async fn sweep(sessions: usize, records: usize) -> Result<(), BoxError> {
    println!("sweep: {sessions} sessions x {records} records");
    let dir = std::env::temp_dir().join(format!("attn-bench-{}", Uuid::new_v4()));
    let sqlite = Db::connect(&format!("sqlite://{}/attn.db?mode=rwc", dir.display())).await?;
    let result = sweep_on(
        "SQLite + memory",
        sqlite,
        Arc::new(MemoryLiveStore::new()),
        sessions,
        records,
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result?;

    let (Ok(pg), Ok(redis)) = (
        std::env::var("ATTN_TEST_DATABASE_URL"),
        std::env::var("ATTN_TEST_REDIS_URL"),
    ) else {
        println!(
            "PostgreSQL + Redis: skipped (set ATTN_TEST_DATABASE_URL and ATTN_TEST_REDIS_URL)"
        );
        return Ok(());
    };
    let name = format!("attn_bench_{}", Uuid::new_v4().simple());
    let db = Db::connect(&Db::create_postgres_database(&pg, &name).await?).await?;
    let prefix = format!("attn-bench-{}", Uuid::new_v4().simple());
    let live = Arc::new(RedisLiveStore::connect(&redis, &prefix).await?);
    sweep_on("PostgreSQL + Redis", db.clone(), live, sessions, records).await?;
    let name = format!("attn_bench_{}", Uuid::new_v4().simple());
    let db = Db::connect(&Db::create_postgres_database(&pg, &name).await?).await?;
    sweep_on(
        "PostgreSQL + memory",
        db,
        Arc::new(MemoryLiveStore::new()),
        sessions,
        records,
    )
    .await
}

async fn sweep_on(
    label: &str,
    db: Db,
    live: Arc<dyn LiveStore>,
    sessions: usize,
    records: usize,
) -> Result<(), BoxError> {
    db.migrate().await?;
    let clock = Arc::new(ManualClock::starting_now());
    let start = clock.now();
    for s in 0..sessions {
        let session = LiveSession {
            id: Uuid::new_v4(),
            teacher_school_number: format!("T{s:04}"),
            teacher_full_name: format!("Dr. Öğr. Üyesi Teacher {s}"),
            lesson_name: format!("Ders {s}"),
            ip_address: "10.0.0.1".into(),
            start_time: start,
            end_time: start + chrono::Duration::minutes(10),
            security: SecurityLevel::Network,
            rotate_code: true,
        };
        live.create_session(&session, start).await?;
        for r in 0..records {
            let record = LiveRecord {
                student_number: format!("1306{r:06}"),
                student_full_name: format!("Öğrenci {r}"),
                is_attended: r % 10 != 0,
                attendance_time: Some(start + chrono::Duration::seconds(r as i64)),
                fail_reason: (r % 10 == 0).then(|| "WIFI_FAILED".into()),
                deletion: None,
                face_distance_milli: None,
            };
            live.put_record(session.id, &record).await?;
        }
    }
    clock.advance(chrono::Duration::minutes(11));
    let sweeper = Sweeper::new(db, live, clock, Duration::from_secs(60));

    let began = Instant::now();
    let mut persisted = 0;
    let mut written = 0;
    while persisted < sessions {
        let outcome = sweeper.sweep_once().await?;
        if outcome.failed > 0 || outcome.persisted == 0 {
            return Err(format!("{label}: sweep stalled: {outcome:?}").into());
        }
        persisted += outcome.persisted;
        written += outcome.records;
    }
    let elapsed = began.elapsed();
    println!(
        "{label}: {persisted} sessions, {written} records in {:.2} s = {:.0} records/s ({:.1} ms per session)",
        elapsed.as_secs_f64(),
        written as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / persisted as f64,
    );
    Ok(())
}
