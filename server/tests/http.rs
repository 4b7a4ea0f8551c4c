//! The real server on a random port, on both backends: health and readiness, the home page in
//! both languages before any script runs, the language switch, unknown pages.

use std::net::SocketAddr;

use attn::Config;
use attn::testing::{Backend, TestEnv};
use leptos::prelude::LeptosOptions;
use reqwest::{StatusCode, header};

struct TestApp {
    base: String,
    client: reqwest::Client,
    env: TestEnv,
}

/// Key of the join codes in these tests.
const JOIN_SECRET: &str = "http-test-secret";

fn models_dir() -> std::path::PathBuf {
    std::env::var("ATTN_MODELS_DIR")
        .ok()
        .filter(|d| !d.is_empty())
        .map(Into::into)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models"))
}

/// The face check, loaded once for every app of this file; `None` without the models (unless
/// ATTN_TEST_REQUIRE_MODELS=1).
fn face_checker() -> Option<attn::face::FaceChecker> {
    static CHECKER: std::sync::OnceLock<Option<attn::face::FaceChecker>> =
        std::sync::OnceLock::new();
    CHECKER
        .get_or_init(|| {
            let required = std::env::var("ATTN_TEST_REQUIRE_MODELS").is_ok_and(|v| v == "1");
            match attn::face::FaceChecker::load(&models_dir(), 2, attn::face::DEFAULT_THRESHOLD) {
                Ok(checker) => Some(checker),
                Err(error) if required => panic!("the face models are required: {error}"),
                Err(_) => None,
            }
        })
        .clone()
}

/// The demo account named as admin in these tests.
const ADMIN: &str = "demo_teacher_10";

/// Password of the demo accounts in these tests.
const DEMO_PASSWORD: &str = "demo-şifre";

async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let env = TestEnv::new(backend).await?;
    let ctx = env.ctx(Config {
        demo_accounts: true,
        demo_password: DEMO_PASSWORD.into(),
        login_max_failures_per_ip: 8,
        join_secret: Some(JOIN_SECRET.into()),
        admins: vec![ADMIN.into()],
        demo_photo: Some(models_dir().join("testdata/obama.jpg")),
        ..Config::default()
    });
    let mut ctx = ctx;
    ctx.face = face_checker();
    let options = LeptosOptions::builder()
        .output_name("attn")
        .site_root("target/site")
        .build();
    let router = server::router(ctx, options)
        .await
        .expect("build the router");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        // A page that never finishes fails its test instead of holding up the run.
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap();
    Some(TestApp {
        base: format!("http://{addr}"),
        client,
        env,
    })
}

impl TestApp {
    /// GETs a page as a browser does.
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self
            .client
            .get(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html,application/xhtml+xml");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    async fn page(&self, path: &str, headers: &[(&str, &str)]) -> (StatusCode, String) {
        let res = self.get(path, headers).await;
        (res.status(), res.text().await.unwrap())
    }

    /// Posts the language form as a browser without scripts does.
    async fn switch_language(&self, lang: &str, return_to: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/api/set_language", self.base))
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .form(&[("lang", lang), ("return_to", return_to)])
            .send()
            .await
            .unwrap()
    }
}

