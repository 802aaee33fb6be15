//! The block dependency graph (seed 001 §5.3.1) and execution within declared sets.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::app::{apply_writes, Application, Key, KvState, Write};
use crate::tx::Transaction;

/// The records a transaction declares it reads (ρ) and writes (ω). A read-modify-write key
/// may be declared in `writes` only (the seed's transfer example does so).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AccessSets {
    /// ρ(x).
    pub reads: BTreeSet<Key>,
    /// ω(x).
    pub writes: BTreeSet<Key>,
}

impl AccessSets {
    /// Builds the sets from key lists.
    pub fn new(
        reads: impl IntoIterator<Item = Key>,
        writes: impl IntoIterator<Item = Key>,
    ) -> Self {
        Self {
            reads: reads.into_iter().collect(),
            writes: writes.into_iter().collect(),
        }
    }

    /// Every key the transaction may touch: ρ ∪ ω.
    pub fn touched(&self) -> BTreeSet<Key> {
        self.reads.union(&self.writes).copied().collect()
    }

    /// Whether `self` (earlier in the block) and `later` conflict: some key is touched by both
    /// and written by at least one (anti-, flow or output dependency).
    pub fn conflicts_with(&self, later: &AccessSets) -> bool {
        !self.reads.is_disjoint(&later.writes)
            || !self.writes.is_disjoint(&later.reads)
            || !self.writes.is_disjoint(&later.writes)
    }

    /// Whether the only conflict with `later` is a write-write one (no read is involved).
    pub fn conflicts_only_by_writes(&self, later: &AccessSets) -> bool {
        self.reads.is_disjoint(&later.writes)
            && self.writes.is_disjoint(&later.reads)
            && !self.writes.is_disjoint(&later.writes)
    }
}

/// A transaction as a block carries it: the request plus its declared sets.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DeclaredTx<Op> {
    /// The client's transaction.
    pub tx: Transaction<Op>,
    /// Its declared read and write sets.
    pub access: AccessSets,
}

/// G(B): an edge (i, j) for every pair i < j of block positions that conflict. Not transitively
/// reduced (every conflicting pair has its own edge, so every earlier writer of a key is a direct
/// predecessor), and acyclic because edges point forward.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DepGraph {
    /// Transactions in the block.
    pub n_tx: u32,
    /// The edges, sorted: canonical, so two orderers' graphs compare byte for byte.
    pub edges: BTreeSet<(u32, u32)>,
}

impl DepGraph {
    /// Builds G(B) from a per-key index instead of checking every pair: for each key, the
    /// earlier transactions that touched it and those that wrote it. A writer of k depends on
    /// every earlier toucher of k, a reader of k on every earlier writer. The edges are
    /// exactly those of [`DepGraph::build_pairwise`] (proptest below), found in time linear in
    /// the declared sets plus the edges, rather than b² set comparisons.
    pub fn build(block: &[AccessSets]) -> Self {
        #[derive(Default)]
        struct KeyIndex {
            touchers: Vec<u32>,
            writers: Vec<u32>,
        }
        let mut index: BTreeMap<Key, KeyIndex> = BTreeMap::new();
        let mut edges: Vec<(u32, u32)> = Vec::new();
        for (j, sets) in block.iter().enumerate() {
            let j = j as u32;
            for key in &sets.writes {
                if let Some(entry) = index.get(key) {
                    edges.extend(entry.touchers.iter().map(|&i| (i, j)));
                }
            }
            for key in sets.reads.difference(&sets.writes) {
                if let Some(entry) = index.get(key) {
                    edges.extend(entry.writers.iter().map(|&i| (i, j)));
                }
            }
            for key in &sets.writes {
                let entry = index.entry(*key).or_default();
                entry.touchers.push(j);
                entry.writers.push(j);
            }
            for key in sets.reads.difference(&sets.writes) {
                index.entry(*key).or_default().touchers.push(j);
            }
        }
        Self {
            n_tx: block.len() as u32,
            // A pair conflicting on several keys is found once per key.
            edges: edges.into_iter().collect(),
        }
    }

    /// G(B) by the definition of §5.3.1, every pair i < j checked: O(b²) set comparisons. Kept
    /// as the reference the indexed [`DepGraph::build`] is tested against, and for the
    /// benchmark's old-versus-new figure.
    pub fn build_pairwise(block: &[AccessSets]) -> Self {
        let mut edges = BTreeSet::new();
        for (j, later) in block.iter().enumerate() {
            for (i, earlier) in block[..j].iter().enumerate() {
                if earlier.conflicts_with(later) {
                    edges.insert((i as u32, j as u32));
                }
            }
        }
        Self {
            n_tx: block.len() as u32,
            edges,
        }
    }

    /// Pre(x): the transactions x depends on, ascending.
    pub fn predecessors(&self, x: u32) -> impl Iterator<Item = u32> + '_ {
        self.edges.iter().filter(move |e| e.1 == x).map(|e| e.0)
    }

    /// Suc(x): the transactions that depend on x, ascending.
    pub fn successors(&self, x: u32) -> impl Iterator<Item = u32> + '_ {
        self.edges.range((x, 0)..=(x, u32::MAX)).map(|e| e.1)
    }

    /// Whether the edge u→v is in the graph.
    pub fn has_edge(&self, u: u32, v: u32) -> bool {
        self.edges.contains(&(u, v))
    }
}

