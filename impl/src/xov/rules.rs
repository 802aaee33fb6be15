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
    /// Whether that commit-time invariant check includes the supply cap (card T4).
    const CHECK_SUPPLY_CAP: bool = true;
    /// Whether the endorsement policy is evaluated.
    const CHECK_POLICY: bool = true;
    /// Whether a transaction id may be taken only once (errata 1; card G7).
    const UNIQUE_TXID: bool = true;
    /// Whether each peer validates a block in its own local order (a rotation by its id)
    /// instead of the delivered order.
    const LOCAL_ORDER: bool = false;
    /// Whether invalid transactions stay in the ledger, marked (Fabric keeps them, §3.4).
    const RECORD_INVALID: bool = true;
    /// Whether a delta write set is checked as a whole and then applied at once (card S3/S4).
    const ATOMIC_APPLY: bool = true;
    /// Whether delta write sets must conserve tokens per transaction (card VS3; off
    /// reproduces the seed, which relies on endorsers alone, card G16).
    const CHECK_TX_CONSERVATION: bool = true;
    /// Whether a delta commit gives its key a new version (card G9).
    const BUMP_DELTA_VERSION: bool = true;
    /// Whether reads of keys the transaction also writes are MVCC-checked (card BD1: off is
    /// "just relaxing MVCC" while keeping absolute writes).
    const CHECK_WRITTEN_READS: bool = true;
    /// Whether endorsers leave reads of keys the transaction changes by a delta out of the
    /// MVCC-checked read set (card G3).
    const EXEMPT_DELTA_READS: bool = true;
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
variant!(
    /// Each peer validates a block's transactions in its own local order (rotated by its id),
    /// as if it had ordered them itself: peers disagree on codes.
    LocalOrder,
    "local-order",
    "each peer validates a block in its own order instead of the delivered one",
    LOCAL_ORDER = true
);
variant!(
    /// Invalid transactions are left out of the ledger instead of kept with their code.
    DropInvalid,
    "drop-invalid",
    "invalid transactions are dropped from the ledger instead of recorded with their code",
    RECORD_INVALID = false
);
variant!(
    /// Card BD4: each delta is applied as soon as it passes on its own; a later failing
    /// delta of the same transaction leaves the earlier ones applied.
    NonAtomicApply,
    "non-atomic-apply",
    "BD4: deltas applied one by one, a failing transaction leaves its earlier deltas applied",
    ATOMIC_APPLY = false
);
variant!(
    /// The seed's rule (card G16): no per-transaction conservation check, so a Byzantine
    /// endorser inside a 1-of-n policy can sign a credit with no debit.
    NoConservationCheck,
    "no-conservation-check",
    "VS3 off (the seed's rule): a delta write set that creates tokens commits",
    CHECK_TX_CONSERVATION = false
);
variant!(
    /// Card BD9: a delta commit keeps the key's old version.
    NoVersionBump,
    "no-version-bump",
    "BD9: delta commits keep the old version, so an ordinary reader of the key is not invalidated",
    BUMP_DELTA_VERSION = false
);
variant!(
    /// Card BD1: MVCC skipped on reads of keys the transaction writes, absolute writes kept.
    RelaxOnly,
    "relax-only",
    "BD1: reads of written keys not MVCC-checked while writes stay absolute (lost update)",
    CHECK_WRITTEN_READS = false
);
variant!(
    /// Endorsers record reads of delta keys as ordinary MVCC-checked reads: delta writes keep
    /// plain MVCC's contention, so a hot-account credit aborts although `Ref` would succeed.
    CheckedDeltaReads,
    "checked-delta-reads",
    "endorsers MVCC-check reads of delta keys, so delta transfers abort spuriously",
    EXEMPT_DELTA_READS = false
);
variant!(
    /// The commit-time check of delta writes keeps non-negativity but forgets the supply cap,
    /// so concurrent mints each endorsed under the cap together exceed it.
    NoSupplyCap,
    "no-supply-cap",
    "the commit-time delta check leaves out the supply cap (card T4)",
    CHECK_SUPPLY_CAP = false
);
