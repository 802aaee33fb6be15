//! Incremental forms of the properties: fed one observation at a time, in the order the
//! run produced them (replay of a recorded run, or live in a cluster).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use serde::{Deserialize, Serialize};

use super::whole::{delivered_twice, never_submitted};
use super::{HasTransactions, HasTxIds, Monitor, Observation, Violation};
use crate::app::Application;
use crate::ledger::ReferenceExecutor;
use crate::tx::{NodeId, TxId};

/// Agreement (consensus card S1): all nodes deliver the same entry at each log index.
///
/// Remembers the first entry delivered at each index by any node; a different entry at
/// that index, from any node (the same one included), is a violation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AgreementMonitor<E> {
    /// The first entry seen at each index, and the node that delivered it.
    first: BTreeMap<u64, (NodeId, E)>,
}

impl<E> AgreementMonitor<E> {
    /// A monitor that has seen nothing.
    pub fn new() -> Self {
        Self {
            first: BTreeMap::new(),
        }
    }

    /// The entry first delivered at `index`, if any.
    pub fn entry_at(&self, index: u64) -> Option<&E> {
        self.first.get(&index).map(|(_, entry)| entry)
    }
}

impl<E> Default for AgreementMonitor<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Clone + Eq + Debug, R> Monitor<E, R> for AgreementMonitor<E> {
    fn observe(&mut self, obs: &Observation<E, R>) -> Result<(), Violation> {
        let Observation::Delivered { node, index, entry } = obs else {
            return Ok(());
        };
        match self.first.get(index) {
            None => {
                self.first.insert(*index, (*node, entry.clone()));
                Ok(())
            }
            Some((_, first)) if first == entry => Ok(()),
            Some((first_node, first)) => Err(Violation::new(
                "agreement",
                format!(
                    "at index {index} node {node} delivered {entry:?}, \
                     but node {first_node} delivered {first:?}"
                ),
            )),
        }
    }
}

/// Validity and at-most-once (consensus card S3/S4): a node delivers only submitted
/// transactions, and each at one index only.
///
/// Delivering the same transaction again at the same index is accepted: a recovering
/// node re-executes its log from the start and may report those deliveries again.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct ValidityMonitor {
    /// Every transaction a client has submitted so far.
    submitted: BTreeSet<TxId>,
    /// For each node, the index at which it delivered each transaction.
    delivered: BTreeMap<NodeId, BTreeMap<TxId, u64>>,
}

impl ValidityMonitor {
    /// A monitor that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks a delivery against what was submitted and what `node` delivered before.
    fn check_delivery(&self, node: NodeId, index: u64, ids: &[TxId]) -> Result<(), Violation> {
        let earlier = self.delivered.get(&node);
        let mut in_entry = BTreeSet::new();
        for id in ids {
            if !self.submitted.contains(id) {
                return Err(never_submitted(node, *id, index));
            }
            if !in_entry.insert(*id) {
                return Err(delivered_twice(node, *id, index, index));
            }
            match earlier.and_then(|seen| seen.get(id)) {
                Some(&first) if first != index => {
                    return Err(delivered_twice(node, *id, first, index))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl<E: HasTxIds, R> Monitor<E, R> for ValidityMonitor {
    fn observe(&mut self, obs: &Observation<E, R>) -> Result<(), Violation> {
        match obs {
            Observation::Submitted { tx } => {
                self.submitted.insert(*tx);
                Ok(())
            }
            Observation::Delivered { node, index, entry } => {
                let ids = entry.tx_ids();
                self.check_delivery(*node, *index, &ids)?;
                let seen = self.delivered.entry(*node).or_default();
                seen.extend(ids.into_iter().map(|id| (id, *index)));
                Ok(())
            }
            Observation::ClientResult { .. } => Ok(()),
        }
    }
}

/// Consistency, observed through client results (consensus card S5): executing the
/// agreed log sequentially from the empty state (at most once per id) must produce
/// exactly the result each client accepts, and only the issuing client accepts it.
///
/// Entries are executed in index order as soon as the log is contiguous; the first entry
/// delivered at an index is taken (a disagreement is [`AgreementMonitor`]'s to report).
/// A result for a transaction not yet executed is a violation: a client may accept a
/// result only after some node has delivered its transaction.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ConsistencyMonitor<A: Application, E> {
    app: A,
    /// Delivered entries waiting for a gap below them to fill.
    waiting: BTreeMap<u64, E>,
    /// The next index to execute: every index below it has executed.
    next_index: u64,
    executor: ReferenceExecutor<A::Output>,
}

impl<A: Application, E> ConsistencyMonitor<A, E> {
    /// A monitor for `app` that has seen nothing.
    pub fn new(app: A) -> Self {
        Self {
            app,
            waiting: BTreeMap::new(),
            next_index: 0,
            executor: ReferenceExecutor::new(),
        }
    }

    /// The reference execution of the contiguous log prefix seen so far.
    pub fn executor(&self) -> &ReferenceExecutor<A::Output> {
        &self.executor
    }
}

impl<A: Application, E: HasTransactions<A::Op> + Clone> ConsistencyMonitor<A, E> {
    /// Records a delivery and executes every entry that is now contiguous.
    fn deliver(&mut self, index: u64, entry: &E) {
        if index >= self.next_index {
            self.waiting.entry(index).or_insert_with(|| entry.clone());
        }
        while let Some(ready) = self.waiting.remove(&self.next_index) {
            for tx in ready.transactions() {
                self.executor.step(&self.app, tx);
            }
            self.next_index += 1;
        }
        debug_assert!(self.waiting.keys().all(|i| *i > self.next_index));
    }

    /// Checks an accepted result against the reference output.
    fn check_result(&self, client: u32, tx: TxId, result: &A::Output) -> Result<(), Violation> {
        if tx.client != client {
            return Err(Violation::new(
                "consistency",
                format!("client {client} accepted a result for {tx}, issued by another client"),
            ));
        }
        match self.executor.output_of(&tx) {
            Some(expected) if expected == result => Ok(()),
            Some(expected) => Err(Violation::new(
                "consistency",
                format!(
                    "client {client} accepted {result:?} for {tx}, \
                     reference execution gives {expected:?}"
                ),
            )),
            None => Err(Violation::new(
                "consistency",
                format!(
                    "client {client} accepted {result:?} for {tx}, which is not in the \
                     executed log prefix (indices below {})",
                    self.next_index
                ),
            )),
        }
    }
}

impl<A, E> Monitor<E, A::Output> for ConsistencyMonitor<A, E>
where
    A: Application,
    E: HasTransactions<A::Op> + Clone,
{
    fn observe(&mut self, obs: &Observation<E, A::Output>) -> Result<(), Violation> {
        match obs {
            Observation::Submitted { .. } => Ok(()),
            Observation::Delivered { index, entry, .. } => {
                self.deliver(*index, entry);
                Ok(())
            }
            Observation::ClientResult { client, tx, result } => {
                self.check_result(*client, *tx, result)
            }
        }
    }
}

#[cfg(test)]
#[path = "online_tests.rs"]
mod tests;
