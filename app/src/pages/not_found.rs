//! Any address that is not a page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::Text;
use crate::t;

/// The 404 page.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text=t(Text::PageNotFound)/>
        <section class="card">
            <h1>{t(Text::PageNotFound)}</h1>
            <p><a href="/">{t(Text::BackHome)}</a></p>
        </section>
    }
}
