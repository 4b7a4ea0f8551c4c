//! The live page of a running session, made to be projected: QR code, code typed by hand,
//! countdown, the students as they arrive, and the teacher's actions on them. Every action is a
//! plain form, so it works before the script loads; with the script the page refetches its data
//! on every change the server pushes.

use attn_types::{FailReason, Status};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::components::notices::{error_from_query, failure};
use crate::components::status::{status_class, status_text};
use crate::error::AppError;

/// One student on the live page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordView {
    /// School number.
    pub number: String,
    /// Name.
    pub name: String,
    /// Counted present (present or late).
    pub attended: bool,
    /// How the student counts now.
    pub status: Status,
    /// Why a check failed.
    pub reason: Option<FailReason>,
    /// Why the teacher set the status (an excuse, say).
    pub note: Option<String>,
    /// Removed by the teacher, with the reason given.
    pub removed: Option<String>,
    /// "09:03".
    pub time: String,
    /// The selfie's distance from the portal photo ("0.39"), for face-checked sessions.
    pub distance: Option<String>,
    /// Which rule of the network check the check-in met (`None`: added by the teacher).
    pub network: Option<NetworkView>,
    /// Re-checks that asked the student: confirmed, asked.
    pub rechecks: Option<(usize, usize)>,
    /// The teacher's changes, oldest first: "09:12", the status set, the reason.
    pub changes: Vec<(String, Status, Option<String>)>,
    /// Came from a place outside the classroom networks with two or more others.
    pub flagged: bool,
    /// How the device was checked (`None`: added by the teacher).
    pub device: Option<DeviceView>,
    /// Checked in from a browser another student of the session also checked in from.
    pub shared_browser: bool,
    /// Students of the session whose selfie showed the same face (school numbers).
    pub same_face: Vec<String>,
}

/// How a check-in's device was checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceView {
    /// A browser cookie, one student per browser.
    Cookie,
    /// Signed with the student's registered passkey.
    Passkey,
    /// A passkey registered with this check-in (with whose leave, if it needed one).
    NewPasskey(Option<String>),
    /// No passkey shown.
    NoPasskey,
}

/// How a check-in's address was checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetworkView {
    /// The session checks no network.
    NotChecked,
    /// The teacher's own network.
    Teacher,
    /// A configured classroom network, named.
    Classroom(String),
    /// Neither.
    Outside,
}

/// Everything the live page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveBoardView {
    /// Session id.
    pub id: String,
    /// Lesson.
    pub lesson_name: String,
    /// The teacher's name.
    pub teacher_name: String,
    /// "02.12.2026 09:30", when it started.
    pub date: String,
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
    /// The course's students: its class list and anyone new today (`None`: not known now).
    pub class_size: Option<usize>,
    /// Students of the class list who have not checked in yet.
    pub missing: Vec<MissingView>,
    /// The re-check running now.
    pub recheck: Option<RecheckView>,
    /// Students who did not confirm a re-check that has ended ("left early"), not reviewed yet.
    pub left_early: Vec<MissingView>,
    /// Re-checks held so far.
    pub rechecks: usize,
    /// Sizes of the groups of students who came from one place outside the classroom
    /// networks (three or more each).
    pub shared_origins: Vec<usize>,
    /// Sizes of the groups of students who checked in from one browser (two or more each).
    pub shared_browsers: Vec<usize>,
    /// Students who registered a passkey with their check-in in this session.
    pub new_passkeys: usize,
    /// Pairs of students (by name) whose selfies show the same face.
    pub same_faces: Vec<(String, String)>,
    /// The session asks for the students' passkeys.
    pub passkey: bool,
}

/// A re-check running now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecheckView {
    /// 1 for the session's first.
    pub number: u16,
    /// Seconds until confirming stops.
    pub seconds_left: i64,
    /// Students asked who have not confirmed yet.
    pub waiting: usize,
}

/// A student of the class list not here yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingView {
    /// School number.
    pub number: String,
    /// Name.
    pub name: String,
}

