//! The admin's review: everything soft-deleted (what, whose, who deleted it, when, why),
//! filtered by teacher and by day of deletion, with restore; and the audit log, filtered by
//! teacher, student, course and day, to read or download.

use attn_types::{AuditAction, Status};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::components::notices::{failure, outcome_from_query};
use crate::error::AppError;

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
    /// What was done.
    pub action: AuditAction,
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
pub mod ssr {
    use crate::error::AppError;

    /// The audit log as a table to download, in `lang`: when, who, what, the student, the
    /// course and its session, the statuses before and after, and the reason.
    pub fn audit_table(
        ctx: &attn::Ctx,
        lang: crate::i18n::Locale,
        entries: &[attn::admin::AuditEntry],
    ) -> Vec<Vec<String>> {
        use crate::components::status::status_text_in;
        use crate::i18n::td_string;
        let header = [
            td_string!(lang, csv_time),
            td_string!(lang, csv_actor),
            td_string!(lang, csv_action),
            td_string!(lang, csv_number),
            td_string!(lang, csv_name),
            td_string!(lang, lesson_name),
            td_string!(lang, csv_session),
            td_string!(lang, csv_from_status),
            td_string!(lang, csv_to_status),
            td_string!(lang, reason),
        ];
        let status = |s: Option<attn_types::Status>| {
            s.map(|s| status_text_in(lang, s, None)).unwrap_or_default()
        };
        let rows = entries.iter().map(|e| {
            vec![
                crate::ssr::local(ctx, e.event.at, crate::ssr::DATE_TIME),
                e.actor_name.clone(),
                e.event.action.as_str().to_owned(),
                e.event.student_number.clone().unwrap_or_default(),
                e.student_name.clone().unwrap_or_default(),
                e.lesson_name.clone(),
                e.session_start
                    .map(|t| crate::ssr::local(ctx, t, crate::ssr::DATE_TIME))
                    .unwrap_or_default(),
                status(e.event.from_status),
                status(e.event.to_status),
                e.event.reason.clone().unwrap_or_default(),
            ]
        });
        std::iter::once(header.map(str::to_owned).to_vec())
            .chain(rows)
            .collect()
    }

    /// A day typed as `YYYY-MM-DD`; empty is no bound.
    pub fn parse_day(
        field: &'static str,
        text: &str,
    ) -> Result<Option<chrono::NaiveDate>, AppError> {
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

    /// Back to the review, with a notice or the error's code.
    pub fn back_to_review(result: attn::Result<()>) -> Result<(), AppError> {
        crate::ssr::redirect_after(
            result.map_err(AppError::from),
            "/admin?done=restored",
            "/admin",
        )
    }
}

/// Everything soft-deleted, filtered by teacher (name or number) and day of deletion
/// (`YYYY-MM-DD`), with the latest audit events. Admins only.
#[server(endpoint = "deleted_items")]
pub async fn deleted_items(
    #[server(default)] teacher: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
) -> Result<ReviewData, AppError> {
    use crate::ssr;
    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    let query = attn::admin::ReviewQuery {
        teacher: &teacher,
        from: self::ssr::parse_day("from", &from).map_err(ssr::fail)?,
        to: self::ssr::parse_day("to", &to).map_err(ssr::fail)?,
    };
    let review = attn::admin::review(&ctx, caller.as_ref(), query)
        .await
        .map_err(ssr::fail)?;
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| ssr::local(&ctx, t, ssr::DATE_TIME))
            .unwrap_or_default()
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
                action: e.event.action,
                session_id: e
                    .event
                    .attendance_id
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                student: e.event.student_number.clone(),
                reason: e.event.reason.clone(),
            })
            .collect(),
    })
}

/// A finished session the sweep set aside, on the admin's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StuckRow {
    /// Session id.
    pub id: String,
    /// Lesson (empty if the session is gone meanwhile).
    pub lesson_name: String,
    /// Its teacher.
    pub teacher_name: String,
    /// When it ended.
    pub ended: String,
    /// Its records, still live.
    pub records: usize,
    /// Failed tries.
    pub tries: u32,
    /// The database's last error.
    pub error: String,
}

