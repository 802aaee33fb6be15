//! ParBlockchain / OXII with the accounting contract as hosted by `net`: the observation views,
//! and building a deployment's actors from ids and keys (configuration only; every handler is
//! `impl/`'s).
//!
//! Roles by id: the ordering service is servers `0..orderers` — one node running the sequencer
//! actor the checker ran, or 3f+1 ≥ 4 orderers agreeing through PBFT (the PBFT core and learner
//! the checker ran on PBFT, over OXII requests); executors follow (the k-th an agent of
//! application A1 when k is even, of A2 when odd, except the last `passive`, which
//! only apply committed results), and the executor pool's
//! workers follow: each is a node running the pure `execute_declared`, its results delivered
//! to the executor as recorded inputs (DESIGN §3). Clients come after the servers. Executors
//! reply to clients after appending a block, and a client accepts on f_A + 1 matching replies,
//! so a client's completed count is committed transactions.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use quorate_impl::crypto::{Crypto, Keyring, NodeId, Signer};
use quorate_impl::oxii::{
    Client, Executor, ExecutorPool, Honest, Membership, NodeState, Orderer, OxiiNode, PbftOrderer,
    Rules, Work,
};
use quorate_impl::pbft::Learner;
use quorate_impl::trace::digest;
use quorate_spec::oxii::{AccessSets, AccountOp, Accounts};
use quorate_spec::{AppId, Key, KvState, Value};

use super::pbft::{
    check_pbft_orderers, consensus_verifications_per_batch, PbftKnobs, PBFT_ORDERED_FROM,
};
use super::{Committed, Deployment, Observed};

/// A deployed OXII node with the honest rules.
pub type OxiiHonest<C> = OxiiNode<C, Accounts, Honest>;

/// The deployment's two applications (so blocks hold cross-application dependencies).
pub const APPS: [AppId; 2] = [AppId(1), AppId(2)];

/// The account every client's transfers of kind 0 and 3 pay into (the contended key).
pub const HOT: Key = Key(0);

impl<C: Crypto, R: Rules> Observed for OxiiNode<C, Accounts, R>
where
    OxiiNode<C, Accounts, R>: crate::host::HostedActor<State = NodeState<C, AccountOp>>,
{
    const PROTOCOL: &'static str = "oxii";

    fn is_client(&self) -> bool {
        matches!(self, OxiiNode::Client(_))
    }

    fn workload_len(&self) -> u64 {
        match self {
            OxiiNode::Client(client) => client.workload.len() as u64,
            _ => 0,
        }
    }

    fn completed(state: &Self::State) -> Option<u64> {
        state.as_client().map(|c| c.finished())
    }

    fn committed(state: &Self::State, from: u64) -> Option<Committed> {
        // One entry per ordered transaction: its block, position, request and committed
        // outcome, and the state digest after its block, so executors that agree on outcomes
        // but not on the datastore (the seed-literal apply rule) are caught too.
        let executor = state.as_executor()?;
        let mut entries = Vec::new();
        let mut position = 0u64;
        for entry in &executor.ledger {
            let next = position + entry.outcomes.len() as u64;
            if next > from {
                let skip = from.saturating_sub(position) as usize;
                entries.extend(
                    entry
                        .block
                        .txs
                        .iter()
                        .zip(&entry.outcomes)
                        .enumerate()
                        .skip(skip)
                        .map(|(index, (request, outcome))| {
                            digest(&(entry.seq, index, request, outcome, entry.state_digest))
                        }),
                );
            }
            position = next;
        }
        Some(Committed {
            base: from.min(position),
            entries,
        })
    }
}

/// Knobs of a deployed OXII cluster.
#[derive(Clone, Debug)]
pub struct OxiiDeployment {
    /// Orderers are ids `0..orderers`: 1 runs the sequencer alone (no fault tolerance in
    /// ordering); 3f+1 ≥ 4 agree through PBFT and tolerate f Byzantine orderers.
    pub orderers: usize,
    /// Executors follow the orderers.
    pub executors: usize,
    /// The last `passive` executors are agents of no application: they only apply the results
    /// the agents commit (the seed's non-executor peers), so they hear every result from the
    /// network, which is where an apply order that is not the graph's shows.
    pub passive: usize,
    /// Executor-pool workers follow the executors.
    pub workers: usize,
    /// Genesis balance of every account.
    pub balance: Value,
    /// The orderer cuts a block once this many requests wait (or on its timer).
    pub max_block: usize,
    /// How long a request waits for its block to fill.
    pub max_wait: Range<Duration>,
    /// Client retry range (a lost request, block or reply).
    pub client_retry: Range<Duration>,
    /// PBFT ordering: the core's knobs.
    pub pbft: PbftKnobs,
}

