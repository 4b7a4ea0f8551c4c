//! Any address that is not a page.

use leptos::prelude::*;
use leptos_meta::Title;

/// The 404 page.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text=t!(page_not_found)/>
        <section class="card">
            <h1>{t!(page_not_found)}</h1>
            <p><a href="/">{t!(back_home)}</a></p>
        </section>
    }
}
