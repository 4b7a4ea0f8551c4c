//! The selfie check-in over HTTP: a plain multipart form, a mismatch, a non-image, the distance on the teacher's page.

mod common;

use common::*;
use reqwest::{StatusCode, header};

attn::on_both_backends!(
    spawn_app;
    a_student_checks_in_with_a_selfie_in_a_plain_multipart_form,
);

/// Starts a 10-minute session with the face check (level 3, rotating code) as `teacher`; its id.
async fn start_face_session(app: &TestApp, teacher: &str) -> String {
    app.log_in(teacher, DEMO_PASSWORD, "/").await;
    let to = app
        .post_form(
            &app.client,
            "start_session",
            &[
                ("lesson_name", "Yüz Tanıma"),
                ("duration", "10"),
                ("security", "3"),
                ("rotate", "on"),
            ],
        )
        .await;
    to.strip_prefix("/live/").expect("the live page").to_owned()
}

/// A test photo from the models folder.
fn photo(name: &str) -> Vec<u8> {
    std::fs::read(models_dir().join("testdata").join(name)).unwrap()
}

async fn a_student_checks_in_with_a_selfie_in_a_plain_multipart_form(app: TestApp) {
    if face_checker().is_none() {
        return;
    }
    let id = start_face_session(&app, "demo_teacher_9").await;
    let code = app.code(&id);

    // The join page asks for a selfie with the front camera.
    let same = app.new_browser();
    app.log_in_with(&same, "demo_student_31", DEMO_PASSWORD, "/")
        .await;
    let page = app.page_as(&same, &format!("/join/{id}?c={code}")).await;
    assert!(page.contains(r#"enctype="multipart/form-data""#), "{page}");
    assert!(page.contains(r#"capture="user""#) && page.contains(r#"accept="image/*""#));
    let to = post_selfie(&app, &same, &id, &code, photo("obama2.jpg"), "selfie.jpg").await;
    assert_eq!(to, format!("/join/{id}"));
    assert_eq!(
        outcome(&app.page_as(&same, &to).await).as_deref(),
        Some("attended")
    );

    let other = app.new_browser();
    app.log_in_with(&other, "demo_student_32", DEMO_PASSWORD, "/")
        .await;
    let to = post_selfie(&app, &other, &id, &code, photo("biden.jpg"), "me.jpg").await;
    let page = app.page_as(&other, &to).await;
    assert!(page.contains("yüz portal fotoğrafıyla eşleşmedi"), "{page}");

    // Not an image: refused with a clear message, nothing recorded.
    let bad = app.new_browser();
    app.log_in_with(&bad, "demo_student_33", DEMO_PASSWORD, "/")
        .await;
    let to = post_selfie(&app, &bad, &id, &code, b"%PDF-1.4".to_vec(), "cv.pdf").await;
    assert_eq!(to, format!("/join/{id}?error=bad_selfie"));
    let page = app.page_as(&bad, &to).await;
    assert!(page.contains("Fotoğraf kullanılamadı"), "{page}");

    // The teacher sees both outcomes, with the distance.
    let live = app.page(&format!("/live/{id}"), &[]).await.1;
    assert!(live.contains("Demo Öğrenci 31") && live.contains("Demo Öğrenci 32"));
    assert!(!live.contains("Demo Öğrenci 33"));
    assert_eq!(
        live.matches(r#"data-testid="distance""#).count(),
        2,
        "{live}"
    );
    assert!(live.contains("yüz portal fotoğrafıyla eşleşmedi"));
}

attn::on_both_backends!(
    spawn_app;
    the_portal_photo_is_kept_only_sealed_and_opens_only_with_the_students_own_cookie,
);

async fn the_portal_photo_is_kept_only_sealed_and_opens_only_with_the_students_own_cookie(
    app: TestApp,
) {
    if face_checker().is_none() {
        return;
    }
    let id = start_face_session(&app, "demo_teacher_8").await;

    let (browser, cookies) = app.log_in_keeping_cookies("demo_student_41").await;
    assert!(cookies.contains("attn_photo_key="), "{cookies}");
    let session_cookie = cookie_pair(&cookies, "attn_session");
    if app.env.backend == attn::testing::Backend::Services {
        // What Redis holds for this login: no photo in any readable form.
        let session_id = format!(
            "{}:login:{}",
            app.env.redis_prefix().unwrap(),
            session_cookie.trim_start_matches("attn_session=")
        );
        let redis = redis::Client::open(std::env::var("ATTN_TEST_REDIS_URL").unwrap()).unwrap();
        let mut conn = redis.get_multiplexed_async_connection().await.unwrap();
        let stored: Vec<u8> = redis::cmd("GET")
            .arg(session_id)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(!stored.is_empty(), "the login is in Redis");
        let portal = photo("obama.jpg");
        use base64::Engine;
        let readable = base64::engine::general_purpose::STANDARD.encode(&portal[..300]);
        let as_text = String::from_utf8_lossy(&stored);
        assert!(
            !as_text.contains(&readable[..40]),
            "no base64 photo in Redis"
        );
        assert!(
            !stored.windows(64).any(|w| w == &portal[..64]),
            "no raw photo in Redis"
        );
    }
    // With the student's own cookie the photo opens and the face check works.
    let to = post_selfie(
        &app,
        &browser,
        &id,
        &app.code(&id),
        photo("obama2.jpg"),
        "me.jpg",
    )
    .await;
    assert_eq!(
        outcome(&app.page_as(&browser, &to).await).as_deref(),
        Some("attended")
    );

    // The login cookie alone (stolen, or the key cookie lost) opens no photo: no reference.
    let (_, cookies) = app.log_in_keeping_cookies("demo_student_42").await;
    let only_session = cookie_pair(&cookies, "attn_session");
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("session_id", id.clone())
        .text("code", app.code(&id))
        .part(
            "selfie",
            reqwest::multipart::Part::bytes(photo("obama2.jpg")).file_name("me.jpg"),
        );
    let res = bare
        .post(format!("{}/api/check_in_selfie", app.base))
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, &only_session)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let page = app
        .page_with_cookie(&format!("/join/{id}"), &only_session)
        .await;
    assert_eq!(outcome(&page).as_deref(), Some("failed"), "{page}");
    assert!(page.contains("portalda fotoğraf yok"), "{page}");
}

attn::on_both_backends!(
    spawn_app_with_one_upload_at_a_time;
    the_selfie_form_is_refused_before_its_photo_is_read,
);

async fn spawn_app_with_one_upload_at_a_time(backend: attn::testing::Backend) -> Option<TestApp> {
    spawn_app_configured(backend, |config| config.uploads_in_flight = 1).await
}

/// Starts a selfie upload that announces a large body and then sends nothing more, as a slow
/// or hostile phone would; the open connection and the head of the answer, if one came within
/// five seconds.
async fn stalled_upload(
    app: &TestApp,
    cookie: Option<&str>,
) -> (tokio::net::TcpStream, Option<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST /api/check_in_selfie HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\
         Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: 4000000\r\n{cookie}\r\n\
         --XYZ\r\nContent-Disposition: form-data; name=\"selfie\"; filename=\"me.jpg\"\r\n\r\nJFIF"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let head = read
        .ok()
        .filter(|()| !answer.is_empty())
        .map(|()| String::from_utf8_lossy(&answer).into_owned());
    (stream, head)
}

async fn the_selfie_form_is_refused_before_its_photo_is_read(app: TestApp) {
    // Nobody logged in, and a teacher: refused at once, though the photo never arrives.
    let (_, head) = stalled_upload(&app, None).await;
    let head = head.expect("an answer without waiting for the photo");
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    let (_, teacher) = app.log_in_keeping_cookies("demo_teacher_5").await;
    let (_, head) = stalled_upload(&app, Some(&teacher)).await;
    assert!(head.expect("an answer").starts_with("HTTP/1.1 403"));
    // A student's upload is being received (its photo still on its way)...
    let (_, student) = app.log_in_keeping_cookies("demo_student_44").await;
    let (receiving, head) = stalled_upload(&app, Some(&student)).await;
    assert_eq!(head, None, "the first upload is being read");
    // ...so with one upload at a time, the next is told the check is busy, at once.
    let (_, other) = app.log_in_keeping_cookies("demo_student_45").await;
    let (_, head) = stalled_upload(&app, Some(&other)).await;
    let head = head.expect("an answer");
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(head.contains("FaceBusy"), "{head}");
    drop(receiving);
}
