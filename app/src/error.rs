//! The errors a page can show. Server functions turn every service error into one of these;
//! each has a translated message, and none carries raw error text.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::i18n::{Locale, td_string};

/// What went wrong, in terms a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    /// Not logged in.
    LoginRequired,
    /// Logged in, but not allowed.
    Forbidden,
    /// No such session.
    SessionNotFound,
    /// No such thing.
    NotFound,
    /// A field is empty or malformed.
    Invalid {
        /// The form field.
        field: String,
    },
    /// Wrong username or password.
    WrongCredentials,
    /// Too many attempts.
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The portal is down or slow.
    PortalUnavailable,
    /// The portal's pages changed.
    PortalChanged,
    /// The join code is too old.
    CodeExpired,
    /// The session has ended.
    SessionEnded,
    /// The teacher already runs a session (its id).
    ActiveSession {
        /// The running session.
        session_id: String,
    },
    /// A reason is too short.
    ReasonTooShort,
    /// A text holds control characters (NUL and the like).
    ControlCharacters {
        /// The form field.
        field: String,
    },
    /// This server cannot check faces (its models are not installed).
    FaceUnavailable,
    /// The face check is busy: try again in a few seconds; nothing was recorded.
    FaceBusy {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The record already has an appeal waiting for the teacher's answer.
    AppealOpen,
    /// A re-check of the session is running already.
    RecheckRunning,
    /// The re-check was not confirmed: not from the classroom network, or another student's
    /// device.
    RecheckFailed,
    /// The session asks for the student's passkey, which needs the page's script.
    PasskeyNeedsScript,
    /// The passkey's answer belongs to no check-in begun here: start again.
    PasskeyExpired,
    /// This server cannot ask for passkeys (`ATTN_PUBLIC_URL` is not set).
    PasskeysUnavailable,
    /// A class list's row is not acceptable; nothing was imported.
    ImportRow {
        /// The row, from 1.
        row: u64,
    },
    /// A dependency of ours is down, or the request could not be sent.
    Unavailable,
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// A request whose arguments cannot be read (a field missing, or not of its type, or a body
    /// cut off or stalled) is the caller's mistake: `Invalid` naming the field where the decoder does, with status 400 or,
    /// for a plain form, back to the page it came from with the message. Anything else the
    /// framework reports is `Unavailable`.
    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        let refused = match error {
            ServerFnErrorErr::MissingArg(field) => AppError::Invalid { field },
            ServerFnErrorErr::Args(problem) => AppError::Invalid {
                field: field_named(&problem).unwrap_or_default().to_owned(),
            },
            // The body itself could not be read: cut off, or stalled past the idle limit.
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Deserialization(_) => {
                AppError::Invalid {
                    field: String::new(),
                }
            }
            _ => return AppError::Unavailable,
        };
        #[cfg(feature = "ssr")]
        crate::ssr::refuse_unreadable(&refused);
        refused
    }
}

