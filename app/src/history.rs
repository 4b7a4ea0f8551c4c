//! Pages after the sweep: a teacher's past sessions and their corrections, a student's own
//! attendance per lesson, and the admin's review of deletions. Every change is a plain form
//! post that comes back to the page with the outcome in the address, so it works without the
//! script.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::i18n::Text;
use crate::teach::reason_text;
use crate::{t, use_lang};

/// A past session in the teacher's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastSessionRow {
    /// Session id.
    pub id: String,
    /// Lesson.
    pub lesson_name: String,
    /// "23.11.2026 09:30".
    pub date: String,
    /// Present.
    pub attended: u64,
    /// Failed and not accepted.
    pub failed: u64,
}

/// One page of the teacher's past sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastSessionsPage {
    /// The sessions, newest first.
    pub items: Vec<PastSessionRow>,
    /// This page, from 1.
    pub page: u64,
    /// How many pages there are (at least 1).
    pub pages: u64,
}

/// A student in a past session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastRecordRow {
    /// School number.
    pub number: String,
    /// Name.
    pub name: String,
    /// Present.
    pub attended: bool,
    /// Reason code of a failed check.
    pub reason: Option<String>,
    /// "09:03".
    pub time: String,
}

/// A past session with its students.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastDetail {
    /// Session id.
    pub id: String,
    /// Lesson.
    pub lesson_name: String,
    /// "23.11.2026 09:30–09:40".
    pub when: String,
    /// Its students.
    pub records: Vec<PastRecordRow>,
}

/// One session in a student's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MySessionRow {
    /// "23.11.2026 09:30".
    pub date: String,
    /// `attended`, `failed` or `missed`.
    pub presence: String,
    /// Reason code of a failed check.
    pub reason: Option<String>,
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
    /// Its sessions, newest first.
    pub sessions: Vec<MySessionRow>,
}

/// A deleted session on the admin's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedSessionRow {
    /// Session id.
    pub id: String,
    /// Lesson.
    pub lesson_name: String,
    /// When it was held.
    pub date: String,
    /// Its teacher.
    pub teacher_name: String,
    /// Who deleted it.
    pub deleted_by: String,
    /// When.
    pub deleted_at: String,
    /// Why.
    pub reason: String,
}

/// A deleted record on the admin's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedRecordRow {
    /// Session id.
    pub session_id: String,
    /// School number.
    pub number: String,
    /// Student's name.
    pub name: String,
    /// Lesson.
    pub lesson_name: String,
    /// When the session was held.
    pub date: String,
    /// The session's teacher.
    pub teacher_name: String,
    /// Who deleted it.
    pub deleted_by: String,
    /// When.
    pub deleted_at: String,
    /// Why.
    pub reason: String,
}

/// An entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    /// When.
    pub at: String,
    /// Who (name).
    pub actor: String,
    /// The stored action.
    pub action: String,
    /// The session.
    pub session_id: String,
    /// The student, for record changes.
    pub student: Option<String>,
    /// The reason given.
    pub reason: Option<String>,
}

/// The admin's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewData {
    /// Deleted sessions.
    pub sessions: Vec<DeletedSessionRow>,
    /// Deleted records.
    pub records: Vec<DeletedRecordRow>,
    /// The latest corrections and restores.
    pub events: Vec<EventRow>,
}

#[cfg(feature = "ssr")]
fn local(ctx: &attn::Ctx, at: chrono::DateTime<chrono::Utc>, format: &str) -> String {
    at.with_timezone(&ctx.config.timezone)
        .format(format)
        .to_string()
}

#[cfg(feature = "ssr")]
const DATE_TIME: &str = "%d.%m.%Y %H:%M";

/// A teacher's past sessions, newest first, 20 per page (`page` from 1). Teachers only.
#[server(endpoint = "past_sessions")]
pub async fn past_sessions(page: u64) -> Result<PastSessionsPage, AppError> {
    use crate::auth;
    let (ctx, _, caller) = auth::current().await.map_err(auth::fail)?;
    let page = page.clamp(1, 1_000_000);
    let found = attn::history::past_sessions(&ctx, caller.as_ref(), page - 1)
        .await
        .map_err(auth::fail)?;
    let size = attn::history::HISTORY_PAGE_SIZE;
    Ok(PastSessionsPage {
        items: found
            .items
            .iter()
            .map(|p| PastSessionRow {
                id: p.attendance.id.to_string(),
                lesson_name: p.attendance.lesson_name.clone(),
                date: local(&ctx, p.attendance.start_time, DATE_TIME),
                attended: p.counts.attended,
                failed: p.counts.failed,
            })
            .collect(),
        page,
        pages: found.total.div_ceil(size).max(1),
    })
}

