//! Signed receipts of check-ins: what a student gets, what a teacher's check finds (valid,
//! forged, for another session), that every instance on one database signs alike, and that a
//! receipt backs an appeal only when it is the student's own for that session.

mod common;

use std::net::IpAddr;

use attn::auth::Caller;
use attn::domain::{FailReason, Role, SecurityLevel, Status};
use attn::error::{Error, Problem};
use attn::receipts::{self, ReceiptKey, Verdict};
use attn::student::{self, JoinAttempt};
use attn::teacher::{self, StartSession};
use attn::{Config, Ctx, appeals};
use chrono::Duration;
use common::TestEnv;

attn::on_both_backends!(
    common::env;
    a_check_in_gives_a_receipt_the_teacher_can_check,
    a_changed_or_foreign_receipt_is_forged,
    every_instance_on_one_database_signs_alike,
    a_receipt_backs_an_appeal_only_for_its_own_session_and_student,
);

const TEACHER_IP: &str = "10.20.30.40";

fn person(number: &str, role: Role, is_admin: bool) -> Caller {
    Caller {
        school_number: number.into(),
        full_name: format!("Kişi {number} Öztürk"),
        role,
        is_admin,
    }
}

fn teacher() -> Caller {
    person("T100", Role::Teacher, false)
}

fn student(n: u32) -> Caller {
    person(&format!("13062{n:05}"), Role::Student, false)
}

/// A configured key (`ATTN_RECEIPT_KEY`), read as the configuration reads it.
fn key(text: &str) -> ReceiptKey {
    ReceiptKey::from_text(text).expect("32 bytes in base64")
}

fn ctx(env: &TestEnv) -> Ctx {
    env.ctx(Config {
        join_secret: Some("test-secret".into()),
        ..Config::default()
    })
}

async fn start(ctx: &Ctx, lesson: &str) -> attn::domain::LiveSession {
    teacher::start_session(
        ctx,
        Some(&teacher()),
        StartSession {
            lesson_name: lesson.into(),
            duration_minutes: 10,
            security: SecurityLevel::Network,
            rotate_code: true,
            late_after_minutes: None,
            class_hours: None,
            device_check: Default::default(),
        },
        TEACHER_IP.parse().unwrap(),
    )
    .await
    .unwrap()
}

/// Checks `who` in from `from`; the receipt the join page then shows.
async fn check_in_from(
    ctx: &Ctx,
    who: &Caller,
    s: &attn::domain::LiveSession,
    from: &str,
) -> String {
    let code = ctx.codes.current(s.id, s.rotate_code, ctx.clock.now());
    let id = s.id.to_string();
    let from: IpAddr = from.parse().unwrap();
    student::check_in(
        ctx,
        Some(who),
        JoinAttempt {
            session_id: &id,
            code: &code,
            client_ip: from,
            device: &format!("device-{}", who.school_number),
            selfie: None,
            reference: None,
            passkey: None,
        },
    )
    .await
    .unwrap();
    student::session_overview(ctx, Some(who), &id)
        .await
        .unwrap()
        .receipt
        .expect("a receipt once the check-in has an outcome")
}

