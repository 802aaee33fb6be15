//! What drivers may observe of a hosted protocol, without any protocol logic: which actors are
//! clients, how far a client got, and what a replica committed. One implementation per protocol.

pub mod oxii;
pub mod paxos;
pub mod pbft;
pub mod xov;

use std::sync::Arc;

use quorate_impl::crypto::{Crypto, Keyring, NodeId, Signer, Symbolic};

use crate::host::HostedActor;

/// The protocols `net` can host, as cluster files and `--protocol` spell them.
pub const HOSTED: [&str; 4] = ["oxii", "paxos", "pbft", "xov"];

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

/// Builds a deployed cluster's actors from ids and keys — configuration only, every handler is
/// `impl/`'s. Members are `0..servers()` (whatever roles the protocol gives them: replicas
/// today; peers, orderers and executors for XOV/OXII, told apart by id inside the deployment),
/// then clients. Generic over the crypto so one deployment serves QUIC (ed25519) and SimHost
/// (symbolic) runs.
pub trait Deployment<C: Crypto> {
    /// The hosted actor (honest rules); its messages cross to the QUIC link tasks.
    type Actor: Observed<Msg: Send + 'static, Storage: crate::store::StorageLayout> + 'static;

    /// A deployment of the protocol's defaults for `servers` servers, or why that size is refused.
    fn with_servers(servers: usize) -> Result<Self, String>
    where
        Self: Sized;

    /// How many server members (ids `0..servers`).
    fn servers(&self) -> usize;

    /// Server `signer.id()`, verifying everyone against `keyring`.
    fn server(&self, signer: Signer<C>, keyring: Arc<Keyring<C>>) -> Self::Actor;

    /// A client signing with `signer` that submits `operations` transactions.
    fn client(&self, signer: Signer<C>, keyring: Arc<Keyring<C>>, operations: u64) -> Self::Actor;

    /// Why a server of this deployment must not be killed and restarted, if so (a protocol
    /// whose replicas keep no durable Storage could contradict its own earlier votes).
    fn restart_hazard(&self) -> Option<&'static str> {
        None
    }

    /// Whether server `server` keeps a committed ledger to compare (an ordering-only role,
    /// such as XOV's orderer, does not).
    fn keeps_ledger(&self, _server: NodeId) -> bool {
        true
    }

    /// Signature verifications one committed transaction costs the whole cluster (clients
    /// included) at the given batch size: the crypto bound is the machine's verification rate
    /// divided by this.
    fn verifications_per_tx(&self, batch: f64) -> f64;
}

/// Every actor of a cluster with symbolic crypto (SimHost runs): servers, then `clients`
/// clients with `operations` transactions each.
pub fn symbolic_cluster<D: Deployment<Symbolic>>(
    deployment: &D,
    clients: usize,
    operations: u64,
) -> Vec<D::Actor> {
    let total = (deployment.servers() + clients) as NodeId;
    let keyring = Arc::new(Keyring::symbolic(0..total));
    (0..total)
        .map(|id| {
            if (id as usize) < deployment.servers() {
                deployment.server(Signer::symbolic(id), keyring.clone())
            } else {
                deployment.client(Signer::symbolic(id), keyring.clone(), operations)
            }
        })
        .collect()
}
