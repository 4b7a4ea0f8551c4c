//! A teacher's courses (every course, for admins): each lesson title with the number of sessions
//! held and the class size, linking to its semester grid; and the form that uploads a class
//! list (CSV or XLSX) for a course, before or after its first session.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::components::notices::{failure, outcome_from_query};
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

/// Puts the students of an uploaded class list on a course's class list: multipart fields
/// `lesson_name` and `file` (CSV or XLSX, at most 512 KB). Teachers only. Back to the course
/// with the counts, or to `/courses` with the first bad row.
#[server(endpoint = "import_class_list", input = MultipartFormData)]
pub async fn import_class_list(data: MultipartData) -> Result<(), AppError> {
    let (ctx, _, caller) = crate::ssr::current().await?;
    if let Err(error) = attn::auth::Caller::require_teacher(caller.as_ref()) {
        let error = AppError::from(error);
        let page = format!("/courses?error={}", error.code());
        return crate::ssr::refuse(error, &page);
    }
    let form = self::ssr::read_list_form(data).await;
    let result = match form.file {
        Some(file) => {
            attn::courses::import_class_list(&ctx, caller.as_ref(), &form.lesson_name, &file).await
        }
        None => Err(attn::Error::invalid(
            "file",
            attn::error::Problem::Malformed,
        )),
    };
    match result {
        Ok(done) => {
            leptos_axum::redirect(&format!(
                "/courses/{}?done=imported&listed={}&added={}",
                done.course_id, done.listed, done.added
            ));
            Ok(())
        }
        Err(error) => crate::ssr::redirect_after(Err(error.into()), "/courses", "/courses"),
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use leptos::server_fn::codec::MultipartData;

    /// The largest class list file read.
    pub const MAX_FILE: usize = 512 * 1024;

    /// The fields of the class list form; `file` is `None` when missing or too large.
    pub struct ListForm {
        pub lesson_name: String,
        pub file: Option<Vec<u8>>,
    }

    /// Reads the class list form: the lesson name up to 1 KB, the file up to [`MAX_FILE`].
    pub async fn read_list_form(data: MultipartData) -> ListForm {
        let mut form = ListForm {
            lesson_name: String::new(),
            file: None,
        };
        let Some(mut multipart) = data.into_inner() else {
            return form;
        };
        while let Ok(Some(mut field)) = multipart.next_field().await {
            let name = field.name().unwrap_or_default().to_owned();
            let limit = if name == "file" { MAX_FILE } else { 1024 };
            let mut bytes = Vec::new();
            let mut too_large = false;
            while let Ok(Some(chunk)) = field.chunk().await {
                if bytes.len() + chunk.len() > limit {
                    too_large = true;
                    break;
                }
                bytes.extend_from_slice(&chunk);
            }
            match name.as_str() {
                "file" if !too_large && !bytes.is_empty() => form.file = Some(bytes),
                "lesson_name" if !too_large => {
                    form.lesson_name = String::from_utf8_lossy(&bytes).into_owned();
                }
                _ => {}
            }
        }
        form
    }
}

/// The class list upload form, for the course `lesson` (a field to type when empty).
#[component]
pub fn ClassListUpload(#[prop(optional)] lesson: Option<String>) -> impl IntoView {
    view! {
        <form class="stack" method="post" action=ImportClassList::url() enctype="multipart/form-data" data-testid="class-list-form">
            {match lesson {
                Some(lesson) => view! { <input type="hidden" name="lesson_name" value=lesson/> }.into_any(),
                None => view! {
                    <label>{t!(lesson_name)} <input name="lesson_name" required maxlength="200"/></label>
                }.into_any(),
            }}
            <label>{t!(list_file)} <input type="file" name="file" required accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"/></label>
            <p class="muted small">{t!(class_list_hint)}</p>
            <button type="submit">{t!(upload_list)}</button>
        </form>
    }
}

/// The list of courses.
#[component]
pub fn CoursesPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| courses());
    view! {
        <Title text=t!(courses)/>
        <section class="card">
            <h1>{t!(courses)}</h1>
            {outcome_from_query()}
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
        <section class="card">
            <h2>{t!(class_list)}</h2>
            <ClassListUpload/>
        </section>
    }
}
