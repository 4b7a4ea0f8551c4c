//! A stand-in for the AKSIS portal (the real one is out of reach from tests): an axum app on a
//! random port serving pages shaped like the portal's, with Turkish names, stray whitespace and
//! the failure modes the client must survive. It counts the requests it answers and the
//! connections open to it at once, and may take a while over each answer, as a busy portal does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attn::identity::AksisConfig;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

/// Password of every account of the fake portal.
pub const PASSWORD: &str = "Gizli-Şifre_1";
/// A teacher.
pub const TEACHER: &str = "ilker.sahin";
/// A student with a photo.
pub const STUDENT: &str = "1306200001";
/// A student without a photo.
pub const STUDENT_NO_PHOTO: &str = "1306200002";
/// A student whose profile page lacks the number (a portal redesign).
pub const STUDENT_BROKEN_PROFILE: &str = "1306200003";
/// An account whose login answer takes far longer than the client waits.
pub const SLOW: &str = "yavas.hoca";
/// The photo served for `STUDENT`.
pub const PHOTO: &[u8] = b"\xff\xd8\xff\xe0 fake jpeg of the student \xff\xd9";

/// What the fake portal saw, for assertions.
#[derive(Debug, Default)]
pub struct Seen {
    /// Log-outs received.
    pub logouts: usize,
    /// Login-page visits that already carried a portal login cookie (should never happen).
    pub reused_cookies: usize,
    /// Logins attempted.
    pub login_posts: usize,
    /// Requests answered, of any kind (redirects followed included).
    pub requests: usize,
}

#[derive(Clone, Default)]
struct Portal {
    seen: Arc<Mutex<Seen>>,
    without_token: bool,
    /// Every ten-digit number is a student and every `hoca.<n>` a teacher (for benchmarks
    /// with a whole university of accounts), besides the named ones.
    open: bool,
    /// How long each answer takes.
    delay: Duration,
    connections: Connections,
}

/// A running fake portal.
pub struct FakePortal {
    /// Its base address.
    pub base: String,
    seen: Arc<Mutex<Seen>>,
    connections: Connections,
}

/// Connections open to the portal now (by peer address), and the most that were ever open at
/// once. A connection counts from its accept until the portal answers its last request (one it
/// closes after: `Connection: close`) or it closes, whichever comes first: so the count does not
/// depend on how soon the server notices a connection its client already dropped.
#[derive(Clone, Default)]
struct Connections {
    open: Arc<Mutex<std::collections::HashSet<std::net::SocketAddr>>>,
    most: Arc<AtomicUsize>,
}

impl Connections {
    fn opened(&self, peer: std::net::SocketAddr) {
        let mut open = self.open.lock().unwrap();
        open.insert(peer);
        self.most.fetch_max(open.len(), Ordering::SeqCst);
    }

    fn closed(&self, peer: std::net::SocketAddr) {
        self.open.lock().unwrap().remove(&peer);
    }
}

/// The portal's listener: every connection it accepts is counted while it is open.
struct CountingListener {
    inner: tokio::net::TcpListener,
    connections: Connections,
}

