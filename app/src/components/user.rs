//! Who is logged in: the type the header and the pages share, and the server function that
//! tells it.

use attn_types::Role;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The logged-in person, as the header shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedInUser {
    /// School number (or demo account name).
    pub school_number: String,
    /// Name as the portal spells it.
    pub full_name: String,
    /// Student or teacher, as the portal says.
    pub role: Role,
    /// Named in ATTN_ADMINS.
    pub is_admin: bool,
}

impl LoggedInUser {
    /// The role's name, admins first.
    pub fn role_text(&self) -> &'static str {
        match (self.is_admin, self.role) {
            (true, _) => t!(role_admin),
            (false, Role::Teacher | Role::Admin) => t!(role_teacher),
            (false, Role::Student) => t!(role_student),
        }
    }
}

/// Who is logged in, if anyone. Anyone may call it.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<LoggedInUser>, AppError> {
    let (_, _, caller) = crate::ssr::current().await.map_err(crate::ssr::fail)?;
    Ok(caller.map(|c| LoggedInUser {
        role: c.role,
        school_number: c.school_number,
        full_name: c.full_name,
        is_admin: c.is_admin,
    }))
}

/// The logged-in user, loaded once per page and shared by the header and the page.
pub type UserResource = Resource<Result<Option<LoggedInUser>, AppError>>;

/// The page's [`UserResource`], provided by the app.
pub fn use_user() -> UserResource {
    expect_context::<UserResource>()
}
