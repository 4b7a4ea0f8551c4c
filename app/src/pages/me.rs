//! A student's own attendance per course (title + teacher): every finished session with its
//! status and what the teacher wrote, the rate, and the absences used and left before the
//! course's limit, with a warning when close to it or over it. Above it, the phone their
//! passkey is on (for sessions that ask for one) and when it was last used.

use attn_types::{AppealState, FailReason, Status};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::components::notices::{failure, outcome_from_query};
use crate::components::status::{LimitRisk, status_class, status_text};
use crate::error::AppError;

/// A student's appeal of a record, and the teacher's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyAppeal {
    /// Open, accepted or rejected.
    pub state: AppealState,
    /// What the student wrote.
    pub text: String,
    /// The teacher's answer.
    pub answer: Option<String>,
}

/// One session in a student's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MySessionRow {
    /// Session id.
    pub session_id: String,
    /// "23.11.2026 09:30".
    pub date: String,
    /// How the student counts.
    pub status: Status,
    /// Why a check failed.
    pub reason: Option<FailReason>,
    /// What the teacher wrote: why they set the status or removed the record.
    pub note: Option<String>,
    /// The teacher removed the record.
    pub removed: bool,
    /// The latest appeal of it.
    pub appeal: Option<MyAppeal>,
}

/// A student's attendance in one lesson.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonRate {
    /// Lesson.
    pub lesson_name: String,
    /// Teacher's name.
    pub teacher_name: String,
    /// Sessions held.
    pub held: u32,
    /// Attended.
    pub attended: u32,
    /// Missed.
    pub missed: u32,
    /// Rate in percent.
    pub rate: u32,
    /// Absences counted toward the limit ("2", "2.5").
    pub absences: String,
    /// Absences the limit allows.
    pub allowed: u32,
    /// Whole absences left before the limit.
    pub left: u32,
    /// Absences are counted in class hours, not sessions.
    pub by_hours: bool,
    /// Close to the limit or over it.
    pub risk: LimitRisk,
    /// Its sessions, newest first.
    pub sessions: Vec<MySessionRow>,
}

/// The caller's attendance per lesson. Students only.
#[server(endpoint = "my_attendance")]
pub async fn my_attendance() -> Result<Vec<LessonRate>, AppError> {
    use crate::ssr;
    let (ctx, session, caller) = ssr::current().await.map_err(ssr::fail)?;
    let timetable = ssr::lessons(&session).await.map_err(ssr::fail)?;
    let lessons = attn::history::my_attendance(&ctx, caller.as_ref(), &timetable)
        .await
        .map_err(ssr::fail)?;
    Ok(lessons
        .iter()
        .map(|l| LessonRate {
            lesson_name: l.lesson_name.clone(),
            teacher_name: l.teacher_name.clone(),
            held: l.held,
            attended: l.attended,
            missed: l.missed(),
            rate: l.rate_percent(),
            absences: l.standing.absences_text(),
            allowed: l.standing.allowed,
            left: l.standing.absences_left(),
            by_hours: l.standing.by_hours,
            risk: l.standing.risk().into(),
            sessions: l
                .sessions
                .iter()
                .map(|s| MySessionRow {
                    session_id: s.attendance_id.to_string(),
                    appeal: s.appeal.as_ref().map(|a| MyAppeal {
                        state: a.state,
                        text: a.text.clone(),
                        answer: a.answer.clone(),
                    }),
                    date: ssr::local(&ctx, s.start_time, ssr::DATE_TIME),
                    status: s.status,
                    reason: s.fail_reason,
                    note: s.note.clone(),
                    removed: s.removed,
                })
                .collect(),
        })
        .collect())
}

/// Contests the caller's record in a finished session, with a text of at least 10
/// characters and, optionally, the check-in's signed receipt. Students only; one open appeal
/// per record.
#[server(endpoint = "appeal_record")]
pub async fn appeal_record(
    session_id: String,
    reason: String,
    #[server(default)] receipt: String,
) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    let result =
        attn::appeals::appeal(&ctx, caller.as_ref(), &session_id, &reason, Some(&receipt)).await;
    crate::ssr::redirect_after(
        result.map(|_| ()).map_err(AppError::from),
        "/me?done=saved",
        "/me",
    )
}

/// The caller's passkey, as their page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyDeviceView {
    /// The device the passkey is on, when it was registered and last used ("03.12.2026 09:14").
    pub passkey: Option<(String, String, Option<String>)>,
    /// A teacher or admin allowed a new passkey: who, when.
    pub allowed: Option<(String, String)>,
}

/// The caller's registered passkey and any leave for a new one. Anyone logged in.
#[server(endpoint = "my_device")]
pub async fn my_device() -> Result<MyDeviceView, AppError> {
    use crate::ssr;
    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    let device = attn::passkeys::my_device(&ctx, caller.as_ref())
        .await
        .map_err(ssr::fail)?;
    let at = |t| ssr::local(&ctx, t, ssr::DATE_TIME);
    Ok(MyDeviceView {
        passkey: device
            .passkey
            .map(|p| (p.device, at(p.registered_at), p.last_used_at.map(at))),
        allowed: device.allowed.map(|(by, when)| (by, at(when))),
    })
}

