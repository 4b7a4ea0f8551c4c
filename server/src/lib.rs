//! The ATTN web server as a library: the router with every route and layer, so the binary and
//! the HTTP tests build exactly the same application.

mod downloads;
#[cfg(feature = "e2e-clock")]
pub mod e2e;
mod events;
mod metrics;
pub mod origin;
mod refusal;
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

/// Pages, server functions, static files, `/healthz`, `/readyz`, `/metrics` and login sessions.
pub async fn router(ctx: Ctx, leptos_options: LeptosOptions) -> Result<Router, BoxError> {
    let routes = route_list();
    // The downloads: a session's list, a course's grid and the audit log, as CSV and XLSX.
    let list = |format| {
        let ctx = ctx.clone();
        get(move |session, path, query, headers| {
            downloads::session_list(format, ctx.clone(), session, path, query, headers)
        })
    };
    let grid = |format| {
        let ctx = ctx.clone();
        get(move |session, path, query, headers| {
            downloads::course_grid(format, ctx.clone(), session, path, query, headers)
        })
    };
    let audit = |format| {
        let ctx = ctx.clone();
        get(move |session, query, headers| {
            downloads::audit_log(format, ctx.clone(), session, query, headers)
        })
    };
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/history/{id}/list.csv", list(downloads::Format::Csv))
        .route("/history/{id}/list.xlsx", list(downloads::Format::Xlsx))
        .route("/courses/{id}/grid.csv", grid(downloads::Format::Csv))
        .route("/courses/{id}/grid.xlsx", grid(downloads::Format::Xlsx))
        .route("/admin/audit.csv", audit(downloads::Format::Csv))
        .route("/admin/audit.xlsx", audit(downloads::Format::Xlsx))
        .route(
            "/api/live_events/{id}",
            get({
                let ctx = ctx.clone();
                move |session, path| events::live_events(ctx.clone(), session, path)
            }),
        )
        .route(
            "/api/join_events/{id}",
            get({
                let ctx = ctx.clone();
                move |session, path| events::join_events(ctx.clone(), session, path)
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
    let logins = sessions::connect(&ctx.config, &ctx.metrics).await?;
    let router = router.route(
        "/readyz",
        get({
            let (ctx, logins) = (ctx.clone(), logins.clone());
            move || readyz(ctx.clone(), logins.clone())
        }),
    );
    let router = router.route(
        "/metrics",
        get({
            let ctx = ctx.clone();
            move |headers| metrics::serve(ctx.clone(), headers)
        }),
    );
    // Inside the login sessions, so the selfie form's gate knows who is sending it.
    let router = router.layer(axum::middleware::from_fn_with_state(
        refusal::SelfieGate::new(&ctx),
        refusal::selfie_gate,
    ));
    let router = security_headers(sessions::layer(router, &logins, &ctx.config)?, &ctx.config);
    // Outermost: a request from another origin, or one whose body cannot be read, is refused
    // before anything else runs.
    Ok(router
        .layer(axum::middleware::from_fn(refusal::multipart_boundary))
        .layer(axum::middleware::from_fn(refusal::body_limit))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            ctx.config.body_idle,
        ))
        .layer(axum::middleware::from_fn_with_state(
            origin::Allowed::new(&ctx.config),
            origin::check,
        ))
        .layer(axum::middleware::from_fn_with_state(
            ctx.metrics.clone(),
            metrics::time,
        )))
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets the requests in flight
/// finish. Each connection must send a request's headers within `header_read` (hyper's own
/// deadline, so a slow-header attack holds no connection for long); a body that stalls is given
/// up by the router's body time-out.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    header_read: std::time::Duration,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;

    let (closing, closed) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a moment instead of spinning.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(
            router
                .clone()
                .layer(axum::Extension(ConnectInfo::<std::net::SocketAddr>(peer))),
        );
        let mut closed = closed.clone();
        tokio::spawn(async move {
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = closed.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    drop(closed);
    let _ = closing.send(());
    // Every connection holds a receiver until it is done.
    closing.closed().await;
    Ok(())
}

/// Headers on every answer: no framing by other sites (clickjacking), no guessing of content
/// types, no full addresses (with session ids in them) sent to other sites, and, when served over
/// https (`ATTN_SECURE_COOKIES`), HSTS.
fn security_headers(router: Router, config: &attn::Config) -> Router {
    use axum::http::{HeaderName, HeaderValue, header};
    use tower_http::set_header::SetResponseHeaderLayer;
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    let router = router
        .layer(set(
            header::CONTENT_SECURITY_POLICY,
            "frame-ancestors 'none'",
        ))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(
            header::REFERRER_POLICY,
            "strict-origin-when-cross-origin",
        ));
    if config.secure_cookies {
        router.layer(set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        router
    }
}

/// The site's own files (wasm, script, style sheet), straight from the folder with their
/// precompressed copies (Leptos's fallback file handler would drop a browser's "has it
/// changed?"). Built with hashed names (`LEPTOS_HASH_FILES=true`, as `cargo leptos` builds
/// them), a name never changes content, so browsers keep the files for a year without asking;
/// otherwise they keep them but ask (304) before each use.
fn site_files(options: &LeptosOptions) -> Router<LeptosOptions> {
    let policy = axum::http::HeaderValue::from_static(if options.hash_files {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    });
    let cache = move |mut response: axum::response::Response| {
        let policy = policy.clone();
        async move {
            if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
                response
                    .headers_mut()
                    .insert(axum::http::header::CACHE_CONTROL, policy);
            }
            response
        }
    };
    Router::new()
        .route_service(
            &leptos_axum::site_pkg_dir_service_route_path(options),
            leptos_axum::site_pkg_dir_service(options),
        )
        .layer(axum::middleware::map_response(cache))
}

/// With hashed names on, the file that maps each asset to its hash (written by `cargo leptos
/// build` beside the server binary, or named by `LEPTOS_HASH_FILE_NAME`) must be there: without
/// it pages would link names that do not exist.
pub fn check_site(options: &LeptosOptions) -> Result<(), BoxError> {
    if !options.hash_files {
        return Ok(());
    }
    let exe_dir = std::env::current_exe()?
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let path = exe_dir.join(options.hash_file.as_ref());
    if path.is_file() {
        Ok(())
    } else {
        Err(format!(
            "LEPTOS_HASH_FILES is on but {} is missing: copy the hash file `cargo leptos build` wrote beside the server binary, or set LEPTOS_HASH_FILE_NAME",
            path.display()
        )
        .into())
    }
}

/// 200 while check-ins can be served (the live store and the login-session store answer),
/// with `serves` saying `everything` or, the database being away, `check-ins`; 503 otherwise.
/// Each part names its state; it also says whether the face check is there (without it the app
/// serves, with no level 3).
pub async fn readyz(ctx: Ctx, logins: sessions::LoginStore) -> impl IntoResponse {
    let (r, login_sessions) = tokio::join!(ctx.readiness(), logins.ping());
    // Check-ins need only the live store and the logins; with the database away they go on,
    // so the instance stays in the load balancer (draining every instance would stop every
    // running class) and says it serves check-ins only.
    let check_ins = r.live_store && login_sessions;
    let status = if check_ins {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let serves = match (check_ins, r.database) {
        (true, true) => "everything",
        (true, false) => "check-ins",
        (false, _) => "nothing",
    };
    let state = |ok: bool| if ok { "ok" } else { "unavailable" };
    (
        status,
        Json(serde_json::json!({
            "database": state(r.database),
            "live_store": state(r.live_store),
            "login_sessions": state(login_sessions),
            "sessions_set_aside": r.sessions_set_aside,
            "live_store_durability": match &r.live_store_durability {
                None if ctx.config.redis_url.is_none() => "in-process".to_owned(),
                None => "unknown".to_owned(),
                Some(d) if d.keeps_acknowledged_writes() => "durable".to_owned(),
                Some(d) => format!("volatile: needs {}", d.shortfalls().join(", ")),
            },
            "face_check": state(r.face_check),
            "serves": serves,
        })),
    )
}
