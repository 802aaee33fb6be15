//! An ordering service of PBFT replicas that cuts blocks for an upper layer (OXII's orderers,
//! seed 001 §5.4.2; Fabric's ordering service in deployment, seed 003 §3): PBFT's own [`Core`]
//! and [`Learner`], unchanged, over the upper layer's requests.
//!
//! On delivering an agreed batch (in sequence order) an orderer drops the requests it already
//! put into a block (per-client timestamps: a client has one request outstanding and numbers
//! them upwards), asks the upper layer to cut a block from the rest and numbers it. That step is
//! deterministic, so every correct orderer cuts the same block under the same number and a
//! receiver accepts it on f + 1 matching copies. Blocks are numbered apart from consensus
//! sequence numbers: an agreed batch that yields no block (a view change's no-op, or only
//! re-sent requests) yields nothing, and receivers see consecutive blocks.
//!
//! Intake drops a request already put into a block: a backup that heard a client's request only
//! after its block was cut would otherwise watch it forever and suspect a correct primary.
//!
//! Checkpoints certify (sequence number, blocks cut, per-client timestamps); there is no state
//! transfer between orderers, so one that falls behind a stable checkpoint stops ordering (it
//! can no longer help a quorum, and f of them are tolerated).

use super::core::{CoreOut, Events};
use super::{Batch, Core, CoreMsg, CoreState, CoreTimer, Learner, LearnerState, Seq};
use crate::component::CowLens;
use crate::crypto::{Crypto, NodeId};
use crate::paxos::core::Payload;
use quorate_spec::ClientId;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The consensus rules of orderers: PBFT's honest ones (the upper layers' mutants are about
/// what they do with blocks; PBFT's own are checked on PBFT).
pub type OrderingRules = super::Honest;

/// A request as the ordering service sees it: whose it is and its place among that client's.
pub trait Stamped {
    /// The client and its timestamp (strictly increasing per client).
    fn stamp(&self) -> (ClientId, u64);
}

/// One orderer's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ordering<P, C: Crypto> {
    /// Agreement on batches of requests.
    pub core: Core<P, C, OrderingRules>,
    /// In-order delivery of committed sequence numbers.
    pub learner: Learner,
}

/// One orderer's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: Deserialize<'de> + Ord"))]
pub struct OrderingState<P, C: Crypto> {
    /// Ordering.
    pub core: CoreState<P, C>,
    /// In-order delivery.
    pub learner: LearnerState<P>,
    /// The last consensus sequence number delivered.
    pub delivered: Seq,
    /// The number of the last block cut.
    pub blocks: Seq,
    /// The highest timestamp per client put into a block.
    pub last_ts: BTreeMap<ClientId, u64>,
}

/// An actor state that holds an orderer's state (the one variant an orderer's state is).
pub trait HoldsOrdering<P, C: Crypto>: Clone {
    /// The orderer's part.
    fn ordering(&self) -> &OrderingState<P, C>;
    /// The orderer's part, to change.
    fn ordering_mut(&mut self) -> &mut OrderingState<P, C>;
}

fn core_lens<'a, 'b, O: HoldsOrdering<P, C>, P, C: Crypto>(
    state: &'a mut Cow<'b, O>,
) -> CowLens<'a, 'b, O, CoreState<P, C>> {
    CowLens::new(
        state,
        |s: &O| &s.ordering().core,
        |s: &mut O| &mut s.ordering_mut().core,
    )
}

impl<P: Payload + Stamped, C: Crypto> Ordering<P, C> {
    /// This orderer.
    pub fn id(&self) -> NodeId {
        self.core.id()
    }

    /// The initial state.
    pub fn init(&self) -> OrderingState<P, C> {
        OrderingState {
            core: self.core.init(),
            learner: self.learner.init(0),
            delivered: 0,
            blocks: 0,
            last_ts: BTreeMap::new(),
        }
    }

