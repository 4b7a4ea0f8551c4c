//! The portal client against the fake portal: every case the real portal can present.

mod common;

use std::time::{Duration, Instant};

use attn::domain::Role;
use attn::error::Error;
use attn::identity::{AksisClient, IdentityProvider};
use chrono::{TimeZone, Utc};
use common::fake_portal::{self, FakePortal};

fn client(portal: &FakePortal) -> AksisClient {
    AksisClient::new(portal.config(Duration::from_secs(5)))
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 6, 10, 0).unwrap()
}

#[tokio::test]
async fn a_teacher_is_recognised_with_the_name_after_the_title_and_their_own_lessons() {
    let portal = FakePortal::start().await;
    let user = client(&portal)
        .authenticate(fake_portal::TEACHER, fake_portal::PASSWORD, now())
        .await
        .unwrap();
    assert_eq!(user.role, Role::Teacher);
    assert_eq!(user.full_name, "İLKER ŞAHİN");
    assert_eq!(user.school_number, fake_portal::TEACHER);
    assert!(user.photo.is_none());
    let titles: Vec<_> = user.lessons.iter().map(|l| l.title.as_str()).collect();
    assert_eq!(
        titles,
        vec!["Veri Yapıları", "Algoritma Analizi"],
        "another teacher's lesson is left out"
    );
    // /Date(ms)/ is UTC: 09:00 in Istanbul.
    assert_eq!(
        user.lessons[0].start,
        Utc.with_ymd_and_hms(2026, 11, 23, 6, 0, 0).unwrap()
    );
    assert_eq!(
        portal.seen(|s| s.logouts),
        1,
        "the portal session is closed"
    );
}

#[tokio::test]
async fn a_student_is_read_from_the_obs_profile_with_photo_and_no_timetable() {
    let portal = FakePortal::start().await;
    let user = client(&portal)
        .authenticate(fake_portal::STUDENT, fake_portal::PASSWORD, now())
        .await
        .unwrap();
    assert_eq!(user.role, Role::Student);
    assert_eq!(user.full_name, "AYŞE GÜLER-ÖZTÜRK");
    assert_eq!(user.school_number, "1306200001");
    assert_eq!(user.photo.as_deref(), Some(fake_portal::PHOTO));
    // A student's timetable is of no use to ATTN, so it is not asked for.
    assert!(user.lessons.is_empty());
    assert_eq!(portal.seen(|s| s.logouts), 1);
}

#[tokio::test]
async fn each_login_asks_the_portal_five_times() {
    let portal = FakePortal::start().await;
    // A student: the login form, the login (which lands on the profile), the photo, the
    // log-out (whose redirect is not followed).
    client(&portal)
        .authenticate(fake_portal::STUDENT, fake_portal::PASSWORD, now())
        .await
        .unwrap();
    assert_eq!(portal.seen(|s| s.requests), 5);
    // A teacher: the login form, the login, the timetable page and its data, the log-out.
    client(&portal)
        .authenticate(fake_portal::TEACHER, fake_portal::PASSWORD, now())
        .await
        .unwrap();
    assert_eq!(portal.seen(|s| s.requests), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_logging_in_at_once_keeps_to_the_portals_connection_limit() {
    // A portal that takes 5 ms over each answer, so the logins overlap.
    let portal = FakePortal::start_slow(Duration::from_millis(5)).await;
    let config = attn::identity::AksisConfig {
        connections: 8,
        ..portal.config(Duration::from_secs(20))
    };
    let client = AksisClient::new(config);
    let logins: Vec<_> = (0..300)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .authenticate(fake_portal::STUDENT, fake_portal::PASSWORD, now())
                    .await
            })
        })
        .collect();
    for login in logins {
        assert_eq!(login.await.unwrap().unwrap().role, Role::Student);
    }
    let most = portal.most_connections();
    assert!(most <= 8, "{most} connections at once");
    assert!(most >= 4, "the logins did overlap: {most}");
    assert_eq!(portal.seen(|s| s.requests), 300 * 5);
}

