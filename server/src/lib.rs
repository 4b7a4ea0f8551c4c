//! The ATTN web server as a library: the router with every route and layer, so the binary and
//! the HTTP tests build exactly the same application.

pub mod sessions;

use app::{App, shell};
use attn::Ctx;
use axum::{Json, Router, http::StatusCode, response::IntoResponse, routing::get};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

/// Error type of start-up steps.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Pages, server functions, static files, `/healthz`, `/readyz` and login sessions.
pub async fn router(ctx: Ctx, leptos_options: LeptosOptions) -> Result<Router, BoxError> {
    let routes = generate_route_list(App);
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get({
                let ctx = ctx.clone();
                move || readyz(ctx.clone())
            }),
        )
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            {
                let ctx = ctx.clone();
                move || provide_context(ctx.clone())
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options);
    sessions::layer(router, &ctx.config).await
}

/// 200 when the database and the live store answer, 503 (naming what is down) otherwise.
pub async fn readyz(ctx: Ctx) -> impl IntoResponse {
    let r = ctx.readiness().await;
    let status = if r.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let state = |ok: bool| if ok { "ok" } else { "unavailable" };
    (
        status,
        Json(serde_json::json!({
            "database": state(r.database),
            "live_store": state(r.live_store),
        })),
    )
}
