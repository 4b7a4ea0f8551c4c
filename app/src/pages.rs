//! The pages: header, home, login, join link, not found.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_location, use_params_map, use_query_map};

use crate::api::{
    CheckIn, CheckInSelfie, Login, Logout, SessionUser, SetLanguage, encode_component,
    find_sessions, join_info, local_path, todays_lessons,
};
use crate::error::AppError;
use crate::i18n::Text;
use crate::{t, use_lang};

/// The logged-in user, loaded once per page and shared by the header and the page.
pub type UserResource = Resource<Result<Option<SessionUser>, AppError>>;

fn use_user() -> UserResource {
    expect_context::<UserResource>()
}

/// The current path and query, for "come back here" links.
fn here() -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let location = use_location();
    move || {
        let search = location.search.get();
        if search.is_empty() {
            location.pathname.get()
        } else {
            format!("{}?{}", location.pathname.get(), search)
        }
    }
}

fn role_text(user: &SessionUser) -> Text {
    match (user.is_admin, user.role.as_str()) {
        (true, _) => Text::RoleAdmin,
        (false, "teacher") => Text::RoleTeacher,
        _ => Text::RoleStudent,
    }
}

/// The bar at the top: brand, who is logged in, log out, language switch.
#[component]
pub fn Header() -> impl IntoView {
    let lang = use_lang();
    let user = use_user();
    let return_to = here();
    let login_href = {
        let return_to = return_to.clone();
        move || format!("/login?next={}", encode_component(&return_to()))
    };
    view! {
        <header class="top">
            <a class="brand" href="/">{t(Text::AppName)}</a>
            <nav class="who">
                <Suspense fallback=|| ()>
                    {move || {
                        let login_href = login_href.clone();
                        Suspend::new(async move {
                        match user.await {
                            Ok(Some(u)) => view! {
                                {(u.role == "teacher").then(|| view! {
                                    <a class="button" href="/teach">{t(Text::Dashboard)}</a>
                                    <a class="button" href="/history">{t(Text::History)}</a>
                                })}
                                {(u.role == "student").then(|| view! { <a class="button" href="/me">{t(Text::MyAttendance)}</a> })}
                                {u.is_admin.then(|| view! { <a class="button" href="/admin">{t(Text::Review)}</a> })}
                                <span class="user" data-testid="user">
                                    <strong>{u.full_name.clone()}</strong>
                                    " · " {t(role_text(&u))}
                                </span>
                                <form method="post" action=Logout::url()>
                                    <button type="submit">{t(Text::LogOut)}</button>
                                </form>
                            }.into_any(),
                            _ => view! { <a class="button" href=login_href>{t(Text::LogIn)}</a> }.into_any(),
                        }
                    })}}
                </Suspense>
                // A plain form: it works before the script loads, and the page reloads in the new language.
                <form class="lang-switch" method="post" action=SetLanguage::url()>
                    <input type="hidden" name="lang" value=lang.other().code()/>
                    <input type="hidden" name="return_to" value=return_to/>
                    <button type="submit" lang=lang.other().code()>{t(Text::SwitchLanguage)}</button>
                </form>
            </nav>
        </header>
    }
}

