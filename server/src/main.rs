//! The ATTN server: reads the configuration, connects the stores, brings the schema up to date,
//! starts the sweep and serves the pages, `/healthz` and `/readyz`.
//!
//! `server` (or `server serve`) runs it; `server migrate` only applies migrations and exits.

use std::process::ExitCode;

use attn::{Config, Ctx};
use leptos::prelude::get_configuration;
use server::BoxError;
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

async fn migrate(config: Config) -> Result<(), BoxError> {
    let db = attn::Db::connect(&config.database_url).await?;
    db.migrate().await?;
    tracing::info!("migrations applied");
    Ok(())
}

async fn serve(config: Config) -> Result<(), BoxError> {
    tracing::info!("{}", config.mode_description());
    let ctx = Ctx::connect(config).await?;
    #[cfg(feature = "e2e-clock")]
    let (ctx, e2e_clock) = server::e2e::shifted(ctx);
    let leptos_options = get_configuration(None)?.leptos_options;
    server::check_site(&leptos_options)?;
    let addr = leptos_options.site_addr;

    let (stop_sweep, sweep_stopped) = watch::channel(false);
    let sweep = tokio::spawn(ctx.sweeper().run(ctx.config.sweep_interval, sweep_stopped));

    let router = server::router(ctx.clone(), leptos_options).await?;
    #[cfg(feature = "e2e-clock")]
    let router = router.merge(e2e_clock);

    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    server::serve(listener, router, ctx.config.header_read, shutdown_signal()).await?;

    let _ = stop_sweep.send(true);
    let _ = sweep.await;
    Ok(())
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
