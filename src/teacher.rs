//! What teachers do. For now: today's lessons from the timetable, with the one to take
//! attendance for suggested.

use chrono::{DateTime, Utc};

use crate::auth::Caller;
use crate::context::Ctx;
use crate::error::Result;
use crate::identity::Lesson;
use crate::identity::timetable::{suggested_lesson, todays_lessons};

/// Today's lessons of a teacher, by start time, and which of them is suggested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Today {
    /// The lessons on today's date in the configured zone.
    pub lessons: Vec<Lesson>,
    /// Index into `lessons` of the lesson running now or starting within 15 minutes.
    pub suggested: Option<usize>,
    /// When this was worked out.
    pub now: DateTime<Utc>,
}

/// Today's lessons among `timetable` (read from the portal at login). Teachers only.
pub fn todays_lessons_of(
    ctx: &Ctx,
    caller: Option<&Caller>,
    timetable: &[Lesson],
) -> Result<Today> {
    Caller::require_teacher(caller)?;
    let now = ctx.clock.now();
    let lessons = todays_lessons(timetable, now, ctx.config.timezone);
    let suggested =
        suggested_lesson(&lessons, now).and_then(|s| lessons.iter().position(|l| *l == s));
    Ok(Today {
        lessons,
        suggested,
        now,
    })
}
