//! One course's semester grid: students × sessions with each cell's status (colour and a
//! letter, readable in print and without colour), each student's rate and absences against the
//! course's limit, who is over it or one absence from it, attendance per session as a small
//! chart, filters (at risk only, a date range, the order), the students' appeals with the
//! teacher's answers, the course's settings and downloads.
//! Everything works as plain links and forms.

use attn_types::{AppealState, LateCounts, Status};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::components::notices::{failure, outcome_from_query};
use crate::components::status::{LimitRisk, status_class, status_letter, status_text};
use crate::error::AppError;

/// A session's column of the grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridSession {
    /// Session id.
    pub id: String,
    /// "23.11".
    pub date: String,
    /// "23.11.2026 09:30".
    pub when: String,
    /// Present or late.
    pub present: u32,
}

/// A student's row of the grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridRowView {
    /// School number.
    pub number: String,
    /// Name.
    pub name: String,
    /// One per session (`None`: no record, counted absent).
    pub cells: Vec<Option<Status>>,
    /// Attendance rate in percent.
    pub rate: u32,
    /// Absences counted toward the limit ("2.5").
    pub absences: String,
    /// Whole absences left.
    pub left: u32,
    /// Close to the limit or over it.
    pub risk: LimitRisk,
}

/// The grid page's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridView {
    /// Course id.
    pub id: String,
    /// Lesson title.
    pub lesson_name: String,
    /// Teacher's name.
    pub teacher_name: String,
    /// The caller teaches it (and may change its settings).
    pub is_owner: bool,
    /// Its sessions in the range, oldest first.
    pub sessions: Vec<GridSession>,
    /// The rows the filter kept.
    pub rows: Vec<GridRowView>,
    /// Students on the class list.
    pub class_size: usize,
    /// Share of the sessions a student may miss.
    pub limit_percent: u8,
    /// Sessions planned for the term.
    pub planned_sessions: u16,
    /// How a late arrival counts.
    pub late_counts: LateCounts,
    /// Absences the limit allows now.
    pub allowed: u32,
    /// Absences are counted in class hours (the sessions have them), not sessions.
    pub by_hours: bool,
}

