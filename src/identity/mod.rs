//! Who a person is: the university portal (AKSIS) or, to try ATTN without the portal, demo
//! accounts. Either answers a username and password with the person's name, role, photo and
//! timetable.

mod aksis;
mod demo;
pub mod timetable;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::Role;
use crate::error::Result;

pub use aksis::{AksisClient, AksisConfig};
pub use demo::DemoAccounts;
pub use timetable::Lesson;

/// A person as the portal describes them right after logging in.
#[derive(Clone, PartialEq, Eq)]
pub struct PortalUser {
    /// School number (students) or the username the teacher logged in with.
    pub school_number: String,
    /// Name as the portal spells it.
    pub full_name: String,
    /// Student or teacher.
    pub role: Role,
    /// The portal photo (students), kept only in the login session.
    pub photo: Option<Vec<u8>>,
    /// The person's timetable.
    pub lessons: Vec<Lesson>,
}

impl std::fmt::Debug for PortalUser {
    // Never print the photo: it must not end up in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalUser")
            .field("school_number", &self.school_number)
            .field("full_name", &self.full_name)
            .field("role", &self.role)
            .field("photo_bytes", &self.photo.as_ref().map(Vec::len))
            .field("lessons", &self.lessons.len())
            .finish()
    }
}

/// Checks a username and password.
#[async_trait]
pub trait IdentityProvider: Send + Sync + std::fmt::Debug + 'static {
    /// The person behind the credentials, or `WrongCredentials`, `PortalUnavailable`,
    /// `PortalChanged`.
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<PortalUser>;
}

/// Demo accounts when enabled, the portal for everyone else.
#[derive(Debug)]
pub struct Identity {
    demo: Option<DemoAccounts>,
    portal: AksisClient,
}

impl Identity {
    /// Demo accounts (if any) in front of the portal.
    pub fn new(demo: Option<DemoAccounts>, portal: AksisClient) -> Self {
        Self { demo, portal }
    }
}

#[async_trait]
impl IdentityProvider for Identity {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<PortalUser> {
        match &self.demo {
            Some(demo) if demo.owns(username) => demo.authenticate(username, password, now).await,
            _ => self.portal.authenticate(username, password, now).await,
        }
    }
}
