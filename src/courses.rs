//! Courses after class: a course is a lesson title with its teacher (sections of the same title
//! by other teachers are other courses). Its class list, its semester grid of statuses, each
//! student's rate and absences against the course's limit, and the course's settings.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::auth::Caller;
use crate::context::Ctx;
use crate::db::{Attendance, CourseRow, CourseSettingsRow};
use crate::domain::{LateCounts, Role, Status, User};
use crate::error::{Entity, Error, Problem, Result};
use crate::history::{name_or_number, names_of};

/// Share of the sessions a student may miss by default: the common rule for theory classes.
pub const DEFAULT_ABSENCE_LIMIT_PERCENT: u8 = 30;
/// Sessions of a term by default: fourteen weeks, one session a week.
pub const DEFAULT_PLANNED_SESSIONS: u16 = 14;

/// The namespace of course ids (a v5 UUID of the teacher and the lesson title).
const COURSE_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_3d2e_8a4b_4c51_9e07_5b2a_d1c4_e890);

/// The id of a course: the same for the same teacher and lesson title, on every instance and
/// backend, so a course needs no row of its own.
pub fn course_id(teacher: &str, lesson_name: &str) -> Uuid {
    Uuid::new_v5(
        &COURSE_NAMESPACE,
        format!("{teacher}\n{lesson_name}").as_bytes(),
    )
}

/// What a teacher sets for a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CourseSettings {
    /// Share of the sessions a student may miss, in percent (0-100).
    pub absence_limit_percent: u8,
    /// Sessions planned for the term; the limit is a share of these, or of those held if more.
    pub planned_sessions: u16,
    /// How a late arrival counts toward the limit.
    pub late_counts: LateCounts,
}

impl Default for CourseSettings {
    fn default() -> Self {
        Self {
            absence_limit_percent: DEFAULT_ABSENCE_LIMIT_PERCENT,
            planned_sessions: DEFAULT_PLANNED_SESSIONS,
            late_counts: LateCounts::Present,
        }
    }
}

impl CourseSettings {
    fn of_row(row: &CourseSettingsRow) -> Self {
        Self {
            absence_limit_percent: u8::try_from(row.absence_limit_percent.clamp(0, 100))
                .unwrap_or(DEFAULT_ABSENCE_LIMIT_PERCENT),
            planned_sessions: u16::try_from(row.planned_sessions.max(0)).unwrap_or_default(),
            late_counts: row.late_counts,
        }
    }

    /// Absences allowed when `held` sessions standing for `held_units` units (sessions, or
    /// class hours) were held: the limit's share of the planned sessions, taken at the units
    /// per session held so far (or of the units held, when more were held), rounded down.
    pub fn allowed_absences(&self, held: u32, held_units: u32) -> u32 {
        let planned = u32::from(self.planned_sessions);
        let planned_units = (planned * held_units).checked_div(held).unwrap_or(planned);
        planned_units.max(held_units) * u32::from(self.absence_limit_percent) / 100
    }

    /// What one status costs toward the limit, in halves of an absence.
    fn absence_halves(&self, status: Status) -> u32 {
        match status {
            Status::Absent | Status::Failed => 2,
            Status::Late => match self.late_counts {
                LateCounts::Present => 0,
                LateCounts::Half => 1,
                LateCounts::Absent => 2,
            },
            Status::Present | Status::Excused => 0,
        }
    }
}

/// Where a student stands in a course. Everything is counted in the course's unit: sessions,
/// or class hours when its sessions have them (see [`Standing::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    /// Counted in class hours rather than sessions.
    pub by_hours: bool,
    /// Units held.
    pub held: u32,
    /// Present.
    pub present: u32,
    /// Late.
    pub late: u32,
    /// Excused.
    pub excused: u32,
    /// Absent, or failed a check the teacher did not accept.
    pub absent: u32,
    /// Absences counted toward the limit, in halves of a unit (a late arrival may count half).
    pub absence_halves: u32,
    /// Absences the limit allows, in units.
    pub allowed: u32,
    /// What missing one more session costs, in units (its usual class hours).
    pub next_session: u32,
}