/// The student's registered passkey, if any.
#[component]
fn MyDevice() -> impl IntoView {
    let device = Resource::new(|| (), |_| my_device());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(d) = device.await else { return ().into_any() };
                view! {
                    <section class="card" data-testid="my-device">
                        <h2>{t!(my_device)}</h2>
                        {match d.passkey {
                            Some((device, registered, used)) => view! {
                                <p data-testid="passkey-device" data-device=device.clone()>
                                    {t!(passkey_on_device, device = &device, registered = &registered)}
                                </p>
                                {used.map(|u| view! { <p class="muted" data-testid="passkey-used">{t!(passkey_last_used, when = &u)}</p> })}
                                <p class="muted small">{t!(passkey_new_phone_hint)}</p>
                            }.into_any(),
                            None => view! { <p class="muted" data-testid="passkey-device">{t!(passkey_none)}</p> }.into_any(),
                        }}
                        {d.allowed.map(|(by, when)| view! {
                            <p class="notice" data-testid="passkey-allowed">{t!(passkey_allowed, by = &by, when = &when)}</p>
                        })}
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

/// A student's own attendance per lesson.
#[component]
pub fn MyAttendancePage() -> impl IntoView {
    let lessons = Resource::new(|| (), |_| my_attendance());
    view! {
        <Title text=t!(my_attendance)/>
        <MyDevice/>
        <section class="card">
            <h1>{t!(my_attendance)}</h1>
            {outcome_from_query()}
            <Suspense fallback=|| view! { <p class="muted">{t!(loading)}</p> }>
                {move || Suspend::new(async move {
                    match lessons.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">{t!(no_attendance_yet)}</p> }.into_any(),
                        Ok(list) => list.into_iter().map(|l| view! { <LessonRateView l/> }).collect_view().into_any(),
                        Err(e) => failure(e),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn LessonRateView(l: LessonRate) -> impl IntoView {
    view! {
        <article class="lesson-rate" data-testid="lesson-rate">
            <h2>{l.lesson_name.clone()}</h2>
            <p class="muted">{l.teacher_name.clone()}</p>
            <p>
                <strong class="rate" data-testid="rate">{format!("%{}", l.rate)}</strong>
                " " {t!(rate)} " · "
                {t!(lesson_tally, held = &l.held, attended = &l.attended, missed = &l.missed)}
            </p>
            <meter min="0" max="100" value=l.rate.to_string()></meter>
            <p class="limit" data-testid="absences" data-absences=l.absences.clone() data-left=l.left>
                {if l.by_hours {
                    t!(absences_used_left_hours, used = &l.absences, allowed = &l.allowed, left = &l.left).to_string()
                } else {
                    t!(absences_used_left, used = &l.absences, allowed = &l.allowed, left = &l.left).to_string()
                }}
            </p>
            {match l.risk {
                LimitRisk::Over => Some(view! { <p class="warning over" role="alert" data-testid="limit-warning">{t!(limit_over)}</p> }),
                LimitRisk::OneMore => Some(view! { <p class="warning" role="alert" data-testid="limit-warning">{t!(limit_one_more)}</p> }),
                LimitRisk::Fine => None,
            }}
            <ul class="sessions">
                {l.sessions.into_iter().map(|s| {
                    let contestable = s.removed || s.status != Status::Present;
                    let text = if s.removed { t!(status_removed).to_string() } else { status_text(s.status, s.reason) };
                    view! {
                        <li class=status_class(s.status) data-status=s.status.as_str()>
                            <span class="muted">{s.date}</span> " " {text}
                            {s.note.map(|n| view! { " · " <span class="note" data-testid="teacher-note">{t!(teacher_wrote, note = &n)}</span> })}
                            <AppealPart session_id=s.session_id contestable appeal=s.appeal/>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </article>
    }
}

/// A session's appeal: its state and answer, or the form to send one.
#[component]
fn AppealPart(session_id: String, contestable: bool, appeal: Option<MyAppeal>) -> impl IntoView {
    let open = appeal
        .as_ref()
        .is_some_and(|a| a.state == AppealState::Open);
    let shown = appeal.map(|a| {
        let text = match a.state {
            AppealState::Open => t!(appeal_open, text = &a.text).to_string(),
            AppealState::Accepted => t!(appeal_accepted).to_string(),
            AppealState::Rejected => t!(
                appeal_rejected,
                answer = &a.answer.clone().unwrap_or_default()
            )
            .to_string(),
        };
        view! { <p class="appeal" data-testid="appeal" data-state=a.state.as_str()>{text}</p> }
    });
    view! {
        {shown}
        {(contestable && !open).then(|| view! {
            <form class="inline appeal-form" method="post" action=AppealRecord::url()>
                <input type="hidden" name="session_id" value=session_id/>
                <input name="reason" required minlength="10" maxlength="500" aria-label=t!(appeal_placeholder) placeholder=t!(appeal_placeholder)/>
                <input name="receipt" maxlength="2048" aria-label=t!(appeal_receipt) placeholder=t!(appeal_receipt)/>
                <button type="submit">{t!(appeal)}</button>
            </form>
        })}
    }
}
