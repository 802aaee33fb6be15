//! Transactions: who issued them, which application they address, and their operations.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A replica's identity: its actor index.
pub type NodeId = u32;

/// A client's identity: its actor index.
pub type ClientId = u32;

/// Names a transaction uniquely: the issuing client plus that client's own sequence number.
///
/// Client-unique sequence numbers are what lets replicas execute each request at most
/// once even when it is ordered twice (a retried request proposed by two leaders).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct TxId {
    /// The issuing client.
    pub client: ClientId,
    /// The client's sequence number, unique among that client's transactions.
    pub seq: u64,
}

impl TxId {
    /// Builds the id of the `seq`-th transaction of `client`.
    pub const fn new(client: ClientId, seq: u64) -> Self {
        Self { client, seq }
    }
}

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}#{}", self.client, self.seq)
    }
}

/// Names the application (smart contract) a transaction is addressed to.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct AppId(pub u16);

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "app{}", self.0)
    }
}

/// A client request: its id, the application it addresses and that application's operations.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Transaction<Op> {
    /// The client-unique id.
    pub id: TxId,
    /// The application that executes the operations.
    pub app: AppId,
    /// The operations, executed in order.
    pub ops: Vec<Op>,
}

impl<Op> Transaction<Op> {
    /// Builds a transaction from its parts.
    pub fn new(id: TxId, app: AppId, ops: Vec<Op>) -> Self {
        Self { id, app, ops }
    }

    /// The issuing client (part of the id).
    pub fn client(&self) -> ClientId {
        self.id.client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tx_id_displays_client_and_sequence_number() {
        assert_eq!(TxId::new(3, 17).to_string(), "c3#17");
        assert_eq!(AppId(2).to_string(), "app2");
    }

    #[test]
    fn tx_ids_order_by_client_then_sequence_number() {
        let mut ids = vec![TxId::new(1, 0), TxId::new(0, 5), TxId::new(0, 1)];
        ids.sort();
        assert_eq!(ids, vec![TxId::new(0, 1), TxId::new(0, 5), TxId::new(1, 0)]);
    }

    #[test]
    fn transaction_new_keeps_its_parts() {
        let tx = Transaction::new(TxId::new(4, 2), AppId(1), vec!['a', 'b']);
        assert_eq!(tx.id, TxId::new(4, 2));
        assert_eq!(tx.client(), 4);
        assert_eq!(tx.app, AppId(1));
        assert_eq!(tx.ops, vec!['a', 'b']);
    }
}
