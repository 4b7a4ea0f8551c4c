//! The ATTN server: reads the configuration, connects the stores, brings the schema up to date,
//! starts the sweep and serves the pages, `/healthz` and `/readyz`.
//!
//! `server` (or `server serve`) runs it; `server migrate` only applies migrations and exits.

mod sessions;

use std::net::SocketAddr;
use std::process::ExitCode;

use app::{App, shell};
use attn::{Config, Ctx};
use axum::{Json, Router, http::StatusCode, response::IntoResponse, routing::get};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::sync::watch;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(%error, "configuration");
            return ExitCode::FAILURE;
        }
    };
    let result = match std::env::args().nth(1).as_deref() {
        None | Some("serve") => serve(config).await,
        Some("migrate") => migrate(config).await,
        Some(other) => {
            eprintln!("unknown command {other:?}; use `server [serve|migrate]`");
            return ExitCode::FAILURE;
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "stopped");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn migrate(config: Config) -> Result<(), BoxError> {
    let db = attn::Db::connect(&config.database_url).await?;
    db.migrate().await?;
    tracing::info!("migrations applied");
    Ok(())
}

async fn serve(config: Config) -> Result<(), BoxError> {
    tracing::info!("{}", config.mode_description());
    let ctx = Ctx::connect(config).await?;
    let leptos_options = get_configuration(None)?.leptos_options;
    let addr = leptos_options.site_addr;

    let (stop_sweep, sweep_stopped) = watch::channel(false);
    let sweep = tokio::spawn(
        ctx.sweeper()
            .run(ctx.config.sweep_interval, sweep_stopped),
    );

    let routes = generate_route_list(App);
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get({
            let ctx = ctx.clone();
            move || readyz(ctx.clone())
        }))
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
    let router = sessions::layer(router, &ctx.config).await?;

    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;

    let _ = stop_sweep.send(true);
    let _ = sweep.await;
    Ok(())
}

/// 200 when the database and the live store answer, 503 (naming what is down) otherwise.
async fn readyz(ctx: Ctx) -> impl IntoResponse {
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

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}
