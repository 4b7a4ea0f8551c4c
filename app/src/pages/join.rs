//! Where a QR code leads: the session's lesson, teacher and time left, one button to check in
//! (a plain form, so it works before the script loads; a multipart form with a selfie when the
//! session checks faces) and the outcome in plain words. Someone not logged in is sent to the
//! login page and comes back here after it.
//!
//! A session that asks for the student's passkey needs the page's script (`/passkey.js`): it
//! asks `passkey_begin` what to sign, lets the phone sign it, and sends the answer with the
//! same form. The page says so when the browser has no script or no passkeys.
//!
//! The page loads no wasm (a student's phone downloads only what it shows); a small script
//! (`/join-notices.js`) reads it again when the teacher starts a re-check, ends the session or
//! changes the student's record (`/api/join_events/<id>`). Without scripts, opening the link
//! again shows the same.

use attn_types::FailReason;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::components::paths::encode_component;
use crate::components::reasons::reason_text;
use crate::error::AppError;
use crate::use_lang;

/// A live session as its join link shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinView {
    /// Lesson title.
    pub lesson_name: String,
    /// Teacher's name.
    pub teacher_name: String,
    /// Seconds until it closes.
    pub seconds_left: i64,
    /// The caller is a student (only students check in).
    pub is_student: bool,
    /// The caller's own check-in: attended, failed (with the reason) or removed.
    pub mine: Option<MyCheckIn>,
    /// The session asks for a selfie (network + face).
    pub selfie: bool,
    /// The signed receipt of the caller's check-in, once it has an outcome.
    pub receipt: Option<String>,
    /// A re-check asks the caller to confirm: seconds left, and whether they have.
    pub recheck: Option<(i64, bool)>,
    /// The session asks for the student's passkey (it needs the page's script).
    pub passkey: bool,
}

/// A student's own check-in, as the join page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyCheckIn {
    /// Counted present.
    pub attended: bool,
    /// Why a check failed.
    pub reason: Option<FailReason>,
    /// Removed by the teacher.
    pub removed: bool,
}

/// The live session behind a join link. Anyone logged in.
#[server(endpoint = "join_info")]
pub async fn join_info(session_id: String) -> Result<JoinView, AppError> {
    use crate::ssr;
    use attn_types::{Role, SecurityLevel};

    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    let overview = attn::student::session_overview(&ctx, caller.as_ref(), &session_id)
        .await
        .map_err(ssr::fail)?;
    Ok(JoinView {
        lesson_name: overview.lesson_name,
        teacher_name: overview.teacher_name,
        seconds_left: overview.seconds_left,
        is_student: caller.is_some_and(|c| c.role == Role::Student),
        selfie: overview.security == SecurityLevel::NetworkAndFace,
        passkey: overview.device_check.needs_passkey(),
        receipt: overview.receipt,
        recheck: overview.recheck.map(|(r, confirmed)| {
            (
                (r.ends_at - ctx.clock.now()).num_seconds().max(0),
                confirmed,
            )
        }),
        mine: overview.my_record.map(|r| MyCheckIn {
            attended: r.is_attended,
            reason: r.fail_reason,
            removed: r.deletion.is_some(),
        }),
    })
}

/// Begins a passkey check-in (the page's script calls it when the student presses the
/// button): JSON for `navigator.credentials`, `{"register": ..}` or `{"authenticate": ..}`, or
/// `"none"` when the student has no passkey and may not register one here. The login session
/// keeps the ceremony for `check_in`. Students only, within their check-in limit.
#[server(endpoint = "passkey_begin")]
pub async fn passkey_begin(
    session_id: String,
    #[server(default)] code: String,
) -> Result<String, AppError> {
    use crate::ssr;

    let (ctx, session, caller) = ssr::current().await.map_err(ssr::fail)?;
    let begun = attn::passkeys::begin(&ctx, caller.as_ref(), &session_id, &code)
        .await
        .map_err(ssr::fail)?;
    if let Some(ceremony) = &begun.ceremony {
        ssr::keep_ceremony(&session, ceremony)
            .await
            .map_err(ssr::fail)?;
    }
    serde_json::to_string(&begun.challenge).map_err(|_| ssr::fail(AppError::Unavailable))
}

