//! The reference key-value application: put, get and delete over single keys.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::app::{Application, Execution, Key, KvState, Value, Write};
use crate::tx::{AppId, Transaction};

/// The most operations one key-value transaction may carry (keeps model states small).
pub const MAX_OPS: usize = 16;

/// One key-value operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KvOp {
    /// Store a value under a key.
    Put(Key, Value),
    /// Read a key.
    Get(Key),
    /// Remove a key.
    Delete(Key),
}

/// The result of one key-value operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KvResult {
    /// A `Put` took effect.
    Written,
    /// A `Get` saw this value (`None` if absent).
    Read(Option<Value>),
    /// A `Delete` took effect (also when the key was already absent).
    Deleted,
}

/// The reference key-value store, application id 0.
///
/// Its output has one result per operation, in order; later operations of a transaction
/// see the writes of earlier ones. An ill-formed transaction executes as a recorded
/// rejection: an empty output and no reads or writes. A well-formed transaction has at
/// least one operation, so an empty output always means "rejected".
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct KvStore;

impl KvStore {
    /// The application id of the key-value store.
    pub const APP_ID: AppId = AppId(0);
}

impl Application for KvStore {
    type Op = KvOp;
    type Output = Vec<KvResult>;

    fn app_id(&self) -> AppId {
        Self::APP_ID
    }

    fn well_formed(&self, tx: &Transaction<KvOp>) -> bool {
        tx.app == Self::APP_ID && !tx.ops.is_empty() && tx.ops.len() <= MAX_OPS
    }

    fn execute(&self, state: &KvState, tx: &Transaction<KvOp>) -> Execution<Vec<KvResult>> {
        if !self.well_formed(tx) {
            return Execution::output_only(Vec::new());
        }
        let mut reads = BTreeSet::new();
        let mut writes = BTreeMap::new();
        let mut output = Vec::with_capacity(tx.ops.len());
        for op in &tx.ops {
            output.push(execute_op(state, &mut reads, &mut writes, op));
        }
        debug_assert_eq!(output.len(), tx.ops.len(), "one result per operation");
        Execution {
            reads,
            writes,
            output,
        }
    }
}

/// Runs one operation over the pre-state overlaid with this transaction's own writes.
/// Only reads that reach the pre-state enter the read set: a read of the transaction's
/// own earlier write depends on no other transaction.
fn execute_op(
    state: &KvState,
    reads: &mut BTreeSet<Key>,
    writes: &mut BTreeMap<Key, Write>,
    op: &KvOp,
) -> KvResult {
    match *op {
        KvOp::Put(key, value) => {
            writes.insert(key, Write::Set(value));
            KvResult::Written
        }
        KvOp::Delete(key) => {
            writes.insert(key, Write::Delete);
            KvResult::Deleted
        }
        KvOp::Get(key) => match writes.get(&key) {
            Some(Write::Set(value)) => KvResult::Read(Some(*value)),
            Some(Write::Delete) => KvResult::Read(None),
            Some(Write::Delta(_)) => unreachable!("the key-value store never writes deltas"),
            None => {
                reads.insert(key);
                KvResult::Read(state.get(&key).copied())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::execute_and_apply;
    use crate::tx::TxId;

    fn tx(ops: Vec<KvOp>) -> Transaction<KvOp> {
        Transaction::new(TxId::new(0, 1), KvStore::APP_ID, ops)
    }

    #[test]
    fn later_ops_see_earlier_writes_of_the_same_transaction() {
        let mut state = KvState::from([(Key(1), 10)]);
        let ops = vec![
            KvOp::Get(Key(1)),
            KvOp::Put(Key(1), 11),
            KvOp::Get(Key(1)),
            KvOp::Delete(Key(1)),
            KvOp::Get(Key(1)),
        ];
        let output = execute_and_apply(&KvStore, &mut state, &tx(ops));
        let expected = vec![
            KvResult::Read(Some(10)),
            KvResult::Written,
            KvResult::Read(Some(11)),
            KvResult::Deleted,
            KvResult::Read(None),
        ];
        assert_eq!(output, expected);
        assert!(state.is_empty());
    }

    #[test]
    fn read_set_holds_only_reads_of_the_pre_state() {
        let ops = vec![KvOp::Put(Key(1), 1), KvOp::Get(Key(1)), KvOp::Get(Key(2))];
        let execution = KvStore.execute(&KvState::new(), &tx(ops));
        assert_eq!(execution.reads, BTreeSet::from([Key(2)]));
        assert_eq!(execution.writes, BTreeMap::from([(Key(1), Write::Set(1))]));
    }

    #[test]
    fn empty_or_oversized_transaction_is_ill_formed_and_rejected_without_writes() {
        let oversized = vec![KvOp::Put(Key(0), 1); MAX_OPS + 1];
        for ops in [Vec::new(), oversized] {
            let tx = tx(ops);
            assert!(!KvStore.well_formed(&tx));
            let mut state = KvState::from([(Key(0), 7)]);
            let output = execute_and_apply(&KvStore, &mut state, &tx);
            assert!(
                output.is_empty(),
                "rejection is recorded as an empty output"
            );
            assert_eq!(state, KvState::from([(Key(0), 7)]));
        }
    }

    #[test]
    fn transaction_for_another_application_is_rejected() {
        let mut foreign = tx(vec![KvOp::Put(Key(0), 1)]);
        foreign.app = AppId(5);
        assert!(!KvStore.well_formed(&foreign));
        assert!(KvStore.execute(&KvState::new(), &foreign).writes.is_empty());
    }

    #[test]
    fn transaction_with_max_ops_is_well_formed() {
        assert!(KvStore.well_formed(&tx(vec![KvOp::Get(Key(0)); MAX_OPS])));
        assert!(KvStore.well_formed(&tx(vec![KvOp::Get(Key(0))])));
    }
}
