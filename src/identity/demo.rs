//! Demo accounts, so ATTN can be tried without the portal: teachers `demo_teacher_1` to
//! `demo_teacher_10`, students `demo_student_1` to `demo_student_300`, one shared password.
//! Each has a timetable with a lesson running now.

use async_trait::async_trait;
use chrono::{DateTime, Duration, DurationRound, Utc};

use super::{IdentityProvider, Lesson, PortalUser};
use crate::domain::Role;
use crate::error::{Error, Result};

const TEACHERS: u32 = 10;
const STUDENTS: u32 = 300;

/// The demo accounts and their shared password.
#[derive(Clone)]
pub struct DemoAccounts {
    password: String,
    photo: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for DemoAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DemoAccounts")
    }
}

impl DemoAccounts {
    /// Demo accounts that all use `password`.
    pub fn new(password: impl Into<String>) -> Self {
        Self {
            password: password.into(),
            photo: None,
        }
    }

    /// Every demo student's portal photo is read from `photo` at login (for trying the face
    /// check); without it demo students have no photo.
    pub fn with_photo(mut self, photo: Option<std::path::PathBuf>) -> Self {
        self.photo = photo;
        self
    }

    /// True for a username of the demo's form.
    pub fn owns(&self, username: &str) -> bool {
        parse(username).is_some()
    }
}

fn parse(username: &str) -> Option<(Role, u32)> {
    let username = username.trim();
    let (role, n, max) = if let Some(n) = username.strip_prefix("demo_teacher_") {
        (Role::Teacher, n, TEACHERS)
    } else {
        (
            Role::Student,
            username.strip_prefix("demo_student_")?,
            STUDENTS,
        )
    };
    let n: u32 = n.parse().ok()?;
    (1..=max).contains(&n).then_some((role, n))
}

/// A 90-minute lesson that started on the last full half hour before `now`.
fn lesson_now(now: DateTime<Utc>, teacher: u32) -> Lesson {
    let start = now.duration_trunc(Duration::minutes(30)).unwrap_or(now);
    Lesson {
        title: format!("Demo Dersi {teacher}: Yazılım Mühendisliği"),
        start,
        end: start + Duration::minutes(90),
        teachers: format!("Dr. Öğr. Üyesi. DEMO ÖĞRETMEN {teacher}"),
    }
}

#[async_trait]
impl IdentityProvider for DemoAccounts {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<PortalUser> {
        let Some((role, n)) = parse(username) else {
            return Err(Error::WrongCredentials);
        };
        if password != self.password {
            return Err(Error::WrongCredentials);
        }
        let (full_name, lessons) = match role {
            Role::Teacher => (format!("DEMO ÖĞRETMEN {n}"), vec![lesson_now(now, n)]),
            _ => (
                format!("Demo Öğrenci {n}"),
                (1..=TEACHERS).map(|t| lesson_now(now, t)).collect(),
            ),
        };
        Ok(PortalUser {
            school_number: username.trim().to_owned(),
            full_name,
            photo: match (role, &self.photo) {
                (Role::Student, Some(path)) => tokio::fs::read(path).await.ok(),
                _ => None,
            },
            role,
            lessons,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn demo_accounts_log_in_with_the_shared_password_only() {
        let demo = DemoAccounts::new("sınıf-2026");
        let now = Utc::now();
        let teacher = demo
            .authenticate("demo_teacher_10", "sınıf-2026", now)
            .await
            .unwrap();
        assert_eq!(teacher.role, Role::Teacher);
        let lesson = &teacher.lessons[0];
        assert!(lesson.start <= now && now < lesson.end, "a lesson runs now");
        let student = demo
            .authenticate("demo_student_300", "sınıf-2026", now)
            .await
            .unwrap();
        assert_eq!(
            (student.role, student.full_name.as_str()),
            (Role::Student, "Demo Öğrenci 300")
        );
        for (user, pass) in [
            ("demo_student_1", "wrong"),
            ("demo_student_301", "sınıf-2026"),
            ("demo_teacher_0", "sınıf-2026"),
            ("demo_teacher_x", "sınıf-2026"),
        ] {
            assert!(matches!(
                demo.authenticate(user, pass, now).await,
                Err(Error::WrongCredentials)
            ));
        }
        assert!(!demo.owns("1306200001"));
    }
}