/// A past session and its students. Its owner only.
#[server(endpoint = "past_session")]
pub async fn past_session(session_id: String) -> Result<PastDetail, AppError> {
    use crate::auth;
    let (ctx, _, caller) = auth::current().await.map_err(auth::fail)?;
    let detail = attn::history::past_session(&ctx, caller.as_ref(), &session_id)
        .await
        .map_err(auth::fail)?;
    let a = &detail.attendance;
    Ok(PastDetail {
        id: a.id.to_string(),
        lesson_name: a.lesson_name.clone(),
        when: format!(
            "{}–{}",
            local(&ctx, a.start_time, DATE_TIME),
            local(&ctx, a.end_time, "%H:%M")
        ),
        records: detail
            .records
            .iter()
            .map(|r| PastRecordRow {
                number: r.record.student_number.clone(),
                name: r.full_name.clone(),
                attended: r.record.is_attended,
                reason: r.record.fail_reason.clone(),
                time: r
                    .record
                    .attendance_time
                    .map(|t| local(&ctx, t, "%H:%M:%S"))
                    .unwrap_or_default(),
            })
            .collect(),
    })
}

#[cfg(feature = "ssr")]
fn back_to_past(session_id: &str, result: attn::Result<()>) {
    let page = format!("/history/{}", crate::api::encode_component(session_id));
    crate::api::redirect_after(
        result.map_err(AppError::from),
        &format!("{page}?done=saved"),
        &page,
    );
}

/// Counts a student present in a past session. Its owner only.
#[server(endpoint = "add_past_student")]
pub async fn add_past_student(session_id: String, school_number: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::auth::current().await?;
    let result =
        attn::history::add_student(&ctx, caller.as_ref(), &session_id, &school_number).await;
    back_to_past(&session_id, result.map(|_| ()));
    Ok(())
}

/// Removes a student from a past session (reason of at least 10 characters). Its owner only.
#[server(endpoint = "remove_past_student")]
pub async fn remove_past_student(
    session_id: String,
    student: String,
    reason: String,
) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::auth::current().await?;
    let result =
        attn::history::remove_student(&ctx, caller.as_ref(), &session_id, &student, &reason).await;
    back_to_past(&session_id, result);
    Ok(())
}

/// Deletes a past session (reason of at least 10 characters). Its owner only.
#[server(endpoint = "delete_past_session")]
pub async fn delete_past_session(session_id: String, reason: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::auth::current().await?;
    match attn::history::delete_session(&ctx, caller.as_ref(), &session_id, &reason).await {
        Ok(()) => leptos_axum::redirect("/history?done=deleted"),
        Err(e) => back_to_past(&session_id, Err(e)),
    }
    Ok(())
}

/// The caller's attendance per lesson. Students only.
#[server(endpoint = "my_attendance")]
pub async fn my_attendance() -> Result<Vec<LessonRate>, AppError> {
    use crate::auth;
    let (ctx, session, caller) = auth::current().await.map_err(auth::fail)?;
    let timetable = auth::lessons(&session).await.map_err(auth::fail)?;
    let lessons = attn::history::my_attendance(&ctx, caller.as_ref(), &timetable)
        .await
        .map_err(auth::fail)?;
    Ok(lessons
        .iter()
        .map(|l| LessonRate {
            lesson_name: l.lesson_name.clone(),
            teacher_name: l.teacher_name.clone(),
            held: l.held,
            attended: l.attended,
            missed: l.missed(),
            rate: l.rate_percent(),
            sessions: l
                .sessions
                .iter()
                .map(|s| {
                    use attn::history::Presence;
                    let (presence, reason) = match &s.presence {
                        Presence::Attended => ("attended", None),
                        Presence::Failed(reason) => ("failed", reason.clone()),
                        Presence::Missed => ("missed", None),
                    };
                    MySessionRow {
                        date: local(&ctx, s.start_time, DATE_TIME),
                        presence: presence.into(),
                        reason,
                    }
                })
                .collect(),
        })
        .collect())
}

#[cfg(feature = "ssr")]
fn parse_day(field: &'static str, text: &str) -> Result<Option<chrono::NaiveDate>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| AppError::Invalid {
            field: field.into(),
        })
}

