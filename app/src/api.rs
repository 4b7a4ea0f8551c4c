//! Server functions shared by several pages, and the types that cross them. Each extracts the
//! caller, calls one service function and maps its error.

use leptos::prelude::*;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The logged-in person, as the header shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    /// School number (or demo account name).
    pub school_number: String,
    /// Name as the portal spells it.
    pub full_name: String,
    /// `student` or `teacher`.
    pub role: String,
    /// Named in ATTN_ADMINS.
    pub is_admin: bool,
}

/// A lesson of today's timetable, in the configured zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonView {
    /// Title.
    pub title: String,
    /// "09:00".
    pub starts: String,
    /// "09:50".
    pub ends: String,
    /// Running now or starting within 15 minutes.
    pub suggested: bool,
}

/// A live session as its join link shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinView {
    /// Lesson title.
    pub lesson_name: String,
    /// Teacher's name.
    pub teacher_name: String,
    /// Seconds until it closes.
    pub seconds_left: i64,
    /// The caller is a student (only students check in).
    pub is_student: bool,
    /// The caller's own check-in: attended, failed (reason code) or removed.
    pub mine: Option<MyCheckIn>,
    /// The session asks for a selfie (network + face).
    pub selfie: bool,
}

/// A student's own check-in, as the join page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyCheckIn {
    /// Counted present.
    pub attended: bool,
    /// Reason code of a failed check.
    pub reason: Option<String>,
    /// Removed by the teacher.
    pub removed: bool,
}

/// Who is logged in, if anyone. Anyone may call it.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    let (_, _, caller) = crate::auth::current().await.map_err(crate::auth::fail)?;
    Ok(caller.map(|c| SessionUser {
        role: c.role.as_str().to_owned(),
        school_number: c.school_number,
        full_name: c.full_name,
        is_admin: c.is_admin,
    }))
}

/// Logs in with a school number (or portal username) and password, then goes to `next` (a path
/// on this site). A plain form post: on failure it goes back to the login page with the reason.
/// Anyone may call it; limited per username and per client address.
#[server(endpoint = "login")]
pub async fn login(
    school_number: String,
    password: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    use crate::auth;

    let ctx = auth::ctx()?;
    let session = auth::session().await?;
    let credentials = attn::auth::Credentials {
        username: &school_number,
        password: &password,
        client_ip: auth::client_ip(&ctx).await,
    };
    let outcome = match attn::auth::login(&ctx, credentials).await {
        Ok(done) => auth::start(&ctx, &session, done).await,
        Err(error) => Err(error.into()),
    };
    let next = local_path(&next);
    match outcome {
        Ok(()) => leptos_axum::redirect(&next),
        Err(error) => {
            let retry = match &error {
                AppError::RateLimited { retry_after_secs } => format!("&retry={retry_after_secs}"),
                _ => String::new(),
            };
            leptos_axum::redirect(&format!(
                "/login?error={}{retry}&next={}",
                error.code(),
                encode_component(&next)
            ));
        }
    }
    Ok(())
}

/// Ends the login, here and in the session store, and goes home. Anyone may call it.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let session = crate::auth::session().await?;
    crate::auth::end(&session).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Today's lessons from the timetable, the current one marked. Teachers only.
#[server(endpoint = "todays_lessons")]
pub async fn todays_lessons() -> Result<Vec<LessonView>, AppError> {
    use crate::auth;

    let (ctx, session, caller) = auth::current().await.map_err(auth::fail)?;
    let timetable = auth::lessons(&session).await.map_err(auth::fail)?;
    let today =
        attn::teacher::todays_lessons_of(&ctx, caller.as_ref(), &timetable).map_err(auth::fail)?;
    let tz = ctx.config.timezone;
    let time = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).format("%H:%M").to_string();
    Ok(today
        .lessons
        .iter()
        .enumerate()
        .map(|(i, l)| LessonView {
            title: l.title.clone(),
            starts: time(l.start),
            ends: time(l.end),
            suggested: today.suggested == Some(i),
        })
        .collect())
}

