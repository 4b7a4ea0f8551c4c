//! Server-sent events for the live page: one "changed" event each time the session changes, on
//! any instance (the live store's pub/sub), so the teacher's page updates without a reload. And
//! for the students' join pages: one "changed" event for each notice of their session (a
//! re-check, its end, the teacher's change of their record).

use std::convert::Infallible;
use std::time::Duration;

use app::error::AppError;
use attn::Ctx;
use axum::extract::Path;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use tower_sessions::Session;

/// `GET /api/live_events/{id}`: the session's owner only.
pub async fn live_events(ctx: Ctx, session: Session, Path(id): Path<String>) -> Response {
    let caller = match app::ssr::caller(&ctx, &session).await {
        Ok(caller) => caller,
        Err(error) => return refused(error),
    };
    match attn::teacher::watch(&ctx, caller.as_ref(), &id).await {
        Ok(changes) => changed_events(futures_util::stream::unfold(
            changes,
            |mut changes| async move { changes.recv().await.map(|()| ((), changes)) },
        )),
        Err(error) => refused(error.into()),
    }
}

/// `GET /api/join_events/{id}`: anyone logged in, while the session is live.
pub async fn join_events(ctx: Ctx, session: Session, Path(id): Path<String>) -> Response {
    let caller = match app::ssr::caller(&ctx, &session).await {
        Ok(caller) => caller,
        Err(error) => return refused(error),
    };
    match attn::notices::watch_join(&ctx, caller.as_ref(), &id).await {
        Ok(notices) => changed_events(futures_util::stream::unfold(
            notices,
            |mut notices| async move { notices.next().await.map(|()| ((), notices)) },
        )),
        Err(error) => refused(error.into()),
    }
}

/// One "changed" event per item of `changes`, kept alive every 15 seconds.
fn changed_events(changes: impl Stream<Item = ()> + Send + 'static) -> Response {
    use futures_util::StreamExt;
    let events = changes.map(|()| Ok::<_, Infallible>(Event::default().data("changed")));
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

fn refused(error: AppError) -> Response {
    (error.status(), error.code()).into_response()
}
