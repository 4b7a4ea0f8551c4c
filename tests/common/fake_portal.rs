//! A stand-in for the AKSIS portal (the real one is out of reach from tests): an axum app on a
//! random port serving pages shaped like the portal's, with Turkish names, stray whitespace and
//! the failure modes the client must survive.

use std::collections::HashMap;
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
}

#[derive(Clone, Default)]
struct Portal {
    seen: Arc<Mutex<Seen>>,
    without_token: bool,
}

/// A running fake portal.
pub struct FakePortal {
    /// Its base address.
    pub base: String,
    seen: Arc<Mutex<Seen>>,
}

impl FakePortal {
    /// Starts a portal that behaves.
    pub async fn start() -> Self {
        Self::start_with(false).await
    }

    /// Starts a portal whose login page lost its anti-forgery token.
    pub async fn start_without_token() -> Self {
        Self::start_with(true).await
    }

    async fn start_with(without_token: bool) -> Self {
        let portal = Portal {
            without_token,
            ..Portal::default()
        };
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
            .with_state(portal);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, seen }
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
    let known = [TEACHER, STUDENT, STUDENT_NO_PHOTO, STUDENT_BROKEN_PROFILE].contains(&user);
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
    if user == TEACHER {
        return (
            [set_auth],
            Html(
                r#"<html><body><div class="card">
                <h4>  ÖYS
                   AKADEMİSYEN </h4>
                <h5 class="m-t-0 m-b-0">
                    Dr. Öğr. Üyesi.   İLKER    ŞAHİN
                </h5></div></body></html>"#,
            ),
        )
            .into_response();
    }
    ([set_auth], Redirect::to("/obs/")).into_response()
}

async fn logout(State(p): State<Portal>) -> Response {
    p.seen.lock().unwrap().logouts += 1;
    let clear = (
        header::SET_COOKIE,
        ".ASPXAUTH=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT",
    );
    ([clear], Redirect::to("/Account/LogOn")).into_response()
}

async fn profile(headers: HeaderMap) -> Response {
    let Some(user) = cookie(&headers, ".ASPXAUTH") else {
        return Redirect::to("/Account/LogOn").into_response();
    };
    let (name, number, photo) = match user.as_str() {
        STUDENT => ("  AYŞE   GÜLER-ÖZTÜRK ", STUDENT, true),
        STUDENT_NO_PHOTO => ("Çağrı Işık", STUDENT_NO_PHOTO, false),
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