/// Everything soft-deleted, filtered by teacher (name or number) and day of deletion
/// (`YYYY-MM-DD`), with the latest audit events. Admins only.
#[server(endpoint = "deleted_items")]
pub async fn deleted_items(
    #[server(default)] teacher: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
) -> Result<ReviewData, AppError> {
    use crate::auth;
    let (ctx, _, caller) = auth::current().await.map_err(auth::fail)?;
    let query = attn::admin::ReviewQuery {
        teacher: &teacher,
        from: parse_day("from", &from).map_err(auth::fail)?,
        to: parse_day("to", &to).map_err(auth::fail)?,
    };
    let review = attn::admin::review(&ctx, caller.as_ref(), query)
        .await
        .map_err(auth::fail)?;
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| local(&ctx, t, DATE_TIME)).unwrap_or_default()
    };
    Ok(ReviewData {
        sessions: review
            .sessions
            .iter()
            .map(|s| DeletedSessionRow {
                id: s.attendance.id.to_string(),
                lesson_name: s.attendance.lesson_name.clone(),
                date: when(Some(s.attendance.start_time)),
                teacher_name: s.teacher_name.clone(),
                deleted_by: s.deleted_by_name.clone(),
                deleted_at: when(s.attendance.deletion_time),
                reason: s.attendance.deletion_reason.clone().unwrap_or_default(),
            })
            .collect(),
        records: review
            .records
            .iter()
            .map(|r| DeletedRecordRow {
                session_id: r.record.attendance_id.to_string(),
                number: r.record.student_number.clone(),
                name: r.student_name.clone(),
                lesson_name: r.lesson_name.clone(),
                date: when(r.session_start),
                teacher_name: r.teacher_name.clone(),
                deleted_by: r.deleted_by_name.clone(),
                deleted_at: when(r.record.deletion_time),
                reason: r.record.deletion_reason.clone().unwrap_or_default(),
            })
            .collect(),
        events: review
            .events
            .iter()
            .map(|e| EventRow {
                at: when(Some(e.event.at)),
                actor: e.actor_name.clone(),
                action: e.event.action.clone(),
                session_id: e.event.attendance_id.to_string(),
                student: e.event.student_number.clone(),
                reason: e.event.reason.clone(),
            })
            .collect(),
    })
}

#[cfg(feature = "ssr")]
fn back_to_review(result: attn::Result<()>) {
    crate::api::redirect_after(
        result.map_err(AppError::from),
        "/admin?done=restored",
        "/admin",
    );
}

/// Restores a deleted session. Admins only; recorded in the audit log.
#[server(endpoint = "restore_session")]
pub async fn restore_session(session_id: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::auth::current().await?;
    back_to_review(attn::admin::restore_session(&ctx, caller.as_ref(), &session_id).await);
    Ok(())
}

/// Restores a deleted record. Admins only; recorded in the audit log.
#[server(endpoint = "restore_record")]
pub async fn restore_record(session_id: String, student: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::auth::current().await?;
    back_to_review(attn::admin::restore_record(&ctx, caller.as_ref(), &session_id, &student).await);
    Ok(())
}

/// The error (`?error=`) and the notice (`?done=`) a form post came back with.
fn outcome_from_query() -> impl IntoView {
    let query = use_query_map();
    move || {
        let q = query.read();
        let error = q.get("error").and_then(|c| AppError::from_code(&c, None));
        let done = q.get("done").and_then(|d| match d.as_str() {
            "saved" => Some(Text::Saved),
            "deleted" => Some(Text::SessionDeletedNotice),
            "restored" => Some(Text::RestoredNotice),
            _ => None,
        });
        view! {
            {error.map(|e| view! { <p class="error" role="alert" data-testid="error">{e.message(use_lang())}</p> })}
            {done.map(|d| view! { <p class="notice" role="status" data-testid="notice">{t(d)}</p> })}
        }
    }
}

fn failure(e: AppError) -> AnyView {
    view! { <p class="error" role="alert" data-testid="error">{e.message(use_lang())}</p> }
        .into_any()
}

