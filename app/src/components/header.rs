//! The bar at the top of every page: brand, links by role, who is logged in, log out, and the
//! language switch. Both buttons are plain forms, so they work before the script loads.

use attn_types::Role;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::components::paths::{encode_component, here};
use crate::components::user::use_user;
use crate::error::AppError;
use crate::i18n::Text;
use crate::{t, use_lang};

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
            <a class="brand" href="/">{t(Text::AppName)}</a>
            <nav class="who">
                <Suspense fallback=|| ()>
                    {move || {
                        let login_href = login_href.clone();
                        Suspend::new(async move {
                        match user.await {
                            Ok(Some(u)) => view! {
                                {(u.role == Role::Teacher).then(|| view! {
                                    <a class="button" href="/teach">{t(Text::Dashboard)}</a>
                                    <a class="button" href="/history">{t(Text::History)}</a>
                                })}
                                {(u.role == Role::Student).then(|| view! { <a class="button" href="/me">{t(Text::MyAttendance)}</a> })}
                                {u.is_admin.then(|| view! { <a class="button" href="/admin">{t(Text::Review)}</a> })}
                                <span class="user" data-testid="user">
                                    <strong>{u.full_name.clone()}</strong>
                                    " · " {t(u.role_text())}
                                </span>
                                <form method="post" action=Logout::url()>
                                    <button type="submit">{t(Text::LogOut)}</button>
                                </form>
                            }.into_any(),
                            _ => view! { <a class="button" href=login_href>{t(Text::LogIn)}</a> }.into_any(),
                        }
                    })}}
                </Suspense>
                // A plain form: it works before the script loads, and the page reloads in the new language.
                <form class="lang-switch" method="post" action=SetLanguage::url()>
                    <input type="hidden" name="lang" value=lang.other().code()/>
                    <input type="hidden" name="return_to" value=return_to/>
                    <button type="submit" lang=lang.other().code()>{t(Text::SwitchLanguage)}</button>
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
    let lang = crate::i18n::Lang::from_code(&lang).unwrap_or_default();
    crate::ssr::set_cookie(crate::i18n::LANG_COOKIE, lang.code());
    leptos_axum::redirect(&crate::components::paths::local_path(&return_to));
    Ok(())
}
