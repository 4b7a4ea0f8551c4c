//! The ATTN web server as a library: the router with every route and layer, so the binary and
//! the HTTP tests build exactly the same application.

mod events;
pub mod sessions;

use app::{App, shell};
use attn::Ctx;
use axum::{Json, Router, http::StatusCode, response::IntoResponse, routing::get};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

/// Error type of start-up steps.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The app's routes, worked out once per process. Working them out pauses every resource that
/// starts loading meanwhile, process-wide; doing it once, before anything is served, keeps a
/// second router in the same process (the HTTP tests build many) from stalling a page.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Pages, server functions, static files, `/healthz`, `/readyz` and login sessions.
pub async fn router(ctx: Ctx, leptos_options: LeptosOptions) -> Result<Router, BoxError> {
    let routes = route_list();
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/api/live_events/{id}",
            get({
                let ctx = ctx.clone();
                move |session, path| events::live_events(ctx.clone(), session, path)
            }),
        )
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
        .merge(site_files(&leptos_options))
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options)
        // Pages and API answers are compressed on the fly; the site's files come precompressed
        // (`cargo leptos build --release --precompress`) and are sent as they are.
        .layer(tower_http::compression::CompressionLayer::new());
    sessions::layer(router, &ctx.config).await
}

/// The site's own files (wasm, script, style sheet), straight from the folder with their
/// precompressed copies, so a browser's "has it changed?" gets its 304 (Leptos's fallback file
/// handler drops that question). Their names stay the same from build to build, so browsers
/// may keep them but must ask before using them.
fn site_files(options: &LeptosOptions) -> Router<LeptosOptions> {
    async fn revalidate(mut response: axum::response::Response) -> axum::response::Response {
        response.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-cache"),
        );
        response
    }
    Router::new()
        .route_service(
            &leptos_axum::site_pkg_dir_service_route_path(options),
            leptos_axum::site_pkg_dir_service(options),
        )
        .layer(axum::middleware::map_response(revalidate))
}

/// 200 when the database and the live store answer, 503 (naming what is down) otherwise. It
/// also says whether the face check is there; without it the app serves, with no level 3.
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
            "face_check": state(r.face_check),
        })),
    )
}
