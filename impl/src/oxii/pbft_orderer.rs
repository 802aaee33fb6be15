//! The ordering service through PBFT (§5.4.2: orderers run a BFT protocol to agree on blocks).
//!
//! Each orderer is a PBFT replica whose payloads are OXII requests: the consensus [`Core`] and
//! [`Learner`] are PBFT's own components, unchanged. On delivering an agreed batch (in sequence
//! order) an orderer drops requests already ordered (per-client timestamps, gap G9), builds the
//! block (admission, G(B)) and sends NEWBLOCK to every executor. That step is deterministic, so
//! every correct orderer sends the same block under the same number, and an executor's learner
//! accepts it on f_o + 1 matching copies. Blocks are numbered apart from consensus sequence
//! numbers: an agreed batch that yields no block (a view change's no-op, or only re-sent
//! requests) sends nothing, and executors see consecutive blocks.
//!
//! Checkpoints certify (sequence number, blocks sent, per-client timestamps); there is no
//! state transfer between orderers, so one that falls behind a stable checkpoint stops
//! ordering (it can no longer help a quorum, and f of them are tolerated). Deployed OXII runs
//! never kill nodes; crash recovery is PBFT's replica's, not repeated here.

use super::{build_block, Membership, MsgOf, NodeState, OxiiMsg, OxiiNode, Request, Rules};
use crate::component::{node_id, CowLens};
use crate::crypto::{Crypto, NodeId};
use crate::pbft::core::Events;
use crate::pbft::{Batch, Core, CoreState, CoreTimer, Learner, LearnerState, Seq};
use quorate_spec::app::Data;
use quorate_spec::{Application, ClientId};
use serde::{Deserialize, Serialize};
use stateright::actor::Out;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;

/// The consensus rules of the orderers: PBFT's honest ones (OXII's mutants are about
/// execution, PBFT's own are checked on PBFT).
pub type OrderingRules = crate::pbft::Honest;

/// An orderer that agrees on blocks through PBFT.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PbftOrderer<C: Crypto, Op, R: Rules> {
    /// Who is who (its `orderers` are the PBFT replicas, in primary order).
    pub membership: Arc<Membership<C>>,
    /// The consensus core over requests.
    pub core: Core<Request<C, Op>, C, OrderingRules>,
    /// In-order delivery of committed sequence numbers.
    pub learner: Learner,
    /// The OXII rules (graph construction, admission).
    pub rules: PhantomData<R>,
}

/// A PBFT orderer's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct PbftOrdererState<C: Crypto, Op: Data> {
    /// Ordering.
    pub core: CoreState<Request<C, Op>, C>,
    /// In-order delivery.
    pub learner: LearnerState<Request<C, Op>>,
    /// The last consensus sequence number delivered.
    pub delivered: Seq,
    /// The number of the last block sent.
    pub blocks: Seq,
    /// The highest client timestamp put into a block (gap G9).
    pub last_ts: BTreeMap<ClientId, u64>,
}

type Outbox<C, A, R> = Out<OxiiNode<C, A, R>>;
type Lens<'a, 'b, C, Op> = CowLens<'a, 'b, NodeState<C, Op>, CoreState<Request<C, Op>, C>>;

fn orderer<C: Crypto, Op: Data>(state: &NodeState<C, Op>) -> &PbftOrdererState<C, Op> {
    match state {
        NodeState::PbftOrderer(s) => s,
        _ => unreachable!("a PBFT orderer's state is a PBFT orderer state"),
    }
}

fn orderer_mut<C: Crypto, Op: Data>(state: &mut NodeState<C, Op>) -> &mut PbftOrdererState<C, Op> {
    match state {
        NodeState::PbftOrderer(s) => s,
        _ => unreachable!("a PBFT orderer's state is a PBFT orderer state"),
    }
}

fn core_lens<'a, 'b, C: Crypto, Op: Data>(
    state: &'a mut Cow<'b, NodeState<C, Op>>,
) -> Lens<'a, 'b, C, Op> {
    CowLens::new(state, |s| &orderer(s).core, |s| &mut orderer_mut(s).core)
}