impl OxiiDeployment {
    /// Sensible defaults for `executors` executors and `workers` pool workers.
    pub fn new(executors: usize, workers: usize) -> Self {
        OxiiDeployment {
            orderers: 1,
            executors,
            passive: 0,
            workers,
            balance: 1_000_000,
            max_block: 200,
            max_wait: Duration::from_millis(5)..Duration::from_millis(10),
            client_retry: Duration::from_millis(2000)..Duration::from_millis(3000),
            pbft: PbftKnobs::default(),
        }
    }

    /// The same cluster with `orderers` orderers agreeing through PBFT (3f+1, f ≥ 1).
    pub fn with_pbft_ordering(self, orderers: usize) -> Result<Self, String> {
        check_pbft_orderers(orderers)?;
        Ok(OxiiDeployment { orderers, ..self })
    }

    /// The first orderer: the sequencer, or PBFT's primary of view 0 (clients submit to it
    /// first and to every orderer on retry).
    pub fn orderer(&self) -> NodeId {
        0
    }

    /// The orderers' ids.
    pub fn orderer_ids(&self) -> Vec<NodeId> {
        (0..self.orderers as NodeId).collect()
    }

    /// The executors' ids.
    pub fn executor_ids(&self) -> Vec<NodeId> {
        let first = self.orderers as NodeId;
        (first..first + self.executors as NodeId).collect()
    }

    /// The executors that are agents of an application (the others are passive).
    pub fn agent_ids(&self) -> Vec<NodeId> {
        let mut ids = self.executor_ids();
        ids.truncate(self.executors.saturating_sub(self.passive));
        ids
    }

    /// The pool workers' ids.
    pub fn worker_ids(&self) -> Vec<NodeId> {
        let first = (self.orderers + self.executors) as NodeId;
        (first..first + self.workers as NodeId).collect()
    }

    /// How many servers (orderers, executors, workers).
    pub fn servers(&self) -> usize {
        self.orderers + self.executors + self.workers
    }

    /// Σ(A), f_A = ⌊(|Σ(A)| − 1) / 2⌋ and τ(A) = f_A + 1 (card gap G1), and every member of
    /// the keyring outside the servers as a client allowed both applications.
    pub fn membership<C: Crypto>(&self, keyring: Arc<Keyring<C>>) -> Membership<C> {
        let mut agents: BTreeMap<AppId, BTreeSet<NodeId>> = BTreeMap::new();
        for (k, id) in self.agent_ids().into_iter().enumerate() {
            agents.entry(APPS[k % 2]).or_default().insert(id);
        }
        let faulty_agents: BTreeMap<AppId, usize> = agents
            .iter()
            .map(|(app, set)| (*app, (set.len() - 1) / 2))
            .collect();
        let tau = faulty_agents.iter().map(|(app, f)| (*app, f + 1)).collect();
        let acl = keyring
            .ids()
            .filter(|&id| id as usize >= self.servers())
            .map(|id| (id, APPS.into_iter().collect()))
            .collect();
        Membership {
            agents,
            tau,
            faulty_agents,
            acl,
            executors: self.executor_ids(),
            orderers: self.orderer_ids(),
            keyring,
        }
    }

    fn contracts() -> BTreeMap<AppId, Accounts> {
        APPS.into_iter().map(|id| (id, Accounts { id })).collect()
    }

    /// Every member's account (`Key(id + 1)`), the hot account and one spare hold the genesis
    /// balance.
    fn genesis<C: Crypto>(&self, keyring: &Keyring<C>) -> KvState {
        let last = keyring.ids().max().unwrap_or(0) + 2;
        (0..=last).map(|k| (Key(k), self.balance)).collect()
    }

    /// Server `signer.id()`: the orderer, an executor, or a pool worker.
    pub fn server<C: Crypto, R: Rules>(
        &self,
        signer: Signer<C>,
        keyring: Arc<Keyring<C>>,
    ) -> OxiiNode<C, Accounts, R> {
        let id = signer.id();
        let membership = Arc::new(self.membership(keyring.clone()));
        if self.orderers > 1 && self.orderer_ids().contains(&id) {
            return OxiiNode::PbftOrderer(PbftOrderer {
                ordering: self
                    .pbft
                    .ordering(signer, self.orderer_ids(), keyring, self.max_block),
                membership,
                rules: PhantomData,
            });
        }
        if id == self.orderer() {
            return OxiiNode::Orderer(Orderer {
                id,
                batches: Vec::new(),
                membership,
                max_block: self.max_block,
                max_wait: self.max_wait.clone(),
                rules: PhantomData,
            });
        }
        if self.worker_ids().contains(&id) {
            return OxiiNode::Pool(ExecutorPool {
                id,
                contracts: Self::contracts(),
            });
        }
        OxiiNode::Executor(Executor {
            id,
            learner: Learner::new(membership.orderers.clone()),
            membership,
            pools: self.worker_ids(),
            reply_to_clients: true,
            genesis: self.genesis(&keyring),
            marker: PhantomData,
        })
    }

