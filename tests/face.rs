//! The face check with the real models on real photographs (public-domain portraits from the
//! `face_recognition==1.3.0` sdist, fetched and checked by `scripts/models`): the same person
//! passes, another person fails, no face, two faces, a phone photo turned by its EXIF tag, a
//! non-image and oversized uploads. The models are loaded once for the whole file.
//!
//! Without the models folder the tests say so and pass, unless ATTN_TEST_REQUIRE_MODELS=1.

mod common;

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::OnceLock;

use attn::domain::FailReason;
use attn::face::decode::{self, DecodeError, MAX_UPLOAD_BYTES};
use attn::face::{FaceChecker, FaceOutcome};
use image::{ImageFormat, RgbImage};

fn models_dir() -> PathBuf {
    std::env::var("ATTN_MODELS_DIR")
        .ok()
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models"))
}

/// The checker, loaded once; `None` (with a note) when the models are not there.
fn checker() -> Option<&'static FaceChecker> {
    static CHECKER: OnceLock<Option<FaceChecker>> = OnceLock::new();
    CHECKER
        .get_or_init(|| {
            let required = std::env::var("ATTN_TEST_REQUIRE_MODELS").is_ok_and(|v| v == "1");
            match FaceChecker::load(&models_dir(), 2, attn::face::DEFAULT_THRESHOLD) {
                Ok(checker) => Some(checker),
                Err(error) if !required => {
                    eprintln!("face tests skipped: {error}");
                    None
                }
                Err(error) => panic!("the face models are required: {error}"),
            }
        })
        .as_ref()
}

