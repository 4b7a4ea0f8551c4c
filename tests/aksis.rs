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
async fn a_student_is_read_from_the_obs_profile_with_photo_and_timetable() {
    let portal = FakePortal::start().await;
    let user = client(&portal)
        .authenticate(fake_portal::STUDENT, fake_portal::PASSWORD, now())
        .await
        .unwrap();
    assert_eq!(user.role, Role::Student);
    assert_eq!(user.full_name, "AYŞE GÜLER-ÖZTÜRK");
    assert_eq!(user.school_number, "1306200001");
    assert_eq!(user.photo.as_deref(), Some(fake_portal::PHOTO));
    assert_eq!(user.lessons.len(), 3);
    assert_eq!(portal.seen(|s| s.logouts), 1);
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
