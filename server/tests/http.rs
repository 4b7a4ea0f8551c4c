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

async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let env = TestEnv::new(backend).await?;
    let ctx = env.ctx(Config::default());
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
        .build()
        .unwrap();
    Some(TestApp {
        base: format!("http://{addr}"),
        client,
        env,
    })
}

impl TestApp {
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.client.get(format!("{}{path}", self.base));
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

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    let app = super::spawn_app(attn::testing::Backend::Embedded).await.unwrap();
                    super::$name(app).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn services() {
                    if let Some(app) = super::spawn_app(attn::testing::Backend::Services).await {
                        super::$name(app).await;
                    }
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
);

async fn health_and_readiness_answer(app: TestApp) {
    let (status, body) = app.page("/healthz", &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    let (status, body) = app.page("/readyz", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, r#"{"database":"ok","live_store":"ok"}"#);
}

async fn readiness_names_a_database_that_is_down(app: TestApp) {
    app.env.db.close().await;
    let (status, body) = app.page("/readyz", &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, r#"{"database":"unavailable","live_store":"ok"}"#);
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
