//! ParBlockchain / OXII (seed 001 ch.5; card `parblockchain.md`): orderers agree on blocks and
//! build each block's dependency graph; executors that are agents of an application execute its
//! transactions in parallel along the graph and exchange results; every executor commits a
//! transaction on τ(A) matching results from distinct agents and applies results in graph order.
//!
//! - [`client`]: signs transactions with their declared sets, submits them to the orderer and
//!   accepts a result on f_A + 1 matching replies from distinct agents (card gap G8).
//! - [`orderer`]: request admission (client signature, per-application access, well-formed
//!   sets, per-client timestamps), block building with the graph, and the ordering actor over
//!   the abstract sequencer: it orders batches fixed at start-up (the model's configurations)
//!   and requests taken in from clients, cut by size or by its timer.
//! - [`pbft_orderer`]: the ordering service through PBFT (deployment, and the `pbft-orderers`
//!   configuration): PBFT's core and learner over requests, blocks built on delivery.
//! - [`executor`]: the executor actor (Algorithms 6-8 as corrected by the card's §5.5), with the
//!   PBFT [`Learner`](crate::pbft::Learner) in front of it.
//! - [`env`]: the executor-pool environment actor (execution as an effect, DESIGN §3) and the
//!   Byzantine executor.
//! - [`rules`]: the honest rules, the mutants and the seed-literal apply rule.

pub mod client;
pub mod env;
pub mod executor;
pub mod orderer;
pub mod pbft_orderer;
pub mod rules;

use crate::crypto::{Crypto, Keyring, NodeId, Signed};
use crate::pbft::{Batch, CoreMsg, CoreTimer, Seq};
use quorate_spec::app::Data;
use quorate_spec::oxii::{DeclaredTx, DepGraph, TxResult};
use quorate_spec::{AppId, Application, ClientId, KvState, TxId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub use client::{Client, ClientState, Work};
pub use env::{ByzantineExecutor, ExecutorPool};
pub use executor::{BlockRun, Executor, ExecutorState, LedgerEntry};
pub use orderer::{admissible, build_block, Orderer, OrdererState};
pub use pbft_orderer::{PbftOrderer, PbftOrdererState};
pub use rules::{
    ApplyOnDecide, ClientAcceptsFirst, CommitOnFirst, DropWriteWriteEdges,
    ExecuteBeforeForeignPredecessors, Honest, Rules, SkipAccessCheck,
};

/// A client request: the transaction with its declared sets, signed by the client.
pub type Request<C, Op> = Signed<DeclaredTx<Op>, C>;

/// A block as orderers agree on it (the NEWBLOCK body without n, which is the sequence number).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(serialize = "Op: Serialize", deserialize = "Op: Deserialize<'de>"))]
pub struct Block<C: Crypto, Op> {
    /// The admitted requests in agreed order; position = ts (§5.3.1).
    pub txs: Vec<Request<C, Op>>,
    /// G(B).
    pub graph: DepGraph,
}

/// Who executes what and how many matching results commit (known to every peer, §5.3.2), and
/// who may submit for which application (§5.3.1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Membership<C: Crypto> {
    /// Σ(A): the agents of each application.
    pub agents: BTreeMap<AppId, BTreeSet<NodeId>>,
    /// τ(A).
    pub tau: BTreeMap<AppId, usize>,
    /// f_A: Byzantine agents tolerated per application (card gap G1).
    pub faulty_agents: BTreeMap<AppId, usize>,
    /// The access-control table: the applications each client may submit for.
    pub acl: BTreeMap<ClientId, BTreeSet<AppId>>,
    /// Every executor (agents, passive executors and non-executors alike).
    pub executors: Vec<NodeId>,
    /// The orderers whose block deliveries the executors' learners count.
    pub orderers: Vec<NodeId>,
    /// Public keys of clients, orderers and executors.
    pub keyring: Arc<Keyring<C>>,
}

impl<C: Crypto> Membership<C> {
    /// Checks the per-application rule of card gap G1 (deterministic contracts, f_A Byzantine
    /// agents): τ(A) ≥ f_A + 1 so a τ-set holds a correct agent, and |Σ(A)| ≥ τ(A) + f_A so the
    /// correct agents alone reach τ.
    pub fn validate(&self) -> Result<(), String> {
        for (app, agents) in &self.agents {
            let tau = self.tau_of(*app);
            let f = self.faulty_agents.get(app).copied().unwrap_or(0);
            if tau < crate::quorum::bft_weak_certificate(f) {
                return Err(format!(
                    "τ({app}) = {tau} is below f_A + 1 = {} (a τ-set must hold a correct agent)",
                    f + 1
                ));
            }
            if agents.len() < tau + f {
                return Err(format!(
                    "{app} has {} agents; τ + f_A = {} are needed for the correct ones to commit",
                    agents.len(),
                    tau + f
                ));
            }
        }
        Ok(())
    }

