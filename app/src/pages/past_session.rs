//! One finished session of a teacher's: its students, and the corrections (add a student,
//! change one's status, remove one, delete the session, each with a reason and kept in the audit log). Every change
//! is a plain form post that comes back here with the outcome in the address.

use attn_types::{FailReason, Status};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::components::notices::{failure, outcome_from_query};
use crate::components::status::{status_class, status_text};
use crate::error::AppError;

/// A student in a past session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastRecordRow {
    /// School number.
    pub number: String,
    /// Name.
    pub name: String,
    /// How the student counts.
    pub status: Status,
    /// Why a check failed.
    pub reason: Option<FailReason>,
    /// Why the teacher set the status.
    pub note: Option<String>,
    /// "09:03".
    pub time: String,
    /// Re-checks the student did not confirm.
    pub rechecks_missed: u32,
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
    /// The teacher's name.
    pub teacher_name: String,
    /// Its course's id.
    pub course_id: String,
    /// Whether the caller may correct it (its teacher; admins read only).
    pub may_change: bool,
}

/// A past session and its students. Its owner, and admins to read only.
#[server(endpoint = "past_session")]
pub async fn past_session(session_id: String) -> Result<PastDetail, AppError> {
    use crate::ssr;
    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    let detail = attn::history::past_session(&ctx, caller.as_ref(), &session_id)
        .await
        .map_err(ssr::fail)?;
    let a = &detail.attendance;
    Ok(PastDetail {
        may_change: caller
            .as_ref()
            .is_some_and(|c| c.school_number == a.teacher_school_number),
        teacher_name: detail.teacher_name.clone(),
        course_id: attn::courses::course_id(&a.teacher_school_number, &a.lesson_name).to_string(),
        id: a.id.to_string(),
        lesson_name: a.lesson_name.clone(),
        when: format!(
            "{}–{}",
            ssr::local(&ctx, a.start_time, ssr::DATE_TIME),
            ssr::local(&ctx, a.end_time, "%H:%M")
        ),
        records: detail
            .records
            .iter()
            .map(|r| PastRecordRow {
                number: r.record.student_number.clone(),
                name: r.full_name.clone(),
                status: r.record.status,
                reason: r.record.fail_reason,
                note: r.record.status_reason.clone(),
                time: r
                    .record
                    .attendance_time
                    .map(|t| ssr::local(&ctx, t, "%H:%M:%S"))
                    .unwrap_or_default(),
                rechecks_missed: r
                    .record
                    .rechecks_missed
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
            })
            .collect(),
    })
}

/// The session's list as a table to download: a header row, then one row per student, in
/// `lang`. Made on the server for `/history/<id>/list.csv`.
#[cfg(feature = "ssr")]
pub fn list_table(
    ctx: &attn::Ctx,
    lang: crate::i18n::Locale,
    detail: &attn::history::PastSessionDetail,
) -> Vec<Vec<String>> {
    use crate::components::status::status_text_in;
    use crate::i18n::td_string;
    let header = [
        td_string!(lang, csv_number),
        td_string!(lang, csv_name),
        td_string!(lang, csv_status),
        td_string!(lang, csv_time),
        td_string!(lang, csv_note),
    ];
    let rows = detail.records.iter().map(|r| {
        vec![
            r.record.student_number.clone(),
            r.full_name.clone(),
            status_text_in(lang, r.record.status, r.record.fail_reason),
            r.record
                .attendance_time
                .map(|t| crate::ssr::local(ctx, t, crate::ssr::DATE_TIME))
                .unwrap_or_default(),
            r.record.status_reason.clone().unwrap_or_default(),
        ]
    });
    std::iter::once(header.map(str::to_owned).to_vec())
        .chain(rows)
        .collect()
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::error::AppError;

    /// Back to the session, with a notice or the error's code.
    pub fn back_to_past(session_id: &str, result: attn::Result<()>) -> Result<(), AppError> {
        let page = format!(
            "/history/{}",
            crate::components::paths::encode_component(session_id)
        );
        crate::ssr::redirect_after(
            result.map_err(AppError::from),
            &format!("{page}?done=saved"),
            &page,
        )
    }
}

/// Counts a student present in a past session. Its owner only.
#[server(endpoint = "add_past_student")]
pub async fn add_past_student(session_id: String, school_number: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    let result =
        attn::history::add_past_student(&ctx, caller.as_ref(), &session_id, &school_number).await;
    self::ssr::back_to_past(&session_id, result.map(|_| ()))
}

/// Sets a student's status in a past session (`present`, `late`, `excused`, `absent`), with a
/// reason of at least 10 characters. Its owner only.
#[server(endpoint = "set_past_status")]
pub async fn set_past_status(
    session_id: String,
    student: String,
    status: String,
    reason: String,
) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    let result = match status.trim().parse::<Status>() {
        Ok(status) => attn::history::set_past_status(
            &ctx,
            caller.as_ref(),
            &session_id,
            &student,
            status,
            &reason,
        )
        .await
        .map(|_| ()),
        Err(_) => Err(attn::Error::invalid(
            "status",
            attn::error::Problem::Malformed,
        )),
    };
    self::ssr::back_to_past(&session_id, result)
}

