//! A live session over HTTP: a teacher starts it, students check in with plain forms, the live page hears of each check-in, old codes and other people are refused, user text stays text.

mod common;

use app::components::paths::encode_component;
use common::*;
use reqwest::{StatusCode, header};

// Logins, check-ins and the live page's events on a Redis Cluster too.
attn::on_every_backend!(
    spawn_app;
    a_teacher_starts_a_session_and_students_check_in_with_plain_forms,
    the_live_page_is_told_of_each_check_in_as_it_happens,
);

attn::on_both_backends!(
    spawn_app;
    a_second_session_is_refused_with_a_link_to_the_running_one,
    an_old_code_is_refused_with_scan_again,
    other_teachers_and_students_cannot_touch_a_session,
    a_student_finds_a_running_session_by_lesson_or_teacher,
    the_live_page_lists_the_class_not_here_yet_and_marks_one_present,
    user_text_is_shown_as_text,
    a_check_in_gives_a_receipt_that_a_teacher_checks,
    a_recheck_over_plain_forms_leaves_who_did_not_confirm_for_the_teacher,
);

async fn a_recheck_over_plain_forms_leaves_who_did_not_confirm_for_the_teacher(app: TestApp) {
    let id = start_as_teacher(&app, "demo_teacher_1").await;
    let live = format!("/live/{id}");
    let mut students = Vec::new();
    for n in [11, 12, 13] {
        let browser = app.new_browser();
        app.log_in_with(&browser, &format!("demo_student_{n}"), DEMO_PASSWORD, "/")
            .await;
        assert_eq!(
            check_in_now(&app, &browser, &id).await.as_deref(),
            Some("attended")
        );
        students.push(browser);
    }
    app.env.advance(chrono::Duration::minutes(3));
    let page = app.page(&live, &[]).await.1;
    assert!(marked(&page, "start-recheck").is_some(), "{page}");
    let back = app
        .post_form(&app.client, "start_recheck", &[("session_id", &id)])
        .await;
    assert_eq!(back, live);
    let page = app.page(&live, &[]).await.1;
    let running = marked(&page, "recheck").expect("the running re-check");
    assert_eq!(running.attr("data-waiting"), Some("3"));
    assert!(marked(&page, "start-recheck").is_none(), "one at a time");
    let projector = app.page(&format!("{live}?projector=1"), &[]).await.1;
    assert!(marked(&projector, "recheck").is_some(), "{projector}");
    // A second one asked for meanwhile (a double click) is refused and says so.
    let back = app
        .post_form(&app.client, "start_recheck", &[("session_id", &id)])
        .await;
    assert_eq!(back, format!("{live}?error=recheck_running"));

    // Two students see the request on their join page and confirm with the code shown now.
    for browser in &students[..2] {
        let join = app.page_as(browser, &format!("/join/{id}")).await;
        let asked = marked(&join, "recheck").expect("the request");
        assert_eq!(asked.attr("data-confirmed"), Some("false"));
        assert!(join.contains(r#"name="code""#), "a form to confirm: {join}");
        check_in_now(&app, browser, &id).await;
        let join = app.page_as(browser, &format!("/join/{id}")).await;
        assert_eq!(
            marked(&join, "recheck").and_then(|m| m.attr("data-confirmed").map(str::to_owned)),
            Some("true".into())
        );
    }
    let page = app.page(&live, &[]).await.1;
    assert_eq!(
        marked(&page, "recheck").unwrap().attr("data-waiting"),
        Some("1")
    );
    // Each row's evidence says how it was checked: the network rule, the re-check.
    assert_eq!(
        marked(&page, "evidence-network").map(|m| m.text),
        Some("Ağ: öğretmenin ağı".into())
    );
    assert!(page.contains("Yeniden yoklama: 1 / 1 onayladı"), "{page}");
    // The window ends: the third left early; the teacher keeps them present, and the list empties.
    app.env
        .advance(chrono::Duration::seconds(attn::teacher::RECHECK_SECONDS));
    let page = app.page(&live, &[]).await.1;
    let left = marked(&page, "left-early").expect("who left early");
    assert!(left.text.contains("Demo Öğrenci 13"), "{}", left.text);
    assert!(!left.text.contains("Demo Öğrenci 12"), "{}", left.text);
    let back = app
        .post_form(
            &app.client,
            "mark_student",
            &[
                ("session_id", &id),
                ("student", "demo_student_13"),
                ("status", "present"),
            ],
        )
        .await;
    assert_eq!(back, live);
    let page = app.page(&live, &[]).await.1;
    assert!(marked(&page, "left-early").is_none(), "{page}");
    // Only the session's teacher asks for one.
    let (status, _) = app
        .call_as(&students[0], "start_recheck", &[("session_id", &id)])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn a_check_in_gives_a_receipt_that_a_teacher_checks(app: TestApp) {
    let id = start_as_teacher(&app, "demo_teacher_1").await;
    let student = app.new_browser();
    app.log_in_with(&student, "demo_student_5", DEMO_PASSWORD, "/")
        .await;
    let join = app.page_as(&student, &format!("/join/{id}")).await;
    assert!(
        marked(&join, "receipt-link").is_none(),
        "no receipt before a check-in"
    );
    assert_eq!(
        check_in_now(&app, &student, &id).await.as_deref(),
        Some("attended")
    );
    let join = app.page_as(&student, &format!("/join/{id}")).await;
    let link = marked(&join, "receipt-link").expect("a receipt link after the check-in");
    let shown = app.page_as(&student, link.attr("href").unwrap()).await;
    let receipt = marked(&shown, "receipt").expect("what the receipt says");
    assert_eq!(receipt.attr("data-status"), Some("present"));
    assert_eq!(receipt.attr("data-session"), Some(id.as_str()));
    assert!(receipt.text.contains("Demo Öğrenci 5"), "{}", receipt.text);
    assert!(shown.contains("<svg"), "the QR code of its check");
    let text = marked(&shown, "receipt-text").unwrap().text;
    assert!(text.starts_with("ATTN1."), "{text}");

    // The teacher checks it: valid for this session, for another session it is not, and a
    // changed one is forged. Without the script: a GET form.
    let app = &app;
    let verdict = |r: &str, session: &str| {
        let path = format!(
            "/verify?r={}&session={}",
            encode_component(r),
            encode_component(session)
        );
        async move {
            let page = app.page(&path, &[]).await.1;
            marked(&page, "verdict").and_then(|m| m.attr("data-verdict").map(str::to_owned))
        }
    };
    assert_eq!(verdict(&text, &id).await.as_deref(), Some("valid"));
    assert_eq!(verdict(&text, "").await.as_deref(), Some("valid"));
    let elsewhere = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        verdict(&text, &elsewhere).await.as_deref(),
        Some("other_session")
    );
    let changed = text.replacen("ATTN1.e", "ATTN1.f", 1);
    assert_eq!(verdict(&changed, &id).await.as_deref(), Some("forged"));
    // A changed receipt shows nothing as if it were signed.
    let page = app
        .page_as(
            &student,
            &format!("/receipt?r={}", encode_component(&changed)),
        )
        .await;
    assert!(marked(&page, "receipt").is_none());
    assert!(marked(&page, "receipt-unknown").is_some(), "{page}");
    // Only teachers and admins check receipts.
    let (status, body) = app
        .call_as(&student, "verify_receipt", &[("receipt", &text)])
        .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::FORBIDDEN, r#""Forbidden""#)
    );
}

async fn a_teacher_starts_a_session_and_students_check_in_with_plain_forms(app: TestApp) {
    let id = start_as_teacher(&app, "demo_teacher_1").await;
    let live = app.page(&format!("/live/{id}"), &[]).await.1;
    assert!(live.contains("<svg"), "a QR code rendered on the server");
    let code = app.code(&id);
    assert!(
        live.contains(&format!(r#"data-testid="code">{code}<"#)),
        "{live}"
    );
    assert!(live.contains(&format!("/join/{id}?c={code}")));
    assert!(
        live.contains("Veri &lt;b&gt;Yapıları&lt;/b&gt;"),
        "lesson names are text"
    );
    assert!(marked(&live, "no-students").is_some(), "{live}");
    assert_eq!(count(&live, "attended-count"), Some(0));

    let students: Vec<reqwest::Client> = (0..3).map(|_| app.new_browser()).collect();
    for (n, browser) in students.iter().enumerate() {
        let user = format!("demo_student_{}", n + 1);
        let join = format!("/join/{id}?c={code}");
        app.log_in_with(browser, &user, DEMO_PASSWORD, &join).await;
        let page = app.page_as(browser, &join).await;
        assert!(
            page.contains(&format!(r#"name="code" value="{code}""#)),
            "{page}"
        );
        let to = app
            .post_form(browser, "check_in", &[("session_id", &id), ("code", &code)])
            .await;
        assert_eq!(to, format!("/join/{id}"));
        let page = app.page_as(browser, &to).await;
        assert_eq!(outcome(&page).as_deref(), Some("attended"), "{page}");
        assert!(!offers_check_in(&page), "no second button once attended");
    }

    let live = app.page(&format!("/live/{id}"), &[]).await.1;
    for n in 1..=3 {
        assert!(live.contains(&format!("Demo Öğrenci {n}")), "{live}");
    }
    assert_eq!(count(&live, "attended-count"), Some(3), "{live}");
    assert_eq!(count(&live, "failed-count"), Some(0), "{live}");
    assert!(marked(&live, "no-students").is_none());

    // The teacher removes one with a reason, adds one by number, finishes.
    let back = app
        .post_form(
            &app.client,
            "remove_student",
            &[
                ("session_id", &id),
                ("student", "demo_student_2"),
                ("reason", "Sınıfta değildi"),
            ],
        )
        .await;
    assert_eq!(back, format!("/live/{id}"));
    let back = app
        .post_form(
            &app.client,
            "remove_student",
            &[
                ("session_id", &id),
                ("student", "demo_student_3"),
                ("reason", "yok"),
            ],
        )
        .await;
    assert_eq!(back, format!("/live/{id}?error=reason_too_short"));
    app.post_form(
        &app.client,
        "add_student",
        &[("session_id", &id), ("school_number", "1306200099")],
    )
    .await;
    let live = app.page(&format!("/live/{id}"), &[]).await.1;
    assert!(live.contains("Çıkarıldı: Sınıfta değildi"), "{live}");
    assert!(live.contains("1306200099"));
    let removed_page = app.page_as(&students[1], &format!("/join/{id}")).await;
    assert!(removed_page.contains("Öğretim üyesi sizi bu yoklamadan çıkardı."));

    app.post_form(&app.client, "finish_session", &[("session_id", &id)])
        .await;
    let live = app.page(&format!("/live/{id}"), &[]).await.1;
    assert!(live.contains("Bu yoklama sona erdi."));
    assert!(!live.contains("<svg"), "no code once ended");
    let page = app.page_as(&students[0], &format!("/join/{id}")).await;
    assert!(page.contains("Bu yoklama sona erdi."));
}

async fn a_second_session_is_refused_with_a_link_to_the_running_one(app: TestApp) {
    let id = start_as_teacher(&app, "demo_teacher_2").await;
    let to = app
        .post_form(
            &app.client,
            "start_session",
            &[
                ("lesson_name", "Fizik"),
                ("duration", "10"),
                ("security", "1"),
            ],
        )
        .await;
    assert_eq!(to, format!("/teach?error=active_session&session={id}"));
    let page = app.page(&to, &[]).await.1;
    assert!(page.contains("Zaten süren bir yoklamanız var."), "{page}");
    assert!(page.contains(&format!(r#"href="/live/{id}""#)), "{page}");
}

async fn an_old_code_is_refused_with_scan_again(app: TestApp) {
    let id = start_as_teacher(&app, "demo_teacher_3").await;
    let old = app.code(&id);
    app.env.clock.advance(chrono::Duration::seconds(31));
    let student = app.new_browser();
    app.log_in_with(&student, "demo_student_8", DEMO_PASSWORD, "/")
        .await;
    let to = app
        .post_form(&student, "check_in", &[("session_id", &id), ("code", &old)])
        .await;
    assert_eq!(to, format!("/join/{id}?error=code_expired"));
    let page = app.page_as(&student, &to).await;
    assert!(
        page.contains("Kodun süresi doldu, QR kodu yeniden okutun."),
        "{page}"
    );
    let live = app.page(&format!("/live/{id}"), &[]).await.1;
    assert!(
        !live.contains("Demo Öğrenci 8"),
        "a refused code records nothing"
    );
}

async fn other_teachers_and_students_cannot_touch_a_session(app: TestApp) {
    let id = start_as_teacher(&app, "demo_teacher_4").await;
    let other = app.new_browser();
    app.log_in_with(&other, "demo_teacher_5", DEMO_PASSWORD, "/")
        .await;
    let page = app.page_as(&other, &format!("/live/{id}")).await;
    assert!(page.contains("Bu işlem için yetkiniz yok."), "{page}");
    assert!(!page.contains("<svg"));
    let to = app
        .post_form(&other, "finish_session", &[("session_id", &id)])
        .await;
    assert_eq!(to, format!("/live/{id}?error=forbidden"));
    let res = other
        .post(format!("{}/api/live_state", app.base))
        .form(&[("session_id", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let student = app.new_browser();
    app.log_in_with(&student, "demo_student_9", DEMO_PASSWORD, "/")
        .await;
    let to = app
        .post_form(
            &student,
            "start_session",
            &[
                ("lesson_name", "Sahte"),
                ("duration", "10"),
                ("security", "1"),
            ],
        )
        .await;
    assert_eq!(to, "/teach?error=forbidden");
    let res = student
        .post(format!("{}/api/live_state", app.base))
        .form(&[("session_id", "not-a-uuid")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "the role is checked before the input"
    );
    // The session still runs, untouched.
    let live = app.page(&format!("/live/{id}"), &[]).await.1;
    assert!(live.contains("<svg"));
}

async fn the_live_page_is_told_of_each_check_in_as_it_happens(app: TestApp) {
    let id = start_as_teacher(&app, "demo_teacher_6").await;
    let events = format!("{}/api/live_events/{id}", app.base);
    let mut stream = app.client.get(&events).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()[header::CONTENT_TYPE], "text/event-stream");

    let student = app.new_browser();
    app.log_in_with(&student, "demo_student_30", DEMO_PASSWORD, "/")
        .await;
    let code = app.code(&id);
    app.post_form(
        &student,
        "check_in",
        &[("session_id", &id), ("code", &code)],
    )
    .await;
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.chunk())
        .await
        .expect("an event within seconds")
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&chunk).contains("data: changed"),
        "{chunk:?}"
    );

    // Only the owner may listen.
    let res = student.get(&events).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app.new_browser().get(&events).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn a_student_finds_a_running_session_by_lesson_or_teacher(app: TestApp) {
    let id = start_as_teacher(&app, "demo_teacher_7").await;
    let student = app.new_browser();
    let res = student
        .get(format!("{}/find?lesson=veri", app.base))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND, "log in first");
    app.log_in_with(&student, "demo_student_40", DEMO_PASSWORD, "/")
        .await;
    // Typed without Turkish letters, in any case.
    let page = app
        .page_as(&student, "/find?lesson=VERI&teacher=ogretmen+7")
        .await;
    assert!(page.contains(&format!(r#"href="/join/{id}""#)), "{page}");
    let page = app.page_as(&student, "/find?lesson=kimya").await;
    assert!(page.contains("Süren bir yoklama bulunamadı."), "{page}");
    assert!(!page.contains(&id));
    // Overlong search text is refused.
    let (status, body) = app
        .call("find_sessions", &[("lesson", &"x".repeat(101))])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

async fn user_text_is_shown_as_text(app: TestApp) {
    use attn::Clock;
    let now = app.env.clock.now();
    let session = attn::domain::LiveSession {
        id: uuid::Uuid::new_v4(),
        teacher_school_number: "demo_teacher_5".into(),
        teacher_full_name: "<b>Hoca</b>".into(),
        lesson_name: "<script>alert('x')</script>Fizik".into(),
        ip_address: "127.0.0.1".into(),
        start_time: now,
        end_time: now + chrono::Duration::minutes(10),
        security: attn::domain::SecurityLevel::None,
        rotate_code: true,
        late_after_minutes: None,
        class_hours: None,
        rechecks: Vec::new(),
        device_check: Default::default(),
    };
    app.env.live.create_session(&session, now).await.unwrap();
    app.log_in("demo_student_7", DEMO_PASSWORD, "/").await;
    let (_, html) = app.page(&format!("/join/{}", session.id), &[]).await;
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("&lt;script&gt;alert"), "{html}");
    assert!(!html.contains("<b>Hoca</b>"));
}

attn::on_both_backends!(
    spawn_app_behind_a_proxy;
    behind_a_proxy_addresses_with_ports_are_read_and_garbage_fails_closed,
);

async fn behind_a_proxy_addresses_with_ports_are_read_and_garbage_fails_closed(app: TestApp) {
    // The teacher reaches the proxy from 127.0.0.1 (no header: the proxy is the client).
    let id = start_as_teacher(&app, "demo_teacher_1").await;
    let check_in_from = |n: u32, forwarded: &'static str| {
        let app = &app;
        let id = id.clone();
        async move {
            let student = app.new_browser();
            let join = format!("/join/{id}");
            app.log_in_with(&student, &format!("demo_student_{n}"), DEMO_PASSWORD, &join)
                .await;
            let res = student
                .post(format!("{}/api/check_in", app.base))
                .header(header::ACCEPT, "text/html")
                .header("x-forwarded-for", forwarded)
                .form(&[("session_id", id.as_str()), ("code", &app.code(&id))])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::FOUND);
            outcome(&app.page_as(&student, &join).await)
        }
    };
    // In the classroom, written with a port as some proxies do.
    assert_eq!(
        check_in_from(1, "127.0.0.77:51234").await.as_deref(),
        Some("attended")
    );
    // A stranger, with a port: before, the entry did not parse and the proxy's own address
    // (on the classroom network) was taken instead.
    assert_eq!(
        check_in_from(2, "203.0.113.5:1111").await.as_deref(),
        Some("failed")
    );
    // Garbage: the address is unknown, and unknown is on no network.
    assert_eq!(check_in_from(3, "unknown").await.as_deref(), Some("failed"));
    let live = app.page_as(&app.client, &format!("/live/{id}")).await;
    assert_eq!(count(&live, "attended-count"), Some(1), "{live}");
    assert_eq!(count(&live, "failed-count"), Some(2), "{live}");
}

async fn the_live_page_lists_the_class_not_here_yet_and_marks_one_present(app: TestApp) {
    // The course met before with three students; today one of them is in.
    past_session(&app, "demo_teacher_4", &[31, 32, 33]).await;
    let id = start_as_teacher(&app, "demo_teacher_4").await;
    let student = app.new_browser();
    app.log_in_with(&student, "demo_student_31", DEMO_PASSWORD, "/")
        .await;
    assert_eq!(
        check_in_now(&app, &student, &id).await.as_deref(),
        Some("attended")
    );
    let live = app.page(&format!("/live/{id}"), &[]).await.1;
    let present = marked(&live, "present-of").expect("N of M present");
    assert_eq!(
        (present.attr("data-count"), present.attr("data-of")),
        (Some("1"), Some("3"))
    );
    assert!(live.contains("1 / 3 öğrenci burada"), "{live}");
    let missing = missing_numbers(&live);
    assert_eq!(missing, ["demo_student_32", "demo_student_33"]);
    // The teacher marks one of them present from the list, with a plain form.
    app.post_form(
        &app.client,
        "add_student",
        &[("session_id", &id), ("school_number", "demo_student_32")],
    )
    .await;
    let live = app.page(&format!("/live/{id}"), &[]).await.1;
    assert_eq!(missing_numbers(&live), ["demo_student_33"]);
    assert_eq!(
        marked(&live, "present-of").unwrap().attr("data-count"),
        Some("2")
    );
}

/// The school numbers the live page lists as not here yet.
fn missing_numbers(html: &str) -> Vec<String> {
    let page = scraper::Html::parse_document(html);
    let rows = scraper::Selector::parse(r#"[data-testid="missing"] li"#).unwrap();
    page.select(&rows)
        .filter_map(|li| li.value().attr("data-number").map(str::to_owned))
        .collect()
}
