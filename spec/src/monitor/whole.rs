//! Whole-state forms of the properties: pure functions over every node's current log,
//! evaluated by the model checker on each reachable state.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use super::{HasTxIds, Violation};
use crate::app::{Application, KvState};
use crate::ledger::{common_prefix_len, reference_execution};
use crate::tx::{NodeId, Transaction, TxId};

/// Agreement and total order (consensus card S1/S2): every two logs are prefix-consistent,
/// i.e. one is a prefix of the other.
///
/// Checking each log against the longest one suffices: two prefixes of one sequence are
/// always prefix-consistent, and the longest log must extend every other.
pub fn agreement<E: Eq + Debug>(logs: &[(NodeId, &[E])]) -> Result<(), Violation> {
    let Some(&(longest_node, longest)) = logs.iter().max_by_key(|(_, log)| log.len()) else {
        return Ok(());
    };
    for &(node, log) in logs {
        let common = common_prefix_len(log, longest);
        if common < log.len() {
            return Err(Violation::new(
                "agreement",
                format!(
                    "node {node} and node {longest_node} differ at index {common}: {:?} vs {:?}",
                    log[common], longest[common]
                ),
            ));
        }
    }
    Ok(())
}

/// Validity and at-most-once (consensus card S3/S4): every transaction in every log was
/// submitted, and no log holds one transaction id twice.
///
/// Pass the logs a node executes; a protocol whose consensus log may order a retried
/// request twice (deduped at execution) passes its log after that dedupe.
pub fn validity<E: HasTxIds>(
    submitted: &BTreeSet<TxId>,
    logs: &[(NodeId, &[E])],
) -> Result<(), Violation> {
    for &(node, log) in logs {
        let mut first_index: BTreeMap<TxId, usize> = BTreeMap::new();
        for (index, entry) in log.iter().enumerate() {
            for id in entry.tx_ids() {
                if !submitted.contains(&id) {
                    return Err(never_submitted(node, id, index as u64));
                }
                if let Some(earlier) = first_index.insert(id, index) {
                    return Err(delivered_twice(node, id, earlier as u64, index as u64));
                }
            }
        }
    }
    Ok(())
}

/// The "validity" violation for a transaction that no client submitted.
pub(super) fn never_submitted(node: NodeId, id: TxId, index: u64) -> Violation {
    Violation::new(
        "validity",
        format!("node {node} delivered {id} at index {index}, but it was never submitted"),
    )
}

/// The "validity" violation for a transaction delivered twice by one node.
pub(super) fn delivered_twice(node: NodeId, id: TxId, first: u64, again: u64) -> Violation {
    Violation::new(
        "validity",
        format!("node {node} delivered {id} twice, at index {first} and at index {again}"),
    )
}