/// The sessions the sweep set aside because the database refused them. Admins only.
#[server(endpoint = "stuck_sessions")]
pub async fn stuck_sessions() -> Result<Vec<StuckRow>, AppError> {
    use crate::ssr;
    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    let stuck = attn::admin::stuck_sessions(&ctx, caller.as_ref())
        .await
        .map_err(ssr::fail)?;
    Ok(stuck
        .into_iter()
        .map(|s| StuckRow {
            id: s.set_aside.session_id.to_string(),
            lesson_name: s
                .session
                .as_ref()
                .map(|l| l.lesson_name.clone())
                .unwrap_or_default(),
            teacher_name: s
                .session
                .as_ref()
                .map(|l| l.teacher_full_name.clone())
                .unwrap_or_default(),
            ended: s
                .session
                .as_ref()
                .map(|l| ssr::local(&ctx, l.end_time, ssr::DATE_TIME))
                .unwrap_or_default(),
            records: s.records,
            tries: s.set_aside.tries,
            error: s.set_aside.error,
        })
        .collect())
}

/// Sends a session the sweep set aside back to it. Admins only.
#[server(endpoint = "retry_stuck_session")]
pub async fn retry_stuck_session(session_id: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    let result = attn::admin::retry_stuck_session(&ctx, caller.as_ref(), &session_id).await;
    crate::ssr::redirect_after(
        result.map_err(AppError::from),
        "/admin?done=retried",
        "/admin",
    )
}

/// Lets a student register a new passkey (a lost or new phone), with a reason of at least 5
/// characters: their passkey goes and their next check-in registers one. Admins only; recorded
/// in the audit log.
#[server(endpoint = "admin_allow_new_passkey")]
pub async fn admin_allow_new_passkey(student: String, reason: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    let result =
        attn::passkeys::allow_new_passkey(&ctx, caller.as_ref(), None, &student, &reason).await;
    crate::ssr::redirect_after(
        result.map_err(AppError::from),
        "/admin?done=passkey_allowed",
        "/admin",
    )
}

/// Restores a deleted session. Admins only; recorded in the audit log.
#[server(endpoint = "restore_session")]
pub async fn restore_session(session_id: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    self::ssr::back_to_review(
        attn::admin::restore_session(&ctx, caller.as_ref(), &session_id).await,
    )
}

/// Restores a deleted record. Admins only; recorded in the audit log.
#[server(endpoint = "restore_record")]
pub async fn restore_record(session_id: String, student: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    self::ssr::back_to_review(
        attn::admin::restore_record(&ctx, caller.as_ref(), &session_id, &student).await,
    )
}

/// An audit event on the admin's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// When.
    pub at: String,
    /// Who (name).
    pub actor: String,
    /// What.
    pub action: AuditAction,
    /// The student concerned (name and number).
    pub student: Option<String>,
    /// The course and the session's date.
    pub session: String,
    /// A status change's statuses.
    pub from_status: Option<Status>,
    /// After.
    pub to_status: Option<Status>,
    /// The reason given.
    pub reason: Option<String>,
}

