//! Logging in (demo accounts and the portal), the login limits, admins and role checks, on both
//! backends: the limits' counters live in the live store, so they hold across instances.

mod common;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use attn::auth::{self, Caller, Credentials};
use attn::domain::Role;
use attn::error::Error;
use attn::identity::{AksisClient, Identity};
use attn::{Clock, Config, Ctx};
use chrono::Duration;
use common::TestEnv;
use common::fake_portal::{self, FakePortal};

attn::on_both_backends!(
    common::env;
    a_demo_teacher_logs_in_and_is_remembered,
    a_wrong_password_is_refused,
    too_many_wrong_passwords_for_a_username_pause_it_from_that_address_without_asking_the_portal,
    parallel_guesses_reach_the_portal_no_more_often_than_the_limit,
    a_username_guessed_at_from_everywhere_pauses_except_on_its_owners_browser,
    too_many_wrong_passwords_from_one_address_pause_that_address_only,
    an_ipv6_client_cannot_dodge_the_address_limit_by_changing_its_low_bits,
    a_success_forgets_earlier_failures,
    portal_users_log_in_and_admins_are_named_in_configuration,
    demo_accounts_off_means_no_demo_login,
    expiry_follows_the_role,
);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ctx(env: &TestEnv, config: Config) -> Ctx {
    env.ctx(config)
}

fn demo_config() -> Config {
    Config {
        demo_accounts: true,
        demo_password: "demo-2026".into(),
        ..Config::default()
    }
}

async fn login(ctx: &Ctx, user: &str, pass: &str, from: &str) -> attn::Result<auth::LoggedIn> {
    auth::login(
        ctx,
        Credentials {
            username: user,
            password: pass,
            client_ip: ip(from),
            device_token: None,
        },
    )
    .await
}

async fn a_demo_teacher_logs_in_and_is_remembered(env: TestEnv) {
    let ctx = ctx(&env, demo_config());
    let done = login(&ctx, " demo_teacher_3 ", "demo-2026", "10.0.0.5")
        .await
        .unwrap();
    assert_eq!(done.caller.school_number, "demo_teacher_3");
    assert_eq!(done.caller.role, Role::Teacher);
    assert!(!done.caller.is_admin);
    assert_eq!(done.idle, StdDuration::from_secs(60 * 60));
    let now = env.clock.now();
    assert!(
        done.lessons.iter().any(|l| l.start <= now && now < l.end),
        "a lesson runs now"
    );
    let users = env
        .db
        .users_by_numbers(&["demo_teacher_3".into()])
        .await
        .unwrap();
    assert_eq!(users[0].role, Role::Teacher);
    assert_eq!(users[0].full_name, "DEMO ÖĞRETMEN 3");
}

async fn a_wrong_password_is_refused(env: TestEnv) {
    let ctx = ctx(&env, demo_config());
    let result = login(&ctx, "demo_student_1", "demo", "10.0.0.5").await;
    assert!(matches!(result, Err(Error::WrongCredentials)), "{result:?}");
    let result = login(&ctx, "", "demo-2026", "10.0.0.5").await;
    assert!(matches!(
        result,
        Err(Error::InvalidInput {
            field: "school_number",
            ..
        })
    ));
    let result = login(&ctx, "demo_student_1", "", "10.0.0.5").await;
    assert!(matches!(
        result,
        Err(Error::InvalidInput {
            field: "password",
            ..
        })
    ));
    assert!(
        env.db
            .users_by_numbers(&["demo_student_1".into()])
            .await
            .unwrap()
            .is_empty()
    );
}

fn portal_ctx(env: &TestEnv, portal: &FakePortal, config: Config) -> Ctx {
    let mut ctx = ctx(env, config);
    ctx.identity = Arc::new(Identity::new(
        None,
        AksisClient::new(portal.config(StdDuration::from_secs(5))),
    ));
    ctx
}

