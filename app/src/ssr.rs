//! Server-side helpers shared by the pages' server functions: the context, the login session
//! and its caller (with expiry by role on the injected clock), the client's address, cookies,
//! redirects after a form post, and times in the configured zone.

use std::net::{IpAddr, SocketAddr};

use attn::Ctx;
use attn::auth::{Caller, LoggedIn, is_expired, mark_due};
use axum::extract::ConnectInfo;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use tower_sessions::{Expiry, Session};

use crate::error::AppError;

const USER: &str = "user";
const LAST_SEEN: &str = "last_seen_ms";
const PHOTO: &str = "portal_photo_sealed";

/// Name of the cookie that carries the key of the student's sealed portal photo. The store
/// holds the photo only sealed; without this cookie nobody can open it.
pub const PHOTO_KEY_COOKIE: &str = "attn_photo_key";

/// How long the photo key cookie lasts: a day of lectures (the login itself ends sooner when
/// idle).
const PHOTO_KEY_HOURS: i64 = 12;
const LESSONS: &str = "lessons";

/// The application context the server provided.
pub fn ctx() -> Result<Ctx, AppError> {
    use_context::<Ctx>().ok_or(AppError::Unavailable)
}

/// The login session of this request.
pub async fn login_session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|_| AppError::Unavailable)
}

fn store_error(error: tower_sessions::session::Error) -> AppError {
    tracing::warn!(%error, "login session store");
    AppError::Unavailable
}

/// Who is logged in, if anyone. A login idle longer than its role allows is ended here; a live
/// one is marked as used now, unless it was within the last minute (`attn::auth::SEEN_EVERY`).
pub async fn caller(ctx: &Ctx, session: &Session) -> Result<Option<Caller>, AppError> {
    let Some(caller) = session.get::<Caller>(USER).await.map_err(store_error)? else {
        return Ok(None);
    };
    let now = ctx.clock.now();
    let last_seen = session
        .get::<i64>(LAST_SEEN)
        .await
        .map_err(store_error)?
        .and_then(DateTime::<Utc>::from_timestamp_millis);
    match last_seen {
        Some(seen) if !is_expired(ctx, caller.role, seen, now) => {
            // Marked at most once a minute: any other request leaves the session unmodified,
            // and the session layer saves (and renews the cookie) only a modified one.
            if mark_due(seen, now) {
                // The session layer starts every request with its default (shortest) limit;
                // the role's own is set again here, or a teacher's cookie and store entry
                // would expire after the student's limit.
                session.set_expiry(Some(role_expiry(ctx, caller.role)));
                session
                    .insert(LAST_SEEN, now.timestamp_millis())
                    .await
                    .map_err(store_error)?;
            }
            Ok(Some(caller))
        }
        _ => {
            session.flush().await.map_err(store_error)?;
            Ok(None)
        }
    }
}

/// The context, the session and the caller, in one step.
pub async fn current() -> Result<(Ctx, Session, Option<Caller>), AppError> {
    let ctx = ctx()?;
    let session = login_session().await?;
    let caller = caller(&ctx, &session).await?;
    Ok((ctx, session, caller))
}

/// The session layer's idle expiry for `role` (teacher 60 min, student 10 min by default).
fn role_expiry(ctx: &Ctx, role: attn_types::Role) -> Expiry {
    let idle = tower_sessions::cookie::time::Duration::try_from(attn::auth::idle_limit(ctx, role))
        .unwrap_or(tower_sessions::cookie::time::Duration::HOUR);
    Expiry::OnInactivity(idle)
}

/// Starts a login session: a new session id (so an id planted before login is useless), the
/// caller, the portal photo and timetable, and the idle limit of the role.
pub async fn start(ctx: &Ctx, session: &Session, login: LoggedIn) -> Result<(), AppError> {
    session.cycle_id().await.map_err(store_error)?;
    session.clear().await;
    session.set_expiry(Some(role_expiry(ctx, login.caller.role)));
    session
        .insert(USER, &login.caller)
        .await
        .map_err(store_error)?;
    session
        .insert(LAST_SEEN, ctx.clock.now().timestamp_millis())
        .await
        .map_err(store_error)?;
    session
        .insert(LESSONS, &login.lessons)
        .await
        .map_err(store_error)?;
    if let Some(photo) = &login.photo {
        use base64::Engine;
        let key = attn::sealed::SealKey::generate();
        let sealed = attn::sealed::seal(&key, photo);
        let encoded = base64::engine::general_purpose::STANDARD.encode(sealed);
        session.insert(PHOTO, encoded).await.map_err(store_error)?;
        set_cookie_for(
            PHOTO_KEY_COOKIE,
            &key.to_text(),
            cookie::time::Duration::hours(PHOTO_KEY_HOURS),
        );
    }
    set_cookie(KNOWN_DEVICE_COOKIE, &login.device_token);
    Ok(())
}

