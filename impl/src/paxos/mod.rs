//! Multi-Paxos (seed 001 ch.2 §2.3; card `consensus-paxos-pbft.md` §5.1-§6.1): a replicated
//! state machine over crash-faulty replicas, n = 2f+1, quorums of f+1.
//!
//! - [`core`]: proposer and acceptor (ballots, phase 1 adopting the highest accepted value per
//!   slot, phase 2, batching), a component.
//! - [`learner`]: ordered delivery without gaps, catch-up from peers, a component.
//! - [`replica`]: the actor that composes them with an [`Application`], exactly-once execution,
//!   snapshots and log compaction, durable storage.
//! - [`client`]: the client actor, with its workload in configuration.
//! - [`rules`]: the honest rules and the mutants.

pub mod client;
pub mod core;
pub mod learner;
mod rename;
pub mod replica;
pub mod rules;

use crate::crypto::{Crypto, NodeId, Signed};
use quorate_spec::{Application, ClientId, KvState, Transaction, TxId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

pub use client::{Client, ClientState};
pub use core::{CoreMsg, CoreState, CoreTimer, Role};
pub use learner::{Evidence, LearnerMsg, LearnerState};
pub use replica::{Replica, ReplicaState};
pub use rules::{
    Honest, IgnorePromisedValues, LocalReads, NoDedup, Rules, SmallQuorum, SnapshotPositionOnly,
    UnsavedPromise, UnverifiedCatchUp,
};

/// A consensus instance number (the seed's sequence number). Slot 0 is never used.
pub type Slot = u64;

/// A proposal number: rounds are compared first, so a higher round always wins; the leader id
/// makes ballots of different proposers distinct (card §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ballot {
    /// Round number.
    pub round: u32,
    /// The proposer that owns this ballot.
    pub leader: NodeId,
}

/// What a slot decides: a batch of payloads, or nothing (a gap a new leader filled).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Value<P> {
    /// Fills a slot nobody proposed in.
    NoOp,
    /// One or more payloads, executed in order.
    Batch(Vec<P>),
}

/// A client request: a transaction signed by its client.
pub type Request<C, Op> = Signed<Transaction<Op>, C>;

/// The state a lagging replica installs instead of replaying compacted slots.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Snapshot<Out> {
    /// Every slot up to here is reflected.
    pub slot: Slot,
    /// Requests delivered up to `slot` (the position in the delivered sequence).
    pub delivered_len: u64,
    /// Application state after `slot`.
    pub app: Arc<KvState>,
    /// Per client: last executed sequence number and its output (exactly-once, card §6.1).
    pub clients: Arc<BTreeMap<ClientId, (u64, Out)>>,
}

/// Every message of the Paxos protocol.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Op: Serialize, Out: Serialize",
    deserialize = "Op: Deserialize<'de>, Out: Deserialize<'de>"
))]
pub enum PaxosMsg<C: Crypto, Op, Out> {
    /// Client → replicas: please order this.
    Request(Request<C, Op>),
    /// Replica → client: the request's result.
    Reply {
        /// Which request.
        tx: TxId,
        /// Its output.
        output: Out,
    },
    /// Between consensus cores.
    Core(CoreMsg<Request<C, Op>>),
    /// Between learners (catch-up).
    Learner(LearnerMsg<Request<C, Op>, Arc<Snapshot<Out>>>),
}

impl<C: Crypto, Op, Out> From<CoreMsg<Request<C, Op>>> for PaxosMsg<C, Op, Out> {
    fn from(msg: CoreMsg<Request<C, Op>>) -> Self {
        PaxosMsg::Core(msg)
    }
}

impl<C: Crypto, Op, Out> From<LearnerMsg<Request<C, Op>, Arc<Snapshot<Out>>>>
    for PaxosMsg<C, Op, Out>
{
    fn from(msg: LearnerMsg<Request<C, Op>, Arc<Snapshot<Out>>>) -> Self {
        PaxosMsg::Learner(msg)
    }
}

/// Every timer of the Paxos protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PaxosTimer {
    /// The core's timers.
    Core(CoreTimer),
    /// A client gives up waiting and broadcasts its request.
    ClientRetry,
}

