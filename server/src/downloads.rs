//! Downloads of a teacher's own data as CSV (`?sep=semicolon` for Excel set to Turkish) or
//! XLSX: a finished session's list (`/history/<id>/list.csv|.xlsx`, its teacher and admins) and a
//! course's grid with rates (`/courses/<id>/grid.csv|.xlsx`, its teacher and admins), the
//! audit log (`/admin/audit.csv|.xlsx`, admins). Anyone else gets the refusal a server
//! function would give.

use std::collections::HashMap;

use attn::Ctx;
use attn::export::Separator;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The kind of file a download is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV with a byte-order mark.
    Csv,
    /// An Excel workbook.
    Xlsx,
}

/// `GET /history/<id>/list.csv` and `.xlsx`.
pub async fn session_list(
    format: Format,
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
    let sheet = app::ssr::sheet_name(lang, false);
    table_file(
        format,
        &headers,
        &query,
        &table,
        &format!("attendance-{start}"),
        sheet,
    )
}

/// `GET /courses/<id>/grid.csv` and `.xlsx`.
pub async fn course_grid(
    format: Format,
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
    let sheet = app::ssr::sheet_name(lang, true);
    table_file(
        format,
        &headers,
        &query,
        &table,
        &format!("course-{today}"),
        sheet,
    )
}

/// `GET /admin/audit.csv` and `.xlsx`, with the audit log's filters (`teacher`, `student`,
/// `lesson`, `from`, `to`). Admins only.
pub async fn audit_log(
    format: Format,
    ctx: Ctx,
    session: tower_sessions::Session,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let caller = match app::ssr::caller(&ctx, &session).await {
        Ok(caller) => caller,
        Err(error) => return crate::refusal::app_error(&headers, error),
    };
    let text = |k: &str| query.get(k).map(String::as_str).unwrap_or_default();
    let day = |k: &'static str| app::pages::admin::ssr::parse_day(k, text(k));
    let (from, to) = match (day("from"), day("to")) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(error), _) | (_, Err(error)) => return crate::refusal::app_error(&headers, error),
    };
    let filter = attn::admin::AuditQuery {
        teacher: text("teacher"),
        student: text("student"),
        lesson: text("lesson"),
        from,
        to,
    };
    let entries = match attn::admin::audit_log(&ctx, caller.as_ref(), filter).await {
        Ok(entries) => entries,
        Err(error) => return crate::refusal::app_error(&headers, error.into()),
    };
    let lang = app::ssr::lang_of(&headers);
    let table = app::pages::admin::ssr::audit_table(&ctx, lang, &entries);
    let today = ctx
        .clock
        .now()
        .with_timezone(&ctx.config.timezone)
        .format("%Y-%m-%d");
    let sheet = app::ssr::sheet_name(lang, false);
    table_file(
        format,
        &headers,
        &query,
        &table,
        &format!("audit-{today}"),
        sheet,
    )
}

/// `table` as a download named `name` (ASCII only) plus the format's extension: CSV with the
/// separator `?sep=` asks for, or XLSX with one sheet named `sheet`.
fn table_file(
    format: Format,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    table: &[Vec<String>],
    name: &str,
    sheet: &str,
) -> Response {
    let separator = match query.get("sep").map(String::as_str) {
        Some("semicolon" | ";") => Separator::Semicolon,
        _ => Separator::Comma,
    };
    let (body, content_type, extension) = match format {
        Format::Csv => (
            attn::export::csv(table, separator),
            "text/csv; charset=utf-8",
            "csv",
        ),
        Format::Xlsx => (
            attn::export::xlsx(table, sheet),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    let body = match body {
        Ok(body) => body,
        Err(error) => return crate::refusal::app_error(headers, error.into()),
    };
    let disposition = format!("attachment; filename=\"{name}.{extension}\"");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
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
