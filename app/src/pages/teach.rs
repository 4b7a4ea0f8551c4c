//! The teacher's dashboard: the form that starts a session (lesson, duration, security level,
//! device check, rotating code, late cut-off), or a link to the session already running. A
//! plain form post.

use attn_types::{DeviceCheck, SecurityLevel};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::components::notices::{error_from_query, failure};
use crate::error::AppError;

/// Starts a session and opens its live page. Teachers only. A plain form post.
#[server(endpoint = "start_session")]
pub async fn start_session(
    lesson_name: String,
    duration: String,
    security: String,
    #[server(default)] rotate: String,
    #[server(default)] late_after: String,
    #[server(default)] class_hours: String,
    #[server(default)] device: String,
) -> Result<(), AppError> {
    use crate::ssr;

    let (ctx, _, caller) = ssr::current().await?;
    let device_check = match device.trim() {
        "" => DeviceCheck::Cookie,
        other => match other.parse::<DeviceCheck>() {
            Ok(check) => check,
            Err(_) => {
                let error = AppError::Invalid {
                    field: "device".into(),
                };
                let page = format!("/teach?error={}", error.code());
                return ssr::refuse(error, &page);
            }
        },
    };
    let duration_minutes = duration.trim().parse().unwrap_or(0);
    let security = security
        .trim()
        .parse::<i16>()
        .ok()
        .and_then(|n| SecurityLevel::try_from(n).ok())
        .unwrap_or(SecurityLevel::Network);
    let request = attn::teacher::StartSession {
        lesson_name,
        duration_minutes,
        security,
        rotate_code: !rotate.is_empty(),
        // Empty: never late. Anything but a number is refused by the rule (as 0 minutes).
        late_after_minutes: match late_after.trim() {
            "" => None,
            n => Some(n.parse().unwrap_or(0)),
        },
        // Empty: not given. Anything but a number 1-12 is refused by the rule.
        class_hours: match class_hours.trim() {
            "" => None,
            n => Some(n.parse().unwrap_or(0)),
        },
        device_check,
    };
    let ip = ssr::client_ip(&ctx).await;
    match attn::teacher::start_session(&ctx, caller.as_ref(), request, ip).await {
        Ok(session) => {
            leptos_axum::redirect(&format!("/live/{}", session.id));
            Ok(())
        }
        Err(attn::Error::ActiveSessionExists(id)) => ssr::refuse(
            AppError::ActiveSession {
                session_id: id.to_string(),
            },
            &format!("/teach?error=active_session&session={id}"),
        ),
        Err(error) => {
            let error = AppError::from(error);
            let page = format!("/teach?error={}", error.code());
            ssr::refuse(error, &page)
        }
    }
}

/// Whether this server can check faces (level 3). Teachers only.
#[server(endpoint = "face_check_available")]
pub async fn face_check_available() -> Result<bool, AppError> {
    use crate::ssr;
    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    attn::auth::Caller::require_teacher(caller.as_ref()).map_err(ssr::fail)?;
    Ok(ctx.face.is_some())
}

/// Whether sessions here can ask for the students' passkeys (`ATTN_PUBLIC_URL` names a
/// relying party). Teachers only.
#[server(endpoint = "passkeys_available")]
pub async fn passkeys_available() -> Result<bool, AppError> {
    use crate::ssr;
    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    attn::auth::Caller::require_teacher(caller.as_ref()).map_err(ssr::fail)?;
    Ok(ctx.passkeys.is_some())
}

/// The teacher's running session, if any (its id). Teachers only.
#[server(endpoint = "active_session")]
pub async fn active_session() -> Result<Option<String>, AppError> {
    use crate::ssr;
    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    let session = attn::teacher::active_session(&ctx, caller.as_ref())
        .await
        .map_err(ssr::fail)?;
    Ok(session.map(|s| s.id.to_string()))
}

