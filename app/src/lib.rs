//! ATTN's web interface: pages (server-rendered, then hydrated) and the server functions they
//! call, one module per page in `pages/`, shared pieces in `components/`, and the server-only
//! plumbing in `ssr`. A server function extracts the caller's login session, calls one service
//! function in `attn` and maps its error; it never touches the database or Redis itself.

pub mod components;
pub mod error;
pub mod i18n;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

use components::header::Header;
use components::user::{UserResource, current_user};
use i18n::{Lang, Text};
use pages::{admin, find, history, home, join, live, login, me, not_found, past_session, teach};

/// The HTML document around the app (server only). Only pages that cannot work as plain
/// forms load the browser build (see [`needs_script`]); every other page is complete as the
/// server sends it.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = request_lang();
    let script = request_path().is_some_and(|path| needs_script(&path));
    view! {
        <!DOCTYPE html>
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                {script.then(|| view! {
                    <AutoReload options=options.clone()/>
                    <HydrationScripts options/>
                })}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Whether the page at `path` loads the browser build (wasm). Only the live page does: it
/// follows check-ins as the server pushes them. Every other page is made of links and plain
/// forms, so a student's phone (QR code, login, check-in, own record) downloads no wasm at all.
pub fn needs_script(path: &str) -> bool {
    path.starts_with("/live/")
}

/// The path of the request being rendered (server only).
fn request_path() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().map(|parts| parts.uri.path().to_owned())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The language of the current request: on the server from the cookie and Accept-Language, in
/// the browser from `<html lang>`, which the server wrote.
pub fn request_lang() -> Lang {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|parts| ssr::lang_of(&parts.headers))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .document_element()
            .and_then(|html| html.get_attribute("lang"))
            .and_then(|code| Lang::from_code(&code))
            .unwrap_or_default()
    }
}

/// The language chosen for this page, provided by [`App`].
pub fn use_lang() -> Lang {
    use_context::<Lang>().unwrap_or_default()
}

/// The whole application: header, routes, fallback.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let lang = request_lang();
    provide_context(lang);
    let user: UserResource = Resource::new(|| (), |_| current_user());
    provide_context(user);
    view! {
        <Title formatter=|page: String| if page.is_empty() { "ATTN".to_string() } else { format!("{page} · ATTN") }/>
        <Router>
            <Header/>
            <main>
                <Routes fallback=|| view! { <not_found::NotFound/> }>
                    // Async: the whole answer is in the first HTML, for phones that have not
                    // loaded the script, and a redirect (to log in) can still be sent.
                    <Route path=StaticSegment("") view=home::HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("login") view=login::LoginPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("join"), ParamSegment("id")) view=join::JoinPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("teach") view=teach::TeachPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("find") view=find::FindPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("live"), ParamSegment("id")) view=live::LivePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("history") view=history::HistoryPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("history"), ParamSegment("id")) view=past_session::PastSessionPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("me") view=me::MyAttendancePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("admin") view=admin::AdminPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Text of `key` in the page's language.
pub fn t(key: Text) -> &'static str {
    key.get(use_lang())
}

/// Text of `key` in the page's language with its named values filled in:
/// `tf(Text::AttendedCount, &[("count", &3)])`.
pub fn tf(key: Text, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    key.fill(use_lang(), args)
}

/// Entry point of the browser build: takes over the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
