//! Why a check-in failed, in words.

use attn_types::FailReason;

use crate::i18n::Text;
use crate::{t, tf};

/// The reason's text in the page's language.
pub fn reason_text(reason: FailReason) -> &'static str {
    t(match reason {
        FailReason::WifiFailed => Text::ReasonWifi,
        FailReason::DeviceAlreadyUsed => Text::ReasonDevice,
        FailReason::FaceCheckUnavailable => Text::ReasonFace,
        FailReason::FaceMismatch => Text::ReasonFaceMismatch,
        FailReason::NoFaceFound => Text::ReasonNoFace,
        FailReason::MoreThanOneFace => Text::ReasonManyFaces,
        FailReason::ReferenceImageNotFound => Text::ReasonNoReference,
        FailReason::FaceVerificationRequiredButImageMissing => Text::ReasonSelfieMissing,
        FailReason::FaceCheckPending => Text::ReasonFacePending,
        FailReason::FaceCheckTimeout => Text::ReasonFaceTimeout,
    })
}

/// "Failed: <reason>", or "Failed: " when no reason was recorded.
pub fn failed_text(reason: Option<FailReason>) -> String {
    tf(
        Text::FailedBecause,
        &[("reason", &reason.map(reason_text).unwrap_or_default())],
    )
}
