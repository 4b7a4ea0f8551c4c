//! The one error type of the service layer. Variants say what a user needs to know; the app maps
//! each to a translated message, so no raw error text ever reaches a page.

use uuid::Uuid;

/// Result of a service-layer operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the service layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing asked for does not exist (or is hidden because it was deleted).
    #[error("{0} not found")]
    NotFound(Entity),
    /// The caller is logged in but may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The caller must log in first.
    #[error("not logged in")]
    Unauthenticated,
    /// The teacher already runs a session; it is named so the page can link to it.
    #[error("teacher already has an active session {0}")]
    ActiveSessionExists(Uuid),
    /// A field of the request is not acceptable.
    #[error("invalid {field}: {problem}")]
    InvalidInput {
        /// Which field, as the form names it.
        field: &'static str,
        /// What is wrong with it.
        problem: Problem,
    },
    /// The portal (or the demo accounts) refused the username or password.
    #[error("wrong username or password")]
    WrongCredentials,
    /// The portal did not answer, answered with an error, or was too slow.
    #[error("portal unavailable")]
    PortalUnavailable,
    /// A portal page lacked an element it always had; names the page.
    #[error("portal page {0} changed")]
    PortalChanged(&'static str),
    /// The portal has no usable photo of the student.
    #[error("portal photo missing")]
    PhotoMissing,
    /// Too many attempts; the caller may try again after this many seconds.
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the next attempt is accepted.
        retry_after_secs: u64,
    },
    /// Refused, nothing recorded: the join code is older than the previous 15-second slot.
    #[error("join code expired")]
    CodeExpired,
    /// Refused, nothing recorded: the session has ended.
    #[error("session ended")]
    SessionEnded,
    /// The database could not be reached or refused the operation.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// The live store (Redis) could not be reached or refused the operation.
    #[error("live store: {0}")]
    Live(#[from] redis::RedisError),
    /// Stored live data could not be read back.
    #[error("corrupt live data: {0}")]
    CorruptLiveData(#[from] serde_json::Error),
    /// Every face-check worker is busy and the queue is full: nothing was recorded; the student
    /// may try again after this many seconds.
    #[error("face check busy; retry in {retry_after_secs} s")]
    FaceCheckBusy {
        /// Seconds until a place in the queue is likely.
        retry_after_secs: u64,
    },
    /// A session with a selfie check was asked for, and this server has no face check.
    #[error("face check unavailable")]
    FaceCheckUnavailable,
    /// The face-check models are missing or failed to run.
    #[error("face check: {0}")]
    FaceModel(String),
    /// A row of an imported class list is not acceptable; nothing was imported.
    #[error("row {row}: invalid {field}: {problem}")]
    ImportRow {
        /// The row, from 1 as a spreadsheet counts.
        row: usize,
        /// What is wrong in it: `school_number`, `name`, or `rows` (too many).
        field: &'static str,
        /// What is wrong with it.
        problem: Problem,
    },
    /// The student already appealed this record and the teacher has not answered yet.
    #[error("an appeal of this record is open")]
    AppealOpen,
    /// A re-check could not be confirmed (not on the classroom network, another student's
    /// device); the record stays as it was.
    #[error("re-check not confirmed: {0:?}")]
    RecheckFailed(crate::domain::FailReason),
    /// A re-check of the session is still running: one at a time.
    #[error("a re-check is running")]
    RecheckRunning,
    /// The session checks the student's passkey and the check-in came without an answer from
    /// it: the browser ran no script. Nothing recorded.
    #[error("the session needs a passkey, which needs JavaScript")]
    PasskeyNeedsScript,
    /// The passkey's answer belongs to no ceremony begun in this browser for this session (it
    /// was used already, or began elsewhere): start again. Nothing recorded.
    #[error("no passkey check under way for this check-in")]
    PasskeyExpired,
    /// This server has no relying party for passkeys (`ATTN_PUBLIC_URL` is not set, or names
    /// an address a passkey cannot be bound to).
    #[error("passkeys are not set up")]
    PasskeysUnavailable,
    /// A download could not be written.
    #[error("export: {0}")]
    Export(String),
    /// Configuration is missing or malformed; raised at start-up only.
    #[error("configuration {variable}: {problem}")]
    Config {
        /// The environment variable at fault.
        variable: &'static str,
        /// What is wrong with its value.
        problem: String,
    },
}

/// The kinds of thing a `NotFound` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// An attendance session, live or persisted.
    Session,
    /// A student's record in a session.
    Record,
    /// A user account.
    User,
    /// A course (a lesson title and its teacher).
    Course,
    /// A student's appeal of a record (or one no longer open).
    Appeal,
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Entity::Session => "session",
            Entity::Record => "record",
            Entity::User => "user",
            Entity::Course => "course",
            Entity::Appeal => "appeal",
        })
    }
}

/// Why an input was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Nothing was given.
    Empty,
    /// Shorter than the minimum number of characters.
    TooShort {
        /// The minimum, in characters.
        min: usize,
    },
    /// Longer than the maximum number of characters.
    TooLong {
        /// The maximum, in characters.
        max: usize,
    },
    /// Not of the expected shape.
    Malformed,
    /// Holds control characters (NUL and the like), which no one types.
    ControlCharacters,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Empty => f.write_str("empty"),
            Problem::TooShort { min } => write!(f, "shorter than {min} characters"),
            Problem::TooLong { max } => write!(f, "longer than {max} characters"),
            Problem::Malformed => f.write_str("malformed"),
            Problem::ControlCharacters => f.write_str("holds control characters"),
        }
    }
}

impl Error {
    /// An `InvalidInput` for `field`.
    pub fn invalid(field: &'static str, problem: Problem) -> Self {
        Error::InvalidInput { field, problem }
    }

    /// True when the error comes from a dependency being down rather than from the request.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Error::Database(_) | Error::Live(_) | Error::PortalUnavailable
        )
    }

    /// The store this error came from, if a store caused it.
    pub fn store(&self) -> Option<crate::metrics::Store> {
        use crate::metrics::Store;
        match self {
            Error::Database(_) => Some(Store::Database),
            Error::Live(_) | Error::CorruptLiveData(_) => Some(Store::Live),
            _ => None,
        }
    }
}
