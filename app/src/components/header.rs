//! The bar at the top of every page: brand, links by role, who is logged in, log out, and the
//! language switch. Both buttons are plain forms, so they work before the script loads.

use attn_types::Role;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::components::paths::{encode_component, here};
use crate::components::user::use_user;
use crate::error::AppError;
use crate::use_lang;

/// The header.
#[component]
pub fn Header() -> impl IntoView {
    let lang = use_lang();
    let user = use_user();
    let return_to = here();
    let login_href = {
        let return_to = return_to.clone();
        move || format!("/login?next={}", encode_component(&return_to()))
    };
    view! {
        <header class="top">
            <a class="brand" href="/">{t!(app_name)}</a>
            <nav class="who">
                <Suspense fallback=|| ()>
                    {move || {
                        let login_href = login_href.clone();
                        Suspend::new(async move {
                        match user.await {
                            Ok(Some(u)) => view! {
                                {(u.role == Role::Teacher).then(|| view! {
                                    <a class="button" href="/teach">{t!(dashboard)}</a>
                                    <a class="button" href="/history">{t!(history)}</a>
                                    <a class="button" href="/courses">{t!(courses)}</a>
                                })}
                                {(u.role == Role::Student).then(|| view! { <a class="button" href="/me">{t!(my_attendance)}</a> })}
                                {(u.is_admin && u.role != Role::Teacher).then(|| view! { <a class="button" href="/courses">{t!(courses)}</a> })}
                                {u.is_admin.then(|| view! { <a class="button" href="/admin">{t!(review)}</a> })}
                                <span class="user" data-testid="user">
                                    <strong>{u.full_name.clone()}</strong>
                                    " · " {u.role_text()}
                                </span>
                                <form method="post" action=Logout::url()>
                                    <button type="submit">{t!(log_out)}</button>
                                </form>
                            }.into_any(),
                            _ => view! { <a class="button" href=login_href>{t!(log_in)}</a> }.into_any(),
                        }
                    })}}
                </Suspense>
                // A plain form: it works before the script loads, and the page reloads in the new language.
                <form class="lang-switch" method="post" action=SetLanguage::url()>
                    <input type="hidden" name="lang" value=lang.other().code()/>
                    <input type="hidden" name="return_to" value=return_to/>
                    <button type="submit" lang=lang.other().code()>{t!(switch_language)}</button>
                </form>
            </nav>
        </header>
    }
}

/// Ends the login, here and in the session store, and goes home. Anyone may call it.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let session = crate::ssr::login_session().await?;
    crate::ssr::end(&session).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Remembers the interface language in a cookie and goes back to `return_to` (a path on this
/// site). Works as a plain form post, before any script has loaded. Anyone may call it.
#[server(endpoint = "set_language")]
pub async fn set_language(lang: String, return_to: String) -> Result<(), AppError> {
    let lang = crate::i18n::Locale::from_code(&lang).unwrap_or_default();
    crate::ssr::set_cookie(crate::language::LANG_COOKIE, lang.code());
    leptos_axum::redirect(&crate::components::paths::local_path(&return_to));
    Ok(())
}
