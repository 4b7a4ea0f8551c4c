//! Passkey device binding: a student's first check-in in a session that asks for passkeys
//! registers one (flagged), later check-ins must be signed with it, a phone without it is
//! refused (and the teacher can still count the student), a new phone needs a teacher's or an
//! admin's leave (written in the audit log), and a check-in without the page's script or
//! without a ceremony records nothing.
//!
//! The phones are webauthn-rs's software passkey: it makes and signs with real keys, so the
//! server's checks (origin, challenge, signature, user verification) all run.

mod common;

use attn::auth::Caller;
use attn::domain::{AuditAction, DeviceCheck, DeviceProof, FailReason, Role, SecurityLevel};
use attn::error::{Entity, Error};
use attn::passkeys::{self, Answer, Begun, Challenge};
use attn::student::{self, JoinAttempt};
use attn::teacher::{self, StartSession};
use attn::{Config, Ctx};
use chrono::Duration;
use common::TestEnv;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{AuthenticatorAttachment, Url};

attn::on_both_backends!(
    common::env;
    a_first_check_in_registers_a_passkey_and_later_ones_are_signed_with_it,
    another_phone_is_refused_and_the_teacher_can_still_count_the_student,
    a_session_for_registered_phones_refuses_a_first_timer_until_the_teacher_allows_one,
    a_new_phone_needs_leave_and_then_replaces_the_old_one,
    a_check_in_without_script_or_ceremony_records_nothing,
    a_recheck_in_a_passkey_session_is_signed_too,
);

const ORIGIN: &str = "http://localhost:3000";
const TEACHER_IP: &str = "10.20.30.40";
const PIXEL: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";

fn person(number: &str, role: Role) -> Caller {
    Caller {
        school_number: number.into(),
        full_name: format!("Kişi {number} Çelik"),
        role,
        is_admin: false,
    }
}

fn teacher() -> Caller {
    person("T100", Role::Teacher)
}

fn student(n: u32) -> Caller {
    person(&format!("13062{n:05}"), Role::Student)
}

fn admin() -> Caller {
    Caller {
        is_admin: true,
        ..person("A1", Role::Admin)
    }
}

fn ctx(env: &TestEnv) -> Ctx {
    env.ctx(Config {
        join_secret: Some("test-secret".into()),
        public_url: Some(ORIGIN.into()),
        ..Config::default()
    })
}

/// A phone with a passkey store of its own.
struct Phone(WebauthnAuthenticator<SoftPasskey>);

impl Phone {
    fn new() -> Self {
        // "true": the soft key says it verified the user, as a phone's fingerprint reader does.
        Self(WebauthnAuthenticator::new(SoftPasskey::new(true)))
    }

    /// What the page's script does with the server's challenge: the credential as JSON, or
    /// `None` when this phone has no passkey to sign with (the browser's NotAllowedError).
    fn answer(&mut self, challenge: Challenge) -> Option<String> {
        let origin = Url::parse(ORIGIN).unwrap();
        match challenge {
            Challenge::Register(mut creation) => {
                let selection = creation
                    .public_key
                    .authenticator_selection
                    .as_mut()
                    .unwrap();
                // The server asks for the phone itself, not a key passed around; the soft key
                // stands for the phone here.
                assert_eq!(
                    selection.authenticator_attachment,
                    Some(AuthenticatorAttachment::Platform)
                );
                selection.authenticator_attachment = None;
                let made = self.0.do_registration(origin, creation).ok()?;
                Some(serde_json::to_string(&made).unwrap())
            }
            Challenge::Authenticate(request) => {
                let signed = self.0.do_authentication(origin, request).ok()?;
                Some(serde_json::to_string(&signed).unwrap())
            }
            Challenge::None => None,
        }
    }
}

async fn start(ctx: &Ctx, device_check: DeviceCheck) -> attn::domain::LiveSession {
    teacher::start_session(
        ctx,
        Some(&teacher()),
        StartSession {
            lesson_name: "Veri Yapıları".into(),
            duration_minutes: 30,
            security: SecurityLevel::Network,
            rotate_code: true,
            late_after_minutes: None,
            class_hours: None,
            device_check,
        },
        TEACHER_IP.parse().unwrap(),
    )
    .await
    .unwrap()
}

/// Ends the teacher's session and moves the clock on, so the next one can start.
async fn finish(env: &TestEnv, ctx: &Ctx, s: &attn::domain::LiveSession) {
    teacher::finish_session(ctx, Some(&teacher()), &s.id.to_string())
        .await
        .unwrap();
    env.advance(Duration::minutes(1));
}

