//! Totally ordered ledgers and the sequential reference execution (DESIGN §2, "Ledgers").

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::app::{execute_and_apply, Application, KvState};
use crate::tx::{Transaction, TxId};

/// A totally ordered, append-only log.
///
/// The entries sit behind an `Arc` because model states are cloned at every step: a
/// clone is a pointer copy, and only an append copies (via `Arc::make_mut`, and only
/// when the vector is shared). Equality, order, hashing and serde all look at the
/// entries alone, so two ledgers with equal entries are indistinguishable.
#[derive(Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ledger<E> {
    entries: Arc<Vec<E>>,
}

impl<E> Ledger<E> {
    /// An empty ledger.
    pub fn new() -> Self {
        Self {
            entries: Arc::new(Vec::new()),
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the ledger has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry at position `index` (0-based), if present.
    pub fn get(&self, index: usize) -> Option<&E> {
        self.entries.get(index)
    }

    /// The last entry, if any.
    pub fn last(&self) -> Option<&E> {
        self.entries.last()
    }

    /// The entries in log order.
    pub fn iter(&self) -> std::slice::Iter<'_, E> {
        self.entries.iter()
    }

    /// The entries as a slice.
    pub fn as_slice(&self) -> &[E] {
        &self.entries
    }

    /// Whether every entry of `self` appears at the same position in `other`.
    pub fn is_prefix_of(&self, other: &Self) -> bool
    where
        E: PartialEq,
    {
        Arc::ptr_eq(&self.entries, &other.entries) || other.as_slice().starts_with(self.as_slice())
    }

    /// The length of the longest common prefix of `self` and `other`.
    pub fn common_prefix_len(&self, other: &Self) -> usize
    where
        E: PartialEq,
    {
        common_prefix_len(self.as_slice(), other.as_slice())
    }
}

impl<E: Clone> Ledger<E> {
    /// Appends an entry (copying the entries first only if this ledger shares them).
    pub fn push(&mut self, entry: E) {
        let before = self.len();
        Arc::make_mut(&mut self.entries).push(entry);
        debug_assert_eq!(self.len(), before + 1);
    }

    /// Appends every entry of `entries`, in order.
    pub fn extend(&mut self, entries: impl IntoIterator<Item = E>) {
        Arc::make_mut(&mut self.entries).extend(entries);
    }
}

/// The length of the longest common prefix of two slices.
pub fn common_prefix_len<E: PartialEq>(a: &[E], b: &[E]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl<E> Default for Ledger<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Clone for Ledger<E> {
    fn clone(&self) -> Self {
        Self {
            entries: Arc::clone(&self.entries),
        }
    }
}

impl<E: PartialEq> PartialEq for Ledger<E> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.entries, &other.entries) || self.entries == other.entries
    }
}

impl<E: Eq> Eq for Ledger<E> {}

impl<E: PartialOrd> PartialOrd for Ledger<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.as_slice().partial_cmp(other.as_slice())
    }
}

impl<E: Ord> Ord for Ledger<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl<E: Hash> Hash for Ledger<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl<E> From<Vec<E>> for Ledger<E> {
    fn from(entries: Vec<E>) -> Self {
        Self {
            entries: Arc::new(entries),
        }
    }
}

impl<E> FromIterator<E> for Ledger<E> {
    fn from_iter<I: IntoIterator<Item = E>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<Vec<E>>())
    }
}

impl<'a, E> IntoIterator for &'a Ledger<E> {
    type Item = &'a E;
    type IntoIter = std::slice::Iter<'a, E>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The result of executing a log sequentially from the empty state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReferenceRun<Out> {
    /// The state after the last transaction.
    pub state: KvState,
    /// Each executed transaction's outcome, in execution order (duplicates excluded).
    pub outputs: Vec<(TxId, Out)>,
}

/// Executes `log` one transaction at a time from the empty state, at most once per `TxId`.
///
/// A transaction whose id already executed earlier in the log is skipped: replicas
/// dedupe at execution (a retried request may be ordered twice), so a duplicate never
/// changes the state or produces a second output.
pub fn reference_execution<'a, A: Application>(
    app: &A,
    log: impl IntoIterator<Item = &'a Transaction<A::Op>>,
) -> ReferenceRun<A::Output> {
    let mut executor = ReferenceExecutor::new();
    for tx in log {
        executor.step(app, tx);
    }
    executor.into_run()
}

/// The reference execution in incremental form, for monitors that see one delivery at a
/// time (replay, a live cluster). It indexes the ids that ran, so dedupe and output
/// look-up are O(log n).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReferenceExecutor<Out> {
    run: ReferenceRun<Out>,
    /// Each executed id's position in `run.outputs`.
    executed: BTreeMap<TxId, usize>,
}

impl<Out> ReferenceExecutor<Out> {
    /// An executor at the empty state.
    pub fn new() -> Self {
        Self {
            run: ReferenceRun {
                state: KvState::new(),
                outputs: Vec::new(),
            },
            executed: BTreeMap::new(),
        }
    }