/// The grid of a course, filtered: `risk` non-empty keeps students at risk only; `from` and
/// `to` are days (`2026-11-23`); `sort` is `name`, `number` or `absences`. The course's
/// teacher and admins.
#[server(endpoint = "course_grid")]
pub async fn course_grid(
    course_id: String,
    #[server(default)] risk: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] sort: String,
) -> Result<GridView, AppError> {
    use crate::ssr;
    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    let filter = self::ssr::filter(&risk, &from, &to, &sort).map_err(ssr::fail)?;
    let grid = attn::courses::course_grid(&ctx, caller.as_ref(), &course_id, &filter)
        .await
        .map_err(ssr::fail)?;
    Ok(self::ssr::view_of(&ctx, caller.as_ref(), &grid))
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use attn::courses::{Grid, GridFilter, GridSort};
    use attn::error::{Error, Problem};

    /// The filter a page's query asks for; malformed dates are refused.
    pub fn filter(risk: &str, from: &str, to: &str, sort: &str) -> attn::Result<GridFilter> {
        let day = |field: &'static str, s: &str| -> attn::Result<Option<chrono::NaiveDate>> {
            match s.trim() {
                "" => Ok(None),
                s => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| Error::invalid(field, Problem::Malformed)),
            }
        };
        Ok(GridFilter {
            at_risk_only: !risk.trim().is_empty(),
            from: day("from", from)?,
            to: day("to", to)?,
            sort: match sort.trim() {
                "number" => GridSort::Number,
                "absences" => GridSort::Absences,
                _ => GridSort::Name,
            },
        })
    }

    /// What the page shows of `grid`.
    pub fn view_of(ctx: &attn::Ctx, caller: Option<&attn::auth::Caller>, grid: &Grid) -> GridView {
        use crate::ssr::local;
        GridView {
            id: grid.course.id.to_string(),
            lesson_name: grid.course.lesson_name.clone(),
            teacher_name: grid.teacher_name.clone(),
            is_owner: caller.is_some_and(|c| c.school_number == grid.course.teacher_school_number),
            sessions: grid
                .sessions
                .iter()
                .zip(&grid.present_per_session)
                .map(|(a, present)| GridSession {
                    id: a.id.to_string(),
                    date: local(ctx, a.start_time, "%d.%m"),
                    when: local(ctx, a.start_time, crate::ssr::DATE_TIME),
                    present: *present,
                })
                .collect(),
            rows: grid
                .rows
                .iter()
                .map(|r| GridRowView {
                    number: r.student.school_number.clone(),
                    name: r.student.full_name.clone(),
                    cells: r.cells.clone(),
                    rate: r.standing.rate_percent(),
                    absences: r.standing.absences_text(),
                    left: r.standing.absences_left(),
                    risk: r.standing.risk().into(),
                })
                .collect(),
            class_size: grid.class_size,
            limit_percent: grid.settings.absence_limit_percent,
            planned_sessions: grid.settings.planned_sessions,
            late_counts: grid.settings.late_counts,
            allowed: grid.allowed,
            by_hours: grid.by_hours,
        }
    }

    /// The grid as a table to download, in `lang`: number, name, one column per session (the
    /// status's letter), rate in percent (a plain number, for sums), absences, absences allowed.
    pub fn grid_table(lang: crate::i18n::Locale, grid: &GridView) -> Vec<Vec<String>> {
        use crate::components::status::status_letter_in;
        use crate::i18n::td_string;
        let mut header = vec![
            td_string!(lang, csv_number).to_owned(),
            td_string!(lang, csv_name).to_owned(),
        ];
        header.extend(grid.sessions.iter().map(|s| s.when.clone()));
        let (absences, allowed) = if grid.by_hours {
            (
                td_string!(lang, csv_absences_hours),
                td_string!(lang, csv_allowed_hours),
            )
        } else {
            (
                td_string!(lang, csv_absences),
                td_string!(lang, csv_allowed),
            )
        };
        header.extend([
            td_string!(lang, csv_rate).to_owned(),
            absences.to_owned(),
            allowed.to_owned(),
        ]);
        let rows = grid.rows.iter().map(|r| {
            let mut row = vec![r.number.clone(), r.name.clone()];
            row.extend(
                r.cells
                    .iter()
                    .map(|c| status_letter_in(lang, c.unwrap_or(Status::Absent)).to_owned()),
            );
            row.extend([
                r.rate.to_string(),
                r.absences.clone(),
                grid.allowed.to_string(),
            ]);
            row
        });
        std::iter::once(header).chain(rows).collect()
    }
}

/// Changes a course's settings: the absence limit in percent (0-100), the sessions planned for
/// the term (1-200) and how a late arrival counts (`present`, `half`, `absent`). Its teacher only.
#[server(endpoint = "set_course_settings")]
pub async fn set_course_settings(
    course_id: String,
    absence_limit: String,
    planned_sessions: String,
    late_counts: String,
) -> Result<(), AppError> {
    use attn::error::{Error, Problem};
    let (ctx, _, caller) = crate::ssr::current().await?;
    let settings = (|| {
        Ok::<_, Error>(attn::courses::CourseSettings {
            absence_limit_percent: absence_limit
                .trim()
                .parse()
                .map_err(|_| Error::invalid("absence_limit", Problem::Malformed))?,
            planned_sessions: planned_sessions
                .trim()
                .parse()
                .map_err(|_| Error::invalid("planned_sessions", Problem::Malformed))?,
            late_counts: late_counts
                .trim()
                .parse()
                .map_err(|_| Error::invalid("late_counts", Problem::Malformed))?,
        })
    })();
    let result = match settings {
        Ok(settings) => {
            attn::courses::set_course_settings(&ctx, caller.as_ref(), &course_id, settings).await
        }
        Err(e) => Err(e),
    };
    let page = format!(
        "/courses/{}",
        crate::components::paths::encode_component(&course_id)
    );
    crate::ssr::redirect_after(
        result.map_err(AppError::from),
        &format!("{page}?done=saved"),
        &page,
    )
}