/// The dashboard.
#[component]
pub fn TeachPage() -> impl IntoView {
    let error = error_from_query();
    let active = Resource::new(|| (), |_| active_session());
    view! {
        <Title text=t!(dashboard)/>
        <section class="card">
            <h1>{t!(dashboard)}</h1>
            {move || error().map(failure)}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match active.await {
                        Ok(Some(id)) => view! {
                            <p class="notice" data-testid="active-session">
                                {t!(active_session_running)} " "
                                <a href=format!("/live/{id}")>{t!(open_it)}</a>
                            </p>
                        }.into_any(),
                        Ok(None) => view! { <StartForm/> }.into_any(),
                        Err(e) => failure(e),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn StartForm() -> impl IntoView {
    let lessons = Resource::new(|| (), |_| crate::pages::home::todays_lessons());
    let face = Resource::new(|| (), |_| face_check_available());
    let passkeys = Resource::new(|| (), |_| passkeys_available());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let lessons = lessons.await.unwrap_or_default();
                let face = face.await.unwrap_or(false);
                let passkeys = passkeys.await.unwrap_or(false);
                let suggested = lessons.iter().find(|l| l.suggested).map(|l| l.title.clone()).unwrap_or_default();
                view! {
                    <form class="stack" method="post" action=StartSession::url()>
                        <label>
                            {t!(lesson_name)}
                            <input name="lesson_name" required maxlength="200" value=suggested list="todays-lessons"/>
                            <datalist id="todays-lessons">
                                {lessons.into_iter().map(|l| view! { <option value=l.title/> }).collect_view()}
                            </datalist>
                        </label>
                        <label>
                            {t!(duration)}
                            <input name="duration" type="number" min="1" max="240" value="10" required inputmode="numeric"/>
                        </label>
                        <fieldset>
                            <legend>{t!(security)}</legend>
                            <label class="choice"><input type="radio" name="security" value=SecurityLevel::None.as_i16()/> {t!(security_none)}</label>
                            <label class="choice"><input type="radio" name="security" value=SecurityLevel::Network.as_i16() checked/> {t!(security_network)}</label>
                            <label class="choice">
                                <input type="radio" name="security" value=SecurityLevel::NetworkAndFace.as_i16() disabled=!face/> {t!(security_face)}
                                {(!face).then(|| view! { " " <span class="muted small">{t!(face_unavailable_note)}</span> })}
                            </label>
                        </fieldset>
                        <fieldset>
                            <legend>{t!(device_check)}</legend>
                            <label class="choice"><input type="radio" name="device" value=DeviceCheck::Cookie.as_str() checked/> {t!(device_cookie)}</label>
                            <label class="choice"><input type="radio" name="device" value=DeviceCheck::Passkey.as_str() disabled=!passkeys/> {t!(device_passkey)}</label>
                            <label class="choice"><input type="radio" name="device" value=DeviceCheck::PasskeyKnown.as_str() disabled=!passkeys/> {t!(device_passkey_known)}</label>
                            <p class="muted small">{if passkeys { t!(device_passkey_hint).into_any() } else { t!(passkeys_unavailable_note).into_any() }}</p>
                        </fieldset>
                        <label class="choice"><input type="checkbox" name="rotate" value="on" checked/> {t!(rotate_code)}</label>
                        <label>
                            {t!(late_after)}
                            <input name="late_after" type="number" min="1" max="239" inputmode="numeric" placeholder=t!(late_after_off)/>
                            <span class="muted small">{t!(late_after_hint)}</span>
                        </label>
                        <label>
                            {t!(class_hours)}
                            <input name="class_hours" type="number" min="1" max="12" inputmode="numeric" placeholder=t!(class_hours_off)/>
                            <span class="muted small">{t!(class_hours_hint)}</span>
                        </label>
                        <button class="primary" type="submit">{t!(start)}</button>
                    </form>
                }
            })}
        </Suspense>
    }
}