/// A student's position against the course's absence limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Risk {
    /// Within the limit, with more than one absence left.
    Fine,
    /// One more absence puts the student over the limit.
    OneMore,
    /// Over the limit.
    Over,
}

impl Standing {
    /// The standing over the sessions held, each with its status and class hours. When any
    /// session has class hours, the course counts hours (a session without them is one hour);
    /// otherwise it counts sessions.
    pub fn new(
        settings: &CourseSettings,
        sessions: impl IntoIterator<Item = (Status, Option<u8>)>,
    ) -> Self {
        let sessions: Vec<(Status, Option<u8>)> = sessions.into_iter().collect();
        let by_hours = sessions.iter().any(|(_, hours)| hours.is_some());
        let weight = |hours: Option<u8>| {
            if by_hours {
                u32::from(hours.unwrap_or(1).max(1))
            } else {
                1
            }
        };
        let mut s = Standing {
            by_hours,
            ..Standing::default()
        };
        for &(status, hours) in &sessions {
            let w = weight(hours);
            s.held += w;
            match status {
                Status::Present => s.present += w,
                Status::Late => s.late += w,
                Status::Excused => s.excused += w,
                Status::Absent | Status::Failed => s.absent += w,
            }
            s.absence_halves += settings.absence_halves(status) * w;
        }
        let count = u32::try_from(sessions.len()).unwrap_or(u32::MAX);
        s.allowed = settings.allowed_absences(count, s.held);
        s.next_session = ((s.held + count / 2).checked_div(count).unwrap_or(1)).max(1);
        s
    }

    /// Sessions attended (present or late) in whole percent of those held, excused ones left
    /// out of both (0 with none).
    pub fn rate_percent(&self) -> u32 {
        let counted = self.held - self.excused;
        ((self.present + self.late) * 100 + counted / 2)
            .checked_div(counted)
            .unwrap_or(0)
    }

    /// Absences counted toward the limit, as shown ("2", "2.5").
    pub fn absences_text(&self) -> String {
        if self.absence_halves.is_multiple_of(2) {
            (self.absence_halves / 2).to_string()
        } else {
            format!("{}.5", self.absence_halves / 2)
        }
    }

    /// Whole units of absence still allowed before the limit is passed (0 once over).
    pub fn absences_left(&self) -> u32 {
        (self.allowed * 2).saturating_sub(self.absence_halves) / 2
    }

    /// Over the limit, one missed session away from it, or fine.
    pub fn risk(&self) -> Risk {
        let allowed = self.allowed * 2;
        if self.absence_halves > allowed {
            Risk::Over
        } else if self.absence_halves + 2 * self.next_session > allowed {
            Risk::OneMore
        } else {
            Risk::Fine
        }
    }
}

/// A course in a teacher's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseSummary {
    /// Its id.
    pub id: Uuid,
    /// Lesson title.
    pub lesson_name: String,
    /// Owner.
    pub teacher_school_number: String,
    /// Sessions held (kept ones).
    pub sessions: u64,
    /// Students on its class list.
    pub class_size: u64,
}

/// The caller's courses (teachers), or every course (admins), by lesson title: those with
/// sessions and those with only an uploaded class list so far.
pub async fn courses(ctx: &Ctx, caller: Option<&Caller>) -> Result<Vec<CourseSummary>> {
    let caller = Caller::require(caller, |c| c.is_admin || c.role == Role::Teacher)?;
    let teacher = (!caller.is_admin).then_some(caller.school_number.as_str());
    let sizes = ctx.db.course_class_sizes(teacher).await?;
    let mut rows = ctx.db.courses(teacher).await?;
    let listed = ctx.db.class_list_courses(teacher).await?;
    let mut out = Vec::with_capacity(rows.len() + listed.len());
    for row in &mut rows {
        let key = (row.teacher_school_number.clone(), row.lesson_name.clone());
        let mut class_size = sizes.get(&key).copied().unwrap_or_default();
        if listed
            .iter()
            .any(|l| l.teacher_school_number == key.0 && l.lesson_name == key.1)
        {
            class_size = ctx.db.class_list_numbers(&key.0, &key.1).await?.len() as u64;
        }
        out.push(summary(row.clone(), class_size));
    }
    for l in listed {
        let known = rows.iter().any(|r| {
            r.teacher_school_number == l.teacher_school_number && r.lesson_name == l.lesson_name
        });
        if !known {
            let size = l.sessions;
            out.push(summary(CourseRow { sessions: 0, ..l }, size));
        }
    }
    out.sort_by(|a, b| {
        crate::text::fold(&a.lesson_name)
            .cmp(&crate::text::fold(&b.lesson_name))
            .then_with(|| a.teacher_school_number.cmp(&b.teacher_school_number))
    });
    Ok(out)
}

