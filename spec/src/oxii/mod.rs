//! OXII, ParBlockchain's order-then-execute-in-parallel paradigm (seed 001 ch.5): what a block
//! means, independent of how executors schedule it.
//!
//! - [`graph`]: the dependency graph of a block from declared read/write sets (§5.3.1), and
//!   execution of one transaction confined to its declared sets (card gap G10).
//! - [`serial`]: the serial reference execution of a block and the properties stated as
//!   predicates over it: serial equivalence, every edge applied in order, τ(A) evidence.
//! - [`accounts`]: the accounting application of the seed's experiments (§5.5).

pub mod accounts;
pub mod graph;
pub mod serial;

pub use accounts::{AccountOp, Accounts};
pub use graph::{execute_declared, AccessSets, DeclaredTx, DepGraph, TxResult};
pub use serial::{
    apply_result, edges_applied_in_order, serial_block, threshold_evidence, SerialRun,
};
