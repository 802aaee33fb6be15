//! Safety properties as monitors over observations (DESIGN §2, "Properties as monitors").
//!
//! Each property comes in two forms that must agree: an incremental [`Monitor`] fed one
//! [`Observation`] at a time (replay of recorded runs, a live cluster), and a pure
//! whole-state function over every node's log (evaluated by the model on each state).

mod online;
mod whole;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::tx::{ClientId, NodeId, Transaction, TxId};

pub use online::{AgreementMonitor, ConsistencyMonitor, ValidityMonitor};
pub use whole::{agreement, consistency, validity};

/// A broken safety property: which one, and what was seen.
///
/// Serialize only: `property` is a `&'static str` naming the property, which keeps the
/// type cheap to build and compare; a report that is read back uses its own types.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Violation {
    /// The property's name, e.g. `"agreement"`.
    pub property: &'static str,
    /// What was observed, for a human reading the counterexample.
    pub detail: String,
}

impl Violation {
    /// A violation of `property` described by `detail`.
    pub fn new(property: &'static str, detail: impl Into<String>) -> Self {
        Self {
            property,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} violated: {}", self.property, self.detail)
    }
}

impl std::error::Error for Violation {}

/// One observable event of a run, as a monitor sees it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Observation<E, R> {
    /// A client issued this transaction.
    Submitted {
        /// The submitted transaction's id.
        tx: TxId,
    },
    /// A node delivered (committed) `entry` at position `index` of its log.
    Delivered {
        /// The delivering node.
        node: NodeId,
        /// The 0-based log position.
        index: u64,
        /// The delivered log entry (a transaction, a batch, a block).
        entry: E,
    },
    /// A client accepted `result` as the outcome of its transaction `tx`.
    ClientResult {
        /// The accepting client.
        client: ClientId,
        /// The transaction the result is for.
        tx: TxId,
        /// The accepted outcome.
        result: R,
    },
}

/// An incremental safety check: fed observations in the order they happened.
pub trait Monitor<E, R> {
    /// Records `obs`, or reports the property it breaks.
    fn observe(&mut self, obs: &Observation<E, R>) -> Result<(), Violation>;
}

/// Log entries that carry client transactions (none for a no-op, several for a batch).
pub trait HasTxIds {
    /// The ids of the transactions in this entry, in entry order.
    fn tx_ids(&self) -> Vec<TxId>;
}

impl HasTxIds for TxId {
    fn tx_ids(&self) -> Vec<TxId> {
        vec![*self]
    }
}

impl<Op> HasTxIds for Transaction<Op> {
    fn tx_ids(&self) -> Vec<TxId> {
        vec![self.id]
    }
}

impl<T: HasTxIds> HasTxIds for Vec<T> {
    fn tx_ids(&self) -> Vec<TxId> {
        self.iter().flat_map(HasTxIds::tx_ids).collect()
    }
}

/// Log entries whose transactions can be executed (for the consistency monitor).
pub trait HasTransactions<Op> {
    /// The transactions in this entry, in execution order.
    fn transactions(&self) -> Vec<&Transaction<Op>>;
}

impl<Op> HasTransactions<Op> for Transaction<Op> {
    fn transactions(&self) -> Vec<&Transaction<Op>> {
        vec![self]
    }
}

impl<Op, T: HasTransactions<Op>> HasTransactions<Op> for Vec<T> {
    fn transactions(&self) -> Vec<&Transaction<Op>> {
        self.iter()
            .flat_map(HasTransactions::transactions)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx::AppId;

    #[test]
    fn violation_display_names_the_property() {
        let v = Violation::new("agreement", "node 0 and node 1 differ at 3");
        assert_eq!(
            v.to_string(),
            "agreement violated: node 0 and node 1 differ at 3"
        );
    }

    #[test]
    fn batches_yield_their_transactions_in_order() {
        let a = Transaction::new(TxId::new(0, 1), AppId(0), vec![()]);
        let b = Transaction::new(TxId::new(1, 1), AppId(0), vec![()]);
        let batch = vec![a.clone(), b.clone()];
        assert_eq!(batch.tx_ids(), vec![a.id, b.id]);
        assert_eq!(batch.transactions(), vec![&a, &b]);
        assert_eq!(Vec::<TxId>::new().tx_ids(), Vec::new());
        assert_eq!(TxId::new(2, 2).tx_ids(), vec![TxId::new(2, 2)]);
    }
}
