//! Hyperledger Fabric's execute-order-validate (card `fabric-xov.md` with its errata, seed 003)
//! running the token application with delta writes (card `token-mvcc-delta.md`, seed 002).
//!
//! - [`client`]: proposes, collects endorsements, broadcasts the transaction to ordering.
//! - [`peer`]: endorses by simulating against its versioned state, and commits blocks delivered
//!   through PBFT's [`Learner`](crate::pbft::Learner), validating in block order.
//! - [`orderer`]: the abstract sequencer of `spec/` as an actor (model ordering service).
//! - [`pbft_orderer`]: a deployed ordering service of PBFT replicas.
//! - [`rules`]: honest validation, the mutants and the seed-literal replay variant.

pub mod client;
pub mod orderer;
pub mod pbft_orderer;
pub mod peer;
pub mod rules;

use crate::component::NoTimer;
use crate::crypto::{Crypto, Signed};
use crate::pbft::ordering::{HoldsOrdering, OrderingState, Stamped};
use crate::pbft::{CoreMsg, CoreTimer};
use quorate_spec::token::{TokenError, TokenOp};
use quorate_spec::xov::RwSet;
use quorate_spec::{Transaction, TxId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use client::{Client, ClientState};
pub use orderer::{Orderer, OrdererState};
pub use pbft_orderer::PbftOrderer;
pub use peer::{Peer, PeerState};
pub use rules::{
    ApplyInvalid, CheckedDeltaReads, DropInvalid, Honest, IgnorePolicy, LocalOrder,
    NoConservationCheck, NoSupplyCap, NoVersionBump, NonAtomicApply, RelaxOnly, Rules, SeedLiteral,
    SkipMvcc, UncheckedDeltas,
};

/// A client's signed proposal: the signature binds the transaction id (client, sequence).
pub type Proposal<C> = Signed<Transaction<TokenOp>, C>;

/// What an endorser signs: the transaction id and the simulation result.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Endorsed {
    /// The transaction simulated.
    pub tx: TxId,
    /// Its read and write sets.
    pub rwset: RwSet,
}

/// An endorsement: an endorsing peer's signature on [`Endorsed`].
pub type Endorsement<C> = Signed<Endorsed, C>;

/// A transaction as submitted for ordering: the proposal and its endorsements.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct XovTx<C: Crypto> {
    /// The client's signed proposal.
    pub proposal: Proposal<C>,
    /// Endorsements, one per endorsing peer.
    pub endorsements: Vec<Endorsement<C>>,
}

impl<C: Crypto> XovTx<C> {
    /// The transaction id.
    pub fn id(&self) -> TxId {
        self.proposal.value().id
    }
}

/// One broadcast to ordering. The ordering service does not de-duplicate (card §3): a client
/// re-broadcasting the very same signed transaction produces a second entry, told apart
/// here by `copy`, which peers never look at.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Submission<C: Crypto> {
    /// The transaction.
    pub tx: Arc<XovTx<C>>,
    /// Which broadcast of it this is.
    pub copy: u8,
}

/// Every XOV message.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum XovMsg<C: Crypto> {
    /// Client → endorser: simulate this.
    Propose(Proposal<C>),
    /// Endorser → client: the signed simulation result.
    Endorse(Endorsement<C>),
    /// Endorser → client: the chaincode refused (no endorsement).
    Refuse(TxId, TokenError),
    /// Client → orderer: order this.
    Broadcast(Submission<C>),
    /// Orderer → peer: block `block` (numbered from 1) holds these transactions.
    Deliver {
        /// Block number (the learner's slot).
        block: u64,
        /// Its transactions in order.
        txs: Vec<Submission<C>>,
    },
    /// Between PBFT orderers (deployment only).
    Consensus(CoreMsg<Submission<C>, C>),
    /// Committing peer → the transaction's client: its validation code (Fabric's commit
    /// event; sent only by deployed peers, see [`Peer::notify_clients`]).
    Committed {
        /// The transaction.
        tx: TxId,
        /// Its code in this peer's ledger.
        code: quorate_spec::xov::Code,
    },
}

impl<C: Crypto> From<CoreMsg<Submission<C>, C>> for XovMsg<C> {
    fn from(msg: CoreMsg<Submission<C>, C>) -> Self {
        XovMsg::Consensus(msg)
    }
}

impl<C: Crypto> Stamped for Submission<C> {
    fn stamp(&self) -> (quorate_spec::ClientId, u64) {
        let id = self.tx.id();
        (id.client, id.seq)
    }
}

