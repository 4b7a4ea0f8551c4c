//! The AKSIS portal client: logs in as the person (a cookie jar of its own for every login,
//! never shared), reads who they are (a student's photo, a teacher's timetable), then logs out.
//!
//! Each login asks as little as the portal allows: the login form (for its anti-forgery token),
//! the login itself, then a student's profile and photo, or a teacher's timetable page and its
//! data, then the log-out — five requests either way. At most `connections` logins talk to the
//! portal at once (each over one connection of its own to each portal host); the rest wait
//! their turn, up to the portal time-out, so a class logging in at 9:00 never floods it.
//!
//! The portal is an ASP.NET MVC site. Each expected element that is missing is reported as
//! `PortalChanged` with the page's name (and logged), so a portal redesign shows up as a clear
//! message and a log line, not as a wrong result.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::{StatusCode, Url};
use scraper::{ElementRef, Html, Selector};
use serde::Deserialize;

use super::timetable::{Lesson, lessons_of_teacher};
use super::{IdentityProvider, PortalUser};
use crate::domain::Role;
use crate::error::{Error, Result};

/// Largest portal photo accepted.
const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;

/// Where the portal's pages are, and how long to wait for each.
#[derive(Debug, Clone)]
pub struct AksisConfig {
    /// Login page (GET for the form, POST to log in).
    pub login_url: String,
    /// OBS base; its home page is the student's profile.
    pub obs_url: String,
    /// The page whose script names the timetable's data address.
    pub timetable_url: String,
    /// Log-out address, called after every login.
    pub logout_url: String,
    /// Limit for each request (and for waiting for a turn).
    pub timeout: Duration,
    /// Logins that may talk to the portal at once.
    pub connections: usize,
}

impl Default for AksisConfig {
    fn default() -> Self {
        Self {
            login_url: "https://aksis.istanbul.edu.tr/Account/LogOn?ReturnUrl=%2f".into(),
            obs_url: "https://obs.istanbul.edu.tr/".into(),
            timetable_url: "https://obs.istanbul.edu.tr/OgrenimBilgileri/DersProgramiYeni/Index"
                .into(),
            logout_url: "https://aksis.istanbul.edu.tr/Account/LogOff".into(),
            timeout: Duration::from_secs(10),
            connections: 16,
        }
    }
}

impl AksisConfig {
    /// The same paths on other hosts (a test portal, a staging portal).
    pub fn at(aksis_base: &str, obs_base: &str, timeout: Duration) -> Self {
        let aksis = aksis_base.trim_end_matches('/');
        let obs = obs_base.trim_end_matches('/');
        Self {
            login_url: format!("{aksis}/Account/LogOn?ReturnUrl=%2f"),
            obs_url: format!("{obs}/"),
            timetable_url: format!("{obs}/OgrenimBilgileri/DersProgramiYeni/Index"),
            logout_url: format!("{aksis}/Account/LogOff"),
            timeout,
            connections: Self::default().connections,
        }
    }
}

/// Client of the AKSIS portal.
#[derive(Debug, Clone)]
pub struct AksisClient {
    config: AksisConfig,
    /// A turn to talk to the portal, one per login under way.
    turns: std::sync::Arc<tokio::sync::Semaphore>,
}

impl AksisClient {
    /// A client for the portal described by `config`.
    pub fn new(config: AksisConfig) -> Self {
        let turns = std::sync::Arc::new(tokio::sync::Semaphore::new(config.connections.max(1)));
        Self { config, turns }
    }
}

#[async_trait]
impl IdentityProvider for AksisClient {
    #[tracing::instrument(skip(self, password, _now))]
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
        _now: DateTime<Utc>,
    ) -> Result<PortalUser> {
        // Wait for a turn (as long as a request may take), or tell the person to try again.
        let Ok(Ok(_turn)) =
            tokio::time::timeout(self.config.timeout, self.turns.clone().acquire_owned()).await
        else {
            tracing::warn!("portal busy: every turn taken for the whole time-out");
            return Err(Error::PortalUnavailable);
        };
        // A cookie jar of its own: one person's portal session never leaks into another's.
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .pool_max_idle_per_host(1)
            .timeout(self.config.timeout)
            .connect_timeout(self.config.timeout)
            .redirect(redirects(&self.config.logout_url))
            .build()
            .map_err(|_| Error::PortalUnavailable)?;
        let visit = Visit {
            http: &http,
            config: &self.config,
        };
        let result = visit.login_and_read(username.trim(), password).await;
        visit.logout().await;
        result
    }
}

