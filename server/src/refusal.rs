//! Refusals made before any page or server function runs (another origin, a malformed body):
//! a small page in the caller's language, or the documented JSON error for API callers.

use app::i18n::{LANG_COOKIE, Lang, Text};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

/// The refusal: `json` (a JSON string, as in the README's API table) for callers that ask for
/// JSON, else a page with `title` and `hint`, its heading marked `testid`.
pub fn page(
    headers: &HeaderMap,
    status: StatusCode,
    json: &'static str,
    title: Text,
    hint: Option<Text>,
    testid: &'static str,
) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"));
    if wants_json {
        return (status, axum::Json(json)).into_response();
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LANG_COOKIE)
        .map(|(_, value)| value.to_owned());
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = Lang::negotiate(cookie.as_deref(), accept);
    let page = format!(
        "<!DOCTYPE html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · ATTN</title></head><body><main><section class=\"card\">\
         <h1 data-testid=\"{testid}\">{title}</h1><p>{hint}</p><p><a href=\"/\">{home}</a></p>\
         </section></main></body></html>",
        code = lang.code(),
        title = title.get(lang),
        hint = hint.map(|h| h.get(lang)).unwrap_or_default(),
        home = Text::AppName.get(lang),
    );
    (status, Html(page)).into_response()
}

/// Refuses a multipart body whose `Content-Type` names no boundary with a 400, before the
/// server function would fail to read it.
pub async fn multipart_boundary(request: Request, next: Next) -> Response {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let Some(content_type) = content_type.filter(|ct| {
        ct.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/")
    }) else {
        return next.run(request).await;
    };
    if multer::parse_boundary(content_type).is_ok_and(|b| !b.is_empty()) {
        return next.run(request).await;
    }
    page(
        request.headers(),
        StatusCode::BAD_REQUEST,
        "Invalid",
        Text::ErrInvalid,
        None,
        "bad-request",
    )
}
