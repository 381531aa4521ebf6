//! Small view pieces shared by pages.

pub mod format;
pub mod guard;
pub mod header;
pub mod notes;
pub mod server_status;
pub mod session_panel;
pub mod wording;
