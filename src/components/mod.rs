//! Small view pieces shared by pages.

pub mod format;
pub mod guard;
pub mod header;
pub mod notes;
pub mod session_panel;
