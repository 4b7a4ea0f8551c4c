//! Benchmarks of the service layer, run by hand (never as tests); figures go to
//! docs/PERFORMANCE.md.
//!
//! `bench sweep [SESSIONS] [RECORDS]` persists SESSIONS finished sessions of RECORDS records each
//! (default 100 x 300) with the sweep, on SQLite + memory and, when `ATTN_TEST_DATABASE_URL` and
//! `ATTN_TEST_REDIS_URL` are set, on PostgreSQL + Redis, and prints records per second.
//!
//! `bench face [ROUNDS]` measures the face check on the test photos in the models folder
//! (`ATTN_MODELS_DIR`, default ./models): per-photo latency of decoding, detection and the
//! descriptor on one thread (p50/p95 over ROUNDS rounds), checks per second with two workers,
//! peak memory, and the distance of every pair of labelled photos with the false accept and
//! false reject rates at the threshold.
//!
//! `bench grid [STUDENTS] [SESSIONS]` persists SESSIONS sessions of one course with STUDENTS
//! students (default 300 x 40, a mix of statuses) on SQLite and, when `ATTN_TEST_DATABASE_URL`
//! is set, on PostgreSQL, then times the course's grid (p50/p95 over 20 runs) and its export as
//! CSV and XLSX.
//!
//! `bench chips OUT_DIR` writes the aligned 150x150 chips of those photos (`chips.bin`, RGB
//! bytes, and `chips.json`, their names), for `scripts/face/verify_conversion`.

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
        Some("chips") => {
            let out = args.get(1).ok_or("bench chips OUT_DIR")?;
            chips(std::path::Path::new(out))
        }
        Some("grid") => {
            let students = arg(&args, 1, 300)?;
            let sessions = arg(&args, 2, 40)?;
            grid(students, sessions).await
        }
        Some("face") => {
            let rounds = arg(&args, 1, 10)?;
            face(rounds).await
        }
        Some("face-pool") => {
            let selfies = arg(&args, 1, 300)?;
            face_pool(selfies).await
        }
        _ => {
            eprintln!(
                "usage: bench sweep [SESSIONS] [RECORDS] | bench grid [STUDENTS] [SESSIONS] | bench face [ROUNDS] | bench face-pool [SELFIES]"
            );
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
            late_after_minutes: None,
            class_hours: None,
            rechecks: Vec::new(),
            device_check: Default::default(),
        };
        live.create_session(&session, start).await?;
        for r in 0..records {
            let record = LiveRecord {
                student_number: format!("1306{r:06}"),
                student_full_name: format!("Öğrenci {r}"),
                is_attended: r % 10 != 0,
                attendance_time: Some(start + chrono::Duration::seconds(r as i64)),
                fail_reason: (r % 10 == 0).then_some(attn::domain::FailReason::WifiFailed),
                deletion: None,
                face_distance_milli: None,
                late: false,
                marked: None,
                status_reason: None,
                changes: Vec::new(),
                confirmed: Vec::new(),
                evidence: None,
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

async fn grid(students: usize, sessions: usize) -> Result<(), BoxError> {
    println!("grid: {students} students x {sessions} sessions");
    let dir = std::env::temp_dir().join(format!("attn-bench-{}", Uuid::new_v4()));
    let sqlite = format!("sqlite://{}/attn.db?mode=rwc", dir.display());
    let result = grid_on("SQLite", &sqlite, students, sessions).await;
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    let Ok(pg) = std::env::var("ATTN_TEST_DATABASE_URL") else {
        println!("PostgreSQL: skipped (set ATTN_TEST_DATABASE_URL)");
        return Ok(());
    };
    let name = format!("attn_bench_{}", Uuid::new_v4().simple());
    let url = Db::create_postgres_database(&pg, &name).await?;
    grid_on("PostgreSQL", &url, students, sessions).await
}

async fn grid_on(label: &str, url: &str, students: usize, sessions: usize) -> Result<(), BoxError> {
    use attn::courses::{GridFilter, course_grid, course_id};
    use attn::domain::{Role, Status};
    let ctx = attn::Ctx::connect(attn::Config {
        database_url: url.to_owned(),
        ..attn::Config::default()
    })
    .await?;
    let start = ctx.clock.now() - chrono::Duration::days(7 * sessions as i64);
    for s in 0..sessions {
        let at = start + chrono::Duration::days(7 * s as i64);
        let session = LiveSession {
            id: Uuid::new_v4(),
            teacher_school_number: "T0001".into(),
            teacher_full_name: "Dr. Öğr. Üyesi Teacher".into(),
            lesson_name: "Veri Yapıları".into(),
            ip_address: "10.0.0.1".into(),
            start_time: at,
            end_time: at + chrono::Duration::minutes(50),
            security: SecurityLevel::Network,
            rotate_code: true,
            late_after_minutes: Some(10),
            class_hours: None,
            rechecks: Vec::new(),
            device_check: Default::default(),
        };
        // Everyone in the first week; later on every seventh is away, every eleventh late and
        // every thirteenth excused, shifting week by week.
        let records: Vec<LiveRecord> = (0..students)
            .filter(|r| s == 0 || (r + s) % 7 != 0)
            .map(|r| LiveRecord {
                student_number: format!("1306{r:06}"),
                student_full_name: format!("Öğrenci {r}"),
                is_attended: (r + s) % 13 != 0,
                attendance_time: Some(at),
                fail_reason: None,
                deletion: None,
                face_distance_milli: None,
                late: (r + s) % 11 == 0,
                marked: ((r + s) % 13 == 0).then_some(Status::Excused),
                status_reason: None,
                changes: Vec::new(),
                confirmed: Vec::new(),
                evidence: None,
            })
            .collect();
        let fence = ctx.db.take_sweep_fence(session.id).await?;
        ctx.db.persist_live(&session, &records, at, fence).await?;
    }
    let teacher = attn::auth::Caller {
        school_number: "T0001".into(),
        full_name: "Teacher".into(),
        role: Role::Teacher,
        is_admin: false,
    };
    let id = course_id("T0001", "Veri Yapıları").to_string();
    let mut times = Vec::new();
    let mut grid = None;
    for _ in 0..20 {
        let began = Instant::now();
        grid = Some(course_grid(&ctx, Some(&teacher), &id, &GridFilter::default()).await?);
        times.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let grid = grid.ok_or("no grid")?;
    println!(
        "{label}: grid of {} rows x {} sessions: p50 {:.1} ms, p95 {:.1} ms",
        grid.rows.len(),
        grid.sessions.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.95)
    );
    let table: Vec<Vec<String>> = grid
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![r.student.school_number.clone(), r.student.full_name.clone()];
            row.extend(
                r.cells
                    .iter()
                    .map(|c| c.unwrap_or(Status::Absent).letter().to_string()),
            );
            row.push(r.standing.rate_percent().to_string());
            row.push(r.standing.absences_text());
            row
        })
        .collect();
    let began = Instant::now();
    let csv = attn::export::csv(&table, attn::export::Separator::Semicolon)?;
    let csv_ms = began.elapsed().as_secs_f64() * 1000.0;
    let began = Instant::now();
    let xlsx = attn::export::xlsx(&table, "Ders")?;
    let xlsx_ms = began.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{label}: CSV {} KiB in {csv_ms:.1} ms, XLSX {} KiB in {xlsx_ms:.1} ms",
        csv.len() / 1024,
        xlsx.len() / 1024
    );
    Ok(())
}

