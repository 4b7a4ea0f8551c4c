//! What students see. For now: a live session as its join link shows it.

use chrono::{DateTime, Utc};

use crate::auth::Caller;
use crate::context::Ctx;
use crate::domain::{SecurityLevel, parse_session_id};
use crate::error::{Entity, Error, Result};

/// A live session as the join page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOverview {
    /// Lesson title.
    pub lesson_name: String,
    /// Teacher's name.
    pub teacher_name: String,
    /// When it closes.
    pub end_time: DateTime<Utc>,
    /// Seconds until it closes (0 once closed).
    pub seconds_left: i64,
    /// How students are checked.
    pub security: SecurityLevel,
}

/// The live session behind a join link. Anyone logged in; `NotFound` for an unknown or
/// persisted session, `InvalidInput` for a malformed id.
pub async fn session_overview(
    ctx: &Ctx,
    caller: Option<&Caller>,
    id: &str,
) -> Result<SessionOverview> {
    Caller::require_any(caller)?;
    let id = parse_session_id(id)?;
    let session = ctx
        .live
        .session(id)
        .await?
        .ok_or(Error::NotFound(Entity::Session))?;
    let now = ctx.clock.now();
    Ok(SessionOverview {
        seconds_left: (session.end_time - now).num_seconds().max(0),
        lesson_name: session.lesson_name,
        teacher_name: session.teacher_full_name,
        end_time: session.end_time,
        security: session.security,
    })
}
