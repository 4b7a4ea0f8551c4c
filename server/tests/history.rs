//! After the sweep, over HTTP: a teacher corrects the history, an admin reviews and restores, a student sees their rate.

mod common;

use common::*;
use reqwest::StatusCode;

attn::on_both_backends!(
    spawn_app;
    after_the_sweep_a_teacher_corrects_the_history_and_an_admin_restores,
    a_student_sees_their_attendance_rate,
    a_teacher_downloads_a_sessions_list_an_admin_reads_it_and_nobody_else_can,
);

async fn after_the_sweep_a_teacher_corrects_the_history_and_an_admin_restores(app: TestApp) {
    let id = past_session(&app, "demo_teacher_6", &[11, 12]).await;
    let list = app.page("/history", &[]).await.1;
    assert!(list.contains(&format!(r#"href="/history/{id}""#)), "{list}");
    assert!(list.contains("Veri &lt;b&gt;Yapıları&lt;/b&gt;"), "{list}");
    assert!(
        list.contains(r#"data-testid="past-attended" class="num">2<"#),
        "{list}"
    );
    let page = app.page(&format!("/history/{id}"), &[]).await.1;
    assert!(page.contains("Demo Öğrenci 11") && page.contains("Demo Öğrenci 12"));

    // A reason under 10 characters changes nothing.
    let to = app
        .post_form(
            &app.client,
            "remove_past_student",
            &[
                ("session_id", &id),
                ("student", "demo_student_12"),
                ("reason", "yoktu"),
            ],
        )
        .await;
    assert_eq!(to, format!("/history/{id}?error=reason_too_short"));
    let page = app.page(&to, &[]).await.1;
    assert!(page.contains("Gerekçe çok kısa.") && page.contains("Demo Öğrenci 12"));
    let to = app
        .post_form(
            &app.client,
            "remove_past_student",
            &[
                ("session_id", &id),
                ("student", "demo_student_12"),
                ("reason", "Derste yoktu, arkadaşı okuttu"),
            ],
        )
        .await;
    assert_eq!(to, format!("/history/{id}?done=saved"));
    let page = app.page(&to, &[]).await.1;
    assert!(!page.contains("Demo Öğrenci 12"), "{page}");
    app.post_form(
        &app.client,
        "add_past_student",
        &[("session_id", &id), ("school_number", "1306200055")],
    )
    .await;
    assert!(
        app.page(&format!("/history/{id}"), &[])
            .await
            .1
            .contains("1306200055")
    );

    // Another teacher, a student, a malformed id: refused, nothing changes.
    let other = app.new_browser();
    app.log_in_with(&other, "demo_teacher_5", DEMO_PASSWORD, "/")
        .await;
    let page = app.page_as(&other, &format!("/history/{id}")).await;
    assert!(page.contains("Bu işlem için yetkiniz yok.") && !page.contains("Demo Öğrenci 11"));
    let to = app
        .post_form(
            &other,
            "delete_past_session",
            &[
                ("session_id", &id),
                ("reason", "Başkasının oturumunu siliyorum"),
            ],
        )
        .await;
    assert_eq!(to, format!("/history/{id}?error=forbidden"));
    assert!(
        app.page_as(&other, "/admin")
            .await
            .contains("Bu işlem için yetkiniz yok.")
    );
    let res = other
        .post(format!("{}/api/past_session", app.base))
        .form(&[("session_id", "../../etc")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let student = app.new_browser();
    app.log_in_with(&student, "demo_student_11", DEMO_PASSWORD, "/")
        .await;
    let res = student
        .post(format!("{}/api/past_sessions", app.base))
        .form(&[("page", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The admin sees who removed whom, when and why; filters; restores.
    let admin = app.new_browser();
    app.log_in_with(&admin, ADMIN, DEMO_PASSWORD, "/").await;
    let review = app.page_as(&admin, "/admin").await;
    assert!(review.contains("Demo Öğrenci 12") && review.contains("Derste yoktu, arkadaşı okuttu"));
    assert!(review.contains("DEMO ÖĞRETMEN 6"), "{review}");
    let filtered = app.page_as(&admin, "/admin?teacher=ogretmen+5").await;
    assert!(!filtered.contains("Demo Öğrenci 12"), "{filtered}");
    let filtered = app
        .page_as(&admin, "/admin?teacher=demo_teacher_6&from=2026-01-01")
        .await;
    assert!(filtered.contains("Demo Öğrenci 12"), "{filtered}");
    let bad = app.page_as(&admin, "/admin?from=yesterday").await;
    assert!(bad.contains("Girdiğiniz bilgi geçerli değil."), "{bad}");
    let to = app
        .post_form(
            &admin,
            "restore_record",
            &[("session_id", &id), ("student", "demo_student_12")],
        )
        .await;
    assert_eq!(to, "/admin?done=restored");
    let review = app.page_as(&admin, &to).await;
    assert!(
        review.contains(r#"data-action="record_restored""#),
        "{review}"
    );
    assert!(
        app.page(&format!("/history/{id}"), &[])
            .await
            .1
            .contains("Demo Öğrenci 12")
    );

    // The owner deletes the whole session; the admin brings it back.
    let to = app
        .post_form(
            &app.client,
            "delete_past_session",
            &[
                ("session_id", &id),
                ("reason", "Yanlış derse açılmış oturum"),
            ],
        )
        .await;
    assert_eq!(to, "/history?done=deleted");
    assert!(
        !app.page(&to, &[])
            .await
            .1
            .contains(&format!("/history/{id}"))
    );
    let to = app
        .post_form(&admin, "restore_session", &[("session_id", &id)])
        .await;
    assert_eq!(to, "/admin?done=restored");
    assert!(
        app.page("/history", &[])
            .await
            .1
            .contains(&format!("/history/{id}"))
    );
}

async fn a_student_sees_their_attendance_rate(app: TestApp) {
    past_session(&app, "demo_teacher_8", &[21]).await;
    let student = app.new_browser();
    app.log_in_with(&student, "demo_student_21", DEMO_PASSWORD, "/")
        .await;
    let page = app.page_as(&student, "/me").await;
    assert!(page.contains("Veri &lt;b&gt;Yapıları&lt;/b&gt;"), "{page}");
    assert!(
        page.contains(r#"data-testid="rate" class="rate">%100<"#),
        "{page}"
    );
    let other = app.new_browser();
    app.log_in_with(&other, "demo_student_22", DEMO_PASSWORD, "/")
        .await;
    let page = app.page_as(&other, "/me").await;
    assert!(page.contains("Henüz kayıtlı yoklamanız yok."), "{page}");
}

async fn a_teacher_downloads_a_sessions_list_an_admin_reads_it_and_nobody_else_can(app: TestApp) {
    let id = past_session(&app, "demo_teacher_7", &[21, 22]).await;
    let page = app.page(&format!("/history/{id}"), &[]).await.1;
    let link = marked(&page, "download-csv").expect("a download link");
    assert_eq!(
        link.attr("href"),
        Some(format!("/history/{id}/list.csv").as_str())
    );
    for (query, separator) in [("", b','), ("?sep=semicolon", b';')] {
        let res = app
            .get(&format!("/history/{id}/list.csv{query}"), &[])
            .await;
        let bytes = downloaded(res, "text/csv; charset=utf-8", "attendance-", "csv").await;
        let rows = csv_rows(&bytes, separator);
        assert_eq!(
            rows[0],
            ["Okul numarası", "Ad soyad", "Durum", "Saat", "Not"]
        );
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!(rows[1][0], "demo_student_21");
        assert_eq!(rows[1][1], "Demo Öğrenci 21");
        assert_eq!(rows[1][2], "Katıldı");
        assert!(rows[1][3].contains('.'), "a date and time: {rows:?}");
    }
    // In English for an English browser.
    let res = app
        .get(
            &format!("/history/{id}/list.csv"),
            &[("accept-language", "en")],
        )
        .await;
    let text = res.text().await.unwrap();
    assert!(
        text.contains("School number,Name,Status,Time,Note"),
        "{text}"
    );
    // Another teacher and nobody logged in get the refusal, not the list.
    let other = app.new_browser();
    app.log_in_with(&other, "demo_teacher_8", DEMO_PASSWORD, "/")
        .await;
    let res = other
        .get(format!("{}/history/{id}/list.csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!res.text().await.unwrap().contains("demo_student_21"));
    let res = app
        .new_browser()
        .get(format!("{}/history/{id}/list.csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // An admin opens the session from the course's grid and reads it, without the forms that
    // change it; the owner sees them.
    let admin = app.new_browser();
    app.log_in_with(&admin, ADMIN, DEMO_PASSWORD, "/").await;
    let own = app.page(&format!("/history/{id}"), &[]).await.1;
    let course = marked(&own, "course-link").expect("a link to the course");
    let grid = app
        .page_as(&admin, course.attr("href").expect("its address"))
        .await;
    assert!(grid.contains(&format!("href=\"/history/{id}\"")), "{grid}");
    let read = app.page_as(&admin, &format!("/history/{id}")).await;
    assert!(marked(&read, "read-only").is_some(), "{read}");
    assert!(read.contains("Demo Öğrenci 22"), "{read}");
    assert!(!read.contains("/api/set_past_status"), "{read}");
    assert!(!read.contains("/api/delete_past_session"), "{read}");
    assert!(marked(&own, "read-only").is_none());
    assert!(own.contains("/api/set_past_status"));
    let res = admin
        .get(format!("{}/history/{id}/list.csv", app.base))
        .send()
        .await
        .unwrap();
    let rows = csv_rows(
        &downloaded(res, "text/csv; charset=utf-8", "attendance-", "csv").await,
        b',',
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
    // Reading is all: a correction by the admin is refused and changes nothing.
    let to = app
        .post_form(
            &admin,
            "remove_past_student",
            &[
                ("session_id", &id),
                ("student", "demo_student_21"),
                ("reason", "Yönetici olarak siliyorum"),
            ],
        )
        .await;
    assert_eq!(to, format!("/history/{id}?error=forbidden"));
    assert!(
        app.page(&format!("/history/{id}"), &[])
            .await
            .1
            .contains("Demo Öğrenci 21")
    );
}