/// The labelled test photos: file and person.
const FACES: [(&str, &str); 6] = [
    ("obama.jpg", "obama"),
    ("obama2.jpg", "obama"),
    ("obama3.jpg", "obama"),
    ("obama_partial_face.jpg", "obama"),
    ("32bit.png", "obama"),
    ("biden.jpg", "biden"),
];

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn face(rounds: usize) -> Result<(), BoxError> {
    use attn::face::{FaceChecker, FaceModels, decode};
    let dir = std::path::PathBuf::from(
        std::env::var("ATTN_MODELS_DIR").unwrap_or_else(|_| "models".into()),
    );
    let photos: Vec<(String, String, Vec<u8>)> = FACES
        .iter()
        .map(|(file, who)| {
            let bytes = std::fs::read(dir.join("testdata").join(file))?;
            Ok(((*file).to_owned(), (*who).to_owned(), bytes))
        })
        .collect::<Result<_, std::io::Error>>()?;
    let mut models = FaceModels::load(&dir)?;
    println!(
        "face: {} photos x {rounds} rounds, one thread",
        photos.len()
    );

    let (mut decode_ms, mut detect_ms, mut embed_ms, mut total_ms) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut descriptors = Vec::new();
    for round in 0..rounds.max(1) {
        for (file, who, bytes) in &photos {
            let t0 = Instant::now();
            let image = decode::decode_upright(bytes).map_err(|e| format!("{file}: {e:?}"))?;
            let t1 = Instant::now();
            let (small, ratio) = attn::face::shrink_for_detection(&image);
            let faces = models.faces(&small)?;
            let t2 = Instant::now();
            let main = faces
                .iter()
                .max_by(|a, b| a.height().total_cmp(&b.height()))
                .ok_or_else(|| format!("{file}: no face"))?;
            let landmarks = main.landmarks.map(|[x, y]| [x / ratio, y / ratio]);
            let descriptor = models.descriptor(&image, &landmarks)?;
            let t3 = Instant::now();
            decode_ms.push((t1 - t0).as_secs_f64() * 1000.0);
            detect_ms.push((t2 - t1).as_secs_f64() * 1000.0);
            embed_ms.push((t3 - t2).as_secs_f64() * 1000.0);
            if round == 0 {
                descriptors.push((file.clone(), who.clone(), descriptor));
            }
        }
    }
    for i in 0..decode_ms.len() {
        total_ms.push(decode_ms[i] + detect_ms[i] + embed_ms[i]);
    }
    for (label, values) in [
        ("decode", &mut decode_ms),
        ("detect", &mut detect_ms),
        ("descriptor", &mut embed_ms),
        ("one photo", &mut total_ms),
    ] {
        values.sort_by(f64::total_cmp);
        println!(
            "  {label:<10} p50 {:7.1} ms  p95 {:7.1} ms",
            percentile(values, 0.5),
            percentile(values, 0.95)
        );
    }

    let threshold = attn::face::DEFAULT_THRESHOLD;
    let (mut same, mut different) = (Vec::new(), Vec::new());
    for i in 0..descriptors.len() {
        for j in i + 1..descriptors.len() {
            let (a, b) = (&descriptors[i], &descriptors[j]);
            let d = attn::face::distance(&a.2, &b.2);
            println!("  distance {} - {}: {d:.3}", a.0, b.0);
            if a.1 == b.1 {
                same.push(d)
            } else {
                different.push(d)
            }
        }
    }
    let false_rejects = same.iter().filter(|d| **d >= threshold).count();
    let false_accepts = different.iter().filter(|d| **d < threshold).count();
    let range = |v: &[f32]| {
        let lo = v.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = v.iter().copied().fold(0.0, f32::max);
        format!("{lo:.3}..{hi:.3}")
    };
    println!(
        "  same person: {} pairs, {}; different: {} pairs, {}",
        same.len(),
        range(&same),
        different.len(),
        range(&different)
    );
    println!(
        "  at threshold {threshold}: false rejects {false_rejects}/{}, false accepts {false_accepts}/{}",
        same.len(),
        different.len()
    );

    // Whole checks, one at a time on one worker: a student's first (the portal photo not
    // seen yet: each reference made unique by bytes after the JPEG's end, which decoders
    // ignore), then later ones (its descriptor remembered).
    let checker = FaceChecker::load(&dir, 1, threshold)?;
    for (label, unique) in [("first check", true), ("later check", false)] {
        let mut took = Vec::new();
        for i in 0..rounds.max(1) * 4 {
            let mut reference = photos[0].2.clone();
            if unique {
                reference.extend_from_slice(&(i as u64).to_le_bytes());
            }
            let selfie = photos[1 + i % 2].2.clone();
            let began = Instant::now();
            checker.compare(reference, selfie).await?;
            took.push(began.elapsed().as_secs_f64() * 1000.0);
        }
        took.sort_by(f64::total_cmp);
        println!(
            "  {label:<11} p50 {:7.1} ms  p95 {:7.1} ms  (reference and selfie, one worker)",
            percentile(&took, 0.5),
            percentile(&took, 0.95)
        );
    }
    drop(checker);
    if let Some(mib) = peak_memory_mib() {
        println!("  peak memory of this process (VmHWM): {mib:.0} MiB");
    }
    // The pool as the server runs it, in a process of its own so its memory is its own.
    let out = std::process::Command::new(std::env::current_exe()?)
        .args(["face-pool", "300"])
        .output()?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    Ok(())
}

