//! The real server on a random port, on both backends, for the HTTP tests: `spawn_app` builds
//! the same router as the binary over a fresh world (database, live store, manual clock), and
//! `TestApp` talks to it as browsers without scripts do.
#![allow(dead_code)]

use std::net::SocketAddr;

use attn::Config;
use attn::testing::{Backend, TestEnv};
use leptos::prelude::LeptosOptions;
use reqwest::{StatusCode, header};

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub env: TestEnv,
}

/// The style sheet the test site serves, as written and precompressed.
pub const STYLE: &str =
    "body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 60rem; }\n";

/// A site folder for these tests, made once per process: `pkg/attn.css` and its gzip copy, as
/// `cargo leptos build --release --precompress` leaves them.
pub fn site_root() -> std::path::PathBuf {
    static ROOT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        use std::io::Write;
        let root = std::env::temp_dir().join(format!("attn-http-site-{}", std::process::id()));
        let pkg = root.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        let css = STYLE.repeat(50);
        std::fs::write(pkg.join("attn.css"), &css).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(css.as_bytes()).unwrap();
        std::fs::write(pkg.join("attn.css.gz"), gz.finish().unwrap()).unwrap();
        root
    })
    .clone()
}

/// Key of the join codes in these tests.
pub const JOIN_SECRET: &str = "http-test-secret";

pub fn models_dir() -> std::path::PathBuf {
    std::env::var("ATTN_MODELS_DIR")
        .ok()
        .filter(|d| !d.is_empty())
        .map(Into::into)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models"))
}

/// The face check, loaded once for every app of this file; `None` without the models (unless
/// ATTN_TEST_REQUIRE_MODELS=1).
pub fn face_checker() -> Option<attn::face::FaceChecker> {
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
pub const ADMIN: &str = "demo_teacher_10";

/// Password of the demo accounts in these tests.
pub const DEMO_PASSWORD: &str = "demo-şifre";

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
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
        .site_root(site_root().to_string_lossy().as_ref())
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
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self
            .client
            .get(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html,application/xhtml+xml");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    pub async fn page(&self, path: &str, headers: &[(&str, &str)]) -> (StatusCode, String) {
        let res = self.get(path, headers).await;
        (res.status(), res.text().await.unwrap())
    }

    /// Posts the language form as a browser without scripts does.
    pub async fn switch_language(&self, lang: &str, return_to: &str) -> reqwest::Response {
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
    pub fn new_browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            // A page that never finishes fails its test instead of holding up the run.
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .unwrap()
    }

    /// Posts the login form as a browser does; returns where it sends the person.
    pub async fn log_in_with(
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

    pub async fn log_in(&self, user: &str, pass: &str, next: &str) -> String {
        self.log_in_with(&self.client, user, pass, next).await
    }

    /// Calls a server function as the page's script does; status and body.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
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
    pub async fn post_form(
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

    pub async fn page_as(&self, client: &reqwest::Client, path: &str) -> String {
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
    pub fn code(&self, session: &str) -> String {
        use attn::Clock;
        attn::codes::JoinCodes::new(JOIN_SECRET.as_bytes().to_vec()).current(
            session.parse().unwrap(),
            true,
            self.env.clock.now(),
        )
    }

    pub async fn home(&self) -> String {
        self.page("/", &[]).await.1
    }
}

/// Starts a 10-minute network-checked session as the app's own client (a teacher); its id.
pub async fn start_as_teacher(app: &TestApp, teacher: &str) -> String {
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

/// Moves every finished session into the database, as the server's background sweep does.
pub async fn sweep(app: &TestApp) {
    let sweeper = attn::sweep::Sweeper::new(
        app.env.db.clone(),
        app.env.live.clone(),
        app.env.clock.clone(),
        std::time::Duration::from_secs(60),
    );
    assert_eq!(sweeper.sweep_once().await.unwrap().persisted, 1);
}

/// A finished session of `teacher` that `students` checked in to, swept into the database.
pub async fn past_session(app: &TestApp, teacher: &str, students: &[u32]) -> String {
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

pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("attn_session="))
        .map(str::to_owned)
}
