//! A compact linearizability checker for the key-value register workload (check 3).
//!
//! stateright's `LinearizabilityTester` searches every interleaving of the whole history and
//! treats a client's second invocation as an error, so it is neither scalable nor fit for
//! retries (design-review §17). Key-value operations on distinct keys commute, so a history of
//! single-key operations is linearizable iff each key's sub-history is (locality, Herlihy &
//! Wing). Per key this runs the Wing–Gong search with memoisation of (set of linearized
//! operations, register value) — Lowe's improvement — which is fast while few operations on one
//! key overlap. Operations that never returned (timed out, or the run ended) are
//! indeterminate: they may take effect at any point after their invocation, or never.
//!
//! No maintained Rust crate offers a Porcupine-style checker over our types; this one is ~150
//! lines and tested against hand-made histories below and in `tests/linearizability.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use quorate_spec::{Key, KvOp, KvResult};

/// Values of the register (as `quorate_spec::Value`).
type Value = i64;

/// One client operation on the register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The client.
    pub client: u32,
    /// When it was invoked (a position in the run's global order).
    pub invoked: u64,
    /// When its result came back, with the result (`None`: indeterminate).
    pub returned: Option<(u64, KvResult)>,
    /// The operation.
    pub op: KvOp,
}

/// Why a history is not linearizable, or cannot be checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinearizabilityError {
    /// No order of key `key`'s operations explains their results.
    NotLinearizable {
        /// The key.
        key: u32,
        /// How many operations touched it.
        operations: usize,
    },
    /// The search gave up after this many states on one key.
    TooHard {
        /// The key.
        key: u32,
    },
}

impl fmt::Display for LinearizabilityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinearizabilityError::NotLinearizable { key, operations } => write!(
                f,
                "the {operations} operations on key {key} have no linearization consistent with their results"
            ),
            LinearizabilityError::TooHard { key } => {
                write!(f, "key {key}: the search exceeded its state budget")
            }
        }
    }
}

impl std::error::Error for LinearizabilityError {}

/// The search's budget of memoised states per key.
const STATE_BUDGET: usize = 2_000_000;

fn key_of(op: &KvOp) -> Key {
    match op {
        KvOp::Put(k, _) | KvOp::Get(k) | KvOp::Delete(k) => *k,
    }
}

/// The register's step: the result `op` gives from `value`, and the value after it.
fn apply(op: &KvOp, value: Option<Value>) -> (KvResult, Option<Value>) {
    match op {
        KvOp::Put(_, v) => (KvResult::Written, Some(*v)),
        KvOp::Get(_) => (KvResult::Read(value), value),
        KvOp::Delete(_) => (KvResult::Deleted, None),
    }
}

/// Checks `history`; returns how many search states were visited in all.
pub fn check(history: &[Operation]) -> Result<u64, LinearizabilityError> {
    let mut by_key: BTreeMap<Key, Vec<&Operation>> = BTreeMap::new();
    for op in history {
        by_key.entry(key_of(&op.op)).or_default().push(op);
    }
    let mut visited = 0;
    for (key, ops) in by_key {
        visited += check_key(key.0, &ops)?;
    }
    Ok(visited)
}

