//! A teacher's finished sessions, 20 per page, newest first, with the counts of present and
//! failed students.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::components::notices::{failure, outcome_from_query};
use crate::error::AppError;
use crate::i18n::Text;
use crate::{t, tf};

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

/// A teacher's past sessions, newest first, 20 per page (`page` from 1). Teachers only.
#[server(endpoint = "past_sessions")]
pub async fn past_sessions(page: u64) -> Result<PastSessionsPage, AppError> {
    use crate::ssr;
    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    let page = page.clamp(1, 1_000_000);
    let found = attn::history::past_sessions(&ctx, caller.as_ref(), page - 1)
        .await
        .map_err(ssr::fail)?;
    let size = attn::history::HISTORY_PAGE_SIZE;
    Ok(PastSessionsPage {
        items: found
            .items
            .iter()
            .map(|p| PastSessionRow {
                id: p.attendance.id.to_string(),
                lesson_name: p.attendance.lesson_name.clone(),
                date: ssr::local(&ctx, p.attendance.start_time, ssr::DATE_TIME),
                attended: p.counts.attended,
                failed: p.counts.failed,
            })
            .collect(),
        page,
        pages: found.total.div_ceil(size).max(1),
    })
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
            <span class="muted">{tf(Text::PageOf, &[("page", &p.page), ("pages", &p.pages)])}</span>
            {(p.page < p.pages).then(|| view! { <a href=format!("/history?page={}", p.page + 1)>{t(Text::Older)}</a> })}
        </nav>
    }
}