fn photo(name: &str) -> Vec<u8> {
    let path = models_dir().join("testdata").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn encode(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn crop(bytes: &[u8], x: u32, y: u32, w: u32, h: u32) -> RgbImage {
    let image = image::load_from_memory(bytes).unwrap().into_rgb8();
    image::imageops::crop_imm(&image, x, y, w, h).to_image()
}

/// A JPEG with an EXIF orientation tag: APP1 "Exif" with a one-entry TIFF directory.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // big-endian, first directory at 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next directory
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

async fn compare(reference: &[u8], selfie: &[u8]) -> Option<FaceOutcome> {
    let checker = checker()?;
    Some(
        checker
            .compare(reference.to_vec(), selfie.to_vec())
            .await
            .expect("the check runs")
            .outcome,
    )
}

#[tokio::test]
async fn the_same_person_passes() {
    for other in ["obama2.jpg", "obama3.jpg"] {
        let Some(outcome) = compare(&photo("obama.jpg"), &photo(other)).await else {
            return;
        };
        eprintln!("obama.jpg vs {other}: {outcome:?}");
        // The portal photo's descriptor is remembered (in memory only) for the next check.
        assert!(checker().unwrap().remembered_references() >= 1);
        assert!(
            matches!(outcome, FaceOutcome::Match { distance } if distance < 0.5),
            "{other}: {outcome:?}"
        );
        assert_eq!(outcome.reason(), None);
    }
}

#[tokio::test]
async fn another_person_fails_with_face_mismatch() {
    for selfie in ["obama.jpg", "obama2.jpg", "obama3.jpg"] {
        let Some(outcome) = compare(&photo("biden.jpg"), &photo(selfie)).await else {
            return;
        };
        eprintln!("biden.jpg vs {selfie}: {outcome:?}");
        assert!(
            matches!(outcome, FaceOutcome::Mismatch { distance } if distance > 0.65),
            "{selfie}: {outcome:?}"
        );
        assert_eq!(outcome.reason(), Some(FailReason::FaceMismatch));
    }
}

#[tokio::test]
async fn a_photo_without_a_face_asks_for_a_new_one() {
    // The lower left of a portrait: suit and background, no face.
    let no_face = encode(
        &crop(&photo("obama.jpg"), 0, 500, 360, 400),
        ImageFormat::Png,
    );
    let Some(outcome) = compare(&photo("obama.jpg"), &no_face).await else {
        return;
    };
    assert_eq!(outcome, FaceOutcome::NoFace);
    assert_eq!(outcome.reason(), Some(FailReason::NoFaceFound));
    // A reference photo without a face leaves the decision to the teacher.
    let outcome = compare(&no_face, &photo("obama2.jpg")).await.unwrap();
    assert_eq!(outcome, FaceOutcome::ReferenceUnusable);
    assert_eq!(outcome.reason(), Some(FailReason::ReferenceImageNotFound));
}

#[tokio::test]
async fn two_faces_in_the_selfie_ask_for_a_new_one() {
    let obama = crop(&photo("obama.jpg"), 300, 0, 400, 520);
    let biden = crop(&photo("biden.jpg"), 360, 60, 400, 520);
    let mut both = RgbImage::new(800, 520);
    image::imageops::replace(&mut both, &obama, 0, 0);
    image::imageops::replace(&mut both, &biden, 400, 0);
    let Some(outcome) = compare(&photo("obama2.jpg"), &encode(&both, ImageFormat::Jpeg)).await
    else {
        return;
    };
    assert_eq!(outcome, FaceOutcome::MoreThanOneFace);
    assert_eq!(outcome.reason(), Some(FailReason::MoreThanOneFace));
}

#[tokio::test]
async fn a_phone_photo_is_turned_upright_by_its_exif_orientation() {
    let upright = image::load_from_memory(&photo("obama2.jpg"))
        .unwrap()
        .into_rgb8();
    // As a phone held sideways stores it: pixels turned a quarter left, tag 6 says "turn right".
    let stored = image::imageops::rotate270(&upright);
    let tagged = with_orientation(&encode(&stored, ImageFormat::Jpeg), 6);
    let decoded = decode::decode_upright(&tagged).unwrap();
    assert_eq!(decoded.dimensions(), upright.dimensions());
    let Some(outcome) = compare(&photo("obama.jpg"), &tagged).await else {
        return;
    };
    assert!(matches!(outcome, FaceOutcome::Match { .. }), "{outcome:?}");
}

#[tokio::test]
async fn non_images_and_oversized_uploads_are_refused_before_decoding() {
    assert_eq!(decode::decode_upright(b""), Err(DecodeError::Empty));
    assert_eq!(
        decode::decode_upright(b"%PDF-1.7 not a photo"),
        Err(DecodeError::NotAnImage)
    );
    assert_eq!(
        decode::decode_upright(&vec![0xFF; MAX_UPLOAD_BYTES + 1]),
        Err(DecodeError::TooLarge)
    );
    let wide = encode(&RgbImage::new(5000, 8), ImageFormat::Png);
    assert!(wide.len() < 100_000, "small file, many pixels");
    assert_eq!(
        decode::decode_upright(&wide),
        Err(DecodeError::TooManyPixels)
    );
    // A PNG cut short is not an image either.
    let png = photo("32bit.png");
    assert_eq!(
        decode::decode_upright(&png[..png.len() / 3]).err(),
        Some(DecodeError::NotAnImage)
    );

    let Some(outcome) = compare(&photo("obama.jpg"), b"<script>alert(1)</script>").await else {
        return;
    };
    assert_eq!(
        outcome,
        FaceOutcome::SelfieRejected(DecodeError::NotAnImage)
    );
    assert_eq!(
        outcome.reason(),
        Some(FailReason::FaceVerificationRequiredButImageMissing)
    );
}

// The face check inside a check-in, on both backends.

attn::on_both_backends!(
    common::env;
    a_level_3_session_checks_the_selfie_against_the_portal_photo,
    a_busy_face_check_answers_pending_and_the_outcome_follows,
    a_full_face_check_queue_says_try_again_and_records_nothing,
    one_face_on_two_accounts_is_flagged_for_the_teacher,
);

const TEACHER_IP: &str = "10.20.30.40";

fn caller(number: &str, role: attn::domain::Role) -> attn::auth::Caller {
    attn::auth::Caller {
        school_number: number.into(),
        full_name: format!("Kişi {number}"),
        role,
        is_admin: false,
    }
}

async fn level_3(ctx: &attn::Ctx) -> attn::domain::LiveSession {
    attn::teacher::start_session(
        ctx,
        Some(&caller("T100", attn::domain::Role::Teacher)),
        attn::teacher::StartSession {
            lesson_name: "Yüz Tanıma".into(),
            duration_minutes: 10,
            security: attn::domain::SecurityLevel::NetworkAndFace,
            rotate_code: false,
            late_after_minutes: None,
            class_hours: None,
            device_check: Default::default(),
        },
        TEACHER_IP.parse().unwrap(),
    )
    .await
    .unwrap()
}

async fn join(
    ctx: &attn::Ctx,
    session: &attn::domain::LiveSession,
    student: &str,
    selfie: Option<&[u8]>,
    reference: Option<&[u8]>,
) -> attn::Result<attn::domain::LiveRecord> {
    let id = session.id.to_string();
    let code = ctx.codes.current(session.id, false, ctx.clock.now());
    let who = caller(student, attn::domain::Role::Student);
    attn::student::check_in(
        ctx,
        Some(&who),
        attn::student::JoinAttempt {
            session_id: &id,
            code: &code,
            client_ip: TEACHER_IP.parse().unwrap(),
            device: &format!("device-{student}"),
            selfie,
            reference,
            passkey: None,
        },
    )
    .await
}

async fn a_level_3_session_checks_the_selfie_against_the_portal_photo(env: common::TestEnv) {
    let Some(checker) = checker() else {
        return;
    };
    let mut ctx = env.ctx(attn::Config::default());
    // Without the models a selfie session cannot start at all.
    let refused = attn::teacher::start_session(
        &ctx,
        Some(&caller("T100", attn::domain::Role::Teacher)),
        attn::teacher::StartSession {
            lesson_name: "Yüz Tanıma".into(),
            duration_minutes: 10,
            security: attn::domain::SecurityLevel::NetworkAndFace,
            rotate_code: false,
            late_after_minutes: None,
            class_hours: None,
            device_check: Default::default(),
        },
        TEACHER_IP.parse().unwrap(),
    )
    .await;
    assert!(matches!(refused, Err(attn::Error::FaceCheckUnavailable)));
    ctx.face = Some(checker.clone());
    let s = level_3(&ctx).await;
    let (obama, biden) = (photo("obama.jpg"), photo("biden.jpg"));

    let same = join(&ctx, &s, "1001", Some(&photo("obama2.jpg")), Some(&obama))
        .await
        .unwrap();
    assert!(same.is_attended, "{same:?}");
    assert!(
        same.face_distance_milli.is_some_and(|d| d < 500),
        "{same:?}"
    );

    let other = join(&ctx, &s, "1002", Some(&photo("obama3.jpg")), Some(&biden))
        .await
        .unwrap();
    assert!(!other.is_attended);
    assert_eq!(other.fail_reason, Some(FailReason::FaceMismatch));
    assert!(
        other.face_distance_milli.is_some_and(|d| d > 650),
        "{other:?}"
    );
    // A failed student may retry: with the right face it stands.
    let retried = join(&ctx, &s, "1002", Some(&biden), Some(&biden))
        .await
        .unwrap();
    assert!(retried.is_attended, "{retried:?}");

    let no_selfie = join(&ctx, &s, "1003", None, Some(&obama)).await.unwrap();
    assert_eq!(
        no_selfie.fail_reason,
        Some(FailReason::FaceVerificationRequiredButImageMissing)
    );
    let no_reference = join(&ctx, &s, "1004", Some(&obama), None).await.unwrap();
    assert_eq!(
        no_reference.fail_reason,
        Some(FailReason::ReferenceImageNotFound)
    );
    // Not an image, or too large: refused, nothing recorded.
    for bad in [
        b"GIF89a not really".to_vec(),
        vec![0xFF; MAX_UPLOAD_BYTES + 1],
    ] {
        let refused = join(&ctx, &s, "1005", Some(&bad), Some(&obama)).await;
        assert!(
            matches!(
                refused,
                Err(attn::Error::InvalidInput {
                    field: "selfie",
                    ..
                })
            ),
            "{refused:?}"
        );
    }
    assert!(ctx.live.record(s.id, "1005").await.unwrap().is_none());

    // The distance reaches the database with the record.
    attn::teacher::finish_session(
        &ctx,
        Some(&caller("T100", attn::domain::Role::Teacher)),
        &s.id.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(ctx.sweeper().sweep_once().await.unwrap().persisted, 1);
    let saved = ctx.db.session_records(s.id).await.unwrap();
    let first = saved.iter().find(|r| r.student_number == "1001").unwrap();
    assert_eq!(
        first.face_distance_milli,
        same.face_distance_milli.map(i32::from)
    );
}

async fn a_busy_face_check_answers_pending_and_the_outcome_follows(env: common::TestEnv) {
    if checker().is_none() {
        return;
    }
    let mut ctx = env.ctx(attn::Config::default());
    // A checker of its own with one worker, so the test can keep it busy.
    let one = FaceChecker::load(&models_dir(), 1, attn::face::DEFAULT_THRESHOLD).unwrap();
    ctx.face = Some(one.clone());
    let s = level_3(&ctx).await;
    let obama = photo("obama.jpg");

    let busy = one.reserve().await.unwrap();
    let pending = join(&ctx, &s, "2001", Some(&photo("obama2.jpg")), Some(&obama))
        .await
        .unwrap();
    assert_eq!(pending.fail_reason, Some(FailReason::FaceCheckPending));
    assert!(!pending.is_attended);
    // Another student waits too, and the teacher removes them before the check ends.
    join(&ctx, &s, "2003", Some(&photo("obama3.jpg")), Some(&obama))
        .await
        .unwrap();
    let teacher = caller("T100", attn::domain::Role::Teacher);
    attn::teacher::remove_student(
        &ctx,
        Some(&teacher),
        &s.id.to_string(),
        "2003",
        "Sınıfta yok",
    )
    .await
    .unwrap();
    let mut changes = ctx.live.subscribe(s.id).await.unwrap();
    drop(busy);
    // The outcome replaces the pending record and is announced to the teacher's page.
    tokio::time::timeout(std::time::Duration::from_secs(40), changes.recv())
        .await
        .expect("the outcome is announced")
        .expect("the channel is open");
    let done = ctx.live.record(s.id, "2001").await.unwrap().unwrap();
    assert!(done.is_attended, "{done:?}");
    assert!(done.face_distance_milli.is_some());
    // Once the worker is free again, the removed student's check has ended: still removed.
    drop(one.reserve().await.unwrap());
    let removed = ctx.live.record(s.id, "2003").await.unwrap().unwrap();
    assert!(
        removed.deletion.is_some() && !removed.is_attended,
        "{removed:?}"
    );

    // A check still pending when the session ends holds the sweep back for a while, then is
    // recorded as failed with a reason: nothing is lost.
    let busy = one.reserve().await.unwrap();
    join(&ctx, &s, "2002", Some(&photo("obama3.jpg")), Some(&obama))
        .await
        .unwrap();
    attn::teacher::finish_session(&ctx, Some(&teacher), &s.id.to_string())
        .await
        .unwrap();
    assert_eq!(ctx.sweeper().sweep_once().await.unwrap().persisted, 0);
    env.advance(attn::sweep::PENDING_GRACE + chrono::Duration::seconds(1));
    assert_eq!(ctx.sweeper().sweep_once().await.unwrap().persisted, 1);
    let saved = ctx.db.session_records(s.id).await.unwrap();
    let late = saved.iter().find(|r| r.student_number == "2002").unwrap();
    assert_eq!(late.fail_reason, Some(FailReason::FaceCheckTimeout));
    assert!(
        saved
            .iter()
            .find(|r| r.student_number == "2001")
            .unwrap()
            .is_attended
    );
    drop(busy);
}

async fn a_full_face_check_queue_says_try_again_and_records_nothing(env: common::TestEnv) {
    if checker().is_none() {
        return;
    }
    let mut ctx = env.ctx(attn::Config {
        face_queue: 2,
        ..attn::Config::default()
    });
    let one = FaceChecker::load(&models_dir(), 1, attn::face::DEFAULT_THRESHOLD).unwrap();
    ctx.face = Some(one.clone());
    let s = level_3(&ctx).await;
    let obama = photo("obama.jpg");
    let busy = one.reserve().await.unwrap();
    // Two checks wait for the worker: the queue is full.
    for student in ["3001", "3002"] {
        let pending = join(&ctx, &s, student, Some(&photo("obama2.jpg")), Some(&obama))
            .await
            .unwrap();
        assert_eq!(pending.fail_reason, Some(FailReason::FaceCheckPending));
    }
    assert_eq!(one.waiting(), 2);
    // The third is told to come back in a few seconds; nothing of theirs is recorded.
    match join(&ctx, &s, "3003", Some(&photo("obama2.jpg")), Some(&obama)).await {
        Err(attn::Error::FaceCheckBusy { retry_after_secs }) => {
            assert!((1..=10).contains(&retry_after_secs), "{retry_after_secs}");
        }
        other => panic!("expected FaceCheckBusy, got {other:?}"),
    }
    assert!(ctx.live.record(s.id, "3003").await.unwrap().is_none());
    // Once the worker is free, the queue drains and the student gets in.
    drop(busy);
    drop(one.reserve().await.unwrap());
    drop(one.reserve().await.unwrap());
    let later = join(&ctx, &s, "3003", Some(&photo("obama2.jpg")), Some(&obama))
        .await
        .unwrap();
    assert!(later.is_attended || later.is_pending(), "{later:?}");
}

async fn one_face_on_two_accounts_is_flagged_for_the_teacher(env: common::TestEnv) {
    let Some(checker) = checker() else {
        return;
    };
    let mut ctx = env.ctx(attn::Config::default());
    ctx.face = Some(checker.clone());
    let s = level_3(&ctx).await;
    let (obama, biden) = (photo("obama.jpg"), photo("biden.jpg"));

    let own = join(&ctx, &s, "1001", Some(&photo("obama2.jpg")), Some(&obama))
        .await
        .unwrap();
    assert!(own.is_attended);
    // The same man checks in for a classmate: the classmate's photo does not match him, and
    // his face is already on another account of the session.
    let friend = join(&ctx, &s, "1002", Some(&photo("obama3.jpg")), Some(&biden))
        .await
        .unwrap();
    assert_eq!(friend.fail_reason, Some(FailReason::FaceMismatch));
    assert_eq!(friend.evidence.as_ref().unwrap().same_face, ["1001"]);
    // Someone else entirely is not flagged.
    let other = join(&ctx, &s, "1003", Some(&biden), Some(&biden))
        .await
        .unwrap();
    assert!(other.is_attended);
    assert!(other.evidence.as_ref().unwrap().same_face.is_empty());

    let teacher = caller("T100", attn::domain::Role::Teacher);
    let board = attn::teacher::live_board(&ctx, Some(&teacher), &s.id.to_string())
        .await
        .unwrap();
    assert_eq!(board.same_faces(), [("1001", "1002")]);
    // Accepting the student by hand does not hide it.
    attn::teacher::accept_student(&ctx, Some(&teacher), &s.id.to_string(), "1002")
        .await
        .unwrap();
    let board = attn::teacher::live_board(&ctx, Some(&teacher), &s.id.to_string())
        .await
        .unwrap();
    assert_eq!(board.same_faces(), [("1001", "1002")]);
}
