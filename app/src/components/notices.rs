//! What a plain form post came back with: the error (`?error=<code>`) or the notice
//! (`?done=<what>`) in the address, shown translated.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;
use crate::use_lang;

/// An error, as every page shows it.
pub fn failure(e: AppError) -> AnyView {
    view! { <p class="error" role="alert" data-testid="error">{e.message(use_lang())}</p> }
        .into_any()
}

/// The error in the address, if any.
pub fn error_from_query() -> impl Fn() -> Option<AppError> + Send + Sync + Copy + 'static {
    let query = use_query_map();
    move || {
        let query = query.read();
        let retry = query.get("retry").and_then(|r| r.parse().ok());
        query
            .get("error")
            .and_then(|code| AppError::from_code(&code, retry))
    }
}

/// The error and the notice in the address.
pub fn outcome_from_query() -> impl IntoView {
    let error = error_from_query();
    let query = use_query_map();
    move || {
        let done = query.read().get("done").and_then(|d| match d.as_str() {
            "saved" => Some(t!(saved)),
            "deleted" => Some(t!(session_deleted_notice)),
            "restored" => Some(t!(restored_notice)),
            "retried" => Some(t!(retried_notice)),
            "passkey_allowed" => Some(t!(passkey_allowed_notice)),
            _ => None,
        });
        view! {
            {error().map(failure)}
            {done.map(|d| view! { <p class="notice" role="status" data-testid="notice">{d}</p> })}
        }
    }
}
