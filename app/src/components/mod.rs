//! Components shared by several pages.

pub mod access;
pub mod addresses;
pub mod change_preview;
pub mod feedback;
pub mod layout;
pub mod text_field;
