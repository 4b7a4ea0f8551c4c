//! Why a check-in failed, in words.

use attn_types::FailReason;

use crate::i18n::{Locale, td_string};
use crate::use_lang;

/// The reason's text in the page's language.
pub fn reason_text(reason: FailReason) -> &'static str {
    reason_text_in(use_lang(), reason)
}

/// The reason's text in `lang` (for what is made outside a page, such as a download).
pub fn reason_text_in(lang: Locale, reason: FailReason) -> &'static str {
    match reason {
        FailReason::WifiFailed => td_string!(lang, reason_wifi),
        FailReason::DeviceAlreadyUsed => td_string!(lang, reason_device),
        FailReason::FaceCheckUnavailable => td_string!(lang, reason_face),
        FailReason::FaceMismatch => td_string!(lang, reason_face_mismatch),
        FailReason::NoFaceFound => td_string!(lang, reason_no_face),
        FailReason::MoreThanOneFace => td_string!(lang, reason_many_faces),
        FailReason::ReferenceImageNotFound => td_string!(lang, reason_no_reference),
        FailReason::FaceVerificationRequiredButImageMissing => {
            td_string!(lang, reason_selfie_missing)
        }
        FailReason::FaceCheckPending => td_string!(lang, reason_face_pending),
        FailReason::FaceCheckTimeout => td_string!(lang, reason_face_timeout),
        FailReason::PasskeyMissing => td_string!(lang, reason_passkey_missing),
        FailReason::PasskeyNotRegistered => td_string!(lang, reason_passkey_not_registered),
        FailReason::PasskeyInvalid => td_string!(lang, reason_passkey_invalid),
    }
}

/// "Failed: <reason>", or "Failed: " when no reason was recorded.
pub fn failed_text(reason: Option<FailReason>) -> String {
    failed_text_in(use_lang(), reason)
}

/// [`failed_text`] in `lang`.
pub fn failed_text_in(lang: Locale, reason: Option<FailReason>) -> String {
    td_string!(
        lang,
        failed_because,
        reason = reason.map(|r| reason_text_in(lang, r)).unwrap_or_default()
    )
}
