//! The portal's timetable and the lesson finder: today's lessons, and the one a teacher most
//! likely wants to take attendance for now.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::text::loosely_contains;

/// A lesson from the timetable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lesson {
    /// Lesson title as the portal writes it.
    pub title: String,
    /// Start, UTC.
    pub start: DateTime<Utc>,
    /// End, UTC.
    pub end: DateTime<Utc>,
    /// The teachers' names as the portal writes them ("Dr. Öğr. Üyesi. AD SOYAD").
    pub teachers: String,
}

/// How long before its start a lesson is already suggested.
const SUGGEST_AHEAD: Duration = Duration::minutes(15);

/// The lessons on the calendar day of `now` in `tz`, by start time.
pub fn todays_lessons(lessons: &[Lesson], now: DateTime<Utc>, tz: Tz) -> Vec<Lesson> {
    let today = now.with_timezone(&tz).date_naive();
    let mut found: Vec<Lesson> = lessons
        .iter()
        .filter(|l| l.start.with_timezone(&tz).date_naive() == today)
        .cloned()
        .collect();
    found.sort_by_key(|l| l.start);
    found
}

/// The lesson running at `now`, or else the first one starting within 15 minutes.
pub fn suggested_lesson(lessons: &[Lesson], now: DateTime<Utc>) -> Option<Lesson> {
    let running = lessons
        .iter()
        .filter(|l| l.start <= now && now < l.end)
        .min_by_key(|l| l.start);
    let soon = || {
        lessons
            .iter()
            .filter(|l| now < l.start && l.start <= now + SUGGEST_AHEAD)
            .min_by_key(|l| l.start)
    };
    running.or_else(soon).cloned()
}

/// A teacher's own lessons among a timetable that may list others' too; all of them when none
/// names the teacher.
pub fn lessons_of_teacher(lessons: Vec<Lesson>, teacher_name: &str) -> Vec<Lesson> {
    let own: Vec<Lesson> = lessons
        .iter()
        .filter(|l| loosely_contains(&l.teachers, teacher_name))
        .cloned()
        .collect();
    if own.is_empty() { lessons } else { own }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn lesson(title: &str, h: u32, m: u32, minutes: i64) -> Lesson {
        // Times written in Istanbul (UTC+3), as the portal shows them.
        let start = chrono_tz::Europe::Istanbul
            .with_ymd_and_hms(2026, 11, 23, h, m, 0)
            .unwrap()
            .with_timezone(&Utc);
        Lesson {
            title: title.into(),
            start,
            end: start + Duration::minutes(minutes),
            teachers: "Dr. Öğr. Üyesi. İLKER ŞAHİN".into(),
        }
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        chrono_tz::Europe::Istanbul
            .with_ymd_and_hms(2026, 11, 23, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_running_lesson_is_suggested_else_one_starting_within_15_minutes() {
        let day = vec![lesson("Fizik", 9, 0, 50), lesson("Kimya", 10, 0, 50)];
        assert_eq!(suggested_lesson(&day, at(9, 30)).unwrap().title, "Fizik");
        assert_eq!(suggested_lesson(&day, at(9, 50)).unwrap().title, "Kimya");
        assert_eq!(suggested_lesson(&day, at(8, 46)).unwrap().title, "Fizik");
        assert_eq!(suggested_lesson(&day, at(8, 40)), None);
        assert_eq!(suggested_lesson(&day, at(11, 0)), None);
    }

    #[test]
    fn today_is_the_day_in_istanbul_not_in_utc() {
        // 01:30 in Istanbul is still the previous day in UTC.
        let early = lesson("Gece", 1, 30, 50);
        let tomorrow = Lesson {
            start: early.start + Duration::days(1),
            end: early.end + Duration::days(1),
            ..early.clone()
        };
        let today = todays_lessons(
            &[tomorrow, early.clone()],
            at(8, 0),
            chrono_tz::Europe::Istanbul,
        );
        assert_eq!(today, vec![early]);
    }

    #[test]
    fn a_teacher_sees_their_own_lessons() {
        let mut other = lesson("Kimya", 10, 0, 50);
        other.teachers = "Prof. Dr. AYŞE YILMAZ".into();
        let mine = lesson("Fizik", 9, 0, 50);
        let found = lessons_of_teacher(vec![other.clone(), mine.clone()], "İlker Şahin");
        assert_eq!(found, vec![mine]);
        assert_eq!(lessons_of_teacher(vec![other.clone()], "Nobody").len(), 1);
    }
}
