//! A deployed ordering service of PBFT replicas (seed 003 §3: Fabric's ordering service is
//! pluggable and may be BFT): PBFT's [`Ordering`] over submissions. Each agreed batch's fresh
//! submissions become the next block, sent to every committing peer, which takes it once f + 1
//! orderers sent the same. Like the model's sequencer it neither executes nor validates; unlike
//! it, it drops a submission of a transaction already put into a block (see [`Ordering`]), so a
//! client's re-broadcast after its block was cut is not ordered twice — peers would mark the
//! second copy a duplicate anyway.

use super::{Submission, XovMsg, XovNode, XovState};
use crate::component::node_id;
use crate::crypto::{Crypto, NodeId};
use crate::pbft::ordering::Ordering;
use crate::pbft::{CoreTimer, Seq};
use stateright::actor::Out;
use std::borrow::Cow;

/// One orderer of a PBFT ordering service.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PbftOrderer<C: Crypto> {
    /// Committing peers every block goes to.
    pub peers: Vec<NodeId>,
    /// Agreement on batches of submissions and the blocks cut from them.
    pub ordering: Ordering<Submission<C>, C>,
}

impl<C: Crypto> PbftOrderer<C> {
    /// A client's broadcast, or a consensus message from another orderer.
    pub fn on_msg<R: super::Rules>(
        &self,
        state: &mut Cow<XovState<C>>,
        src: NodeId,
        msg: XovMsg<C>,
        out: &mut Out<XovNode<C, R>>,
    ) {
        let blocks = match msg {
            XovMsg::Broadcast(submission) => {
                self.ordering.submit(state, submission, out);
                return;
            }
            XovMsg::Consensus(msg) => self.ordering.on_msg(state, src, msg, out, cut),
            _ => return,
        };
        self.send(blocks, out);
    }

    /// The view timer.
    pub fn on_timeout<R: super::Rules>(
        &self,
        state: &mut Cow<XovState<C>>,
        timer: CoreTimer,
        out: &mut Out<XovNode<C, R>>,
    ) {
        let blocks = self.ordering.on_timeout(state, timer, out, cut);
        self.send(blocks, out);
    }

    fn send<R: super::Rules>(
        &self,
        blocks: Vec<(Seq, Vec<Submission<C>>)>,
        out: &mut Out<XovNode<C, R>>,
    ) {
        for (block, txs) in blocks {
            for &peer in &self.peers {
                out.send(
                    node_id(peer),
                    XovMsg::Deliver {
                        block,
                        txs: txs.clone(),
                    },
                );
            }
        }
    }
}

/// Every fresh submission of an agreed batch, in agreed order; none, no block.
fn cut<C: Crypto>(fresh: &[Submission<C>]) -> Option<Vec<Submission<C>>> {
    (!fresh.is_empty()).then(|| fresh.to_vec())
}