/// The audit log filtered: `teacher` (part of the name, or the number), `student` (school
/// number), `lesson` (part of the title), `from`, `to` (`YYYY-MM-DD`). Admins only.
#[server(endpoint = "audit_log")]
pub async fn audit_log(
    #[server(default)] teacher: String,
    #[server(default)] student: String,
    #[server(default)] lesson: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
) -> Result<Vec<AuditRow>, AppError> {
    use crate::ssr;
    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    let query = attn::admin::AuditQuery {
        teacher: &teacher,
        student: &student,
        lesson: &lesson,
        from: self::ssr::parse_day("from", &from).map_err(ssr::fail)?,
        to: self::ssr::parse_day("to", &to).map_err(ssr::fail)?,
    };
    let entries = attn::admin::audit_log(&ctx, caller.as_ref(), query)
        .await
        .map_err(ssr::fail)?;
    Ok(entries
        .into_iter()
        .map(|e| AuditRow {
            at: ssr::local(&ctx, e.event.at, ssr::DATE_TIME),
            actor: e.actor_name,
            action: e.event.action,
            student: e
                .event
                .student_number
                .map(|n| format!("{} {n}", e.student_name.unwrap_or_default())),
            session: match e.session_start {
                Some(t) => format!(
                    "{} · {}",
                    e.lesson_name,
                    ssr::local(&ctx, t, ssr::DATE_TIME)
                ),
                None => e.lesson_name,
            },
            from_status: e.event.from_status,
            to_status: e.event.to_status,
            reason: e.event.reason,
        })
        .collect())
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
    let stuck = Resource::new(|| (), |_| stuck_sessions());
    view! {
        <Title text=t!(review)/>
        <section class="card">
            <h1>{t!(review)}</h1>
            {outcome_from_query()}
            <form class="filters" method="get" action="/admin">
                <label>{t!(teacher)} <input name="teacher" maxlength="100" value=teacher/></label>
                <label>{t!(school_number)} <input name="student" maxlength="32" value=field("student")/></label>
                <label>{t!(lesson_name)} <input name="lesson" maxlength="100" value=field("lesson")/></label>
                <label>{t!(from_date)} <input name="from" type="date" value=from/></label>
                <label>{t!(to_date)} <input name="to" type="date" value=to/></label>
                <button type="submit">{t!(filter)}</button>
            </form>
        </section>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match stuck.await {
                    Ok(rows) if rows.is_empty() => ().into_any(),
                    Ok(rows) => view! { <StuckView rows/> }.into_any(),
                    Err(e) => view! { <section class="card">{failure(e)}</section> }.into_any(),
                }
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p class="muted">{t!(loading)}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <ReviewView d/> }.into_any(),
                    Err(e) => view! { <section class="card">{failure(e)}</section> }.into_any(),
                }
            })}
        </Suspense>
        <section class="card">
            <h2>{t!(allow_new_passkey)}</h2>
            <p class="muted small">{t!(admin_new_passkey_hint)}</p>
            <form class="inline" method="post" action=AdminAllowNewPasskey::url() data-testid="admin-allow-passkey">
                <input name="student" required maxlength="32" aria-label=t!(school_number) placeholder=t!(school_number)/>
                <input name="reason" required minlength="5" maxlength="500" aria-label=t!(new_passkey_reason) placeholder=t!(new_passkey_reason)/>
                <button type="submit">{t!(allow_new_passkey)}</button>
            </form>
        </section>
        <AuditLog/>
    }
}

