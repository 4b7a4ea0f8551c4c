//! The teacher's pages: the dashboard that starts a session, and the live page made to be
//! projected (QR code, code typed by hand, countdown, the students as they arrive, and the
//! teacher's actions). Every action is a plain form, so it works before the script loads; with
//! the script the live page refreshes itself every two seconds.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::i18n::Text;
use crate::{t, use_lang};

/// One student on the live page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordView {
    /// School number.
    pub number: String,
    /// Name.
    pub name: String,
    /// Counted present.
    pub attended: bool,
    /// Reason code of a failed check.
    pub reason: Option<String>,
    /// Removed by the teacher, with the reason given.
    pub removed: Option<String>,
    /// "09:03".
    pub time: String,
    /// The selfie's distance from the portal photo ("0.39"), for face-checked sessions.
    pub distance: Option<String>,
}

/// Everything the live page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveBoardView {
    /// Session id.
    pub id: String,
    /// Lesson.
    pub lesson_name: String,
    /// Seconds until the end (0 once ended).
    pub seconds_left: i64,
    /// The code to type by hand.
    pub code: String,
    /// The join link (the QR code's content).
    pub join_url: String,
    /// The QR code, an SVG made on the server from the link (no user text in it).
    pub qr_svg: String,
    /// The students.
    pub records: Vec<RecordView>,
    /// Counted present.
    pub attended: usize,
    /// Failed checks.
    pub failed: usize,
}

/// Starts a session and opens its live page. Teachers only. A plain form post.
#[server(endpoint = "start_session")]
pub async fn start_session(
    lesson_name: String,
    duration: String,
    security: String,
    #[server(default)] rotate: String,
) -> Result<(), AppError> {
    use crate::auth;
    use attn::domain::SecurityLevel;

    let (ctx, _, caller) = auth::current().await?;
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
    };
    let ip = auth::client_ip(&ctx).await;
    match attn::teacher::start_session(&ctx, caller.as_ref(), request, ip).await {
        Ok(session) => leptos_axum::redirect(&format!("/live/{}", session.id)),
        Err(attn::Error::ActiveSessionExists(id)) => {
            leptos_axum::redirect(&format!("/teach?error=active_session&session={id}"))
        }
        Err(error) => {
            let error = AppError::from(error);
            leptos_axum::redirect(&format!("/teach?error={}", error.code()))
        }
    }
    Ok(())
}

/// Whether this server can check faces (level 3). Teachers only.
#[server(endpoint = "face_check_available")]
pub async fn face_check_available() -> Result<bool, AppError> {
    use crate::auth;
    let (ctx, _, caller) = auth::current().await.map_err(auth::fail)?;
    attn::auth::Caller::require_teacher(caller.as_ref()).map_err(auth::fail)?;
    Ok(ctx.face.is_some())
}

/// The teacher's running session, if any (its id). Teachers only.
#[server(endpoint = "active_session")]
pub async fn active_session() -> Result<Option<String>, AppError> {
    use crate::auth;
    let (ctx, _, caller) = auth::current().await.map_err(auth::fail)?;
    let session = attn::teacher::active_session(&ctx, caller.as_ref())
        .await
        .map_err(auth::fail)?;
    Ok(session.map(|s| s.id.to_string()))
}

/// The live page's content. The session's owner only.
#[server(endpoint = "live_state")]
pub async fn live_state(session_id: String) -> Result<LiveBoardView, AppError> {
    use crate::auth;

    let (ctx, _, caller) = auth::current().await.map_err(auth::fail)?;
    let board = attn::teacher::live_board(&ctx, caller.as_ref(), &session_id)
        .await
        .map_err(auth::fail)?;
    let tz = ctx.config.timezone;
    let base = public_base(&ctx);
    let join_url = format!("{base}/join/{}?c={}", board.session.id, board.code);
    let records = board
        .records
        .iter()
        .map(|r| RecordView {
            number: r.student_number.clone(),
            name: r.student_full_name.clone(),
            attended: r.is_attended,
            reason: r.fail_reason.clone(),
            removed: r.deletion.as_ref().map(|d| d.reason.clone()),
            time: r
                .attendance_time
                .map(|t| t.with_timezone(&tz).format("%H:%M:%S").to_string())
                .unwrap_or_default(),
            distance: r
                .face_distance_milli
                .map(|d| format!("{:.2}", f32::from(d) / 1000.0)),
        })
        .collect();
    Ok(LiveBoardView {
        id: board.session.id.to_string(),
        lesson_name: board.session.lesson_name.clone(),
        seconds_left: (board.session.end_time - board.now).num_seconds().max(0),
        qr_svg: attn::codes::qr_svg(&join_url).unwrap_or_default(),
        code: board.code.clone(),
        join_url,
        attended: board.attended(),
        failed: board.failed(),
        records,
    })
}

