//! Built only with the `e2e-clock` feature, for the browser tests' server: its clock runs on the
//! system clock moved forward by `POST /e2e/clock` (form field `minutes`), so a test reaches a
//! late cut-off without waiting for it. Never part of the server the README builds.

use std::sync::Arc;

use attn::{Ctx, ShiftedClock};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;

#[derive(Deserialize)]
struct Advance {
    minutes: i64,
}

/// Puts `ctx` on a clock that tests can move forward; the route that moves it.
pub fn shifted(mut ctx: Ctx) -> (Ctx, Router) {
    let clock = Arc::new(ShiftedClock::default());
    ctx.clock = clock.clone();
    tracing::warn!("test clock: POST /e2e/clock moves this server's time forward");
    let route = Router::new().route(
        "/e2e/clock",
        post(move |Form(advance): Form<Advance>| async move {
            let shift = clock.advance(chrono::Duration::minutes(advance.minutes));
            format!("{}", shift.num_minutes())
        }),
    );
    (ctx, route)
}
