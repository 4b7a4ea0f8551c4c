//! The codes ATTN stores and shows: who a person is, how strictly a session checks, why a
//! check failed, how a student was counted, what an audit event records.
//!
//! Each is an enum with one spelling, kept the same in the database, in Redis, in URLs and in
//! JSON; a stored value that does not parse is an error, never a default. This crate has no
//! server dependencies, so the browser build shares it with the service layer; the `db` feature
//! adds SeaORM column support.

use serde::{Deserialize, Serialize};
#[cfg(not(feature = "db"))]
use strum::EnumIter;
use strum::{AsRefStr, EnumString, IntoStaticStr};

#[cfg(feature = "db")]
use sea_orm::{DeriveActiveEnum, EnumIter as DbEnumIter, sea_query::StringLen};

/// What a user may do. Admins are named in configuration; the portal knows only the other two.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    AsRefStr,
    IntoStaticStr,
    EnumString,
)]
#[cfg_attr(not(feature = "db"), derive(EnumIter))]
#[cfg_attr(feature = "db", derive(DeriveActiveEnum, DbEnumIter))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        rs_type = "String",
        db_type = "String(StringLen::N(16))",
        rename_all = "lowercase"
    )
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Role {
    /// Checks in to sessions.
    Student,
    /// Runs sessions.
    Teacher,
    /// Reviews and restores deleted data.
    Admin,
}

/// How strictly a session checks students. The numbers are the original system's, so its data
/// can be imported as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(not(feature = "db"), derive(EnumIter))]
#[cfg_attr(feature = "db", derive(DeriveActiveEnum, DbEnumIter))]
#[cfg_attr(feature = "db", sea_orm(rs_type = "i16", db_type = "SmallInteger"))]
#[serde(try_from = "i16", into = "i16")]
#[repr(i16)]
pub enum SecurityLevel {
    /// Anyone with the link may check in.
    #[cfg_attr(feature = "db", sea_orm(num_value = 1))]
    None = 1,
    /// The student must be on the classroom network.
    #[cfg_attr(feature = "db", sea_orm(num_value = 2))]
    Network = 2,
    /// Network, plus a selfie that matches the portal photo.
    #[cfg_attr(feature = "db", sea_orm(num_value = 3))]
    NetworkAndFace = 3,
}

impl SecurityLevel {
    /// The stored number.
    pub fn as_i16(self) -> i16 {
        self as i16
    }
}

impl From<SecurityLevel> for i16 {
    fn from(level: SecurityLevel) -> i16 {
        level.as_i16()
    }
}

/// A number that is not a security level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownLevel(pub i16);

impl std::fmt::Display for UnknownLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown security level {}", self.0)
    }
}

impl std::error::Error for UnknownLevel {}

impl TryFrom<i16> for SecurityLevel {
    type Error = UnknownLevel;

    fn try_from(n: i16) -> Result<Self, UnknownLevel> {
        match n {
            1 => Ok(SecurityLevel::None),
            2 => Ok(SecurityLevel::Network),
            3 => Ok(SecurityLevel::NetworkAndFace),
            _ => Err(UnknownLevel(n)),
        }
    }
}

/// Why a check-in failed. It is recorded, and the teacher sees it (and may accept the student
/// anyway). The spellings are the original system's where it had one.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    AsRefStr,
    IntoStaticStr,
    EnumString,
)]
#[cfg_attr(not(feature = "db"), derive(EnumIter))]
#[cfg_attr(feature = "db", derive(DeriveActiveEnum, DbEnumIter))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        rs_type = "String",
        db_type = "String(StringLen::N(64))",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum FailReason {
    /// Not on the classroom network.
    WifiFailed,
    /// This browser already checked in another student in this session.
    DeviceAlreadyUsed,
    /// The session asks for a face check, and this server could not run one.
    FaceCheckUnavailable,
    /// The face check is still running (every worker was busy); the outcome follows.
    FaceCheckPending,
    /// The session was persisted before a pending face check finished.
    FaceCheckTimeout,
    /// The selfie is of someone else (distance over the threshold).
    FaceMismatch,
    /// No face in the selfie.
    NoFaceFound,
    /// Several faces in the selfie, none clearly the main one.
    MoreThanOneFace,
    /// The session asks for the student's passkey and this browser has none for them (another
    /// phone, a private tab), or it was not given.
    PasskeyMissing,
    /// The session asks for the student's passkey, the student has none yet, and the session
    /// takes no new ones (the teacher can allow one).
    PasskeyNotRegistered,
    /// The passkey's answer did not verify (another credential, a bad signature).
    PasskeyInvalid,
    /// The portal photo is missing or shows no usable face.
    ReferenceImageNotFound,
    /// The session asks for a selfie and none came.
    FaceVerificationRequiredButImageMissing,
}