/// The home page: what ATTN is and whether you are logged in; a teacher's lessons today.
#[component]
pub fn HomePage() -> impl IntoView {
    let user = use_user();
    view! {
        <Title text=""/>
        <section class="card hero">
            <h1>{t(Text::AppName)}</h1>
            <p class="tagline">{t(Text::Tagline)}</p>
            <Suspense fallback=|| view! { <p class="muted">{t(Text::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(user)) => view! { <LoggedIn user/> }.into_any(),
                        Ok(None) => view! {
                            <p class="login-state" data-state="anonymous">{t(Text::NotLoggedIn)}</p>
                            <p><a class="button primary" href="/login">{t(Text::LogIn)}</a></p>
                        }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.message(use_lang())}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <ul class="how">
                <li>{t(Text::HowTeachers)}</li>
                <li>{t(Text::HowStudents)}</li>
            </ul>
        </section>
    }
}

#[component]
fn LoggedIn(user: SessionUser) -> impl IntoView {
    let is_teacher = user.role == "teacher";
    view! {
        <p class="login-state" data-state="logged-in">
            {t(Text::LoggedInAs)} " " <strong>{user.full_name.clone()}</strong>
            " (" {user.school_number.clone()} ", " {t(role_text(&user))} ")"
        </p>
        {if is_teacher {
            view! { <TodaysLessons/> }.into_any()
        } else {
            view! { <p><a class="button" href="/find">{t(Text::FindSession)}</a></p> }.into_any()
        }}
    }
}

#[component]
fn TodaysLessons() -> impl IntoView {
    let lessons = Resource::new(|| (), |_| todays_lessons());
    view! {
        <h2>{t(Text::TodaysLessons)}</h2>
        <Suspense fallback=|| view! { <p class="muted">{t(Text::Loading)}</p> }>
            {move || Suspend::new(async move {
                match lessons.await {
                    Ok(list) if list.is_empty() => view! { <p class="muted">{t(Text::NoLessonsToday)}</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="lessons">
                            {list.into_iter().map(|l| view! {
                                <li class:suggested=l.suggested>
                                    <span class="time">{l.starts} "–" {l.ends}</span>
                                    " " <span class="title">{l.title}</span>
                                    {l.suggested.then(|| view! { " " <span class="badge">{t(Text::SuggestedNow)}</span> })}
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

/// The login page. A plain form posted to the server: it works before the script loads. On a
/// failure the server sends the person back here with the reason in the address.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || local_path(&query.read().get("next").unwrap_or_default());
    let error = move || {
        let q = query.read();
        let retry = q.get("retry").and_then(|r| r.parse().ok());
        q.get("error")
            .and_then(|code| AppError::from_code(&code, retry))
    };
    let user = use_user();
    view! {
        <Title text=t(Text::LogIn)/>
        <section class="card narrow">
            <h1>{t(Text::LogIn)}</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    user.await.ok().flatten().map(|u| view! {
                        <p class="login-state" data-state="logged-in">
                            {t(Text::LoggedInAs)} " " <strong>{u.full_name}</strong>
                        </p>
                    })
                })}
            </Suspense>
            {move || error().map(|e| view! { <p class="error" role="alert" data-testid="login-error">{e.message(use_lang())}</p> })}
            <form class="stack" method="post" action=Login::url()>
                <label>
                    {t(Text::SchoolNumber)}
                    <input name="school_number" autocomplete="username" required autocapitalize="none" spellcheck="false"/>
                </label>
                <label>
                    {t(Text::Password)}
                    <input name="password" type="password" autocomplete="current-password" required/>
                </label>
                <input type="hidden" name="next" value=next/>
                <button class="primary" type="submit">{t(Text::LogIn)}</button>
            </form>
            <p class="muted small">{t(Text::LoginHint)}</p>
        </section>
    }
}

/// Where a QR code leads: the session's lesson, teacher and time left, one button to check in
/// (a plain form, so it works before the script loads) and the outcome in plain words. Someone
/// not logged in is sent to the login page and comes back here after it.
#[component]
pub fn JoinPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let code = move || query.read().get("c").unwrap_or_default();
    let refused = move || {
        query
            .read()
            .get("error")
            .and_then(|e| AppError::from_code(&e, None))
    };
    let info = Resource::new(id, join_info);
    view! {
        <Title text=t(Text::Attendance)/>
        <section class="card narrow">
            <h1>{t(Text::Attendance)}</h1>
            <Suspense fallback=|| view! { <p class="muted">{t(Text::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(s) => {
                            let open = s.seconds_left > 0;
                            let outcome = s.mine.clone();
                            let can_join = open && s.is_student
                                && !outcome.as_ref().is_some_and(|m| m.attended || m.removed);
                            view! {
                                <h2 class="lesson" data-testid="lesson">{s.lesson_name}</h2>
                                <p>{t(Text::Teacher)} ": " <strong>{s.teacher_name}</strong></p>
                                {if open {
                                    view! { <p>{format!("{}: {} {}", t(Text::TimeLeft), s.seconds_left.div_euclid(60).max(1), t(Text::Minutes))}</p> }.into_any()
                                } else {
                                    view! { <p class="error">{t(Text::SessionEnded)}</p> }.into_any()
                                }}
                                {refused().map(|e| view! { <p class="error" role="alert" data-testid="outcome">{e.message(use_lang())}</p> })}
                                {outcome.map(|m| view! { <Outcome m/> })}
                                {(!s.is_student).then(|| view! { <p class="muted">{t(Text::StudentsOnly)}</p> })}
                                {(can_join && s.selfie).then(|| view! { <SelfieForm id=id() code=code()/> })}
                                {(can_join && !s.selfie).then(|| view! {
                                    <form class="stack" method="post" action=CheckIn::url()>
                                        <input type="hidden" name="session_id" value=id()/>
                                        <label>
                                            {t(Text::Code)}
                                            <input name="code" value=code() inputmode="numeric" autocomplete="off" maxlength="6" required/>
                                        </label>
                                        <button class="primary big" type="submit">{t(Text::JoinButton)}</button>
                                    </form>
                                })}
                            }.into_any()
                        }
                        Err(AppError::LoginRequired) => {
                            let next = match code() {
                                c if c.is_empty() => format!("/join/{}", id()),
                                c => format!("/join/{}?c={c}", id()),
                            };
                            let path = format!("/login?next={}", encode_component(&next));
                            view! { <Redirect path/> }.into_any()
                        }
                        Err(e) => view! { <p class="error" role="alert">{e.message(use_lang())}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The check-in form of a session with a face check: the code and a selfie, sent as a
/// multipart form (it works before the script loads; phones offer the front camera). With the
/// script the chosen photo is shown before it is sent.
#[component]
fn SelfieForm(id: String, code: String) -> impl IntoView {
    let preview = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    let on_change = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let url = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
            .and_then(|file| web_sys::Url::create_object_url_with_blob(&file).ok());
        if let Some(old) = preview.get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&old);
        }
        preview.set(url);
    };
    #[cfg(not(feature = "hydrate"))]
    let on_change = move |_: leptos::ev::Event| {};
    view! {
        <form class="stack" method="post" action=CheckInSelfie::url() enctype="multipart/form-data">
            <input type="hidden" name="session_id" value=id/>
            <label>
                {t(Text::Code)}
                <input name="code" value=code inputmode="numeric" autocomplete="off" maxlength="6" required/>
            </label>
            <label>
                {t(Text::Selfie)}
                <input name="selfie" type="file" accept="image/*" capture="user" required on:change=on_change/>
            </label>
            {move || preview.get().map(|src| view! { <img class="selfie-preview" src=src alt=t(Text::Selfie)/> })}
            <p class="muted small">{t(Text::SelfieHint)}</p>
            <button class="primary big" type="submit">{t(Text::JoinButton)}</button>
        </form>
    }
}

#[component]
fn Outcome(m: crate::api::MyCheckIn) -> impl IntoView {
    if m.removed {
        return view! { <p class="error" data-testid="outcome">{t(Text::YouWereRemoved)}</p> }
            .into_any();
    }
    if m.attended {
        return view! { <p class="success" data-testid="outcome">{t(Text::YouAttended)}</p> }
            .into_any();
    }
    if m.reason.as_deref() == Some("FACE_CHECK_PENDING") {
        // Without the script the page asks again by itself until the outcome is there.
        return view! {
            <leptos_meta::Meta http_equiv="refresh" content="2"/>
            <p class="notice" data-testid="outcome">{t(Text::CheckingFace)}</p>
        }
        .into_any();
    }
    let reason = m
        .reason
        .as_deref()
        .map(crate::teach::reason_text)
        .unwrap_or_default();
    view! {
        <p class="error" data-testid="outcome">{format!("{} {reason}", t(Text::YouFailed))}</p>
        <p class="muted">{t(Text::RetryHint)}</p>
    }
    .into_any()
}

/// Finding a running session by lesson or teacher name, for a student without the QR code.
/// A GET form: it works before the script loads.
#[component]
pub fn FindPage() -> impl IntoView {
    let query = use_query_map();
    let lesson = move || query.read().get("lesson").unwrap_or_default();
    let teacher = move || query.read().get("teacher").unwrap_or_default();
    let searched =
        move || query.read().get("lesson").is_some() || query.read().get("teacher").is_some();
    let found = Resource::new(move || (lesson(), teacher()), |(l, t)| find_sessions(l, t));
    view! {
        <Title text=t(Text::FindSession)/>
        <section class="card narrow">
            <h1>{t(Text::FindSession)}</h1>
            <p class="muted">{t(Text::FindHint)}</p>
            <form class="stack" method="get" action="/find">
                <label>{t(Text::LessonName)} <input name="lesson" value=lesson maxlength="100"/></label>
                <label>{t(Text::Teacher)} <input name="teacher" value=teacher maxlength="100"/></label>
                <button class="primary" type="submit">{t(Text::Search)}</button>
            </form>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match found.await {
                        Ok(list) if list.is_empty() => searched().then(|| view! { <p class="muted" data-testid="none">{t(Text::NoSessionFound)}</p> }).into_any(),
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

/// Any address that is not a page.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text=t(Text::PageNotFound)/>
        <section class="card">
            <h1>{t(Text::PageNotFound)}</h1>
            <p><a href="/">{t(Text::BackHome)}</a></p>
        </section>
    }
}
