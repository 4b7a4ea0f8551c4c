//! `/metrics` for Prometheus, behind a bearer token (`ATTN_METRICS_TOKEN`), and the timing of
//! every request.

use std::time::Instant;

use attn::Ctx;
use attn::metrics::Metrics;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

/// The metrics, to a caller that shows the token; 404 when no token is configured (the
/// endpoint does not exist), 401 for a wrong or missing one.
pub async fn serve(ctx: Ctx, headers: HeaderMap) -> Response {
    let Some(token) = ctx.config.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let shown = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !bool::from(shown.as_bytes().ct_eq(token.as_bytes())) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        ctx.metrics_text(),
    )
        .into_response()
}

/// Times the request, whatever answers it. A live-events stream counts until its headers go
/// out, not for as long as it stays open.
pub async fn time(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let response = next.run(request).await;
    metrics.request(
        method.as_str(),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