async fn a_check_in_gives_a_receipt_the_teacher_can_check(env: TestEnv) {
    let ctx = ctx(&env);
    let s = start(&ctx, "Veri Yapıları").await;
    let there = check_in_from(&ctx, &student(1), &s, "10.20.30.77").await;
    let outside = check_in_from(&ctx, &student(2), &s, "203.0.113.9").await;
    assert!(there.starts_with("ATTN1."), "{there}");

    let id = s.id.to_string();
    let Verdict::Valid(r) = receipts::verify(&ctx, Some(&teacher()), &there, Some(&id))
        .await
        .unwrap()
    else {
        panic!("the student's own receipt is valid");
    };
    assert_eq!(r.session_id, s.id);
    assert_eq!(r.lesson_name, "Veri Yapıları");
    assert_eq!(r.student_number, student(1).school_number);
    assert_eq!(r.status, Status::Present);
    assert_eq!(r.at, ctx.clock.now());
    // A failed check gets a receipt too, saying why.
    let Verdict::Valid(r) = receipts::verify(&ctx, Some(&teacher()), &outside, None)
        .await
        .unwrap()
    else {
        panic!("a failed check's receipt is valid");
    };
    assert_eq!(
        (r.status, r.fail_reason),
        (Status::Failed, Some(FailReason::WifiFailed))
    );
    // The same check-in shown twice is the same receipt.
    let again = student::session_overview(&ctx, Some(&student(1)), &id)
        .await
        .unwrap()
        .receipt;
    assert_eq!(again.as_deref(), Some(there.as_str()));
    // Admins check receipts too; students and strangers do not.
    let admin = person("A1", Role::Teacher, true);
    assert!(matches!(
        receipts::verify(&ctx, Some(&admin), &there, None).await,
        Ok(Verdict::Valid(_))
    ));
    assert!(matches!(
        receipts::verify(&ctx, Some(&student(1)), &there, None).await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        receipts::verify(&ctx, None, &there, None).await,
        Err(Error::Unauthenticated)
    ));
    assert!(matches!(
        receipts::verify(&ctx, Some(&teacher()), "  ", None).await,
        Err(Error::InvalidInput {
            field: "receipt",
            problem: Problem::Empty
        })
    ));
    assert!(matches!(
        receipts::verify(&ctx, Some(&teacher()), &there, Some("yesterday")).await,
        Err(Error::InvalidInput {
            field: "session_id",
            ..
        })
    ));
}

async fn a_changed_or_foreign_receipt_is_forged(env: TestEnv) {
    let ctx = ctx(&env);
    let first = start(&ctx, "Veri Yapıları").await;
    let receipt = check_in_from(&ctx, &student(1), &first, "10.20.30.77").await;
    teacher::finish_session(&ctx, Some(&teacher()), &first.id.to_string())
        .await
        .unwrap();
    let second = start(&ctx, "Veri Yapıları").await;

    // Shown for the next week's session: signed, but for another session.
    assert!(matches!(
        receipts::verify(&ctx, Some(&teacher()), &receipt, Some(&second.id.to_string())).await,
        Ok(Verdict::OtherSession(r)) if r.session_id == first.id
    ));
    // Any change to what it says or to its signature, or something else altogether.
    let (head, signature) = receipt.rsplit_once('.').unwrap();
    let payload = head.strip_prefix("ATTN1.").unwrap();
    let mut other_payload = payload.to_owned().into_bytes();
    let i = other_payload.len() / 2;
    other_payload[i] = if other_payload[i] == b'A' { b'B' } else { b'A' };
    let changed = format!(
        "ATTN1.{}.{signature}",
        String::from_utf8(other_payload).unwrap()
    );
    let mut other_signature = signature.to_owned().into_bytes();
    other_signature[0] = if other_signature[0] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let resigned = format!("{head}.{}", String::from_utf8(other_signature).unwrap());
    let foreign_key = env.ctx(Config {
        receipt_key: Some(key("YW5vdGhlciBzZXJ2ZXIsIGFub3RoZXIga2V5OiAzMiE=")),
        ..Config::default()
    });
    let by_another_server = receipts::sign(
        &foreign_key,
        &receipts::read(&ctx, &receipt).await.unwrap().unwrap(),
    )
    .await
    .unwrap();
    for forged in [
        changed.as_str(),
        resigned.as_str(),
        by_another_server.as_str(),
        "ATTN1.e30.AAAA",
        "not a receipt",
        &"A".repeat(5000),
    ] {
        assert_eq!(
            receipts::verify(&ctx, Some(&teacher()), forged, None)
                .await
                .unwrap(),
            Verdict::Forged,
            "{forged}"
        );
    }
}

