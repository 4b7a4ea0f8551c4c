//! Hostile requests through real HTTP: forms posted from another origin (another port of the
//! same host is the same site, so SameSite=Lax lets the cookie through) are refused with a
//! translated 403 and change nothing; this site's own pages and scripts without an Origin keep
//! working.

mod common;

use common::*;
use reqwest::{StatusCode, header};

attn::on_both_backends!(
    spawn_app;
    a_form_posted_from_another_origin_is_refused_and_changes_nothing,
    a_login_from_another_origin_is_refused,
    this_sites_pages_and_scripts_without_an_origin_still_post,
);

/// Posts `form` to `endpoint` as the app's browser, with the given source headers.
async fn post_from(
    app: &TestApp,
    endpoint: &str,
    form: &[(&str, &str)],
    source: &[(header::HeaderName, &str)],
) -> reqwest::Response {
    let mut req = app
        .client
        .post(format!("{}/api/{endpoint}", app.base))
        .header(header::ACCEPT, "text/html");
    for (name, value) in source {
        req = req.header(name.clone(), *value);
    }
    req.form(form).send().await.unwrap()
}

fn still_running(live: &str) -> bool {
    marked(live, "code").is_some()
}

async fn a_form_posted_from_another_origin_is_refused_and_changes_nothing(app: TestApp) {
    let id = start_as_teacher(&app, "demo_teacher_1").await;
    let port = app.base.rsplit(':').next().unwrap().parse::<u16>().unwrap();
    let other_port = format!("http://127.0.0.1:{}", port.wrapping_add(1));
    let sources: [&[(header::HeaderName, &str)]; 4] = [
        // A page on another port of the same host.
        &[(header::ORIGIN, &other_port)],
        // A sibling site.
        &[(header::ORIGIN, "https://evil.example.edu")],
        // No Origin, a foreign Referer.
        &[(header::REFERER, "https://evil.example.edu/trap.html")],
        // A sandboxed frame.
        &[(header::ORIGIN, "null")],
    ];
    for source in sources {
        let res = post_from(&app, "finish_session", &[("session_id", &id)], source).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{source:?}");
        let page = res.text().await.unwrap();
        assert!(page.contains("Bu istek başka bir siteden geldi."), "{page}");
        assert!(marked(&page, "foreign-origin").is_some());
        let live = app.page_as(&app.client, &format!("/live/{id}")).await;
        assert!(
            still_running(&live),
            "the session keeps running after {source:?}"
        );
    }
    // A script asking for JSON gets the documented JSON error.
    let res = app
        .client
        .post(format!("{}/api/finish_session", app.base))
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, "https://evil.example.edu")
        .form(&[("session_id", &id)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.text().await.unwrap(), r#""Forbidden""#);
    // The page follows the reader's language.
    let res = post_from(
        &app,
        "finish_session",
        &[("session_id", &id)],
        &[
            (header::ORIGIN, "https://evil.example.edu"),
            (header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9"),
        ],
    )
    .await;
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("This request came from another site.")
    );
}

async fn a_login_from_another_origin_is_refused(app: TestApp) {
    let res = post_from(
        &app,
        "login",
        &[
            ("school_number", "demo_student_1"),
            ("password", DEMO_PASSWORD),
            ("next", "/"),
        ],
        &[(header::ORIGIN, "https://evil.example.edu")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        res.headers().get(header::SET_COOKIE).is_none(),
        "no login cookie"
    );
    assert_eq!(login_state(&app.home().await).as_deref(), Some("anonymous"));
}

async fn this_sites_pages_and_scripts_without_an_origin_still_post(app: TestApp) {
    let id = start_as_teacher(&app, "demo_teacher_1").await;
    // The live page's own form: Origin is this site.
    let res = post_from(
        &app,
        "finish_session",
        &[("session_id", &id)],
        &[(header::ORIGIN, &app.base)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let live = app.page_as(&app.client, &format!("/live/{id}")).await;
    assert!(!still_running(&live), "{live}");
    // A script with neither header (documented in the README): still served.
    let other = start_as_teacher(&app, "demo_teacher_2").await;
    let res = post_from(&app, "finish_session", &[("session_id", &other)], &[]).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    // Referer of this site, no Origin.
    app.log_in("demo_teacher_3", DEMO_PASSWORD, "/").await;
    let referer = format!("{}/teach", app.base);
    let res = post_from(
        &app,
        "start_session",
        &[
            ("lesson_name", "Fizik"),
            ("duration", "10"),
            ("security", "1"),
        ],
        &[(header::REFERER, &referer)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(
        res.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/live/")
    );
}

attn::on_both_backends!(
    spawn_app;
    a_multipart_upload_without_a_boundary_is_a_clear_400,
);

async fn a_multipart_upload_without_a_boundary_is_a_clear_400(app: TestApp) {
    app.log_in("demo_student_1", DEMO_PASSWORD, "/").await;
    for content_type in [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; charset=utf-8",
    ] {
        let res = app
            .client
            .post(format!("{}/api/check_in_selfie", app.base))
            .header(header::ACCEPT, "text/html")
            .header(header::CONTENT_TYPE, content_type)
            .body("--x\r\nContent-Disposition: form-data; name=\"code\"\r\n\r\n123\r\n--x--\r\n")
            .send()
            .await
            .expect("an answer, not a dropped connection");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{content_type}");
        let page = res.text().await.unwrap();
        assert!(page.contains("Girdiğiniz bilgi geçerli değil."), "{page}");
    }
}

attn::on_both_backends!(
    spawn_app;
    text_with_control_characters_is_refused_with_a_clear_message_and_changes_nothing,
);

async fn text_with_control_characters_is_refused_with_a_clear_message_and_changes_nothing(
    app: TestApp,
) {
    app.log_in("demo_teacher_1", DEMO_PASSWORD, "/").await;
    // A NUL in a lesson name: PostgreSQL would refuse it at the sweep, after the class.
    for lesson in ["Fizik\0 Lab", "Fizik\u{1b}[31m", "Kimya\u{7}"] {
        let to = app
            .post_form(
                &app.client,
                "start_session",
                &[
                    ("lesson_name", lesson),
                    ("duration", "10"),
                    ("security", "1"),
                ],
            )
            .await;
        assert!(to.contains("error=control_characters"), "{lesson:?}: {to}");
        let page = app.page_as(&app.client, &to).await;
        assert!(
            page.contains("Yazdığınız metinde görünmeyen denetim karakterleri var"),
            "{page}"
        );
    }
    let (_, active) = app.call("active_session", &[]).await;
    assert_eq!(active, "null", "no session was started");

    // A reason may span lines, but may not hold a NUL.
    let id = start_as_teacher(&app, "demo_teacher_1").await;
    let student = app.new_browser();
    app.log_in_with(&student, "demo_student_1", DEMO_PASSWORD, "/")
        .await;
    assert_eq!(
        check_in_now(&app, &student, &id).await.as_deref(),
        Some("attended")
    );
    let remove_because = async |reason: &str| {
        app.post_form(
            &app.client,
            "remove_student",
            &[
                ("session_id", &id),
                ("student", "demo_student_1"),
                ("reason", reason),
            ],
        )
        .await
    };
    let to = remove_because("Sınıfta\0 değildi").await;
    assert!(to.contains("error=control_characters"), "{to}");
    let live = app.page_as(&app.client, &format!("/live/{id}")).await;
    assert_eq!(
        count(&live, "attended-count"),
        Some(1),
        "nobody was removed"
    );
    let to = remove_because("Sınıfta\r\ndeğildi").await;
    assert!(!to.contains("error="), "{to}");
}

attn::on_both_backends!(
    spawn_app;
    every_answer_carries_the_security_headers,
    pages_run_only_this_sites_scripts_and_those_with_the_answers_nonce,
);

attn::on_both_backends!(
    spawn_app_over_https;
    over_https_browsers_are_told_to_stay_on_https,
);

async fn spawn_app_over_https(backend: attn::testing::Backend) -> Option<TestApp> {
    spawn_app_configured(backend, |config| config.secure_cookies = true).await
}

async fn every_answer_carries_the_security_headers(app: TestApp) {
    for path in ["/", "/login", "/pkg/attn.css", "/no/such/page", "/readyz"] {
        let res = app.get(path, &[]).await;
        let h = res.headers();
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.ends_with("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(
            h[header::REFERRER_POLICY],
            "strict-origin-when-cross-origin",
            "{path}"
        );
        assert!(
            h.get(header::STRICT_TRANSPORT_SECURITY).is_none(),
            "plain http: no HSTS"
        );
    }
}

async fn over_https_browsers_are_told_to_stay_on_https(app: TestApp) {
    let res = app.get("/", &[]).await;
    assert_eq!(
        res.headers()[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000; includeSubDomains"
    );
}

/// Two deployments on one Redis with their own prefixes (staging and production, say): a login
/// on one is nobody on the other, and every key either writes carries its prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_sharing_a_redis_never_accept_each_others_logins() {
    attn::testing::within_a_minute(async {
        let (Some(staging), Some(production)) = (
            spawn_app(attn::testing::Backend::Services).await,
            spawn_app(attn::testing::Backend::Services).await,
        ) else {
            return;
        };
        // The demo admin logs in on staging.
        let (_, cookie) = staging.log_in_keeping_cookies(ADMIN).await;
        let home = async |app: &TestApp| login_state(&app.page_with_cookie("/", &cookie).await);
        assert_eq!(home(&staging).await.as_deref(), Some("logged-in"));
        assert_eq!(
            home(&production).await.as_deref(),
            Some("anonymous"),
            "staging's login cookie is nobody on production"
        );
        // The login lives under staging's prefix, and nowhere outside it.
        let prefix = staging.env.redis_prefix().unwrap();
        let redis = redis::Client::open(std::env::var("ATTN_TEST_REDIS_URL").unwrap()).unwrap();
        let mut conn = redis.get_multiplexed_async_connection().await.unwrap();
        let pair = cookie_pair(&cookie, "attn_session");
        let id = pair.trim_start_matches("attn_session=");
        let under_prefix: i64 = redis::cmd("EXISTS")
            .arg(format!("{prefix}:login:{id}"))
            .query_async(&mut conn)
            .await
            .unwrap();
        let bare: i64 = redis::cmd("EXISTS")
            .arg(id)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!((under_prefix, bare), (1, 0));
    })
    .await;
}

attn::on_both_backends!(
    spawn_app;
    a_script_calling_the_api_gets_the_refusal_with_its_status_and_json_error,
);

async fn a_script_calling_the_api_gets_the_refusal_with_its_status_and_json_error(app: TestApp) {
    let id = start_as_teacher(&app, "demo_teacher_1").await;
    // Another teacher tries to end it through the API.
    let (status, body) = {
        app.log_in("demo_teacher_2", DEMO_PASSWORD, "/").await;
        app.call("finish_session", &[("session_id", &id)]).await
    };
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::FORBIDDEN, r#""Forbidden""#)
    );
    let (status, body) = app
        .call("finish_session", &[("session_id", "not-a-uuid")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body, r#"{"Invalid":{"field":"session_id"}}"#);
    // A student with a wrong code.
    app.log_in("demo_student_1", DEMO_PASSWORD, "/").await;
    let (status, body) = app
        .call("check_in", &[("session_id", &id), ("code", "000000")])
        .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::BAD_REQUEST, r#""CodeExpired""#)
    );
    // A wrong password.
    let (status, body) = app
        .call(
            "login",
            &[
                ("school_number", "demo_student_2"),
                ("password", "wrong"),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::BAD_REQUEST, r#""WrongCredentials""#)
    );
    // The session was not touched.
    app.log_in("demo_teacher_1", DEMO_PASSWORD, "/").await;
    let live = app.page_as(&app.client, &format!("/live/{id}")).await;
    assert!(marked(&live, "code").is_some(), "still running");
}

attn::on_both_backends!(
    spawn_app;
    bodies_larger_than_their_form_could_send_are_refused_before_they_are_read,
);

async fn bodies_larger_than_their_form_could_send_are_refused_before_they_are_read(app: TestApp) {
    // A login form of 100 KB: no form of ATTN sends that.
    let big = "x".repeat(100 * 1024);
    let res = app
        .client
        .post(format!("{}/api/login", app.base))
        .header(header::ACCEPT, "text/html")
        .form(&[
            ("school_number", "demo_student_1"),
            ("password", big.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Gönderilen bilgi çok büyük")
    );
    assert_eq!(login_state(&app.home().await).as_deref(), Some("anonymous"));
    // The selfie form may carry its photo (8 MB at most): 2 MB passes the limit and reaches
    // the check (which then judges the photo).
    app.log_in("demo_student_1", DEMO_PASSWORD, "/").await;
    // `post_selfie` checks the answer is the form's redirect (302), not a refusal by size.
    let zeros = vec![0u8; 2 * 1024 * 1024];
    let nil = "00000000-0000-0000-0000-000000000000";
    post_selfie(&app, &app.client, nil, "123456", zeros, "a.jpg").await;
}

/// The nonce a page's Content-Security-Policy allows inline scripts with.
fn csp_nonce(res: &reqwest::Response) -> String {
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    for directive in [
        "default-src 'self'",
        "script-src 'self' 'nonce-",
        "'wasm-unsafe-eval'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    csp.split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap()
        .to_owned()
}

async fn pages_run_only_this_sites_scripts_and_those_with_the_answers_nonce(app: TestApp) {
    let id = start_as_teacher(&app, "demo_teacher_2").await;
    // The live page hydrates (inline module script); the home page does not.
    for path in [format!("/live/{id}"), "/".to_owned(), "/login".to_owned()] {
        let res = app.get(&path, &[]).await;
        let nonce = csp_nonce(&res);
        let html = res.text().await.unwrap();
        let page = scraper::Html::parse_document(&html);
        let scripts = scraper::Selector::parse("script").unwrap();
        for script in page.select(&scripts) {
            let el = script.value();
            match el.attr("src") {
                Some(src) => assert!(src.starts_with('/'), "{path}: {src}"),
                None => assert_eq!(
                    el.attr("nonce"),
                    Some(nonce.as_str()),
                    "{path}: {}",
                    script.html()
                ),
            }
        }
        if path.starts_with("/live/") {
            assert!(
                html.contains(&format!("nonce=\"{nonce}\"")),
                "the hydration script"
            );
        }
    }
    // A new nonce for every answer.
    let one = csp_nonce(&app.get("/", &[]).await);
    let two = csp_nonce(&app.get("/", &[]).await);
    assert_ne!(one, two);
}

attn::on_both_backends!(
    spawn_app_with_short_deadlines;
    a_connection_that_sends_its_headers_or_body_too_slowly_is_let_go,
);

async fn spawn_app_with_short_deadlines(backend: attn::testing::Backend) -> Option<TestApp> {
    spawn_app_configured(backend, |config| {
        config.header_read = std::time::Duration::from_secs(1);
        config.body_idle = std::time::Duration::from_secs(1);
    })
    .await
}

/// Sends `start` on a new connection and waits up to five seconds: what the server answered
/// (possibly nothing) before it closed the connection, or `None` if it kept it open.
async fn answer_to(app: &TestApp, start: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream.write_all(start.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await;
    closed
        .ok()
        .map(|_| String::from_utf8_lossy(&answer).into_owned())
}

async fn a_connection_that_sends_its_headers_or_body_too_slowly_is_let_go(app: TestApp) {
    let host = app.base.trim_start_matches("http://").to_owned();
    // Headers begun and never finished (a slow-header attack): closed after the deadline.
    let started = std::time::Instant::now();
    let answer = answer_to(&app, &format!("GET / HTTP/1.1\r\nHost: {host}\r\nX-Slow: ")).await;
    assert!(answer.is_some(), "the connection was closed");
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    // A body announced and never sent: given up after the idle limit, with an answer.
    let answer = answer_to(
        &app,
        &format!(
            "POST /api/find_sessions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nlesson="
        ),
    )
    .await
    .expect("the connection was closed");
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    // A request sent whole is served as ever.
    let answer = answer_to(
        &app,
        &format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    )
    .await
    .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
