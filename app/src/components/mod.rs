//! Pieces several pages share: who is logged in, the header, notices from a form post, reason
//! and status texts and local links.

pub mod header;
pub mod notices;
pub mod paths;
pub mod reasons;
pub mod status;
pub mod user;
