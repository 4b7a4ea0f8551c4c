//! Downloads of a teacher's own data: a finished session's list as CSV
//! (`/history/<id>/list.csv`, `?sep=semicolon` for Excel set to Turkish). Only the session's
//! teacher gets it; anyone else gets the refusal a server function would give.

use std::collections::HashMap;

use attn::Ctx;
use attn::export::Separator;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// `GET /history/<id>/list.csv`.
pub async fn session_list(
    ctx: Ctx,
    session: tower_sessions::Session,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let caller = match app::ssr::caller(&ctx, &session).await {
        Ok(caller) => caller,
        Err(error) => return crate::refusal::app_error(&headers, error),
    };
    let detail = match attn::history::past_session(&ctx, caller.as_ref(), &id).await {
        Ok(detail) => detail,
        Err(error) => return crate::refusal::app_error(&headers, error.into()),
    };
    let separator = match query.get("sep").map(String::as_str) {
        Some("semicolon" | ";") => Separator::Semicolon,
        _ => Separator::Comma,
    };
    let lang = app::ssr::lang_of(&headers);
    let table = app::pages::past_session::list_table(&ctx, lang, &detail);
    let body = match attn::export::csv(&table, separator) {
        Ok(body) => body,
        Err(error) => return crate::refusal::app_error(&headers, error.into()),
    };
    let start = detail
        .attendance
        .start_time
        .with_timezone(&ctx.config.timezone)
        .format("%Y-%m-%d-%H%M");
    let disposition = format!("attachment; filename=\"attendance-{start}.csv\"");
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}