/// Follows up to ten redirects, but none from the log-out: where the portal sends a person
/// who logged out (its login form) is of no use here.
fn redirects(logout_url: &str) -> reqwest::redirect::Policy {
    let logout = Url::parse(logout_url).ok();
    reqwest::redirect::Policy::custom(move |attempt| {
        let from_logout = attempt
            .previous()
            .last()
            .zip(logout.as_ref())
            .is_some_and(|(from, logout)| from.path() == logout.path());
        if from_logout {
            attempt.stop()
        } else if attempt.previous().len() >= 10 {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    })
}

/// One login's conversation with the portal.
struct Visit<'a> {
    http: &'a reqwest::Client,
    config: &'a AksisConfig,
}

impl Visit<'_> {
    async fn login_and_read(&self, username: &str, password: &str) -> Result<PortalUser> {
        let (form, _) = self.get_page(&self.config.login_url, "login").await?;
        let token = login_token(&form)?;
        let answer = self
            .http
            .post(&self.config.login_url)
            .form(&[
                ("UserName", username),
                ("Password", password),
                ("__RequestVerificationToken", token.as_str()),
            ])
            .send()
            .await
            .map_err(unavailable)?;
        let (answer, landed) = page_text(answer, "login").await?;
        if login_failed(&answer) {
            return Err(Error::WrongCredentials);
        }
        if is_teacher_page(&answer) {
            let full_name = teacher_name(&answer)?;
            let lessons = lessons_of_teacher(self.timetable().await, &full_name);
            return Ok(PortalUser {
                school_number: username.to_owned(),
                full_name,
                role: Role::Teacher,
                photo: None,
                lessons,
            });
        }
        // Where the portal sends a student after the login may be the profile itself.
        let (profile_page, profile_url) = if same_page(&landed, &self.config.obs_url) {
            (answer, landed)
        } else {
            self.get_page(&self.config.obs_url, "obs profile").await?
        };
        let profile = student_profile(&profile_page)?;
        let photo = match profile.photo.as_deref().map(|src| profile_url.join(src)) {
            Some(Ok(url)) => self.photo(url).await.ok(),
            _ => None,
        };
        if photo.is_none() {
            tracing::info!(school_number = %profile.number, "no portal photo");
        }
        // A student's timetable is of no use to ATTN: not asked for.
        Ok(PortalUser {
            school_number: profile.number,
            full_name: profile.full_name,
            role: Role::Student,
            photo,
            lessons: Vec::new(),
        })
    }

    /// GETs a page; its text and final address (after redirects).
    async fn get_page(&self, url: &str, page: &'static str) -> Result<(String, Url)> {
        let res = self.http.get(url).send().await.map_err(unavailable)?;
        page_text(res, page).await
    }

    /// The portal photo; `PhotoMissing` when there is none or it is not an image.
    async fn photo(&self, url: Url) -> Result<Vec<u8>> {
        let mut res = self.http.get(url).send().await.map_err(unavailable)?;
        let is_image = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("image/"));
        if !res.status().is_success() || !is_image {
            return Err(Error::PhotoMissing);
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(unavailable)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_PHOTO_BYTES {
                return Err(Error::PhotoMissing);
            }
        }
        if bytes.is_empty() {
            return Err(Error::PhotoMissing);
        }
        Ok(bytes)
    }

    /// The timetable, or nothing: a login never fails only because the timetable did.
    async fn timetable(&self) -> Vec<Lesson> {
        match self.try_timetable().await {
            Ok(lessons) => lessons,
            Err(error) => {
                tracing::warn!(%error, "timetable not read");
                Vec::new()
            }
        }
    }

    async fn try_timetable(&self) -> Result<Vec<Lesson>> {
        let (page, _) = self
            .get_page(&self.config.timetable_url, "timetable")
            .await?;
        let path = plans_read_path(&page)?;
        let url = format!(
            "{}/OgrenimBilgileri/DersProgramiYeni/{path}",
            self.config.obs_url.trim_end_matches('/')
        );
        let res = self.http.post(url).send().await.map_err(unavailable)?;
        let (json, _) = page_text(res, "timetable data").await?;
        parse_plans(&json)
    }

    async fn logout(&self) {
        if let Err(error) = self.http.get(&self.config.logout_url).send().await {
            tracing::debug!(%error, "portal log-out");
        }
    }
}

