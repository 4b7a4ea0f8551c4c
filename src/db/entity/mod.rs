//! SeaORM models of the three tables. The schema itself is defined by the `migration` crate.

pub mod attendance;
pub mod attendance_record;
pub mod user;