#[tokio::test]
async fn a_login_that_waits_too_long_for_its_turn_is_told_the_portal_is_busy() {
    let portal = FakePortal::start().await;
    let config = attn::identity::AksisConfig {
        connections: 1,
        ..portal.config(Duration::from_millis(500))
    };
    let client = AksisClient::new(config);
    // The one turn is held by a login the portal never answers in time.
    let slow = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .authenticate(fake_portal::SLOW, fake_portal::PASSWORD, now())
                .await
        })
    };
    tokio::task::yield_now().await;
    let waited = client
        .authenticate(fake_portal::STUDENT, fake_portal::PASSWORD, now())
        .await;
    assert!(
        matches!(waited, Err(Error::PortalUnavailable)),
        "{waited:?}"
    );
    assert!(matches!(slow.await.unwrap(), Err(Error::PortalUnavailable)));
}

#[tokio::test]
async fn a_student_without_a_photo_still_logs_in() {
    let portal = FakePortal::start().await;
    let user = client(&portal)
        .authenticate(fake_portal::STUDENT_NO_PHOTO, fake_portal::PASSWORD, now())
        .await
        .unwrap();
    assert_eq!(user.full_name, "Çağrı Işık");
    assert!(user.photo.is_none());
}

#[tokio::test]
async fn a_wrong_password_is_wrong_credentials() {
    let portal = FakePortal::start().await;
    let result = client(&portal)
        .authenticate(fake_portal::STUDENT, "yanlış", now())
        .await;
    assert!(matches!(result, Err(Error::WrongCredentials)), "{result:?}");
    assert_eq!(portal.seen(|s| s.logouts), 1);
}

#[tokio::test]
async fn a_slow_portal_is_unavailable_after_the_timeout() {
    let portal = FakePortal::start().await;
    let client = AksisClient::new(portal.config(Duration::from_millis(300)));
    let began = Instant::now();
    let result = client
        .authenticate(fake_portal::SLOW, fake_portal::PASSWORD, now())
        .await;
    assert!(
        matches!(result, Err(Error::PortalUnavailable)),
        "{result:?}"
    );
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "it gave up instead of hanging"
    );
}

#[tokio::test]
async fn a_portal_that_is_down_is_unavailable() {
    let client = AksisClient::new(attn::identity::AksisConfig::at(
        "http://127.0.0.1:1",
        "http://127.0.0.1:1/obs",
        Duration::from_secs(2),
    ));
    let result = client.authenticate("1306200001", "x", now()).await;
    assert!(
        matches!(result, Err(Error::PortalUnavailable)),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_changed_page_is_reported_with_its_name() {
    let portal = FakePortal::start_without_token().await;
    let result = client(&portal)
        .authenticate(fake_portal::STUDENT, fake_portal::PASSWORD, now())
        .await;
    assert!(
        matches!(result, Err(Error::PortalChanged("login"))),
        "{result:?}"
    );
    assert_eq!(
        portal.seen(|s| s.login_posts),
        0,
        "no password sent to a page it does not know"
    );

    let portal = FakePortal::start().await;
    let result = client(&portal)
        .authenticate(
            fake_portal::STUDENT_BROKEN_PROFILE,
            fake_portal::PASSWORD,
            now(),
        )
        .await;
    assert!(
        matches!(result, Err(Error::PortalChanged("obs profile"))),
        "{result:?}"
    );
}

#[tokio::test]
async fn every_login_has_a_cookie_jar_of_its_own() {
    let portal = FakePortal::start().await;
    let client = client(&portal);
    let (a, b) = tokio::join!(
        client.authenticate(fake_portal::STUDENT, fake_portal::PASSWORD, now()),
        client.authenticate(fake_portal::TEACHER, fake_portal::PASSWORD, now()),
    );
    assert_eq!(a.unwrap().role, Role::Student);
    assert_eq!(b.unwrap().role, Role::Teacher);
    client
        .authenticate(fake_portal::STUDENT_NO_PHOTO, fake_portal::PASSWORD, now())
        .await
        .unwrap();
    assert_eq!(portal.seen(|s| s.reused_cookies), 0);
}
