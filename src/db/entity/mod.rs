//! SeaORM models of the tables. The schema itself is defined by the `migration` crate.

pub mod appeal;
pub mod attendance;
pub mod attendance_record;
pub mod audit_event;
pub mod class_list_entry;
pub mod course_setting;
pub mod passkey;
pub mod passkey_grant;
pub mod signing_key;
pub mod sweep_fence;
pub mod user;
