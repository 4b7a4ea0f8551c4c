//! Why a check-in failed, in words.

use attn_types::FailReason;

/// The reason's text in the page's language.
pub fn reason_text(reason: FailReason) -> &'static str {
    match reason {
        FailReason::WifiFailed => t!(reason_wifi),
        FailReason::DeviceAlreadyUsed => t!(reason_device),
        FailReason::FaceCheckUnavailable => t!(reason_face),
        FailReason::FaceMismatch => t!(reason_face_mismatch),
        FailReason::NoFaceFound => t!(reason_no_face),
        FailReason::MoreThanOneFace => t!(reason_many_faces),
        FailReason::ReferenceImageNotFound => t!(reason_no_reference),
        FailReason::FaceVerificationRequiredButImageMissing => t!(reason_selfie_missing),
        FailReason::FaceCheckPending => t!(reason_face_pending),
        FailReason::FaceCheckTimeout => t!(reason_face_timeout),
    }
}

/// "Failed: <reason>", or "Failed: " when no reason was recorded.
pub fn failed_text(reason: Option<FailReason>) -> String {
    t!(
        failed_because,
        reason = reason.map(reason_text).unwrap_or_default()
    )
}
