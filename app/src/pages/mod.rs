//! One module per page: its components, its server functions, and its server-only helpers in
//! a `mod ssr`.

pub mod admin;
pub mod course;
pub mod courses;
pub mod find;
pub mod history;
pub mod home;
pub mod join;
pub mod live;
pub mod login;
pub mod me;
pub mod not_found;
pub mod past_session;
pub mod receipt;
pub mod teach;
