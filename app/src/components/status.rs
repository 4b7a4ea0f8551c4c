//! How a student was counted, in words, as a letter and as a class for the style sheet.

use attn_types::{FailReason, Status};

use crate::components::reasons::failed_text_in;
use crate::i18n::{Locale, td_string};
use crate::use_lang;

/// The status in the page's language; a failed check names its reason.
pub fn status_text(status: Status, reason: Option<FailReason>) -> String {
    status_text_in(use_lang(), status, reason)
}

/// [`status_text`] in `lang` (for what is made outside a page, such as a download).
pub fn status_text_in(lang: Locale, status: Status, reason: Option<FailReason>) -> String {
    match status {
        Status::Present => td_string!(lang, attended).to_owned(),
        Status::Late => td_string!(lang, status_late).to_owned(),
        Status::Excused => td_string!(lang, status_excused).to_owned(),
        Status::Absent => td_string!(lang, status_absent).to_owned(),
        Status::Failed => failed_text_in(lang, reason),
    }
}

/// The one-letter mark of a grid cell in `lang` (K/G/İ/D/B in Turkish, P/L/E/A/F in English).
pub fn status_letter_in(lang: Locale, status: Status) -> &'static str {
    match status {
        Status::Present => td_string!(lang, letter_present),
        Status::Late => td_string!(lang, letter_late),
        Status::Excused => td_string!(lang, letter_excused),
        Status::Absent => td_string!(lang, letter_absent),
        Status::Failed => td_string!(lang, letter_failed),
    }
}

/// [`status_letter_in`] in the page's language.
pub fn status_letter(status: Status) -> &'static str {
    status_letter_in(use_lang(), status)
}

/// The class of a row or cell with this status ("attended" for present, as before).
pub fn status_class(status: Status) -> &'static str {
    match status {
        Status::Present => "attended",
        Status::Late => "late",
        Status::Excused => "excused",
        Status::Absent => "absent",
        Status::Failed => "failed",
    }
}

/// Where a student stands against a course's absence limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LimitRisk {
    /// More than one absence left.
    Fine,
    /// One more absence is too many.
    OneMore,
    /// Over the limit.
    Over,
}

#[cfg(feature = "ssr")]
impl From<attn::courses::Risk> for LimitRisk {
    fn from(risk: attn::courses::Risk) -> Self {
        match risk {
            attn::courses::Risk::Fine => LimitRisk::Fine,
            attn::courses::Risk::OneMore => LimitRisk::OneMore,
            attn::courses::Risk::Over => LimitRisk::Over,
        }
    }
}

impl LimitRisk {
    /// The class of a row with this risk.
    pub fn class(self) -> &'static str {
        match self {
            LimitRisk::Fine => "fine",
            LimitRisk::OneMore => "one-more",
            LimitRisk::Over => "over",
        }
    }
}
