//! Sizes, CPU amounts and durations as typed values, never bare strings or numbers.
//!
//! Memory and storage are uom `Information` in whole bytes, CPU is millicores,
//! durations are uom `Time` to the millisecond. Each type reads what people
//! type (`512 MiB`, `0.5 cores`, `15 minutes`), refuses what is probably a
//! mistake with a sentence saying what to type, and writes itself the way
//! Kubernetes does (`512Mi`, `500m`, `15m`) through [`Quantity`], a faithful
//! copy of Kubernetes' `resource.Quantity`.

mod bytes;
mod cpu;
mod duration;
mod error;
mod quantity;

pub use bytes::{Memory, Storage};
pub use cpu::Cpu;
pub use duration::Duration;
pub use error::{UnitError, UnitKind};
pub use quantity::{Quantity, QuantityFormat};