/// The live session behind a join link. Anyone logged in.
#[server(endpoint = "join_info")]
pub async fn join_info(session_id: String) -> Result<JoinView, AppError> {
    use crate::auth;

    let (ctx, _, caller) = auth::current().await.map_err(auth::fail)?;
    let overview = attn::student::session_overview(&ctx, caller.as_ref(), &session_id)
        .await
        .map_err(auth::fail)?;
    Ok(JoinView {
        lesson_name: overview.lesson_name,
        teacher_name: overview.teacher_name,
        seconds_left: overview.seconds_left,
        is_student: caller.is_some_and(|c| c.role == attn::domain::Role::Student),
        selfie: overview.security == attn::domain::SecurityLevel::NetworkAndFace,
        mine: overview.my_record.map(|r| MyCheckIn {
            attended: r.is_attended,
            reason: r.fail_reason,
            removed: r.deletion.is_some(),
        }),
    })
}

/// A running session found by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundSession {
    /// Session id, for the join link.
    pub id: String,
    /// Lesson.
    pub lesson_name: String,
    /// Teacher.
    pub teacher_name: String,
}

/// Running sessions whose lesson and teacher names contain the texts. Anyone logged in.
#[server(endpoint = "find_sessions")]
pub async fn find_sessions(
    #[server(default)] lesson: String,
    #[server(default)] teacher: String,
) -> Result<Vec<FoundSession>, AppError> {
    use crate::auth;
    let (ctx, _, caller) = auth::current().await.map_err(auth::fail)?;
    let found = attn::student::find_sessions(&ctx, caller.as_ref(), &lesson, &teacher)
        .await
        .map_err(auth::fail)?;
    Ok(found
        .into_iter()
        .map(|s| FoundSession {
            id: s.id.to_string(),
            lesson_name: s.lesson_name,
            teacher_name: s.teacher_full_name,
        })
        .collect())
}

/// Name of the cookie that marks a browser, for the one-student-per-device rule.
pub const DEVICE_COOKIE: &str = "attn_device";

/// Checks the caller in to a session with the code from the QR link or typed by hand, then
/// shows the join page with the outcome. A plain form post. Students only; limited per
/// student and per address.
#[server(endpoint = "check_in")]
pub async fn check_in(session_id: String, #[server(default)] code: String) -> Result<(), AppError> {
    use crate::auth;

    let (ctx, _, caller) = auth::current().await?;
    let device = device_id(&ctx);
    let attempt = attn::student::JoinAttempt {
        session_id: &session_id,
        code: &code,
        client_ip: auth::client_ip(&ctx).await,
        device: &device,
        selfie: None,
        reference: None,
    };
    let result = attn::student::check_in(&ctx, caller.as_ref(), attempt).await;
    back_to_join(&session_id, result.map(|_| ()));
    Ok(())
}

/// After a plain form post: on success to `done`, on failure back to `page` with the error's
/// code in the address, where the page shows it translated.
#[cfg(feature = "ssr")]
pub(crate) fn redirect_after(result: Result<(), AppError>, done: &str, page: &str) {
    match result {
        Ok(()) => leptos_axum::redirect(done),
        Err(error) => leptos_axum::redirect(&format!("{page}?error={}", error.code())),
    }
}

/// Sends the browser back to the join page, with the reason when the check-in was refused.
#[cfg(feature = "ssr")]
fn back_to_join(session_id: &str, result: attn::Result<()>) {
    let page = format!("/join/{}", encode_component(session_id.trim()));
    redirect_after(result.map_err(AppError::from), &page, &page);
}

/// The browser's device id from its cookie, or a new one (and the cookie that keeps it).
#[cfg(feature = "ssr")]
fn device_id(ctx: &attn::Ctx) -> String {
    use http::{HeaderValue, header::SET_COOKIE};
    device_cookie().unwrap_or_else(|| {
        let id = uuid_like();
        let secure = if ctx.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{DEVICE_COOKIE}={id}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{secure}"
        );
        if let (Some(response), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            HeaderValue::from_str(&cookie),
        ) {
            response.append_header(SET_COOKIE, value);
        }
        id
    })
}