/// Checks the caller in to a session with the code from the QR link or typed by hand, then
/// shows the join page with the outcome. A plain form post. Students only; limited per
/// student and per address. In a session that asks for passkeys, `passkey` carries the
/// browser's answer (the page's script fills it in): the credential as JSON, `refused` when
/// the browser gave none, `failed` when the ceremony could not begin.
#[server(endpoint = "check_in")]
pub async fn check_in(
    session_id: String,
    #[server(default)] code: String,
    #[server(default)] passkey: String,
) -> Result<(), AppError> {
    use crate::ssr;

    let (ctx, session, caller) = ssr::current().await?;
    let device = self::ssr::device_id();
    let user_agent = ssr::user_agent();
    let answer = self::ssr::passkey_answer(&session, &passkey, &user_agent).await?;
    let attempt = attn::student::JoinAttempt {
        session_id: &session_id,
        code: &code,
        client_ip: ssr::client_ip(&ctx).await,
        device: &device,
        selfie: None,
        reference: None,
        passkey: answer.as_ref(),
    };
    let result = attn::student::check_in(&ctx, caller.as_ref(), attempt).await;
    self::ssr::back_to_join(&session_id, result.map(|_| ()))
}

/// Checks the caller in to a session that asks for a selfie: a multipart form with
/// `session_id`, `code` and the photo in `selfie` (JPEG, PNG or WebP, at most 8 MB), which
/// works before the script loads. The selfie is compared with the portal photo kept in the
/// login session; neither is stored. Students only; limited like `check_in`.
#[server(endpoint = "check_in_selfie", input = MultipartFormData)]
pub async fn check_in_selfie(data: MultipartData) -> Result<(), AppError> {
    use self::ssr::{back_to_join, device_id, read_selfie_form};

    let (ctx, session, caller) = crate::ssr::current().await?;
    // Who may send a photo is settled before a byte of it is read.
    if let Err(error) = attn::auth::Caller::require_student(caller.as_ref()) {
        let error = AppError::from(error);
        let page = format!("/?error={}", error.code());
        return crate::ssr::refuse(error, &page);
    }
    let form = read_selfie_form(data).await;
    let session_id = form.session_id.clone().unwrap_or_default();
    let Some(selfie) = form.selfie else {
        return back_to_join(
            &session_id,
            Err(attn::Error::invalid(
                "selfie",
                attn::error::Problem::TooLong {
                    max: attn::face::decode::MAX_UPLOAD_BYTES,
                },
            )),
        );
    };
    let reference = crate::ssr::portal_photo(&session).await?;
    let device = device_id();
    let user_agent = crate::ssr::user_agent();
    let passkey = form.passkey.unwrap_or_default();
    let answer = self::ssr::passkey_answer(&session, &passkey, &user_agent).await?;
    let attempt = attn::student::JoinAttempt {
        session_id: &session_id,
        code: form.code.as_deref().unwrap_or_default(),
        client_ip: crate::ssr::client_ip(&ctx).await,
        device: &device,
        selfie: Some(&selfie),
        reference: reference.as_deref(),
        passkey: answer.as_ref(),
    };
    let result = attn::student::check_in(&ctx, caller.as_ref(), attempt).await;
    back_to_join(&session_id, result.map(|_| ()))
}

#[cfg(feature = "ssr")]
mod ssr {
    use leptos::prelude::*;
    use leptos::server_fn::codec::MultipartData;

    use crate::components::paths::encode_component;
    use crate::error::AppError;

    /// Name of the cookie that marks a browser, for the one-student-per-device rule.
    pub const DEVICE_COOKIE: &str = "attn_device";

