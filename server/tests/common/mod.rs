//! The real server on a random port, on both backends, for the HTTP tests: `spawn_app` builds
//! the same router as the binary over a fresh world (database, live store, manual clock), and
//! `TestApp` talks to it as browsers without scripts do.
#![allow(dead_code)]

use attn::Config;
use attn::testing::{Backend, TestEnv};
use leptos::prelude::LeptosOptions;
use reqwest::{StatusCode, header};

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub env: TestEnv,
    /// The server's metrics, so the sweep the tests run counts as the server's own would.
    pub metrics: attn::metrics::Metrics,
}

/// The style sheet the test site serves, as written and precompressed.
pub const STYLE: &str =
    "body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 60rem; }\n";

/// The content hash of the style sheet in the hashed-names site.
pub const STYLE_HASH: &str = "Zm9vYmFy0123";

/// A site folder for these tests, made once per process: `pkg/attn.css` and its gzip copy, as
/// `cargo leptos build --release --precompress` leaves them; the same under its hashed name
/// (`pkg/attn.<hash>.css`), and the `hash.txt` that names the hashes.
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
        let gz = gz.finish().unwrap();
        std::fs::write(pkg.join("attn.css.gz"), &gz).unwrap();
        std::fs::write(pkg.join(format!("attn.{STYLE_HASH}.css")), &css).unwrap();
        std::fs::write(pkg.join(format!("attn.{STYLE_HASH}.css.gz")), &gz).unwrap();
        std::fs::write(
            root.join("hash.txt"),
            format!("js: 0a1b2c\nwasm: 3d4e5f\ncss: {STYLE_HASH}\n"),
        )
        .unwrap();
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

/// The app, serving the site's files under their plain names.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let options = LeptosOptions::builder()
        .output_name("attn")
        .site_root(site_root().to_string_lossy().as_ref())
        .build();
    spawn_app_with(backend, options).await
}

/// The app, serving the site's files under hashed names, as `cargo leptos build` makes them.
pub async fn spawn_hashed_app(backend: Backend) -> Option<TestApp> {
    let options = LeptosOptions::builder()
        .output_name("attn")
        .site_root(site_root().to_string_lossy().as_ref())
        .hash_files(true)
        .hash_file(
            site_root()
                .join("hash.txt")
                .to_string_lossy()
                .as_ref()
                .into(),
        )
        .build();
    server::check_site(&options).expect("the hash file is there");
    spawn_app_with(backend, options).await
}

async fn spawn_app_with(backend: Backend, options: LeptosOptions) -> Option<TestApp> {
    let env = TestEnv::new(backend).await?;
    Some(serve(env, options, |_| {}).await)
}

/// The app with settings of the test's own on top of the usual ones.
pub async fn spawn_app_configured(
    backend: Backend,
    tweak: impl FnOnce(&mut Config),
) -> Option<TestApp> {
    let env = TestEnv::new(backend).await?;
    let options = LeptosOptions::builder()
        .output_name("attn")
        .site_root(site_root().to_string_lossy().as_ref())
        .build();
    Some(serve(env, options, tweak).await)
}