/// Consistency: a node's application state equals the reference execution of its log.
pub fn consistency<A: Application>(
    app: &A,
    node: NodeId,
    log: &[Transaction<A::Op>],
    state: &KvState,
) -> Result<(), Violation> {
    let expected = reference_execution(app, log).state;
    if expected == *state {
        return Ok(());
    }
    // Name the smallest key that differs so the counterexample is readable.
    let keys: BTreeSet<_> = expected.keys().chain(state.keys()).collect();
    let key = keys
        .into_iter()
        .find(|k| expected.get(k) != state.get(k))
        .expect("unequal maps differ at some key");
    Err(Violation::new(
        "consistency",
        format!(
            "node {node} after {} logged transactions has {key} = {:?}, reference execution gives {:?}",
            log.len(),
            state.get(key),
            expected.get(key)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Key;
    use crate::kv::{KvOp, KvStore};
    use proptest::prelude::*;

    #[test]
    fn agreement_accepts_prefixes_and_empty_input() {
        let a = [1, 2, 3];
        assert_eq!(agreement::<u8>(&[]), Ok(()));
        assert_eq!(
            agreement(&[(0, &a[..]), (1, &a[..1]), (2, &a[..0])]),
            Ok(())
        );
    }

    #[test]
    fn agreement_rejects_two_logs_that_differ_at_one_index() {
        let a = [1, 2, 3];
        let b = [1, 5];
        let err = agreement(&[(0, &a[..]), (1, &b[..])]).unwrap_err();
        assert_eq!(err.property, "agreement");
        assert!(err.detail.contains("index 1"), "{err}");
    }

    #[test]
    fn validity_rejects_an_unsubmitted_transaction() {
        let submitted = BTreeSet::from([TxId::new(0, 1)]);
        let log = [TxId::new(0, 1), TxId::new(0, 2)];
        let err = validity(&submitted, &[(3, &log[..])]).unwrap_err();
        assert_eq!(err.property, "validity");
        assert!(err.detail.contains("c0#2"), "{err}");
    }

    #[test]
    fn validity_rejects_a_transaction_twice_in_one_log_even_across_batches() {
        let id = TxId::new(1, 1);
        let submitted = BTreeSet::from([id]);
        let log = [vec![id], vec![], vec![id]];
        let err = validity(&submitted, &[(0, &log[..])]).unwrap_err();
        assert!(err.detail.contains("twice"), "{err}");
        let within_one_batch = [vec![id, id]];
        assert!(validity(&submitted, &[(0, &within_one_batch[..])]).is_err());
    }

    #[test]
    fn validity_accepts_submitted_transactions_once_per_log() {
        let submitted = BTreeSet::from([TxId::new(0, 1), TxId::new(1, 1)]);
        let a = [vec![TxId::new(0, 1)], vec![TxId::new(1, 1)]];
        let b = [vec![TxId::new(0, 1), TxId::new(1, 1)]];
        assert_eq!(validity(&submitted, &[(0, &a[..]), (1, &b[..])]), Ok(()));
    }

    fn put(seq: u64, key: u32, value: i64) -> Transaction<KvOp> {
        Transaction::new(
            TxId::new(0, seq),
            KvStore::APP_ID,
            vec![KvOp::Put(Key(key), value)],
        )
    }

    #[test]
    fn consistency_accepts_the_reference_state() {
        let log = [put(1, 1, 10), put(2, 2, 20)];
        let state = KvState::from([(Key(1), 10), (Key(2), 20)]);
        assert_eq!(consistency(&KvStore, 0, &log, &state), Ok(()));
    }

    #[test]
    fn consistency_rejects_a_state_that_missed_a_write() {
        let log = [put(1, 1, 10), put(2, 2, 20)];
        let state = KvState::from([(Key(1), 10)]);
        let err = consistency(&KvStore, 4, &log, &state).unwrap_err();
        assert_eq!(err.property, "consistency");
        assert!(err.detail.contains("k2"), "{err}");
    }

    fn divergent_pair() -> impl Strategy<Value = (Vec<u8>, usize, u8)> {
        (
            proptest::collection::vec(0u8..4, 1..8),
            any::<prop::sample::Index>(),
            1u8..4,
        )
            .prop_map(|(log, at, bump)| {
                let index = at.index(log.len());
                (log, index, bump)
            })
    }

    proptest! {
        #[test]
        fn agreement_accepts_any_two_prefixes_of_one_log(
            log in proptest::collection::vec(0u8..4, 0..10),
            a in any::<prop::sample::Index>(),
            b in any::<prop::sample::Index>(),
        ) {
            let a = a.index(log.len() + 1);
            let b = b.index(log.len() + 1);
            prop_assert_eq!(agreement(&[(0, &log[..a]), (1, &log[..b])]), Ok(()));
        }

        #[test]
        fn agreement_rejects_any_divergence((log, index, bump) in divergent_pair()) {
            let mut other = log.clone();
            other[index] = other[index].wrapping_add(bump);
            // Whatever either side has beyond the divergence, they disagree at `index`.
            let err = agreement(&[(0, &log[..]), (1, &other[..=index])]).unwrap_err();
            prop_assert_eq!(err.property, "agreement");
            let err = agreement(&[(0, &log[..=index]), (1, &other[..])]).unwrap_err();
            prop_assert_eq!(err.property, "agreement");
        }
    }
}
