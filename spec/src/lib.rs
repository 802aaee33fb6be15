//! The executable abstract specification of Quorate: *what* the protocols must achieve,
//! stated as small, obviously-correct Rust (DESIGN §2).
//!
//! - [`tx`], [`app`], [`kv`]: transactions and deterministic applications over a
//!   key-value state, with the reference key-value store.
//! - [`ledger`]: the totally ordered log and the sequential reference execution.
//! - [`monitor`]: the safety properties (agreement, validity, consistency), each as an
//!   incremental monitor and as a whole-state check.
//! - [`oxii`]: OXII block dependency graphs, serial block execution and its properties.
//! - [`sequencer`]: the abstract ordering service every consensus protocol must refine.
//! - [`token`], [`xov`]: the token application with delta writes and the execute-order-validate
//!   validation semantics (policies, versions, codes, MVCC).
//!
//! Invariant: this crate performs no I/O and reads no clock or randomness; every function
//! is pure and deterministic. Its types use only `BTreeMap`, `BTreeSet` and `Vec` (never
//! hash-ordered containers), so iteration order and serde encodings are canonical, and
//! they are cheap to clone and hash because they live inside model-checker states.

#![warn(missing_docs)]

pub mod app;
pub mod kv;
pub mod ledger;
pub mod monitor;
pub mod oxii;
pub mod sequencer;
pub mod token;
pub mod tx;
pub mod xov;

pub use app::{
    apply_writes, execute_and_apply, Application, Execution, Key, KvState, Value, Write,
};
pub use kv::{KvOp, KvResult, KvStore};
pub use ledger::{reference_execution, Ledger, ReferenceRun};
pub use monitor::{HasTransactions, HasTxIds, Monitor, Observation, Violation};
pub use sequencer::{refinement_step_ok, refines_sequencer, Sequencer};
pub use tx::{AppId, ClientId, NodeId, Transaction, TxId};