fn code(ctx: &Ctx, s: &attn::domain::LiveSession) -> String {
    ctx.codes.current(s.id, s.rotate_code, ctx.clock.now())
}

async fn begin(ctx: &Ctx, who: &Caller, s: &attn::domain::LiveSession) -> attn::Result<Begun> {
    passkeys::begin(ctx, Some(who), &s.id.to_string(), &code(ctx, s)).await
}

/// A check-in as the form sends it, with `answer` in its passkey field, from the classroom.
async fn check_in(
    ctx: &Ctx,
    who: &Caller,
    s: &attn::domain::LiveSession,
    browser: &str,
    answer: Option<&Answer<'_>>,
) -> attn::Result<attn::domain::LiveRecord> {
    let id = s.id.to_string();
    let code = code(ctx, s);
    student::check_in(
        ctx,
        Some(who),
        JoinAttempt {
            session_id: &id,
            code: &code,
            client_ip: "10.20.30.77".parse().unwrap(),
            device: browser,
            selfie: None,
            reference: None,
            passkey: answer,
        },
    )
    .await
}

/// The whole passkey check-in from `phone` (in its browser `browser`): begin, the phone's
/// answer (or its refusal), the check-in.
async fn check_in_with(
    ctx: &Ctx,
    who: &Caller,
    s: &attn::domain::LiveSession,
    phone: &mut Phone,
    browser: &str,
) -> attn::Result<attn::domain::LiveRecord> {
    let begun = begin(ctx, who, s).await?;
    let credential = phone.answer(begun.challenge);
    let answer = match &credential {
        Some(credential) => Answer::Signed {
            ceremony: begun.ceremony,
            credential,
            user_agent: PIXEL,
        },
        None => Answer::Refused,
    };
    check_in(ctx, who, s, browser, Some(&answer)).await
}

/// The browser's answer `credential` to the ceremony its login session kept, if any.
fn signed<'a>(ceremony: Option<passkeys::Ceremony>, credential: &'a str) -> Answer<'a> {
    Answer::Signed {
        ceremony,
        credential,
        user_agent: PIXEL,
    }
}

fn device_of(record: &attn::domain::LiveRecord) -> DeviceProof {
    record.evidence.as_ref().unwrap().device.clone()
}

async fn a_first_check_in_registers_a_passkey_and_later_ones_are_signed_with_it(env: TestEnv) {
    let ctx = ctx(&env);
    let ayse = student(1);
    let mut phone = Phone::new();
    let first = start(&ctx, DeviceCheck::Passkey).await;
    let begun = begin(&ctx, &ayse, &first).await.unwrap();
    assert!(matches!(begun.challenge, Challenge::Register(_)));

    let record = check_in_with(&ctx, &ayse, &first, &mut phone, "b-ayse")
        .await
        .unwrap();
    assert!(record.is_attended, "{record:?}");
    assert_eq!(
        device_of(&record),
        DeviceProof::NewPasskey { approved_by: None }
    );
    // The weak moment shows on the teacher's page.
    let board = teacher::live_board(&ctx, Some(&teacher()), &first.id.to_string())
        .await
        .unwrap();
    let new: Vec<&str> = board
        .new_passkeys()
        .iter()
        .map(|r| r.student_number.as_str())
        .collect();
    assert_eq!(new, [ayse.school_number.as_str()]);
    // The student sees which phone it is on.
    let mine = passkeys::my_device(&ctx, Some(&ayse)).await.unwrap();
    let passkey = mine.passkey.expect("registered");
    assert_eq!(passkey.device, "Android · Chrome");
    assert_eq!(passkey.registered_at, ctx.clock.now());

    finish(&env, &ctx, &first).await;
    let second = start(&ctx, DeviceCheck::PasskeyKnown).await;
    let begun = begin(&ctx, &ayse, &second).await.unwrap();
    assert!(matches!(begun.challenge, Challenge::Authenticate(_)));
    let record = check_in_with(&ctx, &ayse, &second, &mut phone, "b-ayse")
        .await
        .unwrap();
    assert!(record.is_attended, "{record:?}");
    assert_eq!(device_of(&record), DeviceProof::Passkey);
    let board = teacher::live_board(&ctx, Some(&teacher()), &second.id.to_string())
        .await
        .unwrap();
    assert!(board.new_passkeys().is_empty());
    let used = passkeys::my_device(&ctx, Some(&ayse)).await.unwrap();
    assert_eq!(used.passkey.unwrap().last_used_at, Some(ctx.clock.now()));
}