/// True when `url` is the page `page` names (the same address, whatever the query).
fn same_page(url: &Url, page: &str) -> bool {
    Url::parse(page).is_ok_and(|page| {
        page.scheme() == url.scheme()
            && page.host_str() == url.host_str()
            && page.port_or_known_default() == url.port_or_known_default()
            && page.path() == url.path()
    })
}

fn unavailable(error: reqwest::Error) -> Error {
    tracing::warn!(%error, timeout = error.is_timeout(), "portal unreachable");
    Error::PortalUnavailable
}

fn changed(page: &'static str, what: &'static str) -> Error {
    tracing::warn!(
        page,
        missing = what,
        "portal page changed: expected element missing"
    );
    Error::PortalChanged(page)
}

async fn page_text(res: reqwest::Response, page: &'static str) -> Result<(String, Url)> {
    let status = res.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        tracing::warn!(page, %status, "portal answered with an error");
        return Err(Error::PortalUnavailable);
    }
    if !status.is_success() {
        return Err(changed(page, "a successful answer"));
    }
    let url = res.url().clone();
    Ok((res.text().await.map_err(unavailable)?, url))
}

fn selector(css: &'static str) -> Selector {
    // The selectors are constants of this file; a typo fails every test at once.
    Selector::parse(css).unwrap_or_else(|e| panic!("selector {css:?}: {e}"))
}

/// Collapses runs of whitespace (the portal's pages are full of it).
fn text_of(el: ElementRef<'_>) -> String {
    el.text()
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn login_token(html: &str) -> Result<String> {
    let doc = Html::parse_document(html);
    doc.select(&selector("input[name=__RequestVerificationToken]"))
        .next()
        .and_then(|i| i.value().attr("value"))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| changed("login", "__RequestVerificationToken"))
}

fn login_failed(html: &str) -> bool {
    let doc = Html::parse_document(html);
    doc.select(&selector("div.validation-summary-errors"))
        .next()
        .is_some()
}

fn is_teacher_page(html: &str) -> bool {
    let doc = Html::parse_document(html);
    doc.select(&selector("h4"))
        .any(|h| text_of(h).to_uppercase().contains("ÖYS AKADEMİSYEN"))
}

/// "Dr. Öğr. Üyesi. AD SOYAD" -> "AD SOYAD": the name is what follows the title's last dot.
fn teacher_name(html: &str) -> Result<String> {
    let doc = Html::parse_document(html);
    let heading = doc
        .select(&selector("h5.m-t-0.m-b-0"))
        .map(text_of)
        .find(|t| !t.is_empty())
        .ok_or_else(|| changed("teacher home", "h5.m-t-0.m-b-0"))?;
    let name = heading
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if name.is_empty() {
        return Err(changed("teacher home", "name after the title"));
    }
    Ok(name)
}

struct StudentProfile {
    number: String,
    full_name: String,
    photo: Option<String>,
}