impl FailReason {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// True for a face check that has not finished yet.
    pub fn is_pending(self) -> bool {
        self == FailReason::FaceCheckPending
    }

    /// True for a failed passkey check: the teacher may allow the student a new passkey.
    pub fn is_passkey(self) -> bool {
        matches!(
            self,
            FailReason::PasskeyMissing
                | FailReason::PasskeyNotRegistered
                | FailReason::PasskeyInvalid
        )
    }
}

/// How a session makes sure a check-in comes from the student's own device.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    AsRefStr,
    IntoStaticStr,
    EnumString,
)]
#[cfg_attr(not(feature = "db"), derive(EnumIter))]
#[cfg_attr(feature = "db", derive(DeriveActiveEnum, DbEnumIter))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        rs_type = "String",
        db_type = "String(StringLen::N(16))",
        rename_all = "snake_case"
    )
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DeviceCheck {
    /// One student per browser, by a cookie (a private tab is a new browser).
    #[default]
    Cookie,
    /// The student's passkey on their own phone; a student without one registers it now (each
    /// registration is flagged for the teacher).
    Passkey,
    /// The student's passkey; only passkeys registered before (or allowed by a teacher or an
    /// admin) are taken.
    PasskeyKnown,
}

impl DeviceCheck {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// True when a check-in must be signed with the student's passkey (it needs JavaScript).
    pub fn needs_passkey(self) -> bool {
        self != DeviceCheck::Cookie
    }

    /// True when a student without a passkey may register one in the session.
    pub fn takes_new_passkeys(self) -> bool {
        self == DeviceCheck::Passkey
    }
}

impl Role {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How a student was counted in one session. Stored in `attendance_records.status`; records of
/// the original system (present or failed only) keep their meaning.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    AsRefStr,
    IntoStaticStr,
    EnumString,
)]
#[cfg_attr(not(feature = "db"), derive(EnumIter))]
#[cfg_attr(feature = "db", derive(DeriveActiveEnum, DbEnumIter))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        rs_type = "String",
        db_type = "String(StringLen::N(16))",
        rename_all = "lowercase"
    )
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Status {
    /// Checked in on time (or counted present by the teacher).
    Present,
    /// Checked in after the session's late cut-off.
    Late,
    /// Away with leave or a doctor's report (izinli/raporlu), with the reason given.
    Excused,
    /// Not there: on the class list without a check-in when the session ended, or marked absent.
    Absent,
    /// Checked in and failed a check the teacher did not accept.
    Failed,
}

impl Status {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The statuses a teacher can set by hand.
    pub const SETTABLE: [Status; 4] = [
        Status::Present,
        Status::Late,
        Status::Excused,
        Status::Absent,
    ];

    /// The one letter shown with its colour in the grid (readable in print and without colour).
    pub fn letter(self) -> char {
        match self {
            Status::Present => 'P',
            Status::Late => 'L',
            Status::Excused => 'E',
            Status::Absent => 'A',
            Status::Failed => 'F',
        }
    }

    /// True for the statuses counted as being there (present or late).
    pub fn is_there(self) -> bool {
        matches!(self, Status::Present | Status::Late)
    }
}

/// How a late arrival counts toward a course's absence limit.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    AsRefStr,
    IntoStaticStr,
    EnumString,
)]
#[cfg_attr(not(feature = "db"), derive(EnumIter))]
#[cfg_attr(feature = "db", derive(DeriveActiveEnum, DbEnumIter))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        rs_type = "String",
        db_type = "String(StringLen::N(16))",
        rename_all = "lowercase"
    )
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum LateCounts {
    /// As present.
    #[default]
    Present,
    /// As half an absence.
    Half,
    /// As an absence.
    Absent,
}