#[cfg(feature = "ssr")]
fn public_base(ctx: &attn::Ctx) -> String {
    if let Some(url) = &ctx.config.public_url {
        return url.clone();
    }
    let host = use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or_else(|| "localhost".into());
    let scheme = if ctx.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

#[cfg(feature = "ssr")]
fn back_to_live(session_id: &str, result: Result<(), AppError>) {
    let page = format!("/live/{}", crate::api::encode_component(session_id));
    crate::api::redirect_after(result, &page, &page);
}

/// Ends the session now. The owner only.
#[server(endpoint = "finish_session")]
pub async fn finish_session(session_id: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::auth::current().await?;
    let result = attn::teacher::finish_session(&ctx, caller.as_ref(), &session_id).await;
    back_to_live(&session_id, result.map_err(Into::into));
    Ok(())
}

/// Accepts a student whose check failed. The owner only.
#[server(endpoint = "accept_student")]
pub async fn accept_student(session_id: String, student: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::auth::current().await?;
    let result = attn::teacher::accept_student(&ctx, caller.as_ref(), &session_id, &student).await;
    back_to_live(&session_id, result.map(|_| ()).map_err(Into::into));
    Ok(())
}

/// Removes a student, with a reason of at least 5 characters. The owner only.
#[server(endpoint = "remove_student")]
pub async fn remove_student(
    session_id: String,
    student: String,
    reason: String,
) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::auth::current().await?;
    let result =
        attn::teacher::remove_student(&ctx, caller.as_ref(), &session_id, &student, &reason).await;
    back_to_live(&session_id, result.map(|_| ()).map_err(Into::into));
    Ok(())
}

/// Adds a student by school number. The owner only.
#[server(endpoint = "add_student")]
pub async fn add_student(session_id: String, school_number: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::auth::current().await?;
    let result =
        attn::teacher::add_student(&ctx, caller.as_ref(), &session_id, &school_number).await;
    back_to_live(&session_id, result.map(|_| ()).map_err(Into::into));
    Ok(())
}

fn error_from_query() -> impl Fn() -> Option<AppError> + Send + Sync + Copy + 'static {
    let query = use_query_map();
    move || {
        query
            .read()
            .get("error")
            .and_then(|code| AppError::from_code(&code, None))
    }
}