impl TestApp {
    /// A browser of its own (its own cookies), on the same server.
    fn new_browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            // A page that never finishes fails its test instead of holding up the run.
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .unwrap()
    }

    /// Posts the login form as a browser does; returns where it sends the person.
    async fn log_in_with(
        &self,
        client: &reqwest::Client,
        user: &str,
        pass: &str,
        next: &str,
    ) -> String {
        let res = client
            .post(format!("{}/api/login", self.base))
            .header(header::ACCEPT, "text/html")
            .form(&[("school_number", user), ("password", pass), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND, "{user}");
        res.headers()[header::LOCATION].to_str().unwrap().to_owned()
    }

    async fn log_in(&self, user: &str, pass: &str, next: &str) -> String {
        self.log_in_with(&self.client, user, pass, next).await
    }

    /// Calls a server function as the page's script does; status and body.
    async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let res = self
            .client
            .post(format!("{}/api/{endpoint}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    }

    /// Posts a form as a browser does (following nothing); the redirect target.
    async fn post_form(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> String {
        let res = client
            .post(format!("{}/api/{endpoint}", self.base))
            .header(header::ACCEPT, "text/html")
            .form(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND, "{endpoint}");
        res.headers()[header::LOCATION].to_str().unwrap().to_owned()
    }

    async fn page_as(&self, client: &reqwest::Client, path: &str) -> String {
        client
            .get(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The join code shown now for `session`.
    fn code(&self, session: &str) -> String {
        use attn::Clock;
        attn::codes::JoinCodes::new(JOIN_SECRET.as_bytes().to_vec()).current(
            session.parse().unwrap(),
            true,
            self.env.clock.now(),
        )
    }

    async fn home(&self) -> String {
        self.page("/", &[]).await.1
    }
}

/// Runs a test, failing it (rather than the whole run hanging) if it takes over a minute.
async fn within_a_minute(test: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(std::time::Duration::from_secs(60), test)
        .await
        .expect("the test finished within a minute");
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    super::within_a_minute(async {
                        let app = super::spawn_app(attn::testing::Backend::Embedded).await.unwrap();
                        super::$name(app).await;
                    })
                    .await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn services() {
                    super::within_a_minute(async {
                        if let Some(app) = super::spawn_app(attn::testing::Backend::Services).await {
                            super::$name(app).await;
                        }
                    })
                    .await;
                }
            }
        )*
    };
}

on_both_backends!(
    health_and_readiness_answer,
    readiness_names_a_database_that_is_down,
    the_home_page_is_turkish_by_default_and_says_you_are_not_logged_in,
    the_browser_language_is_followed,
    the_language_switch_works_without_scripts_and_is_remembered,
    the_language_switch_never_redirects_off_site,
    an_unknown_page_is_a_translated_404,
    a_demo_teacher_logs_in_sees_todays_lessons_and_logs_out,
    a_wrong_password_shows_the_reason_on_the_login_page,
    each_login_gets_a_new_session_id_and_logout_removes_it_server_side,
    a_student_login_ends_after_10_idle_minutes_a_teacher_login_after_60,
    every_server_function_checks_the_role_it_needs,
    too_many_wrong_passwords_say_when_to_try_again,
    a_forged_forwarded_for_header_does_not_dodge_the_limit,
    a_join_link_visited_logged_out_comes_back_after_login,
    user_text_is_shown_as_text,
    a_teacher_starts_a_session_and_students_check_in_with_plain_forms,
    a_second_session_is_refused_with_a_link_to_the_running_one,
    an_old_code_is_refused_with_scan_again,
    other_teachers_and_students_cannot_touch_a_session,
    the_live_page_is_told_of_each_check_in_as_it_happens,
    a_student_finds_a_running_session_by_lesson_or_teacher,
    after_the_sweep_a_teacher_corrects_the_history_and_an_admin_restores,
    a_student_sees_their_attendance_rate,
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
    assert!(
        app.page_as(&same, &to)
            .await
            .contains("Yoklamaya katıldınız.")
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

/// Moves every finished session into the database, as the server's background sweep does.
async fn sweep(app: &TestApp) {
    let sweeper = attn::sweep::Sweeper::new(
        app.env.db.clone(),
        app.env.live.clone(),
        app.env.clock.clone(),
        std::time::Duration::from_secs(60),
    );
    assert_eq!(sweeper.sweep_once().await.unwrap().persisted, 1);
}

/// A finished session of `teacher` that `students` checked in to, swept into the database.
async fn past_session(app: &TestApp, teacher: &str, students: &[u32]) -> String {
    let id = start_as_teacher(app, teacher).await;
    let code = app.code(&id);
    for n in students {
        let browser = app.new_browser();
        app.log_in_with(&browser, &format!("demo_student_{n}"), DEMO_PASSWORD, "/")
            .await;
        app.post_form(
            &browser,
            "check_in",
            &[("session_id", &id), ("code", &code)],
        )
        .await;
    }
    app.post_form(&app.client, "finish_session", &[("session_id", &id)])
        .await;
    sweep(app).await;
    id
}

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

/// Starts a 10-minute network-checked session as the app's own client (a teacher); its id.
async fn start_as_teacher(app: &TestApp, teacher: &str) -> String {
    app.log_in(teacher, DEMO_PASSWORD, "/").await;
    let to = app
        .post_form(
            &app.client,
            "start_session",
            &[
                ("lesson_name", "Veri <b>Yapıları</b>"),
                ("duration", "10"),
                ("security", "2"),
                ("rotate", "on"),
            ],
        )
        .await;
    to.strip_prefix("/live/").expect("the live page").to_owned()
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
    assert!(live.contains("Henüz katılan yok."));

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
        assert!(page.contains("Yoklamaya katıldınız."), "{page}");
        assert!(
            !page.contains("Derse katıl<"),
            "no second button once attended"
        );
    }

    let live = app.page(&format!("/live/{id}"), &[]).await.1;
    for n in 1..=3 {
        assert!(live.contains(&format!("Demo Öğrenci {n}")), "{live}");
    }
    assert!(
        live.contains(">Katıldı: 3<") && live.contains(">Başarısız: 0<"),
        "{live}"
    );

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

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("attn_session="))
        .map(str::to_owned)
}

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
    assert!(home.contains("Giriş yapmadınız."));
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
    assert!(app.home().await.contains("Giriş yapmadınız."));
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
    let other = app.new_browser();
    let html = other
        .get(format!("{}/", app.base))
        .header(header::COOKIE, &stolen)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Giriş yapmadınız."), "{html}");
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
    assert!(
        home_of(&student).await.contains("Giriş yapmadınız."),
        "10 idle minutes: out"
    );

    // The teacher was idle 28 minutes so far.
    minutes(31);
    assert!(
        app.home().await.contains("DEMO ÖĞRETMEN 2"),
        "59 minutes idle: still in"
    );
    minutes(60);
    assert!(
        app.home().await.contains("Giriş yapmadınız."),
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
        html.contains("Too many attempts. Try again in (seconds): 600"),
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
    };
    app.env.live.create_session(&session, now).await.unwrap();
    app.log_in("demo_student_7", DEMO_PASSWORD, "/").await;
    let (_, html) = app.page(&format!("/join/{}", session.id), &[]).await;
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("&lt;script&gt;alert"), "{html}");
    assert!(!html.contains("<b>Hoca</b>"));
}