/// The live page's content. The session's owner only.
#[server(endpoint = "live_state")]
pub async fn live_state(session_id: String) -> Result<LiveBoardView, AppError> {
    use crate::ssr;

    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    let board = attn::teacher::live_board(&ctx, caller.as_ref(), &session_id)
        .await
        .map_err(ssr::fail)?;
    let tz = ctx.config.timezone;
    let base = ssr::public_base(&ctx);
    let join_url = format!("{base}/join/{}?c={}", board.session.id, board.code);
    let shared = board.shared_origins();
    let flagged: std::collections::HashSet<&str> = shared.iter().flatten().copied().collect();
    let browsers = board.shared_browsers();
    let one_browser: std::collections::HashSet<&str> = browsers.iter().flatten().copied().collect();
    let same_faces = board.same_faces();
    let name_of = |number: &str| {
        board
            .records
            .iter()
            .find(|r| r.student_number == number)
            .map_or_else(|| number.to_owned(), |r| r.student_full_name.clone())
    };
    let records = board
        .records
        .iter()
        .map(|r| RecordView {
            number: r.student_number.clone(),
            name: r.student_full_name.clone(),
            attended: r.is_attended,
            status: r.status(),
            reason: r.fail_reason,
            note: r.status_reason.clone(),
            removed: r.deletion.as_ref().map(|d| d.reason.clone()),
            time: r
                .attendance_time
                .map(|t| t.with_timezone(&tz).format("%H:%M:%S").to_string())
                .unwrap_or_default(),
            distance: r
                .face_distance_milli
                .map(|d| format!("{:.2}", f32::from(d) / 1000.0)),
            network: r.evidence.as_ref().map(|e| {
                use attn::network::NetworkMatch;
                match (&e.network, e.network_checked) {
                    (_, false) => NetworkView::NotChecked,
                    (NetworkMatch::TeacherNetwork, true) => NetworkView::Teacher,
                    (NetworkMatch::Classroom(net), true) => NetworkView::Classroom(net.clone()),
                    (NetworkMatch::Outside, true) => NetworkView::Outside,
                }
            }),
            rechecks: {
                let asked: Vec<_> = board
                    .session
                    .rechecks
                    .iter()
                    .filter(|c| c.started_at <= board.now && r.asked_by(c))
                    .collect();
                (!asked.is_empty()).then(|| {
                    let confirmed = asked
                        .iter()
                        .filter(|c| r.confirmed.contains(&c.number))
                        .count();
                    (confirmed, asked.len())
                })
            },
            changes: r
                .changes
                .iter()
                .map(|c| {
                    (
                        c.at.with_timezone(&tz).format("%H:%M").to_string(),
                        c.to,
                        c.reason.clone(),
                    )
                })
                .collect(),
            flagged: flagged.contains(r.student_number.as_str()),
            device: r.evidence.as_ref().map(|e| {
                use attn::domain::DeviceProof;
                match &e.device {
                    DeviceProof::Cookie => DeviceView::Cookie,
                    DeviceProof::Passkey => DeviceView::Passkey,
                    DeviceProof::NewPasskey { approved_by } => {
                        DeviceView::NewPasskey(approved_by.clone())
                    }
                    DeviceProof::NoPasskey => DeviceView::NoPasskey,
                }
            }),
            shared_browser: one_browser.contains(r.student_number.as_str()),
            same_face: same_faces
                .iter()
                .filter_map(|&(a, b)| {
                    let me = r.student_number.as_str();
                    (a == me).then_some(b).or((b == me).then_some(a))
                })
                .map(|n| format!("{} ({n})", name_of(n)))
                .collect(),
        })
        .collect();
    Ok(LiveBoardView {
        id: board.session.id.to_string(),
        lesson_name: board.session.lesson_name.clone(),
        teacher_name: board.session.teacher_full_name.clone(),
        date: board
            .session
            .start_time
            .with_timezone(&tz)
            .format("%d.%m.%Y %H:%M")
            .to_string(),
        seconds_left: (board.session.end_time - board.now).num_seconds().max(0),
        qr_svg: attn::codes::join_qr_svg(&join_url).unwrap_or_default(),
        code: board.code.clone(),
        join_url,
        attended: board.attended(),
        failed: board.failed(),
        class_size: board.class_size(),
        missing: board
            .missing()
            .into_iter()
            .map(|u| MissingView {
                number: u.school_number.clone(),
                name: u.full_name.clone(),
            })
            .collect(),
        recheck: board.open_recheck().map(|r| RecheckView {
            number: r.number,
            seconds_left: (r.ends_at - board.now).num_seconds().max(0),
            waiting: board.unconfirmed().len(),
        }),
        left_early: board
            .left_early()
            .into_iter()
            .map(|r| MissingView {
                number: r.student_number.clone(),
                name: r.student_full_name.clone(),
            })
            .collect(),
        rechecks: board.session.rechecks.len(),
        shared_origins: shared.iter().map(Vec::len).collect(),
        shared_browsers: browsers.iter().map(Vec::len).collect(),
        new_passkeys: board.new_passkeys().len(),
        same_faces: same_faces
            .iter()
            .map(|&(a, b)| (name_of(a), name_of(b)))
            .collect(),
        passkey: board.session.device_check.needs_passkey(),
        records,
    })
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::error::AppError;

    /// Back to the live page, with the error's code when the action was refused.
    pub fn back_to_live(session_id: &str, result: Result<(), AppError>) -> Result<(), AppError> {
        let page = format!(
            "/live/{}",
            crate::components::paths::encode_component(session_id)
        );
        crate::ssr::redirect_after(result, &page, &page)
    }
}

