//! Health, readiness, the home page in both languages before any script runs, the language switch, unknown pages, and how the site's files and pages travel (compressed, revalidated).

mod common;

use common::*;
use reqwest::{StatusCode, header};

attn::on_both_backends!(
    spawn_app;
    health_and_readiness_answer,
    readiness_names_a_database_that_is_down_and_check_ins_go_on,
    the_home_page_is_turkish_by_default_and_says_you_are_not_logged_in,
    the_browser_language_is_followed,
    the_language_switch_works_without_scripts_and_is_remembered,
    the_language_switch_never_redirects_off_site,
    metrics_are_not_served_unless_a_token_is_configured,
    an_unknown_page_is_a_translated_404,
    pages_travel_compressed_to_browsers_that_accept_it,
    the_sites_files_come_precompressed_and_are_revalidated,
    only_the_live_page_loads_the_browser_build,
);

attn::on_both_backends!(
    spawn_hashed_app;
    hashed_files_are_linked_and_kept_for_a_year,
);

attn::on_both_backends!(
    spawn_app_with_metrics;
    operators_read_metrics_with_their_token_and_nobody_else_does,
);

/// The token Prometheus shows in these tests.
const METRICS_TOKEN: &str = "scrape-me-7f3a";

async fn spawn_app_with_metrics(backend: attn::testing::Backend) -> Option<TestApp> {
    spawn_app_configured(backend, |config| {
        config.metrics_token = Some(METRICS_TOKEN.into());
    })
    .await
}