async fn health_and_readiness_answer(app: TestApp) {
    let (status, body) = app.page("/healthz", &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    let (status, body) = app.page("/readyz", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let face = if face_checker().is_some() {
        "ok"
    } else {
        "unavailable"
    };
    assert_eq!(
        body,
        format!(r#"{{"database":"ok","face_check":"{face}","live_store":"ok"}}"#)
    );
    // Without the face-check models the server is still ready, and says what it lacks.
    use axum::response::IntoResponse;
    let bare = app.env.ctx(Config::default());
    let answer = server::readyz(bare).await.into_response();
    assert_eq!(answer.status(), StatusCode::OK);
    let body = axum::body::to_bytes(answer.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(
        body,
        r#"{"database":"ok","face_check":"unavailable","live_store":"ok"}"#.as_bytes()
    );
}

async fn readiness_names_a_database_that_is_down(app: TestApp) {
    app.env.db.close().await;
    let (status, body) = app.page("/readyz", &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body.starts_with(r#"{"database":"unavailable","face_check":"#),
        "{body}"
    );
    let (status, _) = app.page("/healthz", &[]).await;
    assert_eq!(status, StatusCode::OK, "the process itself is still up");
}

async fn the_home_page_is_turkish_by_default_and_says_you_are_not_logged_in(app: TestApp) {
    let (status, html) = app.page("/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<html lang="tr">"#), "{html}");
    // In the first HTML, not filled in later by a script: phones without the script see it.
    let before_scripts = html.split("<template").next().unwrap();
    assert!(before_scripts.contains("Giriş yapmadınız."), "{html}");
    assert!(html.contains(">English</button>"));
    assert!(!html.contains("not logged in"));
}

async fn the_browser_language_is_followed(app: TestApp) {
    let (_, html) = app
        .page("/", &[("accept-language", "en-GB,en;q=0.9,tr;q=0.5")])
        .await;
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains("You are not logged in."));
    assert!(html.contains(">Türkçe</button>"));
    let (_, html) = app
        .page("/", &[("accept-language", "de-DE,de;q=0.9")])
        .await;
    assert!(
        html.contains("Giriş yapmadınız."),
        "unsupported languages fall back to Turkish"
    );
}

async fn the_language_switch_works_without_scripts_and_is_remembered(app: TestApp) {
    let res = app.switch_language("en", "/").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()[header::LOCATION], "/");
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("attn_lang=en;"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let (_, html) = app
        .page(
            "/",
            &[("cookie", "attn_lang=en"), ("accept-language", "tr-TR")],
        )
        .await;
    assert!(
        html.contains("You are not logged in."),
        "the choice beats the browser"
    );
}

async fn the_language_switch_never_redirects_off_site(app: TestApp) {
    for target in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
    ] {
        let res = app.switch_language("en", target).await;
        assert_eq!(res.headers()[header::LOCATION], "/", "{target}");
    }
}

async fn an_unknown_page_is_a_translated_404(app: TestApp) {
    let (status, html) = app.page("/no/such/page", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Sayfa bulunamadı."));
    let (_, html) = app
        .page("/no/such/page", &[("accept-language", "en")])
        .await;
    assert!(html.contains("Page not found."));
}