/// Starts a re-check: for 90 seconds the students counted present so far confirm with the code
/// shown now that they are still there. Its owner only, while open; one at a time.
#[server(endpoint = "start_recheck")]
pub async fn start_recheck(session_id: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    let result = attn::teacher::start_recheck(&ctx, caller.as_ref(), &session_id)
        .await
        .map(|_| ())
        .map_err(AppError::from);
    self::ssr::back_to_live(&session_id, result)
}

/// Ends the session now. The owner only.
#[server(endpoint = "finish_session")]
pub async fn finish_session(session_id: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    let result = attn::teacher::finish_session(&ctx, caller.as_ref(), &session_id).await;
    self::ssr::back_to_live(&session_id, result.map_err(Into::into))
}

/// Accepts a student whose check failed. The owner only.
#[server(endpoint = "accept_student")]
pub async fn accept_student(session_id: String, student: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    let result = attn::teacher::accept_student(&ctx, caller.as_ref(), &session_id, &student).await;
    self::ssr::back_to_live(&session_id, result.map(|_| ()).map_err(Into::into))
}

/// Removes a student, with a reason of at least 5 characters. The owner only.
#[server(endpoint = "remove_student")]
pub async fn remove_student(
    session_id: String,
    student: String,
    reason: String,
) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    let result =
        attn::teacher::remove_student(&ctx, caller.as_ref(), &session_id, &student, &reason).await;
    self::ssr::back_to_live(&session_id, result.map(|_| ()).map_err(Into::into))
}

/// Sets a student's status by hand: `present`, `late`, `excused` (with a reason of at least 5
/// characters) or `absent`. The owner only.
#[server(endpoint = "mark_student")]
pub async fn mark_student(
    session_id: String,
    student: String,
    status: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    let result = match status.trim().parse::<Status>() {
        Ok(status) => {
            attn::teacher::mark_student(
                &ctx,
                caller.as_ref(),
                &session_id,
                &student,
                status,
                &reason,
            )
            .await
        }
        Err(_) => Err(attn::Error::invalid(
            "status",
            attn::error::Problem::Malformed,
        )),
    };
    self::ssr::back_to_live(&session_id, result.map(|_| ()).map_err(Into::into))
}

/// Lets a student of the session register a new passkey (a new phone), with a reason of at
/// least 5 characters: their old passkey goes, their next check-in registers one, and the
/// audit log keeps who allowed it and why. The owner only, while open.
#[server(endpoint = "allow_new_passkey")]
pub async fn allow_new_passkey(
    session_id: String,
    student: String,
    reason: String,
) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    let result = attn::passkeys::allow_new_passkey(
        &ctx,
        caller.as_ref(),
        Some(&session_id),
        &student,
        &reason,
    )
    .await;
    self::ssr::back_to_live(&session_id, result.map_err(Into::into))
}

