//! A teacher's courses (every course, for admins): each lesson title with the number of sessions
//! held and the class size, linking to its semester grid.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::components::notices::failure;
use crate::error::AppError;

/// A course in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseRow {
    /// Course id.
    pub id: String,
    /// Lesson title.
    pub lesson_name: String,
    /// Its teacher's school number (shown to admins).
    pub teacher: String,
    /// Sessions held.
    pub sessions: u64,
    /// Students on its class list.
    pub class_size: u64,
}

/// The caller's courses (teachers), or every course (admins).
#[server(endpoint = "courses")]
pub async fn courses() -> Result<Vec<CourseRow>, AppError> {
    use crate::ssr;
    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    let list = attn::courses::courses(&ctx, caller.as_ref())
        .await
        .map_err(ssr::fail)?;
    Ok(list
        .into_iter()
        .map(|c| CourseRow {
            id: c.id.to_string(),
            lesson_name: c.lesson_name,
            teacher: c.teacher_school_number,
            sessions: c.sessions,
            class_size: c.class_size,
        })
        .collect())
}

/// The list of courses.
#[component]
pub fn CoursesPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| courses());
    view! {
        <Title text=t!(courses)/>
        <section class="card">
            <h1>{t!(courses)}</h1>
            <Suspense fallback=|| view! { <p class="muted">{t!(loading)}</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">{t!(no_courses)}</p> }.into_any(),
                        Ok(list) => view! {
                            <div class="table-wrap">
                                <table class="list" data-testid="courses">
                                    <thead>
                                        <tr>
                                            <th>{t!(lesson_name)}</th>
                                            <th>{t!(teacher)}</th>
                                            <th class="num">{t!(sessions_held)}</th>
                                            <th class="num">{t!(class_size)}</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list.into_iter().map(|c| view! {
                                            <tr data-id=c.id.clone()>
                                                <td><a href=format!("/courses/{}", c.id)>{c.lesson_name}</a></td>
                                                <td class="muted">{c.teacher}</td>
                                                <td class="num" data-testid="course-sessions">{c.sessions}</td>
                                                <td class="num" data-testid="course-class-size">{c.class_size}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                        Err(e) => failure(e),
                    }
                })}
            </Suspense>
        </section>
    }
}