impl<C: Crypto, Op: Data, R: Rules> PbftOrderer<C, Op, R> {
    /// This orderer.
    pub fn id(&self) -> NodeId {
        self.core.id()
    }

    /// The initial state.
    pub fn init(&self) -> NodeState<C, Op> {
        NodeState::PbftOrderer(Box::new(PbftOrdererState {
            core: self.core.init(),
            learner: self.learner.init(0),
            delivered: 0,
            blocks: 0,
            last_ts: BTreeMap::new(),
        }))
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
        let events = match msg {
            OxiiMsg::Submit(request) => {
                let id = request.value().tx.id;
                let ordered = orderer(state)
                    .last_ts
                    .get(&id.client)
                    .is_some_and(|&ts| id.seq <= ts);
                // Inadmissible requests never reach consensus (build_block would drop them
                // anyway, on the agreed sequence, so a Byzantine primary gains nothing).
                if ordered || super::admissible(&request, &self.membership).is_err() {
                    return;
                }
                self.core
                    .propose(&mut core_lens::<C, Op>(state), request, out);
                return;
            }
            OxiiMsg::Consensus(msg) => {
                self.core
                    .on_msg(&mut core_lens::<C, Op>(state), src, msg, out)
            }
            _ => return, // executors' traffic is not the orderers'
        };
        self.handle(state, events, out);
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
        let events = self
            .core
            .on_timeout(&mut core_lens::<C, Op>(state), timer, out);
        self.handle(state, events, out);
    }

    /// Delivers what a core step committed, in sequence order, and checkpoints.
    fn handle<A>(
        &self,
        state: &mut Cow<NodeState<C, Op>>,
        events: Events<Request<C, Op>>,
        out: &mut Outbox<C, A, R>,
    ) where
        A: Application<Op = Op>,
    {
        let mut pending = vec![events];
        while let Some(events) = pending.pop() {
            for (seq, batch) in events.committed {
                let st = orderer_mut(state.to_mut());
                for (seq, batch) in self.learner.commit(&mut st.learner, seq, batch) {
                    pending.extend(self.deliver(state, seq, batch, out));
                }
            }
        }
    }

    /// One agreed batch: the block it yields goes to every executor.
    fn deliver<A>(
        &self,
        state: &mut Cow<NodeState<C, Op>>,
        seq: Seq,
        batch: Batch<Request<C, Op>>,
        out: &mut Outbox<C, A, R>,
    ) -> Option<Events<Request<C, Op>>>
    where
        A: Application<Op = Op>,
    {
        let requests = match batch {
            Batch::Requests(requests) => requests,
            Batch::NoOp => Vec::new(),
        };
        let st = orderer_mut(state.to_mut());
        debug_assert_eq!(seq, st.delivered + 1, "delivery follows sequence order");
        st.delivered = seq;
        let mut fresh = Vec::new();
        for request in &requests {
            let id = request.value().tx.id;
            let last = st.last_ts.entry(id.client).or_insert(0);
            if id.seq > *last {
                *last = id.seq;
                fresh.push(request.clone());
            }
        }
        let block = build_block::<C, Op, R>(&fresh, &self.membership);
        if !block.txs.is_empty() {
            st.blocks += 1;
            let msg = OxiiMsg::NewBlock {
                seq: st.blocks,
                batch: Batch::Requests(vec![block]),
            };
            for &executor in &self.membership.executors {
                out.send(node_id(executor), msg.clone());
            }
        }
        self.core
            .executed(&mut core_lens::<C, Op>(state), &requests, out);
        let every = self.core.checkpoint_every;
        if every == 0 || !seq.is_multiple_of(every) {
            return None;
        }
        let st = orderer(state);
        let digest = C::digest(&(seq, st.blocks, &st.last_ts));
        Some(
            self.core
                .checkpoint(&mut core_lens::<C, Op>(state), seq, digest, out),
        )
    }
}
