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