/// What executing a transaction yields and executors vote on: its writes as absolute values
/// (deltas resolved against its inputs, so results compare byte for byte, card G15), or
/// `Abort` when it is invalid for the contract or strays outside its declared sets (G10).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TxResult {
    /// The records the transaction updated (only `Set` and `Delete`).
    Writes(BTreeMap<Key, Write>),
    /// Invalid: no effect on the state.
    Abort,
}

/// Executes `tx` against `inputs` (the values of its declared keys) and confines it: a read of
/// an undeclared key or a write outside ω(x) aborts the transaction deterministically, so every
/// correct agent returns the same result even for a contract that misdeclares (card gap G10).
/// A rejected transaction (no writes, recorded by the contract's output) is `Writes({})`.
pub fn execute_declared<A: Application>(
    app: &A,
    inputs: &KvState,
    dtx: &DeclaredTx<A::Op>,
) -> TxResult {
    if dtx.tx.app != app.app_id() || !app.well_formed(&dtx.tx) {
        return TxResult::Abort;
    }
    let touched = dtx.access.touched();
    let visible: KvState = inputs
        .iter()
        .filter(|(k, _)| touched.contains(k))
        .map(|(k, v)| (*k, *v))
        .collect();
    let execution = app.execute(&visible, &dtx.tx);
    let reads_ok = execution.reads.is_subset(&touched);
    let writes_ok = execution
        .writes
        .keys()
        .all(|k| dtx.access.writes.contains(k));
    if !reads_ok || !writes_ok {
        return TxResult::Abort;
    }
    let mut after = visible;
    apply_writes(&mut after, &execution.writes);
    let resolved = execution
        .writes
        .keys()
        .map(|k| (*k, after.get(k).map_or(Write::Delete, |v| Write::Set(*v))))
        .collect();
    TxResult::Writes(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(reads: &[u32], writes: &[u32]) -> AccessSets {
        AccessSets::new(
            reads.iter().map(|k| Key(*k)),
            writes.iter().map(|k| Key(*k)),
        )
    }

    #[test]
    fn edges_follow_the_three_conflict_rules_and_only_point_forward() {
        // T0 writes k1; T1 reads k1 (flow); T2 writes k1 (output from T0, anti from T1);
        // T3 reads k2 only: no conflict with anyone.
        let block = [
            sets(&[], &[1]),
            sets(&[1], &[2]),
            sets(&[], &[1]),
            sets(&[3], &[]),
        ];
        let graph = DepGraph::build(&block);
        let expected: BTreeSet<(u32, u32)> = [(0, 1), (0, 2), (1, 2)].into();
        assert_eq!(graph.edges, expected);
        assert_eq!(graph.predecessors(2).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(graph.successors(0).collect::<Vec<_>>(), vec![1, 2]);
        assert!(graph.predecessors(3).next().is_none());
    }

    #[test]
    fn two_readers_of_one_key_do_not_conflict() {
        let graph = DepGraph::build(&[sets(&[1], &[]), sets(&[1], &[])]);
        assert!(graph.edges.is_empty());
    }

    #[test]
    fn fig_5_2_example_has_the_three_named_edges() {
        // Block order [T1, T5, T4, T3, T2] with the card's suggested sets (TV-1): b=1, d=2, e=3.
        let block = [
            sets(&[], &[1]),  // T1 writes b
            sets(&[3], &[2]), // T5 reads e, writes d
            sets(&[1], &[]),  // T4 reads b
            sets(&[], &[3]),  // T3 writes e
            sets(&[], &[2]),  // T2 writes d
        ];
        let graph = DepGraph::build(&block);
        let expected: BTreeSet<(u32, u32)> = [(0, 2), (1, 4), (1, 3)].into();
        assert_eq!(graph.edges, expected);
        assert!(sets(&[], &[2]).conflicts_only_by_writes(&sets(&[], &[2])));
        assert!(!sets(&[3], &[2]).conflicts_only_by_writes(&sets(&[], &[3])));
    }

    #[test]
    fn a_chain_on_one_hot_key_has_every_pair_as_an_edge() {
        // Full contention: every transaction read-modify-writes key 0.
        let block: Vec<AccessSets> = (0..5).map(|_| sets(&[0], &[0])).collect();
        let graph = DepGraph::build(&block);
        assert_eq!(graph.edges.len(), 10);
        assert_eq!(graph, DepGraph::build_pairwise(&block));
    }

    fn arbitrary_sets() -> impl proptest::strategy::Strategy<Value = AccessSets> {
        use proptest::prelude::*;
        // Few keys so that conflicts of every kind are common.
        (
            proptest::collection::btree_set(0u32..5, 0..3),
            proptest::collection::btree_set(0u32..5, 0..3),
        )
            .prop_map(|(reads, writes)| {
                AccessSets::new(reads.into_iter().map(Key), writes.into_iter().map(Key))
            })
    }

    proptest::proptest! {
        #[test]
        fn indexed_graph_equals_the_pairwise_definition(
            block in proptest::collection::vec(arbitrary_sets(), 0..24)
        ) {
            proptest::prop_assert_eq!(DepGraph::build(&block), DepGraph::build_pairwise(&block));
        }
    }
}
