//! PBFT (seed 001 ch.2 §2.3; card `consensus-paxos-pbft.md` §4.2, §5.3-§6.2 for the standard
//! rules the seed summarises): Byzantine-fault-tolerant ordering over n = 3f+1 replicas.
//!
//! - [`msgs`]: the signed protocol messages and certificates.
//! - [`core`]: pre-prepare / prepare / commit, checkpoints and watermarks, a component.
//! - [`view_change`]: view-change and new-view, part of the core.
//! - [`learner`]: in-order delivery from commit certificates or f+1 matching deliveries.
//! - [`replica`]: the actor: core + learner + application, replies, state transfer.
//! - [`client`]: the client actor: signed requests, f+1 matching replies, retransmission.
//! - [`ordering`]: an ordering service of replicas cutting numbered blocks for an upper layer.
//! - [`adversary`]: Byzantine replicas (scripted, and the most-general message set).
//! - [`rules`]: the honest rules and the mutants.
//!
//! Checkability shapes the state (research design-review §11): a replica counts its own votes
//! inside the step; vote sets are dropped once their threshold is reached; digests are
//! structural in symbolic mode; the primary of each view comes from configuration.

pub mod adversary;
pub mod client;
pub mod core;
#[cfg(test)]
mod core_tests;
pub mod learner;
pub mod msgs;
pub mod ordering;
mod rename;
pub mod replica;
pub mod rules;
pub mod storage;
#[cfg(test)]
mod storage_tests;
pub mod view_change;

use crate::crypto::{Crypto, Signed};
use quorate_spec::{Application, ClientId, KvState, Transaction, TxId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

pub use adversary::{Adversary, Script};
pub use client::{Client, ClientState};
pub use core::{Core, CoreState, CoreTimer, Status};
pub use learner::{Learner, LearnerState};
pub use msgs::{Batch, CoreMsg, PreparedCert, StableCheckpoint};
pub use replica::{Replica, ReplicaState};
pub use rules::{
    AcceptFirstReply, AnyPrePrepareSender, CommitOnWeakQuorum, Honest, IgnorePreparedCerts,
    RequestSignerUnchecked, Rules, SmallPrepareQuorum, TransferWithoutClientTable,
    UnverifiedStateTransfer,
};
pub use storage::{OwnSlot, PbftStorage};

/// A view number; view 0 is the first.
pub type View = u32;
/// A sequence number (the seed's n); 0 is the genesis checkpoint and never ordered.
pub type Seq = u64;

/// A client request: a transaction signed by its client.
pub type Request<C, Op> = Signed<Transaction<Op>, C>;

/// Application state at a checkpoint, as transferred to a replica that fell behind.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Snapshot<Out> {
    /// Every sequence number up to here is reflected.
    pub seq: Seq,
    /// Requests delivered up to `seq`.
    pub delivered_len: u64,
    /// Application state.
    pub app: Arc<KvState>,
    /// Per client: last executed sequence number and its output.
    pub clients: Arc<BTreeMap<ClientId, (u64, Out)>>,
}

/// A replica's answer to a client, signed so the client can count distinct repliers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Reply<Out> {
    /// The view the replica was in.
    pub view: View,
    /// Which request.
    pub tx: TxId,
    /// Its result.
    pub output: Out,
}

/// Every message of a PBFT system.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Op: Serialize, Out: Serialize",
    deserialize = "Op: Deserialize<'de> + Ord, Out: Deserialize<'de>"
))]
pub enum PbftMsg<C: Crypto, Op, Out> {
    /// Client → primary (retry: → every replica); a backup relays it to the primary.
    Request(Request<C, Op>),
    /// Replica → client.
    Reply(Signed<Reply<Out>, C>),
    /// Between consensus cores.
    Core(CoreMsg<Request<C, Op>, C>),
    /// State transfer: "send me your state at stable checkpoint `seq`".
    Fetch {
        /// The checkpoint wanted.
        seq: Seq,
    },
    /// State transfer: the state at a stable checkpoint with its 2f+1 certificate.
    State {
        /// The certificate.
        proof: StableCheckpoint<C>,
        /// The state it certifies.
        snapshot: Arc<Snapshot<Out>>,
    },
}

