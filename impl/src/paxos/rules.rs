//! Honest Multi-Paxos and its deliberately broken variants (DESIGN §3 "Rules as a type
//! parameter"). Deployment names only [`Honest`]; the model also instantiates the mutants, and a
//! test shows the checker finds each one's counterexample.

use crate::quorum;
use std::fmt::Debug;
use std::hash::Hash;

/// The rule choices a mutant may change. Every default is the honest rule.
pub trait Rules:
    Clone + Debug + Default + PartialEq + Eq + PartialOrd + Ord + Hash + Send + Sync + 'static
{
    /// Name used by `quorate check --mutant`.
    const NAME: &'static str;
    /// What this variant breaks, for `--list-mutants` and reports.
    const SUMMARY: &'static str;

    /// Votes (own included) that make a phase-1 or phase-2 quorum among `n` replicas.
    fn quorum(n: usize) -> usize {
        quorum::crash_majority(n)
    }

    /// Whether a new leader re-proposes, per slot, the value with the highest accepted ballot
    /// among the promises (the rule that makes Paxos safe across leaders).
    const ADOPT_HIGHEST_ACCEPTED: bool = true;

    /// Whether an acceptor saves its promise before the PROMISE that depends on it is released.
    const SAVE_PROMISE: bool = true;

    /// Whether a catching-up learner takes only entries certified as chosen.
    const VERIFY_CATCH_UP: bool = true;

    /// Whether duplicates are suppressed: a leader does not propose a request already queued or
    /// in flight, and execution skips a request already executed (a retry ordered twice).
    const DEDUPE: bool = true;

    /// Whether installing a peer's snapshot takes its application state along with its position.
    const INSTALL_SNAPSHOT_STATE: bool = true;

    /// Whether a replica answers a request that writes nothing from its own state at once,
    /// without ordering it (reads served locally, with no lease).
    const LOCAL_READS: bool = false;
}

/// The protocol as specified.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Honest;

impl Rules for Honest {
    const NAME: &'static str = "honest";
    const SUMMARY: &'static str = "Multi-Paxos as specified";
}

/// Quorums one smaller than a majority: two leaders can both reach "quorum" without overlapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SmallQuorum;

impl Rules for SmallQuorum {
    const NAME: &'static str = "small-quorum";
    const SUMMARY: &'static str = "phase-1 and phase-2 quorums one smaller than a majority";

    fn quorum(n: usize) -> usize {
        quorum::crash_majority(n) - 1
    }
}

/// A new leader ignores the values reported in promises and fills those slots with no-ops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IgnorePromisedValues;

impl Rules for IgnorePromisedValues {
    const NAME: &'static str = "ignore-promised-values";
    const SUMMARY: &'static str = "phase 1 does not adopt the highest accepted value per slot";
    const ADOPT_HIGHEST_ACCEPTED: bool = false;
}

/// An acceptor replies to PREPARE without first saving its promise, so a crash forgets it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnsavedPromise;

impl Rules for UnsavedPromise {
    const NAME: &'static str = "unsaved-promise";
    const SUMMARY: &'static str = "a promise is not saved before the PROMISE is sent";
    const SAVE_PROMISE: bool = false;
}

/// A learner catching up takes an acceptor's merely-accepted entries as chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnverifiedCatchUp;

impl Rules for UnverifiedCatchUp {
    const NAME: &'static str = "unverified-catch-up";
    const SUMMARY: &'static str = "a catching-up learner skips verifying that entries were chosen";
    const VERIFY_CATCH_UP: bool = false;
}

/// No duplicate suppression: a client's retry reaching the leader is ordered and executed again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NoDedup;

impl Rules for NoDedup {
    const NAME: &'static str = "no-dedup";
    const SUMMARY: &'static str =
        "a retried request is proposed again while in flight and executed again once chosen";
    const DEDUPE: bool = false;
}

/// Installing a snapshot moves the replica's position but keeps its own, older state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SnapshotPositionOnly;

impl Rules for SnapshotPositionOnly {
    const NAME: &'static str = "snapshot-position-only";
    const SUMMARY: &'static str =
        "installing a snapshot advances the position but keeps the replica's own stale state";
    const INSTALL_SNAPSHOT_STATE: bool = false;
}

/// Any replica answers a read from its own state without ordering it: a follower behind the
/// leader returns a value older than a write that already completed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalReads;

impl Rules for LocalReads {
    const NAME: &'static str = "local-reads";
    const SUMMARY: &'static str =
        "any replica answers a read-only request from its own state, unordered (no lease)";
    const LOCAL_READS: bool = true;
}
