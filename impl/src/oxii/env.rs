//! The executor pool (execution as an effect, DESIGN §3) and the Byzantine executor.

use super::{MsgOf, OxiiMsg, OxiiNode, Rules};
use crate::component::node_id;
use crate::crypto::{Crypto, NodeId};
use crate::pbft::Seq;
use quorate_spec::oxii::{execute_declared, TxResult};
use quorate_spec::{AppId, Application, TxId};
use stateright::actor::Out;
use std::collections::BTreeMap;

/// The executor-pool environment: each `Execute` it receives is one completed transaction, its
/// result sent back as `Executed`. In the model the network delivers `Execute`s in any order, so
/// the checker explores every completion order; in deployment a worker pool runs the same pure
/// [`execute_declared`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExecutorPool<A: Application> {
    /// Its id.
    pub id: NodeId,
    /// The installed contracts, by application.
    pub contracts: BTreeMap<AppId, A>,
}

impl<A: Application> ExecutorPool<A> {
    /// Runs one transaction for executor `src`.
    pub fn on_msg<C: Crypto, R: Rules>(
        &self,
        src: NodeId,
        msg: MsgOf<C, A>,
        out: &mut Out<OxiiNode<C, A, R>>,
    ) {
        let OxiiMsg::Execute {
            seq,
            index,
            tx,
            inputs,
        } = msg
        else {
            return; // only executors' requests are the pool's business
        };
        let result = match self.contracts.get(&tx.tx.app) {
            Some(app) => execute_declared(app, &inputs, &tx),
            None => TxResult::Abort,
        };
        out.send(node_id(src), OxiiMsg::Executed { seq, index, result });
    }
}

/// A Byzantine executor as a flooder (card §12): at start it sends every forged result it will
/// ever send, each to the executors the configuration names; the network may deliver any subset
/// in any order, which covers selective sending and equivocation. It can only send as itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ByzantineExecutor<C: Crypto, Op> {
    /// Its id.
    pub id: NodeId,
    /// (recipient, block, position, forged result).
    pub forged: Vec<(NodeId, Seq, u32, TxResult)>,
    /// Forged REPLYs: (client, its transaction, forged outcome).
    pub forged_replies: Vec<(NodeId, TxId, TxResult)>,
    /// Ties the message type.
    pub marker: std::marker::PhantomData<(C, Op)>,
}

impl<C: Crypto, Op: quorate_spec::app::Data> ByzantineExecutor<C, Op> {
    /// Sends the script.
    pub fn on_start<A: Application<Op = Op>, R: Rules>(&self, out: &mut Out<OxiiNode<C, A, R>>) {
        for (dst, seq, index, result) in &self.forged {
            out.send(
                node_id(*dst),
                OxiiMsg::ExecCommit {
                    seq: *seq,
                    results: vec![(*index, result.clone())],
                },
            );
        }
        for (client, tx, result) in &self.forged_replies {
            let reply = OxiiMsg::Reply {
                tx: *tx,
                result: result.clone(),
            };
            out.send(node_id(*client), reply);
        }
    }
}
