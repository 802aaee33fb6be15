//! quorate-model: the `System` model host for the protocol actors, configurations, properties
//! bound to `quorate_spec`, and the check front end as a library (the `quorate` binary in
//! `net/` calls it).
//!
//! Architecture invariant: no I/O beyond writing reports to a caller-supplied writer; the actors
//! checked here are the very ones `net/` deploys.

pub mod calibration;
pub mod check;
pub mod claims;
pub mod coverage;
pub mod deadlock;
pub mod dfs;
mod guard;
pub mod instrument;
pub mod network;
pub mod oxii;
pub mod paxos;
pub mod pbft;
mod refinement;
pub mod registry;
pub mod replay;
mod state;
pub mod stats;
pub mod symmetry;
pub mod system;
pub mod xov;

pub use network::{Envelope, Network, NetworkKind};
pub use system::{ActionOf, System, SystemAction, SystemState, ACTOR_ASSERTION};
