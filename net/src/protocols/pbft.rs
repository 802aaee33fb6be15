//! PBFT as hosted by `net`: the observation views, and building a deployment's actors from ids
//! and keys (configuration only; every handler is `impl/`'s).

use std::marker::PhantomData;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use quorate_impl::crypto::{Crypto, Keyring, NodeId, Signer};
use quorate_impl::paxos::core::Payload;
use quorate_impl::pbft::ordering::Ordering;
use quorate_impl::pbft::{Client, Core, Honest, Learner, NodeState, PbftNode, Replica, Rules, Seq};
use quorate_impl::quorum;
use quorate_impl::trace::digest;
use quorate_spec::{Application, Key, KvOp, KvStore};

use super::{Committed, Deployment, Observed};

/// A deployed PBFT node over the key-value store with honest rules.
pub type PbftKv<C> = PbftNode<C, KvStore, Honest>;

impl<C: Crypto, A: Application, R: Rules> Observed for PbftNode<C, A, R>
where
    PbftNode<C, A, R>: crate::host::HostedActor<State = NodeState<C, A::Op, A::Output>>,
{
    const PROTOCOL: &'static str = "pbft";

    fn is_client(&self) -> bool {
        matches!(self, PbftNode::Client(_))
    }

    fn workload_len(&self) -> u64 {
        match self {
            PbftNode::Client(client) => client.workload.len() as u64,
            PbftNode::Replica(_) | PbftNode::Byzantine(_) => 0,
        }
    }

    fn completed(state: &Self::State) -> Option<u64> {
        state.as_client().map(|c| c.accepted.len() as u64)
    }

    fn committed(state: &Self::State, from: u64) -> Option<Committed> {
        // The executed requests, as with Paxos: what `refines-sequencer` compares, so ledgers
        // of replicas that batched differently still line up entry by entry.
        let replica = state.as_replica()?;
        let base = replica.delivered_base.max(from);
        let skip = (base - replica.delivered_base) as usize;
        Some(Committed {
            base,
            entries: replica.delivered.iter().skip(skip).map(digest).collect(),
        })
    }
}

/// From this many servers on, a deployed OXII or XOV cluster orders through PBFT among four
/// orderers (f = 1); below, one orderer runs the sequencer the checker ran.
pub const PBFT_ORDERED_FROM: usize = 7;

/// The PBFT core's knobs, the same wherever a deployment runs the core (PBFT replicas, OXII's
/// and XOV's ordering services).
#[derive(Clone, Debug)]
pub struct PbftKnobs {
    /// A checkpoint every this many sequence numbers.
    pub checkpoint_every: Seq,
    /// Watermark window: sequence numbers in flight above the stable checkpoint.
    pub window: Seq,
    /// A backup waiting this long for a request to commit starts a view change.
    pub view_timeout: Range<Duration>,
    /// The primary's pipeline: sequence numbers ordered and not yet committed, at most
    /// (requests arriving meanwhile fill the next batch).
    pub max_in_flight: usize,
}

impl Default for PbftKnobs {
    fn default() -> Self {
        PbftKnobs {
            checkpoint_every: 16,
            window: 64,
            view_timeout: Duration::from_millis(1500)..Duration::from_millis(2500),
            max_in_flight: 2,
        }
    }
}

impl PbftKnobs {
    /// Orderer `signer.id()` of an ordering service over `orderers`, batching up to `batch_max`.
    pub fn ordering<P: Payload, C: Crypto>(
        &self,
        signer: Signer<C>,
        orderers: Vec<NodeId>,
        keyring: Arc<Keyring<C>>,
        batch_max: usize,
    ) -> Ordering<P, C> {
        Ordering {
            core: Core::new(
                signer,
                orderers.clone(),
                orderers.clone(),
                keyring,
                batch_max,
                self.checkpoint_every,
                self.window,
                self.view_timeout.clone(),
            )
            .with_max_in_flight(self.max_in_flight),
            learner: Learner::new(orderers),
        }
    }
}

/// Signatures checked across `n` replicas to agree on one batch: n-1 backups check the
/// PRE-PREPARE, each of the n-1 backups' PREPAREs is checked by the n-1 others, and each of
/// the n COMMITs by the n-1 others.
pub fn consensus_verifications_per_batch(n: usize) -> f64 {
    let n = n as f64;
    (n - 1.0) + (n - 1.0) * (n - 1.0) + n * (n - 1.0)
}