async fn metrics_with(app: &TestApp, authorization: Option<&str>) -> (StatusCode, String) {
    let mut request = app.client.get(format!("{}/metrics", app.base));
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    let res = request.send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn operators_read_metrics_with_their_token_and_nobody_else_does(app: TestApp) {
    for wrong in [None, Some("Bearer nope"), Some(METRICS_TOKEN)] {
        let (status, body) = metrics_with(&app, wrong).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{wrong:?}");
        assert!(!body.contains("attn_"), "{body}");
    }
    let id = start_as_teacher(&app, "demo_teacher_1").await;
    let old = app.code(&id);
    let student = app.new_browser();
    let join = format!("/join/{id}?c={old}");
    app.log_in_with(&student, "demo_student_1", DEMO_PASSWORD, &join)
        .await;
    assert_eq!(
        check_in_now(&app, &student, &id).await.as_deref(),
        Some("attended")
    );
    app.env.clock.advance(chrono::Duration::seconds(31));
    let late = app.new_browser();
    app.log_in_with(&late, "demo_student_2", DEMO_PASSWORD, "/")
        .await;
    app.post_form(&late, "check_in", &[("session_id", &id), ("code", &old)])
        .await;
    app.env.clock.advance(chrono::Duration::minutes(15));
    sweep(&app).await;

    let bearer = format!("Bearer {METRICS_TOKEN}");
    let (status, text) = metrics_with(&app, Some(&bearer)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    for line in [
        r#"attn_check_ins_total{outcome="attended"} 1"#,
        r#"attn_check_ins_total{outcome="refused"} 1"#,
        "attn_sweep_runs_total 1",
        "attn_sessions_persisted_total 1",
        "attn_sessions_set_aside_total 0",
        "attn_face_checks_waiting 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    assert!(
        text.contains(r#"attn_request_duration_seconds_count{method="POST",status="3xx"}"#),
        "the form posts were timed: {text}"
    );
    assert!(!text.contains("attn_store_errors_total{"), "{text}");
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
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    let durability = match app.env.backend {
        attn::testing::Backend::Embedded => "in-process".to_owned(),
        // The machine's Redis of the test run keeps nothing on disk, and readiness says so.
        attn::testing::Backend::Services | attn::testing::Backend::Cluster => {
            body["live_store_durability"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(
        body,
        serde_json::json!({
            "database": "ok",
            "face_check": face,
            "live_store": "ok",
            "live_store_durability": durability,
            "login_sessions": "ok",
            "sessions_set_aside": 0,
            "serves": "everything",
        })
    );
    assert!(
        durability == "in-process"
            || durability == "durable"
            || durability.starts_with("volatile: needs appendonly yes"),
        "{durability}"
    );
    // Without the face-check models the server is still ready, and says what it lacks.
    use axum::response::IntoResponse;
    let bare = app.env.ctx(attn::Config::default());
    let logins = server::sessions::connect(&bare.config, &bare.metrics)
        .await
        .unwrap();
    let answer = server::readyz(bare, logins).await.into_response();
    assert_eq!(answer.status(), StatusCode::OK);
    let body = axum::body::to_bytes(answer.into_body(), 1024)
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["face_check"], "unavailable");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["live_store"], "ok");
}

async fn readiness_names_a_database_that_is_down_and_check_ins_go_on(app: TestApp) {
    let id = start_as_teacher(&app, "demo_teacher_1").await;
    let student = app.new_browser();
    let join = format!("/join/{id}?c={}", app.code(&id));
    app.log_in_with(&student, "demo_student_1", DEMO_PASSWORD, &join)
        .await;
    app.env.db.close().await;
    let (status, body) = app.page("/readyz", &[]).await;
    // Still in the load balancer: running classes go on.
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["database"], "unavailable", "{body}");
    assert_eq!(body["serves"], "check-ins", "{body}");
    assert_eq!(
        check_in_now(&app, &student, &id).await.as_deref(),
        Some("attended"),
        "a check-in while the database is down"
    );
    // A student who logs in only now checks in too: logging in does not need the database.
    let latecomer = app.new_browser();
    let to = app
        .log_in_with(&latecomer, "demo_student_2", DEMO_PASSWORD, &join)
        .await;
    assert_eq!(to, join, "the login went through");
    assert_eq!(
        check_in_now(&app, &latecomer, &id).await.as_deref(),
        Some("attended"),
        "a student who logged in while the database is down"
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

fn gunzip(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("a gzip body");
    text
}

async fn pages_travel_compressed_to_browsers_that_accept_it(app: TestApp) {
    let plain = app.get("/login", &[]).await;
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    let plain = plain.text().await.unwrap();
    let packed = app.get("/login", &[("accept-encoding", "gzip")]).await;
    assert_eq!(packed.status(), StatusCode::OK);
    assert_eq!(packed.headers()[header::CONTENT_ENCODING], "gzip");
    let bytes = packed.bytes().await.unwrap();
    assert!(
        bytes.len() < plain.len(),
        "{} bytes compressed, {} plain",
        bytes.len(),
        plain.len()
    );
    assert!(gunzip(&bytes).contains(r#"name="school_number""#));
}

async fn the_sites_files_come_precompressed_and_are_revalidated(app: TestApp) {
    let url = format!("{}/pkg/attn.css", app.base);
    let res = app
        .client
        .get(&url)
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
    let modified = res.headers()[header::LAST_MODIFIED].clone();
    // The file made at build time, byte for byte: nothing is compressed per request.
    let sent = res.bytes().await.unwrap();
    let built = std::fs::read(site_root().join("pkg/attn.css.gz")).unwrap();
    assert_eq!(sent.as_ref(), built.as_slice());
    assert_eq!(gunzip(&sent), STYLE.repeat(50));

    let again = app
        .client
        .get(&url)
        .header(header::ACCEPT_ENCODING, "gzip")
        .header(header::IF_MODIFIED_SINCE, modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());
}

/// The `<head>` of a page as sent.
fn head(html: &str) -> &str {
    &html[..html.find("</head>").expect("a head")]
}

fn loads_wasm(html: &str) -> bool {
    let head = head(html);
    head.contains(".wasm") || head.contains("/pkg/attn.js")
}

async fn only_the_live_page_loads_the_browser_build(app: TestApp) {
    // What a student's phone opens: the QR link, the login page, the join page, their record.
    let session = start_as_teacher(&app, "demo_teacher_1").await;
    let live = app.page_as(&app.client, &format!("/live/{session}")).await;
    assert!(live.contains(r#"data-testid="join-url""#), "{live}");
    assert!(
        loads_wasm(&live),
        "the live page follows check-ins with the script"
    );

    let student = app.new_browser();
    let join = format!("/join/{session}?c={}", app.code(&session));
    let login = app.page_as(&student, &format!("/login?next={join}")).await;
    assert!(login.contains(r#"name="school_number""#));
    app.log_in_with(&student, "demo_student_1", DEMO_PASSWORD, &join)
        .await;
    let join_page = app.page_as(&student, &join).await;
    assert!(join_page.contains(r#"data-testid="lesson""#), "{join_page}");
    for (page, html) in [
        ("home", app.home().await),
        ("login", login),
        ("join", join_page),
        ("me", app.page_as(&student, "/me").await),
    ] {
        assert!(!loads_wasm(&html), "{page} loads no wasm: {}", head(&html));
        assert!(
            head(&html).contains(r#"href="/pkg/attn.css""#),
            "{page} links the style sheet"
        );
    }
}

async fn hashed_files_are_linked_and_kept_for_a_year(app: TestApp) {
    let name = format!("/pkg/attn.{STYLE_HASH}.css");
    let (_, html) = app.page("/login", &[]).await;
    assert!(
        head(&html).contains(&format!(r#"href="{name}""#)),
        "{}",
        head(&html)
    );
    let session = start_as_teacher(&app, "demo_teacher_1").await;
    let live = app.page_as(&app.client, &format!("/live/{session}")).await;
    assert!(
        head(&live).contains("/pkg/attn.0a1b2c.js"),
        "{}",
        head(&live)
    );
    assert!(
        head(&live).contains("/pkg/attn.3d4e5f.wasm"),
        "{}",
        head(&live)
    );

    let res = app
        .client
        .get(format!("{}{name}", app.base))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(
        res.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(gunzip(&res.bytes().await.unwrap()), STYLE.repeat(50));
    // A name that was never built is a 404, not a page, and is not kept.
    let missing = app
        .client
        .get(format!("{}/pkg/attn.000000.css", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.headers().get(header::CACHE_CONTROL).is_none());
}

async fn metrics_are_not_served_unless_a_token_is_configured(app: TestApp) {
    let (status, body) = metrics_with(&app, Some("Bearer anything")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("attn_"), "{body}");
}