/// Every XOV timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum XovTimer {
    /// The orderer cuts a block of everything pending (the model fires it at any time, so
    /// blocks are cut everywhere).
    Cut,
    /// A deployed client re-sends what may have been lost (see [`Client::await_commit`]).
    Retry,
    /// A PBFT orderer's view timer.
    Consensus(CoreTimer),
}

impl From<CoreTimer> for XovTimer {
    fn from(timer: CoreTimer) -> Self {
        XovTimer::Consensus(timer)
    }
}

impl From<NoTimer> for XovTimer {
    fn from(never: NoTimer) -> Self {
        match never {}
    }
}

/// One actor of an XOV system.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum XovNode<C: Crypto, R: Rules> {
    /// An endorsing and committing peer.
    Peer(Peer<C, R>),
    /// The ordering service (the model's, or a deployment's single orderer).
    Orderer(Orderer),
    /// One of a deployment's orderers agreeing through PBFT.
    PbftOrderer(PbftOrderer<C>),
    /// A client with its workload.
    Client(Client<C>),
}

/// The state of an [`XovNode`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum XovState<C: Crypto> {
    /// A peer's state.
    Peer(PeerState<C>),
    /// The orderer's state.
    Orderer(OrdererState<C>),
    /// A PBFT orderer's state.
    PbftOrderer(Box<OrderingState<Submission<C>, C>>),
    /// A client's state.
    Client(ClientState<C>),
}

impl<C: Crypto> HoldsOrdering<Submission<C>, C> for XovState<C> {
    fn ordering(&self) -> &OrderingState<Submission<C>, C> {
        match self {
            XovState::PbftOrderer(s) => s,
            _ => unreachable!("a PBFT orderer's state is a PBFT orderer state"),
        }
    }

    fn ordering_mut(&mut self) -> &mut OrderingState<Submission<C>, C> {
        match self {
            XovState::PbftOrderer(s) => s,
            _ => unreachable!("a PBFT orderer's state is a PBFT orderer state"),
        }
    }
}

impl<C: Crypto> XovState<C> {
    /// The peer state, if this is a peer.
    pub fn as_peer(&self) -> Option<&PeerState<C>> {
        match self {
            XovState::Peer(state) => Some(state),
            _ => None,
        }
    }

    /// The client state, if this is a client.
    pub fn as_client(&self) -> Option<&ClientState<C>> {
        match self {
            XovState::Client(state) => Some(state),
            _ => None,
        }
    }

    /// The orderer state, if this is the orderer.
    pub fn as_orderer(&self) -> Option<&OrdererState<C>> {
        match self {
            XovState::Orderer(state) => Some(state),
            _ => None,
        }
    }
}

impl<C: Crypto, R: Rules> stateright::actor::Actor for XovNode<C, R> {
    type Msg = XovMsg<C>;
    type Timer = XovTimer;
    type State = XovState<C>;
    type Storage = ();
    type Random = ();

    fn on_start(
        &self,
        _id: stateright::actor::Id,
        _storage: &Option<Self::Storage>,
        out: &mut stateright::actor::Out<Self>,
    ) -> Self::State {
        match self {
            XovNode::Peer(peer) => XovState::Peer(peer.init()),
            XovNode::Orderer(orderer) => XovState::Orderer(orderer.init()),
            XovNode::PbftOrderer(orderer) => {
                XovState::PbftOrderer(Box::new(orderer.ordering.init()))
            }
            XovNode::Client(client) => XovState::Client(client.on_start(out)),
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
            XovNode::Peer(peer) => peer.on_msg(state, src, msg, out),
            XovNode::Orderer(orderer) => orderer.on_msg(state, msg, out),
            XovNode::PbftOrderer(orderer) => orderer.on_msg(state, src, msg, out),
            XovNode::Client(client) => client.on_msg(state, src, msg, out),
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
            (XovNode::Orderer(orderer), XovTimer::Cut) => orderer.cut(state, out),
            (XovNode::Client(client), XovTimer::Retry) => client.on_retry(state, out),
            (XovNode::PbftOrderer(orderer), XovTimer::Consensus(timer)) => {
                orderer.on_timeout(state, *timer, out)
            }
            _ => {}
        }
    }

    fn name(&self) -> String {
        match self {
            XovNode::Peer(peer) => format!("peer {}", peer.id),
            XovNode::Orderer(_) => "orderer".into(),
            XovNode::PbftOrderer(orderer) => format!("orderer {}", orderer.ordering.id()),
            XovNode::Client(client) => format!("client {}", client.signer.id()),
        }
    }
}
