//! Execute-order-validate semantics (card `fabric-xov.md` with its errata): endorsement
//! policies over organisations, versioned state with versions (block, transaction index),
//! read-write sets, Fabric-style validity codes and the MVCC read check.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::app::{Key, KvState, Value, Write};
use crate::token::TokenError;

/// An organisation (trust domain) whose peers endorse.
pub type Org = u8;

/// An endorsement policy: a boolean expression over organisations (card §3.1).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Policy {
    /// A signature of some peer of this organisation.
    Org(Org),
    /// Every sub-policy.
    And(Vec<Policy>),
    /// At least one sub-policy.
    Or(Vec<Policy>),
    /// At least `k` of the sub-policies.
    OutOf(usize, Vec<Policy>),
}

impl Policy {
    /// Whether endorsements from the organisations `signed` satisfy the policy.
    pub fn satisfied_by(&self, signed: &BTreeSet<Org>) -> bool {
        match self {
            Policy::Org(org) => signed.contains(org),
            Policy::And(all) => all.iter().all(|p| p.satisfied_by(signed)),
            Policy::Or(any) => any.iter().any(|p| p.satisfied_by(signed)),
            Policy::OutOf(k, of) => of.iter().filter(|p| p.satisfied_by(signed)).count() >= *k,
        }
    }

    /// Every organisation the policy mentions.
    pub fn orgs(&self) -> BTreeSet<Org> {
        match self {
            Policy::Org(org) => BTreeSet::from([*org]),
            Policy::And(ps) | Policy::Or(ps) | Policy::OutOf(_, ps) => {
                ps.iter().flat_map(Policy::orgs).collect()
            }
        }
    }
}

/// A key's version: the block and the position in it (counting every transaction, valid or
/// not) of the transaction that wrote it last (errata 3). Genesis writes are `(0, 0)`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct Version {
    /// Block number.
    pub block: u64,
    /// Position in the block.
    pub tx: u32,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.block, self.tx)
    }
}

/// The committed world state: each key's value and version.
pub type VersionedState = BTreeMap<Key, (Value, Version)>;

/// The genesis world state: every key at version (0, 0).
pub fn versioned_genesis(genesis: &KvState) -> VersionedState {
    genesis
        .iter()
        .map(|(k, v)| (*k, (*v, Version::default())))
        .collect()
}

/// The values of a versioned state, without versions.
pub fn values(state: &VersionedState) -> KvState {
    state.iter().map(|(k, (v, _))| (*k, *v)).collect()
}

/// What an endorser's simulation produced: the MVCC-checked reads with the version seen
/// (`None` = the key was absent) and the write set.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct RwSet {
    /// Checked reads: key and the version the simulation saw.
    pub reads: BTreeMap<Key, Option<Version>>,
    /// Writes, at most one per key.
    pub writes: BTreeMap<Key, Write>,
}

impl RwSet {
    /// Whether the write set carries a delta (then the commit-time invariants apply).
    pub fn has_delta(&self) -> bool {
        self.writes.values().any(|w| matches!(w, Write::Delta(_)))
    }
}

/// Fabric-style validation codes (Fabric's `TxValidationCode` names, plus the token codes
/// of `token-mvcc-delta.md` §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Code {
    /// Applied.
    Valid,
    /// A signature does not verify or the envelope is malformed.
    BadPayload,
    /// The transaction id was taken by an earlier transaction.
    DuplicateTxid,
    /// The endorsements do not satisfy the policy or do not match.
    EndorsementPolicyFailure,
    /// A read is stale: an earlier valid transaction of the block wrote the key, or the
    /// committed version differs from the one read.
    MvccReadConflict,
    /// A delta would make a balance or hold negative.
    NegativeBalance,
    /// A delta would push the supply above the cap.
    SupplyCapExceeded,
    /// A delta names a key that does not exist.
    MissingAccount,
    /// Checked arithmetic overflowed.
    Overflow,
    /// A delta write set creates or destroys tokens its operations do not mint or burn
    /// (card VS3).
    DeltaConservationFailure,
}

impl Code {
    /// Every code, in the order reports list them.
    pub const ALL: [Code; 10] = [
        Code::Valid,
        Code::BadPayload,
        Code::DuplicateTxid,
        Code::EndorsementPolicyFailure,
        Code::MvccReadConflict,
        Code::NegativeBalance,
        Code::SupplyCapExceeded,
        Code::MissingAccount,
        Code::Overflow,
        Code::DeltaConservationFailure,
    ];

    /// Fabric's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Code::Valid => "VALID",
            Code::BadPayload => "BAD_PAYLOAD",
            Code::DuplicateTxid => "DUPLICATE_TXID",
            Code::EndorsementPolicyFailure => "ENDORSEMENT_POLICY_FAILURE",
            Code::MvccReadConflict => "MVCC_READ_CONFLICT",
            Code::NegativeBalance => "NEGATIVE_BALANCE",
            Code::SupplyCapExceeded => "SUPPLY_CAP_EXCEEDED",
            Code::MissingAccount => "MISSING_ACCOUNT",
            Code::Overflow => "OVERFLOW",
            Code::DeltaConservationFailure => "DELTA_CONSERVATION_FAILURE",
        }
    }
}

impl From<TokenError> for Code {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::MissingAccount(_) => Code::MissingAccount,
            TokenError::InsufficientFunds(_) => Code::NegativeBalance,
            TokenError::SupplyCapExceeded => Code::SupplyCapExceeded,
            TokenError::Overflow => Code::Overflow,
        }
    }
}

/// The MVCC read check (errata 2 and 3): a read of a key written by an earlier valid
/// transaction of the same block conflicts whatever its version; otherwise the version read
/// must equal the committed one exactly (absent and `(0, 0)` are different).
pub fn mvcc_check(
    committed: &VersionedState,
    written_in_block: &BTreeSet<Key>,
    reads: &BTreeMap<Key, Option<Version>>,
) -> Result<(), Code> {
    for (key, seen) in reads {
        if written_in_block.contains(key) {
            return Err(Code::MvccReadConflict);
        }
        if committed.get(key).map(|(_, version)| *version) != *seen {
            return Err(Code::MvccReadConflict);
        }
    }
    Ok(())
}

/// Applies `writes` to the versioned state, stamping every written key with `version`
/// (deltas included, card G9). A delta on an absent key starts from 0, as in
/// [`crate::apply_writes`]; the token invariants reject that before it gets here.
pub fn apply_versioned(
    state: &mut VersionedState,
    writes: &BTreeMap<Key, Write>,
    version: Version,
) {
    for (key, write) in writes {
        match *write {
            Write::Set(value) => {
                state.insert(*key, (value, version));
            }
            Write::Delete => {
                state.remove(key);
            }
            Write::Delta(amount) => {
                let current = state.get(key).map_or(0, |(v, _)| *v);
                state.insert(*key, (current.wrapping_add(amount), version));
            }
        }
    }
}

#[cfg(test)]
#[path = "xov_tests.rs"]
mod tests;
