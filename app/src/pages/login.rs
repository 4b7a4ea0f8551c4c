//! Logging in and out. The login form is a plain form posted to the server: it works before the
//! script loads; on a failure the server sends the person back here with the reason in the
//! address.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::paths::local_path;
use crate::components::user::use_user;
use crate::error::AppError;
use crate::use_lang;

/// Logs in with a school number (or portal username) and password, then goes to `next` (a path
/// on this site). A plain form post: on failure it goes back to the login page with the reason.
/// Anyone may call it; limited per username and client address, per username, and per client
/// address, except that a browser the person logged in on before has a limit of its own.
#[server(endpoint = "login")]
pub async fn login(
    school_number: String,
    password: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    use crate::components::paths::encode_component;
    use crate::ssr;

    let ctx = ssr::ctx()?;
    let session = ssr::login_session().await?;
    let device = ssr::known_device_token();
    let credentials = attn::auth::Credentials {
        username: &school_number,
        password: &password,
        client_ip: ssr::client_ip(&ctx).await,
        device_token: device.as_deref(),
    };
    let outcome = match attn::auth::login(&ctx, credentials).await {
        Ok(done) => ssr::start(&ctx, &session, done).await,
        Err(error) => Err(error.into()),
    };
    let next = local_path(&next);
    match outcome {
        Ok(()) => {
            leptos_axum::redirect(&next);
            Ok(())
        }
        Err(error) => {
            let retry = match &error {
                AppError::RateLimited { retry_after_secs } => format!("&retry={retry_after_secs}"),
                _ => String::new(),
            };
            let page = format!(
                "/login?error={}{retry}&next={}",
                error.code(),
                encode_component(&next)
            );
            ssr::refuse(error, &page)
        }
    }
}

/// The login page.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || local_path(&query.read().get("next").unwrap_or_default());
    let error = move || {
        let q = query.read();
        let retry = q.get("retry").and_then(|r| r.parse().ok());
        q.get("error")
            .and_then(|code| AppError::from_code(&code, retry))
    };
    let user = use_user();
    view! {
        <Title text=t!(log_in)/>
        <section class="card narrow">
            <h1>{t!(log_in)}</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    user.await.ok().flatten().map(|u| view! {
                        <p class="login-state" data-state="logged-in">
                            {t!(logged_in_as)} " " <strong>{u.full_name}</strong>
                        </p>
                    })
                })}
            </Suspense>
            {move || error().map(|e| view! { <p class="error" role="alert" data-testid="login-error">{e.message(use_lang())}</p> })}
            <form class="stack" method="post" action=Login::url()>
                <label>
                    {t!(school_number)}
                    <input name="school_number" autocomplete="username" required autocapitalize="none" spellcheck="false"/>
                </label>
                <label>
                    {t!(password)}
                    <input name="password" type="password" autocomplete="current-password" required/>
                </label>
                <input type="hidden" name="next" value=next/>
                <button class="primary" type="submit">{t!(log_in)}</button>
            </form>
            <p class="muted small">{t!(login_hint)}</p>
        </section>
    }
}