async fn another_phone_is_refused_and_the_teacher_can_still_count_the_student(env: TestEnv) {
    let ctx = ctx(&env);
    let (ayse, mehmet) = (student(1), student(2));
    let (mut ayses_phone, mut mehmets_phone) = (Phone::new(), Phone::new());
    let first = start(&ctx, DeviceCheck::Passkey).await;
    for (who, phone, browser) in [
        (&ayse, &mut ayses_phone, "b-ayse"),
        (&mehmet, &mut mehmets_phone, "b-mehmet"),
    ] {
        let record = check_in_with(&ctx, who, &first, phone, browser)
            .await
            .unwrap();
        assert!(record.is_attended);
    }
    finish(&env, &ctx, &first).await;

    // Ayşe stays home; Mehmet logs in as her in a private tab of his phone (a new browser):
    // his phone has no passkey of hers.
    let second = start(&ctx, DeviceCheck::Passkey).await;
    let refused = check_in_with(&ctx, &ayse, &second, &mut mehmets_phone, "b-private")
        .await
        .unwrap();
    assert!(!refused.is_attended);
    assert_eq!(refused.fail_reason, Some(FailReason::PasskeyMissing));
    assert_eq!(device_of(&refused), DeviceProof::NoPasskey);

    // Nor does answering her challenge with his own passkey get him anywhere.
    let begun = begin(&ctx, &ayse, &second).await.unwrap();
    let Challenge::Authenticate(mut request) = begun.challenge else {
        panic!("Ayşe has a passkey to sign with");
    };
    let his = mehmets_phone
        .0
        .do_authentication(Url::parse(ORIGIN).unwrap(), {
            // His phone signs the same challenge with his own credential.
            let mine = begin(&ctx, &mehmet, &second).await.unwrap();
            let Challenge::Authenticate(m) = mine.challenge else {
                panic!("Mehmet has a passkey");
            };
            request.public_key.allow_credentials = m.public_key.allow_credentials;
            request
        });
    let forged = serde_json::to_string(&his.unwrap()).unwrap();
    let answer = signed(begun.ceremony, &forged);
    let record = check_in(&ctx, &ayse, &second, "b-private-2", Some(&answer))
        .await
        .unwrap();
    assert_eq!(record.fail_reason, Some(FailReason::PasskeyInvalid));

    // The teacher sees her there after all and counts her by hand: the record says so.
    let accepted = teacher::accept_student(
        &ctx,
        Some(&teacher()),
        &second.id.to_string(),
        &ayse.school_number,
    )
    .await
    .unwrap();
    assert!(accepted.is_attended);
    assert_eq!(device_of(&accepted), DeviceProof::NoPasskey);
    assert_eq!(
        accepted.changes.last().unwrap().reason.as_deref(),
        Some("PASSKEY_INVALID")
    );
}

