//! Domain types. Constructors parse untrusted input into values that are valid by construction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use attn_types::{
    AppealState, AuditAction, DeviceCheck, FailReason, LateCounts, Role, SecurityLevel, Status,
};

use crate::error::{Error, Problem, Result};

/// A university school number (or a demo account name): 1-32 of `[A-Za-z0-9_]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SchoolNumber(String);

impl SchoolNumber {
    /// Longest accepted school number.
    pub const MAX_LEN: usize = 32;

    /// Parses a school number typed by a person (surrounding spaces are ignored).
    pub fn parse(input: &str) -> Result<Self> {
        let s = input.trim();
        if s.is_empty() {
            return Err(Error::invalid("school_number", Problem::Empty));
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(Error::invalid(
                "school_number",
                Problem::TooLong { max: Self::MAX_LEN },
            ));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::invalid("school_number", Problem::Malformed));
        }
        Ok(Self(s.to_owned()))
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SchoolNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A free-text reason for a deletion or a rejection, with a minimum length set by the rule that
/// asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason(String);

impl Reason {
    /// Longest accepted reason.
    pub const MAX_LEN: usize = 500;

    /// Parses a reason of at least `min` characters (after trimming).
    pub fn parse(input: &str, min: usize) -> Result<Self> {
        crate::text::refuse_control("reason", input, true)?;
        let s = input.trim();
        let len = s.chars().count();
        if len == 0 {
            return Err(Error::invalid("reason", Problem::Empty));
        }
        if len < min {
            return Err(Error::invalid("reason", Problem::TooShort { min }));
        }
        if len > Self::MAX_LEN {
            return Err(Error::invalid(
                "reason",
                Problem::TooLong { max: Self::MAX_LEN },
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The reason as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A fresh random id for a browser (the one-student-per-device rule).
pub fn new_device_id() -> String {
    Uuid::new_v4().simple().to_string()
}

/// Parses an attendance session id sent by a client.
pub fn parse_session_id(input: &str) -> Result<Uuid> {
    Uuid::parse_str(input.trim()).map_err(|_| Error::invalid("session_id", Problem::Malformed))
}

/// A person as the database knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Primary key.
    pub school_number: String,
    /// Name as the portal spells it.
    pub full_name: String,
    /// Portal role (admins are flagged by configuration, not here).
    pub role: Role,
}

/// A running attendance session: everything needed to persist it later, the teacher's name
/// included, so the sweep never needs another lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSession {
    /// Also the id of the persisted attendance.
    pub id: Uuid,
    /// Owner.
    pub teacher_school_number: String,
    /// Owner's name, for the persisted users row.
    pub teacher_full_name: String,
    /// Lesson title as shown to students.
    pub lesson_name: String,
    /// The teacher's IP at start, for the network check.
    pub ip_address: String,
    /// When the session opened.
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub start_time: DateTime<Utc>,
    /// When it closes (moved to "now" when the teacher finishes early).
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub end_time: DateTime<Utc>,
    /// How students are checked.
    pub security: SecurityLevel,
    /// Whether the join code changes every 15 seconds (the teacher may turn it off).
    #[serde(default = "rotate_by_default")]
    pub rotate_code: bool,
    /// Minutes after the start from which a check-in counts as late (`None`: never late).
    #[serde(default)]
    pub late_after_minutes: Option<u32>,
    /// Class hours the session stands for (a three-hour lab is 3; `None`: not given).
    #[serde(default)]
    pub class_hours: Option<u8>,
    /// The re-checks the teacher asked for, oldest first (the live store keeps them apart from
    /// the rest of the session and fills them in when it reads one).
    #[serde(default)]
    pub rechecks: Vec<Recheck>,
    /// How a check-in must show it comes from the student's own device.
    #[serde(default)]
    pub device_check: DeviceCheck,
}

/// A re-check during a session: for a short window, students already counted present confirm
/// from their phones (with the code shown then, from the classroom network) that they are
/// still there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recheck {
    /// 1 for the first of the session.
    pub number: u16,
    /// When the teacher asked.
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub started_at: DateTime<Utc>,
    /// When confirming stops.
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub ends_at: DateTime<Utc>,
}

impl Recheck {
    /// True while students may confirm.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.started_at <= now && now < self.ends_at
    }
}

fn rotate_by_default() -> bool {
    true
}

impl LiveSession {
    /// True while students may still check in.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        now < self.end_time
    }

    /// The re-check students may confirm now, if one is running.
    pub fn open_recheck(&self, now: DateTime<Utc>) -> Option<&Recheck> {
        self.rechecks.iter().rev().find(|r| r.is_open(now))
    }

    /// True when a check-in at `at` is past the late cut-off.
    pub fn is_late(&self, at: DateTime<Utc>) -> bool {
        self.late_after_minutes
            .is_some_and(|m| at >= self.start_time + chrono::Duration::minutes(i64::from(m)))
    }
}

/// A student's entry in a live session; carries the student's name for the same reason the
/// session carries the teacher's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRecord {
    /// Student.
    pub student_number: String,
    /// Student's name as the portal spells it.
    pub student_full_name: String,
    /// Whether the student counts as present.
    pub is_attended: bool,
    /// When the student checked in (or was added).
    #[serde(with = "chrono::serde::ts_milliseconds_option", default)]
    pub attendance_time: Option<DateTime<Utc>>,
    /// Why a check failed, when it did.
    #[serde(default)]
    pub fail_reason: Option<FailReason>,
    /// Set when the teacher removed the student; persisted as a soft delete.
    #[serde(default)]
    pub deletion: Option<Deletion>,
    /// The selfie's distance from the portal photo, in thousandths, when faces were compared.
    #[serde(default)]
    pub face_distance_milli: Option<u16>,
    /// Checked in after the session's late cut-off.
    #[serde(default)]
    pub late: bool,
    /// The status the teacher set by hand, over what the check-in gave.
    #[serde(default)]
    pub marked: Option<Status>,
    /// Why the teacher set it (an excuse, say).
    #[serde(default)]
    pub status_reason: Option<String>,
    /// Every status change the teacher made, oldest first; each becomes an audit event when the
    /// session is persisted.
    #[serde(default)]
    pub changes: Vec<StatusChange>,
    /// The numbers of the re-checks the student confirmed.
    #[serde(default)]
    pub confirmed: Vec<u16>,
    /// How the check-in was checked (`None`: added by the teacher, or from before this was kept).
    #[serde(default)]
    pub evidence: Option<Evidence>,
}