fn check_key(key: u32, ops: &[&Operation]) -> Result<u64, LinearizabilityError> {
    let n = ops.len();
    let done_at = |i: usize| ops[i].returned.as_ref().map_or(u64::MAX, |(t, _)| *t);
    let must = (0..n).filter(|&i| ops[i].returned.is_some()).count();
    // Depth-first over (linearized set, value); a set is a bit vector.
    let mut seen: BTreeSet<(Vec<u64>, Option<Value>)> = BTreeSet::new();
    let mut stack: Vec<(Vec<u64>, Option<Value>, usize)> = vec![(vec![0; n.div_ceil(64)], None, 0)];
    while let Some((set, value, completed)) = stack.pop() {
        if completed == must {
            return Ok(seen.len() as u64);
        }
        if !seen.insert((set.clone(), value)) {
            continue;
        }
        if seen.len() > STATE_BUDGET {
            return Err(LinearizabilityError::TooHard { key });
        }
        let has = |i: usize| set[i / 64] >> (i % 64) & 1 == 1;
        // An operation may go next only if it was invoked before every pending completed
        // operation returned (otherwise real-time order puts that one first).
        let horizon = (0..n)
            .filter(|&i| !has(i) && ops[i].returned.is_some())
            .map(done_at)
            .min()
            .unwrap_or(u64::MAX);
        for i in 0..n {
            if has(i) || ops[i].invoked > horizon {
                continue;
            }
            let (result, next) = apply(&ops[i].op, value);
            let completes = match &ops[i].returned {
                Some((_, expected)) if *expected != result => continue,
                Some(_) => 1,
                None => 0,
            };
            let mut next_set = set.clone();
            next_set[i / 64] |= 1 << (i % 64);
            stack.push((next_set, next, completed + completes));
        }
    }
    Err(LinearizabilityError::NotLinearizable { key, operations: n })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(client: u32, invoked: u64, returned: Option<(u64, KvResult)>, op: KvOp) -> Operation {
        Operation {
            client,
            invoked,
            returned,
            op,
        }
    }

    #[test]
    fn sequential_history_is_linearizable() {
        let h = [
            op(1, 0, Some((1, KvResult::Written)), KvOp::Put(Key(0), 5)),
            op(2, 2, Some((3, KvResult::Read(Some(5)))), KvOp::Get(Key(0))),
        ];
        assert!(check(&h).is_ok());
    }

    #[test]
    fn stale_read_after_a_completed_write_is_not() {
        let h = [
            op(1, 0, Some((1, KvResult::Written)), KvOp::Put(Key(0), 5)),
            op(2, 2, Some((3, KvResult::Read(None))), KvOp::Get(Key(0))),
        ];
        assert_eq!(
            check(&h),
            Err(LinearizabilityError::NotLinearizable {
                key: 0,
                operations: 2
            })
        );
    }

    #[test]
    fn overlapping_operations_may_go_either_way() {
        let h = [
            op(1, 0, Some((3, KvResult::Written)), KvOp::Put(Key(0), 5)),
            op(2, 1, Some((2, KvResult::Read(None))), KvOp::Get(Key(0))),
        ];
        assert!(check(&h).is_ok());
    }

    #[test]
    fn a_timed_out_write_may_or_may_not_have_happened() {
        let took_effect = [
            op(1, 0, None, KvOp::Put(Key(3), 7)),
            op(2, 5, Some((6, KvResult::Read(Some(7)))), KvOp::Get(Key(3))),
        ];
        assert!(check(&took_effect).is_ok());
        let did_not = [
            op(1, 0, None, KvOp::Put(Key(3), 7)),
            op(2, 5, Some((6, KvResult::Read(None))), KvOp::Get(Key(3))),
        ];
        assert!(check(&did_not).is_ok());
        let invented = [
            op(1, 0, None, KvOp::Put(Key(3), 7)),
            op(2, 5, Some((6, KvResult::Read(Some(8)))), KvOp::Get(Key(3))),
        ];
        assert!(check(&invented).is_err());
    }

    #[test]
    fn keys_are_checked_separately() {
        let h = [
            op(1, 0, Some((1, KvResult::Written)), KvOp::Put(Key(0), 1)),
            op(1, 2, Some((3, KvResult::Written)), KvOp::Put(Key(1), 2)),
            op(2, 4, Some((5, KvResult::Read(Some(1)))), KvOp::Get(Key(0))),
            op(2, 6, Some((7, KvResult::Read(Some(1)))), KvOp::Get(Key(1))),
        ];
        assert!(matches!(
            check(&h),
            Err(LinearizabilityError::NotLinearizable { key: 1, .. })
        ));
    }
}