/// The app behind a reverse proxy on 127.0.0.1 (the tests' own address): it believes the
/// `X-Forwarded-For` the tests send.
pub async fn spawn_app_behind_a_proxy(backend: Backend) -> Option<TestApp> {
    spawn_app_configured(backend, |config| {
        config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await
}

/// The app over a world the test made (on a private Redis, say), serving plain file names.
pub async fn spawn_app_on(env: TestEnv) -> TestApp {
    let options = LeptosOptions::builder()
        .output_name("attn")
        .site_root(site_root().to_string_lossy().as_ref())
        .build();
    serve(env, options, |_| {}).await
}

async fn serve(env: TestEnv, options: LeptosOptions, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = Config {
        demo_accounts: true,
        demo_password: DEMO_PASSWORD.into(),
        login_max_failures_per_ip: 8,
        join_secret: Some(JOIN_SECRET.into()),
        admins: vec![ADMIN.into()],
        demo_photo: Some(models_dir().join("testdata/obama.jpg")),
        ..Config::default()
    };
    tweak(&mut config);
    let mut ctx = env.ctx(config);
    ctx.face = face_checker();
    let metrics = ctx.metrics.clone();
    let header_read = ctx.config.header_read;
    let router = server::router(ctx, options)
        .await
        .expect("build the router");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server::serve(
        listener,
        router,
        header_read,
        std::future::pending(),
    ));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        // A page that never finishes fails its test instead of holding up the run.
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap();
    TestApp {
        base: format!("http://{addr}"),
        client,
        env,
        metrics,
    }
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
        self.call_as(&self.client, endpoint, form).await
    }

    /// Calls a server function as a script in `who`'s browser does; status and body.
    pub async fn call_as(
        &self,
        who: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let res = who
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
    )
    .with_metrics(app.metrics.clone());
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

/// The element a page marks `data-testid="{testid}"`, read with an HTML parser, so tests check
/// what a page says by its marks rather than by its wording where the wording is not the point.
pub fn marked(html: &str, testid: &str) -> Option<Marked> {
    let page = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(&format!(r#"[data-testid="{testid}"]"#)).ok()?;
    page.select(&selector).next().map(|el| Marked {
        text: el.text().collect::<String>().trim().to_owned(),
        attrs: el
            .value()
            .attrs()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    })
}

/// What [`marked`] found.
pub struct Marked {
    pub text: String,
    pub attrs: std::collections::HashMap<String, String>,
}

impl Marked {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }
}

/// The student's outcome on a join page (`attended`, `failed`, `pending`, `removed`,
/// `refused`), if it shows one.
pub fn outcome(html: &str) -> Option<String> {
    marked(html, "outcome").and_then(|m| m.attr("data-outcome").map(str::to_owned))
}

/// A count a page shows under `testid` (`attended-count`, `failed-count`).
pub fn count(html: &str, testid: &str) -> Option<usize> {
    marked(html, testid)?.attr("data-count")?.parse().ok()
}

/// Whether a page shows someone logged in (`logged-in`) or nobody (`anonymous`), from the
/// home page's mark.
pub fn login_state(html: &str) -> Option<String> {
    let page = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(".login-state").ok()?;
    page.select(&selector)
        .next()
        .and_then(|el| el.value().attr("data-state").map(str::to_owned))
}

/// Whether a page offers the check-in form.
pub fn offers_check_in(html: &str) -> bool {
    html.contains(r#"action="/api/check_in""#) || html.contains(r#"action="/api/check_in_selfie""#)
}

/// Checks the `student` browser in to session `id` with the code projected now, as the join
/// form does; the outcome the join page shows afterwards.
pub async fn check_in_now(app: &TestApp, student: &reqwest::Client, id: &str) -> Option<String> {
    let code = app.code(id);
    app.post_form(student, "check_in", &[("session_id", id), ("code", &code)])
        .await;
    outcome(&app.page_as(student, &format!("/join/{id}")).await)
}

impl TestApp {
    /// Logs `user` in with a browser of its own; the browser and the cookies it then holds
    /// for this site (`name=value; ...`), to send by hand or to read.
    pub async fn log_in_keeping_cookies(&self, user: &str) -> (reqwest::Client, String) {
        use reqwest::cookie::CookieStore;
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .build()
            .unwrap();
        self.log_in_with(&browser, user, DEMO_PASSWORD, "/").await;
        let url: reqwest::Url = self.base.parse().unwrap();
        let cookies = jar.cookies(&url).unwrap().to_str().unwrap().to_owned();
        (browser, cookies)
    }

    /// The page at `path` for a request carrying exactly `cookie` (no cookie jar).
    pub async fn page_with_cookie(&self, path: &str, cookie: &str) -> String {
        reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// The `name=value` of cookie `name` among `cookies` (`a=1; b=2`).
pub fn cookie_pair(cookies: &str, name: &str) -> String {
    cookies
        .split("; ")
        .find(|c| {
            c.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('='))
        })
        .unwrap_or_else(|| panic!("no cookie {name} in {cookies}"))
        .to_owned()
}

/// Posts the selfie form as a browser without scripts does; where it sends the student.
pub async fn post_selfie(
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

/// A download's body, after checking it is one: 200, `content_type`, and an attachment whose
/// file name starts with `name` and ends with `extension`.
pub async fn downloaded(
    res: reqwest::Response,
    content_type: &str,
    name: &str,
    extension: &str,
) -> Vec<u8> {
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], content_type);
    let disposition = res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with(&format!("attachment; filename=\"{name}")),
        "{disposition}"
    );
    assert!(
        disposition.ends_with(&format!(".{extension}\"")),
        "{disposition}"
    );
    res.bytes().await.unwrap().to_vec()
}

/// The rows of a CSV download with `separator`, after its byte-order mark.
pub fn csv_rows(bytes: &[u8], separator: u8) -> Vec<Vec<String>> {
    let text = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("a byte-order mark for Excel");
    csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .from_reader(text)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}
