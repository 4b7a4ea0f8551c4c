//! ATTN service layer: the domain rules, the ports (database, live store, clock) with their
//! adapters, and the sweep that moves finished sessions into the database.
//!
//! Nothing here knows about Leptos or axum, so its tests compile and run fast.

pub mod admin;
pub mod appeals;
pub mod auth;
pub mod clock;
pub mod codes;
pub mod config;
pub mod context;
pub mod courses;
pub mod db;
pub mod domain;
pub mod error;
pub mod export;
pub mod face;
pub mod history;
pub mod identity;
pub mod import;
pub mod live;
pub mod metrics;
pub mod network;
pub mod notices;
pub mod passkeys;
pub mod receipts;
pub mod sealed;
pub mod student;
pub mod sweep;
pub mod teacher;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;

pub use clock::{Clock, ManualClock, ShiftedClock, SystemClock};
pub use config::Config;
pub use context::Ctx;
pub use db::Db;
pub use error::{Error, Result};
pub use live::LiveStore;