/// What importing a class list did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// The course.
    pub course_id: Uuid,
    /// Students the file lists.
    pub listed: usize,
    /// Of those, the ones not on the class list before.
    pub added: u64,
}

/// Puts the students of a class list file (CSV or XLSX, see [`crate::import`]) on the class
/// list of the caller's course `lesson_name` (made if it has no session yet). A bad file
/// changes nothing and names its first bad row; importing the same file again adds nothing.
/// Teachers only.
pub async fn import_class_list(
    ctx: &Ctx,
    caller: Option<&Caller>,
    lesson_name: &str,
    file: &[u8],
) -> Result<Imported> {
    let teacher = Caller::require_teacher(caller)?;
    let lesson_name = crate::teacher::lesson_title(lesson_name)?;
    let students = crate::import::class_list(file)?;
    let users: Vec<User> = students
        .iter()
        .map(|s| User {
            school_number: s.number.to_string(),
            full_name: s.name.clone(),
            role: Role::Student,
        })
        .collect();
    let added = ctx
        .db
        .add_to_class_list(
            &teacher.school_number,
            &lesson_name,
            &users,
            &teacher.school_number,
            ctx.clock.now(),
        )
        .await?;
    Ok(Imported {
        course_id: course_id(&teacher.school_number, &lesson_name),
        listed: users.len(),
        added,
    })
}

/// Puts one student on the class list of the caller's course, by school number (named as the
/// database knows them, else by the number). Its teacher only.
pub async fn add_listed_student(
    ctx: &Ctx,
    caller: Option<&Caller>,
    id: &str,
    number: &str,
) -> Result<bool> {
    let number = crate::domain::SchoolNumber::parse(number)?;
    let course = visible(ctx, caller, id).await?;
    let teacher = Caller::require_teacher(caller)?;
    if course.teacher_school_number != teacher.school_number {
        return Err(Error::Forbidden);
    }
    let names = names_of(ctx, &[number.to_string()]).await?;
    let student = User {
        full_name: name_or_number(&names, number.as_str()),
        school_number: number.to_string(),
        role: Role::Student,
    };
    let added = ctx
        .db
        .add_to_class_list(
            &course.teacher_school_number,
            &course.lesson_name,
            std::slice::from_ref(&student),
            &teacher.school_number,
            ctx.clock.now(),
        )
        .await?;
    Ok(added == 1)
}

fn summary(row: CourseRow, class_size: u64) -> CourseSummary {
    CourseSummary {
        id: course_id(&row.teacher_school_number, &row.lesson_name),
        lesson_name: row.lesson_name,
        teacher_school_number: row.teacher_school_number,
        sessions: row.sessions,
        class_size,
    }
}