/// The teacher's past sessions.
#[component]
pub fn HistoryPage() -> impl IntoView {
    let query = use_query_map();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(1)
    };
    let list = Resource::new(page, past_sessions);
    view! {
        <Title text=t(Text::History)/>
        <section class="card">
            <h1>{t(Text::History)}</h1>
            {outcome_from_query()}
            <Suspense fallback=|| view! { <p class="muted">{t(Text::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(p) if p.items.is_empty() && p.page == 1 => view! { <p class="muted">{t(Text::NoPastSessions)}</p> }.into_any(),
                        Ok(p) => view! { <PastList p/> }.into_any(),
                        Err(e) => failure(e),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn PastList(p: PastSessionsPage) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="list" data-testid="past-sessions">
                <thead>
                    <tr>
                        <th>{t(Text::Date)}</th>
                        <th>{t(Text::LessonName)}</th>
                        <th class="num">{t(Text::Attended)}</th>
                        <th class="num">{t(Text::Failed)}</th>
                    </tr>
                </thead>
                <tbody>
                    {p.items.into_iter().map(|s| view! {
                        <tr data-id=s.id.clone()>
                            <td>{s.date}</td>
                            <td><a href=format!("/history/{}", s.id)>{s.lesson_name}</a></td>
                            <td class="num" data-testid="past-attended">{s.attended}</td>
                            <td class="num">{s.failed}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager">
            {(p.page > 1).then(|| view! { <a href=format!("/history?page={}", p.page - 1)>{t(Text::Newer)}</a> })}
            <span class="muted">{format!("{} {} {}", p.page, t(Text::PageOf), p.pages)}</span>
            {(p.page < p.pages).then(|| view! { <a href=format!("/history?page={}", p.page + 1)>{t(Text::Older)}</a> })}
        </nav>
    }
}

/// One past session: its students, and the corrections.
#[component]
pub fn PastSessionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, past_session);
    view! {
        <Title text=t(Text::History)/>
        <p><a href="/history">{t(Text::BackToHistory)}</a></p>
        {outcome_from_query()}
        <Suspense fallback=|| view! { <p class="muted">{t(Text::Loading)}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <PastSessionView d/> }.into_any(),
                    Err(e) => view! { <section class="card">{failure(e)}</section> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PastSessionView(d: PastDetail) -> impl IntoView {
    let id = d.id.clone();
    view! {
        <section class="card">
            <h1 class="lesson" data-testid="lesson">{d.lesson_name.clone()}</h1>
            <p class="muted">{d.when.clone()}</p>
            <h2>{t(Text::Students)}</h2>
            {d.records.is_empty().then(|| view! { <p class="muted">{t(Text::NoStudentsYet)}</p> })}
            <ul class="students" data-testid="students">
                {d.records.into_iter().map(|r| {
                    let state = if r.attended {
                        t(Text::Attended).to_string()
                    } else {
                        format!("{}: {}", t(Text::Failed), r.reason.as_deref().map(reason_text).unwrap_or_default())
                    };
                    view! {
                        <li class=if r.attended { "student attended" } else { "student failed" } data-number=r.number.clone()>
                            <span class="who"><strong>{r.name.clone()}</strong> " " <span class="muted">{r.number.clone()}</span></span>
                            <span class="when muted">{r.time.clone()}</span>
                            <span class="state">{state}</span>
                            <form class="inline" method="post" action=RemovePastStudent::url()>
                                <input type="hidden" name="session_id" value=id.clone()/>
                                <input type="hidden" name="student" value=r.number.clone()/>
                                <input name="reason" required minlength="10" maxlength="500" aria-label=t(Text::Reason) placeholder=t(Text::ReasonMin10)/>
                                <button type="submit">{t(Text::Remove)}</button>
                            </form>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <form class="inline" method="post" action=AddPastStudent::url()>
                <input type="hidden" name="session_id" value=id.clone()/>
                <input name="school_number" required maxlength="32" aria-label=t(Text::SchoolNumber) placeholder=t(Text::SchoolNumber)/>
                <button type="submit">{t(Text::AddStudent)}</button>
            </form>
        </section>
        <section class="card danger">
            <h2>{t(Text::DeleteSession)}</h2>
            <p class="muted small">{t(Text::DeleteSessionHint)}</p>
            <form class="inline" method="post" action=DeletePastSession::url()>
                <input type="hidden" name="session_id" value=id/>
                <input name="reason" required minlength="10" maxlength="500" aria-label=t(Text::Reason) placeholder=t(Text::ReasonMin10)/>
                <button type="submit" class="danger">{t(Text::DeleteSession)}</button>
            </form>
        </section>
    }
}

/// A student's own attendance per lesson.
#[component]
pub fn MyAttendancePage() -> impl IntoView {
    let lessons = Resource::new(|| (), |_| my_attendance());
    view! {
        <Title text=t(Text::MyAttendance)/>
        <section class="card">
            <h1>{t(Text::MyAttendance)}</h1>
            <Suspense fallback=|| view! { <p class="muted">{t(Text::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match lessons.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">{t(Text::NoAttendanceYet)}</p> }.into_any(),
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
                " " {t(Text::Rate)} " · "
                {format!("{}: {} · {}: {} · {}: {}", t(Text::Held), l.held, t(Text::Attended), l.attended, t(Text::Missed), l.missed)}
            </p>
            <meter min="0" max="100" value=l.rate.to_string()></meter>
            <ul class="sessions">
                {l.sessions.into_iter().map(|s| {
                    let text = match s.presence.as_str() {
                        "attended" => t(Text::Attended).to_string(),
                        "failed" => format!("{}: {}", t(Text::Failed), s.reason.as_deref().map(reason_text).unwrap_or_default()),
                        _ => t(Text::Missed).to_string(),
                    };
                    view! { <li class=s.presence.clone()><span class="muted">{s.date}</span> " " {text}</li> }
                }).collect_view()}
            </ul>
        </article>
    }
}

/// The admin's review of deletions, with restore.
#[component]
pub fn AdminPage() -> impl IntoView {
    let query = use_query_map();
    let field = move |name: &'static str| move || query.read().get(name).unwrap_or_default();
    let (teacher, from, to) = (field("teacher"), field("from"), field("to"));
    let data = Resource::new(
        move || (teacher(), from(), to()),
        |(teacher, from, to)| deleted_items(teacher, from, to),
    );
    view! {
        <Title text=t(Text::Review)/>
        <section class="card">
            <h1>{t(Text::Review)}</h1>
            {outcome_from_query()}
            <form class="filters" method="get" action="/admin">
                <label>{t(Text::Teacher)} <input name="teacher" maxlength="100" value=teacher/></label>
                <label>{t(Text::FromDate)} <input name="from" type="date" value=from/></label>
                <label>{t(Text::ToDate)} <input name="to" type="date" value=to/></label>
                <button type="submit">{t(Text::Filter)}</button>
            </form>
        </section>
        <Suspense fallback=|| view! { <p class="muted">{t(Text::Loading)}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <ReviewView d/> }.into_any(),
                    Err(e) => view! { <section class="card">{failure(e)}</section> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ReviewView(d: ReviewData) -> impl IntoView {
    view! {
        <section class="card">
            <h2>{t(Text::DeletedSessions)}</h2>
            {d.sessions.is_empty().then(|| view! { <p class="muted">{t(Text::NothingDeleted)}</p> })}
            <ul class="deleted" data-testid="deleted-sessions">
                {d.sessions.into_iter().map(|s| { let key = s.id.clone(); view! {
                    <li data-id=key>
                        <p><strong>{s.lesson_name}</strong> " · " {s.date} " · " {s.teacher_name}</p>
                        <p class="muted">{format!("{}: {} · {}: {}", t(Text::DeletedBy), s.deleted_by, t(Text::DeletedAt), s.deleted_at)}</p>
                        <p>{t(Text::Reason)} ": " <q>{s.reason}</q></p>
                        <form method="post" action=RestoreSession::url()>
                            <input type="hidden" name="session_id" value=s.id/>
                            <button type="submit">{t(Text::Restore)}</button>
                        </form>
                    </li>
                }}).collect_view()}
            </ul>
        </section>
        <section class="card">
            <h2>{t(Text::DeletedRecords)}</h2>
            {d.records.is_empty().then(|| view! { <p class="muted">{t(Text::NothingDeleted)}</p> })}
            <ul class="deleted" data-testid="deleted-records">
                {d.records.into_iter().map(|r| { let (key, shown) = (r.number.clone(), r.number.clone()); view! {
                    <li data-number=key>
                        <p><strong>{r.name}</strong> " " <span class="muted">{shown}</span></p>
                        <p>{r.lesson_name} " · " {r.date} " · " {r.teacher_name}</p>
                        <p class="muted">{format!("{}: {} · {}: {}", t(Text::DeletedBy), r.deleted_by, t(Text::DeletedAt), r.deleted_at)}</p>
                        <p>{t(Text::Reason)} ": " <q>{r.reason}</q></p>
                        <form method="post" action=RestoreRecord::url()>
                            <input type="hidden" name="session_id" value=r.session_id/>
                            <input type="hidden" name="student" value=r.number/>
                            <button type="submit">{t(Text::Restore)}</button>
                        </form>
                    </li>
                }}).collect_view()}
            </ul>
        </section>
        <section class="card">
            <h2>{t(Text::RecentChanges)}</h2>
            <ul class="events" data-testid="events">
                {d.events.into_iter().map(|e| {
                    let action = t(match e.action.as_str() {
                        "session_deleted" => Text::ActSessionDeleted,
                        "record_deleted" => Text::ActRecordDeleted,
                        "record_added" => Text::ActRecordAdded,
                        "session_restored" => Text::ActSessionRestored,
                        _ => Text::ActRecordRestored,
                    });
                    view! {
                        <li data-action=e.action.clone()>
                            <span class="muted">{e.at}</span> " " <strong>{e.actor}</strong> " " {action}
                            {e.student.map(|s| view! { " " <span>{s}</span> })}
                            {e.reason.map(|r| view! { " · " <q>{r}</q> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
