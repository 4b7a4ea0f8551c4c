//! The home page: what ATTN is and whether you are logged in; a teacher's lessons today.

use attn_types::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::components::user::{LoggedInUser, use_user};
use crate::error::AppError;
use crate::use_lang;

/// A lesson of today's timetable, in the configured zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonView {
    /// Title.
    pub title: String,
    /// "09:00".
    pub starts: String,
    /// "09:50".
    pub ends: String,
    /// Running now or starting within 15 minutes.
    pub suggested: bool,
}

/// Today's lessons from the timetable, the current one marked. Teachers only.
#[server(endpoint = "todays_lessons")]
pub async fn todays_lessons() -> Result<Vec<LessonView>, AppError> {
    use crate::ssr;

    let (ctx, session, caller) = ssr::current().await.map_err(ssr::fail)?;
    let timetable = ssr::lessons(&session).await.map_err(ssr::fail)?;
    let today =
        attn::teacher::todays_lessons_of(&ctx, caller.as_ref(), &timetable).map_err(ssr::fail)?;
    Ok(today
        .lessons
        .iter()
        .enumerate()
        .map(|(i, l)| LessonView {
            title: l.title.clone(),
            starts: ssr::local(&ctx, l.start, "%H:%M"),
            ends: ssr::local(&ctx, l.end, "%H:%M"),
            suggested: today.suggested == Some(i),
        })
        .collect())
}

/// The home page.
#[component]
pub fn HomePage() -> impl IntoView {
    let user = use_user();
    view! {
        <Title text=""/>
        <section class="card hero">
            <h1>{t!(app_name)}</h1>
            <p class="tagline">{t!(tagline)}</p>
            <Suspense fallback=|| view! { <p class="muted">{t!(loading)}</p> }>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(user)) => view! { <LoggedIn user/> }.into_any(),
                        Ok(None) => view! {
                            <p class="login-state" data-state="anonymous">{t!(not_logged_in)}</p>
                            <p><a class="button primary" href="/login">{t!(log_in)}</a></p>
                        }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.message(use_lang())}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <ul class="how">
                <li>{t!(how_teachers)}</li>
                <li>{t!(how_students)}</li>
            </ul>
        </section>
    }
}

#[component]
fn LoggedIn(user: LoggedInUser) -> impl IntoView {
    let is_teacher = user.role == Role::Teacher;
    view! {
        <p class="login-state" data-state="logged-in">
            {t!(logged_in_as)} " " <strong>{user.full_name.clone()}</strong>
            " (" {user.school_number.clone()} ", " {user.role_text()} ")"
        </p>
        {if is_teacher {
            view! { <TodaysLessons/> }.into_any()
        } else {
            view! { <p><a class="button" href="/find">{t!(find_session)}</a></p> }.into_any()
        }}
    }
}

#[component]
fn TodaysLessons() -> impl IntoView {
    let lessons = Resource::new(|| (), |_| todays_lessons());
    view! {
        <h2>{t!(todays_lessons)}</h2>
        <Suspense fallback=|| view! { <p class="muted">{t!(loading)}</p> }>
            {move || Suspend::new(async move {
                match lessons.await {
                    Ok(list) if list.is_empty() => view! { <p class="muted">{t!(no_lessons_today)}</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="lessons">
                            {list.into_iter().map(|l| view! {
                                <li class:suggested=l.suggested>
                                    <span class="time">{l.starts} "–" {l.ends}</span>
                                    " " <span class="title">{l.title}</span>
                                    {l.suggested.then(|| view! { " " <span class="badge">{t!(suggested_now)}</span> })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message(use_lang())}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
