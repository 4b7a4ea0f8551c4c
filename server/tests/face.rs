//! The selfie check-in over HTTP: a plain multipart form, a mismatch, a non-image, the distance on the teacher's page.

mod common;

use common::*;
use reqwest::{StatusCode, header};

attn::on_both_backends!(
    spawn_app;
    a_student_checks_in_with_a_selfie_in_a_plain_multipart_form,
);

async fn post_selfie(
    app: &TestApp,
    browser: &reqwest::Client,
    id: &str,
    code: &str,
    selfie: Vec<u8>,
    file_name: &str,
) -> String {
    let form = reqwest::multipart::Form::new()
        .text("session_id", id.to_owned())
        .text("code", code.to_owned())
        .part(
            "selfie",
            reqwest::multipart::Part::bytes(selfie).file_name(file_name.to_owned()),
        );
    let res = browser
        .post(format!("{}/api/check_in_selfie", app.base))
        .header(header::ACCEPT, "text/html")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    res.headers()[header::LOCATION].to_str().unwrap().to_owned()
}

async fn a_student_checks_in_with_a_selfie_in_a_plain_multipart_form(app: TestApp) {
    if face_checker().is_none() {
        return;
    }
    app.log_in("demo_teacher_9", DEMO_PASSWORD, "/").await;
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
    let id = to.strip_prefix("/live/").expect("the live page").to_owned();
    let code = app.code(&id);
    let photo = |name: &str| std::fs::read(models_dir().join("testdata").join(name)).unwrap();

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
