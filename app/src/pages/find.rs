//! Finding a running session by lesson or teacher name, for a student without the QR code. A
//! GET form: it works before the script loads.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::use_lang;

/// A running session found by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundSession {
    /// Session id, for the join link.
    pub id: String,
    /// Lesson.
    pub lesson_name: String,
    /// Teacher.
    pub teacher_name: String,
}

/// Running sessions whose lesson and teacher names contain the texts. Anyone logged in.
#[server(endpoint = "find_sessions")]
pub async fn find_sessions(
    #[server(default)] lesson: String,
    #[server(default)] teacher: String,
) -> Result<Vec<FoundSession>, AppError> {
    use crate::ssr;
    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    let found = attn::student::find_sessions(&ctx, caller.as_ref(), &lesson, &teacher)
        .await
        .map_err(ssr::fail)?;
    Ok(found
        .into_iter()
        .map(|s| FoundSession {
            id: s.id.to_string(),
            lesson_name: s.lesson_name,
            teacher_name: s.teacher_full_name,
        })
        .collect())
}

/// The search page.
#[component]
pub fn FindPage() -> impl IntoView {
    let query = use_query_map();
    let lesson = move || query.read().get("lesson").unwrap_or_default();
    let teacher = move || query.read().get("teacher").unwrap_or_default();
    let searched =
        move || query.read().get("lesson").is_some() || query.read().get("teacher").is_some();
    let found = Resource::new(move || (lesson(), teacher()), |(l, t)| find_sessions(l, t));
    view! {
        <Title text=t!(find_session)/>
        <section class="card narrow">
            <h1>{t!(find_session)}</h1>
            <p class="muted">{t!(find_hint)}</p>
            <form class="stack" method="get" action="/find">
                <label>{t!(lesson_name)} <input name="lesson" value=lesson maxlength="100"/></label>
                <label>{t!(teacher)} <input name="teacher" value=teacher maxlength="100"/></label>
                <button class="primary" type="submit">{t!(search)}</button>
            </form>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match found.await {
                        Ok(list) if list.is_empty() => searched().then(|| view! { <p class="muted" data-testid="none">{t!(no_session_found)}</p> }).into_any(),
                        Ok(list) => view! {
                            <ul class="lessons" data-testid="found">
                                {list.into_iter().map(|s| view! {
                                    <li><a href=format!("/join/{}", s.id)>{s.lesson_name}</a> " · " {s.teacher_name}</li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(AppError::LoginRequired) => view! { <Redirect path="/login?next=/find"/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.message(use_lang())}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
