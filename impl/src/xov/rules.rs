//! Honest XOV validation and its deliberately broken variants (DESIGN §3 "Rules as a type
//! parameter"). Deployment names only [`Honest`]; the model instantiates the others and a test
//! shows the checker finds each one's counterexample.

use std::fmt::Debug;
use std::hash::Hash;

/// The validation rule choices a variant may change. Every default is the honest rule.
pub trait Rules:
    Clone + Debug + Default + PartialEq + Eq + PartialOrd + Ord + Hash + Send + Sync + 'static
{
    /// Name used by `quorate check --mutant`.
    const NAME: &'static str;
    /// What this variant breaks.
    const SUMMARY: &'static str;
    /// Whether the MVCC read-version check runs.
    const CHECK_MVCC: bool = true;
    /// Whether invalid transactions' writes are left out of the state.
    const SKIP_INVALID: bool = true;
    /// Whether delta write sets are checked against the token invariants before applying.
    const CHECK_DELTA_INVARIANTS: bool = true;
    /// Whether the endorsement policy is evaluated.
    const CHECK_POLICY: bool = true;
    /// Whether a transaction id may be taken only once (errata 1; card G7).
    const UNIQUE_TXID: bool = true;
}

macro_rules! variant {
    ($(#[$doc:meta])* $name:ident, $cli:literal, $summary:literal $(, $knob:ident = $value:literal)*) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name;

        impl Rules for $name {
            const NAME: &'static str = $cli;
            const SUMMARY: &'static str = $summary;
            $(const $knob: bool = $value;)*
        }
    };
}

variant!(
    /// Fabric's validation with transaction-id uniqueness (the default).
    Honest,
    "honest",
    "XOV validation as specified, transaction ids unique"
);
variant!(
    /// Committing peers never compare read versions.
    SkipMvcc,
    "skip-mvcc",
    "the MVCC read-version check is skipped",
    CHECK_MVCC = false
);
variant!(
    /// Invalid transactions are marked invalid but their writes are applied anyway.
    ApplyInvalid,
    "apply-invalid",
    "writes of transactions marked invalid are applied",
    SKIP_INVALID = false
);
variant!(
    /// Deltas are applied without the non-negativity and supply-cap checks.
    UncheckedDeltas,
    "unchecked-deltas",
    "delta writes are committed without the invariant check",
    CHECK_DELTA_INVARIANTS = false
);
variant!(
    /// Any set of valid endorsement signatures is accepted.
    IgnorePolicy,
    "ignore-policy",
    "an endorsement set that does not satisfy the policy is accepted",
    CHECK_POLICY = false
);
variant!(
    /// Seed 002 literally: the version check is the only replay defence, so a replayed
    /// write-only MINT or delta transfer commits again (card ambiguity 1 / G7).
    SeedLiteral,
    "seed-literal",
    "seed-literal validation: no transaction-id uniqueness, replays stopped only by MVCC",
    UNIQUE_TXID = false
);