impl axum::serve::Listener for CountingListener {
    type Io = CountedStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            if let Ok((stream, addr)) = self.inner.accept().await {
                self.connections.opened(addr);
                let connections = self.connections.clone();
                return (
                    CountedStream {
                        stream,
                        peer: addr,
                        connections,
                    },
                    addr,
                );
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// The client end of a connection, as a request of the portal sees it.
#[derive(Clone, Copy)]
struct Peer(std::net::SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, CountingListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, CountingListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// A connection to the portal, counted down when it closes.
struct CountedStream {
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    connections: Connections,
}

impl Drop for CountedStream {
    fn drop(&mut self) {
        self.connections.closed(self.peer);
    }
}

impl tokio::io::AsyncRead for CountedStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for CountedStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Counts each request, takes the portal's time over it, and counts a connection done once
/// its last answer is ready.
async fn count_and_wait(
    State(p): State<Portal>,
    axum::extract::ConnectInfo(Peer(peer)): axum::extract::ConnectInfo<Peer>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    p.seen.lock().unwrap().requests += 1;
    if !p.delay.is_zero() {
        tokio::time::sleep(p.delay).await;
    }
    let response = next.run(request).await;
    if response
        .headers()
        .get(header::CONNECTION)
        .is_some_and(|v| v == "close")
    {
        p.connections.closed(peer);
    }
    response
}

impl FakePortal {
    /// Starts a portal that behaves.
    pub async fn start() -> Self {
        Self::start_with(false, Duration::ZERO).await
    }

    /// Starts a portal whose login page lost its anti-forgery token.
    pub async fn start_without_token() -> Self {
        Self::start_with(true, Duration::ZERO).await
    }

    /// Starts a portal that takes `delay` over every answer.
    pub async fn start_slow(delay: Duration) -> Self {
        Self::start_with(false, delay).await
    }

    /// Starts a portal where every ten-digit number is a student with a photo and every
    /// `hoca.<n>` a teacher, all with [`PASSWORD`]: a university's worth of accounts.
    pub async fn start_open(delay: Duration) -> Self {
        Self::start_portal(Portal {
            delay,
            open: true,
            ..Portal::default()
        })
        .await
    }

    async fn start_with(without_token: bool, delay: Duration) -> Self {
        Self::start_portal(Portal {
            without_token,
            delay,
            ..Portal::default()
        })
        .await
    }

    async fn start_portal(portal: Portal) -> Self {
        let connections = portal.connections.clone();
        let seen = portal.seen.clone();
        let app = Router::new()
            .route("/Account/LogOn", get(login_page).post(login))
            .route("/Account/LogOff", get(logout))
            .route("/obs/", get(profile))
            .route("/obs/photo/{file}", get(photo))
            .route(
                "/obs/OgrenimBilgileri/DersProgramiYeni/Index",
                get(timetable_page),
            )
            .route(
                "/obs/OgrenimBilgileri/DersProgramiYeni/Plans_Read",
                post(plans),
            )
            .layer(axum::middleware::from_fn_with_state(
                portal.clone(),
                count_and_wait,
            ))
            .with_state(portal);
        let inner = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", inner.local_addr().unwrap());
        let listener = CountingListener {
            inner,
            connections: connections.clone(),
        };
        let app = app.into_make_service_with_connect_info::<Peer>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base,
            seen,
            connections,
        }
    }

    /// The most connections that were open to the portal at once.
    pub fn most_connections(&self) -> usize {
        self.connections.most.load(Ordering::SeqCst)
    }

    /// The client configuration for this portal, waiting at most `timeout` per request.
    pub fn config(&self, timeout: Duration) -> AksisConfig {
        AksisConfig::at(&self.base, &format!("{}/obs", self.base), timeout)
    }

    /// What it saw so far.
    pub fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.seen.lock().unwrap())
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

async fn login_page(State(p): State<Portal>, headers: HeaderMap) -> Response {
    if cookie(&headers, ".ASPXAUTH").is_some() {
        p.seen.lock().unwrap().reused_cookies += 1;
    }
    let token = if p.without_token {
        String::new()
    } else {
        r#"<input name="__RequestVerificationToken" type="hidden" value="tok-123" />"#.into()
    };
    (
        [(
            header::SET_COOKIE,
            "__RequestVerificationToken_Lw__=cookie-tok; path=/; HttpOnly",
        )],
        Html(format!(
            r#"<!DOCTYPE html><html><head><title>AKSİS - Giriş</title></head><body>
            <form action="/Account/LogOn?ReturnUrl=%2f" method="post">{token}
              <input id="UserName" name="UserName" type="text" />
              <input id="Password" name="Password" type="password" />
              <button type="submit">Giriş</button></form></body></html>"#
        )),
    )
        .into_response()
}

async fn login(
    State(p): State<Portal>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    p.seen.lock().unwrap().login_posts += 1;
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    // ASP.NET checks the form token against its cookie: both must have come back.
    if field("__RequestVerificationToken") != "tok-123"
        || cookie(&headers, "__RequestVerificationToken_Lw__").as_deref() != Some("cookie-tok")
    {
        return (StatusCode::BAD_REQUEST, "anti-forgery token").into_response();
    }
    let user = field("UserName");
    if user == SLOW {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    let known = [TEACHER, STUDENT, STUDENT_NO_PHOTO, STUDENT_BROKEN_PROFILE].contains(&user)
        || (p.open && (is_open_student(user) || is_open_teacher(user)));
    if !known || field("Password") != PASSWORD {
        return Html(
            r#"<html><body><div class="validation-summary-errors"><ul>
            <li>Kullanıcı adı veya şifre hatalı.</li></ul></div></body></html>"#,
        )
        .into_response();
    }
    let set_auth = (
        header::SET_COOKIE,
        format!(".ASPXAUTH={user}; path=/; HttpOnly"),
    );
    if user == TEACHER || (p.open && is_open_teacher(user)) {
        let name = if user == TEACHER {
            "İLKER    ŞAHİN".to_owned()
        } else {
            format!("HOCA {}", user.trim_start_matches("hoca."))
        };
        return (
            [set_auth],
            Html(format!(
                r#"<html><body><div class="card">
                <h4>  ÖYS
                   AKADEMİSYEN </h4>
                <h5 class="m-t-0 m-b-0">
                    Dr. Öğr. Üyesi.   {name}
                </h5></div></body></html>"#
            )),
        )
            .into_response();
    }
    ([set_auth], Redirect::to("/obs/")).into_response()
}

async fn logout(State(p): State<Portal>) -> Response {
    p.seen.lock().unwrap().logouts += 1;
    let clear = (
        header::SET_COOKIE,
        ".ASPXAUTH=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT".to_owned(),
    );
    // The portal session is over, and so is this connection.
    (
        [clear, (header::CONNECTION, "close".to_owned())],
        Redirect::to("/Account/LogOn"),
    )
        .into_response()
}

async fn profile(headers: HeaderMap) -> Response {
    let Some(user) = cookie(&headers, ".ASPXAUTH") else {
        return Redirect::to("/Account/LogOn").into_response();
    };
    let open_name = format!("ÖĞRENCİ {user}");
    let (name, number, photo) = match user.as_str() {
        STUDENT => ("  AYŞE   GÜLER-ÖZTÜRK ", STUDENT, true),
        STUDENT_NO_PHOTO => ("Çağrı Işık", STUDENT_NO_PHOTO, false),
        STUDENT_BROKEN_PROFILE => ("Ömer Ünal", "", false),
        other if is_open_student(other) => (open_name.as_str(), other, true),
        _ => ("Ömer Ünal", "", false),
    };
    let number_row = if number.is_empty() {
        String::new()
    } else {
        format!("<tr><th>Numara</th>\n<td>\n  {number}  </td></tr>")
    };
    let img = if photo {
        format!(r#"<tr><td colspan="2"><img src="photo/{number}.jpg" alt="" /></td></tr>"#)
    } else {
        String::new()
    };
    Html(format!(
        r#"<html><body><img src="/img/logo.png"/><table class="table">
        <tr><th> Ad Soyad </th> <td>{name}</td></tr>{number_row}{img}</table></body></html>"#
    ))
    .into_response()
}

/// A student of the open portal: ten digits.
fn is_open_student(user: &str) -> bool {
    user.len() == 10 && user.bytes().all(|b| b.is_ascii_digit())
}

/// A teacher of the open portal: `hoca.<n>`.
fn is_open_teacher(user: &str) -> bool {
    user.strip_prefix("hoca.")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

async fn photo(headers: HeaderMap, Path(file): Path<String>) -> Response {
    match cookie(&headers, ".ASPXAUTH") {
        Some(user) if file == format!("{user}.jpg") => {
            ([(header::CONTENT_TYPE, "image/jpeg")], PHOTO).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn timetable_page() -> Html<&'static str> {
    Html(
        r##"<html><body><div id="scheduler"></div><script>
        $("#scheduler").kendoScheduler({ dataSource: { transport: { read: {
          url: "/OgrenimBilgileri/DersProgramiYeni/Plans_Read?ogrenciId=42\u0026donemId=2026",
          type: "POST" } } } });
        </script></body></html>"##,
    )
}

/// Monday 23 November 2026, 09:00-09:50 and 10:00-10:50 in Istanbul, and one of another
/// teacher's.
async fn plans() -> &'static str {
    r#"{"Data":[
      {"Title":"  Veri   Yapıları ","Start":"/Date(1795413600000)/","End":"/Date(1795416600000)/","Hocalar":"Dr. Öğr. Üyesi. İLKER ŞAHİN"},
      {"Title":"Algoritma Analizi","Start":"/Date(1795417200000)/","End":"/Date(1795420200000)/","Hocalar":"Dr. Öğr. Üyesi. İLKER ŞAHİN"},
      {"Title":"Fizik I","Start":"/Date(1795420800000)/","End":"/Date(1795423800000)/","Hocalar":"Prof. Dr. AYŞE YILMAZ"}
    ],"Total":3}"#
}
