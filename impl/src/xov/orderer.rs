//! The ordering service of the model: the abstract sequencer of `spec/` as an actor.
//!
//! Each broadcast is appended to the sequencer's total order on arrival (so the network's
//! arrival order is the ordering nondeterminism); a block is cut from everything not yet in a
//! block when the `Cut` timer fires or when `max_block` entries wait. The orderer neither
//! executes, validates nor de-duplicates (card §3). Deployment orders through Paxos instead.

use super::{Submission, XovMsg, XovState, XovTimer};
use crate::component::node_id;
use crate::crypto::{Crypto, NodeId};
use quorate_spec::Sequencer;
use serde::{Deserialize, Serialize};
use stateright::actor::{Actor, Out};
use std::borrow::Cow;
use std::time::Duration;

/// The orderer's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Orderer {
    /// Committing peers every block goes to.
    pub peers: Vec<NodeId>,
    /// A block is cut as soon as this many entries wait.
    pub max_block: usize,
}

/// The orderer's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct OrdererState<C: Crypto> {
    /// The abstract sequencer: submitted payloads, the total order, delivery points.
    pub sequencer: Sequencer<Submission<C>>,
    /// Log entries already cut into blocks.
    pub cut: usize,
    /// Blocks cut so far.
    pub blocks: u64,
}

fn orderer_mut<C: Crypto>(state: &mut XovState<C>) -> &mut OrdererState<C> {
    match state {
        XovState::Orderer(s) => s,
        _ => unreachable!("the orderer's state is an orderer state"),
    }
}

impl Orderer {
    /// The initial state.
    pub fn init<C: Crypto>(&self) -> OrdererState<C> {
        OrdererState {
            sequencer: Sequencer::new(),
            cut: 0,
            blocks: 0,
        }
    }

    /// Orders a broadcast; cuts a block when `max_block` entries wait.
    pub fn on_msg<C: Crypto, A>(
        &self,
        state: &mut Cow<XovState<C>>,
        msg: XovMsg<C>,
        out: &mut Out<A>,
    ) where
        A: Actor<Msg = XovMsg<C>, Timer = XovTimer>,
    {
        let XovMsg::Broadcast(submission) = msg else {
            return;
        };
        if state
            .as_orderer()
            .is_some_and(|s| s.sequencer.submitted.contains(&submission))
        {
            return; // the very same broadcast again: already ordered
        }
        let orderer = orderer_mut(state.to_mut());
        orderer.sequencer.submit(submission.clone());
        orderer
            .sequencer
            .order(submission)
            .expect("a fresh submission can be ordered");
        if orderer.sequencer.log.len() - orderer.cut >= self.max_block {
            self.cut(state, out);
        } else {
            out.set_timer(
                XovTimer::Cut,
                Duration::from_millis(50)..Duration::from_millis(100),
            );
        }
    }

    /// Cuts a block of every ordered entry not yet in a block and delivers it to every peer.
    pub fn cut<C: Crypto, A>(&self, state: &mut Cow<XovState<C>>, out: &mut Out<A>)
    where
        A: Actor<Msg = XovMsg<C>, Timer = XovTimer>,
    {
        let Some(current) = state.as_orderer() else {
            return;
        };
        if current.sequencer.log.len() == current.cut {
            return;
        }
        let orderer = orderer_mut(state.to_mut());
        let end = orderer.sequencer.log.len();
        let txs = orderer.sequencer.log.as_slice()[orderer.cut..end].to_vec();
        orderer.cut = end;
        orderer.blocks += 1;
        for &peer in &self.peers {
            orderer
                .sequencer
                .deliver(peer, end)
                .expect("delivery points only grow");
            out.send(
                node_id(peer),
                XovMsg::Deliver {
                    block: orderer.blocks,
                    txs: txs.clone(),
                },
            );
        }
    }
}