async fn every_instance_on_one_database_signs_alike(env: TestEnv) {
    let one = ctx(&env);
    let s = start(&one, "Veri Yapıları").await;
    let receipt = check_in_from(&one, &student(1), &s, "10.20.30.77").await;
    // Another instance on the same database, started later, without ATTN_RECEIPT_KEY.
    let two = ctx(&env);
    assert!(matches!(
        receipts::verify(&two, Some(&teacher()), &receipt, None).await,
        Ok(Verdict::Valid(_))
    ));
    assert_eq!(
        one.receipts.public_key(&one).await.unwrap(),
        two.receipts.public_key(&two).await.unwrap()
    );
    // With a configured key every instance uses that one instead.
    let configured = || {
        env.ctx(Config {
            receipt_key: Some(key("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")),
            ..Config::default()
        })
    };
    let (three, four) = (configured(), configured());
    let signed = receipts::sign(
        &three,
        &receipts::read(&one, &receipt).await.unwrap().unwrap(),
    )
    .await
    .unwrap();
    assert!(matches!(
        receipts::verify(&four, Some(&teacher()), &signed, None).await,
        Ok(Verdict::Valid(_))
    ));
    assert_eq!(
        receipts::verify(&four, Some(&teacher()), &receipt, None)
            .await
            .unwrap(),
        Verdict::Forged
    );
    assert!(ReceiptKey::from_text("too short").is_none());
    assert!(Config::from_lookup(|k| (k == "ATTN_RECEIPT_KEY").then(|| "c2hvcnQ=".into())).is_err());
}

async fn a_receipt_backs_an_appeal_only_for_its_own_session_and_student(env: TestEnv) {
    let ctx = ctx(&env);
    let first = start(&ctx, "Veri Yapıları").await;
    let mine = check_in_from(&ctx, &student(1), &first, "10.20.30.77").await;
    let theirs = check_in_from(&ctx, &student(2), &first, "10.20.30.78").await;
    teacher::finish_session(&ctx, Some(&teacher()), &first.id.to_string())
        .await
        .unwrap();
    let second = start(&ctx, "Veri Yapıları").await;
    let last_week = check_in_from(&ctx, &student(1), &second, "10.20.30.77").await;
    teacher::finish_session(&ctx, Some(&teacher()), &second.id.to_string())
        .await
        .unwrap();
    env.advance(Duration::minutes(1));
    assert_eq!(ctx.sweeper().sweep_once().await.unwrap().persisted, 2);
    // The teacher removes student 1 from the first session after class.
    let id = first.id.to_string();
    attn::history::remove_past_student(
        &ctx,
        Some(&teacher()),
        &id,
        &student(1).school_number,
        "Derste göremedim kendisini",
    )
    .await
    .unwrap();

    let text = "Derse geldim, makbuzum da var";
    for wrong in [theirs.as_str(), last_week.as_str(), "ATTN1.e30.AAAA"] {
        assert!(
            matches!(
                appeals::appeal(&ctx, Some(&student(1)), &id, text, Some(wrong)).await,
                Err(Error::InvalidInput {
                    field: "receipt",
                    ..
                })
            ),
            "{wrong}"
        );
    }
    let course = attn::courses::course_id("T100", "Veri Yapıları").to_string();
    assert!(
        appeals::course_appeals(&ctx, Some(&teacher()), &course)
            .await
            .unwrap()
            .is_empty(),
        "a refused appeal leaves nothing"
    );
    appeals::appeal(&ctx, Some(&student(1)), &id, text, Some(&mine))
        .await
        .unwrap();
    let listed = appeals::course_appeals(&ctx, Some(&teacher()), &course)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let backed = listed[0].receipt.as_ref().expect("the receipt, checked");
    assert_eq!(
        (
            backed.session_id,
            backed.status,
            backed.student_number.as_str()
        ),
        (first.id, Status::Present, student(1).school_number.as_str())
    );
}
