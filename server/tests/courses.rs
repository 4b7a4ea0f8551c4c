//! After class, over HTTP and without scripts: the late cut-off set at start, an excused student
//! marked from the live page's missing list, absences recorded at the end, the course list and
//! grid, the course's settings, the grid's download, and a student's limit warning.

mod common;

use common::*;
use reqwest::{StatusCode, header};

attn::on_both_backends!(
    spawn_app;
    a_teacher_runs_the_after_class_side_without_scripts,
    a_student_over_the_limit_is_warned_and_sees_why,
    a_class_list_is_uploaded_and_the_lists_download_as_xlsx,
    class_hours_set_at_start_count_the_limit_in_hours,
);

/// The `data-status` of the elements `selector` picks in `html`, in order.
fn statuses_of(html: &str, selector: &str) -> Vec<String> {
    let page = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(selector).unwrap();
    page.select(&selector)
        .filter_map(|el| el.value().attr("data-status").map(str::to_owned))
        .collect()
}

async fn check_in(app: &TestApp, student: u32, id: &str) {
    let browser = app.new_browser();
    app.log_in_with(
        &browser,
        &format!("demo_student_{student}"),
        DEMO_PASSWORD,
        "/",
    )
    .await;
    let code = app.code(id);
    app.post_form(&browser, "check_in", &[("session_id", id), ("code", &code)])
        .await;
}

async fn class_hours_set_at_start_count_the_limit_in_hours(app: TestApp) {
    app.log_in("demo_teacher_9", DEMO_PASSWORD, "/").await;
    let start = |hours: &'static str| {
        let app = &app;
        async move {
            app.post_form(
                &app.client,
                "start_session",
                &[
                    ("lesson_name", "Laboratuvar"),
                    ("duration", "10"),
                    ("security", "2"),
                    ("class_hours", hours),
                ],
            )
            .await
        }
    };
    // Not a number from 1 to 12: refused, no session started.
    for bad in ["üç", "0", "13"] {
        let back = start(bad).await;
        assert_eq!(back, "/teach?error=invalid", "{bad}");
    }
    let teach = app.page("/teach", &[]).await.1;
    assert!(marked(&teach, "active-session").is_none(), "{teach}");
    // A three-hour lab: the course now counts its limit in class hours.
    let to = start("3").await;
    let id = to.strip_prefix("/live/").expect("the live page").to_owned();
    check_in(&app, 41, &id).await;
    app.post_form(&app.client, "finish_session", &[("session_id", &id)])
        .await;
    sweep(&app).await;
    let course = first_course(&app).await;
    let grid = app.page(&format!("/courses/{course}"), &[]).await.1;
    let limit = marked(&grid, "limit").unwrap();
    assert_eq!(limit.attr("data-by-hours"), Some("true"));
    // 30% of 14 planned three-hour sessions: 12 hours.
    assert!(
        limit.text.contains("ders saati") && limit.text.contains("12"),
        "{}",
        limit.text
    );
    let res = app.get(&format!("/courses/{course}/grid.csv"), &[]).await;
    let rows = csv_rows(
        &downloaded(res, "text/csv; charset=utf-8", "course-", "csv").await,
        b',',
    );
    assert!(
        rows[0].contains(&"Devamsızlık (saat)".to_owned()),
        "{rows:?}"
    );
}

/// The first course's id on the teacher's course list.
async fn first_course(app: &TestApp) -> String {
    let list = app.page("/courses", &[]).await.1;
    let page = scraper::Html::parse_document(&list);
    let row = scraper::Selector::parse("table[data-testid=courses] tbody tr").unwrap();
    page.select(&row)
        .next()
        .and_then(|r| r.value().attr("data-id"))
        .expect("a course on the list")
        .to_owned()
}

