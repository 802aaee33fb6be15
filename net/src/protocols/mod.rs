//! What drivers may observe of a hosted protocol, without any protocol logic: which actors are
//! clients, how far a client got, and what a replica committed. One implementation per protocol.

pub mod paxos;

use crate::host::HostedActor;

/// A replica's committed ledger, as digests of its entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// Entries below this position are covered by an installed snapshot, not listed.
    pub base: u64,
    /// Digests of the entries at `base..`, in order.
    pub entries: Vec<[u8; 32]>,
}

impl Committed {
    /// Total length, counting what the snapshot stands for.
    pub fn len(&self) -> u64 {
        self.base + self.entries.len() as u64
    }

    /// Whether nothing was committed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `self` and `other` agree on every position both list.
    pub fn agrees_with(&self, other: &Committed) -> bool {
        let from = self.base.max(other.base);
        let to = self.len().min(other.len());
        (from..to).all(|i| {
            self.entries[(i - self.base) as usize] == other.entries[(i - other.base) as usize]
        })
    }
}

/// Read-only views of a protocol's actors that drivers need (completion, ledgers).
pub trait Observed: HostedActor {
    /// The protocol's name as `quorate check` spells it.
    const PROTOCOL: &'static str;

    /// Whether this actor is a client.
    fn is_client(&self) -> bool;

    /// How many operations a client's workload holds (0 for replicas).
    fn workload_len(&self) -> u64;

    /// Operations a client completed so far (`None` for replicas).
    fn completed(state: &Self::State) -> Option<u64>;

    /// A replica's committed ledger, listing entries from position `from` on (`None` for clients).
    fn committed(state: &Self::State, from: u64) -> Option<Committed>;
}
