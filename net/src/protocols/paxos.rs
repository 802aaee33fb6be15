//! Multi-Paxos as hosted by `net`: the observation views, and building a deployment's actors
//! from ids and keys (configuration only; every handler is `impl/`'s).

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use quorate_impl::crypto::{Crypto, Keyring, NodeId, Signer};
use quorate_impl::paxos::{Client, Honest, NodeState, PaxosNode, Replica, Rules};
use quorate_impl::quorum;
use quorate_impl::trace::digest;
use quorate_spec::{Application, Key, KvOp, KvStore};

use super::{Committed, Deployment, Observed};

/// A deployed Paxos node over the key-value store with honest rules.
pub type PaxosKv<C> = PaxosNode<C, KvStore, Honest>;

impl<C: Crypto, A: Application, R: Rules> Observed for PaxosNode<C, A, R>
where
    PaxosNode<C, A, R>: crate::host::HostedActor<State = NodeState<C, A::Op, A::Output>>,
{
    const PROTOCOL: &'static str = "paxos";

    fn is_client(&self) -> bool {
        matches!(self, PaxosNode::Client(_))
    }

    fn workload_len(&self) -> u64 {
        match self {
            PaxosNode::Client(client) => client.workload.len() as u64,
            PaxosNode::Replica(_) => 0,
        }
    }

    fn completed(state: &Self::State) -> Option<u64> {
        state.as_client().map(|c| u64::from(c.completed))
    }

    fn committed(state: &Self::State, from: u64) -> Option<Committed> {
        let replica = state.as_replica()?;
        let base = replica.delivered_base.max(from);
        let skip = (base - replica.delivered_base) as usize;
        Some(Committed {
            base,
            entries: replica.delivered.iter().skip(skip).map(digest).collect(),
        })
    }
}

/// Knobs of a deployed Paxos cluster.
#[derive(Clone, Debug)]
pub struct PaxosDeployment {
    /// Replicas are ids `0..replicas`; clients follow.
    pub replicas: usize,
    /// Leader's window of slots awaiting a quorum.
    pub window: usize,
    /// Requests per batch.
    pub batch_max: usize,
    /// Snapshot every this many slots (0 = never).
    pub snapshot_every: u64,
    /// A learner this many slots behind asks peers to catch it up.
    pub gap_trigger: u64,
    /// Leader (and follower) timeout range.
    pub leader_timeout: Range<Duration>,
    /// Client retry range.
    pub client_retry: Range<Duration>,
}

impl PaxosDeployment {
    /// Sensible defaults for `replicas` replicas.
    pub fn new(replicas: usize) -> Self {
        PaxosDeployment {
            replicas,
            window: 8,
            batch_max: 64,
            snapshot_every: 0,
            gap_trigger: 4,
            leader_timeout: Duration::from_millis(1000)..Duration::from_millis(2000),
            client_retry: Duration::from_millis(1500)..Duration::from_millis(3000),
        }
    }

    fn replica_ids(&self) -> Vec<NodeId> {
        (0..self.replicas as NodeId).collect()
    }

    /// Replica `id`, verifying client signatures against `keyring`.
    pub fn replica<C: Crypto, R: Rules>(
        &self,
        id: NodeId,
        keyring: Arc<Keyring<C>>,
    ) -> PaxosNode<C, KvStore, R> {
        PaxosNode::Replica(Replica::new(
            id,
            self.replica_ids(),
            keyring,
            KvStore,
            self.window,
            self.batch_max,
            self.snapshot_every,
            self.gap_trigger,
            self.leader_timeout.clone(),
        ))
    }

    /// A client signing with `signer` that submits `operations` transactions; client `k` starts
    /// at replica `k mod n` only as a hint (it learns the leader from replies).
    pub fn client<C: Crypto, R: Rules>(
        &self,
        signer: Signer<C>,
        operations: u64,
    ) -> PaxosNode<C, KvStore, R> {
        let id = signer.id();
        let workload = (0..operations)
            .map(|i| {
                let key = Key((u64::from(id) * 7 + i) as u32 % 64);
                if i % 3 == 2 {
                    vec![KvOp::Get(key)]
                } else {
                    vec![KvOp::Put(key, (i as i64) ^ i64::from(id))]
                }
            })
            .collect();
        PaxosNode::Client(Client {
            signer,
            replicas: self.replica_ids(),
            app: KvStore::APP_ID,
            workload,
            retry_after: self.client_retry.clone(),
        })
    }
}

impl PaxosDeployment {
    /// Every actor of a cluster with symbolic crypto (SimHost tests): replicas, then `clients`
    /// clients with `operations` transactions each.
    pub fn symbolic_actors<R: Rules>(
        &self,
        clients: usize,
        operations: u64,
    ) -> Vec<PaxosNode<quorate_impl::crypto::Symbolic, KvStore, R>> {
        let total = (self.replicas + clients) as NodeId;
        let keyring = Arc::new(Keyring::symbolic(0..total));
        let mut actors: Vec<_> = (0..self.replicas as NodeId)
            .map(|id| self.replica(id, keyring.clone()))
            .collect();
        for id in self.replicas as NodeId..total {
            actors.push(self.client(Signer::symbolic(id), operations));
        }
        actors
    }
}

impl<C: Crypto> Deployment<C> for PaxosDeployment
where
    PaxosKv<C>: Observed + 'static,
    <PaxosKv<C> as stateright::actor::Actor>::Msg: Send + 'static,
    <PaxosKv<C> as stateright::actor::Actor>::Storage: crate::store::StorageLayout,
{
    type Actor = PaxosKv<C>;

    fn with_servers(servers: usize) -> Result<Self, String> {
        let faults = quorum::crash_max_faults(servers);
        quorum::check_crash_config(servers, faults).map_err(|e| e.to_string())?;
        if servers != 2 * faults + 1 {
            return Err(format!(
                "{servers} replicas: Paxos wants an odd number (n = 2f+1); an even one adds a \
                 replica that tolerates no extra fault"
            ));
        }
        Ok(PaxosDeployment::new(servers))
    }

    fn servers(&self) -> usize {
        self.replicas
    }

    fn server(&self, signer: Signer<C>, keyring: Arc<Keyring<C>>) -> Self::Actor {
        // Paxos replicas sign nothing: only clients' requests carry signatures.
        self.replica::<C, Honest>(signer.id(), keyring)
    }

    fn client(&self, signer: Signer<C>, _keyring: Arc<Keyring<C>>, operations: u64) -> Self::Actor {
        PaxosDeployment::client::<C, Honest>(self, signer, operations)
    }

    fn verifications_per_tx(&self, _batch: f64) -> f64 {
        // The leader verifies each request once before proposing it; replies are unsigned.
        1.0
    }
}