async fn a_teacher_runs_the_after_class_side_without_scripts(app: TestApp) {
    // Last week: the class of three.
    past_session(&app, "demo_teacher_9", &[31, 32, 33]).await;
    app.env.advance(chrono::Duration::days(7));
    // A week later, late after 5 minutes.
    app.log_in("demo_teacher_9", DEMO_PASSWORD, "/").await;
    let to = app
        .post_form(
            &app.client,
            "start_session",
            &[
                ("lesson_name", "Veri <b>Yapıları</b>"),
                ("duration", "10"),
                ("security", "2"),
                ("rotate", "on"),
                ("late_after", "5"),
            ],
        )
        .await;
    let id = to.strip_prefix("/live/").expect("the live page").to_owned();
    check_in(&app, 31, &id).await;
    // The projector view: the code, the course, the teacher and the date, no student list,
    // and a reload every 10 s for a browser without the script.
    let projector = app.page(&format!("{to}?projector=1"), &[]).await.1;
    assert!(marked(&projector, "projector").is_some());
    assert_eq!(marked(&projector, "code").unwrap().text, app.code(&id));
    assert!(projector.contains("DEMO ÖĞRETMEN 9"), "{projector}");
    assert!(projector.contains(r#"<meta http-equiv="refresh" content="10">"#));
    assert!(marked(&projector, "students").is_none());
    app.env.advance(chrono::Duration::minutes(6));
    check_in(&app, 32, &id).await;

    let live = app.page(&to, &[]).await.1;
    assert_eq!(
        statuses_of(&live, "ul[data-testid=students] li"),
        ["present", "late"]
    );
    assert!(
        live.contains(r#"data-number="demo_student_33""#),
        "33 is not here yet: {live}"
    );
    // A status that is not one, or an excuse without a reason, changes nothing.
    for form in [
        [("status", "failed"), ("reason", "Doktor raporu var")],
        [("status", "excused"), ("reason", "")],
    ] {
        let mut fields = vec![("session_id", id.as_str()), ("student", "demo_student_33")];
        fields.extend(form);
        let back = app.post_form(&app.client, "mark_student", &fields).await;
        assert!(back.contains("error="), "{back}");
    }
    let live = app.page(&to, &[]).await.1;
    assert_eq!(statuses_of(&live, "ul[data-testid=students] li").len(), 2);
    let back = app
        .post_form(
            &app.client,
            "mark_student",
            &[
                ("session_id", &id),
                ("student", "demo_student_33"),
                ("status", "excused"),
                ("reason", "Doktor raporu var"),
            ],
        )
        .await;
    assert_eq!(back, to);
    let live = app.page(&to, &[]).await.1;
    assert_eq!(
        statuses_of(&live, "ul[data-testid=students] li"),
        ["present", "late", "excused"]
    );
    assert!(live.contains("Doktor raporu var"), "{live}");
    app.post_form(&app.client, "finish_session", &[("session_id", &id)])
        .await;
    sweep(&app).await;

    // The course list and the grid.
    let list = app.page("/courses", &[]).await.1;
    assert_eq!(
        marked(&list, "course-sessions").map(|m| m.text),
        Some("2".into())
    );
    assert_eq!(
        marked(&list, "course-class-size").map(|m| m.text),
        Some("3".into())
    );
    let course = first_course(&app).await;
    let grid = app.page(&format!("/courses/{course}"), &[]).await.1;
    assert_eq!(
        statuses_of(&grid, "tr[data-testid=grid-row] td.cell"),
        [
            "present", "present", "present", "late", "present", "excused"
        ]
    );
    assert!(
        grid.contains(">G<") && grid.contains(">İ<"),
        "letters: {grid}"
    );
    assert!(marked(&grid, "chart").is_some());

    // Settings: a malformed value changes nothing; a good one is saved.
    let back = app
        .post_form(
            &app.client,
            "set_course_settings",
            &[
                ("course_id", &course),
                ("absence_limit", "otuz"),
                ("planned_sessions", "14"),
                ("late_counts", "half"),
            ],
        )
        .await;
    assert!(back.contains("error="), "{back}");
    let back = app
        .post_form(
            &app.client,
            "set_course_settings",
            &[
                ("course_id", &course),
                ("absence_limit", "20"),
                ("planned_sessions", "10"),
                ("late_counts", "half"),
            ],
        )
        .await;
    assert_eq!(back, format!("/courses/{course}?done=saved"));
    let grid = app.page(&back, &[]).await.1;
    let limit = marked(&grid, "limit").unwrap().text;
    assert!(limit.contains("%20") && limit.contains("10"), "{limit}");
    // Student 32 was late once: half an absence now.
    let page = scraper::Html::parse_document(&grid);
    let row = scraper::Selector::parse(
        r#"tr[data-number="demo_student_32"] [data-testid=grid-absences]"#,
    )
    .unwrap();
    assert_eq!(
        page.select(&row)
            .next()
            .map(|e| e.text().collect::<String>()),
        Some("0.5".into())
    );

    // The grid as CSV, parsed back.
    let res = app
        .get(&format!("/courses/{course}/grid.csv?sep=semicolon"), &[])
        .await;
    let bytes = downloaded(res, "text/csv; charset=utf-8", "course-", "csv").await;
    let rows = csv_rows(&bytes, b';');
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(rows[0][0..2], ["Okul numarası", "Ad soyad"]);
    assert_eq!(
        rows[0][4..],
        ["Katılım oranı (%)", "Devamsızlık", "Devamsızlık hakkı"]
    );
    let r32 = rows.iter().find(|r| r[0] == "demo_student_32").unwrap();
    assert_eq!(r32[2..], ["K", "G", "100", "0.5", "2"]);

    // After class, the teacher changes a status with a reason; it shows on the session page.
    app.env.advance(chrono::Duration::minutes(10));
    let back = app
        .post_form(
            &app.client,
            "set_past_status",
            &[
                ("session_id", &id),
                ("student", "demo_student_33"),
                ("status", "absent"),
                ("reason", "Rapor geçersiz çıktı"),
            ],
        )
        .await;
    assert_eq!(back, format!("/history/{id}?done=saved"));
    let past = app.page(&format!("/history/{id}"), &[]).await.1;
    assert_eq!(
        statuses_of(&past, "ul[data-testid=students] li"),
        ["present", "late", "absent"]
    );

    // The admin reads the student's changes in the audit log and downloads them.
    let admin = app.new_browser();
    app.log_in_with(&admin, ADMIN, DEMO_PASSWORD, "/").await;
    let page = app.page_as(&admin, "/admin?student=demo_student_33").await;
    assert!(marked(&page, "audit-log").is_some(), "{page}");
    let res = admin
        .get(format!(
            "{}/admin/audit.csv?student=demo_student_33",
            app.base
        ))
        .send()
        .await
        .unwrap();
    let rows = csv_rows(
        &downloaded(res, "text/csv; charset=utf-8", "audit-", "csv").await,
        b',',
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[1][3], "demo_student_33");
    assert_eq!(
        (rows[1][7].as_str(), rows[1][8].as_str()),
        ("İzinli/raporlu", "Gelmedi")
    );
    assert_eq!(rows[1][9], "Rapor geçersiz çıktı");
    assert_eq!(
        (rows[2][8].as_str(), rows[2][9].as_str()),
        ("İzinli/raporlu", "Doktor raporu var")
    );
    let res = app
        .client
        .get(format!("{}/admin/audit.csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "a teacher is no admin");

    // Another teacher and nobody logged in get no grid.
    let other = app.new_browser();
    app.log_in_with(&other, "demo_teacher_8", DEMO_PASSWORD, "/")
        .await;
    let res = other
        .get(format!("{}/courses/{course}/grid.csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!res.text().await.unwrap().contains("demo_student_31"));
    let page = app.page_as(&other, &format!("/courses/{course}")).await;
    assert!(!page.contains("demo_student_31"), "{page}");
    let res = app
        .new_browser()
        .get(format!("{}/courses/{course}/grid.csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn a_student_over_the_limit_is_warned_and_sees_why(app: TestApp) {
    past_session(&app, "demo_teacher_9", &[41, 42]).await;
    app.env.advance(chrono::Duration::days(7));
    // The second week: 41 does not come, 42 does.
    let id = start_as_teacher(&app, "demo_teacher_9").await;
    check_in(&app, 42, &id).await;
    app.post_form(&app.client, "finish_session", &[("session_id", &id)])
        .await;
    sweep(&app).await;
    let course = first_course(&app).await;
    // Ten planned sessions at 10%: one absence allowed, so 41 is one away from the limit.
    app.post_form(
        &app.client,
        "set_course_settings",
        &[
            ("course_id", &course),
            ("absence_limit", "10"),
            ("planned_sessions", "10"),
            ("late_counts", "present"),
        ],
    )
    .await;
    let student = app.new_browser();
    app.log_in_with(&student, "demo_student_41", DEMO_PASSWORD, "/")
        .await;
    let me = app.page_as(&student, "/me").await;
    let absences = marked(&me, "absences").expect("absences shown");
    assert_eq!(
        (absences.attr("data-absences"), absences.attr("data-left")),
        (Some("1"), Some("0"))
    );
    assert!(
        marked(&me, "limit-warning")
            .unwrap()
            .text
            .contains("bir devamsızlık daha"),
        "{me}"
    );
    // The teacher removes 41 from the first week too, with a reason: over the limit now.
    let first = app.page("/history", &[]).await.1;
    let page = scraper::Html::parse_document(&first);
    let rows = scraper::Selector::parse("table[data-testid=past-sessions] tbody tr").unwrap();
    let oldest = page
        .select(&rows)
        .next_back()
        .and_then(|r| r.value().attr("data-id"))
        .unwrap()
        .to_owned();
    app.post_form(
        &app.client,
        "remove_past_student",
        &[
            ("session_id", &oldest),
            ("student", "demo_student_41"),
            ("reason", "Arkadaşı yerine okuttu"),
        ],
    )
    .await;
    let me = app.page_as(&student, "/me").await;
    assert!(
        marked(&me, "limit-warning")
            .unwrap()
            .text
            .contains("sınırını aştınız"),
        "{me}"
    );
    assert!(
        marked(&me, "teacher-note")
            .unwrap()
            .text
            .contains("Arkadaşı yerine okuttu")
    );
    // 41 appeals the second week's absence; a second appeal waits for the first.
    let back = app
        .post_form(
            &student,
            "appeal_record",
            &[
                ("session_id", &id),
                ("reason", "Derse geldim, kart okumadı"),
            ],
        )
        .await;
    assert_eq!(back, "/me?done=saved");
    let me = app.page_as(&student, "/me").await;
    assert_eq!(
        marked(&me, "appeal").unwrap().attr("data-state"),
        Some("open")
    );
    let back = app
        .post_form(
            &student,
            "appeal_record",
            &[
                ("session_id", &id),
                ("reason", "Bir daha yazıyorum, geldim"),
            ],
        )
        .await;
    assert_eq!(back, "/me?error=appeal_open");
    assert!(
        app.page_as(&student, &back)
            .await
            .contains("bekleyen bir itirazınız var")
    );
    // The teacher sees it on the course page; another teacher may not answer it.
    let page = app.page(&format!("/courses/{course}"), &[]).await.1;
    let html = scraper::Html::parse_document(&page);
    let open = scraper::Selector::parse(r#"li.appeal[data-state="open"] input[name="appeal_id"]"#)
        .unwrap();
    let appeal_id = html
        .select(&open)
        .next()
        .and_then(|i| i.value().attr("value"))
        .expect("an open appeal with its answer form")
        .to_owned();
    let intruder = app.new_browser();
    app.log_in_with(&intruder, "demo_teacher_8", DEMO_PASSWORD, "/")
        .await;
    let answer = [
        ("course_id", course.as_str()),
        ("appeal_id", appeal_id.as_str()),
        ("decision", "accept"),
        ("status", "present"),
    ];
    let (status, _) = app.call_as(&intruder, "answer_appeal", &answer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let back = app.post_form(&app.client, "answer_appeal", &answer).await;
    assert_eq!(back, format!("/courses/{course}?done=saved"));
    let me = app.page_as(&student, "/me").await;
    assert_eq!(
        marked(&me, "appeal").unwrap().attr("data-state"),
        Some("accepted")
    );
    assert_eq!(
        marked(&me, "absences").unwrap().attr("data-absences"),
        Some("1"),
        "only the removed week counts now"
    );

    // The other student is fine: no warning.
    let other = app.new_browser();
    app.log_in_with(&other, "demo_student_42", DEMO_PASSWORD, "/")
        .await;
    assert!(marked(&app.page_as(&other, "/me").await, "limit-warning").is_none());
}

/// Posts the class list form with `file` as a browser does; the answer.
async fn upload(app: &TestApp, lesson: &str, file: Vec<u8>) -> reqwest::Response {
    try_upload(app, lesson, file).await.expect("an answer")
}

/// [`upload`], `None` when the server closed the connection before the body was sent.
async fn try_upload(app: &TestApp, lesson: &str, file: Vec<u8>) -> Option<reqwest::Response> {
    let form = reqwest::multipart::Form::new()
        .text("lesson_name", lesson.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::bytes(file).file_name("sinif.csv"),
        );
    app.client
        .post(format!("{}/api/import_class_list", app.base))
        .header(header::ACCEPT, "text/html")
        .multipart(form)
        .send()
        .await
        .map_err(|e| assert!(e.is_request(), "{e}"))
        .ok()
}

/// The cells of the first sheet of an XLSX download named `name`..., as text.
async fn xlsx_cells(res: reqwest::Response, name: &str) -> Vec<Vec<String>> {
    use calamine::Reader;
    let content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let bytes = downloaded(res, content_type, name, "xlsx").await;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

async fn a_class_list_is_uploaded_and_the_lists_download_as_xlsx(app: TestApp) {
    app.log_in("demo_teacher_3", DEMO_PASSWORD, "/").await;
    let lesson = "Veri <b>Yapıları</b>";
    let file = "Numara,Ad Soyad\ndemo_student_51,Elif Kaya\ndemo_student_52,=HYPERLINK(\"x\")\n";
    let res = upload(&app, lesson, file.as_bytes().to_vec()).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let to = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(to.ends_with("?done=imported&listed=2&added=2"), "{to}");
    let page = app.page(&to, &[]).await.1;
    assert_eq!(
        marked(&page, "imported").unwrap().attr("data-added"),
        Some("2")
    );
    // A bad row: back to the courses with the row named, nothing added.
    let res = upload(&app, lesson, b"demo_student_53,Ali\n53 53,Veli\n".to_vec()).await;
    let back = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(back, "/courses?error=import_row&retry=2");
    assert!(app.page(&back, &[]).await.1.contains("Listenin 2. satırı"));
    // Too large: refused before the body is read, so the server may close the connection while
    // the client still writes; either way nothing is imported.
    if let Some(res) = try_upload(&app, lesson, vec![b'1'; 600 * 1024]).await {
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    let list = app.page("/courses", &[]).await.1;
    assert_eq!(
        marked(&list, "course-class-size").map(|m| m.text),
        Some("2".into())
    );

    // A session where one of the two comes: the other is recorded absent.
    let id = past_session(&app, "demo_teacher_3", &[51]).await;
    let rows = xlsx_cells(
        app.get(&format!("/history/{id}/list.xlsx"), &[]).await,
        "attendance-",
    )
    .await;
    assert_eq!(rows[0][..3], ["Okul numarası", "Ad soyad", "Durum"]);
    assert_eq!(
        rows[1][..3],
        ["demo_student_51", "Demo Öğrenci 51", "Katıldı"]
    );
    assert_eq!(
        rows[2][..3],
        ["demo_student_52", "=HYPERLINK(\"x\")", "Gelmedi"]
    );
    let course = first_course(&app).await;
    let rows = xlsx_cells(
        app.get(
            &format!("/courses/{course}/grid.xlsx"),
            &[("accept-language", "en")],
        )
        .await,
        "course-",
    )
    .await;
    assert_eq!(rows[0][0], "School number");
    let r52 = rows.iter().find(|r| r[0] == "demo_student_52").unwrap();
    assert_eq!(r52[2..], ["A", "0", "1", "4"]);
    // Another teacher gets no workbook.
    let other = app.new_browser();
    app.log_in_with(&other, "demo_teacher_8", DEMO_PASSWORD, "/")
        .await;
    let res = other
        .get(format!("{}/courses/{course}/grid.xlsx", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
