//! Server functions shared by several pages, and the types that cross them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Key of the logged-in user in the login session.
pub const SESSION_USER_KEY: &str = "user";

/// The logged-in person, as kept in the login session and shown in the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    /// School number (or demo account name).
    pub school_number: String,
    /// Name as the portal spells it.
    pub full_name: String,
    /// `student` or `teacher`.
    pub role: String,
    /// Named in ATTN_ADMINS.
    pub is_admin: bool,
}

/// Who is logged in, if anyone. Anyone may call it.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SessionUser>, ServerFnError> {
    let session: tower_sessions::Session = leptos_axum::extract().await?;
    match session.get::<SessionUser>(SESSION_USER_KEY).await {
        Ok(user) => Ok(user),
        Err(error) => {
            tracing::warn!(%error, "login session store unavailable");
            Err(ServerFnError::ServerError("unavailable".into()))
        }
    }
}

/// Remembers the interface language in a cookie and goes back to `return_to` (a path on this
/// site). Works as a plain form post, before any script has loaded. Anyone may call it.
#[server(endpoint = "set_language")]
pub async fn set_language(lang: String, return_to: String) -> Result<(), ServerFnError> {
    use http::{HeaderValue, header::SET_COOKIE};

    let lang = crate::i18n::Lang::from_code(&lang).unwrap_or_default();
    let secure = use_context::<attn::Ctx>().is_some_and(|ctx| ctx.config.secure_cookies);
    let cookie = format!(
        "{}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{}",
        crate::i18n::LANG_COOKIE,
        lang.code(),
        if secure { "; Secure" } else { "" }
    );
    let response = expect_context::<leptos_axum::ResponseOptions>();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.append_header(SET_COOKIE, value);
    }
    leptos_axum::redirect(&local_path(&return_to));
    Ok(())
}

/// `path` if it is a path on this site, otherwise "/" (never redirect to another host).
pub fn local_path(path: &str) -> String {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control);
    if ok { path.to_owned() } else { "/".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(local_path("/join/abc?x=1"), "/join/abc?x=1");
        assert_eq!(local_path("//evil.example/"), "/");
        assert_eq!(local_path("https://evil.example/"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
        assert_eq!(local_path(""), "/");
    }
}
