//! A teacher's finished sessions, 20 per page, newest first, with the counts of present and
//! failed students.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::components::notices::{failure, outcome_from_query};
use crate::error::AppError;

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
        <Title text=t!(history)/>
        <section class="card">
            <h1>{t!(history)}</h1>
            {outcome_from_query()}
            <Suspense fallback=|| view! { <p class="muted">{t!(loading)}</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(p) if p.items.is_empty() && p.page == 1 => view! { <p class="muted">{t!(no_past_sessions)}</p> }.into_any(),
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
                        <th>{t!(date)}</th>
                        <th>{t!(lesson_name)}</th>
                        <th class="num">{t!(attended)}</th>
                        <th class="num">{t!(failed)}</th>
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
            {(p.page > 1).then(|| view! { <a href=format!("/history?page={}", p.page - 1)>{t!(newer)}</a> })}
            <span class="muted">{t!(page_of, page = &p.page, pages = &p.pages)}</span>
            {(p.page < p.pages).then(|| view! { <a href=format!("/history?page={}", p.page + 1)>{t!(older)}</a> })}
        </nav>
    }
}