/// The cookie that marks a browser someone logged in on (see `attn::auth::login`).
pub const KNOWN_DEVICE_COOKIE: &str = "attn_known";

/// The known-device token of this request's browser, if it sent one.
pub fn known_device_token() -> Option<String> {
    use_context::<http::request::Parts>()
        .and_then(|parts| request_cookie(&parts.headers, KNOWN_DEVICE_COOKIE))
}

/// Ends the login session everywhere (the store forgets it too).
pub async fn end(session: &Session) -> Result<(), AppError> {
    set_cookie_for(PHOTO_KEY_COOKIE, "", cookie::time::Duration::ZERO);
    session.flush().await.map_err(store_error)
}

/// The portal photo kept in the login session (students), for the face check.
pub async fn portal_photo(session: &Session) -> Result<Option<Vec<u8>>, AppError> {
    use base64::Engine;
    let encoded: Option<String> = session.get(PHOTO).await.map_err(store_error)?;
    let key = use_context::<http::request::Parts>()
        .and_then(|parts| request_cookie(&parts.headers, PHOTO_KEY_COOKIE))
        .and_then(|text| attn::sealed::SealKey::from_text(&text));
    Ok(encoded
        .and_then(|e| base64::engine::general_purpose::STANDARD.decode(e).ok())
        .zip(key)
        .and_then(|(sealed, key)| attn::sealed::open(&key, &sealed)))
}

const CEREMONY: &str = "passkey_ceremony";

/// Keeps a passkey ceremony in the login session until the browser answers it (a new one
/// replaces the one before).
pub async fn keep_ceremony(
    session: &Session,
    ceremony: &attn::passkeys::Ceremony,
) -> Result<(), AppError> {
    session
        .insert(CEREMONY, ceremony)
        .await
        .map_err(store_error)
}

/// Takes the passkey ceremony out of the login session: it answers one check-in only.
pub async fn take_ceremony(
    session: &Session,
) -> Result<Option<attn::passkeys::Ceremony>, AppError> {
    session.remove(CEREMONY).await.map_err(store_error)
}

/// The browser's `User-Agent`, cut to 300 bytes (it only names a device).
pub fn user_agent() -> String {
    let agent = use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .headers
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let mut end = agent.len().min(300);
    while !agent.is_char_boundary(end) {
        end -= 1;
    }
    agent[..end].to_owned()
}

/// The timetable read at login.
pub async fn lessons(session: &Session) -> Result<Vec<attn::identity::Lesson>, AppError> {
    Ok(session
        .get(LESSONS)
        .await
        .map_err(store_error)?
        .unwrap_or_default())
}

/// The client's address: the socket peer, or what a trusted proxy says.
pub async fn client_ip(ctx: &Ctx) -> IpAddr {
    let peer = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map(|ConnectInfo(addr)| addr.ip())
        // Fails closed: an address the server cannot read is on no network.
        .unwrap_or(attn::network::UNKNOWN);
    let forwarded = use_context::<http::request::Parts>().and_then(|parts| {
        let values: Vec<String> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    });
    attn::network::client_ip(peer, forwarded.as_deref(), &ctx.config.trusted_proxies)
}

/// Turns a service error into the page's error, with the matching HTTP status.
pub fn fail(error: impl Into<AppError>) -> AppError {
    let error = error.into();
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status());
    }
    error
}

/// A request the server function could not even read: an API caller gets `error`'s status;
/// a plain form goes back to the page it was posted from, which shows the message.
pub fn refuse_unreadable(error: &AppError) {
    if !from_a_form() {
        fail(error.clone());
        return;
    }
    let back = use_context::<http::request::Parts>()
        .and_then(|parts| {
            let referer = parts.headers.get(http::header::REFERER)?.to_str().ok()?;
            let path = referer.parse::<http::Uri>().ok()?.path().to_owned();
            Some(crate::components::paths::local_path(&path))
        })
        .unwrap_or_else(|| "/".to_owned());
    leptos_axum::redirect(&format!("{back}?error={}", error.code()));
}

