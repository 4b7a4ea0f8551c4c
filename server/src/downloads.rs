//! Downloads of a teacher's own data as CSV (`?sep=semicolon` for Excel set to Turkish): a
//! finished session's list (`/history/<id>/list.csv`, its teacher only) and a course's grid
//! with rates (`/courses/<id>/grid.csv`, its teacher and admins). Anyone else gets the refusal
//! a server function would give.

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
    let lang = app::ssr::lang_of(&headers);
    let table = app::pages::past_session::list_table(&ctx, lang, &detail);
    let start = detail
        .attendance
        .start_time
        .with_timezone(&ctx.config.timezone)
        .format("%Y-%m-%d-%H%M");
    csv_file(&headers, &query, &table, &format!("attendance-{start}.csv"))
}

/// `GET /courses/<id>/grid.csv`.
pub async fn course_grid(
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
    let filter = attn::courses::GridFilter::default();
    let grid = match attn::courses::course_grid(&ctx, caller.as_ref(), &id, &filter).await {
        Ok(grid) => grid,
        Err(error) => return crate::refusal::app_error(&headers, error.into()),
    };
    let lang = app::ssr::lang_of(&headers);
    let view = app::pages::course::ssr::view_of(&ctx, caller.as_ref(), &grid);
    let table = app::pages::course::ssr::grid_table(lang, &view);
    let today = ctx
        .clock
        .now()
        .with_timezone(&ctx.config.timezone)
        .format("%Y-%m-%d");
    csv_file(&headers, &query, &table, &format!("course-{today}.csv"))
}

/// `table` as a CSV download named `name` (ASCII only), with the separator `?sep=` asks for.
fn csv_file(
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    table: &[Vec<String>],
    name: &str,
) -> Response {
    let separator = match query.get("sep").map(String::as_str) {
        Some("semicolon" | ";") => Separator::Semicolon,
        _ => Separator::Comma,
    };
    let body = match attn::export::csv(table, separator) {
        Ok(body) => body,
        Err(error) => return crate::refusal::app_error(headers, error.into()),
    };
    let disposition = format!("attachment; filename=\"{name}\"");
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
