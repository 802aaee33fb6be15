//! Tests of the incremental monitors: each must pass a correct run and catch a broken one.

use super::*;
use crate::app::{Key, Value};
use crate::kv::{KvOp, KvResult, KvStore};
use crate::tx::Transaction;

type Obs<E> = Observation<E, Vec<KvResult>>;

fn delivered<E>(node: NodeId, index: u64, entry: E) -> Obs<E> {
    Observation::Delivered { node, index, entry }
}

fn submitted<E>(client: u32, seq: u64) -> Obs<E> {
    Observation::Submitted {
        tx: TxId::new(client, seq),
    }
}

fn feed<E, M: Monitor<E, Vec<KvResult>>>(monitor: &mut M, run: &[Obs<E>]) -> Result<(), Violation> {
    run.iter().try_for_each(|obs| monitor.observe(obs))
}

#[test]
fn agreement_monitor_passes_nodes_that_deliver_the_same_entries() {
    let run = [
        delivered(0, 0, 'a'),
        delivered(1, 0, 'a'),
        delivered(1, 1, 'b'),
        delivered(0, 1, 'b'),
        delivered(0, 0, 'a'),
    ];
    let mut monitor = AgreementMonitor::new();
    assert_eq!(feed(&mut monitor, &run), Ok(()));
    assert_eq!(monitor.entry_at(1), Some(&'b'));
}

#[test]
fn agreement_monitor_reports_a_different_entry_at_one_index() {
    let run = [delivered(0, 0, 'a'), delivered(2, 0, 'z')];
    let err = feed(&mut AgreementMonitor::new(), &run).unwrap_err();
    assert_eq!(err.property, "agreement");
    assert!(err.detail.contains("node 2"), "{err}");
}

#[test]
fn agreement_monitor_reports_one_node_changing_its_own_entry() {
    let run = [delivered(0, 3, 'a'), delivered(0, 3, 'b')];
    assert!(feed(&mut AgreementMonitor::new(), &run).is_err());
}

#[test]
fn validity_monitor_passes_submitted_transactions_delivered_once() {
    let run = [
        submitted(0, 1),
        submitted(1, 1),
        delivered(0, 0, vec![TxId::new(0, 1)]),
        delivered(1, 0, vec![TxId::new(0, 1)]),
        delivered(0, 1, vec![TxId::new(1, 1)]),
        // A recovering node re-delivers its log from the start: same index, accepted.
        delivered(0, 0, vec![TxId::new(0, 1)]),
    ];
    assert_eq!(feed(&mut ValidityMonitor::new(), &run), Ok(()));
}

#[test]
fn validity_monitor_reports_a_delivery_before_submission() {
    let run = [delivered(0, 0, vec![TxId::new(0, 1)]), submitted(0, 1)];
    let err = feed(&mut ValidityMonitor::new(), &run).unwrap_err();
    assert_eq!(err.property, "validity");
    assert!(err.detail.contains("never submitted"), "{err}");
}

#[test]
fn validity_monitor_reports_a_transaction_delivered_at_two_indices() {
    let run = [
        submitted(0, 1),
        delivered(0, 0, vec![TxId::new(0, 1)]),
        delivered(0, 4, vec![TxId::new(0, 1)]),
    ];
    let err = feed(&mut ValidityMonitor::new(), &run).unwrap_err();
    assert!(err.detail.contains("index 0 and at index 4"), "{err}");
}

#[test]
fn validity_monitor_reports_a_batch_holding_one_transaction_twice() {
    let id = TxId::new(0, 1);
    let run = [submitted(0, 1), delivered(0, 0, vec![id, id])];
    assert!(feed(&mut ValidityMonitor::new(), &run).is_err());
}

fn put(client: u32, seq: u64, key: u32, value: Value) -> Transaction<KvOp> {
    Transaction::new(
        TxId::new(client, seq),
        KvStore::APP_ID,
        vec![KvOp::Put(Key(key), value)],
    )
}

fn get(client: u32, seq: u64, key: u32) -> Transaction<KvOp> {
    Transaction::new(
        TxId::new(client, seq),
        KvStore::APP_ID,
        vec![KvOp::Get(Key(key))],
    )
}

fn result<E>(client: u32, seq: u64, result: Vec<KvResult>) -> Obs<E> {
    Observation::ClientResult {
        client,
        tx: TxId::new(client, seq),
        result,
    }
}