/// `orderers` orderers can order through PBFT: 3f+1 with f ≥ 1.
pub fn check_pbft_orderers(orderers: usize) -> Result<(), String> {
    let faults = quorum::bft_max_faults(orderers);
    quorum::check_byzantine_config(orderers, faults).map_err(|e| e.to_string())?;
    if faults == 0 {
        return Err(format!(
            "{orderers} orderers tolerate no Byzantine orderer: PBFT ordering needs 4 or more"
        ));
    }
    Ok(())
}

/// Knobs of a deployed PBFT cluster.
#[derive(Clone, Debug)]
pub struct PbftDeployment {
    /// Replicas are ids `0..replicas` (n = 3f+1); clients follow.
    pub replicas: usize,
    /// Requests per pre-prepared batch.
    pub batch_max: usize,
    /// The core's knobs.
    pub pbft: PbftKnobs,
    /// Client broadcast-retry range.
    pub client_retry: Range<Duration>,
}

impl PbftDeployment {
    /// Sensible defaults for `replicas` replicas.
    pub fn new(replicas: usize) -> Self {
        PbftDeployment {
            replicas,
            batch_max: 64,
            pbft: PbftKnobs::default(),
            client_retry: Duration::from_millis(1000)..Duration::from_millis(2000),
        }
    }

    fn replica_ids(&self) -> Vec<NodeId> {
        (0..self.replicas as NodeId).collect()
    }

    /// Replica `signer.id()`; the primary of view v is replica v mod n.
    pub fn replica<C: Crypto, R: Rules>(
        &self,
        signer: Signer<C>,
        keyring: Arc<Keyring<C>>,
    ) -> PbftNode<C, KvStore, R> {
        PbftNode::Replica(
            Replica::new(
                signer,
                self.replica_ids(),
                self.replica_ids(),
                keyring,
                KvStore,
                self.batch_max,
                self.pbft.checkpoint_every,
                self.pbft.window,
                self.pbft.view_timeout.clone(),
            )
            .with_max_in_flight(self.pbft.max_in_flight),
        )
    }

    /// A client signing with `signer` that submits `operations` transactions.
    pub fn client<C: Crypto, R: Rules>(
        &self,
        signer: Signer<C>,
        keyring: Arc<Keyring<C>>,
        operations: u64,
    ) -> PbftNode<C, KvStore, R> {
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
        PbftNode::Client(Client {
            signer,
            keyring,
            replicas: self.replica_ids(),
            primary: 0,
            app: KvStore::APP_ID,
            workload,
            retry_after: self.client_retry.clone(),
            _rules: PhantomData,
        })
    }
}

impl<C: Crypto> Deployment<C> for PbftDeployment
where
    PbftKv<C>: Observed + 'static,
    <PbftKv<C> as stateright::actor::Actor>::Msg: Send + 'static,
    <PbftKv<C> as stateright::actor::Actor>::Storage: crate::store::StorageLayout,
{
    type Actor = PbftKv<C>;

    fn with_servers(servers: usize) -> Result<Self, String> {
        let faults = quorum::bft_max_faults(servers);
        quorum::check_byzantine_config(servers, faults).map_err(|e| e.to_string())?;
        if faults == 0 || servers != 3 * faults + 1 {
            return Err(format!(
                "{servers} replicas: PBFT wants n = 3f+1 with f >= 1 (4, 7, 10, ...); other sizes \
                 tolerate no more faults than the 3f+1 below them"
            ));
        }
        Ok(PbftDeployment::new(servers))
    }

    fn servers(&self) -> usize {
        self.replicas
    }

    fn server(&self, signer: Signer<C>, keyring: Arc<Keyring<C>>) -> Self::Actor {
        self.replica::<C, Honest>(signer, keyring)
    }

    fn client(&self, signer: Signer<C>, keyring: Arc<Keyring<C>>, operations: u64) -> Self::Actor {
        PbftDeployment::client::<C, Honest>(self, signer, keyring, operations)
    }

    fn verifications_per_tx(&self, batch: f64) -> f64 {
        let n = self.replicas as f64;
        let f = quorum::bft_max_faults(self.replicas) as f64;
        // Per request: the primary checks it on arrival and each backup in the pre-prepare
        // (n), and the client checks f+1 signed replies.
        n + f + 1.0 + consensus_verifications_per_batch(self.replicas) / batch.max(1.0)
    }
}
