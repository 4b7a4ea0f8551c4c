//! A student's own attendance per lesson (title + teacher): every finished session, attended,
//! failed (with the reason) or missed, and the rate.

use attn_types::Presence;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::components::notices::failure;
use crate::components::reasons::failed_text;
use crate::error::AppError;

/// One session in a student's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MySessionRow {
    /// "23.11.2026 09:30".
    pub date: String,
    /// Attended, failed (with the reason) or missed.
    pub presence: Presence,
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
            sessions: l
                .sessions
                .iter()
                .map(|s| MySessionRow {
                    date: ssr::local(&ctx, s.start_time, ssr::DATE_TIME),
                    presence: s.presence,
                })
                .collect(),
        })
        .collect())
}

/// A student's own attendance per lesson.
#[component]
pub fn MyAttendancePage() -> impl IntoView {
    let lessons = Resource::new(|| (), |_| my_attendance());
    view! {
        <Title text=t!(my_attendance)/>
        <section class="card">
            <h1>{t!(my_attendance)}</h1>
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
            <ul class="sessions">
                {l.sessions.into_iter().map(|s| {
                    let (class, text) = match s.presence {
                        Presence::Attended => ("attended", t!(attended).to_string()),
                        Presence::Failed(reason) => ("failed", failed_text(reason)),
                        Presence::Missed => ("missed", t!(missed).to_string()),
                    };
                    view! { <li class=class><span class="muted">{s.date}</span> " " {text}</li> }
                }).collect_view()}
            </ul>
        </article>
    }
}