    /// τ(A); an application without a configured threshold needs one result.
    pub fn tau_of(&self, app: AppId) -> usize {
        self.tau.get(&app).copied().unwrap_or(1)
    }

    /// Whether `node` is an agent of `app`.
    pub fn is_agent(&self, node: NodeId, app: AppId) -> bool {
        self.agents.get(&app).is_some_and(|a| a.contains(&node))
    }
}

/// The messages of OXII. `ExecCommit` is the seed's COMMIT (execution results), named apart from
/// PBFT's consensus COMMIT.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(serialize = "Op: Serialize", deserialize = "Op: Deserialize<'de>"))]
pub enum OxiiMsg<C: Crypto, Op> {
    /// NEWBLOCK: orderer → executors, block `seq` (a learner delivery).
    NewBlock {
        /// Block number n.
        seq: Seq,
        /// The block (one per sequence number; `Batch` is the learner's delivery unit).
        batch: Batch<Block<C, Op>>,
    },
    /// COMMIT of Alg. 7: an agent's results for block `seq`, by block position.
    ExecCommit {
        /// Block number n (card gap G12).
        seq: Seq,
        /// (position, result) pairs.
        results: Vec<(u32, TxResult)>,
    },
    /// Executor → executor pool: run this transaction on these inputs.
    Execute {
        /// Block number.
        seq: Seq,
        /// Block position.
        index: u32,
        /// The transaction and its declared sets.
        tx: DeclaredTx<Op>,
        /// The values of its declared keys, read by the versioned-read rule.
        inputs: KvState,
    },
    /// Executor pool → executor: the result (a recorded input in deployment).
    Executed {
        /// Block number.
        seq: Seq,
        /// Block position.
        index: u32,
        /// The result.
        result: TxResult,
    },
    /// REQUEST: client → orderer.
    Submit(Request<C, Op>),
    /// PBFT between orderers that agree through it.
    Consensus(CoreMsg<Request<C, Op>, C>),
    /// REPLY (card gap G8): an agent of the transaction's application → its client, after the
    /// block is appended. Authenticated by the link, like `ExecCommit`.
    Reply {
        /// The client's transaction id (client, timestamp).
        tx: TxId,
        /// Its committed outcome.
        result: TxResult,
    },
}

/// OXII's timers. The fixed-batch configurations of the model arm none (so `deadlock-free`
/// stays meaningful there); the intake orderer cuts on `Cut`, deployed clients retry on `Retry`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum OxiiTimer {
    /// The orderer cuts a block of every waiting request.
    Cut,
    /// A deployed client re-sends its request to every orderer.
    Retry,
    /// A PBFT orderer's view timer.
    Consensus(CoreTimer),
}

impl From<CoreTimer> for OxiiTimer {
    fn from(timer: CoreTimer) -> Self {
        OxiiTimer::Consensus(timer)
    }
}

impl<C: Crypto, Op> From<CoreMsg<Request<C, Op>, C>> for OxiiMsg<C, Op> {
    fn from(msg: CoreMsg<Request<C, Op>, C>) -> Self {
        OxiiMsg::Consensus(msg)
    }
}

impl From<crate::component::NoTimer> for OxiiTimer {
    fn from(never: crate::component::NoTimer) -> Self {
        match never {}
    }
}

/// The messages of an OXII deployment over application `A`.
pub type MsgOf<C, A> = OxiiMsg<C, <A as Application>::Op>;

/// An OXII actor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OxiiNode<C: Crypto, A: Application, R: Rules> {
    /// The ordering service (in the model: the abstract sequencer's one correct orderer).
    Orderer(Orderer<C, A::Op, R>),
    /// An orderer agreeing with the others through PBFT.
    PbftOrderer(PbftOrderer<C, A::Op, R>),
    /// An executor.
    Executor(Executor<C, A, R>),
    /// The executor pool environment.
    Pool(ExecutorPool<A>),
    /// A Byzantine executor sending scripted forged results.
    Byzantine(ByzantineExecutor<C, A::Op>),
    /// A client.
    Client(Client<C, A::Op>),
}