/// Adds a student by school number. The owner only.
#[server(endpoint = "add_student")]
pub async fn add_student(session_id: String, school_number: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    let result =
        attn::teacher::add_student(&ctx, caller.as_ref(), &session_id, &school_number).await;
    self::ssr::back_to_live(&session_id, result.map(|_| ()).map_err(Into::into))
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
    let query = leptos_router::hooks::use_query_map();
    let projector = move || query.read().get("projector").is_some_and(|p| !p.is_empty());
    view! {
        <Title text=t!(attendance)/>
        {move || error().map(failure)}
        <Transition fallback=|| view! { <p class="muted">{t!(loading)}</p> }>
            {move || Suspend::new(async move {
                match state.await {
                    Ok(s) if projector() => view! { <Projector s/> }.into_any(),
                    Ok(s) => view! { <Board s/> }.into_any(),
                    Err(e) => view! { <section class="card">{failure(e)}</section> }.into_any(),
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

    let url = format!(
        "/api/live_events/{}",
        crate::components::paths::encode_component(id)
    );
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
                        <p class="muted">{t!(scan_to_join)}</p>
                        <p class="join-url"><a href=s.join_url.clone() data-testid="join-url">{s.join_url.clone()}</a></p>
                        <p class="code">{t!(code)} ": " <strong data-testid="code">{s.code.clone()}</strong></p>
                        <p><a class="button" href=format!("/live/{}?projector=1", s.id) data-testid="projector-link">{t!(projector_mode)}</a></p>
                    </div>
                })}
                <div class="status">
                    <p class="countdown" data-testid="countdown">
                        {if open { t!(time_left_clock, time = &format!("{minutes:02}:{seconds:02}")) } else { t!(session_ended).to_string() }}
                    </p>
                    {s.class_size.map(|size| view! {
                        <p class="present-of" data-testid="present-of" data-count=s.attended data-of=size>
                            {t!(present_of_class, present = &s.attended, size = &size)}
                        </p>
                    })}
                    <p class="counts">
                        <span class="ok" data-testid="attended-count" data-count=s.attended>{t!(attended_count, count = &s.attended)}</span>
                        " · "
                        <span class="bad" data-testid="failed-count" data-count=s.failed>{t!(failed_count, count = &s.failed)}</span>
                    </p>
                    {s.recheck.clone().map(|r| view! {
                        <p class="notice" role="status" data-testid="recheck" data-number=r.number data-waiting=r.waiting>
                            {t!(recheck_running, number = &r.number, waiting = &r.waiting, seconds = &r.seconds_left)}
                        </p>
                    })}
                    {open.then(|| {
                        let id = id.clone();
                        let recheck_id = id.clone();
                        let running = s.recheck.is_some();
                        view! {
                            {(!running).then(|| view! {
                                <form method="post" action=StartRecheck::url()>
                                    <input type="hidden" name="session_id" value=recheck_id/>
                                    <button type="submit" data-testid="start-recheck">{t!(start_recheck)}</button>
                                    <span class="muted small">{t!(recheck_hint)}</span>
                                </form>
                            })}
                            <form method="post" action=FinishSession::url()>
                                <input type="hidden" name="session_id" value=id/>
                                <button type="submit">{t!(finish)}</button>
                            </form>
                        }.into_any()
                    })}
                </div>
            </div>
        </section>
        <section class="card">
            <h2>{t!(students)}</h2>
            {s.shared_origins.iter().map(|n| view! {
                <p class="warning" role="status" data-testid="flag-shared-origin" data-count=*n>{t!(flag_shared_origin, count = n)}</p>
            }).collect_view()}
            {s.shared_browsers.iter().map(|n| view! {
                <p class="warning" role="status" data-testid="flag-shared-browser" data-count=*n>{t!(flag_shared_browser, count = n)}</p>
            }).collect_view()}
            {(s.new_passkeys > 0).then(|| view! {
                <p class="warning" role="status" data-testid="flag-new-passkeys" data-count=s.new_passkeys>{t!(flag_new_passkeys, count = &s.new_passkeys)}</p>
            })}
            {s.same_faces.iter().map(|(a, b)| view! {
                <p class="warning" role="status" data-testid="flag-same-face">{t!(flag_same_face, first = a, second = b)}</p>
            }).collect_view()}
            {s.records.is_empty().then(|| view! { <p class="muted" data-testid="no-students">{t!(no_students_yet)}</p> })}
            <ul class="students" data-testid="students">
                {s.records.into_iter().map(|r| view! { <StudentRow r id=id.clone() open/> }).collect_view()}
            </ul>
            {(!s.left_early.is_empty()).then(|| {
                let id = id.clone();
                view! {
                    <h3>{t!(left_early_title)}</h3>
                    <p class="muted small">{t!(left_early_hint)}</p>
                    <ul class="students left-early" data-testid="left-early">
                        {s.left_early.into_iter().map(|m| {
                            let id = id.clone();
                            let (number, shown) = (m.number.clone(), m.number.clone());
                            view! {
                                <li class="student warning" data-number=m.number>
                                    <span class="who"><strong>{m.name}</strong> " " <span class="muted">{shown}</span></span>
                                    {open.then(|| view! {
                                        <form class="inline" method="post" action=MarkStudent::url()>
                                            <input type="hidden" name="session_id" value=id.clone()/>
                                            <input type="hidden" name="student" value=number.clone()/>
                                            <input type="hidden" name="status" value=Status::Present.as_str()/>
                                            <button type="submit">{t!(keep_present)}</button>
                                        </form>
                                        <form class="inline" method="post" action=MarkStudent::url()>
                                            <input type="hidden" name="session_id" value=id/>
                                            <input type="hidden" name="student" value=number/>
                                            <input type="hidden" name="status" value=Status::Absent.as_str()/>
                                            <button type="submit" class="danger">{t!(mark_absent)}</button>
                                        </form>
                                    })}
                                </li>
                            }.into_any()
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
            {(!s.missing.is_empty()).then(|| {
                let id = id.clone();
                view! {
                    <h3>{t!(not_here_yet)}</h3>
                    <ul class="students missing" data-testid="missing">
                        {s.missing.into_iter().map(|m| {
                            let id = id.clone();
                            let (number, shown) = (m.number.clone(), m.number.clone());
                            view! {
                                <li class="student missing" data-number=m.number>
                                    <span class="who"><strong>{m.name}</strong> " " <span class="muted">{shown}</span></span>
                                    {open.then(|| view! {
                                        <form class="inline" method="post" action=AddStudent::url()>
                                            <input type="hidden" name="session_id" value=id.clone()/>
                                            <input type="hidden" name="school_number" value=number.clone()/>
                                            <button type="submit">{t!(mark_present)}</button>
                                        </form>
                                        <form class="inline" method="post" action=MarkStudent::url()>
                                            <input type="hidden" name="session_id" value=id/>
                                            <input type="hidden" name="student" value=number/>
                                            <input type="hidden" name="status" value=Status::Excused.as_str()/>
                                            <input name="reason" required minlength="5" maxlength="500" aria-label=t!(excuse_reason) placeholder=t!(excuse_reason)/>
                                            <button type="submit">{t!(mark_excused)}</button>
                                        </form>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
            })}
            {open.then(|| view! {
                <form class="inline" method="post" action=AddStudent::url()>
                    <input type="hidden" name="session_id" value=id.clone()/>
                    <input name="school_number" required maxlength="32" aria-label=t!(school_number) placeholder=t!(school_number)/>
                    <button type="submit">{t!(add_student)}</button>
                </form>
            })}
        </section>
    }
}

/// The live page for the projector: the QR code and the code as large as the screen allows,
/// with the course, the teacher and the date; no student list. Without the script the page
/// reloads itself every 10 seconds, so the code keeps rotating; with it, a button asks the
/// browser for full screen.
#[component]
fn Projector(s: LiveBoardView) -> impl IntoView {
    let open = s.seconds_left > 0;
    let (minutes, seconds) = (s.seconds_left / 60, s.seconds_left % 60);
    let scripted = RwSignal::new(false);
    Effect::new(move |_| scripted.set(true));
    view! {
        // A fixed string (no data in it); set as HTML so hydration leaves the noscript alone.
        <div hidden inner_html=NO_SCRIPT_REFRESH></div>
        <section class="projector" data-testid="projector">
            <header>
                <h1 class="lesson" data-testid="lesson">{s.lesson_name.clone()}</h1>
                <p>{s.teacher_name.clone()} " · " {s.date.clone()}</p>
            </header>
            {s.recheck.clone().map(|r| view! { <p class="recheck-call" data-testid="recheck">{t!(recheck_call, seconds = &r.seconds_left)}</p> })}
            {if open {
                view! {
                    <div class="qr" inner_html=s.qr_svg.clone()></div>
                    <p class="code" data-testid="code">{s.code.clone()}</p>
                    <p class="join-url">{s.join_url.clone()}</p>
                }.into_any()
            } else {
                view! { <p class="countdown">{t!(session_ended)}</p> }.into_any()
            }}
            <p class="countdown" data-testid="countdown">
                {open.then(|| t!(time_left_clock, time = &format!("{minutes:02}:{seconds:02}")).to_string())}
                {s.class_size.map(|size| view! { " · " {t!(present_of_class, present = &s.attended, size = &size)} })}
            </p>
            <p class="controls">
                <a href=format!("/live/{}", s.id) data-testid="leave-projector">{t!(leave_projector)}</a>
                {move || scripted.get().then(|| view! {
                    " " <button type="button" on:click=|_| full_screen()>{t!(full_screen)}</button>
                })}
            </p>
        </section>
    }
}

/// Without the script, the projector view reloads itself (and with it the code) every 10 s.
const NO_SCRIPT_REFRESH: &str = r#"<noscript><meta http-equiv="refresh" content="10"></noscript>"#;

/// Asks the browser to show the page full screen (after a click, as browsers require).
fn full_screen() {
    #[cfg(feature = "hydrate")]
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.request_fullscreen();
    }
}

/// Where a student stands on the live page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Removed,
    Counted(Status),
}

impl Standing {
    fn of(r: &RecordView) -> Self {
        match &r.removed {
            Some(_) => Standing::Removed,
            None => Standing::Counted(r.status),
        }
    }

    /// The row's class, for the style sheet and the tests.
    fn class(self) -> &'static str {
        match self {
            Standing::Removed => "removed",
            Standing::Counted(status) => status_class(status),
        }
    }
}

/// How a record was checked, folded away (a `details`: no script needed).
#[component]
fn Evidence(r: RecordView) -> impl IntoView {
    let network = r.network.map(|n| match n {
        NetworkView::NotChecked => t!(evidence_network_not_checked).to_string(),
        NetworkView::Teacher => t!(evidence_network_teacher).to_string(),
        NetworkView::Classroom(net) => t!(evidence_network_classroom, network = &net).to_string(),
        NetworkView::Outside => t!(evidence_network_outside).to_string(),
    });
    let added = network.is_none();
    let device = r.device.clone().map(|d| {
        let kind = match &d {
            DeviceView::Cookie => "cookie",
            DeviceView::Passkey => "passkey",
            DeviceView::NewPasskey(_) => "new_passkey",
            DeviceView::NoPasskey => "none",
        };
        let text = match d {
            DeviceView::Cookie => t!(evidence_device_cookie).to_string(),
            DeviceView::Passkey => t!(evidence_device_passkey).to_string(),
            DeviceView::NewPasskey(None) => t!(evidence_device_new_passkey).to_string(),
            DeviceView::NewPasskey(Some(by)) => {
                t!(evidence_device_new_passkey_allowed, by = &by).to_string()
            }
            DeviceView::NoPasskey => t!(evidence_device_none).to_string(),
        };
        (kind, text)
    });
    view! {
        <details class="evidence" data-testid="evidence">
            <summary>{t!(evidence)}</summary>
            <div class="small">
                {network.map(|n| view! { <p data-testid="evidence-network">{n}</p> })}
                {device.map(|(kind, text)| view! { <p data-testid="evidence-device" data-device=kind>{text}</p> })}
                {added.then(|| view! { <p>{t!(evidence_added_by_teacher)}</p> })}
                {r.same_face.iter().map(|who| view! { <p class="warning" data-testid="evidence-same-face">{t!(evidence_same_face, who = who)}</p> }).collect_view()}
                {r.distance.clone().map(|d| view! { <p>{t!(distance, distance = &d)}</p> })}
                {r.rechecks.map(|(confirmed, asked)| view! { <p data-testid="evidence-rechecks">{t!(evidence_rechecks, confirmed = &confirmed, asked = &asked)}</p> })}
                {r.changes.into_iter().map(|(time, to, why)| {
                    let to = status_text(to, None);
                    // A failed check the teacher overruled is kept by its code: said in words.
                    let why = match why {
                        Some(code) => match code.parse::<FailReason>() {
                            Ok(reason) => crate::components::reasons::reason_text(reason).to_owned(),
                            Err(_) => code,
                        },
                        None => String::new(),
                    };
                    view! { <p>{t!(evidence_change, time = &time, status = &to, reason = &why)}</p> }
                }).collect_view()}
            </div>
        </details>
    }
    .into_any()
}

#[component]
fn StudentRow(r: RecordView, id: String, open: bool) -> impl IntoView {
    let standing = Standing::of(&r);
    let failed = standing == Standing::Counted(Status::Failed);
    view! {
        <li class=format!("student {}", standing.class()) data-number=r.number.clone() data-status=r.status.as_str()>
            <span class="who"><strong>{r.name.clone()}</strong> " " <span class="muted">{r.number.clone()}</span></span>
            <span class="when muted">{r.time.clone()}</span>
            {r.distance.clone().map(|d| view! { <span class="distance muted" data-testid="distance">{t!(distance, distance = &d)}</span> })}
            <span class="state">
                {match standing {
                    Standing::Removed => t!(removed_because, reason = &r.removed.clone().unwrap_or_default()),
                    Standing::Counted(status) => status_text(status, r.reason),
                }}
                {r.note.clone().filter(|_| standing != Standing::Removed).map(|n| view! { " · " <span class="note">{n}</span> })}
                {r.flagged.then(|| view! { " · " <span class="warning small" data-testid="flagged">{t!(flagged_origin)}</span> })}
                {r.shared_browser.then(|| view! { " · " <span class="warning small" data-testid="flagged-browser">{t!(flagged_browser)}</span> })}
                {matches!(r.device, Some(DeviceView::NewPasskey(_))).then(|| view! { " · " <span class="warning small" data-testid="flagged-new-passkey">{t!(flagged_new_passkey)}</span> })}
                {(!r.same_face.is_empty()).then(|| view! { " · " <span class="warning small" data-testid="flagged-same-face">{t!(flagged_same_face)}</span> })}
            </span>
            <Evidence r=r.clone()/>
            {(open && failed).then(|| view! {
                <form class="inline" method="post" action=AcceptStudent::url()>
                    <input type="hidden" name="session_id" value=id.clone()/>
                    <input type="hidden" name="student" value=r.number.clone()/>
                    <button type="submit">{t!(accept)}</button>
                </form>
            })}
            {(open && r.reason.is_some_and(FailReason::is_passkey) && standing != Standing::Removed).then(|| view! {
                <form class="inline" method="post" action=AllowNewPasskey::url() data-testid="allow-passkey">
                    <input type="hidden" name="session_id" value=id.clone()/>
                    <input type="hidden" name="student" value=r.number.clone()/>
                    <input name="reason" required minlength="5" maxlength="500" aria-label=t!(new_passkey_reason) placeholder=t!(new_passkey_reason)/>
                    <button type="submit">{t!(allow_new_passkey)}</button>
                </form>
            })}
            {(open && standing != Standing::Removed).then(|| view! {
                <form class="inline" method="post" action=RemoveStudent::url()>
                    <input type="hidden" name="session_id" value=id.clone()/>
                    <input type="hidden" name="student" value=r.number.clone()/>
                    <input name="reason" required minlength="5" maxlength="500" aria-label=t!(reason) placeholder=t!(reason)/>
                    <button type="submit">{t!(remove)}</button>
                </form>
            })}
        </li>
    }
}
