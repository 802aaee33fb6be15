//! quorate-refinement: links the checked model to recorded runs (DESIGN §6).
//!
//! A recorded run — SimHost or real QUIC — is checked three ways: every node's trace replays
//! through the same actor code ([`replay`]); the traces merge by send ids into one causal order
//! ([`merge`]) whose every step is an action of the replay model, with the `always` properties
//! as monitors ([`membership`]); and the outcome matches the spec — committed ledgers against
//! the reference execution, client histories through [`linearizability`] ([`protocol`], with
//! one [`protocol::Refined`] implementation per protocol: [`paxos`], [`pbft`]).
//! The library needs only the actors and the trace lines, so `quorate soak` (in `quorate-net`)
//! uses it; the tests drive SimHost and QUIC runs through `quorate-net`, a dev-dependency.

pub mod linearizability;
pub mod membership;
pub mod merge;
pub mod monitors;
pub mod paxos;
pub mod pbft;
pub mod protocol;
pub mod replay;
pub mod traces;