#[test]
fn consistency_monitor_passes_results_that_match_the_reference_execution() {
    let run = [
        // Index 1 arrives before index 0: it waits for the gap to fill.
        delivered(1, 1, get(1, 1, 7)),
        delivered(0, 0, put(0, 1, 7, 42)),
        result(0, 1, vec![KvResult::Written]),
        result(1, 1, vec![KvResult::Read(Some(42))]),
        // A duplicate of an executed transaction is skipped, not re-executed.
        delivered(0, 2, put(0, 1, 7, 42)),
    ];
    let mut monitor = ConsistencyMonitor::new(KvStore);
    assert_eq!(feed(&mut monitor, &run), Ok(()));
    assert_eq!(monitor.executor().run().outputs.len(), 2);
}

#[test]
fn consistency_monitor_reports_a_result_that_differs_from_the_reference() {
    let run = [
        delivered(0, 0, vec![put(0, 1, 7, 42), get(1, 1, 7)]),
        result(1, 1, vec![KvResult::Read(None)]),
    ];
    let err = feed(&mut ConsistencyMonitor::new(KvStore), &run).unwrap_err();
    assert_eq!(err.property, "consistency");
    assert!(err.detail.contains("reference execution gives"), "{err}");
}

#[test]
fn consistency_monitor_reports_a_result_before_its_transaction_executes() {
    // Index 0 is missing, so the transaction at index 1 has not executed yet.
    let run = [
        delivered(0, 1, put(0, 1, 7, 42)),
        result(0, 1, vec![KvResult::Written]),
    ];
    let err = feed(&mut ConsistencyMonitor::new(KvStore), &run).unwrap_err();
    assert!(
        err.detail.contains("not in the executed log prefix"),
        "{err}"
    );
}

#[test]
fn consistency_monitor_reports_a_result_accepted_by_another_client() {
    let run: [Obs<Transaction<KvOp>>; 2] = [
        delivered(0, 0, put(0, 1, 7, 42)),
        Observation::ClientResult {
            client: 3,
            tx: TxId::new(0, 1),
            result: vec![KvResult::Written],
        },
    ];
    let err = feed(&mut ConsistencyMonitor::new(KvStore), &run).unwrap_err();
    assert!(err.detail.contains("another client"), "{err}");
}

mod forms_agree {
    use super::*;
    use crate::monitor::{agreement, validity};
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// Delivers every node's log in round-robin order, as a run would interleave them.
    fn interleave<E: Clone>(logs: &[Vec<E>]) -> Vec<Obs<E>> {
        let longest = logs.iter().map(Vec::len).max().unwrap_or(0);
        let mut run = Vec::new();
        for index in 0..longest {
            for (node, log) in logs.iter().enumerate() {
                if let Some(entry) = log.get(index) {
                    run.push(delivered(node as NodeId, index as u64, entry.clone()));
                }
            }
        }
        run
    }

    fn views<E>(logs: &[Vec<E>]) -> Vec<(NodeId, &[E])> {
        logs.iter()
            .enumerate()
            .map(|(node, log)| (node as NodeId, log.as_slice()))
            .collect()
    }

    proptest! {
        /// The incremental and whole-state agreement checks reach the same verdict.
        #[test]
        fn agreement_monitor_matches_whole_state_agreement(
            logs in proptest::collection::vec(proptest::collection::vec(0u8..2, 0..4), 1..4),
        ) {
            let online = feed(&mut AgreementMonitor::new(), &interleave(&logs));
            prop_assert_eq!(online.is_ok(), agreement(&views(&logs)).is_ok());
        }

        /// With everything submitted first, the two validity checks reach the same verdict.
        #[test]
        fn validity_monitor_matches_whole_state_validity(
            logs in proptest::collection::vec(
                proptest::collection::vec((0u32..2, 0u64..3).prop_map(|(c, s)| vec![TxId::new(c, s)]), 0..4),
                1..3,
            ),
            submitted_ids in proptest::collection::btree_set((0u32..2, 0u64..3), 0..6),
        ) {
            let submitted_ids: BTreeSet<TxId> =
                submitted_ids.into_iter().map(|(c, s)| TxId::new(c, s)).collect();
            let mut run: Vec<Obs<Vec<TxId>>> = submitted_ids
                .iter()
                .map(|id| submitted(id.client, id.seq))
                .collect();
            run.extend(interleave(&logs));
            let online = feed(&mut ValidityMonitor::new(), &run);
            prop_assert_eq!(online.is_ok(), validity(&submitted_ids, &views(&logs)).is_ok());
        }
    }
}