/// `selfies` students of a class, each with a selfie and a portal photo not seen before, through
/// the server's pool of two workers at once; then the same again (portal photos remembered). The
/// peak memory is this process's: the two workers' networks and what they used.
async fn face_pool(selfies: usize) -> Result<(), BoxError> {
    use attn::face::FaceChecker;
    let dir = std::path::PathBuf::from(
        std::env::var("ATTN_MODELS_DIR").unwrap_or_else(|_| "models".into()),
    );
    let read = |file: &str| std::fs::read(dir.join("testdata").join(file));
    let (reference, selfies_of) = (
        read("obama.jpg")?,
        [read("obama2.jpg")?, read("obama3.jpg")?],
    );
    let checker = FaceChecker::load(&dir, 2, attn::face::DEFAULT_THRESHOLD)?;
    if let Some(mib) = peak_memory_mib() {
        println!("  two workers' networks loaded: {mib:.0} MiB");
    }
    // At most as many checks wait as the server lets wait (ATTN_FACE_QUEUE, 32, besides the two
    // running): the others are told to try again, so their photos are never held.
    let admitted = attn::Config::default().face_queue + 2;
    for (label, unique) in [("first checks", true), ("later checks", false)] {
        use futures_util::StreamExt;
        let began = Instant::now();
        let results: Vec<_> = futures_util::stream::iter(0..selfies)
            .map(|i| {
                let checker = checker.clone();
                let mut reference = reference.clone();
                if unique {
                    reference.extend_from_slice(&(i as u64).to_le_bytes());
                }
                let selfie = selfies_of[i % 2].clone();
                async move { checker.compare(reference, selfie).await }
            })
            .buffer_unordered(admitted)
            .collect()
            .await;
        for result in results {
            result?;
        }
        let elapsed = began.elapsed().as_secs_f64();
        println!(
            "  pool of 2 workers, {label}: {selfies} selfies in {elapsed:.1} s = {:.1} checks/s",
            selfies as f64 / elapsed
        );
        if let Some(mib) = peak_memory_mib() {
            println!("  peak so far: {mib:.0} MiB");
        }
    }
    if let Some(mib) = peak_memory_mib() {
        println!("  peak memory (VmHWM): {mib:.0} MiB");
    }
    Ok(())
}