    /// A client signing with `signer` that submits `operations` transactions, alternating
    /// applications: transfers into the hot account (contended across clients and across
    /// applications), transfers to the next client's account, and deposits to its own.
    pub fn client<C: Crypto, R: Rules>(
        &self,
        signer: Signer<C>,
        keyring: Arc<Keyring<C>>,
        operations: u64,
    ) -> OxiiNode<C, Accounts, R> {
        let own = Key(signer.id() + 1);
        let next = Key(signer.id() + 2);
        let workload = (0..operations)
            .map(|i| {
                let (op, access) = match i % 4 {
                    0 | 3 => transfer(own, HOT),
                    1 => transfer(own, next),
                    _ => (
                        AccountOp::Add(own, 1),
                        AccessSets::new([], [own]), // a read-modify-write declared as a write
                    ),
                };
                Work {
                    app: APPS[(i % 2) as usize],
                    ops: vec![op],
                    access,
                }
            })
            .collect();
        OxiiNode::Client(Client {
            signer,
            orderers: self.orderer_ids(),
            membership: Arc::new(self.membership(keyring)),
            workload,
            retry: Some(self.client_retry.clone()),
            multicast: self.orderers > 1,
        })
    }
}

/// A one-unit transfer with the seed's declared sets: ρ = {from}, ω = {from, to}.
fn transfer(from: Key, to: Key) -> (AccountOp, AccessSets) {
    (
        AccountOp::Transfer {
            from,
            to,
            amount: 1,
        },
        AccessSets::new([from], [from, to]),
    )
}

impl<C: Crypto> Deployment<C> for OxiiDeployment
where
    OxiiHonest<C>: Observed + 'static,
    <OxiiHonest<C> as stateright::actor::Actor>::Msg: Send + 'static,
    <OxiiHonest<C> as stateright::actor::Actor>::Storage: crate::store::StorageLayout,
{
    type Actor = OxiiHonest<C>;

    fn with_servers(servers: usize) -> Result<Self, String> {
        if servers < 4 {
            return Err(format!(
                "{servers} servers: OXII wants at least 4 (the orderer, an executor for each of \
                 its two applications, and an executor-pool worker)"
            ));
        }
        // From 7 servers on, four of them order through PBFT (f = 1); below, one orderer
        // runs the sequencer. A third of the rest run transactions, the others keep ledgers.
        let orderers = if servers >= PBFT_ORDERED_FROM { 4 } else { 1 };
        let rest = servers - orderers;
        let workers = (rest / 3).max(1);
        let deployment = OxiiDeployment::new(rest - workers, workers);
        if orderers == 1 {
            return Ok(deployment);
        }
        deployment.with_pbft_ordering(orderers)
    }

    fn servers(&self) -> usize {
        OxiiDeployment::servers(self)
    }

    fn server(&self, signer: Signer<C>, keyring: Arc<Keyring<C>>) -> Self::Actor {
        OxiiDeployment::server::<C, Honest>(self, signer, keyring)
    }

    fn client(&self, signer: Signer<C>, keyring: Arc<Keyring<C>>, operations: u64) -> Self::Actor {
        OxiiDeployment::client::<C, Honest>(self, signer, keyring, operations)
    }

    fn keeps_ledger(&self, server: NodeId) -> bool {
        // The orderer keeps the order and the workers keep nothing; executors keep ledgers.
        self.executor_ids().contains(&server)
    }

    fn restart_hazard(&self) -> Option<&'static str> {
        Some(
            "OXII nodes keep no durable Storage yet: a restarted orderer numbers blocks from 1 \
             again and a restarted executor comes back with an empty ledger and no state \
             transfer (card gap G20)",
        )
    }

    fn verifications_per_tx(&self, batch: f64) -> f64 {
        // The orderer checks the client's signature when it builds the block (PBFT orderers:
        // each of n on intake, clients multicasting, and again when it builds the block) and
        // each agent of the transaction's application re-checks it before executing (gap
        // G19). PBFT ordering adds its consensus signatures per batch. Blocks, results and
        // replies are authenticated by the links, not signed.
        let agents_per_app = self.executors as f64 / APPS.len() as f64;
        if self.orderers == 1 {
            return 1.0 + agents_per_app;
        }
        let n = self.orderers as f64;
        2.0 * n + agents_per_app + consensus_verifications_per_batch(self.orderers) / batch.max(1.0)
    }
}