/// Checks the caller in to a session that asks for a selfie: a multipart form with
/// `session_id`, `code` and the photo in `selfie` (JPEG, PNG or WebP, at most 8 MB), which
/// works before the script loads. The selfie is compared with the portal photo kept in the
/// login session; neither is stored. Students only; limited like `check_in`.
#[server(endpoint = "check_in_selfie", input = MultipartFormData)]
pub async fn check_in_selfie(data: MultipartData) -> Result<(), AppError> {
    use crate::auth;

    let (ctx, session, caller) = auth::current().await?;
    // Who may send a photo is settled before a byte of it is read.
    if let Err(error) = attn::auth::Caller::require_student(caller.as_ref()) {
        leptos_axum::redirect(&format!("/?error={}", AppError::from(error).code()));
        return Ok(());
    }
    let form = read_selfie_form(data).await;
    let session_id = form.session_id.clone().unwrap_or_default();
    let Some(selfie) = form.selfie else {
        back_to_join(
            &session_id,
            Err(attn::Error::invalid(
                "selfie",
                attn::error::Problem::TooLong {
                    max: attn::face::decode::MAX_UPLOAD_BYTES,
                },
            )),
        );
        return Ok(());
    };
    let reference = auth::portal_photo(&session).await?;
    let device = device_id(&ctx);
    let attempt = attn::student::JoinAttempt {
        session_id: &session_id,
        code: form.code.as_deref().unwrap_or_default(),
        client_ip: auth::client_ip(&ctx).await,
        device: &device,
        selfie: Some(&selfie),
        reference: reference.as_deref(),
    };
    let result = attn::student::check_in(&ctx, caller.as_ref(), attempt).await;
    back_to_join(&session_id, result.map(|_| ()));
    Ok(())
}

/// The fields of the selfie form. `selfie` is `None` when the photo was larger than allowed
/// (reading stops there); an absent photo is empty.
#[cfg(feature = "ssr")]
struct SelfieForm {
    session_id: Option<String>,
    code: Option<String>,
    selfie: Option<Vec<u8>>,
}

#[cfg(feature = "ssr")]
async fn read_selfie_form(data: MultipartData) -> SelfieForm {
    const MAX_TEXT: usize = 200;
    let max = attn::face::decode::MAX_UPLOAD_BYTES;
    let mut form = SelfieForm {
        session_id: None,
        code: None,
        selfie: Some(Vec::new()),
    };
    let Some(mut multipart) = data.into_inner() else {
        return form;
    };
    while let Ok(Some(mut field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let limit = if name == "selfie" { max } else { MAX_TEXT };
        let mut bytes = Vec::new();
        let mut too_large = false;
        while let Ok(Some(chunk)) = field.chunk().await {
            if bytes.len() + chunk.len() > limit {
                too_large = true;
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "selfie" if too_large => {
                form.selfie = None;
                break;
            }
            "selfie" => form.selfie = Some(bytes),
            "session_id" => form.session_id = String::from_utf8(bytes).ok(),
            "code" => form.code = String::from_utf8(bytes).ok(),
            _ => {}
        }
    }
    form
}

#[cfg(feature = "ssr")]
fn device_cookie() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    crate::request_cookie(&parts, DEVICE_COOKIE).filter(|v| !v.is_empty() && v.len() <= 64)
}

#[cfg(feature = "ssr")]
fn uuid_like() -> String {
    attn::domain::new_device_id()
}

/// Remembers the interface language in a cookie and goes back to `return_to` (a path on this
/// site). Works as a plain form post, before any script has loaded. Anyone may call it.
#[server(endpoint = "set_language")]
pub async fn set_language(lang: String, return_to: String) -> Result<(), AppError> {
    use http::{HeaderValue, header::SET_COOKIE};

    let lang = crate::i18n::Lang::from_code(&lang).unwrap_or_default();
    let secure = use_context::<attn::Ctx>().is_some_and(|ctx| ctx.config.secure_cookies);
    let cookie = format!(
        "{}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{}",
        crate::i18n::LANG_COOKIE,
        lang.code(),
        if secure { "; Secure" } else { "" }
    );
    let response = expect_context::<leptos_axum::ResponseOptions>();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.append_header(SET_COOKIE, value);
    }
    leptos_axum::redirect(&local_path(&return_to));
    Ok(())
}

/// `path` if it is a path on this site, otherwise "/" (never redirect to another host).
pub fn local_path(path: &str) -> String {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control);
    if ok { path.to_owned() } else { "/".to_owned() }
}

/// Percent-encodes a query component.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(local_path("/join/abc?x=1"), "/join/abc?x=1");
        assert_eq!(local_path("//evil.example/"), "/");
        assert_eq!(local_path("https://evil.example/"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
        assert_eq!(local_path(""), "/");
    }

    #[test]
    fn query_components_are_encoded() {
        assert_eq!(
            encode_component("/join/a b?x=1&y"),
            "/join/a%20b%3Fx%3D1%26y"
        );
    }
}