/// Removes a student from a past session (reason of at least 10 characters). Its owner only.
#[server(endpoint = "remove_past_student")]
pub async fn remove_past_student(
    session_id: String,
    student: String,
    reason: String,
) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    let result =
        attn::history::remove_past_student(&ctx, caller.as_ref(), &session_id, &student, &reason)
            .await;
    self::ssr::back_to_past(&session_id, result)
}

/// Deletes a past session (reason of at least 10 characters). Its owner only.
#[server(endpoint = "delete_past_session")]
pub async fn delete_past_session(session_id: String, reason: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    match attn::history::delete_past_session(&ctx, caller.as_ref(), &session_id, &reason).await {
        Ok(()) => {
            leptos_axum::redirect("/history?done=deleted");
            Ok(())
        }
        Err(e) => self::ssr::back_to_past(&session_id, Err(e)),
    }
}

/// A choice of the statuses a teacher can set, `current` selected.
#[component]
pub fn StatusChoice(current: Status) -> impl IntoView {
    view! {
        <select name="status" aria-label=t!(csv_status)>
            {Status::SETTABLE.into_iter().map(|s| view! {
                <option value=s.as_str() selected=s == current>{status_text(s, None)}</option>
            }).collect_view()}
        </select>
    }
}

/// One past session: its students, and the corrections.
#[component]
pub fn PastSessionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, past_session);
    view! {
        <Title text=t!(history)/>
        <p><a href="/history">{t!(back_to_history)}</a></p>
        {outcome_from_query()}
        <Suspense fallback=|| view! { <p class="muted">{t!(loading)}</p> }>
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
    let may_change = d.may_change;
    view! {
        <section class="card">
            <h1 class="lesson" data-testid="lesson">{d.lesson_name.clone()}</h1>
            <p class="muted">{d.teacher_name.clone()} " · " {d.when.clone()} " · " <a href=format!("/courses/{}", d.course_id) data-testid="course-link">{t!(course_grid_link)}</a></p>
            {(!may_change).then(|| view! { <p class="notice" data-testid="read-only">{t!(read_only_session)}</p> })}
            <p class="downloads">
                <a href=format!("/history/{id}/list.csv") download data-testid="download-csv">{t!(download_csv)}</a>
                " · "
                <a href=format!("/history/{id}/list.csv?sep=semicolon") download>{t!(download_csv_excel)}</a>
                " · "
                <a href=format!("/history/{id}/list.xlsx") download data-testid="download-xlsx">{t!(download_xlsx)}</a>
            </p>
            <h2>{t!(students)}</h2>
            {d.records.is_empty().then(|| view! { <p class="muted">{t!(no_students_yet)}</p> })}
            <ul class="students" data-testid="students">
                {d.records.into_iter().map(|r| {
                    let state = status_text(r.status, r.reason);
                    view! {
                        <li class=format!("student {}", status_class(r.status)) data-number=r.number.clone() data-status=r.status.as_str()>
                            <span class="who"><strong>{r.name.clone()}</strong> " " <span class="muted">{r.number.clone()}</span></span>
                            <span class="when muted">{r.time.clone()}</span>
                            <span class="state">{state} {r.note.clone().map(|n| view! { " · " <span class="note">{n}</span> })}</span>
                            {(r.rechecks_missed > 0).then(|| view! { <span class="warning small" data-testid="missed-rechecks" data-missed=r.rechecks_missed>{t!(missed_rechecks, count = &r.rechecks_missed)}</span> })}
                            {may_change.then(|| view! {
                            <form class="inline" method="post" action=SetPastStatus::url()>
                                <input type="hidden" name="session_id" value=id.clone()/>
                                <input type="hidden" name="student" value=r.number.clone()/>
                                <StatusChoice current=r.status/>
                                <input name="reason" required minlength="10" maxlength="500" aria-label=t!(status_reason_min10) placeholder=t!(status_reason_min10)/>
                                <button type="submit">{t!(change_status)}</button>
                            </form>
                            <form class="inline" method="post" action=RemovePastStudent::url()>
                                <input type="hidden" name="session_id" value=id.clone()/>
                                <input type="hidden" name="student" value=r.number.clone()/>
                                <input name="reason" required minlength="10" maxlength="500" aria-label=t!(reason) placeholder=t!(reason_min10)/>
                                <button type="submit">{t!(remove)}</button>
                            </form>
                            }.into_any())}
                        </li>
                    }.into_any()
                }).collect_view()}
            </ul>
            {may_change.then(|| view! {
            <form class="inline" method="post" action=AddPastStudent::url()>
                <input type="hidden" name="session_id" value=id.clone()/>
                <input name="school_number" required maxlength="32" aria-label=t!(school_number) placeholder=t!(school_number)/>
                <button type="submit">{t!(add_student)}</button>
            </form>
            }.into_any())}
        </section>
        {may_change.then(|| view! {
        <section class="card danger">
            <h2>{t!(delete_session)}</h2>
            <p class="muted small">{t!(delete_session_hint)}</p>
            <form class="inline" method="post" action=DeletePastSession::url()>
                <input type="hidden" name="session_id" value=id/>
                <input name="reason" required minlength="10" maxlength="500" aria-label=t!(reason) placeholder=t!(reason_min10)/>
                <button type="submit" class="danger">{t!(delete_session)}</button>
            </form>
        </section>
        }.into_any())}
    }
}
