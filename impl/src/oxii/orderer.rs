//! The ordering side (§5.3.1, §5.4.2): request admission, block building with the dependency
//! graph, and the model's orderer over the abstract sequencer.

use super::{Block, Membership, MsgOf, OxiiNode, Request, Rules};
use crate::component::node_id;
use crate::crypto::{Crypto, NodeId};
use crate::pbft::Batch;
use quorate_spec::oxii::AccessSets;
use quorate_spec::{Application, Sequencer};
use stateright::actor::Out;
use std::collections::BTreeMap;

/// Whether a request may enter a block: a valid client signature, a signer that is the
/// transaction's client, and access to its application (§5.3.1; gap G19: every orderer and
/// every executor checks). Returns the rule broken, for logs and tests.
pub fn admissible<C: Crypto, Op: serde::Serialize>(
    request: &Request<C, Op>,
    membership: &Membership<C>,
) -> Result<(), String> {
    let dtx = request.value();
    if !request.verify(&membership.keyring) || request.signer() != dtx.tx.client() {
        return Err(format!(
            "request {} is not signed by its client {}",
            dtx.tx.id,
            dtx.tx.client()
        ));
    }
    let allowed = membership
        .acl
        .get(&dtx.tx.client())
        .is_some_and(|apps| apps.contains(&dtx.tx.app));
    if !allowed {
        return Err(format!(
            "client {} may not submit for {} (access-control table)",
            dtx.tx.client(),
            dtx.tx.app
        ));
    }
    Ok(())
}

/// Builds a block from agreed requests: drops inadmissible ones (unless the rules skip the
/// check), keeps the agreed order, and computes G(B) from the declared sets.
pub fn build_block<C: Crypto, Op: serde::Serialize + Clone, R: Rules>(
    agreed: &[Request<C, Op>],
    membership: &Membership<C>,
) -> Block<C, Op> {
    let txs: Vec<Request<C, Op>> = agreed
        .iter()
        .filter(|r| !R::CHECK_ACCESS || admissible(r, membership).is_ok())
        .cloned()
        .collect();
    let sets: Vec<AccessSets> = txs.iter().map(|r| r.value().access.clone()).collect();
    let graph = R::build_graph(&sets);
    debug_assert_eq!(graph.n_tx as usize, txs.len());
    Block { txs, graph }
}

/// The model's ordering service: one correct orderer that orders the configured batches through
/// the abstract sequencer (DESIGN §3 "compose by specification") and sends each block to every
/// executor as a learner delivery. Deployment replaces it with the PBFT or Paxos core.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Orderer<C: Crypto, Op, R: Rules> {
    /// Its id.
    pub id: NodeId,
    /// The requests of each block, in agreed order (what consensus decided).
    pub batches: Vec<Vec<Request<C, Op>>>,
    /// Who is who.
    pub membership: std::sync::Arc<Membership<C>>,
    /// The rules.
    pub rules: std::marker::PhantomData<R>,
}

impl<C: Crypto, Op: quorate_spec::app::Data, R: Rules> Orderer<C, Op, R> {
    /// Orders every batch as a block and sends NEWBLOCK n to each executor.
    pub fn on_start<A>(&self, out: &mut Out<OxiiNode<C, A, R>>) -> Sequencer<Block<C, Op>>
    where
        A: Application<Op = Op>,
    {
        let mut sequencer = Sequencer::new();
        for batch in &self.batches {
            let block = build_block::<C, Op, R>(batch, &self.membership);
            sequencer.submit(block.clone());
            sequencer
                .order(block)
                .expect("a freshly submitted block is orderable");
        }
        let mut deliveries: BTreeMap<u64, MsgOf<C, A>> = BTreeMap::new();
        for (index, block) in sequencer.log.iter().enumerate() {
            let seq = index as u64 + 1;
            deliveries.insert(
                seq,
                super::OxiiMsg::NewBlock {
                    seq,
                    batch: Batch::Requests(vec![block.clone()]),
                },
            );
        }
        for &executor in &self.membership.executors {
            for msg in deliveries.values() {
                out.send(node_id(executor), msg.clone());
            }
            let upto = sequencer.log.len();
            sequencer
                .deliver(executor, upto)
                .expect("delivering the whole log is allowed");
        }
        sequencer
    }
}