/// The aligned chips of the test photos, as the service cuts them.
fn chips(out: &std::path::Path) -> Result<(), BoxError> {
    use attn::face::{FaceModels, align, decode, shrink_for_detection};
    let dir = std::path::PathBuf::from(
        std::env::var("ATTN_MODELS_DIR").unwrap_or_else(|_| "models".into()),
    );
    let mut models = FaceModels::load(&dir)?;
    let (mut bytes, mut names) = (Vec::new(), Vec::new());
    for (file, _) in FACES {
        let image = decode::decode_upright(&std::fs::read(dir.join("testdata").join(file))?)
            .map_err(|e| format!("{file}: {e:?}"))?;
        let (small, ratio) = shrink_for_detection(&image);
        let faces = models.faces(&small)?;
        let main = faces
            .iter()
            .max_by(|a, b| a.height().total_cmp(&b.height()))
            .ok_or_else(|| format!("{file}: no face"))?;
        let landmarks = main.landmarks.map(|[x, y]| [x / ratio, y / ratio]);
        bytes.extend(align::chip(&image, &landmarks).iter().map(|v| *v as u8));
        names.push(format!("\"{file}\""));
    }
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("chips.bin"), bytes)?;
    std::fs::write(
        out.join("chips.json"),
        format!("{{\"names\": [{}]}}", names.join(", ")),
    )?;
    println!("{} chips written to {}", names.len(), out.display());
    Ok(())
}
