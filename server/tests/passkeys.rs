//! Passkeys over HTTP, as the join page's script drives them: `passkey_begin` answers what to
//! sign, the login session (memory or Redis) keeps the ceremony, and the check-in form carries
//! the phone's answer. A software passkey stands for the phone. Also the join page's notices
//! (`/api/join_events/{id}`), and leave for a new phone from the live page and the admin page.

mod common;

use common::*;
use reqwest::{StatusCode, header};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

const PUBLIC_URL: &str = "http://localhost:3000";

async fn spawn(backend: attn::testing::Backend) -> Option<TestApp> {
    spawn_app_configured(backend, |config| {
        config.public_url = Some(PUBLIC_URL.into());
    })
    .await
}

// The ceremony travels through the login-session store: on Redis Cluster too.
attn::on_every_backend!(
    spawn;
    a_phone_registers_its_passkey_over_http_and_signs_the_next_check_in,
);

attn::on_both_backends!(
    spawn;
    an_answer_is_used_once_and_a_page_without_script_says_why_it_cannot_check_in,
    the_join_page_hears_of_a_recheck_as_it_starts,
    a_teacher_and_an_admin_allow_a_new_phone,
);

/// A phone of its own.
struct Phone(WebauthnAuthenticator<SoftPasskey>);

impl Phone {
    fn new() -> Self {
        Self(WebauthnAuthenticator::new(SoftPasskey::new(true)))
    }