impl<C: Crypto, Op, Out> From<CoreMsg<Request<C, Op>, C>> for PbftMsg<C, Op, Out> {
    fn from(msg: CoreMsg<Request<C, Op>, C>) -> Self {
        PbftMsg::Core(msg)
    }
}

/// Every timer of a PBFT system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PbftTimer {
    /// The core's timers.
    Core(CoreTimer),
    /// A client gives up waiting and broadcasts its request.
    ClientRetry,
}

impl From<CoreTimer> for PbftTimer {
    fn from(timer: CoreTimer) -> Self {
        PbftTimer::Core(timer)
    }
}

/// The message type of a PBFT system running application `A` with crypto `C`.
pub type MsgOf<C, A> = PbftMsg<C, <A as Application>::Op, <A as Application>::Output>;

/// One actor of a PBFT system.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PbftNode<C: Crypto, A: Application, R: Rules> {
    /// A correct replica.
    Replica(Replica<C, A, R>),
    /// A client.
    Client(Client<C, A, R>),
    /// A Byzantine replica (model only).
    Byzantine(Adversary<C, A>),
}

/// The state of a [`PbftNode`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Op: Serialize, Out: Serialize",
    deserialize = "Op: Deserialize<'de> + Ord, Out: Deserialize<'de>"
))]
pub enum NodeState<C: Crypto, Op, Out> {
    /// A correct replica's state.
    Replica(Box<ReplicaState<C, Op, Out>>),
    /// A client's state.
    Client(ClientState<Out>),
    /// A Byzantine replica's state: what it has done so far.
    Byzantine(adversary::AdversaryState),
}

impl<C: Crypto, Op, Out> NodeState<C, Op, Out> {
    /// The replica state, if this is a correct replica.
    pub fn as_replica(&self) -> Option<&ReplicaState<C, Op, Out>> {
        match self {
            NodeState::Replica(state) => Some(state),
            _ => None,
        }
    }

    /// The client state, if this is a client.
    pub fn as_client(&self) -> Option<&ClientState<Out>> {
        match self {
            NodeState::Client(state) => Some(state),
            _ => None,
        }
    }
}

impl<C: Crypto, A: Application, R: Rules> stateright::actor::Actor for PbftNode<C, A, R> {
    type Msg = MsgOf<C, A>;
    type Timer = PbftTimer;
    type State = NodeState<C, A::Op, A::Output>;
    type Storage = PbftStorage<C, A::Op, A::Output>;
    type Random = ();

    fn on_start(
        &self,
        _id: stateright::actor::Id,
        storage: &Option<Self::Storage>,
        out: &mut stateright::actor::Out<Self>,
    ) -> Self::State {
        match self {
            PbftNode::Replica(replica) => replica.on_start(storage, out),
            PbftNode::Client(client) => NodeState::Client(client.on_start(out)),
            PbftNode::Byzantine(adversary) => NodeState::Byzantine(adversary.on_start(out)),
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
            PbftNode::Replica(replica) => replica.on_msg(state, src, msg, out),
            PbftNode::Client(client) => client.on_msg(state, src, msg, out),
            PbftNode::Byzantine(adversary) => adversary.on_msg(state, src, msg, out),
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
            PbftNode::Replica(replica) => replica.on_timeout(state, timer, out),
            PbftNode::Client(client) => client.on_timeout(state, timer, out),
            PbftNode::Byzantine(_) => {}
        }
    }

    fn name(&self) -> String {
        match self {
            PbftNode::Replica(replica) => format!("replica {}", replica.id()),
            PbftNode::Client(client) => format!("client {}", client.id()),
            PbftNode::Byzantine(adversary) => {
                format!("byzantine {} ({:?})", adversary.id(), adversary.script)
            }
        }
    }
}