/// The field a decoder's message names (serde writes ``missing field `code` ``).
fn field_named(problem: &str) -> Option<&str> {
    let (_, rest) = problem.split_once("field `")?;
    rest.split_once('`').map(|(field, _)| field)
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for AppError {}

impl AppError {
    /// The message in `lang`.
    pub fn message(&self, lang: Locale) -> String {
        let text = match self {
            AppError::LoginRequired => td_string!(lang, err_login_required),
            AppError::Forbidden => td_string!(lang, err_forbidden),
            AppError::SessionNotFound => td_string!(lang, err_session_not_found),
            AppError::NotFound => td_string!(lang, err_not_found),
            AppError::Invalid { field } => match field.as_str() {
                "school_number" => td_string!(lang, err_school_number_empty),
                "password" => td_string!(lang, err_password_empty),
                "session_id" => td_string!(lang, err_bad_session_id),
                "selfie" => td_string!(lang, err_selfie),
                "file" => td_string!(lang, err_file),
                "receipt" => td_string!(lang, err_receipt),
                _ => td_string!(lang, err_invalid),
            },
            AppError::WrongCredentials => td_string!(lang, err_wrong_credentials),
            AppError::RateLimited { retry_after_secs } => {
                return td_string!(lang, err_rate_limited, seconds = retry_after_secs);
            }
            AppError::PortalUnavailable => td_string!(lang, err_portal_unavailable),
            AppError::PortalChanged => td_string!(lang, err_portal_changed),
            AppError::CodeExpired => td_string!(lang, err_code_expired),
            AppError::SessionEnded => td_string!(lang, err_session_ended),
            AppError::ActiveSession { .. } => td_string!(lang, err_active_session),
            AppError::ReasonTooShort => td_string!(lang, err_reason_too_short),
            AppError::ControlCharacters { .. } => td_string!(lang, err_control_characters),
            AppError::FaceUnavailable => td_string!(lang, err_face_unavailable),
            AppError::FaceBusy { retry_after_secs } => {
                return td_string!(lang, err_face_busy, seconds = retry_after_secs);
            }
            AppError::AppealOpen => td_string!(lang, err_appeal_open),
            AppError::RecheckRunning => td_string!(lang, err_recheck_running),
            AppError::RecheckFailed => td_string!(lang, err_recheck_failed),
            AppError::ImportRow { row } => return td_string!(lang, err_import_row, row = row),
            AppError::PasskeyNeedsScript => td_string!(lang, passkey_needs_script),
            AppError::PasskeyExpired => td_string!(lang, err_passkey_expired),
            AppError::PasskeysUnavailable => td_string!(lang, err_passkeys_unavailable),
            AppError::Unavailable => td_string!(lang, unavailable),
        };
        text.to_owned()
    }

    /// The seconds to wait before trying again, for the errors that say so.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after_secs }
            | AppError::FaceBusy { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The number an address carries with the error's code (`?error=<code>&retry=<n>`): the
    /// seconds to wait, or the class list's bad row.
    pub fn number(&self) -> Option<u64> {
        match self {
            AppError::ImportRow { row } => Some(*row),
            other => other.retry_after(),
        }
    }

    /// A stable code, for addresses such as `/login?error=wrong_credentials`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::LoginRequired => "login_required",
            AppError::Forbidden => "forbidden",
            AppError::SessionNotFound => "session_not_found",
            AppError::NotFound => "not_found",
            AppError::Invalid { field } => match field.as_str() {
                "school_number" => "school_number_empty",
                "password" => "password_empty",
                "selfie" => "bad_selfie",
                "file" => "bad_file",
                "receipt" => "bad_receipt",
                _ => "invalid",
            },
            AppError::WrongCredentials => "wrong_credentials",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::PortalUnavailable => "portal_unavailable",
            AppError::PortalChanged => "portal_changed",
            AppError::CodeExpired => "code_expired",
            AppError::SessionEnded => "session_ended",
            AppError::ActiveSession { .. } => "active_session",
            AppError::ReasonTooShort => "reason_too_short",
            AppError::ControlCharacters { .. } => "control_characters",
            AppError::FaceUnavailable => "face_unavailable",
            AppError::FaceBusy { .. } => "face_busy",
            AppError::AppealOpen => "appeal_open",
            AppError::RecheckRunning => "recheck_running",
            AppError::RecheckFailed => "recheck_failed",
            AppError::ImportRow { .. } => "import_row",
            AppError::PasskeyNeedsScript => "passkey_needs_script",
            AppError::PasskeyExpired => "passkey_expired",
            AppError::PasskeysUnavailable => "passkeys_unavailable",
            AppError::Unavailable => "unavailable",
        }
    }

    /// Reads back a `code()` (and its `number()`: the seconds of a rate limit, a bad row);
    /// unknown codes are `None`.
    pub fn from_code(code: &str, retry_after_secs: Option<u64>) -> Option<Self> {
        Some(match code {
            "login_required" => AppError::LoginRequired,
            "forbidden" => AppError::Forbidden,
            "session_not_found" => AppError::SessionNotFound,
            "not_found" => AppError::NotFound,
            "school_number_empty" => AppError::Invalid {
                field: "school_number".into(),
            },
            "password_empty" => AppError::Invalid {
                field: "password".into(),
            },
            "invalid" => AppError::Invalid {
                field: String::new(),
            },
            "wrong_credentials" => AppError::WrongCredentials,
            "rate_limited" => AppError::RateLimited {
                retry_after_secs: retry_after_secs.unwrap_or(60),
            },
            "face_busy" => AppError::FaceBusy {
                retry_after_secs: retry_after_secs.unwrap_or(5),
            },
            "portal_unavailable" => AppError::PortalUnavailable,
            "portal_changed" => AppError::PortalChanged,
            "code_expired" => AppError::CodeExpired,
            "session_ended" => AppError::SessionEnded,
            "active_session" => AppError::ActiveSession {
                session_id: String::new(),
            },
            "reason_too_short" => AppError::ReasonTooShort,
            "control_characters" => AppError::ControlCharacters {
                field: String::new(),
            },
            "face_unavailable" => AppError::FaceUnavailable,
            "bad_selfie" => AppError::Invalid {
                field: "selfie".into(),
            },
            "appeal_open" => AppError::AppealOpen,
            "recheck_running" => AppError::RecheckRunning,
            "recheck_failed" => AppError::RecheckFailed,
            "import_row" => AppError::ImportRow {
                row: retry_after_secs.unwrap_or(1),
            },
            "bad_file" => AppError::Invalid {
                field: "file".into(),
            },
            "bad_receipt" => AppError::Invalid {
                field: "receipt".into(),
            },
            "passkey_needs_script" => AppError::PasskeyNeedsScript,
            "passkey_expired" => AppError::PasskeyExpired,
            "passkeys_unavailable" => AppError::PasskeysUnavailable,
            "unavailable" => AppError::Unavailable,
            _ => return None,
        })
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The HTTP status that goes with the error.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::LoginRequired => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::SessionNotFound | AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Invalid { .. }
            | AppError::WrongCredentials
            | AppError::ReasonTooShort
            | AppError::ImportRow { .. }
            | AppError::ControlCharacters { .. }
            | AppError::RecheckFailed
            | AppError::PasskeyNeedsScript
            | AppError::PasskeyExpired
            | AppError::CodeExpired => StatusCode::BAD_REQUEST,
            AppError::SessionEnded => StatusCode::GONE,
            AppError::ActiveSession { .. } | AppError::AppealOpen | AppError::RecheckRunning => {
                StatusCode::CONFLICT
            }
            AppError::FaceUnavailable
            | AppError::FaceBusy { .. }
            | AppError::PasskeysUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::PortalUnavailable | AppError::PortalChanged => StatusCode::BAD_GATEWAY,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<attn::Error> for AppError {
    fn from(error: attn::Error) -> Self {
        use attn::Error as E;
        use attn::error::Entity;
        match error {
            E::Unauthenticated => AppError::LoginRequired,
            E::Forbidden => AppError::Forbidden,
            E::NotFound(Entity::Session) => AppError::SessionNotFound,
            E::NotFound(_) => AppError::NotFound,
            E::InvalidInput {
                field: "reason",
                problem: attn::error::Problem::TooShort { .. },
            } => AppError::ReasonTooShort,
            E::InvalidInput {
                field,
                problem: attn::error::Problem::ControlCharacters,
            } => AppError::ControlCharacters {
                field: field.to_owned(),
            },
            E::InvalidInput { field, .. } => AppError::Invalid {
                field: field.to_owned(),
            },
            E::ActiveSessionExists(id) => AppError::ActiveSession {
                session_id: id.to_string(),
            },
            E::AppealOpen => AppError::AppealOpen,
            E::RecheckRunning => AppError::RecheckRunning,
            E::RecheckFailed(_) => AppError::RecheckFailed,
            E::PasskeyNeedsScript => AppError::PasskeyNeedsScript,
            E::PasskeyExpired => AppError::PasskeyExpired,
            E::PasskeysUnavailable => AppError::PasskeysUnavailable,
            E::ImportRow { row, .. } => AppError::ImportRow {
                row: u64::try_from(row).unwrap_or(u64::MAX),
            },
            E::CodeExpired => AppError::CodeExpired,
            E::SessionEnded => AppError::SessionEnded,
            E::WrongCredentials => AppError::WrongCredentials,
            E::FaceCheckUnavailable => AppError::FaceUnavailable,
            E::RateLimited { retry_after_secs } => AppError::RateLimited { retry_after_secs },
            E::FaceCheckBusy { retry_after_secs } => AppError::FaceBusy { retry_after_secs },
            E::PortalUnavailable | E::PhotoMissing => AppError::PortalUnavailable,
            E::PortalChanged(_) => AppError::PortalChanged,
            other => {
                tracing::error!(error = %other, "request failed");
                AppError::Unavailable
            }
        }
    }
}

/// A request refused before any page or server function runs, as its page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The body cannot be read (a multipart form without a boundary).
    Invalid,
    /// The body is larger than its route allows.
    TooLarge,
    /// The request came from another site.
    ForeignOrigin,
}

impl Refusal {
    /// The page's heading in `lang`.
    pub fn title(self, lang: Locale) -> &'static str {
        match self {
            Refusal::Invalid => td_string!(lang, err_invalid),
            Refusal::TooLarge => td_string!(lang, err_too_large),
            Refusal::ForeignOrigin => td_string!(lang, foreign_origin_title),
        }
    }

    /// What to do about it, if there is more to say.
    pub fn hint(self, lang: Locale) -> Option<&'static str> {
        match self {
            Refusal::ForeignOrigin => Some(td_string!(lang, foreign_origin_hint)),
            Refusal::Invalid | Refusal::TooLarge => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back() {
        for e in [
            AppError::WrongCredentials,
            AppError::RateLimited {
                retry_after_secs: 42,
            },
            AppError::PortalUnavailable,
            AppError::Invalid {
                field: "password".into(),
            },
            AppError::FaceBusy {
                retry_after_secs: 42,
            },
        ] {
            assert_eq!(AppError::from_code(e.code(), Some(42)), Some(e));
        }
        assert_eq!(AppError::from_code("<script>", None), None);
        let limited = AppError::RateLimited {
            retry_after_secs: 42,
        };
        assert_eq!(
            limited.message(Locale::en),
            "Too many attempts. Try again in 42 seconds."
        );
        assert_eq!(
            limited.message(Locale::tr),
            "Çok fazla deneme yapıldı. 42 saniye sonra yeniden deneyin."
        );
        let busy = AppError::FaceBusy {
            retry_after_secs: 3,
        };
        assert_eq!(busy.retry_after(), Some(3));
        assert!(
            busy.message(Locale::en)
                .ends_with("Try again in 3 seconds.")
        );
        assert_eq!(busy.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    }
}