    /// The browser's passkey answer from the form's `passkey` field (see `check_in`), with the
    /// ceremony the login session kept, which it answers once. `None`: no script ran.
    pub async fn passkey_answer<'a>(
        session: &tower_sessions::Session,
        field: &'a str,
        user_agent: &'a str,
    ) -> Result<Option<attn::passkeys::Answer<'a>>, AppError> {
        use attn::passkeys::Answer;
        if field.is_empty() {
            return Ok(None);
        }
        let ceremony = crate::ssr::take_ceremony(session).await?;
        Ok(Some(match field {
            "refused" => Answer::Refused,
            "failed" => Answer::Failed,
            credential => Answer::Signed {
                ceremony,
                credential,
                user_agent,
            },
        }))
    }

    /// Sends the browser back to the join page, with the reason when the check-in was refused.
    pub fn back_to_join(session_id: &str, result: attn::Result<()>) -> Result<(), AppError> {
        let page = format!("/join/{}", encode_component(session_id.trim()));
        crate::ssr::redirect_after(result.map_err(AppError::from), &page, &page)
    }

    /// The browser's device id from its cookie, or a new one (and the cookie that keeps it).
    pub fn device_id() -> String {
        let known = use_context::<http::request::Parts>()
            .and_then(|parts| crate::ssr::request_cookie(&parts.headers, DEVICE_COOKIE))
            .filter(|v| !v.is_empty() && v.len() <= 64);
        known.unwrap_or_else(|| {
            let id = attn::domain::new_device_id();
            crate::ssr::set_cookie(DEVICE_COOKIE, &id);
            id
        })
    }

    /// The fields of the selfie form. `selfie` is `None` when the photo was larger than allowed
    /// (reading stops there); an absent photo is empty.
    pub struct SelfieForm {
        pub session_id: Option<String>,
        pub code: Option<String>,
        pub passkey: Option<String>,
        pub selfie: Option<Vec<u8>>,
    }

    /// Reads the selfie form, each text field up to 200 bytes (the passkey's answer up to
    /// 16 KiB) and the photo up to the upload limit.
    pub async fn read_selfie_form(data: MultipartData) -> SelfieForm {
        const MAX_TEXT: usize = 200;
        const MAX_PASSKEY: usize = 16 * 1024;
        let max = attn::face::decode::MAX_UPLOAD_BYTES;
        let mut form = SelfieForm {
            session_id: None,
            code: None,
            passkey: None,
            selfie: Some(Vec::new()),
        };
        let Some(mut multipart) = data.into_inner() else {
            return form;
        };
        while let Ok(Some(mut field)) = multipart.next_field().await {
            let name = field.name().unwrap_or_default().to_owned();
            let limit = match name.as_str() {
                "selfie" => max,
                "passkey" => MAX_PASSKEY,
                _ => MAX_TEXT,
            };
            let mut bytes = Vec::new();
            let mut too_large = false;
            while let Ok(Some(chunk)) = field.chunk().await {
                if bytes.len() + chunk.len() > limit {
                    too_large = true;
                    break;
                }
                bytes.extend_from_slice(&chunk);
            }
            match name.as_str() {
                "selfie" if too_large => {
                    form.selfie = None;
                    break;
                }
                "selfie" => form.selfie = Some(bytes),
                "session_id" => form.session_id = String::from_utf8(bytes).ok(),
                "code" => form.code = String::from_utf8(bytes).ok(),
                "passkey" if !too_large => form.passkey = String::from_utf8(bytes).ok(),
                _ => {}
            }
        }
        form
    }
}