/// The course with id `id` the caller may see: their own (teachers), any (admins). Another
/// teacher's course is `Forbidden`, an unknown one `NotFound`. Only this course's class is
/// counted.
pub(crate) async fn visible(ctx: &Ctx, caller: Option<&Caller>, id: &str) -> Result<CourseSummary> {
    let caller = Caller::require(caller, |c| c.is_admin || c.role == Role::Teacher)?;
    let id =
        Uuid::parse_str(id.trim()).map_err(|_| Error::invalid("course", Problem::Malformed))?;
    let is = |c: &CourseRow| course_id(&c.teacher_school_number, &c.lesson_name) == id;
    // A teacher's own courses first; everyone's only to tell "another teacher's" from "none".
    let scope = (!caller.is_admin).then_some(caller.school_number.as_str());
    let found = match ctx.db.courses(scope).await?.into_iter().find(is) {
        Some(row) => Some(row),
        None => ctx
            .db
            .class_list_courses(scope)
            .await?
            .into_iter()
            .find(is)
            .map(|row| CourseRow { sessions: 0, ..row }),
    };
    let Some(row) = found else {
        if scope.is_some() {
            let mut anyone = ctx.db.courses(None).await?;
            anyone.extend(ctx.db.class_list_courses(None).await?);
            if anyone.iter().any(is) {
                return Err(Error::Forbidden);
            }
        }
        return Err(Error::NotFound(Entity::Course));
    };
    let class_size = ctx
        .db
        .class_list_numbers(&row.teacher_school_number, &row.lesson_name)
        .await?
        .len() as u64;
    Ok(summary(row, class_size))
}

/// The settings of a course (the defaults when never changed).
async fn settings_of(ctx: &Ctx, id: Uuid) -> Result<CourseSettings> {
    Ok(ctx
        .db
        .course_settings(id)
        .await?
        .as_ref()
        .map(CourseSettings::of_row)
        .unwrap_or_default())
}

/// Changes a course's settings. Its teacher only.
pub async fn set_course_settings(
    ctx: &Ctx,
    caller: Option<&Caller>,
    id: &str,
    settings: CourseSettings,
) -> Result<()> {
    let course = visible(ctx, caller, id).await?;
    let teacher = Caller::require_teacher(caller)?;
    if course.teacher_school_number != teacher.school_number {
        return Err(Error::Forbidden);
    }
    if settings.absence_limit_percent > 100 {
        return Err(Error::invalid("absence_limit", Problem::Malformed));
    }
    if !(1..=200).contains(&settings.planned_sessions) {
        return Err(Error::invalid("planned_sessions", Problem::Malformed));
    }
    ctx.db
        .put_course_settings(&CourseSettingsRow {
            course_id: course.id,
            teacher_school_number: course.teacher_school_number,
            lesson_name: course.lesson_name,
            absence_limit_percent: i16::from(settings.absence_limit_percent),
            planned_sessions: i16::try_from(settings.planned_sessions).unwrap_or(i16::MAX),
            late_counts: settings.late_counts,
            updated_at: ctx.clock.now(),
            updated_by: teacher.school_number.clone(),
        })
        .await
}

/// Which rows of the grid to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GridFilter {
    /// Only students over the limit or one absence from it.
    pub at_risk_only: bool,
    /// Sessions on or after this day (in the configured zone).
    pub from: Option<NaiveDate>,
    /// Sessions on or before this day.
    pub to: Option<NaiveDate>,
    /// How rows are sorted.
    pub sort: GridSort,
}

/// How the grid's rows are sorted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GridSort {
    /// By name.
    #[default]
    Name,
    /// By school number.
    Number,
    /// Most absences first.
    Absences,
}

/// One student's row of the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridRow {
    /// The student.
    pub student: User,
    /// One cell per session of the grid, in its order (`None`: no record, counted absent).
    pub cells: Vec<Option<Status>>,
    /// Where the student stands over the sessions shown.
    pub standing: Standing,
}

/// The semester grid of a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    /// The course.
    pub course: CourseSummary,
    /// Its teacher's name.
    pub teacher_name: String,
    /// Its settings.
    pub settings: CourseSettings,
    /// Its sessions in the date range, oldest first.
    pub sessions: Vec<Attendance>,
    /// Students present or late in each session, in the same order.
    pub present_per_session: Vec<u32>,
    /// The rows the filter kept.
    pub rows: Vec<GridRow>,
    /// Students on the class list (before filtering).
    pub class_size: usize,
    /// The limit counts class hours, not sessions (the sessions have class hours).
    pub by_hours: bool,
    /// Absences the limit allows so far, in its unit.
    pub allowed: u32,
}