/// The state of an [`OxiiNode`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
// One variant per actor kind, fixed for the actor's life; boxing the executor's would add an
// allocation to every state clone in the model for no gain.
#[allow(clippy::large_enum_variant)]
pub enum NodeState<C: Crypto, Op: Data> {
    /// The orderer's state: the abstract sequencer (every agreed block, in order) and intake.
    Orderer(OrdererState<C, Op>),
    /// A PBFT orderer's state.
    PbftOrderer(Box<PbftOrdererState<C, Op>>),
    /// An executor's state.
    Executor(ExecutorState<C, Op>),
    /// A client's state.
    Client(ClientState),
    /// The pool and the Byzantine executor keep no state.
    Stateless,
}

impl<C: Crypto, Op: Data> NodeState<C, Op> {
    /// The executor state, if this is an executor.
    pub fn as_executor(&self) -> Option<&ExecutorState<C, Op>> {
        match self {
            NodeState::Executor(state) => Some(state),
            _ => None,
        }
    }

    /// The orderer state, if this is the orderer.
    pub fn as_orderer(&self) -> Option<&OrdererState<C, Op>> {
        match self {
            NodeState::Orderer(state) => Some(state),
            _ => None,
        }
    }

    /// The client state, if this is a client.
    pub fn as_client(&self) -> Option<&ClientState> {
        match self {
            NodeState::Client(state) => Some(state),
            _ => None,
        }
    }
}

impl<C: Crypto, A: Application, R: Rules> stateright::actor::Actor for OxiiNode<C, A, R> {
    type Msg = MsgOf<C, A>;
    type Timer = OxiiTimer;
    type State = NodeState<C, A::Op>;
    type Storage = ();
    type Random = ();

    fn on_start(
        &self,
        _id: stateright::actor::Id,
        _storage: &Option<Self::Storage>,
        out: &mut stateright::actor::Out<Self>,
    ) -> Self::State {
        match self {
            OxiiNode::Orderer(orderer) => NodeState::Orderer(orderer.on_start(out)),
            OxiiNode::PbftOrderer(orderer) => orderer.init(),
            OxiiNode::Executor(executor) => NodeState::Executor(executor.on_start()),
            OxiiNode::Pool(_) => NodeState::Stateless,
            OxiiNode::Byzantine(byzantine) => {
                byzantine.on_start(out);
                NodeState::Stateless
            }
            OxiiNode::Client(client) => NodeState::Client(client.on_start(out)),
        }
    }

    fn on_msg(
        &self,
        _id: stateright::actor::Id,
        state: &mut std::borrow::Cow<Self::State>,
        src: stateright::actor::Id,
        msg: Self::Msg,
        out: &mut stateright::actor::Out<Self>,
    ) {
        let src = crate::component::id_node(src);
        match self {
            OxiiNode::Executor(executor) => executor.on_msg(state, src, msg, out),
            OxiiNode::Pool(pool) => pool.on_msg(src, msg, out),
            OxiiNode::Orderer(orderer) => orderer.on_msg(state, msg, out),
            OxiiNode::PbftOrderer(orderer) => orderer.on_msg(state, src, msg, out),
            OxiiNode::Client(client) => client.on_msg(state, src, msg, out),
            OxiiNode::Byzantine(_) => {}
        }
    }

    fn on_timeout(
        &self,
        _id: stateright::actor::Id,
        state: &mut std::borrow::Cow<Self::State>,
        timer: &Self::Timer,
        out: &mut stateright::actor::Out<Self>,
    ) {
        match (self, timer) {
            (OxiiNode::Orderer(orderer), OxiiTimer::Cut) => orderer.cut(state, out),
            (OxiiNode::Client(client), OxiiTimer::Retry) => client.on_retry(state, out),
            (OxiiNode::PbftOrderer(orderer), OxiiTimer::Consensus(timer)) => {
                orderer.on_timeout(state, *timer, out)
            }
            _ => {}
        }
    }

    fn name(&self) -> String {
        match self {
            OxiiNode::Orderer(o) => format!("orderer {}", o.id),
            OxiiNode::PbftOrderer(o) => format!("orderer {}", o.id()),
            OxiiNode::Executor(e) => format!("executor {}", e.id),
            OxiiNode::Pool(p) => format!("executor pool {}", p.id),
            OxiiNode::Byzantine(b) => format!("byzantine executor {}", b.id),
            OxiiNode::Client(c) => format!("client {}", c.signer.id()),
        }
    }
}