    /// Executes the next logged transaction; returns its outcome, or `None` for a duplicate.
    pub fn step<A>(&mut self, app: &A, tx: &Transaction<A::Op>) -> Option<&Out>
    where
        A: Application<Output = Out>,
    {
        if self.executed.contains_key(&tx.id) {
            return None;
        }
        let output = execute_and_apply(app, &mut self.run.state, tx);
        self.executed.insert(tx.id, self.run.outputs.len());
        self.run.outputs.push((tx.id, output));
        debug_assert_eq!(self.run.outputs.len(), self.executed.len());
        self.run.outputs.last().map(|(_, out)| out)
    }

    /// Whether `id` has executed.
    pub fn has_executed(&self, id: &TxId) -> bool {
        self.executed.contains_key(id)
    }

    /// The outcome `id` produced, if it has executed.
    pub fn output_of(&self, id: &TxId) -> Option<&Out> {
        let position = *self.executed.get(id)?;
        let (logged, output) = &self.run.outputs[position];
        debug_assert_eq!(logged, id, "the index points at the id's own output");
        Some(output)
    }

    /// The run so far.
    pub fn run(&self) -> &ReferenceRun<Out> {
        &self.run
    }

    /// Consumes the executor, returning the run.
    pub fn into_run(self) -> ReferenceRun<Out> {
        self.run
    }
}

impl<Out> Default for ReferenceExecutor<Out> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Key;
    use crate::kv::{KvOp, KvResult, KvStore};
    use proptest::prelude::*;

    fn put(client: u32, seq: u64, key: u32, value: i64) -> Transaction<KvOp> {
        Transaction::new(
            TxId::new(client, seq),
            KvStore::APP_ID,
            vec![KvOp::Put(Key(key), value)],
        )
    }

    #[test]
    fn clone_shares_entries_until_one_side_appends() {
        let mut a: Ledger<u8> = Ledger::from(vec![1, 2]);
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.entries, &b.entries));
        a.push(3);
        assert_eq!(b.as_slice(), &[1, 2]);
        assert_eq!(a.as_slice(), &[1, 2, 3]);
        assert!(b.is_prefix_of(&a));
        assert!(!a.is_prefix_of(&b));
    }

    #[test]
    fn common_prefix_len_stops_at_first_difference() {
        let a: Ledger<u8> = [1, 2, 3].into_iter().collect();
        let b: Ledger<u8> = [1, 2, 4, 5].into_iter().collect();
        assert_eq!(a.common_prefix_len(&b), 2);
        assert_eq!(a.common_prefix_len(&a), 3);
        assert_eq!(Ledger::<u8>::new().common_prefix_len(&a), 0);
        assert!(Ledger::<u8>::new().is_prefix_of(&a));
    }

    #[test]
    fn ledgers_with_equal_entries_are_equal_however_built() {
        let a: Ledger<u8> = Ledger::from(vec![1, 2]);
        let mut b = Ledger::new();
        b.extend([1, 2]);
        assert_eq!(a, b);
        assert_eq!(a.cmp(&b), Ordering::Equal);
        assert_eq!(a.get(1), Some(&2));
        assert_eq!(a.get(2), None);
        assert_eq!(a.last(), Some(&2));
        assert_eq!(a.iter().copied().collect::<Vec<_>>(), vec![1, 2]);
        assert!(!a.is_empty());
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn duplicate_tx_is_skipped_by_reference_execution() {
        let log = [put(0, 1, 1, 10), put(0, 2, 1, 20), put(0, 1, 1, 10)];
        let run = reference_execution(&KvStore, &log);
        assert_eq!(run.state, KvState::from([(Key(1), 20)]));
        let ids: Vec<TxId> = run.outputs.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, vec![TxId::new(0, 1), TxId::new(0, 2)]);
    }

    #[test]
    fn executor_reports_outputs_and_none_for_duplicates() {
        let mut executor = ReferenceExecutor::new();
        let tx = put(2, 0, 3, 1);
        assert_eq!(executor.step(&KvStore, &tx), Some(&vec![KvResult::Written]));
        assert!(executor.has_executed(&tx.id));
        assert_eq!(executor.output_of(&tx.id), Some(&vec![KvResult::Written]));
        assert_eq!(executor.output_of(&TxId::new(9, 9)), None);
        assert_eq!(executor.step(&KvStore, &tx), None);
        assert_eq!(executor.run().outputs.len(), 1);
    }

    fn arb_log() -> impl Strategy<Value = Vec<Transaction<KvOp>>> {
        let tx = (0u32..2, 0u64..3, 0u32..3, -5i64..5)
            .prop_map(|(client, seq, key, value)| put(client, seq, key, value));
        proptest::collection::vec(tx, 0..10)
    }

    proptest! {
        #[test]
        fn reference_execution_is_deterministic(log in arb_log()) {
            prop_assert_eq!(
                reference_execution(&KvStore, &log),
                reference_execution(&KvStore, &log)
            );
        }

        /// Re-logging any already-executed transactions changes nothing.
        #[test]
        fn reference_execution_is_idempotent_on_duplicates(
            log in arb_log(),
            picks in proptest::collection::vec(any::<prop::sample::Index>(), 0..5),
        ) {
            let once = reference_execution(&KvStore, &log);
            let mut doubled = log.clone();
            if !log.is_empty() {
                doubled.extend(picks.iter().map(|i| log[i.index(log.len())].clone()));
            }
            doubled.extend(log.iter().cloned());
            prop_assert_eq!(once, reference_execution(&KvStore, &doubled));
        }
    }
}