fn student_profile(html: &str) -> Result<StudentProfile> {
    let doc = Html::parse_document(html);
    let value_after = |label: &str| {
        doc.select(&selector("th"))
            .find(|th| text_of(*th).eq_ignore_ascii_case(label))
            .and_then(|th| {
                th.next_siblings()
                    .filter_map(ElementRef::wrap)
                    .find(|e| e.value().name() == "td")
            })
            .map(text_of)
            .filter(|v| !v.is_empty())
    };
    let full_name = value_after("Ad Soyad").ok_or_else(|| changed("obs profile", "Ad Soyad"))?;
    let number = value_after("Numara").ok_or_else(|| changed("obs profile", "Numara"))?;
    let photo = doc
        .select(&selector("table img[src]"))
        .chain(doc.select(&selector("img[src]")))
        .find_map(|img| img.value().attr("src"))
        .map(str::to_owned);
    Ok(StudentProfile {
        number,
        full_name,
        photo,
    })
}

/// The relative address of the timetable's data, written in a script of the timetable page as
/// `Plans_Read?...` with `\u0026` for `&`.
fn plans_read_path(html: &str) -> Result<String> {
    let start = html
        .find("Plans_Read")
        .ok_or_else(|| changed("timetable", "Plans_Read"))?;
    let rest = &html[start..];
    let end = rest.find(['"', '\'', '\n', ' ', ')']).unwrap_or(rest.len());
    Ok(rest[..end].replace("\\u0026", "&").replace("&amp;", "&"))
}

#[derive(Deserialize)]
struct Plans {
    #[serde(rename = "Data")]
    data: Vec<Plan>,
}

#[derive(Deserialize)]
struct Plan {
    #[serde(rename = "Title")]
    title: String,
    #[serde(rename = "Start")]
    start: String,
    #[serde(rename = "End")]
    end: String,
    #[serde(rename = "Hocalar", default)]
    teachers: Option<String>,
}

fn parse_plans(json: &str) -> Result<Vec<Lesson>> {
    let plans: Plans = serde_json::from_str(json).map_err(|_| changed("timetable data", "Data"))?;
    plans
        .data
        .into_iter()
        .map(|p| {
            Ok(Lesson {
                title: p.title.split_whitespace().collect::<Vec<_>>().join(" "),
                start: dotnet_date(&p.start)?,
                end: dotnet_date(&p.end)?,
                teachers: p.teachers.unwrap_or_default().trim().to_owned(),
            })
        })
        .collect()
}

/// `/Date(1700000000000)/` (milliseconds since the epoch, UTC).
fn dotnet_date(s: &str) -> Result<DateTime<Utc>> {
    s.trim()
        .strip_prefix("/Date(")
        .and_then(|r| r.strip_suffix(")/"))
        .and_then(|ms| ms.parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(|| changed("timetable data", "/Date(ms)/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_teacher_name_is_what_follows_the_last_dot() {
        let html = r#"<h4> ÖYS  AKADEMİSYEN </h4><h5 class="m-t-0 m-b-0">
            Dr. Öğr. Üyesi.   İLKER   ŞAHİN </h5>"#;
        assert!(is_teacher_page(html));
        assert_eq!(teacher_name(html).unwrap(), "İLKER ŞAHİN");
        assert!(matches!(
            teacher_name("<h4>ÖYS AKADEMİSYEN</h4>"),
            Err(Error::PortalChanged("teacher home"))
        ));
    }

    #[test]
    fn the_timetable_path_and_dates_are_read() {
        let page = r#"<script>read: { url: "/OgrenimBilgileri/DersProgramiYeni/Plans_Read?donem=2\u0026yil=2026" }</script>"#;
        let path = plans_read_path(page).unwrap();
        assert_eq!(path, "Plans_Read?donem=2&yil=2026");
        let lessons = parse_plans(
            r#"{"Data":[{"Title":"  Veri   Yapıları ","Start":"/Date(1795329000000)/","End":"/Date(1795332000000)/","Hocalar":"Dr. Öğr. Üyesi. İLKER ŞAHİN"}]}"#,
        )
        .unwrap();
        assert_eq!(lessons[0].title, "Veri Yapıları");
        assert_eq!(lessons[0].start.timestamp_millis(), 1_795_329_000_000);
        assert!(parse_plans(r#"{"Data":[{"Title":"x","Start":"yesterday","End":""}]}"#).is_err());
    }
}