    /// What the page's script puts in the form's `passkey` field for `begun` (the body of
    /// `passkey_begin`).
    fn answer(&mut self, begun: &str) -> String {
        let text: String = serde_json::from_str(begun).expect("a JSON string");
        let challenge: serde_json::Value = serde_json::from_str(&text).unwrap();
        let origin = Url::parse(PUBLIC_URL).unwrap();
        if let Some(register) = challenge.get("register") {
            let mut creation: CreationChallengeResponse =
                serde_json::from_value(register.clone()).unwrap();
            // Asked of the phone itself; the soft key stands for it.
            creation
                .public_key
                .authenticator_selection
                .as_mut()
                .unwrap()
                .authenticator_attachment = None;
            return match self.0.do_registration(origin, creation) {
                Ok(made) => serde_json::to_string(&made).unwrap(),
                Err(_) => "refused".into(),
            };
        }
        if let Some(sign) = challenge.get("authenticate") {
            let request: RequestChallengeResponse = serde_json::from_value(sign.clone()).unwrap();
            return match self.0.do_authentication(origin, request) {
                Ok(signed) => serde_json::to_string(&signed).unwrap(),
                Err(_) => "refused".into(),
            };
        }
        assert_eq!(text, r#""none""#);
        "refused".into()
    }
}

/// Starts a session that asks for passkeys (`passkey`: first-timers register; `passkey_known`:
/// registered phones only); its id.
async fn start_passkey_session(app: &TestApp, teacher: &str, device: &str) -> String {
    app.log_in(teacher, DEMO_PASSWORD, "/").await;
    let to = app
        .post_form(
            &app.client,
            "start_session",
            &[
                ("lesson_name", "Ağ Güvenliği"),
                ("duration", "10"),
                ("security", "2"),
                ("rotate", "on"),
                ("device", device),
            ],
        )
        .await;
    to.strip_prefix("/live/").expect("the live page").to_owned()
}

/// The passkey check-in the page's script makes: begin, the phone's answer, the form. Where
/// the form sends the browser.
async fn check_in_with(
    app: &TestApp,
    browser: &reqwest::Client,
    id: &str,
    phone: &mut Phone,
) -> String {
    let code = app.code(id);
    let (status, begun) = app
        .call_as(
            browser,
            "passkey_begin",
            &[("session_id", id), ("code", &code)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{begun}");
    let answer = phone.answer(&begun);
    app.post_form(
        browser,
        "check_in",
        &[("session_id", id), ("code", &code), ("passkey", &answer)],
    )
    .await
}

async fn a_phone_registers_its_passkey_over_http_and_signs_the_next_check_in(app: TestApp) {
    let first = start_passkey_session(&app, "demo_teacher_1", "passkey").await;
    let ayse = app.new_browser();
    app.log_in_with(&ayse, "demo_student_1", DEMO_PASSWORD, "/")
        .await;
    let mut phone = Phone::new();
    let page = app.page_as(&ayse, &format!("/join/{first}")).await;
    assert!(page.contains("/passkey.js"), "the page loads its script");
    assert!(page.contains("data-passkey"), "{page}");

    let to = check_in_with(&app, &ayse, &first, &mut phone).await;
    assert_eq!(to, format!("/join/{first}"));
    let page = app.page_as(&ayse, &to).await;
    assert_eq!(outcome(&page).as_deref(), Some("attended"), "{page}");
    // The teacher sees the registration flagged.
    let live = app.page(&format!("/live/{first}"), &[]).await.1;
    assert_eq!(count(&live, "flag-new-passkeys"), Some(1), "{live}");
    let device = marked(&live, "evidence-device").expect("the device evidence");
    assert_eq!(device.attr("data-device"), Some("new_passkey"));
    // The student's page names the device (reqwest says nothing of itself: "?").
    let me = app.page_as(&ayse, "/me").await;
    assert!(marked(&me, "passkey-device").is_some(), "{me}");
    app.post_form(&app.client, "finish_session", &[("session_id", &first)])
        .await;
    app.env.advance(chrono::Duration::minutes(1));

    let second = start_passkey_session(&app, "demo_teacher_1", "passkey_known").await;
    let to = check_in_with(&app, &ayse, &second, &mut phone).await;
    assert_eq!(to, format!("/join/{second}"));
    assert_eq!(
        outcome(&app.page_as(&ayse, &to).await).as_deref(),
        Some("attended")
    );
    let live = app.page(&format!("/live/{second}"), &[]).await.1;
    assert!(marked(&live, "flag-new-passkeys").is_none());
    assert_eq!(
        marked(&live, "evidence-device").and_then(|d| d.attr("data-device").map(str::to_owned)),
        Some("passkey".to_owned())
    );

    // A friend's phone logged in as Ayşe (a browser of its own) is refused, and says why.
    let friend = app.new_browser();
    app.log_in_with(&friend, "demo_student_1", DEMO_PASSWORD, "/")
        .await;
    app.post_form(&app.client, "finish_session", &[("session_id", &second)])
        .await;
    app.env.advance(chrono::Duration::minutes(1));
    let third = start_passkey_session(&app, "demo_teacher_1", "passkey").await;
    let to = check_in_with(&app, &friend, &third, &mut Phone::new()).await;
    assert_eq!(to, format!("/join/{third}"));
    let page = app.page_as(&friend, &to).await;
    assert_eq!(outcome(&page).as_deref(), Some("failed"));
    assert!(page.contains("kendi telefonunuzdan"), "{page}");
}

async fn an_answer_is_used_once_and_a_page_without_script_says_why_it_cannot_check_in(
    app: TestApp,
) {
    let id = start_passkey_session(&app, "demo_teacher_2", "passkey").await;
    let can = app.new_browser();
    app.log_in_with(&can, "demo_student_2", DEMO_PASSWORD, "/")
        .await;
    // Without the script: the page says so, and a check-in without an answer records nothing.
    let page = app.page_as(&can, &format!("/join/{id}")).await;
    // (An HTML parser that runs scripts reads `noscript` as text, so the raw page is read.)
    let noscript = page
        .split("<noscript>")
        .nth(1)
        .and_then(|rest| rest.split("</noscript>").next())
        .expect("the noscript note");
    assert!(
        noscript.contains(r#"data-testid="passkey-no-script""#),
        "{noscript}"
    );
    assert!(noscript.contains("JavaScript"), "{noscript}");
    let code = app.code(&id);
    let to = app
        .post_form(&can, "check_in", &[("session_id", &id), ("code", &code)])
        .await;
    assert_eq!(to, format!("/join/{id}?error=passkey_needs_script"));
    let page = app.page_as(&can, &to).await;
    assert!(page.contains("JavaScript"), "{page}");
    assert_eq!(outcome(&page).as_deref(), Some("refused"));

    // An answer sent with an old code is refused and uses up its ceremony: sent again with
    // the right code, it is no good either.
    let mut phone = Phone::new();
    let (_, begun) = app
        .call_as(
            &can,
            "passkey_begin",
            &[("session_id", &id), ("code", &code)],
        )
        .await;
    let answer = phone.answer(&begun);
    let to = app
        .post_form(
            &can,
            "check_in",
            &[
                ("session_id", &id),
                ("code", "000000"),
                ("passkey", &answer),
            ],
        )
        .await;
    assert!(to.ends_with("error=code_expired"), "{to}");
    let to = app
        .post_form(
            &can,
            "check_in",
            &[("session_id", &id), ("code", &code), ("passkey", &answer)],
        )
        .await;
    assert_eq!(to, format!("/join/{id}?error=passkey_expired"));
    // An answer begun in one browser is no good in another.
    let (_, begun) = app
        .call_as(
            &can,
            "passkey_begin",
            &[("session_id", &id), ("code", &code)],
        )
        .await;
    let answer = phone.answer(&begun);
    let other = app.new_browser();
    app.log_in_with(&other, "demo_student_2", DEMO_PASSWORD, "/")
        .await;
    let to = app
        .post_form(
            &other,
            "check_in",
            &[("session_id", &id), ("code", &code), ("passkey", &answer)],
        )
        .await;
    assert_eq!(to, format!("/join/{id}?error=passkey_expired"));
    // Garbage in the field is refused as such.
    let (_, _) = app
        .call_as(
            &can,
            "passkey_begin",
            &[("session_id", &id), ("code", &code)],
        )
        .await;
    let to = app
        .post_form(
            &can,
            "check_in",
            &[
                ("session_id", &id),
                ("code", &code),
                ("passkey", "{\"rawId\":"),
            ],
        )
        .await;
    assert_eq!(to, format!("/join/{id}?error=invalid"));
    let live = app.page(&format!("/live/{id}"), &[]).await.1;
    assert!(marked(&live, "no-students").is_some(), "{live}");
    // Beginning asks for the code of the moment, like a check-in.
    let (status, body) = app
        .call_as(
            &can,
            "passkey_begin",
            &[("session_id", &id), ("code", "000000")],
        )
        .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::BAD_REQUEST, r#""CodeExpired""#)
    );
}

async fn the_join_page_hears_of_a_recheck_as_it_starts(app: TestApp) {
    let id = start_as_teacher(&app, "demo_teacher_3").await;
    let student = app.new_browser();
    app.log_in_with(&student, "demo_student_3", DEMO_PASSWORD, "/")
        .await;
    assert_eq!(
        check_in_now(&app, &student, &id).await.as_deref(),
        Some("attended")
    );
    // The join page carries the small script that listens (the page loads no wasm).
    let page = app.page_as(&student, &format!("/join/{id}")).await;
    assert!(page.contains(r#"src="/join-notices.js""#), "{page}");
    let events = format!("{}/api/join_events/{id}", app.base);
    let mut stream = student.get(&events).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()[header::CONTENT_TYPE], "text/event-stream");
    app.env.advance(chrono::Duration::minutes(3));
    app.post_form(&app.client, "start_recheck", &[("session_id", &id)])
        .await;
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.chunk())
        .await
        .expect("told within seconds")
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&chunk).contains("data: changed"),
        "{chunk:?}"
    );
    // Reading the page again shows the request.
    let page = app.page_as(&student, &format!("/join/{id}")).await;
    let recheck = marked(&page, "recheck").expect("the re-check request");
    assert_eq!(recheck.attr("data-confirmed"), Some("false"));

    // Nobody logged in, or an unknown session, gets no stream.
    let res = app.new_browser().get(&events).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let unknown = format!("{}/api/join_events/{}", app.base, uuid::Uuid::new_v4());
    let res = student.get(&unknown).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = student
        .get(format!("{}/api/join_events/not-a-session", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn a_teacher_and_an_admin_allow_a_new_phone(app: TestApp) {
    let id = start_passkey_session(&app, "demo_teacher_4", "passkey_known").await;
    let deniz = app.new_browser();
    app.log_in_with(&deniz, "demo_student_4", DEMO_PASSWORD, "/")
        .await;
    let mut phone = Phone::new();
    // No passkey yet, and the session takes no new ones.
    let to = check_in_with(&app, &deniz, &id, &mut phone).await;
    let page = app.page_as(&deniz, &to).await;
    assert_eq!(outcome(&page).as_deref(), Some("failed"));
    let live = app.page(&format!("/live/{id}"), &[]).await.1;
    assert!(marked(&live, "allow-passkey").is_some(), "{live}");
    // Too short a reason is refused; a good one lets her register.
    let to = app
        .post_form(
            &app.client,
            "allow_new_passkey",
            &[
                ("session_id", &id),
                ("student", "demo_student_4"),
                ("reason", "yok"),
            ],
        )
        .await;
    assert_eq!(to, format!("/live/{id}?error=reason_too_short"));
    let to = app
        .post_form(
            &app.client,
            "allow_new_passkey",
            &[
                ("session_id", &id),
                ("student", "demo_student_4"),
                ("reason", "İlk dersine geldi, burada"),
            ],
        )
        .await;
    assert_eq!(to, format!("/live/{id}"));
    let to = check_in_with(&app, &deniz, &id, &mut phone).await;
    assert_eq!(
        outcome(&app.page_as(&deniz, &to).await).as_deref(),
        Some("attended")
    );
    let live = app.page(&format!("/live/{id}"), &[]).await.1;
    let device = marked(&live, "evidence-device").unwrap();
    assert_eq!(device.attr("data-device"), Some("new_passkey"));
    assert!(device.text.contains("demo_teacher_4"), "{}", device.text);

    // An admin lets her change phones from the admin page; the audit log has both.
    let admin = app.new_browser();
    app.log_in_with(&admin, ADMIN, DEMO_PASSWORD, "/").await;
    let to = app
        .post_form(
            &admin,
            "admin_allow_new_passkey",
            &[
                ("student", "demo_student_4"),
                ("reason", "Telefonu çalındı"),
            ],
        )
        .await;
    assert_eq!(to, "/admin?done=passkey_allowed");
    let me = app.page_as(&deniz, "/me").await;
    assert!(marked(&me, "passkey-allowed").is_some(), "{me}");
    let (status, log) = app
        .call_as(&admin, "audit_log", &[("student", "demo_student_4")])
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    assert_eq!(log.matches("passkey_approved").count(), 2, "{log}");
    assert!(log.contains("Telefonu çalındı"), "{log}");
}
