//! The control server's HTTP JSON API, `/api/v1/…`, used by the `bi` CLI
//! and the live plan viewer. Handlers are thin: validate, call
//! `bi-control`, map to a response.

pub mod events;