async fn a_session_for_registered_phones_refuses_a_first_timer_until_the_teacher_allows_one(
    env: TestEnv,
) {
    let ctx = ctx(&env);
    let can = student(3);
    let mut phone = Phone::new();
    let s = start(&ctx, DeviceCheck::PasskeyKnown).await;
    let begun = begin(&ctx, &can, &s).await.unwrap();
    assert!(matches!(begun.challenge, Challenge::None));
    assert!(begun.ceremony.is_none());
    let refused = check_in_with(&ctx, &can, &s, &mut phone, "b-can")
        .await
        .unwrap();
    assert_eq!(refused.fail_reason, Some(FailReason::PasskeyNotRegistered));

    let id = s.id.to_string();
    let allow = |who: Caller, session: Option<String>, number: String, reason: &'static str| {
        let ctx = ctx.clone();
        async move {
            passkeys::allow_new_passkey(&ctx, Some(&who), session.as_deref(), &number, reason).await
        }
    };
    // A reason is needed; another teacher, a student or a stranger to the session gets nowhere.
    assert!(matches!(
        allow(
            teacher(),
            Some(id.clone()),
            can.school_number.clone(),
            "yok"
        )
        .await,
        Err(Error::InvalidInput {
            field: "reason",
            ..
        })
    ));
    assert!(matches!(
        allow(
            person("T200", Role::Teacher),
            Some(id.clone()),
            can.school_number.clone(),
            "ilk kez geldi"
        )
        .await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        allow(
            can.clone(),
            Some(id.clone()),
            can.school_number.clone(),
            "ilk kez geldi"
        )
        .await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        allow(
            teacher(),
            Some(id.clone()),
            student(9).school_number,
            "ilk kez geldi"
        )
        .await,
        Err(Error::NotFound(Entity::Record))
    ));
    assert!(matches!(
        allow(teacher(), None, can.school_number.clone(), "ilk kez geldi").await,
        Err(Error::Forbidden)
    ));
    assert_eq!(env.count_rows("passkey_grants").await, 0);

    allow(
        teacher(),
        Some(id.clone()),
        can.school_number.clone(),
        "ilk kez geldi, burada",
    )
    .await
    .unwrap();
    let record = check_in_with(&ctx, &can, &s, &mut phone, "b-can")
        .await
        .unwrap();
    assert!(record.is_attended, "{record:?}");
    assert_eq!(
        device_of(&record),
        DeviceProof::NewPasskey {
            approved_by: Some("T100".into())
        }
    );
    // The leave is used up, and the audit log says who gave it and why.
    assert_eq!(env.count_rows("passkey_grants").await, 0);
    let events = ctx.db.audit_events(10).await.unwrap();
    let event = events
        .iter()
        .find(|e| e.action == AuditAction::PasskeyApproved)
        .expect("the leave is in the audit log");
    assert_eq!(event.actor, "T100");
    assert_eq!(
        event.student_number.as_deref(),
        Some(can.school_number.as_str())
    );
    assert_eq!(event.reason.as_deref(), Some("ilk kez geldi, burada"));
}

async fn a_new_phone_needs_leave_and_then_replaces_the_old_one(env: TestEnv) {
    let ctx = ctx(&env);
    let deniz = student(4);
    let (mut old_phone, mut new_phone) = (Phone::new(), Phone::new());
    let first = start(&ctx, DeviceCheck::Passkey).await;
    check_in_with(&ctx, &deniz, &first, &mut old_phone, "b-old")
        .await
        .unwrap();
    finish(&env, &ctx, &first).await;

    // Even where new passkeys are taken, a student who has one must sign with it.
    let second = start(&ctx, DeviceCheck::Passkey).await;
    let refused = check_in_with(&ctx, &deniz, &second, &mut new_phone, "b-new")
        .await
        .unwrap();
    assert_eq!(refused.fail_reason, Some(FailReason::PasskeyMissing));

    // An admin allows the new phone (no session needed).
    passkeys::allow_new_passkey(
        &ctx,
        Some(&admin()),
        None,
        &deniz.school_number,
        "telefonu çalındı",
    )
    .await
    .unwrap();
    let allowed = passkeys::my_device(&ctx, Some(&deniz)).await.unwrap();
    assert!(allowed.passkey.is_none());
    assert_eq!(allowed.allowed.map(|(by, _)| by).as_deref(), Some("A1"));
    let record = check_in_with(&ctx, &deniz, &second, &mut new_phone, "b-new")
        .await
        .unwrap();
    assert!(record.is_attended);
    assert_eq!(
        device_of(&record),
        DeviceProof::NewPasskey {
            approved_by: Some("A1".into())
        }
    );
    finish(&env, &ctx, &second).await;

    // The old phone is no use any more; the new one is.
    let third = start(&ctx, DeviceCheck::PasskeyKnown).await;
    let old = check_in_with(&ctx, &deniz, &third, &mut old_phone, "b-old")
        .await
        .unwrap();
    assert_eq!(old.fail_reason, Some(FailReason::PasskeyMissing));
    let new = check_in_with(&ctx, &deniz, &third, &mut new_phone, "b-new-2")
        .await
        .unwrap();
    assert!(new.is_attended);
    assert_eq!(device_of(&new), DeviceProof::Passkey);
}