/// An appeal on the course page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealRow {
    /// Appeal id.
    pub id: String,
    /// Student's school number.
    pub number: String,
    /// Student's name.
    pub name: String,
    /// The session's date.
    pub date: String,
    /// The record's status now (`None`: no record, counted absent).
    pub status: Option<Status>,
    /// What the student wrote.
    pub text: String,
    /// Open, accepted or rejected.
    pub state: AppealState,
    /// The teacher's answer.
    pub answer: Option<String>,
    /// What the receipt the student attached says: the outcome and the time.
    pub receipt: Option<(Status, Option<attn_types::FailReason>, String)>,
}

/// The appeals of a course's sessions, open ones first. The course's teacher and admins.
#[server(endpoint = "course_appeals")]
pub async fn course_appeals(course_id: String) -> Result<Vec<AppealRow>, AppError> {
    use crate::ssr;
    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    let list = attn::appeals::course_appeals(&ctx, caller.as_ref(), &course_id)
        .await
        .map_err(ssr::fail)?;
    Ok(list
        .into_iter()
        .map(|a| AppealRow {
            id: a.appeal.id.to_string(),
            number: a.appeal.student_number.clone(),
            name: a.student_name,
            date: ssr::local(&ctx, a.session_start, ssr::DATE_TIME),
            status: a.status,
            text: a.appeal.text,
            state: a.appeal.state,
            answer: a.appeal.answer,
            receipt: a
                .receipt
                .map(|r| (r.status, r.fail_reason, ssr::local(&ctx, r.at, "%H:%M:%S"))),
        })
        .collect())
}

/// Answers an appeal: `decision` is `accept` (with `status`: `present`, `late` or `excused`;
/// `answer` optional) or `reject` (`answer` of at least 10 characters). The session's teacher
/// only; back to the course page.
#[server(endpoint = "answer_appeal")]
pub async fn answer_appeal(
    course_id: String,
    appeal_id: String,
    decision: String,
    #[server(default)] status: String,
    #[server(default)] answer: String,
) -> Result<(), AppError> {
    use attn::error::{Error, Problem};
    let (ctx, _, caller) = crate::ssr::current().await?;
    let accept = match decision.trim() {
        "accept" => status
            .trim()
            .parse::<Status>()
            .map(Some)
            .map_err(|_| Error::invalid("status", Problem::Malformed)),
        "reject" => Ok(None),
        _ => Err(Error::invalid("decision", Problem::Malformed)),
    };
    let result = match accept {
        Ok(accept) => {
            attn::appeals::answer_appeal(&ctx, caller.as_ref(), &appeal_id, accept, &answer).await
        }
        Err(e) => Err(e),
    };
    let page = format!(
        "/courses/{}",
        crate::components::paths::encode_component(&course_id)
    );
    crate::ssr::redirect_after(
        result.map_err(AppError::from),
        &format!("{page}?done=saved"),
        &page,
    )
}

/// Puts a student on the course's class list by school number. Its teacher only.
#[server(endpoint = "add_listed_student")]
pub async fn add_listed_student(course_id: String, school_number: String) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    let result =
        attn::courses::add_listed_student(&ctx, caller.as_ref(), &course_id, &school_number).await;
    let page = format!(
        "/courses/{}",
        crate::components::paths::encode_component(&course_id)
    );
    crate::ssr::redirect_after(
        result.map(|_| ()).map_err(AppError::from),
        &format!("{page}?done=saved"),
        &page,
    )
}