/// The value of cookie `name` in this request, wherever among its Cookie headers it is (HTTP/2
/// may send one header per cookie).
pub fn request_cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The name of a download's sheet in `lang`: a course's grid, or a session's list.
pub fn sheet_name(lang: crate::i18n::Locale, course: bool) -> &'static str {
    use crate::i18n::td_string;
    if course {
        td_string!(lang, course)
    } else {
        td_string!(lang, attendance)
    }
}

/// The language a request asks for: the cookie if set, else Accept-Language, else Turkish.
pub fn lang_of(headers: &http::HeaderMap) -> crate::i18n::Locale {
    let cookie = request_cookie(headers, crate::language::LANG_COOKIE);
    let accept = headers
        .get_all(http::header::ACCEPT_LANGUAGE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    crate::i18n::Locale::negotiate(
        cookie.as_deref(),
        Some(accept.as_str()).filter(|a| !a.is_empty()),
    )
}

/// Sets a cookie for a year: whole site, HttpOnly, SameSite=Lax, Secure when served over https.
pub fn set_cookie(name: &'static str, value: &str) {
    set_cookie_for(name, value, cookie::time::Duration::days(365));
}

/// Sets cookie `name` for `max_age` (zero removes it), HttpOnly, SameSite=Lax, Secure when
/// configured.
pub fn set_cookie_for(name: &'static str, value: &str, max_age: cookie::time::Duration) {
    let secure = use_context::<Ctx>().is_some_and(|ctx| ctx.config.secure_cookies);
    let cookie = cookie::Cookie::build((name, value.to_owned()))
        .path("/")
        .max_age(max_age)
        .same_site(cookie::SameSite::Lax)
        .http_only(true)
        .secure(secure)
        .build();
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&cookie.to_string()),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

/// After a plain form post: on success to `done`, on failure back to `page` with the error's
/// code in the address, where the page shows it translated.
///
/// A script calling the server function as an API (no `text/html` in `Accept`) gets the error
/// itself instead: its HTTP status and the JSON error of the README's API table.
pub fn redirect_after(
    result: Result<(), AppError>,
    done: &str,
    page: &str,
) -> Result<(), AppError> {
    match result {
        Ok(()) => {
            leptos_axum::redirect(done);
            Ok(())
        }
        Err(error) => {
            let retry = error
                .number()
                .map(|n| format!("&retry={n}"))
                .unwrap_or_default();
            let page = format!("{page}?error={}{retry}", error.code());
            refuse(error, &page)
        }
    }
}

/// A refusal: a plain form goes to `page` (which shows the error), an API caller gets the
/// error with its status.
pub fn refuse(error: AppError, page: &str) -> Result<(), AppError> {
    if from_a_form() {
        leptos_axum::redirect(page);
        Ok(())
    } else {
        Err(fail(error))
    }
}

/// True when the request is a browser's plain form post (it wants a page back), false for a
/// script calling the API.
pub fn from_a_form() -> bool {
    use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// "23.11.2026 09:30": a date and time as lists show them.
pub const DATE_TIME: &str = "%d.%m.%Y %H:%M";

/// `at` in the configured zone, in `format`.
pub fn local(ctx: &Ctx, at: DateTime<Utc>, format: &str) -> String {
    at.with_timezone(&ctx.config.timezone)
        .format(format)
        .to_string()
}

/// Sends this page's Content-Security-Policy: scripts only from this site or inline with this
/// response's nonce (which Leptos puts on every script it inlines), wasm allowed to compile,
/// styles and everything else from this site only, photos previewed from `blob:`, no framing,
/// no plugins, forms posting only here.
pub fn content_security_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&policy),
    ) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Where people reach this server: `ATTN_PUBLIC_URL`, else the host of this request.
pub fn public_base(ctx: &attn::Ctx) -> String {
    if let Some(url) = &ctx.config.public_url {
        return url.clone();
    }
    let host = use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or_else(|| "localhost".into());
    let scheme = if ctx.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}