async fn too_many_wrong_passwords_for_a_username_pause_it_from_that_address_without_asking_the_portal(
    env: TestEnv,
) {
    let portal = FakePortal::start().await;
    let ctx = portal_ctx(&env, &portal, Config::default());
    for _ in 0..5 {
        let r = login(&ctx, fake_portal::STUDENT, "yanlış", "10.0.0.5").await;
        assert!(matches!(r, Err(Error::WrongCredentials)), "{r:?}");
    }
    assert_eq!(portal.seen(|s| s.login_posts), 5);
    env.advance(Duration::minutes(4));
    // Even the right password, from that address: the username is paused there.
    let r = login(
        &ctx,
        fake_portal::STUDENT,
        fake_portal::PASSWORD,
        "10.0.0.5",
    )
    .await;
    match r {
        Err(Error::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 6 * 60),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(
        portal.seen(|s| s.login_posts),
        5,
        "the portal was not asked"
    );
    // A stranger's guesses do not lock the student out elsewhere, nor others out there.
    login(
        &ctx,
        fake_portal::STUDENT,
        fake_portal::PASSWORD,
        "10.0.0.6",
    )
    .await
    .expect("the student, from another address");
    login(
        &ctx,
        fake_portal::STUDENT_NO_PHOTO,
        fake_portal::PASSWORD,
        "10.0.0.5",
    )
    .await
    .unwrap();
    env.advance(Duration::minutes(6));
    login(
        &ctx,
        fake_portal::STUDENT,
        fake_portal::PASSWORD,
        "10.0.0.5",
    )
    .await
    .expect("the window is over");
}

async fn parallel_guesses_reach_the_portal_no_more_often_than_the_limit(env: TestEnv) {
    let portal = FakePortal::start().await;
    let ctx = portal_ctx(&env, &portal, Config::default());
    let guesses = (0..40).map(|n| {
        let ctx = ctx.clone();
        async move {
            login(
                &ctx,
                fake_portal::STUDENT,
                &format!("tahmin-{n}"),
                "10.0.0.5",
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let wrong = answers
        .iter()
        .filter(|r| matches!(r, Err(Error::WrongCredentials)))
        .count();
    let paused = answers
        .iter()
        .filter(|r| matches!(r, Err(Error::RateLimited { .. })))
        .count();
    assert_eq!((wrong, paused), (5, 35));
    assert_eq!(
        portal.seen(|s| s.login_posts),
        5,
        "the portal saw 5 guesses"
    );
}

async fn a_username_guessed_at_from_everywhere_pauses_except_on_its_owners_browser(env: TestEnv) {
    let ctx = ctx(&env, demo_config());
    // The student logged in on this phone before: it holds the token.
    let owner = login(&ctx, "demo_student_3", "demo-2026", "10.0.0.5")
        .await
        .unwrap();
    // Strangers guess from twenty addresses (four each, under the per-address limit).
    for n in 0..20 {
        let r = login(
            &ctx,
            "demo_student_3",
            "x",
            &format!("198.51.100.{}", n / 4),
        )
        .await;
        assert!(matches!(r, Err(Error::WrongCredentials)), "{n}: {r:?}");
    }
    // The username is paused for browsers it was never used on...
    let r = login(&ctx, "demo_student_3", "demo-2026", "10.0.0.9").await;
    assert!(matches!(r, Err(Error::RateLimited { .. })), "{r:?}");
    // ...and not on the owner's phone, even from a stranger's address.
    auth::login(
        &ctx,
        Credentials {
            username: "demo_student_3",
            password: "demo-2026",
            client_ip: ip("198.51.100.1"),
            device_token: Some(&owner.device_token),
        },
    )
    .await
    .expect("the owner's browser");
    // A token is only good for its own username.
    let r = auth::login(
        &ctx,
        Credentials {
            username: "demo_student_3",
            password: "demo-2026",
            client_ip: ip("10.0.0.9"),
            device_token: Some(
                &owner
                    .device_token
                    .replace("demo_student_3", "demo_student_4"),
            ),
        },
    )
    .await;
    assert!(matches!(r, Err(Error::RateLimited { .. })), "{r:?}");
}

async fn too_many_wrong_passwords_from_one_address_pause_that_address_only(env: TestEnv) {
    let ctx = ctx(
        &env,
        Config {
            login_max_failures_per_ip: 8,
            ..demo_config()
        },
    );
    for n in 1..=8 {
        let r = login(&ctx, &format!("demo_student_{n}"), "x", "192.0.2.1").await;
        assert!(matches!(r, Err(Error::WrongCredentials)));
    }
    let r = login(&ctx, "demo_student_9", "demo-2026", "192.0.2.1").await;
    assert!(matches!(r, Err(Error::RateLimited { .. })), "{r:?}");
    login(&ctx, "demo_student_9", "demo-2026", "192.0.2.2")
        .await
        .unwrap();
}

async fn an_ipv6_client_cannot_dodge_the_address_limit_by_changing_its_low_bits(env: TestEnv) {
    let ctx = ctx(
        &env,
        Config {
            login_max_failures_per_ip: 8,
            ..demo_config()
        },
    );
    // Eight wrong passwords, each from another address of the same /64.
    for n in 1..=8 {
        let from = format!("2001:db8:7:9::{n:x}");
        let r = login(&ctx, &format!("demo_student_{n}"), "x", &from).await;
        assert!(matches!(r, Err(Error::WrongCredentials)), "{r:?}");
    }
    let r = login(&ctx, "demo_student_9", "demo-2026", "2001:db8:7:9:ffff::1").await;
    assert!(matches!(r, Err(Error::RateLimited { .. })), "{r:?}");
    // The next /64 is someone else.
    login(&ctx, "demo_student_9", "demo-2026", "2001:db8:7:a::1")
        .await
        .unwrap();
}

async fn a_success_forgets_earlier_failures(env: TestEnv) {
    let ctx = ctx(&env, demo_config());
    for _ in 0..4 {
        let _ = login(&ctx, "demo_student_7", "x", "10.0.0.5").await;
    }
    login(&ctx, "demo_student_7", "demo-2026", "10.0.0.5")
        .await
        .unwrap();
    for _ in 0..4 {
        let r = login(&ctx, "demo_student_7", "x", "10.0.0.5").await;
        assert!(matches!(r, Err(Error::WrongCredentials)), "{r:?}");
    }
}

async fn portal_users_log_in_and_admins_are_named_in_configuration(env: TestEnv) {
    let portal = FakePortal::start().await;
    let mut ctx = ctx(
        &env,
        Config {
            admins: vec![fake_portal::TEACHER.into()],
            ..Config::default()
        },
    );
    ctx.identity = Arc::new(Identity::new(
        None,
        AksisClient::new(portal.config(StdDuration::from_secs(5))),
    ));
    let teacher = login(
        &ctx,
        fake_portal::TEACHER,
        fake_portal::PASSWORD,
        "10.0.0.5",
    )
    .await
    .unwrap();
    assert!(teacher.caller.is_admin);
    assert_eq!(teacher.caller.role, Role::Teacher);
    let student = login(
        &ctx,
        fake_portal::STUDENT,
        fake_portal::PASSWORD,
        "10.0.0.5",
    )
    .await
    .unwrap();
    assert!(!student.caller.is_admin);
    assert_eq!(student.photo.as_deref(), Some(fake_portal::PHOTO));
    assert_eq!(student.idle, StdDuration::from_secs(10 * 60));
    let users = env
        .db
        .users_by_numbers(&[fake_portal::STUDENT.into(), fake_portal::TEACHER.into()])
        .await
        .unwrap();
    assert_eq!(users.len(), 2);
    assert!(
        users
            .iter()
            .any(|u| u.full_name == "AYŞE GÜLER-ÖZTÜRK" && u.role == Role::Student)
    );
}

async fn demo_accounts_off_means_no_demo_login(env: TestEnv) {
    let portal = FakePortal::start().await;
    let mut ctx = ctx(&env, Config::default());
    ctx.identity = Arc::new(Identity::new(
        None,
        AksisClient::new(portal.config(StdDuration::from_secs(5))),
    ));
    let r = login(&ctx, "demo_teacher_1", "demo", "10.0.0.5").await;
    assert!(matches!(r, Err(Error::WrongCredentials)), "{r:?}");
}

async fn expiry_follows_the_role(env: TestEnv) {
    let ctx = ctx(&env, demo_config());
    let seen = env.clock.now();
    let later = |m| seen + Duration::minutes(m);
    assert!(!auth::is_expired(&ctx, Role::Student, seen, later(9)));
    assert!(auth::is_expired(&ctx, Role::Student, seen, later(10)));
    assert!(!auth::is_expired(&ctx, Role::Teacher, seen, later(59)));
    assert!(auth::is_expired(&ctx, Role::Teacher, seen, later(60)));

    let student = Caller {
        school_number: "s".into(),
        full_name: "S".into(),
        role: Role::Student,
        is_admin: false,
    };
    let teacher = Caller {
        role: Role::Teacher,
        ..student.clone()
    };
    assert!(matches!(
        Caller::require_teacher(None),
        Err(Error::Unauthenticated)
    ));
    assert!(matches!(
        Caller::require_teacher(Some(&student)),
        Err(Error::Forbidden)
    ));
    assert!(Caller::require_teacher(Some(&teacher)).is_ok());
    assert!(matches!(
        Caller::require_admin(Some(&teacher)),
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        Caller::require_student(Some(&teacher)),
        Err(Error::Forbidden)
    ));
    assert!(Caller::require_any(Some(&student)).is_ok());
}