impl LateCounts {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where a student's appeal of a record stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    AsRefStr,
    IntoStaticStr,
    EnumString,
)]
#[cfg_attr(not(feature = "db"), derive(EnumIter))]
#[cfg_attr(feature = "db", derive(DeriveActiveEnum, DbEnumIter))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        rs_type = "String",
        db_type = "String(StringLen::N(16))",
        rename_all = "lowercase"
    )
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum AppealState {
    /// Waiting for the teacher.
    Open,
    /// The teacher accepted it and changed the status.
    Accepted,
    /// The teacher rejected it, with a reason.
    Rejected,
}

impl AppealState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What an audit event records.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    AsRefStr,
    IntoStaticStr,
    EnumString,
)]
#[cfg_attr(not(feature = "db"), derive(EnumIter))]
#[cfg_attr(feature = "db", derive(DeriveActiveEnum, DbEnumIter))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        rs_type = "String",
        db_type = "String(StringLen::N(32))",
        rename_all = "snake_case"
    )
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AuditAction {
    /// A teacher deleted a persisted session.
    SessionDeleted,
    /// A teacher removed a student from a persisted session.
    RecordDeleted,
    /// A teacher added a student to a persisted session.
    RecordAdded,
    /// An admin restored a session.
    SessionRestored,
    /// An admin restored a record.
    RecordRestored,
    /// A teacher changed a student's status (live or after class); the reason says why.
    StatusChanged,
    /// A teacher or an admin let a student register a new passkey (a new phone), removing the
    /// old one; the reason says why.
    PasskeyApproved,
}

impl AuditAction {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    /// serde (JSON, Redis) and strum (URLs, logs) spell every code the same way.
    fn same_spelling<T>()
    where
        T: IntoEnumIterator
            + Serialize
            + AsRef<str>
            + std::str::FromStr
            + PartialEq
            + std::fmt::Debug,
    {
        for code in T::iter() {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_ref()));
            assert_eq!(code.as_ref().parse::<T>().ok(), Some(code));
        }
    }

    #[test]
    fn every_code_has_one_spelling() {
        same_spelling::<Role>();
        same_spelling::<FailReason>();
        same_spelling::<AuditAction>();
        same_spelling::<Status>();
        same_spelling::<LateCounts>();
        same_spelling::<AppealState>();
        same_spelling::<DeviceCheck>();
    }

    #[test]
    fn stored_spellings_are_kept() {
        assert_eq!(FailReason::WifiFailed.as_str(), "WIFI_FAILED");
        assert_eq!(
            FailReason::FaceVerificationRequiredButImageMissing.as_str(),
            "FACE_VERIFICATION_REQUIRED_BUT_IMAGE_MISSING"
        );
        assert_eq!(Role::Teacher.as_str(), "teacher");
        assert_eq!(AuditAction::RecordRestored.as_str(), "record_restored");
        assert_eq!(Status::Excused.as_str(), "excused");
        assert_eq!(DeviceCheck::PasskeyKnown.as_str(), "passkey_known");
        assert_eq!(FailReason::PasskeyMissing.as_str(), "PASSKEY_MISSING");
        assert_eq!(AuditAction::PasskeyApproved.as_str(), "passkey_approved");
        assert!("missed".parse::<Status>().is_err());
    }

    #[test]
    fn unknown_values_do_not_parse() {
        assert!("WIFI_FAILED ".parse::<FailReason>().is_err());
        assert!("superuser".parse::<Role>().is_err());
        assert!(serde_json::from_str::<Role>("\"Student\"").is_err());
        assert!(serde_json::from_str::<FailReason>("\"CODE_EXPIRED\"").is_err());
    }

    #[test]
    fn security_levels_keep_the_original_numbers() {
        assert_eq!(
            SecurityLevel::try_from(3).unwrap(),
            SecurityLevel::NetworkAndFace
        );
        assert_eq!(serde_json::to_string(&SecurityLevel::Network).unwrap(), "2");
        assert!(SecurityLevel::try_from(4).is_err());
        assert!(serde_json::from_str::<SecurityLevel>("0").is_err());
    }
}