/// How a check-in was checked, for the teacher to trust it (or not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Which rule of the network check the address met.
    pub network: crate::network::NetworkMatch,
    /// Whether the session checked the network (level 2 and 3).
    pub network_checked: bool,
    /// What groups students who came from one place: the address (IPv4) or its /64 (IPv6),
    /// as the rate limits count it. Used for flags, never shown.
    pub origin: String,
    /// How the device was checked.
    #[serde(default)]
    pub device: DeviceProof,
    /// What groups check-ins from one browser: a digest of its device cookie. Used for flags,
    /// never shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// Students of the session whose selfie showed the same face as this one (level 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub same_face: Vec<String>,
}

/// How a check-in showed it came from the student's own device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DeviceProof {
    /// A browser cookie, one student per browser (the session asked for no passkey).
    #[default]
    Cookie,
    /// Signed with the passkey the student registered before.
    Passkey,
    /// A passkey registered with this check-in: the weak moment, flagged for the teacher.
    NewPasskey {
        /// The teacher or admin who allowed it, when it replaced an earlier one or the session
        /// took no new ones.
        approved_by: Option<String>,
    },
    /// No passkey was shown (the check failed, or the teacher counted the student by hand).
    NoPasskey,
}

impl LiveRecord {
    /// How the student counts: what the teacher set, else what the check-in gave.
    pub fn status(&self) -> Status {
        if let Some(marked) = self.marked {
            return marked;
        }
        match (self.is_attended, self.late) {
            (true, true) => Status::Late,
            (true, false) => Status::Present,
            (false, _) => Status::Failed,
        }
    }

    /// True when a new check-in must not replace this record: the student is counted present,
    /// or the teacher removed them or set their status.
    pub fn stands(&self) -> bool {
        self.is_attended || self.deletion.is_some() || self.marked.is_some()
    }

    /// True when re-check `r` asks this student to confirm: counted present (or late) before it
    /// started, not removed, and not set by the teacher since it started.
    pub fn asked_by(&self, r: &Recheck) -> bool {
        self.is_attended
            && self.deletion.is_none()
            && self.attendance_time.is_some_and(|t| t < r.started_at)
            && self.changes.last().is_none_or(|c| c.at < r.started_at)
    }

    /// The re-checks among `rechecks` that ended at `now` without this student confirming,
    /// though asked to: "left early", for the teacher to review.
    pub fn missed<'a>(&self, rechecks: &'a [Recheck], now: DateTime<Utc>) -> Vec<&'a Recheck> {
        rechecks
            .iter()
            .filter(|r| r.ends_at <= now && self.asked_by(r) && !self.confirmed.contains(&r.number))
            .collect()
    }

    /// True while a face check for this record is still running (and the teacher has not
    /// removed the student meanwhile).
    pub fn is_pending(&self) -> bool {
        self.deletion.is_none()
            && self.marked.is_none()
            && self.fail_reason.is_some_and(FailReason::is_pending)
    }
}

/// A teacher's change of a student's status in a live session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The status before (`None`: the student had no record).
    pub from: Option<Status>,
    /// The status after.
    pub to: Status,
    /// School number of the teacher.
    pub by: String,
    /// When.
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub at: DateTime<Utc>,
    /// The reason given, or the failed check's reason when a failure was accepted.
    pub reason: Option<String>,
}

/// Who removed something, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    /// The reason given.
    pub reason: String,
    /// School number of the person who deleted it.
    pub by: String,
    /// When.
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_numbers_are_trimmed_and_checked() {
        assert_eq!(
            SchoolNumber::parse(" 1306200001 ").unwrap().as_str(),
            "1306200001"
        );
        assert!(SchoolNumber::parse("demo_student_12").is_ok());
        assert!(matches!(
            SchoolNumber::parse("   "),
            Err(Error::InvalidInput {
                problem: Problem::Empty,
                ..
            })
        ));
        assert!(matches!(
            SchoolNumber::parse("12; DROP TABLE users"),
            Err(Error::InvalidInput {
                problem: Problem::Malformed,
                ..
            })
        ));
        assert!(matches!(
            SchoolNumber::parse(&"1".repeat(33)),
            Err(Error::InvalidInput {
                problem: Problem::TooLong { max: 32 },
                ..
            })
        ));
    }

    #[test]
    fn reasons_have_a_minimum_length_in_characters() {
        // Five Turkish letters are five characters, not ten bytes.
        assert!(Reason::parse("ığüşö", 5).is_ok());
        assert!(matches!(
            Reason::parse("  kısa ", 5),
            Err(Error::InvalidInput {
                problem: Problem::TooShort { min: 5 },
                ..
            })
        ));
    }

    #[test]
    fn malformed_session_ids_are_refused() {
        assert!(parse_session_id("not-a-uuid").is_err());
        assert!(parse_session_id(&Uuid::new_v4().to_string()).is_ok());
    }
}