/// The students × sessions grid of a course with each student's rate and absences. The
/// course's teacher and admins.
pub async fn course_grid(
    ctx: &Ctx,
    caller: Option<&Caller>,
    id: &str,
    filter: &GridFilter,
) -> Result<Grid> {
    let course = visible(ctx, caller, id).await?;
    let settings = settings_of(ctx, course.id).await?;
    let tz = ctx.config.timezone;
    let day = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
    let sessions: Vec<Attendance> = ctx
        .db
        .course_sessions(&course.teacher_school_number, &course.lesson_name)
        .await?
        .into_iter()
        .filter(|a| filter.from.is_none_or(|from| day(a.start_time) >= from))
        .filter(|a| filter.to.is_none_or(|to| day(a.start_time) <= to))
        .collect();
    let ids: Vec<Uuid> = sessions.iter().map(|a| a.id).collect();
    let hours: Vec<Option<u8>> = sessions.iter().map(class_hours).collect();
    let unit = Standing::new(&settings, hours.iter().map(|h| (Status::Present, *h)));
    let records = ctx.db.records_of_sessions(&ids).await?;
    let column: HashMap<Uuid, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut cells: BTreeMap<String, Vec<Option<Status>>> = BTreeMap::new();
    let mut present_per_session = vec![0u32; ids.len()];
    for r in &records {
        let Some(&i) = column.get(&r.attendance_id) else {
            continue;
        };
        cells
            .entry(r.student_number.clone())
            .or_insert_with(|| vec![None; ids.len()])[i] = Some(r.status);
        if r.status.is_there() {
            present_per_session[i] += 1;
        }
    }
    // Over every session, the records already name everyone seen in one: only those put on
    // the list by hand are left to add. A date range leaves sessions out, so the whole list.
    let (teacher, lesson) = (&course.teacher_school_number, &course.lesson_name);
    let rest = if filter.from.is_none() && filter.to.is_none() {
        ctx.db.listed_students(teacher, lesson).await?
    } else {
        ctx.db.class_list_numbers(teacher, lesson).await?
    };
    for number in rest {
        cells.entry(number).or_insert_with(|| vec![None; ids.len()]);
    }
    let numbers: Vec<String> = cells.keys().cloned().collect();
    let mut people = numbers.clone();
    people.push(course.teacher_school_number.clone());
    let names = names_of(ctx, &people).await?;
    let class_size = numbers.len();
    let mut rows: Vec<GridRow> = cells
        .into_iter()
        .map(|(number, cells)| {
            let standing = Standing::new(
                &settings,
                cells
                    .iter()
                    .zip(&hours)
                    .map(|(c, h)| (c.unwrap_or(Status::Absent), *h)),
            );
            GridRow {
                student: User {
                    full_name: name_or_number(&names, &number),
                    school_number: number,
                    role: Role::Student,
                },
                cells,
                standing,
            }
        })
        .filter(|row| !filter.at_risk_only || row.standing.risk() != Risk::Fine)
        .collect();
    match filter.sort {
        GridSort::Name => rows.sort_by(|a, b| {
            crate::text::fold(&a.student.full_name)
                .cmp(&crate::text::fold(&b.student.full_name))
                .then_with(|| a.student.school_number.cmp(&b.student.school_number))
        }),
        GridSort::Number => {}
        GridSort::Absences => rows.sort_by(|a, b| {
            b.standing
                .absence_halves
                .cmp(&a.standing.absence_halves)
                .then_with(|| a.student.school_number.cmp(&b.student.school_number))
        }),
    }
    Ok(Grid {
        teacher_name: name_or_number(&names, &course.teacher_school_number),
        course,
        settings,
        sessions,
        present_per_session,
        rows,
        class_size,
        by_hours: unit.by_hours,
        allowed: unit.allowed,
    })
}

/// The class hours a persisted session stands for, if its teacher gave them.
pub(crate) fn class_hours(a: &Attendance) -> Option<u8> {
    a.class_hours.and_then(|h| u8::try_from(h).ok())
}

/// The settings of many courses at once, by id (defaults for those never changed).
pub(crate) async fn settings_by_id(
    ctx: &Ctx,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, CourseSettings>> {
    Ok(ctx
        .db
        .course_settings_of(ids)
        .await?
        .iter()
        .map(|row| (row.course_id, CourseSettings::of_row(row)))
        .collect())
}
