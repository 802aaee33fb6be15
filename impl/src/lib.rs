//! Quorate's protocols as deterministic, sans-IO stateright actors, generic over crypto,
//! together with the shared pieces they are built from: crypto, quorum thresholds and the
//! trace format (DESIGN §3).

pub mod calibration;
pub mod component;
pub mod crypto;
pub mod oxii;
pub mod paxos;
pub mod pbft;
pub mod quorum;
pub mod symmetry;
pub mod trace;
pub mod xov;