/// The join page.
#[component]
pub fn JoinPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let code = move || query.read().get("c").unwrap_or_default();
    let refused = move || {
        query
            .read()
            .get("error")
            .and_then(|e| AppError::from_code(&e, None))
    };
    let info = Resource::new(id, join_info);
    view! {
        <Title text=t!(attendance)/>
        <section class="card narrow">
            <h1>{t!(attendance)}</h1>
            <Suspense fallback=|| view! { <p class="muted">{t!(loading)}</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(s) => {
                            let open = s.seconds_left > 0;
                            let outcome = s.mine.clone();
                            // A re-check asks those already counted to type the code again.
                            let asked = s.recheck.is_some_and(|(_, confirmed)| !confirmed);
                            let can_join = open && s.is_student
                                && (asked || !outcome.as_ref().is_some_and(|m| m.attended || m.removed));
                            view! {
                                <h2 class="lesson" data-testid="lesson">{s.lesson_name}</h2>
                                <p>{t!(teacher)} ": " <strong>{s.teacher_name}</strong></p>
                                {if open {
                                    view! { <p>{t!(time_left_minutes, minutes = &s.seconds_left.div_euclid(60).max(1))}</p> }.into_any()
                                } else {
                                    view! { <p class="error">{t!(session_ended)}</p> }.into_any()
                                }}
                                {refused().map(|e| view! { <p class="error" role="alert" data-testid="outcome" data-outcome="refused">{e.message(use_lang())}</p> })}
                                {outcome.map(|m| view! { <Outcome m/> })}
                                {s.recheck.map(|(seconds, confirmed)| if confirmed {
                                    view! { <p class="success" data-testid="recheck" data-confirmed="true">{t!(recheck_confirmed)}</p> }.into_any()
                                } else {
                                    view! { <p class="notice" role="alert" data-testid="recheck" data-confirmed="false">{t!(recheck_request, seconds = &seconds)}</p> }.into_any()
                                })}
                                {s.receipt.clone().map(|r| view! {
                                    <p class="receipt-link"><a href=format!("/receipt?r={}", encode_component(&r)) data-testid="receipt-link">{t!(show_receipt)}</a></p>
                                })}
                                {(!s.is_student).then(|| view! { <p class="muted">{t!(students_only)}</p> })}
                                // Reads the page again when a re-check starts, the session ends or
                                // the teacher changes this student's record.
                                {(open && s.is_student).then(|| view! { <script src="/join-notices.js" defer></script> })}
                                {(can_join && s.passkey).then(|| view! { <PasskeyNote/> })}
                                {(can_join && s.selfie).then(|| view! { <SelfieForm id=id() code=code() passkey=s.passkey/> })}
                                {(can_join && !s.selfie).then(|| view! {
                                    <form class="stack" method="post" action=CheckIn::url() data-passkey=s.passkey.then_some("1")>
                                        <input type="hidden" name="session_id" value=id()/>
                                        <input type="hidden" name="passkey" value=""/>
                                        <label>
                                            {t!(code)}
                                            <input name="code" value=code() inputmode="numeric" autocomplete="off" maxlength="6" required/>
                                        </label>
                                        <button class="primary big" type="submit">{t!(join_button)}</button>
                                    </form>
                                })}
                            }.into_any()
                        }
                        Err(AppError::LoginRequired) => {
                            let next = match code() {
                                c if c.is_empty() => format!("/join/{}", id()),
                                c => format!("/join/{}?c={c}", id()),
                            };
                            let path = format!("/login?next={}", encode_component(&next));
                            view! { <Redirect path/> }.into_any()
                        }
                        Err(e) => view! { <p class="error" role="alert">{e.message(use_lang())}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// What a session that asks for passkeys tells the student: what happens, and when it cannot
/// work here (no script, or a browser without passkeys; the script shows the second).
#[component]
fn PasskeyNote() -> impl IntoView {
    view! {
        <p class="muted small" data-testid="passkey-note">{t!(passkey_session_hint)}</p>
        <noscript><p class="error" data-testid="passkey-no-script">{t!(passkey_needs_script)}</p></noscript>
        <p class="error passkey-unsupported" data-testid="passkey-unsupported">{t!(passkey_unsupported)}</p>
        <p class="notice passkey-working" data-testid="passkey-working" hidden>{t!(passkey_working)}</p>
        <script src="/passkey.js" defer></script>
    }
}

/// The check-in form of a session with a face check: the code and a selfie, sent as a
/// multipart form (it works with no script at all; phones offer the front camera). A small
/// script shows the chosen photo before it is sent.
#[component]
fn SelfieForm(id: String, code: String, passkey: bool) -> impl IntoView {
    view! {
        <form class="stack" method="post" action=CheckInSelfie::url() enctype="multipart/form-data" data-passkey=passkey.then_some("1")>
            <input type="hidden" name="session_id" value=id/>
            <input type="hidden" name="passkey" value=""/>
            <label>
                {t!(code)}
                <input name="code" value=code inputmode="numeric" autocomplete="off" maxlength="6" required/>
            </label>
            <label>
                {t!(selfie)}
                <input name="selfie" type="file" accept="image/*" capture="user" required data-preview="selfie-preview"/>
            </label>
            <img id="selfie-preview" class="selfie-preview" alt=t!(selfie) hidden/>
            <p class="muted small">{t!(selfie_hint)}</p>
            <button class="primary big" type="submit">{t!(join_button)}</button>
            <script src="/selfie-preview.js" defer></script>
        </form>
    }
}

/// The student's own outcome.
#[component]
fn Outcome(m: MyCheckIn) -> impl IntoView {
    if m.removed {
        return view! { <p class="error" data-testid="outcome" data-outcome="removed">{t!(you_were_removed)}</p> }
            .into_any();
    }
    if m.attended {
        return view! { <p class="success" data-testid="outcome" data-outcome="attended">{t!(you_attended)}</p> }
            .into_any();
    }
    if m.reason.is_some_and(FailReason::is_pending) {
        // Without the script the page asks again by itself until the outcome is there.
        return view! {
            <leptos_meta::Meta http_equiv="refresh" content="2"/>
            <p class="notice" data-testid="outcome" data-outcome="pending">{t!(checking_face)}</p>
        }
        .into_any();
    }
    let reason = m.reason.map(reason_text).unwrap_or_default();
    view! {
        <p class="error" data-testid="outcome" data-outcome="failed">{t!(you_failed, reason = &reason)}</p>
        <p class="muted">{t!(retry_hint)}</p>
    }
    .into_any()
}
