//! Refusals made before any page or server function runs (another origin, a malformed body):
//! a small page in the caller's language, or the documented JSON error for API callers.

use app::error::Refusal;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

/// The refusal: `json` (a JSON string, as in the README's API table) for callers that ask for
/// JSON, else a page saying `refusal` in the caller's language, its heading marked `testid`.
pub fn page(
    headers: &HeaderMap,
    status: StatusCode,
    json: &'static str,
    refusal: Refusal,
    testid: &'static str,
) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"));
    if wants_json {
        return (status, axum::Json(json)).into_response();
    }
    let lang = app::ssr::lang_of(headers);
    let page = format!(
        "<!DOCTYPE html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · ATTN</title></head><body><main><section class=\"card\">\
         <h1 data-testid=\"{testid}\">{title}</h1><p>{hint}</p><p><a href=\"/\">{home}</a></p>\
         </section></main></body></html>",
        code = lang.code(),
        title = refusal.title(lang),
        hint = refusal.hint(lang).unwrap_or_default(),
        home = "ATTN",
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
    closing(page(
        request.headers(),
        StatusCode::BAD_REQUEST,
        "Invalid",
        Refusal::Invalid,
        "bad-request",
    ))
}

/// The largest request body of a form post: every form is a few fields.
pub const FORM_LIMIT: usize = 64 * 1024;

/// The largest body of the selfie form: the photo's limit and room for the other fields.
pub const SELFIE_LIMIT: usize = attn::face::decode::MAX_UPLOAD_BYTES + 64 * 1024;

/// The largest body of the class list upload: a 512 KB file and room for the lesson's name.
pub const CLASS_LIST_LIMIT: usize = 512 * 1024 + 64 * 1024;

/// Bounds every request body by its route: the selfie form to [`SELFIE_LIMIT`], the class list
/// upload to [`CLASS_LIST_LIMIT`], everything else to [`FORM_LIMIT`]. A body announced larger is
/// refused with a translated 413 before a byte of it is read; a body that grows past the limit
/// while it streams is cut there.
pub async fn body_limit(request: Request, next: Next) -> Response {
    let limit = match request.uri().path() {
        "/api/check_in_selfie" => SELFIE_LIMIT,
        "/api/import_class_list" => CLASS_LIST_LIMIT,
        _ => FORM_LIMIT,
    };
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return closing(page(
            request.headers(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "TooLarge",
            Refusal::TooLarge,
            "too-large",
        ));
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}

/// A refusal of the app's own (`AppError`) made before its server function runs: a plain form
/// goes back to the page it came from with the message (or to the login page), an API caller
/// gets the status and the JSON error of the README's table.
pub fn app_error(headers: &HeaderMap, error: app::error::AppError) -> Response {
    use app::components::paths::{encode_component, local_path};
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if !wants_html {
        return (error.status(), axum::Json(error)).into_response();
    }
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.parse::<axum::http::Uri>().ok())
        .map(|uri| local_path(uri.path()))
        .unwrap_or_else(|| "/".to_owned());
    let to = match &error {
        app::error::AppError::LoginRequired => {
            format!("/login?next={}", encode_component(&back))
        }
        _ => {
            let retry = error
                .retry_after()
                .map(|secs| format!("&retry={secs}"))
                .unwrap_or_default();
            format!("{back}?error={}{retry}", error.code())
        }
    };
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

/// Guards the selfie form before a byte of its body is read: the caller must be a logged-in
/// student within their check-in limit, and at most `ATTN_UPLOADS_IN_FLIGHT` selfies are
/// received at once (past that: the face check is busy, try again in a few seconds).
#[derive(Clone)]
pub struct SelfieGate {
    ctx: attn::Ctx,
    in_flight: std::sync::Arc<tokio::sync::Semaphore>,
}

impl SelfieGate {
    /// The gate of `ctx`'s server.
    pub fn new(ctx: &attn::Ctx) -> Self {
        Self {
            in_flight: std::sync::Arc::new(tokio::sync::Semaphore::new(
                ctx.config.uploads_in_flight,
            )),
            ctx: ctx.clone(),
        }
    }
}

/// See [`SelfieGate`].
pub async fn selfie_gate(
    axum::extract::State(gate): axum::extract::State<SelfieGate>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path() != "/api/check_in_selfie" {
        return next.run(request).await;
    }
    let Some(session) = request
        .extensions()
        .get::<tower_sessions::Session>()
        .cloned()
    else {
        return next.run(request).await;
    };
    let allowed = match app::ssr::caller(&gate.ctx, &session).await {
        Ok(caller) => attn::student::may_upload_selfie(&gate.ctx, caller.as_ref())
            .await
            .map_err(app::error::AppError::from),
        Err(error) => Err(error),
    };
    if let Err(error) = allowed {
        return closing(app_error(request.headers(), error));
    }
    // Held until the answer is ready, so the body is read (and checked) within the cap.
    let Ok(_receiving) = gate.in_flight.clone().try_acquire_owned() else {
        return closing(app_error(
            request.headers(),
            app::error::AppError::FaceBusy {
                retry_after_secs: 2,
            },
        ));
    };
    next.run(request).await
}

/// `response` with `Connection: close`: it answers a request whose body was not read, so the
/// connection cannot carry another request and the client must not try.
fn closing(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    response
}