/// The dashboard: today's lessons and the form that starts a session.
#[component]
pub fn TeachPage() -> impl IntoView {
    let error = error_from_query();
    let active = Resource::new(|| (), |_| active_session());
    view! {
        <Title text=t(Text::Dashboard)/>
        <section class="card">
            <h1>{t(Text::Dashboard)}</h1>
            {move || error().map(|e| view! { <p class="error" role="alert">{e.message(use_lang())}</p> })}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match active.await {
                        Ok(Some(id)) => view! {
                            <p class="notice" data-testid="active-session">
                                {t(Text::ActiveSessionRunning)} " "
                                <a href=format!("/live/{id}")>{t(Text::OpenIt)}</a>
                            </p>
                        }.into_any(),
                        Ok(None) => view! { <StartForm/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.message(use_lang())}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn StartForm() -> impl IntoView {
    let lessons = Resource::new(|| (), |_| crate::api::todays_lessons());
    let face = Resource::new(|| (), |_| face_check_available());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let lessons = lessons.await.unwrap_or_default();
                let face = face.await.unwrap_or(false);
                let suggested = lessons.iter().find(|l| l.suggested).map(|l| l.title.clone()).unwrap_or_default();
                view! {
                    <form class="stack" method="post" action=StartSession::url()>
                        <label>
                            {t(Text::LessonName)}
                            <input name="lesson_name" required maxlength="200" value=suggested list="todays-lessons"/>
                            <datalist id="todays-lessons">
                                {lessons.into_iter().map(|l| view! { <option value=l.title/> }).collect_view()}
                            </datalist>
                        </label>
                        <label>
                            {t(Text::Duration)}
                            <input name="duration" type="number" min="1" max="240" value="10" required inputmode="numeric"/>
                        </label>
                        <fieldset>
                            <legend>{t(Text::Security)}</legend>
                            <label class="choice"><input type="radio" name="security" value="1"/> {t(Text::SecurityNone)}</label>
                            <label class="choice"><input type="radio" name="security" value="2" checked/> {t(Text::SecurityNetwork)}</label>
                            <label class="choice">
                                <input type="radio" name="security" value="3" disabled=!face/> {t(Text::SecurityFace)}
                                {(!face).then(|| view! { " " <span class="muted small">{t(Text::FaceUnavailableNote)}</span> })}
                            </label>
                        </fieldset>
                        <label class="choice"><input type="checkbox" name="rotate" value="on" checked/> {t(Text::RotateCode)}</label>
                        <button class="primary" type="submit">{t(Text::Start)}</button>
                    </form>
                }
            })}
        </Suspense>
    }
}

