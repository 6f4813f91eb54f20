//! Server functions: the browser's typed calls into the control server.
//!
//! Each body is the same four steps: authorize (none yet: bi listens on
//! loopback only) → validate with `bi-model` → call `bi-control` → map to a
//! response type.

pub mod installation;