/// The grid page.
#[component]
pub fn CoursePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let args = move || {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        (
            params.read().get("id").unwrap_or_default(),
            get("risk"),
            get("from"),
            get("to"),
            get("sort"),
        )
    };
    let grid = Resource::new(args, |(id, risk, from, to, sort)| {
        course_grid(id, risk, from, to, sort)
    });
    view! {
        <Title text=t!(course)/>
        <p><a href="/courses">{t!(back_to_courses)}</a></p>
        {outcome_from_query()}
        {move || {
            let q = query.read();
            (q.get("done").as_deref() == Some("imported")).then(|| {
                let listed = q.get("listed").and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
                let added = q.get("added").and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
                view! { <p class="notice" role="status" data-testid="imported" data-added=added data-listed=listed>{t!(imported_notice, listed = &listed, added = &added)}</p> }
            })
        }}
        <Suspense fallback=|| view! { <p class="muted">{t!(loading)}</p> }>
            {move || Suspend::new(async move {
                match grid.await {
                    Ok(g) => view! { <GridPage g/> }.into_any(),
                    Err(e) => view! { <section class="card">{failure(e)}</section> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn GridPage(g: GridView) -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.read_untracked().get(k).unwrap_or_default();
    let at_risk: Vec<GridRowView> = g
        .rows
        .iter()
        .filter(|r| r.risk != LimitRisk::Fine)
        .cloned()
        .collect();
    let id = g.id.clone();
    let by_hours = g.by_hours;
    view! {
        <section class="card">
            <h1 class="lesson" data-testid="lesson">{g.lesson_name.clone()}</h1>
            <p class="muted">{g.teacher_name.clone()} " · " {t!(class_of, size = &g.class_size)} " · " {t!(sessions_count, count = &g.sessions.len())}</p>
            <p data-testid="limit" data-by-hours=g.by_hours.to_string()>{if g.by_hours {
                t!(limit_summary_hours, percent = &g.limit_percent, planned = &g.planned_sessions, allowed = &g.allowed).to_string()
            } else {
                t!(limit_summary, percent = &g.limit_percent, planned = &g.planned_sessions, allowed = &g.allowed).to_string()
            }}</p>
            {(!at_risk.is_empty()).then(|| view! {
                <div class="warning" role="status" data-testid="at-risk">
                    <h2>{t!(at_risk_title)}</h2>
                    <ul>
                        {at_risk.into_iter().map(|r| view! {
                            <li class=r.risk.class() data-number=r.number.clone()>
                                <strong>{r.name}</strong> " " <span class="muted">{r.number.clone()}</span> " · "
                                {match (r.risk, by_hours) {
                                    (LimitRisk::Over, false) => t!(limit_over_short, absences = &r.absences).to_string(),
                                    (LimitRisk::Over, true) => t!(limit_over_short_hours, absences = &r.absences).to_string(),
                                    (_, false) => t!(limit_one_more_short, absences = &r.absences).to_string(),
                                    (_, true) => t!(limit_one_more_short_hours, absences = &r.absences).to_string(),
                                }}
                            </li>
                        }).collect_view()}
                    </ul>
                </div>
            })}
            <form class="filters inline" method="get" action=format!("/courses/{id}")>
                <label class="choice"><input type="checkbox" name="risk" value="1" checked=!q("risk").is_empty()/> {t!(at_risk_only)}</label>
                <label>{t!(date_from)} " " <input type="date" name="from" value=q("from")/></label>
                <label>{t!(date_to)} " " <input type="date" name="to" value=q("to")/></label>
                <label>{t!(sort_by)} " "
                    <select name="sort">
                        <option value="name" selected=q("sort").is_empty() || q("sort") == "name">{t!(sort_name)}</option>
                        <option value="number" selected=q("sort") == "number">{t!(sort_number)}</option>
                        <option value="absences" selected=q("sort") == "absences">{t!(sort_absences)}</option>
                    </select>
                </label>
                <button type="submit">{t!(apply)}</button>
            </form>
            <p class="downloads">
                <a href=format!("/courses/{id}/grid.csv") download data-testid="download-grid-csv">{t!(download_csv)}</a>
                " · "
                <a href=format!("/courses/{id}/grid.csv?sep=semicolon") download>{t!(download_csv_excel)}</a>
                " · "
                <a href=format!("/courses/{id}/grid.xlsx") download data-testid="download-grid-xlsx">{t!(download_xlsx)}</a>
            </p>
            <Chart sessions=g.sessions.clone() class_size=g.class_size/>
            <div class="table-wrap">
                <table class="grid" data-testid="grid">
                    <thead>
                        <tr>
                            <th>{t!(csv_name)}</th>
                            {g.sessions.iter().map(|s| view! { <th class="cell" title=s.when.clone()><a href=format!("/history/{}", s.id)>{s.date.clone()}</a></th> }).collect_view()}
                            <th class="num">{t!(rate)}</th>
                            <th class="num">{if by_hours { t!(csv_absences_hours).into_any() } else { t!(csv_absences).into_any() }}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {g.rows.into_iter().map(|r| view! {
                            <tr class=r.risk.class() data-number=r.number.clone() data-testid="grid-row">
                                <th scope="row"><span>{r.name.clone()}</span> " " <span class="muted small">{r.number.clone()}</span></th>
                                {r.cells.iter().map(|c| {
                                    let s = c.unwrap_or(Status::Absent);
                                    view! { <td class=format!("cell {}", status_class(s)) title=status_text(s, None) data-status=s.as_str()>{status_letter(s)}</td> }
                                }).collect_view()}
                                <td class="num" data-testid="grid-rate">{format!("%{}", r.rate)}</td>
                                <td class="num" data-testid="grid-absences">{r.absences.clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="muted small legend">{t!(grid_legend)}</p>
        </section>
        <Appeals course=g.id.clone() may_answer=g.is_owner/>
        {g.is_owner.then(|| view! { <ClassList id=g.id.clone() lesson=g.lesson_name.clone()/> })}
        {g.is_owner.then(|| view! { <Settings id=g.id.clone() percent=g.limit_percent planned=g.planned_sessions late=g.late_counts/> })}
    }
}

/// Attendance per session as bars, drawn on the server (no script needed).
#[component]
fn Chart(sessions: Vec<GridSession>, class_size: usize) -> impl IntoView {
    const BAR: usize = 14;
    const HEIGHT: usize = 80;
    let width = (sessions.len() * (BAR + 4)).max(BAR);
    let size = class_size.max(1);
    view! {
        <figure class="chart" data-testid="chart">
            <svg viewBox=format!("0 0 {width} {HEIGHT}") width=width height=HEIGHT role="img" aria-label=t!(chart_title)>
                {sessions.into_iter().enumerate().map(|(i, s)| {
                    let h = (s.present as usize * HEIGHT / size).min(HEIGHT);
                    view! {
                        <rect x=(i * (BAR + 4)).to_string() y=(HEIGHT - h).to_string() width=BAR.to_string() height=h.to_string() class="bar">
                            <title>{format!("{} · {} / {}", s.when, s.present, class_size)}</title>
                        </rect>
                    }
                }).collect_view()}
            </svg>
            <figcaption class="muted small">{t!(chart_title)}</figcaption>
        </figure>
    }
}

#[component]
fn Settings(id: String, percent: u8, planned: u16, late: LateCounts) -> impl IntoView {
    view! {
        <section class="card">
            <h2>{t!(course_settings)}</h2>
            <form class="stack" method="post" action=SetCourseSettings::url()>
                <input type="hidden" name="course_id" value=id/>
                <label>{t!(absence_limit)} <input name="absence_limit" type="number" min="0" max="100" required value=percent.to_string() inputmode="numeric"/></label>
                <label>{t!(planned_sessions)} <input name="planned_sessions" type="number" min="1" max="200" required value=planned.to_string() inputmode="numeric"/></label>
                <label>{t!(late_counts_as)}
                    <select name="late_counts">
                        <option value=LateCounts::Present.as_str() selected=late == LateCounts::Present>{t!(late_counts_present)}</option>
                        <option value=LateCounts::Half.as_str() selected=late == LateCounts::Half>{t!(late_counts_half)}</option>
                        <option value=LateCounts::Absent.as_str() selected=late == LateCounts::Absent>{t!(late_counts_absent)}</option>
                    </select>
                </label>
                <button type="submit">{t!(save)}</button>
            </form>
        </section>
    }
}

/// The course's appeals, with the forms to answer the open ones (its teacher only).
#[component]
fn Appeals(course: String, may_answer: bool) -> impl IntoView {
    let list = Resource::new(
        {
            let course = course.clone();
            move || course.clone()
        },
        course_appeals,
    );
    view! {
        <section class="card">
            <h2>{t!(appeals)}</h2>
            <p class="muted small"><a href="/verify">{t!(verify_receipt)}</a></p>
            <Suspense fallback=|| ()>
                {move || {
                    let course = course.clone();
                    Suspend::new(async move {
                        match list.await {
                            Ok(list) if list.is_empty() => view! { <p class="muted">{t!(no_appeals)}</p> }.into_any(),
                            Ok(list) => view! {
                                <ul class="appeals" data-testid="appeals">
                                    {list.into_iter().map(|a| view! { <AppealItem a course=course.clone() may_answer/> }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(e) => failure(e),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn AppealItem(a: AppealRow, course: String, may_answer: bool) -> impl IntoView {
    let status = status_text(a.status.unwrap_or(Status::Absent), None);
    let state = match a.state {
        AppealState::Open => t!(appeal_state_open).to_string(),
        AppealState::Accepted => t!(appeal_state_accepted).to_string(),
        AppealState::Rejected => t!(appeal_state_rejected).to_string(),
    };
    let open = a.state == AppealState::Open;
    let number = a.number.clone();
    view! {
        <li class=format!("appeal {}", a.state.as_str()) data-number=number data-state=a.state.as_str()>
            <p><strong>{a.name}</strong> " " <span class="muted">{a.number}</span> " · " {state}</p>
            <p class="muted small">{t!(appeal_of, date = &a.date, status = &status)}</p>
            <p><q>{a.text}</q></p>
            {a.receipt.map(|(status, reason, time)| {
                let outcome = status_text(status, reason);
                view! { <p class="success small" data-testid="appeal-receipt" data-status=status.as_str()>{t!(appeal_backed, outcome = &outcome, time = &time)}</p> }
            })}
            {a.answer.map(|answer| view! { <p class="note">{answer}</p> })}
            {(open && may_answer).then(|| view! {
                <form class="inline" method="post" action=AnswerAppeal::url()>
                    <input type="hidden" name="course_id" value=course.clone()/>
                    <input type="hidden" name="appeal_id" value=a.id.clone()/>
                    <input type="hidden" name="decision" value="accept"/>
                    <label>{t!(accept_as)} " "
                        <select name="status">
                            {[Status::Present, Status::Late, Status::Excused].into_iter().map(|s| view! {
                                <option value=s.as_str()>{status_text(s, None)}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <input name="answer" maxlength="500" aria-label=t!(answer_optional) placeholder=t!(answer_optional)/>
                    <button type="submit">{t!(accept)}</button>
                </form>
                <form class="inline" method="post" action=AnswerAppeal::url()>
                    <input type="hidden" name="course_id" value=course/>
                    <input type="hidden" name="appeal_id" value=a.id/>
                    <input type="hidden" name="decision" value="reject"/>
                    <input name="answer" required minlength="10" maxlength="500" aria-label=t!(answer_required) placeholder=t!(answer_required)/>
                    <button type="submit">{t!(reject)}</button>
                </form>
            })}
        </li>
    }
}

/// Adding to the class list: one student by number, or a whole list file.
#[component]
fn ClassList(id: String, lesson: String) -> impl IntoView {
    view! {
        <section class="card">
            <h2>{t!(class_list)}</h2>
            <form class="inline" method="post" action=AddListedStudent::url()>
                <input type="hidden" name="course_id" value=id/>
                <input name="school_number" required maxlength="32" aria-label=t!(school_number) placeholder=t!(school_number)/>
                <button type="submit">{t!(add_to_list)}</button>
            </form>
            <crate::pages::courses::ClassListUpload lesson/>
        </section>
    }
}