    /// A client's request, admissible by the upper layer's rules: ordered unless already in
    /// a block.
    pub fn submit<O: HoldsOrdering<P, C>>(
        &self,
        state: &mut Cow<O>,
        request: P,
        out: &mut impl CoreOut<P, C>,
    ) {
        let (client, ts) = request.stamp();
        let cut = state
            .ordering()
            .last_ts
            .get(&client)
            .is_some_and(|&last| ts <= last);
        if !cut {
            self.core.propose(&mut core_lens(state), request, out);
        }
    }

    /// A consensus message from another orderer. Returns the blocks cut, numbered, for the
    /// caller to send; `cut` makes a block of a delivered batch's fresh requests (or none).
    pub fn on_msg<O: HoldsOrdering<P, C>, B>(
        &self,
        state: &mut Cow<O>,
        src: NodeId,
        msg: CoreMsg<P, C>,
        out: &mut impl CoreOut<P, C>,
        cut: impl Fn(&[P]) -> Option<B>,
    ) -> Vec<(Seq, B)> {
        let events = self.core.on_msg(&mut core_lens(state), src, msg, out);
        self.handle(state, events, out, cut)
    }

    /// The view timer.
    pub fn on_timeout<O: HoldsOrdering<P, C>, B>(
        &self,
        state: &mut Cow<O>,
        timer: CoreTimer,
        out: &mut impl CoreOut<P, C>,
        cut: impl Fn(&[P]) -> Option<B>,
    ) -> Vec<(Seq, B)> {
        let events = self.core.on_timeout(&mut core_lens(state), timer, out);
        self.handle(state, events, out, cut)
    }

    /// Delivers what a core step committed, in sequence order, and checkpoints.
    fn handle<O: HoldsOrdering<P, C>, B>(
        &self,
        state: &mut Cow<O>,
        events: Events<P>,
        out: &mut impl CoreOut<P, C>,
        cut: impl Fn(&[P]) -> Option<B>,
    ) -> Vec<(Seq, B)> {
        let mut blocks = Vec::new();
        let mut pending = vec![events];
        while let Some(events) = pending.pop() {
            for (seq, batch) in events.committed {
                let st = state.to_mut().ordering_mut();
                for (seq, batch) in self.learner.commit(&mut st.learner, seq, batch) {
                    pending.extend(self.deliver(state, seq, batch, out, &cut, &mut blocks));
                }
            }
        }
        blocks
    }

    /// One agreed batch: cut its fresh requests into the next block.
    fn deliver<O: HoldsOrdering<P, C>, B>(
        &self,
        state: &mut Cow<O>,
        seq: Seq,
        batch: Batch<P>,
        out: &mut impl CoreOut<P, C>,
        cut: &impl Fn(&[P]) -> Option<B>,
        blocks: &mut Vec<(Seq, B)>,
    ) -> Option<Events<P>> {
        let requests = match batch {
            Batch::Requests(requests) => requests,
            Batch::NoOp => Vec::new(),
        };
        let st = state.to_mut().ordering_mut();
        debug_assert_eq!(seq, st.delivered + 1, "delivery follows sequence order");
        st.delivered = seq;
        let mut fresh = Vec::new();
        for request in &requests {
            let (client, ts) = request.stamp();
            let last = st.last_ts.entry(client).or_insert(0);
            if ts > *last {
                *last = ts;
                fresh.push(request.clone());
            }
        }
        if let Some(block) = cut(&fresh) {
            st.blocks += 1;
            blocks.push((st.blocks, block));
        }
        self.core.executed(&mut core_lens(state), &requests, out);
        let every = self.core.checkpoint_every;
        if every == 0 || !seq.is_multiple_of(every) {
            return None;
        }
        let st = state.ordering();
        let digest = C::digest(&(seq, st.blocks, &st.last_ts));
        Some(
            self.core
                .checkpoint(&mut core_lens(state), seq, digest, out),
        )
    }
}
