//! Logging in and out with plain forms, login sessions (new id at login, removed at logout, idle limits by role), the role every server function needs, and the login limits.

mod common;

use common::*;
use reqwest::{StatusCode, header};

attn::on_both_backends!(
    spawn_app;
    a_demo_teacher_logs_in_sees_todays_lessons_and_logs_out,
    a_wrong_password_shows_the_reason_on_the_login_page,
    each_login_gets_a_new_session_id_and_logout_removes_it_server_side,
    a_student_login_ends_after_10_idle_minutes_a_teacher_login_after_60,
    every_server_function_checks_the_role_it_needs,
    every_server_function_refuses_with_its_status_and_json_error,
    too_many_wrong_passwords_say_when_to_try_again,
    a_strangers_guesses_never_lock_a_student_out_of_their_own_phone,
    a_forged_forwarded_for_header_does_not_dodge_the_limit,
    a_join_link_visited_logged_out_comes_back_after_login,
    a_request_that_changes_nothing_writes_nothing_to_the_login_store,
);

async fn a_demo_teacher_logs_in_sees_todays_lessons_and_logs_out(app: TestApp) {
    // The demo timetable is built around the real time of the login.
    app.env.clock.set(chrono::Utc::now());
    assert_eq!(app.log_in("demo_teacher_1", DEMO_PASSWORD, "/").await, "/");
    let home = app.home().await;
    assert!(home.contains("DEMO ÖĞRETMEN 1"), "{home}");
    assert!(home.contains("Öğretim üyesi"));
    assert!(home.contains("Bugünkü dersleriniz"));
    assert!(
        home.contains("Demo Dersi 1"),
        "today's lesson is listed: {home}"
    );
    assert!(home.contains(r#"class="badge""#), "and suggested: {home}");

    let res = app
        .client
        .post(format!("{}/api/logout", app.base))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let home = app.home().await;
    assert_eq!(login_state(&home).as_deref(), Some("anonymous"));
    assert!(!home.contains("DEMO ÖĞRETMEN 1"));
}

async fn a_wrong_password_shows_the_reason_on_the_login_page(app: TestApp) {
    let to = app.log_in("demo_student_4", "yanlış", "/join/abc").await;
    assert_eq!(to, "/login?error=wrong_credentials&next=/join/abc");
    let (status, html) = app.page(&to, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Kullanıcı adı ya da şifre yanlış."), "{html}");
    assert!(html.contains(r#"name="next" value="/join/abc""#), "{html}");
    let (_, html) = app.page(&to, &[("accept-language", "en")]).await;
    assert!(html.contains("Wrong username or password."));
    assert_eq!(login_state(&app.home().await).as_deref(), Some("anonymous"));
}

async fn each_login_gets_a_new_session_id_and_logout_removes_it_server_side(app: TestApp) {
    let login = |user: &'static str| {
        let client = app.client.clone();
        let base = app.base.clone();
        async move {
            client
                .post(format!("{base}/api/login"))
                .header(header::ACCEPT, "text/html")
                .form(&[
                    ("school_number", user),
                    ("password", DEMO_PASSWORD),
                    ("next", "/"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let first = session_cookie(&login("demo_student_1").await).expect("a session cookie");
    assert!(first.contains("HttpOnly"), "{first}");
    assert!(first.contains("SameSite=Lax"), "{first}");
    assert!(
        !first.contains("Secure"),
        "not over plain http unless configured"
    );
    let second = session_cookie(&login("demo_student_2").await).expect("a session cookie");
    let id = |c: &str| c.split(';').next().unwrap().to_owned();
    assert_ne!(id(&first), id(&second), "a new id at every login");

    // A copy of the cookie is useless once logged out.
    let stolen = id(&second);
    app.call("logout", &[]).await;
    let html = app.page_with_cookie("/", &stolen).await;
    assert_eq!(login_state(&html).as_deref(), Some("anonymous"), "{html}");
}

async fn a_student_login_ends_after_10_idle_minutes_a_teacher_login_after_60(app: TestApp) {
    let student = app.new_browser();
    app.log_in_with(&student, "demo_student_9", DEMO_PASSWORD, "/")
        .await;
    app.log_in("demo_teacher_2", DEMO_PASSWORD, "/").await;
    let home_of = |client: &reqwest::Client| {
        let req = client.get(format!("{}/", app.base));
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let minutes = |m| app.env.clock.advance(chrono::Duration::minutes(m));

    minutes(9);
    assert!(
        home_of(&student).await.contains("Demo Öğrenci 9"),
        "9 minutes idle: still in"
    );
    minutes(9);
    assert!(
        home_of(&student).await.contains("Demo Öğrenci 9"),
        "activity restarts the count"
    );
    minutes(10);
    assert_eq!(
        login_state(&home_of(&student).await).as_deref(),
        Some("anonymous"),
        "10 idle minutes: out"
    );

    // The teacher was idle 28 minutes so far.
    minutes(31);
    assert!(
        app.home().await.contains("DEMO ÖĞRETMEN 2"),
        "59 minutes idle: still in"
    );
    minutes(60);
    assert_eq!(
        login_state(&app.home().await).as_deref(),
        Some("anonymous"),
        "60 idle minutes: out"
    );
}

async fn every_server_function_checks_the_role_it_needs(app: TestApp) {
    let id = uuid::Uuid::new_v4().to_string();
    // Anonymous.
    assert_eq!(
        app.call("current_user", &[]).await,
        (StatusCode::OK, "null".into())
    );
    let (status, body) = app.call("todays_lessons", &[]).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::UNAUTHORIZED, r#""LoginRequired""#)
    );
    let (status, _) = app.call("join_info", &[("session_id", &id)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A student.
    app.log_in("demo_student_3", DEMO_PASSWORD, "/").await;
    let (status, body) = app.call("current_user", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#""role":"student""#), "{body}");
    let (status, body) = app.call("todays_lessons", &[]).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::FORBIDDEN, r#""Forbidden""#)
    );
    let (status, body) = app.call("join_info", &[("session_id", &id)]).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::NOT_FOUND, r#""SessionNotFound""#)
    );
    let (status, body) = app.call("join_info", &[("session_id", "1 OR 1=1")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A teacher.
    app.log_in("demo_teacher_3", DEMO_PASSWORD, "/").await;
    let (status, body) = app.call("todays_lessons", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn too_many_wrong_passwords_say_when_to_try_again(app: TestApp) {
    for _ in 0..5 {
        let to = app.log_in("demo_student_5", "yanlış", "/").await;
        assert!(to.starts_with("/login?error=wrong_credentials"), "{to}");
    }
    let to = app.log_in("demo_student_5", DEMO_PASSWORD, "/").await;
    assert_eq!(to, "/login?error=rate_limited&retry=600&next=/");
    let (_, html) = app.page(&to, &[("accept-language", "en")]).await;
    assert!(
        html.contains("Too many attempts. Try again in 600 seconds."),
        "{html}"
    );
    app.env.clock.advance(chrono::Duration::minutes(10));
    assert_eq!(app.log_in("demo_student_5", DEMO_PASSWORD, "/").await, "/");
}

async fn a_forged_forwarded_for_header_does_not_dodge_the_limit(app: TestApp) {
    // Eight failures from this address (the per-address limit here), each claiming another.
    for n in 1..=8 {
        let res = app
            .client
            .post(format!("{}/api/login", app.base))
            .header(header::ACCEPT, "text/html")
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .form(&[
                ("school_number", format!("demo_student_{n}").as_str()),
                ("password", "x"),
            ])
            .send()
            .await
            .unwrap();
        let to = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
        assert!(to.contains("wrong_credentials"), "{to}");
    }
    let res = app
        .client
        .post(format!("{}/api/login", app.base))
        .header(header::ACCEPT, "text/html")
        .header("x-forwarded-for", "203.0.113.77")
        .form(&[
            ("school_number", "demo_student_20"),
            ("password", DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let to = res.headers()[header::LOCATION].to_str().unwrap();
    assert!(to.contains("error=rate_limited"), "{to}");
}

async fn a_join_link_visited_logged_out_comes_back_after_login(app: TestApp) {
    use attn::Clock;
    let now = app.env.clock.now();
    let session = attn::domain::LiveSession {
        id: uuid::Uuid::new_v4(),
        teacher_school_number: "demo_teacher_4".into(),
        teacher_full_name: "DEMO ÖĞRETMEN 4".into(),
        lesson_name: "Veri Yapıları".into(),
        ip_address: "127.0.0.1".into(),
        start_time: now,
        end_time: now + chrono::Duration::minutes(10),
        security: attn::domain::SecurityLevel::Network,
        rotate_code: true,
        late_after_minutes: None,
        class_hours: None,
        rechecks: Vec::new(),
        device_check: Default::default(),
    };
    app.env.live.create_session(&session, now).await.unwrap();
    let join = format!("/join/{}", session.id);

    let res = app.get(&join, &[]).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let to = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(to, format!("/login?next={join}"));
    let (_, html) = app.page(&to, &[]).await;
    assert!(
        html.contains(&format!(r#"name="next" value="{join}""#)),
        "{html}"
    );

    assert_eq!(
        app.log_in("demo_student_6", DEMO_PASSWORD, &join).await,
        join
    );
    let (status, html) = app.page(&join, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Veri Yapıları"), "{html}");
    assert!(html.contains("DEMO ÖĞRETMEN 4"));
    assert!(html.contains("10 dk"), "{html}");
}

/// Students' logins last 2 s here, teachers' an hour: short enough to let the session layer
/// itself end one within the test.
async fn spawn_app_with_two_second_student_logins(
    backend: attn::testing::Backend,
) -> Option<TestApp> {
    spawn_app_configured(backend, |config| {
        config.student_idle = std::time::Duration::from_secs(2);
        config.teacher_idle = std::time::Duration::from_secs(3600);
    })
    .await
}

attn::on_both_backends!(
    spawn_app_with_two_second_student_logins;
    the_session_layer_ends_each_login_after_its_roles_idle_limit,
);

/// Logs in as a browser without a cookie jar would; the login cookie as sent back.
async fn login_cookie(app: &TestApp, user: &str) -> (String, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .post(format!("{}/api/login", app.base))
        .header(header::ACCEPT, "text/html")
        .form(&[
            ("school_number", user),
            ("password", DEMO_PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let set_cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("attn_session="))
        .expect("a login cookie");
    let pair = set_cookie.split(';').next().unwrap().to_owned();
    (pair, set_cookie)
}

/// The home page's login state for a request carrying exactly `cookie`, and the cookie's
/// attributes if the answer sets it again.
async fn home_with(app: &TestApp, cookie: &str) -> (Option<String>, Option<String>) {
    let res = reqwest::Client::new()
        .get(format!("{}/", app.base))
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let renewed = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("attn_session="));
    (login_state(&res.text().await.unwrap()), renewed)
}

async fn the_session_layer_ends_each_login_after_its_roles_idle_limit(app: TestApp) {
    let (teacher, at_login) = login_cookie(&app, "demo_teacher_1").await;
    assert!(at_login.contains("Max-Age=3600"), "{at_login}");
    let (student, at_login) = login_cookie(&app, "demo_student_1").await;
    assert!(at_login.contains("Max-Age=2"), "{at_login}");
    // A request a minute later renews the cookie with the role's own limit, not the layer's
    // shortest.
    app.env.clock.advance(chrono::Duration::seconds(61));
    let (state, renewed) = home_with(&app, &teacher).await;
    assert_eq!(state.as_deref(), Some("logged-in"));
    let renewed = renewed.expect("the teacher's cookie is renewed");
    assert!(renewed.contains("Max-Age=3600"), "{renewed}");

    // Real seconds: the session layer and its store enforce this limit, not ATTN's clock.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (state, _) = home_with(&app, &student).await;
    assert_eq!(
        state.as_deref(),
        Some("anonymous"),
        "the student's login has expired"
    );
    let (state, _) = home_with(&app, &teacher).await;
    assert_eq!(state.as_deref(), Some("logged-in"), "the teacher's has not");
}

async fn a_strangers_guesses_never_lock_a_student_out_of_their_own_phone(app: TestApp) {
    // The student's phone: the login marks it with a long-lived, script-proof cookie.
    let phone = app.new_browser();
    let res = phone
        .post(format!("{}/api/login", app.base))
        .header(header::ACCEPT, "text/html")
        .form(&[
            ("school_number", "demo_student_6"),
            ("password", DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let known = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("attn_known="))
        .expect("the known-device cookie")
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Max-Age=31536000", "Path=/"] {
        assert!(known.contains(attribute), "{known}");
    }
    app.post_form(&phone, "logout", &[]).await;
    // A classmate on the same classroom address guesses at the number.
    let stranger = app.new_browser();
    for _ in 0..5 {
        let to = app
            .log_in_with(&stranger, "demo_student_6", "tahmin", "/")
            .await;
        assert!(to.contains("error=wrong_credentials"), "{to}");
    }
    let to = app
        .log_in_with(&stranger, "demo_student_6", DEMO_PASSWORD, "/")
        .await;
    assert!(
        to.contains("error=rate_limited"),
        "the stranger is paused: {to}"
    );
    // The student, on their own phone, from the same address, is not.
    assert_eq!(
        app.log_in_with(&phone, "demo_student_6", DEMO_PASSWORD, "/")
            .await,
        "/"
    );
}

/// A server function's arguments, as form fields.
type Args = &'static [(&'static str, &'static str)];

/// Who may call a server function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum May {
    /// Anyone logged in.
    LoggedIn,
    Teacher,
    Student,
    Admin,
    /// The teacher of the session named in the arguments.
    Owner,
}

/// Every server function of the README's table that needs someone logged in: who may call it,
/// and arguments it takes (`LIVE` and `PAST` stand for a running and a finished session of
/// the owner; an argument written `?name` may be left out).
const GUARDED: &[(&str, May, Args)] = &[
    ("todays_lessons", May::Teacher, &[]),
    ("join_info", May::LoggedIn, &[("session_id", "LIVE")]),
    (
        "find_sessions",
        May::LoggedIn,
        &[("?lesson", "Veri"), ("?teacher", "")],
    ),
    (
        "check_in",
        May::Student,
        &[("session_id", "LIVE"), ("?code", "000000")],
    ),
    ("face_check_available", May::Teacher, &[]),
    ("passkeys_available", May::Teacher, &[]),
    (
        "passkey_begin",
        May::Student,
        &[("session_id", "LIVE"), ("?code", "000000")],
    ),
    ("my_device", May::LoggedIn, &[]),
    (
        "allow_new_passkey",
        May::Owner,
        &[
            ("session_id", "LIVE"),
            ("student", "demo_student_1"),
            ("reason", "Yeni telefon aldı"),
        ],
    ),
    (
        "admin_allow_new_passkey",
        May::Admin,
        &[
            ("student", "demo_student_1"),
            ("reason", "Telefonu çalındı"),
        ],
    ),
    (
        "start_session",
        May::Teacher,
        &[
            ("lesson_name", "Fizik"),
            ("duration", "10"),
            ("security", "1"),
        ],
    ),
    ("active_session", May::Teacher, &[]),
    ("live_state", May::Owner, &[("session_id", "LIVE")]),
    ("start_recheck", May::Owner, &[("session_id", "LIVE")]),
    ("finish_session", May::Owner, &[("session_id", "LIVE")]),
    (
        "accept_student",
        May::Owner,
        &[("session_id", "LIVE"), ("student", "demo_student_1")],
    ),
    (
        "remove_student",
        May::Owner,
        &[
            ("session_id", "LIVE"),
            ("student", "demo_student_1"),
            ("reason", "Derste değildi"),
        ],
    ),
    (
        "add_student",
        May::Owner,
        &[("session_id", "LIVE"), ("school_number", "demo_student_2")],
    ),
    ("past_sessions", May::Teacher, &[("page", "1")]),
    ("past_session", May::Owner, &[("session_id", "PAST")]),
    (
        "add_past_student",
        May::Owner,
        &[("session_id", "PAST"), ("school_number", "demo_student_2")],
    ),
    (
        "remove_past_student",
        May::Owner,
        &[
            ("session_id", "PAST"),
            ("student", "demo_student_1"),
            ("reason", "Derste değildi, yerine başkası"),
        ],
    ),
    (
        "delete_past_session",
        May::Owner,
        &[("session_id", "PAST"), ("reason", "Yanlış derse açılmıştı")],
    ),
    ("my_attendance", May::Student, &[]),
    (
        "deleted_items",
        May::Admin,
        &[("?teacher", ""), ("?from", ""), ("?to", "")],
    ),
    ("restore_session", May::Admin, &[("session_id", "PAST")]),
    (
        "restore_record",
        May::Admin,
        &[("session_id", "PAST"), ("student", "demo_student_1")],
    ),
    ("stuck_sessions", May::Admin, &[]),
    ("retry_stuck_session", May::Admin, &[("session_id", "PAST")]),
    (
        "mark_student",
        May::Owner,
        &[
            ("session_id", "LIVE"),
            ("student", "demo_student_3"),
            ("status", "excused"),
            ("?reason", "Doktor raporu var"),
        ],
    ),
    (
        "set_past_status",
        May::Owner,
        &[
            ("session_id", "PAST"),
            ("student", "demo_student_1"),
            ("status", "late"),
            ("reason", "Derse yirmi dakika geç girdi"),
        ],
    ),
    ("courses", May::Teacher, &[]),
    (
        "course_grid",
        May::Owner,
        &[
            ("course_id", "COURSE"),
            ("?risk", ""),
            ("?from", ""),
            ("?to", ""),
            ("?sort", ""),
        ],
    ),
    (
        "appeal_record",
        May::Student,
        &[
            ("session_id", "PAST"),
            ("reason", "Derse geldim, kart okumadı"),
            ("?receipt", ""),
        ],
    ),
    (
        "verify_receipt",
        May::Teacher,
        &[("receipt", "ATTN1.e30.AAAA"), ("?session_id", "LIVE")],
    ),
    ("course_appeals", May::Owner, &[("course_id", "COURSE")]),
    (
        "add_listed_student",
        May::Owner,
        &[("course_id", "COURSE"), ("school_number", "demo_student_9")],
    ),
    (
        "audit_log",
        May::Admin,
        &[
            ("?teacher", ""),
            ("?student", ""),
            ("?lesson", ""),
            ("?from", ""),
            ("?to", ""),
        ],
    ),
    (
        "answer_appeal",
        May::Teacher,
        &[
            ("course_id", "COURSE"),
            ("appeal_id", "7f0e3b52-9d1c-4e1a-8f3a-2b6c1d0e9a47"),
            ("decision", "reject"),
            ("?status", ""),
            ("?answer", "Derste görülmedi, kabul edilmedi"),
        ],
    ),
    (
        "set_course_settings",
        May::Owner,
        &[
            ("course_id", "COURSE"),
            ("absence_limit", "30"),
            ("planned_sessions", "14"),
            ("late_counts", "half"),
        ],
    ),
];

async fn every_server_function_refuses_with_its_status_and_json_error(app: TestApp) {
    // The owner (on the app's own browser) has a finished session and a running one.
    let past = past_session(&app, "demo_teacher_1", &[1]).await;
    let live = start_as_teacher(&app, "demo_teacher_1").await;
    let anonymous = app.new_browser();
    let student = app.new_browser();
    app.log_in_with(&student, "demo_student_7", DEMO_PASSWORD, "/")
        .await;
    let other_teacher = app.new_browser();
    app.log_in_with(&other_teacher, "demo_teacher_2", DEMO_PASSWORD, "/")
        .await;
    let args = |form: &[(&'static str, &'static str)]| -> Vec<(&'static str, String)> {
        form.iter()
            .map(|(k, v)| {
                let k = k.trim_start_matches('?');
                let v = match *v {
                    "LIVE" => live.clone(),
                    "PAST" => past.clone(),
                    "COURSE" => attn::courses::course_id("demo_teacher_1", "Veri <b>Yapıları</b>")
                        .to_string(),
                    v => v.to_owned(),
                };
                (k, v)
            })
            .collect()
    };
    let refused = |status: StatusCode, body: &str| (status, body.to_owned());
    for (endpoint, may, table) in GUARDED {
        let required: Vec<&str> = table
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| !k.starts_with('?'))
            .collect();
        let form = args(table);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        // Nobody logged in.
        assert_eq!(
            app.call_as(&anonymous, endpoint, &form).await,
            refused(StatusCode::UNAUTHORIZED, r#""LoginRequired""#),
            "{endpoint}, anonymous"
        );
        // Someone logged in who may not.
        let wrong = match may {
            May::LoggedIn => None,
            May::Teacher | May::Admin => Some(&student),
            May::Student | May::Owner => Some(&other_teacher),
        };
        if let Some(wrong) = wrong {
            assert_eq!(
                app.call_as(wrong, endpoint, &form).await,
                refused(StatusCode::FORBIDDEN, r#""Forbidden""#),
                "{endpoint}, {may:?} only"
            );
        }
        if *may == May::Admin {
            assert_eq!(
                app.call_as(&other_teacher, endpoint, &form).await,
                refused(StatusCode::FORBIDDEN, r#""Forbidden""#),
                "{endpoint}, a teacher who is no admin"
            );
        }
        // Whoever may call it: a malformed session id, and each argument left out.
        let allowed = match may {
            May::Student | May::LoggedIn => &student,
            May::Teacher | May::Owner | May::Admin => &app.client,
        };
        if *may == May::Admin {
            app.log_in_with(&other_teacher, ADMIN, DEMO_PASSWORD, "/")
                .await;
        }
        let allowed = if *may == May::Admin {
            &other_teacher
        } else {
            allowed
        };
        if form.iter().any(|(k, _)| *k == "session_id") {
            let malformed: Vec<(&str, &str)> = form
                .iter()
                .map(|(k, v)| {
                    if *k == "session_id" {
                        (*k, "1 OR 1=1")
                    } else {
                        (*k, *v)
                    }
                })
                .collect();
            let (status, body) = app.call_as(allowed, endpoint, &malformed).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{endpoint}, malformed id: {body}"
            );
            assert!(body.contains("session_id"), "{endpoint}: {body}");
        }
        for left_out in &required {
            let rest: Vec<(&str, &str)> = form
                .iter()
                .filter(|(k, _)| k != left_out)
                .copied()
                .collect();
            let (status, body) = app.call_as(allowed, endpoint, &rest).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{endpoint} without {left_out}: {body}"
            );
            assert!(
                body.contains(left_out),
                "{endpoint} without {left_out}: {body}"
            );
        }
        if *may == May::Admin {
            app.log_in_with(&other_teacher, "demo_teacher_2", DEMO_PASSWORD, "/")
                .await;
        }
    }
    // The functions anyone may call still name what is missing.
    for (endpoint, form) in [
        (
            "login",
            vec![("school_number", "demo_student_7"), ("password", "x")],
        ),
        ("set_language", vec![("lang", "en"), ("return_to", "/")]),
        ("read_receipt", vec![("receipt", "ATTN1.e30.AAAA")]),
    ] {
        for (left_out, _) in &form {
            let rest: Vec<(&str, &str)> = form
                .iter()
                .filter(|(k, _)| k != left_out)
                .copied()
                .collect();
            let (status, body) = app.call_as(&anonymous, endpoint, &rest).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{endpoint} without {left_out}: {body}"
            );
            assert!(
                body.contains(left_out),
                "{endpoint} without {left_out}: {body}"
            );
        }
    }
    // A plain form that lost a field goes back to its page, which says so in words.
    let res = student
        .post(format!("{}/api/check_in", app.base))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, format!("{}/join/{live}?c=1", app.base))
        .form(&[("code", "000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let to = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(to, format!("/join/{live}?error=invalid"));
    let page = app.page_as(&student, &to).await;
    assert!(page.contains("Girdiğiniz bilgi geçerli değil."), "{page}");
}

/// What the login store holds for `cookie` (`attn_session=<id>`): the raw Redis value on the
/// services backend, `None` on the embedded one.
async fn stored_login(app: &TestApp, cookie: &str) -> Option<Vec<u8>> {
    let prefix = app.env.redis_prefix()?;
    let key = format!(
        "{prefix}:login:{}",
        cookie.trim_start_matches("attn_session=")
    );
    let redis = redis::Client::open(app.env.redis_url()?).unwrap();
    let mut conn = redis.get_multiplexed_async_connection().await.unwrap();
    let stored: Vec<u8> = redis::cmd("GET")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!stored.is_empty(), "the login is in Redis");
    Some(stored)
}

async fn a_request_that_changes_nothing_writes_nothing_to_the_login_store(app: TestApp) {
    let (teacher, _) = login_cookie(&app, "demo_teacher_3").await;
    let at_login = stored_login(&app, &teacher).await;
    // The session layer saves a login (and sends its cookie again) only when a request
    // changed it; pages read within a minute of the last mark change nothing.
    use attn::clock::Clock;
    let logged_in_at = app.env.clock.now();
    for second in [0, 20, 59] {
        app.env
            .clock
            .set(logged_in_at + chrono::Duration::seconds(second));
        let (state, renewed) = home_with(&app, &teacher).await;
        assert_eq!(state.as_deref(), Some("logged-in"));
        assert_eq!(renewed, None, "{second} s after login: nothing written");
    }
    assert_eq!(
        stored_login(&app, &teacher).await,
        at_login,
        "the store holds the login as saved at login"
    );

    // A minute after the last mark the login is marked again: written once, then quiet.
    app.env.clock.advance(chrono::Duration::seconds(61));
    let (state, renewed) = home_with(&app, &teacher).await;
    assert_eq!(state.as_deref(), Some("logged-in"));
    assert!(renewed.expect("marked again").contains("Max-Age=3600"));
    let marked = stored_login(&app, &teacher).await;
    if at_login.is_some() {
        assert_ne!(marked, at_login, "the new mark is in Redis");
    }
    let (_, renewed) = home_with(&app, &teacher).await;
    assert_eq!(renewed, None, "right after a mark: nothing written");
    assert_eq!(stored_login(&app, &teacher).await, marked);
}