/// The audit log with its own filters and downloads.
#[component]
fn AuditLog() -> impl IntoView {
    let query = use_query_map();
    let field = move |name: &'static str| move || query.read().get(name).unwrap_or_default();
    let (teacher, student, lesson) = (field("teacher"), field("student"), field("lesson"));
    let (from, to) = (field("from"), field("to"));
    let log = Resource::new(
        move || (teacher(), student(), lesson(), from(), to()),
        |(teacher, student, lesson, from, to)| audit_log(teacher, student, lesson, from, to),
    );
    let download = move |ext: &str| {
        let q = query.read();
        let pairs: Vec<String> = ["teacher", "student", "lesson", "from", "to"]
            .into_iter()
            .filter_map(|k| {
                q.get(k)
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={}", crate::components::paths::encode_component(&v)))
            })
            .collect();
        format!("/admin/audit.{ext}?{}", pairs.join("&"))
    };
    view! {
        <section class="card">
            <h2>{t!(audit_log)}</h2>
            <p class="muted small">{t!(audit_filter_hint)}</p>
            <p class="downloads">
                <a href=move || download("csv") download data-testid="download-audit-csv">{t!(download_csv)}</a>
                " · "
                <a href=move || download("xlsx") download>{t!(download_xlsx)}</a>
            </p>
            <Suspense fallback=|| view! { <p class="muted">{t!(loading)}</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="muted">{t!(no_events)}</p> }.into_any(),
                        Ok(rows) => view! {
                            <ul class="events" data-testid="audit-log">
                                {rows.into_iter().map(|e| view! {
                                    <li data-action=e.action.as_str()>
                                        <span class="muted">{e.at}</span> " " <strong>{e.actor}</strong> " · " {e.action.as_str()}
                                        {e.student.map(|s| view! { " · " <span>{s}</span> })}
                                        " · " {e.session}
                                        {e.to_status.map(|to| view! { " · " {e.from_status.map(|f| crate::components::status::status_text(f, None)).unwrap_or_default()} " → " {crate::components::status::status_text(to, None)} })}
                                        {e.reason.map(|r| view! { " · " <q>{r}</q> })}
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => failure(e),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Sessions the database refused: still live, not swept until an admin sends them back.
#[component]
fn StuckView(rows: Vec<StuckRow>) -> impl IntoView {
    view! {
        <section class="card danger">
            <h2>{t!(stuck_sessions)}</h2>
            <p class="muted">{t!(stuck_hint)}</p>
            <ul class="deleted" data-testid="stuck-sessions">
                {rows.into_iter().map(|s| { let key = s.id.clone(); view! {
                    <li data-id=key>
                        <p><strong>{s.lesson_name}</strong> " · " {s.ended} " · " {s.teacher_name}</p>
                        <p class="muted">{t!(stuck_tally, records = &s.records, tries = &s.tries)}</p>
                        <p><code>{s.error}</code></p>
                        <form method="post" action=RetryStuckSession::url()>
                            <input type="hidden" name="session_id" value=s.id/>
                            <button type="submit">{t!(retry_now)}</button>
                        </form>
                    </li>
                }}).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn ReviewView(d: ReviewData) -> impl IntoView {
    view! {
        <section class="card">
            <h2>{t!(deleted_sessions)}</h2>
            {d.sessions.is_empty().then(|| view! { <p class="muted">{t!(nothing_deleted)}</p> })}
            <ul class="deleted" data-testid="deleted-sessions">
                {d.sessions.into_iter().map(|s| { let key = s.id.clone(); view! {
                    <li data-id=key>
                        <p><strong>{s.lesson_name}</strong> " · " {s.date} " · " {s.teacher_name}</p>
                        <p class="muted">{t!(deleted_by_at, who = &s.deleted_by, when = &s.deleted_at)}</p>
                        <p>{t!(reason)} ": " <q>{s.reason}</q></p>
                        <form method="post" action=RestoreSession::url()>
                            <input type="hidden" name="session_id" value=s.id/>
                            <button type="submit">{t!(restore)}</button>
                        </form>
                    </li>
                }}).collect_view()}
            </ul>
        </section>
        <section class="card">
            <h2>{t!(deleted_records)}</h2>
            {d.records.is_empty().then(|| view! { <p class="muted">{t!(nothing_deleted)}</p> })}
            <ul class="deleted" data-testid="deleted-records">
                {d.records.into_iter().map(|r| { let (key, shown) = (r.number.clone(), r.number.clone()); view! {
                    <li data-number=key>
                        <p><strong>{r.name}</strong> " " <span class="muted">{shown}</span></p>
                        <p>{r.lesson_name} " · " {r.date} " · " {r.teacher_name}</p>
                        <p class="muted">{t!(deleted_by_at, who = &r.deleted_by, when = &r.deleted_at)}</p>
                        <p>{t!(reason)} ": " <q>{r.reason}</q></p>
                        <form method="post" action=RestoreRecord::url()>
                            <input type="hidden" name="session_id" value=r.session_id/>
                            <input type="hidden" name="student" value=r.number/>
                            <button type="submit">{t!(restore)}</button>
                        </form>
                    </li>
                }}).collect_view()}
            </ul>
        </section>
        <section class="card">
            <h2>{t!(recent_changes)}</h2>
            <ul class="events" data-testid="events">
                {d.events.into_iter().map(|e| {
                    let action = match e.action {
                        AuditAction::SessionDeleted => t!(act_session_deleted),
                        AuditAction::RecordDeleted => t!(act_record_deleted),
                        AuditAction::RecordAdded => t!(act_record_added),
                        AuditAction::SessionRestored => t!(act_session_restored),
                        AuditAction::RecordRestored => t!(act_record_restored),
                        AuditAction::StatusChanged => t!(act_status_changed),
                        AuditAction::PasskeyApproved => t!(act_passkey_approved),
                    };
                    view! {
                        <li data-action=e.action.as_str()>
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
