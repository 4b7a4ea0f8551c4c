//! The pages: header, home, not found.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use crate::api::{SessionUser, SetLanguage, current_user};
use crate::i18n::Text;
use crate::{t, use_lang};

/// The bar at the top: brand and language switch.
#[component]
pub fn Header() -> impl IntoView {
    let lang = use_lang();
    let location = use_location();
    let return_to = move || {
        let search = location.search.get();
        if search.is_empty() {
            location.pathname.get()
        } else {
            format!("{}?{}", location.pathname.get(), search)
        }
    };
    view! {
        <header class="top">
            <a class="brand" href="/">{t(Text::AppName)}</a>
            // A plain form: it works before the script loads, and the page reloads in the new language.
            <form class="lang-switch" method="post" action=SetLanguage::url()>
                <input type="hidden" name="lang" value=lang.other().code()/>
                <input type="hidden" name="return_to" value=return_to/>
                <button type="submit" lang=lang.other().code()>{t(Text::SwitchLanguage)}</button>
            </form>
        </header>
    }
}

/// The home page: what ATTN is and whether you are logged in.
#[component]
pub fn HomePage() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <Title text=""/>
        <section class="card hero">
            <h1>{t(Text::AppName)}</h1>
            <p class="tagline">{t(Text::Tagline)}</p>
            <Suspense fallback=|| view! { <p class="muted">{t(Text::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(user)) => view! { <LoggedIn user/> }.into_any(),
                        Ok(None) => view! {
                            <p class="login-state" data-state="anonymous">{t(Text::NotLoggedIn)}</p>
                        }.into_any(),
                        Err(_) => view! { <p class="error" role="alert">{t(Text::Unavailable)}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <ul class="how">
                <li>{t(Text::HowTeachers)}</li>
                <li>{t(Text::HowStudents)}</li>
            </ul>
        </section>
    }
}

#[component]
fn LoggedIn(user: SessionUser) -> impl IntoView {
    let role = match (user.is_admin, user.role.as_str()) {
        (true, _) => Text::RoleAdmin,
        (false, "teacher") => Text::RoleTeacher,
        _ => Text::RoleStudent,
    };
    view! {
        <p class="login-state" data-state="logged-in">
            {t(Text::LoggedInAs)} " " <strong>{user.full_name}</strong>
            " (" {user.school_number} ", " {t(role)} ")"
        </p>
    }
}

/// Any address that is not a page.
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