/// The live page of a session, for its owner.
#[component]
pub fn LivePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let error = error_from_query();
    let tick = RwSignal::new(0u32);
    // With the script: the server pushes an event for every check-in or change (on any
    // instance), and a slow timer moves the countdown and the rotating code. Without it, the
    // page is complete as the server sent it.
    Effect::new(move |_| {
        let _ = set_interval_with_handle(
            move || tick.update(|t| *t = t.wrapping_add(1)),
            std::time::Duration::from_secs(5),
        );
        #[cfg(feature = "hydrate")]
        listen_for_changes(&params.get_untracked().get("id").unwrap_or_default(), tick);
    });
    let state = Resource::new(move || (id(), tick.get()), |(id, _)| live_state(id));
    view! {
        <Title text=t(Text::Attendance)/>
        {move || error().map(|e| view! { <p class="error" role="alert">{e.message(use_lang())}</p> })}
        <Transition fallback=|| view! { <p class="muted">{t(Text::Loading)}</p> }>
            {move || Suspend::new(async move {
                match state.await {
                    Ok(s) => view! { <Board s/> }.into_any(),
                    Err(e) => view! { <section class="card"><p class="error" role="alert">{e.message(use_lang())}</p></section> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Opens the live page's event stream; every event refreshes the page's data.
#[cfg(feature = "hydrate")]
fn listen_for_changes(id: &str, tick: RwSignal<u32>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let url = format!("/api/live_events/{}", crate::api::encode_component(id));
    let Ok(source) = web_sys::EventSource::new(&url) else {
        return;
    };
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
        tick.update(|t| *t = t.wrapping_add(1));
    });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let source = send_wrapper::SendWrapper::new(source);
    on_cleanup(move || source.close());
}

#[component]
fn Board(s: LiveBoardView) -> impl IntoView {
    let open = s.seconds_left > 0;
    let id = s.id.clone();
    let minutes = s.seconds_left / 60;
    let seconds = s.seconds_left % 60;
    view! {
        <section class="card live">
            <h1 class="lesson" data-testid="lesson">{s.lesson_name.clone()}</h1>
            <div class="board">
                {open.then(|| view! {
                    <div class="qr-panel">
                        <div class="qr" inner_html=s.qr_svg.clone()></div>
                        <p class="muted">{t(Text::ScanToJoin)}</p>
                        <p class="join-url"><a href=s.join_url.clone() data-testid="join-url">{s.join_url.clone()}</a></p>
                        <p class="code">{t(Text::Code)} ": " <strong data-testid="code">{s.code.clone()}</strong></p>
                    </div>
                })}
                <div class="status">
                    <p class="countdown" data-testid="countdown">
                        {if open { format!("{}: {minutes:02}:{seconds:02}", t(Text::TimeLeft)) } else { t(Text::SessionEnded).to_string() }}
                    </p>
                    <p class="counts">
                        <span class="ok" data-testid="attended-count">{format!("{}: {}", t(Text::Attended), s.attended)}</span>
                        " · "
                        <span class="bad" data-testid="failed-count">{format!("{}: {}", t(Text::Failed), s.failed)}</span>
                    </p>
                    {open.then(|| {
                        let id = id.clone();
                        view! {
                            <form method="post" action=FinishSession::url()>
                                <input type="hidden" name="session_id" value=id/>
                                <button type="submit">{t(Text::Finish)}</button>
                            </form>
                        }
                    })}
                </div>
            </div>
        </section>
        <section class="card">
            <h2>{t(Text::Students)}</h2>
            {s.records.is_empty().then(|| view! { <p class="muted">{t(Text::NoStudentsYet)}</p> })}
            <ul class="students" data-testid="students">
                {s.records.into_iter().map(|r| view! { <StudentRow r id=id.clone() open/> }).collect_view()}
            </ul>
            {open.then(|| view! {
                <form class="inline" method="post" action=AddStudent::url()>
                    <input type="hidden" name="session_id" value=id.clone()/>
                    <input name="school_number" required maxlength="32" aria-label=t(Text::SchoolNumber) placeholder=t(Text::SchoolNumber)/>
                    <button type="submit">{t(Text::AddStudent)}</button>
                </form>
            })}
        </section>
    }
}

#[component]
fn StudentRow(r: RecordView, id: String, open: bool) -> impl IntoView {
    let status = match (&r.removed, r.attended) {
        (Some(_), _) => "removed",
        (None, true) => "attended",
        (None, false) => "failed",
    };
    let reason = r.reason.clone().map(|code| reason_text(&code));
    view! {
        <li class=format!("student {status}") data-number=r.number.clone()>
            <span class="who"><strong>{r.name.clone()}</strong> " " <span class="muted">{r.number.clone()}</span></span>
            <span class="when muted">{r.time.clone()}</span>
            {r.distance.clone().map(|d| view! { <span class="distance muted" data-testid="distance">{format!("{} {d}", t(Text::Distance))}</span> })}
            <span class="state">
                {match status {
                    "removed" => format!("{}: {}", t(Text::Removed), r.removed.clone().unwrap_or_default()),
                    "attended" => t(Text::Attended).to_string(),
                    _ => format!("{}: {}", t(Text::Failed), reason.unwrap_or_default()),
                }}
            </span>
            {(open && status == "failed").then(|| view! {
                <form class="inline" method="post" action=AcceptStudent::url()>
                    <input type="hidden" name="session_id" value=id.clone()/>
                    <input type="hidden" name="student" value=r.number.clone()/>
                    <button type="submit">{t(Text::Accept)}</button>
                </form>
            })}
            {(open && status != "removed").then(|| view! {
                <form class="inline" method="post" action=RemoveStudent::url()>
                    <input type="hidden" name="session_id" value=id.clone()/>
                    <input type="hidden" name="student" value=r.number.clone()/>
                    <input name="reason" required minlength="5" maxlength="500" aria-label=t(Text::Reason) placeholder=t(Text::Reason)/>
                    <button type="submit">{t(Text::Remove)}</button>
                </form>
            })}
        </li>
    }
}

/// A stored reason code, in words.
pub fn reason_text(code: &str) -> &'static str {
    t(match code {
        "WIFI_FAILED" => Text::ReasonWifi,
        "DEVICE_ALREADY_USED" => Text::ReasonDevice,
        "FACE_CHECK_UNAVAILABLE" => Text::ReasonFace,
        "FACE_MISMATCH" => Text::ReasonFaceMismatch,
        "NO_FACE_FOUND" => Text::ReasonNoFace,
        "MORE_THAN_ONE_FACE" => Text::ReasonManyFaces,
        "REFERENCE_IMAGE_NOT_FOUND" => Text::ReasonNoReference,
        "FACE_VERIFICATION_REQUIRED_BUT_IMAGE_MISSING" => Text::ReasonSelfieMissing,
        "FACE_CHECK_PENDING" => Text::ReasonFacePending,
        "FACE_CHECK_TIMEOUT" => Text::ReasonFaceTimeout,
        _ => Text::ReasonOther,
    })
}