impl From<CoreTimer> for PaxosTimer {
    fn from(timer: CoreTimer) -> Self {
        PaxosTimer::Core(timer)
    }
}

impl From<crate::component::NoTimer> for PaxosTimer {
    fn from(never: crate::component::NoTimer) -> Self {
        match never {}
    }
}

/// What a replica keeps across a crash (DESIGN §3 "Durable state"): the acceptor's promise and
/// accepted values, and the latest snapshot. The snapshot's contents are durable too: the
/// log below it is gone, so a cluster-wide restart could not rebuild it otherwise.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Op: Serialize, Out: Serialize",
    deserialize = "Op: Deserialize<'de>, Out: Deserialize<'de>"
))]
pub struct PaxosStorage<C: Crypto, Op, Out> {
    /// Highest ballot promised.
    pub promised: Ballot,
    /// Accepted `(ballot, value)` per slot above `compacted_upto`.
    pub accepted: Arc<BTreeMap<Slot, (Ballot, Value<Request<C, Op>>)>>,
    /// Slots at or below this live only in the snapshot.
    pub compacted_upto: Slot,
    /// The latest snapshot.
    pub snapshot: Option<Arc<Snapshot<Out>>>,
}

/// The message type of a Paxos system running application `A` with crypto `C`.
pub type MsgOf<C, A> = PaxosMsg<C, <A as Application>::Op, <A as Application>::Output>;

/// One actor of a Paxos system: a replica or a client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PaxosNode<C: Crypto, A: Application, R: Rules> {
    /// A replica (proposer, acceptor, learner, executor).
    Replica(Replica<C, A, R>),
    /// A client with its workload.
    Client(Client<C, A>),
}

/// The state of a [`PaxosNode`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Op: Serialize, Out: Serialize",
    deserialize = "Op: Deserialize<'de>, Out: Deserialize<'de>"
))]
pub enum NodeState<C: Crypto, Op, Out> {
    /// A replica's state.
    Replica(ReplicaState<C, Op, Out>),
    /// A client's state.
    Client(ClientState),
}

impl<C: Crypto, Op, Out> NodeState<C, Op, Out> {
    /// The replica state, if this is a replica.
    pub fn as_replica(&self) -> Option<&ReplicaState<C, Op, Out>> {
        match self {
            NodeState::Replica(state) => Some(state),
            NodeState::Client(_) => None,
        }
    }

    /// The client state, if this is a client.
    pub fn as_client(&self) -> Option<&ClientState> {
        match self {
            NodeState::Client(state) => Some(state),
            NodeState::Replica(_) => None,
        }
    }
}

impl<C: Crypto, A: Application, R: Rules> stateright::actor::Actor for PaxosNode<C, A, R> {
    type Msg = MsgOf<C, A>;
    type Timer = PaxosTimer;
    type State = NodeState<C, A::Op, A::Output>;
    type Storage = PaxosStorage<C, A::Op, A::Output>;
    type Random = ();

    fn on_start(
        &self,
        _id: stateright::actor::Id,
        storage: &Option<Self::Storage>,
        out: &mut stateright::actor::Out<Self>,
    ) -> Self::State {
        match self {
            PaxosNode::Replica(replica) => replica.on_start(storage, out),
            PaxosNode::Client(client) => client.on_start(out),
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
            PaxosNode::Replica(replica) => replica.on_msg(state, src, msg, out),
            PaxosNode::Client(client) => client.on_msg(state, src, msg, out),
        }
    }

    fn on_timeout(
        &self,
        _id: stateright::actor::Id,
        state: &mut std::borrow::Cow<Self::State>,
        timer: &Self::Timer,
        out: &mut stateright::actor::Out<Self>,
    ) {
        match self {
            PaxosNode::Replica(replica) => replica.on_timeout(state, timer, out),
            PaxosNode::Client(client) => client.on_timeout(state, timer, out),
        }
    }

    fn name(&self) -> String {
        match self {
            PaxosNode::Replica(replica) => format!("replica {}", replica.id),
            PaxosNode::Client(client) => format!("client {}", client.id()),
        }
    }
}
