//! The ordering service through PBFT (§5.4.2: orderers run a BFT protocol to agree on blocks).
//!
//! Each orderer is a PBFT replica whose payloads are OXII requests: PBFT's ordering service
//! ([`Ordering`]: its `Core` and `Learner`, unchanged, cutting numbered blocks). An orderer
//! admits a request after checking the client's signature and access (gap G9's per-client
//! timestamps keep re-sent requests out of later blocks); on delivering an agreed batch it
//! builds the block (admission, G(B)) and sends NEWBLOCK to every executor, which accepts on
//! f_o + 1 matching copies. Deployed OXII runs never kill nodes; crash recovery is PBFT's
//! replica's, not repeated here.

use super::{build_block, Membership, MsgOf, NodeState, OxiiMsg, OxiiNode, Request, Rules};
use crate::component::node_id;
use crate::crypto::{Crypto, NodeId, Signed};
use crate::pbft::ordering::{HoldsOrdering, Ordering, OrderingState, Stamped};
use crate::pbft::{Batch, CoreTimer, Seq};
use quorate_spec::app::Data;
use quorate_spec::{Application, ClientId};
use stateright::actor::Out;
use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

pub use crate::pbft::ordering::OrderingRules;

/// An orderer that agrees on blocks through PBFT.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PbftOrderer<C: Crypto, Op, R: Rules> {
    /// Who is who (its `orderers` are the PBFT replicas, in primary order).
    pub membership: Arc<Membership<C>>,
    /// Agreement on batches of requests and the blocks cut from them.
    pub ordering: Ordering<Request<C, Op>, C>,
    /// The OXII rules (graph construction, admission).
    pub rules: PhantomData<R>,
}

/// A PBFT orderer's state.
pub type PbftOrdererState<C, Op> = OrderingState<Request<C, Op>, C>;

impl<C: Crypto, Op> Stamped for Signed<super::DeclaredTx<Op>, C> {
    fn stamp(&self) -> (ClientId, u64) {
        let id = self.value().tx.id;
        (id.client, id.seq)
    }
}

impl<C: Crypto, Op: Data> HoldsOrdering<Request<C, Op>, C> for NodeState<C, Op> {
    fn ordering(&self) -> &PbftOrdererState<C, Op> {
        match self {
            NodeState::PbftOrderer(s) => s,
            _ => unreachable!("a PBFT orderer's state is a PBFT orderer state"),
        }
    }

    fn ordering_mut(&mut self) -> &mut PbftOrdererState<C, Op> {
        match self {
            NodeState::PbftOrderer(s) => s,
            _ => unreachable!("a PBFT orderer's state is a PBFT orderer state"),
        }
    }
}

type Outbox<C, A, R> = Out<OxiiNode<C, A, R>>;

impl<C: Crypto, Op: Data, R: Rules> PbftOrderer<C, Op, R> {
    /// This orderer.
    pub fn id(&self) -> NodeId {
        self.ordering.id()
    }

    /// The initial state.
    pub fn init(&self) -> NodeState<C, Op> {
        NodeState::PbftOrderer(Box::new(self.ordering.init()))
    }

    /// REQUEST from a client, or a consensus message from another orderer.
    pub fn on_msg<A>(
        &self,
        state: &mut Cow<NodeState<C, Op>>,
        src: NodeId,
        msg: MsgOf<C, A>,
        out: &mut Outbox<C, A, R>,
    ) where
        A: Application<Op = Op>,
    {
        let blocks = match msg {
            // Inadmissible requests never reach consensus (build_block would drop them
            // anyway, on the agreed sequence, so a Byzantine primary gains nothing).
            OxiiMsg::Submit(request) => {
                if super::admissible(&request, &self.membership).is_ok() {
                    self.ordering.submit(state, request, out);
                }
                return;
            }
            OxiiMsg::Consensus(msg) => self
                .ordering
                .on_msg(state, src, msg, out, |fresh| self.cut(fresh)),
            _ => return, // executors' traffic is not the orderers'
        };
        self.send_blocks(blocks, out);
    }

    /// The view timer.
    pub fn on_timeout<A>(
        &self,
        state: &mut Cow<NodeState<C, Op>>,
        timer: CoreTimer,
        out: &mut Outbox<C, A, R>,
    ) where
        A: Application<Op = Op>,
    {
        let blocks = self
            .ordering
            .on_timeout(state, timer, out, |fresh| self.cut(fresh));
        self.send_blocks(blocks, out);
    }

    /// The block of an agreed batch's fresh requests, unless admission leaves none.
    fn cut(&self, fresh: &[Request<C, Op>]) -> Option<super::Block<C, Op>> {
        let block = build_block::<C, Op, R>(fresh, &self.membership);
        (!block.txs.is_empty()).then_some(block)
    }

    fn send_blocks<A>(&self, blocks: Vec<(Seq, super::Block<C, Op>)>, out: &mut Outbox<C, A, R>)
    where
        A: Application<Op = Op>,
    {
        for (seq, block) in blocks {
            let msg = OxiiMsg::NewBlock {
                seq,
                batch: Batch::Requests(vec![block]),
            };
            for &executor in &self.membership.executors {
                out.send(node_id(executor), msg.clone());
            }
        }
    }
}
