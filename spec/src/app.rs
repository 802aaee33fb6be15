//! Applications: pure, deterministic functions from (state, transaction) to reads, writes
//! and an outcome (DESIGN §2, "Transactions and applications").

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Debug};
use std::hash::Hash;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::tx::{AppId, Transaction};

/// A key in the replicated key-value state.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct Key(pub u32);

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "k{}", self.0)
    }
}

/// The value stored under a key.
pub type Value = i64;

/// The key-value state every application runs against; an absent key reads as `None`.
pub type KvState = BTreeMap<Key, Value>;

/// One entry of a write set: an absolute value, a removal, or a delta.
///
/// Deltas are the token model's "optimized account balance" writes (seed 002): they are
/// resolved against the state current at commit time, so two deltas on one key commute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Write {
    /// Store this value.
    Set(Value),
    /// Remove the key.
    Delete,
    /// Add this amount to the current value (an absent key counts as 0).
    Delta(i64),
}

/// Applies a write set to `state`.
///
/// Delta arithmetic wraps (two's complement) so deltas commute for every input; an
/// application that must not overflow (tokens, seed 002) rejects the transaction
/// before it emits the delta, rather than relying on this leaf to fail.
pub fn apply_writes(state: &mut KvState, writes: &BTreeMap<Key, Write>) {
    for (key, write) in writes {
        match *write {
            Write::Set(value) => {
                state.insert(*key, value);
            }
            Write::Delete => {
                state.remove(key);
            }
            Write::Delta(amount) => {
                let current = state.get(key).copied().unwrap_or(0);
                state.insert(*key, current.wrapping_add(amount));
            }
        }
    }
}

/// What executing one transaction produced: the keys it read from the pre-state, the keys
/// it writes, and the application-level outcome (which may record a rejection).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Execution<Out> {
    /// Keys whose pre-state value the transaction observed.
    pub reads: BTreeSet<Key>,
    /// The write set; at most one write per key.
    pub writes: BTreeMap<Key, Write>,
    /// The application's outcome, returned to the client.
    pub output: Out,
}

impl<Out> Execution<Out> {
    /// An execution that read and wrote nothing, only producing `output` (e.g. a rejection).
    pub fn output_only(output: Out) -> Self {
        Self {
            reads: BTreeSet::new(),
            writes: BTreeMap::new(),
            output,
        }
    }
}

/// The bounds every value inside model states and wire messages must meet: cheap to
/// compare, hash and clone, with a canonical serde encoding.
pub trait Data:
    Clone + Debug + Eq + Ord + Hash + Serialize + DeserializeOwned + Send + Sync + 'static
{
}

impl<T> Data for T where
    T: Clone + Debug + Eq + Ord + Hash + Serialize + DeserializeOwned + Send + Sync + 'static
{
}

/// A deterministic application (smart contract) over the key-value state.
///
/// `execute` never fails: an invalid transaction is still ordered and executed, as an
/// output that records the rejection and no writes (seed 001 §5.4.3 puts `(x, "abort")`
/// into the state; order-execute must not let consensus depend on application validity).
pub trait Application: Clone + Debug + Send + Sync + 'static {
    /// One operation of a transaction.
    type Op: Data;
    /// The outcome of executing a whole transaction.
    type Output: Data;

    /// The id that transactions for this application carry.
    fn app_id(&self) -> AppId;

    /// Whether the transaction is syntactically acceptable (checked before ordering).
    fn well_formed(&self, tx: &Transaction<Self::Op>) -> bool;

    /// Executes `tx` against `state`: a pure function of its arguments.
    fn execute(&self, state: &KvState, tx: &Transaction<Self::Op>) -> Execution<Self::Output>;
}

/// Executes `tx` and applies its write set to `state`, returning the outcome.
pub fn execute_and_apply<A: Application>(
    app: &A,
    state: &mut KvState,
    tx: &Transaction<A::Op>,
) -> A::Output {
    let execution = app.execute(state, tx);
    apply_writes(state, &execution.writes);
    execution.output
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn writes(list: &[(u32, Write)]) -> BTreeMap<Key, Write> {
        list.iter().map(|(k, w)| (Key(*k), *w)).collect()
    }

    #[test]
    fn set_and_delete_overwrite_and_remove() {
        let mut state = KvState::new();
        apply_writes(
            &mut state,
            &writes(&[(1, Write::Set(5)), (2, Write::Set(7))]),
        );
        apply_writes(
            &mut state,
            &writes(&[(1, Write::Delete), (2, Write::Set(8))]),
        );
        assert_eq!(state, KvState::from([(Key(2), 8)]));
    }

    #[test]
    fn delta_on_absent_key_starts_from_zero() {
        let mut state = KvState::new();
        apply_writes(&mut state, &writes(&[(3, Write::Delta(-4))]));
        assert_eq!(state.get(&Key(3)), Some(&-4));
        apply_writes(&mut state, &writes(&[(3, Write::Delta(10))]));
        assert_eq!(state.get(&Key(3)), Some(&6));
    }

    #[test]
    fn delete_of_absent_key_is_a_no_op() {
        let mut state = KvState::from([(Key(1), 1)]);
        apply_writes(&mut state, &writes(&[(9, Write::Delete)]));
        assert_eq!(state, KvState::from([(Key(1), 1)]));
    }

    #[test]
    fn output_only_execution_reads_and_writes_nothing() {
        let execution = Execution::output_only("rejected");
        assert!(execution.reads.is_empty());
        assert!(execution.writes.is_empty());
        assert_eq!(execution.output, "rejected");
    }

    /// Any sequence of deltas paired with a random permutation of itself.
    fn deltas_and_shuffle() -> impl Strategy<Value = (Vec<i64>, Vec<i64>)> {
        proptest::collection::vec(any::<i64>(), 0..8)
            .prop_flat_map(|deltas| (Just(deltas.clone()), Just(deltas).prop_shuffle()))
    }

    proptest! {
        /// Delta writes commute: any order of deltas on one key ends in the same value.
        #[test]
        fn deltas_on_one_key_are_order_independent(
            start in proptest::option::of(any::<i64>()),
            (deltas, shuffled) in deltas_and_shuffle(),
        ) {
            let mut initial = KvState::new();
            if let Some(value) = start {
                initial.insert(Key(0), value);
            }
            let run = |order: &[i64]| {
                let mut state = initial.clone();
                for delta in order {
                    apply_writes(&mut state, &writes(&[(0, Write::Delta(*delta))]));
                }
                state
            };
            prop_assert_eq!(run(&deltas), run(&shuffled));
        }
    }
}