async fn a_check_in_without_script_or_ceremony_records_nothing(env: TestEnv) {
    let ctx = ctx(&env);
    let (elif, fatma) = (student(5), student(6));
    let mut phone = Phone::new();
    let s = start(&ctx, DeviceCheck::Passkey).await;
    let other = {
        // Another teacher's passkey session, running at the same time.
        teacher::start_session(
            &ctx,
            Some(&person("T200", Role::Teacher)),
            StartSession {
                lesson_name: "Fizik".into(),
                duration_minutes: 30,
                security: SecurityLevel::None,
                rotate_code: false,
                late_after_minutes: None,
                class_hours: None,
                device_check: DeviceCheck::Passkey,
            },
            TEACHER_IP.parse().unwrap(),
        )
        .await
        .unwrap()
    };

    // No script ran: the form came without the passkey's answer.
    assert!(matches!(
        check_in(&ctx, &elif, &s, "b-elif", None).await,
        Err(Error::PasskeyNeedsScript)
    ));
    // An answer with no ceremony kept (used already, or begun in another browser).
    let begun = begin(&ctx, &elif, &s).await.unwrap();
    let credential = phone.answer(begun.challenge).unwrap();
    let replayed = signed(None, &credential);
    assert!(matches!(
        check_in(&ctx, &elif, &s, "b-elif", Some(&replayed)).await,
        Err(Error::PasskeyExpired)
    ));
    // A ceremony begun for another session, or for another student.
    let elsewhere = begin(&ctx, &elif, &other).await.unwrap();
    let moved = signed(elsewhere.ceremony, &credential);
    assert!(matches!(
        check_in(&ctx, &elif, &s, "b-elif", Some(&moved)).await,
        Err(Error::PasskeyExpired)
    ));
    let hers = begin(&ctx, &fatma, &s).await.unwrap();
    let borrowed = signed(hers.ceremony, &credential);
    assert!(matches!(
        check_in(&ctx, &elif, &s, "b-elif", Some(&borrowed)).await,
        Err(Error::PasskeyExpired)
    ));
    // Not JSON at all.
    let begun = begin(&ctx, &elif, &s).await.unwrap();
    let garbage = signed(begun.ceremony, "{\"id\": 1");
    assert!(matches!(
        check_in(&ctx, &elif, &s, "b-elif", Some(&garbage)).await,
        Err(Error::InvalidInput {
            field: "passkey",
            ..
        })
    ));
    // The script could not begin: try again, nothing recorded.
    assert!(matches!(
        check_in(&ctx, &elif, &s, "b-elif", Some(&Answer::Failed)).await,
        Err(Error::PasskeyExpired)
    ));
    assert!(
        ctx.live
            .record(s.id, &elif.school_number)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        passkeys::my_device(&ctx, Some(&elif))
            .await
            .unwrap()
            .passkey
            .is_none()
    );

    // Beginning checks the code and the caller like a check-in; a session without passkeys
    // has nothing to sign.
    assert!(matches!(
        passkeys::begin(&ctx, Some(&elif), &s.id.to_string(), "000000").await,
        Err(Error::CodeExpired)
    ));
    assert!(matches!(
        begin(&ctx, &teacher(), &s).await,
        Err(Error::Forbidden)
    ));
    teacher::finish_session(&ctx, Some(&teacher()), &s.id.to_string())
        .await
        .unwrap();
    env.advance(Duration::minutes(1));
    let plain = start(&ctx, DeviceCheck::Cookie).await;
    assert!(matches!(
        begin(&ctx, &elif, &plain).await.unwrap().challenge,
        Challenge::None
    ));
}

async fn a_recheck_in_a_passkey_session_is_signed_too(env: TestEnv) {
    let ctx = ctx(&env);
    let gul = student(7);
    let (mut phone, mut friends_phone) = (Phone::new(), Phone::new());
    let s = start(&ctx, DeviceCheck::Passkey).await;
    check_in_with(&ctx, &gul, &s, &mut phone, "b-gul")
        .await
        .unwrap();
    env.advance(Duration::minutes(5));
    teacher::start_recheck(&ctx, Some(&teacher()), &s.id.to_string())
        .await
        .unwrap();
    // Gül left; a friend still in the room answers the re-check for her from his phone.
    let refused = check_in_with(&ctx, &gul, &s, &mut friends_phone, "b-friend").await;
    assert!(
        matches!(
            refused,
            Err(Error::RecheckFailed(FailReason::PasskeyMissing))
        ),
        "{refused:?}"
    );
    let record = ctx
        .live
        .record(s.id, &gul.school_number)
        .await
        .unwrap()
        .unwrap();
    assert!(record.confirmed.is_empty());
    // Had she stayed, her own phone would have confirmed it.
    let confirmed = check_in_with(&ctx, &gul, &s, &mut phone, "b-gul")
        .await
        .unwrap();
    assert_eq!(confirmed.confirmed, [1]);
}
